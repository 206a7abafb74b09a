//! The tokio runtime async exports run on, and the panic guards that keep panics inside Rust.
//!
//! Async exports are polled by the foreign executor (Kotlin coroutines, Swift tasks) but their work is spawned
//! onto this runtime, so tokio I/O and timers always find a reactor and a panic surfaces as a `JoinError`
//! instead of unwinding into foreign code.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::OnceLock;

use tokio::runtime::{Builder, Runtime};
use tokio::task::JoinHandle;

use crate::TandemError;

static RUNTIME: OnceLock<Result<Runtime, String>> = OnceLock::new();

fn runtime() -> Result<&'static Runtime, TandemError> {
    RUNTIME
        .get_or_init(|| {
            Builder::new_multi_thread()
                // Phones have few big cores and sessions are I/O bound: two workers are plenty.
                .worker_threads(2)
                .thread_name("tandem-ffi")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| TandemError::Internal {
            reason: format!("cannot start the async runtime: {e}"),
        })
}

/// Text of a panic payload (the `&str` or `String` given to `panic!`).
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

/// Runs a synchronous export body, turning a panic into [`TandemError::Internal`].
pub(crate) fn guard<T>(f: impl FnOnce() -> Result<T, TandemError>) -> Result<T, TandemError> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        Err(TandemError::Internal {
            reason: format!("panic: {}", panic_message(payload.as_ref())),
        })
    })
}

/// Aborts the spawned task when the foreign side drops the future (a cancelled coroutine or Swift task), so
/// cancelling the call also stops the work.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs `fut` on the runtime and waits for it; a panic becomes [`TandemError::Internal`].
pub(crate) async fn spawn<T, F>(fut: F) -> Result<T, TandemError>
where
    T: Send + 'static,
    F: Future<Output = Result<T, TandemError>> + Send + 'static,
{
    let mut handle = AbortOnDrop(runtime()?.spawn(fut));
    match (&mut handle.0).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(TandemError::Internal {
            reason: format!("panic: {}", panic_message(e.into_panic().as_ref())),
        }),
        Err(_) => Err(TandemError::Cancelled),
    }
}

/// Runs blocking work (the engine, SQLite, foreign callbacks that wait for the user) on the runtime's blocking
/// pool; a panic becomes [`TandemError::Internal`].
pub(crate) async fn spawn_blocking<T, F>(f: F) -> Result<T, TandemError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, TandemError> + Send + 'static,
{
    let handle = runtime()?.spawn_blocking(move || guard(f));
    match handle.await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err(TandemError::Internal {
            reason: format!("panic: {}", panic_message(e.into_panic().as_ref())),
        }),
        Err(_) => Err(TandemError::Cancelled),
    }
}

/// Drives an async export to completion from a plain thread, as a foreign executor would (tests only).
#[cfg(test)]
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    Builder::new_current_thread()
        .build()
        .map(|rt| rt.block_on(fut))
        .unwrap_or_else(|e| panic!("{e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guard_turns_a_panic_into_internal() {
        let r: Result<(), _> = guard(|| panic!("boom"));
        assert!(matches!(r, Err(TandemError::Internal { reason }) if reason.contains("boom")));
    }

    #[test]
    fn guard_passes_values_and_errors_through() {
        assert_eq!(guard(|| Ok(7)).ok(), Some(7));
        assert!(matches!(
            guard::<()>(|| Err(TandemError::Cancelled)),
            Err(TandemError::Cancelled)
        ));
    }

    #[test]
    fn spawn_turns_a_panic_into_internal() {
        let r: Result<(), _> = block_on(spawn(async { panic!("async boom") }));
        assert!(matches!(r, Err(TandemError::Internal { reason }) if reason.contains("async boom")));
        let r: Result<(), _> = block_on(spawn_blocking(|| panic!("blocking boom")));
        assert!(matches!(r, Err(TandemError::Internal { reason }) if reason.contains("blocking boom")));
    }
}
