//! Foreign traits: what the app implements in Kotlin or Swift, and the adapters that let the Rust side use
//! those implementations through the core's own traits.
//!
//! An exception the foreign code throws that is not one of the declared errors arrives as
//! `uniffi::UnexpectedUniFFICallbackError` and is mapped to the trait's "failed/unavailable" variant, so an
//! app bug never becomes a panic.

use std::sync::Arc;

use tandem_engine::Cancellation;
use tandem_engine::platform as core;
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
/// through an `LAContext`). A `suspend fun` in Kotlin, `async` in Swift: it never blocks a thread.
///
/// When the request is abandoned (its coroutine or task cancelled, the hybrid session timed out or ended)
/// the library drops the call, which cancels the Kotlin coroutine / Swift task: dismiss the prompt then.
///
/// The engine accepts only the key enrolled for the store, so answering without the real unlock (a hook
/// faking the prompt's callback) gets nothing signed.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait UserVerifier: Send + Sync {
    /// Shows `prompt` and unwraps `wrapped_key` with the platform key the verification authorises. When
    /// `wrapped_key` is null/nil (the store's first verification), creates 32 random bytes, wraps them
    /// through the verification, and returns both. Throws if the user did not pass.
    async fn verify(
        &self,
        prompt: VerificationPrompt,
        wrapped_key: Option<Vec<u8>>,
    ) -> Result<UnlockedUvKey, VerificationError>;
}

/// Lets the user pick one of several matching accounts. Async like [`UserVerifier`], and cancelled the same
/// way when the request is abandoned (dismiss the list then).
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait AccountChooser: Send + Sync {
    /// Returns the index into `accounts` the user chose, or null/nil if they cancelled.
    async fn choose(&self, rp_id: String, accounts: Vec<AccountInfo>) -> Option<u32>;
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

/// Asks the user whether a linked desktop may start a session (Android: a notification the user taps),
/// before the phone joins the tunnel. Async like [`UserVerifier`]; cancelled when the session gives up
/// waiting (withdraw the notification then).
#[uniffi::export(with_foreign)]
#[async_trait::async_trait]
pub trait LinkedSessionApprover: Send + Sync {
    /// `true` when the user accepts a session with `desktop_name`; `false` on refusal, dismissal or no
    /// answer (the session then ends before any request is served).
    async fn accept(&self, desktop_name: String) -> bool;
}

/// Waits for a foreign async callback on the engine's blocking thread, giving up (and dropping the call,
/// which cancels the foreign coroutine or task) once `cancel` is raised. `None` when cancelled first.
fn answer_unless_cancelled<T>(
    call: impl std::future::Future<Output = T>,
    cancel: &Cancellation,
) -> Option<T> {
    let wait = async {
        tokio::select! {
            // The user's answer wins a tie: it is already there.
            biased;
            answer = call => Some(answer),
            () = cancel.cancelled() => None,
        }
    };
    // Engine calls run on the runtime's blocking pool (or a plain thread in tests), never on a worker.
    match tokio::runtime::Handle::try_current() {
        Ok(handle) => handle.block_on(wait),
        Err(_) => tokio::runtime::Builder::new_current_thread()
            .build()
            .ok()?
            .block_on(wait),
    }
}

/// Adapts a foreign [`LinkedSessionApprover`] to the phone driver's trait.
pub(crate) struct ApproverAdapter(pub(crate) Arc<dyn LinkedSessionApprover>);

impl tandem_phone::LinkedSessionApprover for ApproverAdapter {
    fn accept(&self, desktop_name: &str) -> bool {
        self.accept_cancellable(desktop_name, &Cancellation::new())
    }

    fn accept_cancellable(&self, desktop_name: &str, cancel: &Cancellation) -> bool {
        answer_unless_cancelled(self.0.accept(desktop_name.to_owned()), cancel).unwrap_or(false)
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
        self.verify_cancellable(prompt, &Cancellation::new())
    }

    fn verify_cancellable(
        &self,
        prompt: &core::VerificationPrompt,
        cancel: &Cancellation,
    ) -> Result<core::UvKey, core::VerificationError> {
        let store_failed = |e: tandem_engine::store::StoreError| {
            core::VerificationError::Unavailable(format!("the wrapped UV key: {e}"))
        };
        let wrapped = self.store.wrapped_uv_key().map_err(store_failed)?;
        let first = wrapped.is_none();
        let unlocked = answer_unless_cancelled(self.verifier.verify(prompt.into(), wrapped), cancel)
            .ok_or(core::VerificationError::Cancelled)?
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
        self.choose_cancellable(rp_id, accounts, &Cancellation::new())
    }

    fn choose_cancellable(
        &self,
        rp_id: &str,
        accounts: &[core::AccountInfo],
        cancel: &Cancellation,
    ) -> Option<usize> {
        let list = accounts.to_vec();
        let answer = answer_unless_cancelled(self.0.choose(rp_id.to_owned(), list), cancel)??;
        let index = usize::try_from(answer).ok()?;
        (index < accounts.len()).then_some(index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Unanswered;
    use tandem_engine::platform::{AccountChooser as _, UserVerifier as _};

    struct Fixed(Option<u32>);
    #[async_trait::async_trait]
    impl AccountChooser for Fixed {
        async fn choose(&self, _rp_id: String, _accounts: Vec<AccountInfo>) -> Option<u32> {
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
    #[async_trait::async_trait]
    impl UserVerifier for Refuse {
        async fn verify(
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
        let engine = tandem_engine::EngineError::from(core::VerificationError::from(
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
    #[async_trait::async_trait]
    impl UserVerifier for Platform {
        async fn verify(
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

    /// Raises `cancel` once `waiting` shows its prompt, from another thread, as a session timeout does.
    fn cancel_when_shown(waiting: &Arc<Unanswered>) -> Cancellation {
        let cancel = Cancellation::new();
        let (w, c) = (Arc::clone(waiting), cancel.clone());
        std::thread::spawn(move || {
            while !w.shown.load(std::sync::atomic::Ordering::SeqCst) {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
            c.cancel();
        });
        cancel
    }

    /// Raising the request's cancellation while the user has not answered ends each callback (verifier,
    /// chooser, linked-session approver) with a refusal and drops the foreign call, which dismisses its UI.
    #[test]
    fn cancellation_drops_the_pending_callback_and_refuses() {
        use std::sync::atomic::Ordering::SeqCst;
        let waiting = Arc::new(Unanswered::default());
        let adapter = VerifierAdapter {
            verifier: waiting.clone(),
            store: store(),
        };
        let cancel = cancel_when_shown(&waiting);
        assert_eq!(
            adapter.verify_cancellable(&sign_in(), &cancel).unwrap_err(),
            core::VerificationError::Cancelled
        );
        assert!(waiting.dismissed.load(SeqCst), "the prompt's call was dropped");

        let waiting = Arc::new(Unanswered::default());
        let cancel = cancel_when_shown(&waiting);
        let chooser = ChooserAdapter(waiting.clone());
        assert_eq!(chooser.choose_cancellable("rp", &accounts(2), &cancel), None);
        assert!(waiting.dismissed.load(SeqCst));

        let waiting = Arc::new(Unanswered::default());
        let cancel = cancel_when_shown(&waiting);
        let approver = ApproverAdapter(waiting.clone());
        assert!(!tandem_phone::LinkedSessionApprover::accept_cancellable(
            &approver, "desk", &cancel
        ));
        assert!(waiting.dismissed.load(SeqCst));
    }
}
