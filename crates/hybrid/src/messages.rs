//! Revision-1 transport messages after the post-handshake message (docs/hybrid-protocol.md#message-types,
//! docs/hybrid-protocol.md#ctap-exchange): one type byte, then the payload. Direction matters, so each side
//! has its own enum: [`ClientMessage`] (desktop → phone) and [`AuthenticatorMessage`] (phone → desktop).

use crate::update::{UpdateError, UpdateMessage};

/// The message-type byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageType {
    /// `00`: end of session, desktop → phone only.
    Shutdown = 0,
    /// `01`: CTAP request or response.
    Ctap = 1,
    /// `02`: update (linking information).
    Update = 2,
    /// `03`: JSON (digital credentials).
    Json = 3,
}

impl TryFrom<u8> for MessageType {
    type Error = MessageError;

    fn try_from(b: u8) -> Result<Self, MessageError> {
        match b {
            0 => Ok(MessageType::Shutdown),
            1 => Ok(MessageType::Ctap),
            2 => Ok(MessageType::Update),
            3 => Ok(MessageType::Json),
            other => Err(MessageError::UnknownType(other)),
        }
    }
}

/// Why a transport message was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MessageError {
    /// A zero-length message.
    #[error("empty message")]
    Empty,
    /// A type byte above 3 (Chromium closes the connection).
    #[error("unknown message type {0}")]
    UnknownType(u8),
    /// A CTAP message without its command or status byte.
    #[error("CTAP message without command/status byte")]
    EmptyCtap,
    /// A shutdown message with a payload.
    #[error("shutdown message carries {0} byte(s) of payload")]
    ShutdownPayload(usize),
    /// The phone sent shutdown, which only the desktop may send
    /// (docs/hybrid-protocol.md#pitfall-phone-shutdown).
    #[error("shutdown from the authenticator")]
    ShutdownFromAuthenticator,
    /// A JSON message that is not UTF-8.
    #[error("JSON message is not UTF-8")]
    JsonNotUtf8,
    /// An invalid update payload.
    #[error(transparent)]
    Update(#[from] UpdateError),
}

/// A CTAP request: command byte and CBOR parameters (possibly empty, e.g. getInfo `04`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtapRequest {
    /// The CTAP command (`01` makeCredential, `02` getAssertion, `04` getInfo, `0B` selection, ...).
    pub command: u8,
    /// The CBOR parameters, unparsed.
    pub params: Vec<u8>,
}

/// A CTAP response: status byte and CBOR body (empty after a non-zero status).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CtapResponse {
    /// The CTAP status (`00` success).
    pub status: u8,
    /// The CBOR response, unparsed.
    pub body: Vec<u8>,
}

impl CtapResponse {
    /// A success (`00`) with a CBOR body.
    pub fn success(body: Vec<u8>) -> Self {
        CtapResponse { status: 0, body }
    }

    /// An error status with no body.
    pub fn error(status: u8) -> Self {
        CtapResponse {
            status,
            body: Vec::new(),
        }
    }
}

fn framed(t: MessageType, head: Option<u8>, rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + rest.len());
    out.push(t as u8);
    out.extend(head);
    out.extend_from_slice(rest);
    out
}

fn split_ctap(payload: &[u8]) -> Result<(u8, Vec<u8>), MessageError> {
    let (&first, rest) = payload.split_first().ok_or(MessageError::EmptyCtap)?;
    Ok((first, rest.to_vec()))
}

fn json(payload: &[u8]) -> Result<String, MessageError> {
    String::from_utf8(payload.to_vec()).map_err(|_| MessageError::JsonNotUtf8)
}

/// A message from the desktop to the phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientMessage {
    /// `00`: the desktop is done; the phone closes the connection.
    Shutdown,
    /// `01 ‖ command ‖ CBOR`.
    Ctap(CtapRequest),
    /// `02 ‖ CBOR`: defined but unused in this direction; payload kept raw.
    Update(Vec<u8>),
    /// `03 ‖ UTF-8 JSON`.
    Json(String),
}

impl ClientMessage {
    /// Parses a decrypted, unpadded plaintext (phone role).
    pub fn parse(plaintext: &[u8]) -> Result<Self, MessageError> {
        let (&t, payload) = plaintext.split_first().ok_or(MessageError::Empty)?;
        Ok(match MessageType::try_from(t)? {
            MessageType::Shutdown if payload.is_empty() => ClientMessage::Shutdown,
            MessageType::Shutdown => return Err(MessageError::ShutdownPayload(payload.len())),
            MessageType::Ctap => {
                let (command, params) = split_ctap(payload)?;
                ClientMessage::Ctap(CtapRequest { command, params })
            }
            MessageType::Update => ClientMessage::Update(payload.to_vec()),
            MessageType::Json => ClientMessage::Json(json(payload)?),
        })
    }

