//! The protocol operations the phone driver sequences, on top of `tandem-hybrid`.
//!
//! One place maps the protocol crate's types and errors to what the driver needs (strings for error
//! reasons, typed [`Incoming`] messages), so the driver itself reads as the spec's flow.

use tandem_hybrid::crypter::Crypter;
use tandem_hybrid::ids::{ContactId, LinkId};
use tandem_hybrid::keys::{PrivateKey, PublicKey};
use tandem_hybrid::linking::LinkingInfo as ProtoLinkingInfo;
use tandem_hybrid::messages::{ClientMessage, MessageError, MessageType};
use tandem_hybrid::noise::{HandshakeHash, ResponderHandshake};
use tandem_hybrid::post_handshake::PostHandshakeMessage;
use tandem_hybrid::qr::QrData;
use tandem_hybrid::secrets::{PairedSecret, Psk, QrSecret};
use tandem_hybrid::update::UpdateMessage;

use crate::error::{SessionError, Step};

/// What the phone needs from a scanned QR code.
pub(crate) struct ScannedQr {
    /// The desktop's QR identity key (key 0).
    pub(crate) desktop_key: PublicKey,
    /// The QR secret (key 1).
    pub(crate) secret: QrSecret,
    /// Number of assigned tunnel domains the desktop knows (key 2; negative counts as 0, absent as 1:
    /// domain 0 is known to every hybrid desktop).
    pub(crate) known_assigned: u64,
    /// Whether the desktop can store linking information (key 4; false when absent).
    pub(crate) supports_linking: bool,
}

/// Parses `FIDO:/<digits>` (scheme case-insensitive) and validates it as Chromium does. A QR code for a
/// digital credential (key 5 `"dcp"` / `"dci"`) is refused here, before any tunnel is opened: that session
/// would speak the JSON message type, which this phone does not offer.
pub(crate) fn parse_qr(text: &str) -> Result<ScannedQr, String> {
    let qr = QrData::from_url(text.trim()).map_err(|e| e.to_string())?;
    if qr.is_digital_credential_request() {
        let hint = qr.request_type.as_ref().map_or("", |t| t.as_str());
        return Err(format!(
            "the desktop asks for a digital credential (request type {hint:?}); this phone serves passkeys only"
        ));
    }
    Ok(ScannedQr {
        known_assigned: qr.known_assigned_domains(),
        supports_linking: qr.desktop_can_link(),
        desktop_key: qr.identity_key,
        secret: qr.secret,
    })
}

/// The result of answering the desktop's handshake message.
pub(crate) struct Established {
    /// The 81-byte response to send.
    pub(crate) msg2: Vec<u8>,
    /// Transport encryption for the rest of the session.
    pub(crate) transport: Transport,
    /// The handshake hash (signed by the linking signature).
    pub(crate) handshake_hash: [u8; 32],
}

/// Transport encryption with string error reasons.
pub(crate) struct Transport(Crypter);

impl Transport {
    /// Pads and encrypts one plaintext.
    pub(crate) fn encrypt(&mut self, plaintext: &[u8]) -> Result<Vec<u8>, String> {
        self.0.encrypt(plaintext).map_err(|e| e.to_string())
    }

    /// Decrypts and unpads one ciphertext.
    pub(crate) fn decrypt(&mut self, ciphertext: &[u8]) -> Result<Vec<u8>, String> {
        self.0.decrypt(ciphertext).map_err(|e| e.to_string())
    }
}

fn established(handshake: ResponderHandshake, msg1: &[u8]) -> Result<Established, String> {
    let (msg2, crypter) = handshake.read_msg1(msg1).map_err(|e| e.to_string())?;
    let handshake_hash = *crypter.handshake_hash().as_bytes();
    Ok(Established {
        msg2: msg2.to_vec(),
        transport: Transport(crypter),
        handshake_hash,
    })
}

/// Answers a QR session's `KNpsk0` message 1.
pub(crate) fn respond_qr(psk: &Psk, desktop_key: &PublicKey, msg1: &[u8]) -> Result<Established, String> {
    established(
        ResponderHandshake::qr(desktop_key, psk).map_err(|e| e.to_string())?,
        msg1,
    )
}

