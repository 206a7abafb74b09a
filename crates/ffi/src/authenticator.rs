//! [`Authenticator`]: the engine as an FFI object, with the WebAuthn-level entry points the platform passkey
//! providers use (Android 14 CredentialProviderService, iOS 17 credential-provider extension) and raw CTAP.
//!
//! Calls are async: the engine blocks while the foreign [`UserVerifier`] shows its prompt, so it runs on the
//! runtime's blocking pool and the app's coroutine / Swift task just awaits.

use std::sync::Arc;

pub use tandem_engine::BackupPolicy;
use tandem_engine::assetlinks::AssetLinksSource;
use tandem_engine::webauthn::{self, CallerPolicy, WebAuthnError};
pub use tandem_engine::webauthn::{AssertionResult, RegistrationResult};
use tandem_engine::{AuthenticatorConfig, EngineError};
use tandem_engine::{Caller, CancelOnDrop, Cancellation, PrivilegedAllowlist};

use crate::TandemError;
use crate::callbacks::{AccountChooser, ChooserAdapter, UserVerifier, VerifierAdapter};
use crate::caller::CallerContext;
use crate::extensions::ClientExtensionResults;
use crate::runtime::{guard, spawn_blocking};
use crate::store::CredentialStore;

/// How new credentials relate to backup (the WebAuthn BE/BS flags), fixed at creation:
/// `tandem_engine::BackupPolicy`, derived.
#[uniffi::remote(Enum)]
pub enum BackupPolicy {
    /// Keys never leave this device: BE=0, and every credential keeps a signature counter.
    DeviceBound,
    /// Keys are synced by the platform's passkey backup: BE=1, BS=1, counter always 0.
    Synced,
}

/// Engine settings an app chooses.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct AuthenticatorOptions {
    /// The authenticator model's AAGUID: 16 bytes, or empty for all zeros (what Chromium's phone sends).
    pub aaguid: Vec<u8>,
    /// Backup policy for new credentials.
    pub backup: BackupPolicy,
}

/// The result of a WebAuthn-level registration: `tandem_engine::webauthn::RegistrationResult`, derived.
///
/// `Debug` redacts PRF outputs (the RP's key material), as [`ClientExtensionResults`] does.
#[uniffi::remote(Record)]
pub struct RegistrationResult {
    /// Credential ID (rawId).
    pub credential_id: Vec<u8>,
    /// CBOR attestation object.
    pub attestation_object: Vec<u8>,
    /// The authenticator data inside it.
    pub authenticator_data: Vec<u8>,
    /// DER SubjectPublicKeyInfo of the credential key.
    pub public_key_spki_der: Vec<u8>,
    /// COSE algorithm of the credential key.
    pub public_key_algorithm: i64,
    /// Transports to report.
    pub transports: Vec<String>,
    /// `clientExtensionResults`: credProps and prf, when asked for.
    pub client_extension_results: ClientExtensionResults,
    /// The clientDataJSON Tandem built and signed over (native-app callers); `None` when a privileged browser
    /// or the OS supplied the clientDataHash and reports its own clientDataJSON.
    pub client_data_json: Option<Vec<u8>>,
}

/// The result of a WebAuthn-level authentication: `tandem_engine::webauthn::AssertionResult`, derived.
///
/// `Debug` redacts PRF outputs (the RP's key material), as [`ClientExtensionResults`] does.
#[uniffi::remote(Record)]
pub struct AssertionResult {
    /// Credential ID (rawId).
    pub credential_id: Vec<u8>,
    /// Authenticator data.
    pub authenticator_data: Vec<u8>,
    /// Signature over authenticatorData ‖ clientDataHash.
    pub signature: Vec<u8>,
    /// User handle (discoverable credentials).
    pub user_handle: Option<Vec<u8>>,
    /// `clientExtensionResults`: prf, when asked for.
    pub client_extension_results: ClientExtensionResults,
    /// The clientDataJSON Tandem built and signed over; `None` when the caller supplied the hash.
    pub client_data_json: Option<Vec<u8>>,
}

impl From<WebAuthnError> for TandemError {
    fn from(e: WebAuthnError) -> Self {
        match e {
            WebAuthnError::Json(reason) => TandemError::InvalidInput { reason },
            WebAuthnError::Engine(e) => e.into(),
            WebAuthnError::Caller(e) => e.into(),
        }
    }
}

impl From<EngineError> for TandemError {
    fn from(e: EngineError) -> Self {
        match e {
            // Storage failures keep their own kinds; the CTAP status would only say "other".
            EngineError::Store(s) => s.into(),
            other => TandemError::Ctap {
                status: other.status().into(),
                reason: other.to_string(),
            },
        }
    }
}

