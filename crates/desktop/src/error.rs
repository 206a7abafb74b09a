//! The desktop peer's error type: one variant per failure, naming the step.

use std::fmt;

pub use tandem_hybrid::FrameError;
use tandem_hybrid::{LinkingError, MessageError, NoiseError, PostHandshakeError, RandomError, UpdateError};

use crate::ble::ScanError;
use crate::get_info::GetInfoRejected;
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
    Random(#[from] RandomError),
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
    Handshake(#[from] NoiseError),
    /// A message could not be decrypted, unpadded or framed.
    #[error("bad frame during {step}: {reason}")]
    BadFrame {
        /// Where the desktop was.
        step: DesktopStep,
        /// What was wrong.
        reason: FrameError,
    },
    /// The post-handshake message is invalid (getInfo, features).
    #[error("invalid post-handshake message: {0}")]
    PostHandshake(#[from] PostHandshakeFault),
    /// The phone sent a message type above 3.
    #[error("unknown message type {0:#04x}")]
    UnknownMessageType(u8),
    /// The phone sent a message that is not allowed here (e.g. shutdown, an unsolicited reply).
    #[error("unexpected message: {0}")]
    UnexpectedMessage(MessageRefusal),
    /// The linking information in an update message is invalid (bad signature, shape), or a stored link
    /// cannot be used.
    #[error("invalid linking information: {0}")]
    Linking(#[from] LinkingFault),
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

/// Why the post-handshake message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostHandshakeFault {
    /// It does not parse (revision 0, wrong types, getInfo and "ctap" disagreeing).
    #[error(transparent)]
    Message(#[from] PostHandshakeError),
    /// The phone does not offer "ctap" (this desktop speaks nothing else).
    #[error("the phone does not offer \"ctap\"")]
    NoCtap,
    /// getInfo is not one canonical CBOR item.
    #[error("getInfo: {0}")]
    GetInfoCbor(tandem_cbor::DecodeError),
    /// getInfo breaks a rule Chromium enforces.
    #[error(transparent)]
    GetInfo(#[from] GetInfoRejected),
}

/// Why a well-framed message from the phone was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageRefusal {
    /// The message does not parse or is not allowed from the phone (e.g. shutdown, a CTAP reply without
    /// a status).
    #[error(transparent)]
    Malformed(#[from] MessageError),
    /// A JSON message, though this desktop never sends a JSON request.
    #[error("JSON message without a JSON request")]
    JsonWithoutRequest,
}

/// Why linking information could not be kept or used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkingFault {
    /// The update message or its linking map is malformed.
    #[error(transparent)]
    Update(#[from] UpdateError),
    /// The linking map does not verify.
    #[error(transparent)]
    Link(#[from] LinkingError),
    /// A stored link has a malformed field (named).
    #[error("stored link: bad {0}")]
    StoredLink(&'static str),
}
