//! Foreign traits: what the app implements in Kotlin or Swift, and the adapters that let the Rust side use
//! those implementations through the core's own traits.
//!
//! An exception the foreign code throws that is not one of the declared errors arrives as
//! `uniffi::UnexpectedUniFFICallbackError` and is mapped to the trait's "failed/unavailable" variant, so an
//! app bug never becomes a panic.

use std::sync::Arc;

use tandem_core::platform as core;
use zeroize::Zeroizing;

use crate::types::{AccountInfo, VerificationPrompt};

/// Why user verification did not succeed: `VerificationException` (Kotlin) / `VerificationError` (Swift).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum VerificationError {
    /// The user said no.
    #[error("the user declined")]
    Denied,
    /// The user dismissed the prompt.
    #[error("the user cancelled")]
    Cancelled,
    /// Nobody answered in time.
    #[error("the prompt timed out")]
    TimedOut,
    /// No biometric or device credential is enrolled, or it is locked out.
    #[error("user verification is unavailable: {reason}")]
    Unavailable {
        /// The platform's explanation.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for VerificationError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        VerificationError::Unavailable {
            reason: format!("verifier threw: {}", e.reason),
        }
    }
}

impl From<VerificationError> for core::VerificationError {
    fn from(e: VerificationError) -> Self {
        match e {
            VerificationError::Denied => core::VerificationError::Denied,
            VerificationError::Cancelled => core::VerificationError::Cancelled,
            VerificationError::TimedOut => core::VerificationError::TimedOut,
            VerificationError::Unavailable { reason } => core::VerificationError::Unavailable(reason),
        }
    }
}

/// Asks the user to prove who they are (BiometricPrompt, LocalAuthentication). Called on a background thread;
/// block until the user has answered.
#[uniffi::export(foreign)]
pub trait UserVerifier: Send + Sync {
    /// Shows `prompt`; returns normally if the user passed, throws otherwise.
    fn verify(&self, prompt: VerificationPrompt) -> Result<(), VerificationError>;
}

/// Lets the user pick one of several matching accounts. Called on a background thread; block until answered.
#[uniffi::export(foreign)]
pub trait AccountChooser: Send + Sync {
    /// Returns the index into `accounts` the user chose, or null/nil if they cancelled.
    fn choose(&self, rp_id: String, accounts: Vec<AccountInfo>) -> Option<u32>;
}

/// Why the key protector could not wrap or unwrap: `KeyProtectorException` / `KeyProtectorError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum KeyProtectorError {
    /// The keystore is unavailable or refused for now (device locked, user not authenticated).
    #[error("key protector unavailable: {reason}")]
    Unavailable {
        /// The platform's explanation.
        reason: String,
    },
    /// The wrapping key is permanently gone (Android `KeyPermanentlyInvalidatedException` after the screen
    /// lock was removed; iOS: the Secure Enclave key was deleted or its biometry set changed). Retrying
    /// cannot help: the store surfaces `TandemError::KeyInvalidated`.
    #[error("wrapping key permanently invalidated: {reason}")]
    KeyInvalidated {
        /// The platform's explanation.
        reason: String,
    },
    /// The wrapped key is not one this protector produced (tampered, or wrapped under another key).
    #[error("wrapped data key rejected: {reason}")]
    Rejected {
        /// The platform's explanation.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for KeyProtectorError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        KeyProtectorError::Unavailable {
            reason: format!("key protector threw: {}", e.reason),
        }
    }
}

impl From<KeyProtectorError> for tandem_store::ProtectorError {
    fn from(e: KeyProtectorError) -> Self {
        match e {
            KeyProtectorError::Unavailable { reason } => tandem_store::ProtectorError::Unavailable(reason),
            KeyProtectorError::Rejected { reason } => tandem_store::ProtectorError::Rejected(reason),
            KeyProtectorError::KeyInvalidated { reason } => {
                tandem_store::ProtectorError::KeyInvalidated(reason)
            }
        }
    }
}

/// Protects the store's 32-byte data key with the platform keystore (Android Keystore AES-GCM, iOS Secure
/// Enclave / Keychain). `unwrap(wrap(k))` must return `k`; a tampered blob must fail with `Rejected`.
#[uniffi::export(foreign)]
pub trait KeyProtector: Send + Sync {
    /// Encrypts (wraps) the data key; returns an opaque blob the store keeps in the database.
    fn wrap(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError>;
    /// Decrypts (unwraps) a blob made by `wrap`.
    fn unwrap(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError>;
}

/// Adapts a foreign [`KeyProtector`] to the store's trait. The unwrapped key is moved into a zeroizing buffer
/// at once. Known limit: the serialisation buffers uniffi uses to carry the key across the FFI are freed
/// without being wiped, and so is the foreign side's own copy (a JVM `ByteArray` cannot be wiped reliably).
pub(crate) struct ProtectorAdapter(pub(crate) Arc<dyn KeyProtector>);

impl tandem_store::KeyProtector for ProtectorAdapter {
    fn wrap(&self, data_key: &[u8]) -> Result<Vec<u8>, tandem_store::ProtectorError> {
        self.0.wrap(data_key.to_vec()).map_err(Into::into)
    }

    fn unwrap(&self, wrapped: &[u8]) -> Result<Zeroizing<Vec<u8>>, tandem_store::ProtectorError> {
        self.0
            .unwrap(wrapped.to_vec())
            .map(Zeroizing::new)
            .map_err(Into::into)
    }
}

/// Why the platform could not advertise: `AdvertiseException` / `AdvertiseError`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum AdvertiseError {
    /// Bluetooth is off or missing, or the app lacks BLUETOOTH_ADVERTISE.
    #[error("BLE advertising unavailable: {reason}")]
    Unavailable {
        /// The platform's explanation.
        reason: String,
    },
    /// The platform accepted the request but failed to start.
    #[error("BLE advertising failed: {reason}")]
    Failed {
        /// The platform's explanation.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for AdvertiseError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        AdvertiseError::Failed {
            reason: format!("advertiser threw: {}", e.reason),
        }
    }
}