    /// The plaintext to encrypt (desktop role).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            ClientMessage::Shutdown => framed(MessageType::Shutdown, None, &[]),
            ClientMessage::Ctap(r) => framed(MessageType::Ctap, Some(r.command), &r.params),
            ClientMessage::Update(p) => framed(MessageType::Update, None, p),
            ClientMessage::Json(s) => framed(MessageType::Json, None, s.as_bytes()),
        }
    }

    /// The type byte.
    pub fn message_type(&self) -> MessageType {
        match self {
            ClientMessage::Shutdown => MessageType::Shutdown,
            ClientMessage::Ctap(_) => MessageType::Ctap,
            ClientMessage::Update(_) => MessageType::Update,
            ClientMessage::Json(_) => MessageType::Json,
        }
    }
}

/// A message from the phone to the desktop (after the post-handshake message).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthenticatorMessage {
    /// `01 ‖ status ‖ CBOR`.
    Ctap(CtapResponse),
    /// `02 ‖ CBOR`: padded update, optionally with linking information.
    Update(UpdateMessage),
    /// `03 ‖ UTF-8 JSON`.
    Json(String),
}

impl AuthenticatorMessage {
    /// Parses a decrypted, unpadded plaintext (desktop role). A shutdown from the phone is an error, as in
    /// Chromium.
    pub fn parse(plaintext: &[u8]) -> Result<Self, MessageError> {
        let (&t, payload) = plaintext.split_first().ok_or(MessageError::Empty)?;
        Ok(match MessageType::try_from(t)? {
            MessageType::Shutdown => return Err(MessageError::ShutdownFromAuthenticator),
            MessageType::Ctap => {
                let (status, body) = split_ctap(payload)?;
                AuthenticatorMessage::Ctap(CtapResponse { status, body })
            }
            MessageType::Update => AuthenticatorMessage::Update(UpdateMessage::parse_payload(payload)?),
            MessageType::Json => AuthenticatorMessage::Json(json(payload)?),
        })
    }

    /// The plaintext to encrypt (phone role).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            AuthenticatorMessage::Ctap(r) => framed(MessageType::Ctap, Some(r.status), &r.body),
            AuthenticatorMessage::Update(u) => framed(MessageType::Update, None, &u.to_payload()),
            AuthenticatorMessage::Json(s) => framed(MessageType::Json, None, s.as_bytes()),
        }
    }

    /// The type byte.
    pub fn message_type(&self) -> MessageType {
        match self {
            AuthenticatorMessage::Ctap(_) => MessageType::Ctap,
            AuthenticatorMessage::Update(_) => MessageType::Update,
            AuthenticatorMessage::Json(_) => MessageType::Json,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn framing() {
        assert_eq!(ClientMessage::parse(&[0]).unwrap(), ClientMessage::Shutdown);
        assert_eq!(
            ClientMessage::parse(&[0, 1]),
            Err(MessageError::ShutdownPayload(1))
        );
        assert_eq!(ClientMessage::parse(&[]), Err(MessageError::Empty));
        assert_eq!(ClientMessage::parse(&[4]), Err(MessageError::UnknownType(4)));
        assert_eq!(ClientMessage::parse(&[1]), Err(MessageError::EmptyCtap));
        assert_eq!(
            ClientMessage::parse(&[1, 4]).unwrap(),
            ClientMessage::Ctap(CtapRequest {
                command: 4,
                params: vec![]
            })
        );
        assert_eq!(
            AuthenticatorMessage::parse(&[0]),
            Err(MessageError::ShutdownFromAuthenticator)
        );
        assert_eq!(
            AuthenticatorMessage::Ctap(CtapResponse::error(0x2e)).to_bytes(),
            vec![1, 0x2e]
        );
        assert_eq!(ClientMessage::parse(&[3, 0xff]), Err(MessageError::JsonNotUtf8));
    }

    proptest! {
        #[test]
        fn client_round_trip(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(m) = ClientMessage::parse(&b) {
                prop_assert_eq!(m.to_bytes(), b);
            }
        }

        #[test]
        fn authenticator_never_panics(b in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(m) = AuthenticatorMessage::parse(&b) {
                prop_assert_eq!(AuthenticatorMessage::parse(&m.to_bytes()).unwrap(), m);
            }
        }

        #[test]
        fn ctap_round_trip(cmd: u8, params in proptest::collection::vec(any::<u8>(), 0..64)) {
            let m = ClientMessage::Ctap(CtapRequest { command: cmd, params });
            prop_assert_eq!(ClientMessage::parse(&m.to_bytes()).unwrap(), m);
            let r = AuthenticatorMessage::Ctap(CtapResponse { status: cmd, body: vec![cmd] });
            prop_assert_eq!(AuthenticatorMessage::parse(&r.to_bytes()).unwrap(), r);
        }
    }
}
