//! Cancellation of an engine request whose caller has gone away.
//!
//! The hybrid driver runs each request on a blocking thread and stops waiting when its time limit passes or
//! the session is dropped; the user may still answer the prompt afterwards. A [`Cancellation`] shared
//! between the driver and the engine lets that late answer change nothing: the engine checks it after the
//! user answered and again just before it stores or signs, and then fails with
//! [`crate::EngineError::Abandoned`] instead of creating a credential nobody will receive.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A flag the caller raises when it no longer waits for the answer. Clones share the flag.
#[derive(Debug, Clone, Default)]
pub struct Cancellation(Arc<AtomicBool>);

impl Cancellation {
    /// A flag not raised yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Raises the flag: the request's result will not be delivered.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether the flag was raised.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst)
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
