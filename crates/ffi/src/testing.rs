//! Test stand-ins shared by the unit tests of several modules.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::callbacks::{
    AccountChooser, KeyProtector, KeyProtectorError, LinkedSessionApprover, UnlockedUvKey, UserVerifier,
    VerificationError,
};
use crate::types::{AccountInfo, VerificationPrompt};

/// A user who never answers: each callback records that its UI was shown, then waits forever. Dropping the
/// call (what cancels the Kotlin coroutine or Swift task behind a real prompt) sets `dismissed`.
#[derive(Default)]
pub(crate) struct Unanswered {
    /// A callback was entered (its UI is up).
    pub(crate) shown: AtomicBool,
    /// A callback's future was dropped before it answered.
    pub(crate) dismissed: Arc<AtomicBool>,
}

/// Sets its flag when dropped.
struct SetOnDrop(Arc<AtomicBool>);

impl Drop for SetOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

impl Unanswered {
    /// Shows "the UI" and waits until the call is dropped.
    async fn wait_forever<T>(&self) -> T {
        let _dismiss = SetOnDrop(Arc::clone(&self.dismissed));
        self.shown.store(true, Ordering::SeqCst);
        std::future::pending().await
    }
}

#[async_trait::async_trait]
impl UserVerifier for Unanswered {
    async fn verify(
        &self,
        _prompt: VerificationPrompt,
        _wrapped_key: Option<Vec<u8>>,
    ) -> Result<UnlockedUvKey, VerificationError> {
        self.wait_forever().await
    }
}

#[async_trait::async_trait]
impl AccountChooser for Unanswered {
    async fn choose(&self, _rp_id: String, _accounts: Vec<AccountInfo>) -> Option<u32> {
        self.wait_forever().await
    }
}

#[async_trait::async_trait]
impl LinkedSessionApprover for Unanswered {
    async fn accept(&self, _desktop_name: String) -> bool {
        self.wait_forever().await
    }
}

/// A key protector that "wraps" by passing the data key through: stores opened in tests without a platform key.
pub(crate) struct PlainProtector;

impl KeyProtector for PlainProtector {
    fn wrap(&self, data_key: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError> {
        Ok(data_key)
    }
    fn unwrap(&self, wrapped: Vec<u8>) -> Result<Vec<u8>, KeyProtectorError> {
        Ok(wrapped)
    }
}
