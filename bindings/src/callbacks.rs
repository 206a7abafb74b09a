//! Foreign traits: what the app implements in Kotlin or Swift, and the adapters that let the Rust side use
//! those implementations through the core's own traits.
//!
//! An exception the foreign code throws that is not one of the declared errors arrives as
//! `uniffi::UnexpectedUniFFICallbackError` and is mapped to the trait's "failed/unavailable" variant, so an
//! app bug never becomes a panic.

use std::sync::Arc;

use tandem_core::platform as core;
use tandem_store::SqliteStore;
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
    /// The platform key that unwraps the UV key is gone for good (a new biometric enrolled, the screen lock
    /// removed, the Keychain item deleted): the passkeys sealed under it are lost. Surfaces as
    /// `TandemError::KeyInvalidated`, so the app offers to start over.
    #[error("the UV key's platform key is gone: {reason}")]
    KeyInvalidated {
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
            VerificationError::KeyInvalidated { reason } => core::VerificationError::KeyInvalidated(reason),
        }
    }
}

/// What a passed verification unlocked: `UnlockedUvKey` in Kotlin and Swift.
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct UnlockedUvKey {
    /// The 32-byte UV key, decrypted with the platform key the verification authorised.
    pub key: Vec<u8>,
    /// The key wrapped by that platform key: what the store keeps and hands back as `wrapped_key` next time
    /// (the same bytes that came in, when there were some).
    pub wrapped_key: Vec<u8>,
}

impl std::fmt::Debug for UnlockedUvKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UnlockedUvKey")
            .field("key", &format_args!("<{} bytes redacted>", self.key.len()))
            .field("wrapped_key", &format_args!("<{} bytes>", self.wrapped_key.len()))
            .finish()
    }
}

/// Asks the user to prove who they are and unlocks the UV key with a platform key only that proof can use
/// (Android: an auth-bound Keystore key through `BiometricPrompt.CryptoObject`; iOS: a Secure Enclave key
/// through an `LAContext`). Called on a background thread; block until the user has answered.
///
/// The engine accepts only the key enrolled for the store, so answering without the real unlock (a hook
/// faking the prompt's callback) gets nothing signed.
#[uniffi::export(foreign)]
pub trait UserVerifier: Send + Sync {
    /// Shows `prompt` and unwraps `wrapped_key` with the platform key the verification authorises. When
    /// `wrapped_key` is null/nil (the store's first verification), creates 32 random bytes, wraps them
    /// through the verification, and returns both. Throws if the user did not pass.
    fn verify(
        &self,
        prompt: VerificationPrompt,
        wrapped_key: Option<Vec<u8>>,
    ) -> Result<UnlockedUvKey, VerificationError>;
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

/// Adapts a foreign [`UserVerifier`] to the engine's trait: hands it the store's wrapped UV key, keeps the
/// wrapped form of a key it created, and passes the unlocked key on (the engine checks it).
pub(crate) struct VerifierAdapter {
    pub(crate) verifier: Arc<dyn UserVerifier>,
    pub(crate) store: Arc<SqliteStore>,
}

impl core::UserVerifier for VerifierAdapter {
    fn verify(&self, prompt: &core::VerificationPrompt) -> Result<core::UvKey, core::VerificationError> {
        let store_failed = |e: tandem_core::store::StoreError| {
            core::VerificationError::Unavailable(format!("the wrapped UV key: {e}"))
        };
        let wrapped = self.store.wrapped_uv_key().map_err(store_failed)?;
        let first = wrapped.is_none();
        let unlocked = self
            .verifier
            .verify(prompt.into(), wrapped)
            .map_err(core::VerificationError::from)?;
        let raw = Zeroizing::new(unlocked.key);
        let key = core::UvKey::from_slice(&raw).ok_or_else(|| {
            core::VerificationError::Unavailable(format!(
                "the verifier returned a {}-byte UV key, expected {}",
                raw.len(),
                core::UV_KEY_LEN
            ))
        })?;
        if first {
            self.store
                .keep_wrapped_uv_key(&unlocked.wrapped_key)
                .map_err(store_failed)?;
        }
        Ok(key)
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
        fn verify(
            &self,
            p: VerificationPrompt,
            _wrapped_key: Option<Vec<u8>>,
        ) -> Result<UnlockedUvKey, VerificationError> {
            Err(VerificationError::Unavailable { reason: p.rp_id })
        }
    }

