//! Who is calling, as the platform reports it: the FFI form of [`tandem_engine::Caller`], and the typed
//! refusals ([`CallerRefusal`]) an app maps to its platform's security errors.
//!
//! The rules (allowlist, RP ID, asset links) live in the core; this module only carries the platform's facts
//! across. On Android pass what `android.service.credentials.CallingAppInfo` says (package name, the raw signing
//! certificates, `origin`) and the request's clientDataHash; on iOS the OS has already verified the request.

use tandem_engine::{AndroidApp, AppSigning, Caller, CallerError, PrivilegedAllowlist};

use crate::TandemError;

/// The caller of a WebAuthn-level request.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Enum)]
pub enum CallerContext {
    /// An app calling through Android's Credential Manager (`CallingAppInfo`).
    Android {
        /// `CallingAppInfo.packageName`.
        package_name: String,
        /// `SigningInfo.apkContentsSigners`, each `Signature.toByteArray()` (DER certificates).
        apk_contents_signers: Vec<Vec<u8>>,
        /// `SigningInfo.hasMultipleSigners()`.
        has_multiple_signers: bool,
        /// `SigningInfo.signingCertificateHistory` (DER, original first), empty when the platform gave none.
        signing_certificate_history: Vec<Vec<u8>>,
        /// `CallingAppInfo.origin`: the web origin a browser claims, if any.
        origin: Option<String>,
        /// The request's clientDataHash (`androidx.credentials.provider` / the `clientDataHash` bundle key), if
        /// the caller supplied one. Honoured only for a privileged browser.
        client_data_hash: Option<Vec<u8>>,
        /// A privileged-browser allowlist in Google's JSON format to use instead of the one built into Tandem
        /// (`crates/engine/data/privileged_allowlist.json`); `None` for the built-in list.
        privileged_allowlist_json: Option<String>,
    },
    /// The OS is the WebAuthn client and has bound the request to the RP itself: iOS AuthenticationServices
    /// verified the app's associated domains (or the browser's page) and computed the clientDataHash.
    OsVerified {
        /// The 32-byte clientDataHash from the OS request.
        client_data_hash: Vec<u8>,
    },
}

/// Why a caller was refused, for mapping to the platform's error kinds (Credential Manager has no finer type
/// than a security/"not allowed" failure; keep the reason for logs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum CallerRefusal {
    /// An app that is not an allowlisted browser passed a clientDataHash.
    UnprivilegedClientDataHash,
    /// An app that is not an allowlisted browser claimed a web origin.
    UnprivilegedOrigin,
    /// The platform reported no signing certificate.
    NoSigningCertificate,
    /// The web origin is malformed or not secure.
    InvalidOrigin,
    /// The RP ID does not belong to the caller's origin.
    RpIdMismatch,
    /// The RP ID is a public suffix.
    PublicSuffix,
    /// The RP's Digital Asset Links do not list this app.
    NotAssociated,
    /// The RP's Digital Asset Links could not be fetched or read.
    AssetLinksUnavailable,
    /// The privileged allowlist passed in is malformed.
    InvalidAllowlist,
}

impl From<CallerError> for TandemError {
    fn from(e: CallerError) -> Self {
        let kind = match &e {
            CallerError::UnprivilegedClientDataHash { .. } => CallerRefusal::UnprivilegedClientDataHash,
            CallerError::UnprivilegedOrigin { .. } => CallerRefusal::UnprivilegedOrigin,
            CallerError::NoSigningCertificate { .. } => CallerRefusal::NoSigningCertificate,
            CallerError::InvalidOrigin { .. } => CallerRefusal::InvalidOrigin,
            CallerError::RpIdMismatch { .. } => CallerRefusal::RpIdMismatch,
            CallerError::PublicSuffix { .. } => CallerRefusal::PublicSuffix,
            CallerError::NotAssociated { .. } => CallerRefusal::NotAssociated,
            CallerError::AssetLinksUnavailable { .. } => CallerRefusal::AssetLinksUnavailable,
            CallerError::InvalidAllowlist { .. } => CallerRefusal::InvalidAllowlist,
        };
        TandemError::CallerRefused {
            kind,
            reason: e.to_string(),
        }
    }
}