/// Answers a linked session's `NKpsk0` message 1 with the phone's identity key.
pub(crate) fn respond_linked(psk: &Psk, identity: &PrivateKey, msg1: &[u8]) -> Result<Established, String> {
    established(
        ResponderHandshake::state_assisted(identity, psk).map_err(|e| e.to_string())?,
        msg1,
    )
}

/// The post-handshake message (docs/hybrid-protocol.md#post-handshake): bare CBOR
/// `{1: getInfo, 3: ["ctap"]}`, no type byte.
pub(crate) fn post_handshake(get_info: Vec<u8>) -> Vec<u8> {
    PostHandshakeMessage::ctap(get_info).to_bytes()
}

/// Linking information for an update message (docs/hybrid-protocol.md#linking-map).
pub struct LinkingInfo(ProtoLinkingInfo);

/// Builds the linking map, signing the handshake hash with `ECDH(identity, desktop_key)`.
pub(crate) fn linking_info(
    contact: &ContactId,
    link_id: &LinkId,
    secret: &PairedSecret,
    identity: &PrivateKey,
    name: &str,
    desktop_key: &PublicKey,
    handshake_hash: &[u8; 32],
) -> Result<LinkingInfo, String> {
    Ok(LinkingInfo(ProtoLinkingInfo::new(
        contact.clone(),
        *link_id,
        secret.clone(),
        identity,
        name,
        desktop_key,
        &HandshakeHash::from_bytes(*handshake_hash),
    )))
}

/// The update message (docs/hybrid-protocol.md#update-message): `02 ‖ CBOR{0: zeros, 1: linking map}`, the
/// padding sized so the message length does not reveal whether linking happened.
pub(crate) fn update_message(link: Option<&LinkingInfo>) -> Vec<u8> {
    let payload = UpdateMessage {
        linking: link.map(|l| l.0.clone()),
    }
    .to_payload();
    let mut out = vec![MessageType::Update as u8];
    out.extend_from_slice(&payload);
    out
}

/// A message from the desktop after the post-handshake message.
pub(crate) enum Incoming {
    /// `00`: the desktop is done.
    Shutdown,
    /// `01 ‖ cmd ‖ CBOR`: a CTAP request (the bytes after the type byte).
    Ctap(Vec<u8>),
    /// `02 ‖ …`: an update (defined but unused from the desktop; ignored).
    Update,
}

/// Splits the type byte off a decrypted message.
pub(crate) fn parse_incoming(plaintext: &[u8]) -> Result<Incoming, SessionError> {
    match ClientMessage::parse(plaintext) {
        Ok(ClientMessage::Shutdown) => Ok(Incoming::Shutdown),
        Ok(ClientMessage::Ctap(request)) => {
            let mut bytes = Vec::with_capacity(1 + request.params.len());
            bytes.push(request.command);
            bytes.extend_from_slice(&request.params);
            Ok(Incoming::Ctap(bytes))
        }
        Ok(ClientMessage::Update(_)) => Ok(Incoming::Update),
        // Only offered with the "dc" feature, which this phone does not advertise.
        Ok(ClientMessage::Json(_)) => Err(SessionError::UnexpectedMessage(
            "JSON message, but feature \"dc\" was not offered".into(),
        )),
        Err(MessageError::UnknownType(t)) => Err(SessionError::UnknownMessageType(t)),
        Err(MessageError::Empty) => Err(SessionError::BadFrame {
            step: Step::AwaitRequest,
            reason: "empty message".into(),
        }),
        Err(e) => Err(SessionError::UnexpectedMessage(e.to_string())),
    }
}

