//! The driver's error type: one variant per way a session can fail, each naming the step.

use std::fmt;

use tandem_engine::store::StoreError;

pub use tandem_hybrid::FrameError;
use tandem_hybrid::{
    ClientPayloadError, MessageError, NoiseError, QrError, RandomError, RequestType, WakeError,
};

use crate::ble::AdvertiseError;

/// The step of a session at which something happened; used in errors to say where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStep {
    /// Parsing the QR code.
    ParseQr,
    /// Opening the WebSocket to the tunnel service.
    ConnectTunnel,
    /// Starting the BLE advert.
    Advertise,
    /// Waiting for / processing the desktop's Noise handshake message.
    Handshake,
    /// Sending the Noise response and the post-handshake message.
    PostHandshake,
    /// Sending the update (linking) message.
    Update,
    /// Waiting for the desktop's next message (a request or shutdown).
    AwaitRequest,
    /// The engine processing a request (user verification included).
    ProcessRequest,
    /// Sending a CTAP response.
    SendResponse,
    /// The wake channel to the tunnel service (linked sessions).
    WakeChannel,
}

impl fmt::Display for SessionStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionStep::ParseQr => "parsing the QR code",
            SessionStep::ConnectTunnel => "connecting to the tunnel service",
            SessionStep::Advertise => "advertising",
            SessionStep::Handshake => "the Noise handshake",
            SessionStep::PostHandshake => "sending the post-handshake message",
            SessionStep::Update => "sending the update message",
            SessionStep::AwaitRequest => "waiting for a request",
            SessionStep::ProcessRequest => "processing a request",
            SessionStep::SendResponse => "sending a response",
            SessionStep::WakeChannel => "the wake channel",
        })
    }
}

/// Why a phone session failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionError {
    /// The scanned text is not a valid hybrid QR code.
    #[error("invalid QR code: {0}")]
    InvalidQr(QrRejection),
    /// The tunnel choice cannot be used with this desktop or is malformed.
    #[error("tunnel configuration: {0}")]
    TunnelConfig(String),
    /// A plain `ws://` URL was given without permission, or for a non-loopback host.
    #[error(
        "refusing insecure tunnel URL {0}: plain ws:// is only allowed for loopback when explicitly enabled"
    )]
    InsecureTunnelUrl(String),
    /// TCP, TLS or the WebSocket upgrade failed.
    #[error("could not connect to the tunnel service: {0}")]
    TunnelConnect(String),
    /// The tunnel service answered the upgrade with an HTTP error.
    #[error("tunnel service refused the connection with HTTP {status}")]
    TunnelRejected {
        /// HTTP status code.
        status: u16,
    },
    /// The tunnel service did not select the `fido.cable` subprotocol.
    #[error("tunnel service did not select the fido.cable subprotocol")]
    MissingSubprotocol,
    /// The `/cable/new` response carried no `X-caBLE-Routing-ID`.
    #[error("tunnel service sent no X-caBLE-Routing-ID header")]
    MissingRoutingId,
    /// The `X-caBLE-Routing-ID` header is not 3 bytes of hex.
    #[error("tunnel service sent an invalid X-caBLE-Routing-ID header: {0:?}")]
    InvalidRoutingId(String),
    /// The platform could not advertise.
    #[error(transparent)]
    Advertise(#[from] AdvertiseError),
    /// The WebSocket closed while the session still needed it.
    #[error("tunnel closed during {step}")]
    TunnelClosed {
        /// Where the session was.
        step: SessionStep,
    },
    /// A step did not finish within its configured time.
    #[error("timed out during {step}")]
    Timeout {
        /// The step that took too long.
        step: SessionStep,
    },
    /// The desktop's handshake message was malformed or did not authenticate (e.g. wrong PSK / wrong QR).
    #[error("Noise handshake failed: {0}")]
    Handshake(#[from] NoiseError),
    /// A transport message could not be decrypted, unpadded or framed.
    #[error("bad frame during {step}: {reason}")]
    BadFrame {
        /// Where the session was.
        step: SessionStep,
        /// What was wrong.
        reason: FrameError,
    },
    /// The desktop sent a message type this phone does not know.
    #[error("unknown message type {0:#04x}")]
    UnknownMessageType(u8),
    /// The desktop sent a known message type that is not allowed here.
    #[error("unexpected message: {0}")]
    UnexpectedMessage(MessageRefusal),
    /// The linking state (root secret, contact ID, links) could not be read or written; the store's own
    /// error, so a key-protector refusal stays one.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The operating system could not provide randomness for a new link.
    #[error(transparent)]
    Randomness(#[from] RandomError),
    /// The engine task failed (panicked or was cancelled).
    #[error("engine failure: {0}")]
    Engine(String),
    /// The key protecting the credentials (the store's data key or the UV key) is gone for good: the
    /// desktop got a failure status, and the app should offer to start over.
    #[error("the passkeys on this phone can no longer be used: {0}")]
    KeyInvalidated(String),
    /// A WebSocket protocol error other than a clean close.
    #[error("WebSocket error during {step}: {reason}")]
    WebSocket {
        /// Where the session was.
        step: SessionStep,
        /// What the WebSocket layer reported.
        reason: String,
    },
    /// A wake message or client payload is malformed.
    #[error("bad wake-up: {0}")]
    BadWake(#[from] WakeFault),
    /// A state-assisted request named a link this phone does not have (never linked, or revoked).
    #[error("unknown link: {0}")]
    UnknownLink(String),
    /// The user did not accept a linked session (refused, dismissed, or did not answer in time); nothing
    /// was served.
    #[error("the user did not accept a session with linked desktop {desktop:?}")]
    LinkedSessionRefused {
        /// The linked desktop's name as stored with the link.
        desktop: String,
    },
}

/// Why a scanned QR code was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrRejection {
    /// Not a valid hybrid QR code.
    #[error(transparent)]
    Invalid(#[from] QrError),
    /// A digital-credential request (key 5 `"dcp"` / `"dci"`): that session would speak the JSON message
    /// type, which this phone does not offer.
    #[error("the desktop asks for a digital credential (request type {:?}); this phone serves passkeys only", .0.as_str())]
    DigitalCredential(RequestType),
}

/// Why a well-framed message from the desktop was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageRefusal {
    /// The message does not parse (e.g. a CTAP message without a command byte).
    #[error(transparent)]
    Malformed(#[from] MessageError),
    /// A JSON message (type 3): only offered with feature "dc", which this phone does not advertise.
    #[error("JSON message, but feature \"dc\" was not offered")]
    JsonWithoutDc,
}

/// Why a wake-up could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WakeFault {
    /// The wake message itself is malformed.
    #[error(transparent)]
    Message(#[from] WakeError),
    /// The desktop's client payload inside it is malformed.
    #[error(transparent)]
    ClientPayload(#[from] ClientPayloadError),
}

impl From<WakeError> for SessionError {
    fn from(e: WakeError) -> Self {
        SessionError::BadWake(WakeFault::Message(e))
    }
}

impl From<ClientPayloadError> for SessionError {
    fn from(e: ClientPayloadError) -> Self {
        SessionError::BadWake(WakeFault::ClientPayload(e))
    }
}