fn hash32(bytes: &[u8]) -> Result<[u8; 32], TandemError> {
    <[u8; 32]>::try_from(bytes).map_err(|_| TandemError::InvalidInput {
        reason: format!("clientDataHash must be 32 bytes (SHA-256), got {}", bytes.len()),
    })
}

impl CallerContext {
    /// The core's caller and the allowlist to judge it by.
    pub(crate) fn into_core(self) -> Result<(Caller, Option<PrivilegedAllowlist>), TandemError> {
        Ok(match self {
            CallerContext::OsVerified { client_data_hash } => (
                Caller::OsVerified {
                    client_data_hash: hash32(&client_data_hash)?,
                },
                None,
            ),
            CallerContext::Android {
                package_name,
                apk_contents_signers,
                has_multiple_signers,
                signing_certificate_history,
                origin,
                client_data_hash,
                privileged_allowlist_json,
            } => {
                let signing = AppSigning::from_der(
                    has_multiple_signers,
                    &apk_contents_signers,
                    &signing_certificate_history,
                );
                let list = privileged_allowlist_json
                    .as_deref()
                    .map(PrivilegedAllowlist::parse)
                    .transpose()?;
                (
                    Caller::Android {
                        app: AndroidApp::new(package_name, signing),
                        origin,
                        client_data_hash: client_data_hash.as_deref().map(hash32).transpose()?,
                    },
                    list,
                )
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_keep_their_kind_through_the_ffi() {
        let e = TandemError::from(CallerError::UnprivilegedClientDataHash {
            package: "com.evil.app".into(),
        });
        match e {
            TandemError::CallerRefused { kind, reason } => {
                assert_eq!(kind, CallerRefusal::UnprivilegedClientDataHash);
                assert!(reason.contains("com.evil.app"));
            }
            other => panic!("{other:?}"),
        }
        let e = TandemError::from(tandem_engine::webauthn::WebAuthnError::Caller(
            CallerError::PublicSuffix { rp_id: "com".into() },
        ));
        assert!(matches!(
            e,
            TandemError::CallerRefused {
                kind: CallerRefusal::PublicSuffix,
                ..
            }
        ));
    }

    #[test]
    fn android_context_carries_certificates_hashes_and_allowlist() {
        let ctx = CallerContext::Android {
            package_name: "com.bank.app".into(),
            apk_contents_signers: vec![b"cert".to_vec()],
            has_multiple_signers: false,
            signing_certificate_history: vec![],
            origin: None,
            client_data_hash: None,
            privileged_allowlist_json: Some(r#"{"apps":[]}"#.into()),
        };
        let (caller, list) = ctx.into_core().unwrap();
        assert_eq!(list, Some(PrivilegedAllowlist::default()));
        let Caller::Android { app, .. } = caller else {
            panic!()
        };
        assert_eq!(
            app.apk_key_hash_origin().unwrap(),
            "android:apk-key-hash:BimEMugGayniIjvMI6qVBLVq5Qj6vzQ1UIhpucMZDiI"
        );
        let short = CallerContext::OsVerified {
            client_data_hash: vec![0; 31],
        };
        assert!(matches!(short.into_core(), Err(TandemError::InvalidInput { .. })));
        let bad_list = CallerContext::Android {
            package_name: "a".into(),
            apk_contents_signers: vec![],
            has_multiple_signers: false,
            signing_certificate_history: vec![],
            origin: None,
            client_data_hash: None,
            privileged_allowlist_json: Some("[".into()),
        };
        assert!(matches!(
            bad_list.into_core(),
            Err(TandemError::CallerRefused {
                kind: CallerRefusal::InvalidAllowlist,
                ..
            })
        ));
    }
}