/// `01 ‖ response`.
pub(crate) fn ctap_message(response: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + response.len());
    out.push(MessageType::Ctap as u8);
    out.extend_from_slice(response);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_hybrid::secrets::RootSecret;

    fn vectors() -> serde_json::Value {
        let text = include_str!("../../../tests/data/hybrid-vectors.json");
        serde_json::from_str(text).unwrap()
    }

    fn h(v: &serde_json::Value, k: &str) -> Vec<u8> {
        hex::decode(v[k].as_str().unwrap()).unwrap()
    }

    #[test]
    fn qr_vector_parses() {
        let v = &vectors()["derived_qr_initiated_session"];
        let qr = parse_qr(v["qr_url"].as_str().unwrap()).unwrap();
        assert_eq!(
            qr.desktop_key.to_uncompressed().to_vec(),
            h(v, "desktop_identity_public_uncompressed")
        );
        assert_eq!(qr.secret.as_bytes().to_vec(), h(v, "qr_secret"));
        assert_eq!(qr.known_assigned, 2);
        assert!(qr.supports_linking);
        assert!(parse_qr("fido:/123").is_err());
        assert!(
            parse_qr(&v["qr_url"].as_str().unwrap().to_lowercase()).is_ok(),
            "scheme is case-insensitive"
        );
        assert!(parse_qr("HTTP:/1").is_err());
        assert!(parse_qr("FIDO:/").is_err());
    }

    #[test]
    fn digital_credential_qr_is_refused() {
        use tandem_hybrid::qr::DesktopQr;
        use tandem_hybrid::request_type::RequestType;
        for hint in ["dcp", "dci"] {
            let qr = DesktopQr::generate(1_700_000_000, true, RequestType::parse(hint)).unwrap();
            let err = parse_qr(&qr.url()).err().expect("refused");
            assert!(err.contains("digital credential"), "{err}");
        }
        for hint in ["ga", "mc", "something-new"] {
            let qr = DesktopQr::generate(1_700_000_000, true, RequestType::parse(hint)).unwrap();
            assert!(parse_qr(&qr.url()).is_ok(), "{hint}");
        }
    }

    #[test]
    fn linking_and_update_match_vectors() {
        let v = &vectors()["derived_qr_initiated_session"];
        let root = RootSecret::from_slice(&h(v, "root_secret")).unwrap();
        let contact = ContactId::new(h(v, "contact_id")).unwrap();
        let link_id = LinkId::from_slice(&h(v, "pairing_id")).unwrap();
        let identity = PrivateKey::from_bytes(&h(v, "phone_identity_private").try_into().unwrap()).unwrap();
        let desktop = PublicKey::from_uncompressed(&h(v, "desktop_identity_public_uncompressed")).unwrap();
        let hh: [u8; 32] = h(v, "handshake_hash").try_into().unwrap();
        let sig =
            tandem_hybrid::linking::handshake_signature(&identity, &desktop, &HandshakeHash::from_bytes(hh));
        assert_eq!(sig.to_vec(), h(v, "linking_signature"));
        let secret = root.paired_secret(&contact, &link_id);
        assert_eq!(secret.as_bytes().to_vec(), h(v, "paired_secret"));
        // The vector's linking map carries a name; its update message must match byte for byte.
        let expected = h(v, "update_plaintext_with_type_byte");
        let map = tandem_cbor::decode_canonical(&expected[1..]).unwrap();
        let name = map
            .get_int(1)
            .and_then(|l| l.get_int(5))
            .and_then(tandem_cbor::Value::as_text)
            .unwrap()
            .to_string();
        let info = linking_info(&contact, &link_id, &secret, &identity, &name, &desktop, &hh).unwrap();
        assert_eq!(update_message(Some(&info)), expected);
        // Padding-only: 512 bytes after Crypter padding, like the linked one.
        let plain = update_message(None);
        assert_eq!(tandem_hybrid::crypter::pad(&plain).len(), 512);
        assert_eq!(tandem_hybrid::crypter::pad(&expected).len(), 512);
    }

    #[test]
    fn incoming_types() {
        assert!(matches!(parse_incoming(&[0]), Ok(Incoming::Shutdown)));
        assert!(matches!(parse_incoming(&[1, 4]), Ok(Incoming::Ctap(b)) if b == [4]));
        assert!(matches!(parse_incoming(&[2, 0xa0]), Ok(Incoming::Update)));
        assert!(matches!(
            parse_incoming(&[1]),
            Err(SessionError::UnexpectedMessage(_))
        ));
        assert!(matches!(
            parse_incoming(&[3]),
            Err(SessionError::UnexpectedMessage(_))
        ));
        assert!(matches!(
            parse_incoming(&[9, 1]),
            Err(SessionError::UnknownMessageType(9))
        ));
        assert!(matches!(parse_incoming(&[]), Err(SessionError::BadFrame { .. })));
    }
}
