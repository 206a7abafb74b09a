//! The user's consent to linked sessions: the platform asks before a woken session starts.
//!
//! A desktop linked earlier can wake this phone at any time; nothing may be served before the user accepts
//! (on Android a notification the user taps, as Google's phones do). [`LinkedSessionApprover::accept`]
//! is called with the linked desktop's name before the phone joins the tunnel; a refusal ends the session
//! with [`crate::SessionError::LinkedSessionRefused`] and no CTAP is served. Every ceremony in an accepted
//! session still needs user verification (the engine prompts for each).

use tandem_engine::Cancellation;

/// Asks the user whether a linked desktop may start a session. Blocks until the user answers; runs on a
/// blocking thread.
pub trait LinkedSessionApprover: Send + Sync {
    /// `true` when the user accepts a session with `desktop_name`; `false` when they refuse, dismiss the
    /// request or do not answer.
    fn accept(&self, desktop_name: &str) -> bool;

    /// [`Self::accept`] for a session that may end first (its time limit passed, the app cancelled it): an
    /// approver that can withdraw its question (the FFI's async approvers) overrides this and answers
    /// `false` once `cancel` is raised. The session always calls this one.
    fn accept_cancellable(&self, desktop_name: &str, cancel: &Cancellation) -> bool {
        let _ = cancel;
        self.accept(desktop_name)
    }
}

/// Refuses every linked session: the default until the platform provides its own approver.
#[derive(Debug, Default, Clone, Copy)]
pub struct RefuseLinkedSessions;

impl LinkedSessionApprover for RefuseLinkedSessions {
    fn accept(&self, _desktop_name: &str) -> bool {
        false
    }
}