/// The authenticator engine over a [`CredentialStore`], asking the app's [`UserVerifier`] before every
/// signature and its [`AccountChooser`] when several accounts match.
#[derive(uniffi::Object)]
pub struct Authenticator {
    inner: Arc<tandem_engine::Authenticator>,
    /// Digital Asset Links for native-app callers, cached per RP ID for the engine's lifetime.
    asset_links: Arc<dyn AssetLinksSource>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator").finish_non_exhaustive()
    }
}

impl Authenticator {
    /// The engine, for the session driver.
    pub(crate) fn engine(&self) -> Arc<tandem_engine::Authenticator> {
        Arc::clone(&self.inner)
    }

    /// Runs one WebAuthn-level ceremony (`run` is the engine's register or authenticate) for `caller`, under
    /// the caller policy (the app's allowlist or the bundled one, and this engine's asset-links source), on
    /// the blocking pool. Dropping the future (the caller's coroutine or task cancelled) dismisses the
    /// prompt, and nothing is stored or signed.
    async fn ceremony<T: Send + 'static>(
        &self,
        options_json: String,
        caller: CallerContext,
        run: fn(
            &tandem_engine::Authenticator,
            &str,
            &Caller,
            &CallerPolicy<'_>,
            &Cancellation,
        ) -> Result<T, WebAuthnError>,
    ) -> Result<T, TandemError> {
        let (caller, list) = caller.into_core()?;
        let engine = self.engine();
        let links = Arc::clone(&self.asset_links);
        let cancel = Cancellation::new();
        let _abandon = CancelOnDrop(cancel.clone());
        spawn_blocking(move || {
            let policy = CallerPolicy {
                allowlist: list.as_ref().unwrap_or_else(|| PrivilegedAllowlist::bundled()),
                asset_links: links.as_ref(),
            };
            Ok(run(&engine, &options_json, &caller, &policy, &cancel)?)
        })
        .await
    }
}

#[uniffi::export]
impl Authenticator {
    /// Creates an engine over `store`.
    #[uniffi::constructor]
    pub fn new(
        store: Arc<CredentialStore>,
        verifier: Arc<dyn UserVerifier>,
        chooser: Arc<dyn AccountChooser>,
        options: AuthenticatorOptions,
    ) -> Result<Arc<Self>, TandemError> {
        guard(|| {
            let mut config = AuthenticatorConfig::hybrid();
            config.backup = options.backup;
            if !options.aaguid.is_empty() {
                config.aaguid = <[u8; 16]>::try_from(options.aaguid.as_slice()).map_err(|_| {
                    TandemError::InvalidInput {
                        reason: format!("aaguid must be 16 bytes, got {}", options.aaguid.len()),
                    }
                })?;
            }
            let engine = tandem_engine::Authenticator::new(
                config,
                store.sqlite(),
                Arc::new(VerifierAdapter {
                    verifier,
                    store: store.sqlite(),
                }),
                Arc::new(ChooserAdapter(chooser)),
            );
            Ok(Arc::new(Authenticator {
                inner: Arc::new(engine),
                asset_links: default_asset_links(),
            }))
        })
    }

    /// Registers a passkey from W3C `PublicKeyCredentialCreationOptions` JSON (as Android's
    /// `CreatePublicKeyCredentialRequest.requestJson`, optionally wrapped in `{"publicKey": ...}`) for `caller`.
    /// First checks that the caller may use the RP ID (`TandemError.CallerRefused` otherwise, before any
    /// prompt), then asks the verifier.
    pub async fn register(
        &self,
        options_json: String,
        caller: CallerContext,
    ) -> Result<RegistrationResult, TandemError> {
        self.ceremony(options_json, caller, webauthn::register_cancellable)
            .await
    }

    /// Signs in from W3C `PublicKeyCredentialRequestOptions` JSON (with `rpId` filled in) for `caller`, after
    /// the same caller checks as [`Authenticator::register`]. Asks the chooser when several accounts match, and
    /// the verifier before signing.
    pub async fn authenticate(
        &self,
        options_json: String,
        caller: CallerContext,
    ) -> Result<AssertionResult, TandemError> {
        self.ceremony(options_json, caller, webauthn::authenticate_cancellable)
            .await
    }

    /// Handles one raw CTAP2 message (command byte ‖ CBOR); returns status byte ‖ CBOR. CTAP failures are
    /// in the status byte, not thrown.
    pub async fn handle_ctap(&self, request: Vec<u8>) -> Result<Vec<u8>, TandemError> {
        let engine = self.engine();
        let cancel = Cancellation::new();
        let _abandon = CancelOnDrop(cancel.clone());
        spawn_blocking(move || Ok(engine.handle_ctap_cancellable(&request, &cancel))).await
    }

