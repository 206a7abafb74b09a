//! Cancellation of an engine request whose caller has gone away.
//!
//! The hybrid driver runs each request on a blocking thread and stops waiting when its time limit passes or
//! the session is dropped; an app cancels the coroutine or task that awaits a registration. The user may
//! still answer the prompt afterwards. A [`Cancellation`] shared between the caller and the engine does two
//! things: the engine hands it to the platform's prompt ([`crate::platform::UserVerifier::verify_cancellable`]),
//! which can wait on [`Cancellation::cancelled`] and dismiss the prompt; and a late answer changes nothing,
//! because the engine checks the flag after the user answered and again just before it stores or signs, and
//! then fails with [`crate::EngineError::Abandoned`] instead of creating a credential nobody will receive.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

#[derive(Debug, Default)]
struct Shared {
    raised: AtomicBool,
    /// Tasks waiting in [`Cancelled`]; woken once when the flag is raised.
    waiting: Mutex<Vec<Waker>>,
}

/// A flag the caller raises when it no longer waits for the answer. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancellation(Arc<Shared>);

impl Cancellation {
    /// A flag not raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the flag (the request's result will not be delivered) and wakes every [`Self::cancelled`].
    pub fn cancel(&self) {
        self.0.raised.store(true, Ordering::SeqCst);
        let waiting = std::mem::take(&mut *self.0.waiting.lock().unwrap_or_else(PoisonError::into_inner));
        waiting.into_iter().for_each(Waker::wake);
    }

    /// Whether the flag was raised.
    pub fn is_cancelled(&self) -> bool {
        self.0.raised.load(Ordering::SeqCst)
    }

    /// A future that completes once the flag is raised (at once if it already was). Runtime-agnostic: an
    /// async prompt races it against the user's answer.
    pub fn cancelled(&self) -> Cancelled {
        Cancelled(self.clone())
    }
}

/// Completes when its [`Cancellation`] is raised; see [`Cancellation::cancelled`].
#[derive(Debug)]
pub struct Cancelled(Cancellation);

impl Future for Cancelled {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let shared = &(self.0).0;
        if shared.raised.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        let mut waiting = shared.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        // Checked again under the lock: `cancel` takes the list under the same lock after raising the flag,
        // so a waker registered here is either woken by it or sees the flag now.
        if shared.raised.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if !waiting.iter().any(|w| w.will_wake(cx.waker())) {
            waiting.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

/// Raises the flag when dropped: a driver future dropped mid-request (session cancelled by the app)
/// cancels the engine's work too.
#[derive(Debug)]
pub struct CancelOnDrop(pub Cancellation);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn poll(f: &mut Cancelled, waker: &Waker) -> Poll<()> {
        Pin::new(f).poll(&mut Context::from_waker(waker))
    }

    #[test]
    fn cancelled_waits_until_raised_and_wakes_its_task_once() {
        let c = Cancellation::new();
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut f = c.cancelled();
        assert_eq!(poll(&mut f, &waker), Poll::Pending);
        assert_eq!(poll(&mut f, &waker), Poll::Pending);
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        c.clone().cancel();
        assert_eq!(count.0.load(Ordering::SeqCst), 1, "registered once, woken once");
        assert_eq!(poll(&mut f, &waker), Poll::Ready(()));
        assert!(c.is_cancelled());
    }

    #[test]
    fn cancelled_after_the_fact_is_ready_at_once_and_drop_raises() {
        let c = Cancellation::new();
        drop(CancelOnDrop(c.clone()));
        let waker = Waker::from(Arc::new(Count(AtomicUsize::new(0))));
        assert_eq!(poll(&mut c.cancelled(), &waker), Poll::Ready(()));
    }
}