/// Broadcasts the 20-byte hybrid advert as service data under UUID 0xFFF9, non-connectable, until `stop`.
#[uniffi::export(foreign)]
pub trait BleAdvertiser: Send + Sync {
    /// Starts (or replaces) the advert. `advert` is exactly 20 bytes.
    fn start(&self, advert: Vec<u8>) -> Result<(), AdvertiseError>;
    /// Stops advertising; harmless if not advertising.
    fn stop(&self);
}

/// Asks the user whether a linked desktop may start a session (Android: a notification the user taps).
/// Blocks until the user answers; called on a background thread before the phone joins the tunnel.
#[uniffi::export(with_foreign)]
pub trait LinkedSessionApprover: Send + Sync {
    /// `true` when the user accepts a session with `desktop_name`; `false` on refusal, dismissal or no
    /// answer (the session then ends before any request is served).
    fn accept(&self, desktop_name: String) -> bool;
}

/// Adapts a foreign [`LinkedSessionApprover`] to the phone driver's trait.
pub(crate) struct ApproverAdapter(pub(crate) Arc<dyn LinkedSessionApprover>);

impl tandem_phone::LinkedSessionApprover for ApproverAdapter {
    fn accept(&self, desktop_name: &str) -> bool {
        self.0.accept(desktop_name.to_owned())
    }
}

/// Adapts a foreign [`UserVerifier`] to the engine's trait. The foreign verifier still answers yes or no, so
/// a "yes" releases the store's software UV key (`SqliteStore::software_uv_key`), which is protected only
/// by the data key: the engine's checks and sealing are in place, but until the platform unlocks the key
/// through its biometric (a `CryptoObject`, a Secure Enclave key) a hook that fakes the answer still gets it.
pub(crate) struct VerifierAdapter {
    pub(crate) verifier: Arc<dyn UserVerifier>,
    pub(crate) key: core::UvKey,
}

impl core::UserVerifier for VerifierAdapter {
    fn verify(&self, prompt: &core::VerificationPrompt) -> Result<core::UvKey, core::VerificationError> {
        self.verifier
            .verify(prompt.into())
            .map_err(core::VerificationError::from)?;
        Ok(self.key.clone())
    }
}

/// Adapts a foreign [`AccountChooser`] to the engine's trait; an out-of-range answer counts as a cancel.
pub(crate) struct ChooserAdapter(pub(crate) Arc<dyn AccountChooser>);

impl core::AccountChooser for ChooserAdapter {
    fn choose(&self, rp_id: &str, accounts: &[core::AccountInfo]) -> Option<usize> {
        let list = accounts.iter().map(AccountInfo::from).collect();
        let index = usize::try_from(self.0.choose(rp_id.to_owned(), list)?).ok()?;
        (index < accounts.len()).then_some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_core::platform::{AccountChooser as _, UserVerifier as _};

    struct Fixed(Option<u32>);
    impl AccountChooser for Fixed {
        fn choose(&self, _rp_id: String, _accounts: Vec<AccountInfo>) -> Option<u32> {
            self.0
        }
    }

    fn accounts(n: usize) -> Vec<core::AccountInfo> {
        (0..n)
            .map(|i| core::AccountInfo {
                user_id: vec![i as u8],
                name: None,
                display_name: None,
            })
            .collect()
    }

    #[test]
    fn chooser_answers_in_range_pass_and_out_of_range_cancel() {
        assert_eq!(
            ChooserAdapter(Arc::new(Fixed(Some(1)))).choose("rp", &accounts(2)),
            Some(1)
        );
        assert_eq!(
            ChooserAdapter(Arc::new(Fixed(Some(2)))).choose("rp", &accounts(2)),
            None
        );
        assert_eq!(
            ChooserAdapter(Arc::new(Fixed(None))).choose("rp", &accounts(2)),
            None
        );
    }

    struct Refuse;
    impl UserVerifier for Refuse {
        fn verify(&self, p: VerificationPrompt) -> Result<(), VerificationError> {
            Err(VerificationError::Unavailable { reason: p.rp_id })
        }
    }

    #[test]
    fn verifier_errors_map_to_the_engine_errors() {
        let prompt = core::VerificationPrompt {
            operation: core::Operation::SignIn,
            rp_id: "example.com".into(),
            rp_name: None,
            account: None,
        };
        let adapter = VerifierAdapter {
            verifier: Arc::new(Refuse),
            key: core::UvKey::from_array([1; 32]),
        };
        assert_eq!(
            adapter.verify(&prompt).unwrap_err(),
            core::VerificationError::Unavailable("example.com".into())
        );
        assert_eq!(
            core::VerificationError::from(VerificationError::Denied),
            core::VerificationError::Denied
        );
    }
}
