//! The desktop peer's error type: one variant per failure, naming the step.

use std::fmt;

use crate::ble::ScanError;
use crate::webauthn::ResponseError;

/// Where the desktop was when something happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DesktopStep {
    /// Scanning for the phone's advert.
    Scan,
    /// Opening the tunnel connection.
    ConnectTunnel,
    /// The Noise handshake.
    Handshake,
    /// Reading the post-handshake message.
    PostHandshake,
    /// Sending a request.
    SendRequest,
    /// Waiting for a response.
    AwaitResponse,
    /// Sending shutdown and waiting for the phone to close.
    Shutdown,
}

impl fmt::Display for DesktopStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DesktopStep::Scan => "scanning for the advert",
            DesktopStep::ConnectTunnel => "connecting to the tunnel service",
            DesktopStep::Handshake => "the Noise handshake",
            DesktopStep::PostHandshake => "reading the post-handshake message",
            DesktopStep::SendRequest => "sending a request",
            DesktopStep::AwaitResponse => "waiting for a response",
            DesktopStep::Shutdown => "shutting down",
        })
    }
}

/// Why a desktop ceremony failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DesktopError {
    /// The OS random generator failed.
    #[error("randomness unavailable: {0}")]
    Random(String),
    /// The scanner could not run.
    #[error(transparent)]
    Scan(#[from] ScanError),
    /// The tunnel URL or domain cannot be used.
    #[error("tunnel configuration: {0}")]
    TunnelConfig(String),
    /// Plain ws:// without permission or for a non-loopback host.
    #[error("refusing insecure tunnel URL {0}")]
    InsecureTunnelUrl(String),
    /// TCP/TLS/upgrade failure.
    #[error("could not connect to the tunnel service: {0}")]
    TunnelConnect(String),
    /// The tunnel service answered with an HTTP error.
    #[error("tunnel service refused the connection with HTTP {status}")]
    TunnelRejected {
        /// HTTP status.
        status: u16,
    },
    /// The contact ID is permanently invalid (HTTP 410): the link should be deleted.
    #[error("the phone's contact ID is no longer valid (HTTP 410); unlink it")]
    ContactGone,
    /// The tunnel service did not select `fido.cable`.
    #[error("tunnel service did not select the fido.cable subprotocol")]
    MissingSubprotocol,
    /// The tunnel closed while the ceremony still needed it.
    #[error("tunnel closed during {step}")]
    TunnelClosed {
        /// Where the desktop was.
        step: DesktopStep,
    },
    /// A step did not finish in time.
    #[error("timed out during {step}")]
    Timeout {
        /// The step.
        step: DesktopStep,
    },
    /// The phone's handshake response was malformed or did not authenticate.
    #[error("Noise handshake failed: {0}")]
    Handshake(String),
    /// A message could not be decrypted, unpadded or framed.
    #[error("bad frame during {step}: {reason}")]
    BadFrame {
        /// Where the desktop was.
        step: DesktopStep,
        /// What was wrong.
        reason: String,
    },
    /// The post-handshake message is invalid (getInfo, features).
    #[error("invalid post-handshake message: {0}")]
    PostHandshake(String),
    /// The phone sent a message type above 3.
    #[error("unknown message type {0:#04x}")]
    UnknownMessageType(u8),
    /// The phone sent a message that is not allowed here (e.g. shutdown, an unsolicited reply).
    #[error("unexpected message: {0}")]
    UnexpectedMessage(String),
    /// The linking information in an update message is invalid (bad signature, shape).
    #[error("invalid linking information: {0}")]
    Linking(String),
    /// The CTAP response could not become a credential (includes CTAP error statuses).
    #[error(transparent)]
    Response(#[from] ResponseError),
    /// Another WebSocket failure.
    #[error("WebSocket error during {step}: {reason}")]
    WebSocket {
        /// Where the desktop was.
        step: DesktopStep,
        /// What happened.
        reason: String,
    },
}