    fn store() -> Arc<SqliteStore> {
        let protector = Arc::new(tandem_store::SoftwareKeyProtector::from_key_bytes(&[7; 32]));
        Arc::new(SqliteStore::open_in_memory(protector).unwrap())
    }

    fn sign_in() -> core::VerificationPrompt {
        core::VerificationPrompt {
            operation: core::Operation::SignIn,
            rp_id: "example.com".into(),
            rp_name: None,
            account: None,
        }
    }

    #[test]
    fn verifier_errors_map_to_the_engine_errors() {
        let adapter = VerifierAdapter {
            verifier: Arc::new(Refuse),
            store: store(),
        };
        assert_eq!(
            adapter.verify(&sign_in()).unwrap_err(),
            core::VerificationError::Unavailable("example.com".into())
        );
        assert_eq!(
            core::VerificationError::from(VerificationError::Denied),
            core::VerificationError::Denied
        );
    }

    /// A lost platform key reaches the app as `TandemError::KeyInvalidated` (start over), the same kind as
    /// the store's own key loss, not as a transient refusal.
    #[test]
    fn a_lost_uv_key_is_key_invalidated_at_the_edge() {
        let engine = tandem_core::EngineError::from(core::VerificationError::from(
            VerificationError::KeyInvalidated {
                reason: "new fingerprint".into(),
            },
        ));
        assert_eq!(
            crate::error::TandemError::from(engine),
            crate::error::TandemError::KeyInvalidated {
                reason: "new fingerprint".into()
            }
        );
    }

    /// Stands in for the platform: "wraps" by prefixing a marker, records what it was handed.
    struct Platform {
        key: Vec<u8>,
        seen: std::sync::Mutex<Vec<Option<Vec<u8>>>>,
    }
    impl UserVerifier for Platform {
        fn verify(
            &self,
            _p: VerificationPrompt,
            wrapped_key: Option<Vec<u8>>,
        ) -> Result<UnlockedUvKey, VerificationError> {
            self.seen.lock().unwrap().push(wrapped_key.clone());
            Ok(UnlockedUvKey {
                key: self.key.clone(),
                wrapped_key: wrapped_key.unwrap_or_else(|| [b"wrapped:".as_slice(), &self.key].concat()),
            })
        }
    }

    /// The first verification gets no wrapped key and its wrapped key is kept; later ones get it back.
    #[test]
    fn the_wrapped_uv_key_goes_to_the_platform_and_back() {
        let platform = Arc::new(Platform {
            key: vec![9; 32],
            seen: Default::default(),
        });
        let store = store();
        let adapter = VerifierAdapter {
            verifier: platform.clone(),
            store: store.clone(),
        };
        assert_eq!(adapter.verify(&sign_in()).unwrap().expose(), &[9; 32]);
        assert_eq!(adapter.verify(&sign_in()).unwrap().expose(), &[9; 32]);
        let wrapped = [b"wrapped:".as_slice(), &[9; 32]].concat();
        assert_eq!(*platform.seen.lock().unwrap(), vec![None, Some(wrapped.clone())]);
        assert_eq!(store.wrapped_uv_key().unwrap(), Some(wrapped));
    }

    /// A key of the wrong length is the platform failing, not a verification.
    #[test]
    fn a_wrong_length_key_is_unavailable() {
        let adapter = VerifierAdapter {
            verifier: Arc::new(Platform {
                key: vec![9; 16],
                seen: Default::default(),
            }),
            store: store(),
        };
        assert!(matches!(
            adapter.verify(&sign_in()),
            Err(core::VerificationError::Unavailable(_))
        ));
    }
}
