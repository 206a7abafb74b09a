//! Progress events: what the driver tells the UI while a session runs.
//!
//! Events are plain owned values so a binding layer can forward them across an FFI boundary unchanged.

use tandem_engine::{ReportedCommand, ReportedStatus};

/// One step of a hybrid session, reported as it happens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEvent {
    /// The QR code was parsed and is valid (QR sessions only).
    QrParsed,
    /// The wake channel is open: linked desktops can reach this phone from now on (linked sessions only).
    WaitingForDesktop,
    /// The tunnel service accepted the WebSocket; `routing_id` is hex (empty for linked sessions, where the
    /// wake message carried it).
    TunnelConnected {
        /// The routing ID the tunnel service assigned, upper-case hex.
        routing_id: String,
    },
    /// The BLE advert is on the air.
    Advertising,
    /// The Noise handshake completed; the channel to the desktop is encrypted.
    HandshakeDone,
    /// A CTAP request arrived.
    RequestReceived {
        /// The command ([`ReportedCommand::MakeCredential`] to create a passkey,
        /// [`ReportedCommand::GetAssertion`] to sign in...).
        command: ReportedCommand,
    },
    /// The engine is waiting for the user (biometric prompt / account choice).
    AwaitingUser,
    /// The response to the last request was sent.
    Responded {
        /// The CTAP status sent ([`ReportedStatus::Ok`] on success).
        status: ReportedStatus,
    },
    /// The session ended normally.
    Finished,
    /// The session failed; `reason` is the error's display text.
    Failed {
        /// Human-readable reason (the [`crate::SessionError`] display text).
        reason: String,
    },
}

/// Receives progress events. Called from the driver's task: implementations must return quickly.
pub trait ProgressListener: Send + Sync {
    /// Called once per event, in order.
    fn on_event(&self, event: ProgressEvent);
}

/// A listener that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl ProgressListener for NoProgress {
    fn on_event(&self, _event: ProgressEvent) {}
}