    /// The CBOR authenticatorGetInfo response body.
    pub fn get_info(&self) -> Result<Vec<u8>, TandemError> {
        guard(|| Ok(self.inner.get_info_cbor()))
    }
}

/// The W3C `RegistrationResponseJSON` for `result` and the clientDataJSON the platform built: what an Android
/// provider puts in `CreatePublicKeyCredentialResponse`.
#[uniffi::export]
pub fn registration_response_json(
    result: RegistrationResult,
    client_data_json: Vec<u8>,
) -> Result<String, TandemError> {
    guard(|| Ok(webauthn::registration_response_json(&result, &client_data_json)))
}

/// The W3C `AuthenticationResponseJSON` for `result` and the clientDataJSON the platform built: what an
/// Android provider puts in `PublicKeyCredential`.
#[uniffi::export]
pub fn assertion_response_json(
    result: AssertionResult,
    client_data_json: Vec<u8>,
) -> Result<String, TandemError> {
    guard(|| Ok(webauthn::assertion_response_json(&result, &client_data_json)))
}

/// Where native apps' asset-links files come from: the built-in HTTPS fetcher when the library has it (feature
/// `https-asset-links`, and every test build); otherwise none, so native-app callers are refused rather than
/// trusted (the mobile library carries no TLS stack).
fn default_asset_links() -> Arc<dyn AssetLinksSource> {
    #[cfg(any(test, feature = "https-asset-links"))]
    {
        Arc::new(crate::assetlinks::HttpsAssetLinks::with_public_roots())
    }
    #[cfg(not(any(test, feature = "https-asset-links")))]
    {
        Arc::new(tandem_engine::assetlinks::NoAssetLinks)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_debug_hides_extension_results() {
        let ext = ClientExtensionResults {
            cred_props: None,
            prf: Some(crate::extensions::PrfOutput {
                enabled: None,
                results: Some(crate::extensions::PrfValues {
                    first: vec![0xa5, 0x5a, 0x13, 0x37, 0xc3, 0x3c, 0x99, 0x66],
                    second: None,
                }),
            }),
        };
        let r = RegistrationResult {
            credential_id: vec![1],
            attestation_object: vec![2],
            authenticator_data: vec![3],
            public_key_spki_der: vec![4],
            public_key_algorithm: -7,
            transports: vec![],
            client_extension_results: ext.clone(),
            client_data_json: None,
        };
        let a = AssertionResult {
            credential_id: vec![1],
            authenticator_data: vec![2],
            signature: vec![3],
            user_handle: None,
            client_extension_results: ext,
            client_data_json: None,
        };
        for printed in [format!("{r:?} {r:#?}"), format!("{a:?} {a:#?}")] {
            assert!(printed.contains("redacted"));
            assert!(!printed.contains("165, 90"), "{printed}");
        }
    }

    /// The app cancels the coroutine awaiting `register` while the prompt is up: the prompt's call is
    /// dropped (dismissing it) and nothing is stored, end to end through the engine.
    #[test]
    fn cancelling_a_registration_dismisses_the_prompt_and_stores_nothing() {
        use std::sync::atomic::Ordering::SeqCst;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            let store = CredentialStore::open_in_memory(Arc::new(crate::testing::PlainProtector))
                .await
                .unwrap();
            let user = Arc::new(crate::testing::Unanswered::default());
            let auth = Authenticator::new(
                Arc::clone(&store),
                user.clone(),
                user.clone(),
                AuthenticatorOptions {
                    aaguid: vec![],
                    backup: BackupPolicy::DeviceBound,
                },
            )
            .unwrap();
            let options = r#"{"challenge": "AAECAwQFBgcICQoLDA0ODw", "rp": {"id": "example.com"},
                "user": {"id": "dXNlci0x", "name": "alice"},
                "pubKeyCredParams": [{"type": "public-key", "alg": -7}]}"#;
            let call = tokio::spawn({
                let auth = Arc::clone(&auth);
                async move {
                    let caller = CallerContext::OsVerified {
                        client_data_hash: vec![7; 32],
                    };
                    auth.register(options.to_string(), caller).await
                }
            });
            while !user.shown.load(SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            // What a cancelled coroutine does to the Rust future: drop it.
            call.abort();
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
            while !user.dismissed.load(SeqCst) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the prompt was never dismissed"
                );
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            assert!(store.list().await.unwrap().is_empty());
        });
    }
}
