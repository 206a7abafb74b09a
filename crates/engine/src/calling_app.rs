//! The calling app as the platform reports it (package name and signing certificates), and why a caller may be
//! refused: what the caller rules ([`crate::caller`]), the RP ID rules ([`crate::rpid`]) and the asset-links
//! check ([`crate::assetlinks`]) all speak in.

use std::collections::HashSet;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

/// SHA-256 of a DER signing certificate.
pub type CertDigest = [u8; 32];

/// Why a caller may not make this request. Nothing is signed or stored when one of these is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallerError {
    /// An app that is not a privileged browser passed a clientDataHash: it could be replaying the hash of another
    /// site's live challenge (the phishing-app attack).
    #[error("{package} is not a privileged browser and may not supply a clientDataHash")]
    UnprivilegedClientDataHash {
        /// The calling package.
        package: String,
    },
    /// An app that is not a privileged browser claimed a web origin.
    #[error("{package} is not a privileged browser and may not claim a web origin")]
    UnprivilegedOrigin {
        /// The calling package.
        package: String,
    },
    /// The platform reported no signing certificate for the caller.
    #[error("no signing certificate for {package}")]
    NoSigningCertificate {
        /// The calling package.
        package: String,
    },
    /// The web origin is malformed or not a secure origin.
    #[error("invalid origin {origin}: {reason}")]
    InvalidOrigin {
        /// The origin as given.
        origin: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The RP ID is neither the origin's host nor a registrable suffix of it.
    #[error("RP ID {rp_id} is not allowed for origin {origin}")]
    RpIdMismatch {
        /// The requested RP ID.
        rp_id: String,
        /// The caller's origin.
        origin: String,
    },
    /// The RP ID is a public suffix (`com`, `co.uk`), which no site may claim.
    #[error("RP ID {rp_id} is a public suffix")]
    PublicSuffix {
        /// The requested RP ID.
        rp_id: String,
    },
    /// The RP's asset-links file does not list this app (package and signing certificate).
    #[error("{rp_id} does not associate {package} in its Digital Asset Links")]
    NotAssociated {
        /// The requested RP ID.
        rp_id: String,
        /// The calling package.
        package: String,
    },
    /// The RP's asset-links file could not be fetched or parsed.
    #[error("asset links of {rp_id} unavailable: {reason}")]
    AssetLinksUnavailable {
        /// The requested RP ID.
        rp_id: String,
        /// Why.
        reason: String,
    },
    /// The privileged allowlist JSON is malformed.
    #[error("invalid privileged allowlist: {reason}")]
    InvalidAllowlist {
        /// What is wrong with it.
        reason: String,
    },
}

/// How an Android app is signed, as `android.content.pm.SigningInfo` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AppSigning {
    /// One signer, with its rotation lineage (`signingCertificateHistory`): original first, current last.
    Lineage(Vec<CertDigest>),
    /// Several signers at once (`hasMultipleSigners`, `apkContentsSigners`): all of them count.
    MultipleSigners(Vec<CertDigest>),
}

impl AppSigning {
    /// Builds the signing info from DER certificates as Android hands them over (`Signature.toByteArray()`),
    /// mirroring androidx: `apkContentsSigners` when `has_multiple_signers`, else the lineage
    /// (`signingCertificateHistory`, falling back to `apkContentsSigners` when the platform gave none).
    pub fn from_der(
        has_multiple_signers: bool,
        apk_contents_signers: &[Vec<u8>],
        history: &[Vec<u8>],
    ) -> Self {
        let digest = |certs: &[Vec<u8>]| -> Vec<CertDigest> {
            certs.iter().map(|c| Sha256::digest(c).into()).collect()
        };
        if has_multiple_signers {
            AppSigning::MultipleSigners(digest(apk_contents_signers))
        } else if history.is_empty() {
            AppSigning::Lineage(digest(apk_contents_signers))
        } else {
            AppSigning::Lineage(digest(history))
        }
    }

    /// The certificates the app is signed with now: all signers, or the newest of a lineage.
    pub fn current(&self) -> &[CertDigest] {
        match self {
            AppSigning::Lineage(l) => l.last().map(std::slice::from_ref).unwrap_or(&[]),
            AppSigning::MultipleSigners(all) => all,
        }
    }

    /// androidx's rule: every signer of a multi-signer app must be allowed; for one signer, any certificate of
    /// its lineage will do (rotation keeps a browser privileged).
    pub(crate) fn matches(&self, allowed: &HashSet<CertDigest>) -> bool {
        match self {
            AppSigning::MultipleSigners(all) => !all.is_empty() && all.iter().all(|c| allowed.contains(c)),
            AppSigning::Lineage(l) => l.iter().any(|c| allowed.contains(c)),
        }
    }
}

/// A calling Android app: package name and signing certificates, as the platform (not the app) reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AndroidApp {
    package_name: String,
    pub(crate) signing: AppSigning,
}

impl AndroidApp {
    /// The app `package_name` signed as `signing`.
    pub fn new(package_name: impl Into<String>, signing: AppSigning) -> Self {
        AndroidApp {
            package_name: package_name.into(),
            signing,
        }
    }

    /// The package name.
    pub fn package_name(&self) -> &str {
        &self.package_name
    }

    /// Its signing certificates.
    pub fn signing(&self) -> &AppSigning {
        &self.signing
    }

    /// `android:apk-key-hash:<base64url(SHA-256(cert))>` of the current (first) signing certificate: the
    /// origin Credential Manager reports for native apps, which RPs list in their expected origins.
    pub fn apk_key_hash_origin(&self) -> Result<String, CallerError> {
        let cert = self
            .signing
            .current()
            .first()
            .ok_or_else(|| CallerError::NoSigningCertificate {
                package: self.package_name.clone(),
            })?;
        Ok(format!("android:apk-key-hash:{}", URL_SAFE_NO_PAD.encode(cert)))
    }
}
