//! The few protocol steps the desktop peer adds on top of `tandem-hybrid`'s codecs: the QR URL it shows,
//! the post-handshake checks a real desktop makes, and keeping a verified link. Every message is encoded and
//! parsed by `tandem-hybrid` (docs/hybrid-protocol.md#messages, docs/hybrid-protocol.md#linking-map).

use std::time::{SystemTime, UNIX_EPOCH};

use tandem_hybrid::{
    AuthenticatorMessage, ClientMessage, ClientNonce, ClientPayload, CtapRequest, DomainId, Feature,
    HandshakeHash, InitiatorError, LinkId, LinkingInfo, MessageError, PostHandshakeMessage, PrivateKey,
    PublicKey, QrData, QrSecret, RequestType,
};

use crate::error::{DesktopError, DesktopStep, FrameError, LinkingFault, MessageRefusal, PostHandshakeFault};
use crate::link::StoredLink;

/// Number of assigned tunnel domains this desktop knows (QR key 2).
pub const KNOWN_ASSIGNED_DOMAINS: u64 = tandem_hybrid::KNOWN_ASSIGNED_DOMAINS;

/// The `FIDO:/…` URL: CBOR `{0: compressed key, 1: secret, 2: 2, 3: now, 4: linking, 5: hint}` in digits.
pub fn qr_url(identity: &PublicKey, secret: &QrSecret, hint: &str, linking: bool) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    QrData {
        identity_key: *identity,
        secret: secret.clone(),
        known_domains: i64::try_from(KNOWN_ASSIGNED_DOMAINS).ok(),
        timestamp: Some(now),
        supports_linking: Some(linking),
        request_type: Some(RequestType::parse(hint)),
        key6: None,
    }
    .to_url()
}

/// Checks a post-handshake message (parsed by the initiator machine, revision 1 only) and returns the
/// getInfo CBOR: "ctap" must be offered, and getInfo must be acceptable to Chromium's getInfo parser
/// ([`crate::get_info::check`]) so no test passes with a getInfo that real desktops drop.
pub fn check_post_handshake(message: &PostHandshakeMessage) -> Result<Vec<u8>, PostHandshakeFault> {
    let info = match message.get_info() {
        Some(info) if message.supports(&Feature::Ctap) => info,
        _ => return Err(PostHandshakeFault::NoCtap),
    };
    let parsed = tandem_cbor::decode_canonical(info).map_err(PostHandshakeFault::GetInfoCbor)?;
    crate::get_info::check(&parsed)?;
    Ok(info.to_vec())
}

/// A message from the phone after the post-handshake message.
#[derive(Debug)]
pub enum Incoming {
    /// `01 ‖ status ‖ CBOR`: the status byte and CBOR together.
    Ctap(Vec<u8>),
    /// `02 ‖ CBOR`, with the linking map if it carried one (shape checked, signature not yet).
    Update(Option<LinkingInfo>),
}

/// What the desktop makes of the phone's next message, as the initiator machine delivered it.
pub fn incoming(received: Result<AuthenticatorMessage, InitiatorError>) -> Result<Incoming, DesktopError> {
    match received {
        Ok(AuthenticatorMessage::Ctap(r)) => {
            let mut out = Vec::with_capacity(1 + r.body.len());
            out.push(r.status);
            out.extend_from_slice(&r.body);
            Ok(Incoming::Ctap(out))
        }
        Ok(AuthenticatorMessage::Update(u)) => Ok(Incoming::Update(u.linking)),
        Ok(AuthenticatorMessage::Json(_)) => Err(DesktopError::UnexpectedMessage(
            MessageRefusal::JsonWithoutRequest,
        )),
        Err(e) => Err(initiator_error(DesktopStep::AwaitResponse, e)),
    }
}

/// The desktop error for a refusal of the initiator machine at `step`.
pub fn initiator_error(step: DesktopStep, e: InitiatorError) -> DesktopError {
    match e {
        InitiatorError::Noise(e) => DesktopError::Handshake(e),
        InitiatorError::Transport(e) => DesktopError::BadFrame {
            step,
            reason: e.into(),
        },
        InitiatorError::PostHandshake(e) => DesktopError::PostHandshake(PostHandshakeFault::Message(e)),
        InitiatorError::Message(MessageError::Empty) => DesktopError::BadFrame {
            step,
            reason: FrameError::Empty,
        },
        InitiatorError::Message(MessageError::UnknownType(t)) => DesktopError::UnknownMessageType(t),
        InitiatorError::Message(MessageError::Update(e)) => DesktopError::Linking(LinkingFault::Update(e)),
        // Includes a shutdown from the phone, which Chromium treats as an error
        // (docs/hybrid-protocol.md#pitfall-phone-shutdown).
        InitiatorError::Message(other) => DesktopError::UnexpectedMessage(other.into()),
    }
}

/// Verifies the linking signature with the QR key and returns the link to keep.
pub fn verify_link(
    link: &LinkingInfo,
    qr_key: &PrivateKey,
    handshake_hash: &HandshakeHash,
    domain: DomainId,
) -> Result<StoredLink, LinkingFault> {
    link.verify(qr_key, handshake_hash)?;
    Ok(StoredLink {
        contact_id: hex::encode(link.contact_id().as_bytes()),
        link_id: hex::encode(link.link_id().as_bytes()),
        link_secret: hex::encode(link.link_secret().as_bytes()),
        identity_key: hex::encode(link.authenticator_key().to_uncompressed()),
        name: link.name().to_string(),
        domain_id: domain.raw(),
    })
}

/// The CTAP message for `request` (command ‖ CBOR); an empty request is refused.
pub fn ctap_request(request: &[u8]) -> Result<ClientMessage, MessageError> {
    let (&command, params) = request.split_first().ok_or(MessageError::EmptyCtap)?;
    Ok(ClientMessage::Ctap(CtapRequest {
        command,
        params: params.to_vec(),
    }))
}

/// The state-assisted client payload `{1: link id, 2: client nonce, 3: hint}` (CBOR).
pub fn client_payload(link_id: &LinkId, nonce: &ClientNonce, hint: &str) -> Vec<u8> {
    ClientPayload {
        link_id: *link_id,
        client_nonce: *nonce,
        request_type: RequestType::parse(hint),
    }
    .to_cbor()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_cbor::Value;

    /// Whether `printed` shows `secret` as hex or as a run of decimal byte values (derived `Debug`).
    fn leaks(printed: &str, secret: &[u8]) -> bool {
        let numbers: Vec<u64> = printed
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|s| s.parse().ok())
            .collect();
        let wanted: Vec<u64> = secret.iter().map(|&b| u64::from(b)).collect();
        printed.contains(&hex::encode(secret))
            || numbers.windows(wanted.len()).any(|w| w == wanted.as_slice())
    }

    /// The phone's message as the initiator machine would deliver it after decrypting.
    fn parse_incoming(plaintext: &[u8]) -> Result<Incoming, DesktopError> {
        incoming(AuthenticatorMessage::parse(plaintext).map_err(InitiatorError::from))
    }

    fn parse_post_handshake(plaintext: &[u8]) -> Result<Vec<u8>, DesktopError> {
        let message = PostHandshakeMessage::parse(plaintext)
            .map_err(|e| initiator_error(DesktopStep::PostHandshake, e.into()))?;
        Ok(check_post_handshake(&message)?)
    }

    fn vectors() -> serde_json::Value {
        serde_json::from_str(include_str!("../../../tests/data/hybrid-vectors.json")).unwrap()
    }

    fn h(v: &serde_json::Value, k: &str) -> Vec<u8> {
        hex::decode(v[k].as_str().unwrap()).unwrap()
    }

    fn vector_link() -> (LinkingInfo, PrivateKey, HandshakeHash) {
        let v = &vectors()["derived_qr_initiated_session"];
        let update = h(v, "update_plaintext_with_type_byte");
        let Ok(Incoming::Update(Some(link))) = parse_incoming(&update) else {
            panic!("no linking map")
        };
        let qr_key = PrivateKey::from_bytes(&h(v, "desktop_identity_private").try_into().unwrap()).unwrap();
        let hh = HandshakeHash::from_bytes(h(v, "handshake_hash").try_into().unwrap());
        (link, qr_key, hh)
    }

    #[test]
    fn links_debug_redacts_the_link_secret() {
        let (received, qr_key, hh) = vector_link();
        let stored = verify_link(&received, &qr_key, &hh, DomainId::GOOGLE).unwrap();
        let secret = received.link_secret().as_bytes().to_vec();
        for printed in [
            format!("{received:?} {received:#?}"),
            format!("{stored:?} {stored:#?}"),
        ] {
            assert!(printed.contains("redacted"), "{printed}");
            assert!(!leaks(&printed, &secret), "{printed}");
        }
    }

    #[test]
    fn vector_update_verifies() {
        let v = &vectors()["derived_qr_initiated_session"];
        let (link, qr_key, hh) = vector_link();
        let stored = verify_link(&link, &qr_key, &hh, DomainId::GOOGLE).unwrap();
        assert_eq!(stored.link_secret, v["paired_secret"].as_str().unwrap());
        let other = HandshakeHash::from_bytes([0; 32]);
        assert!(verify_link(&link, &qr_key, &other, DomainId::GOOGLE).is_err());
    }

    #[test]
    fn vector_post_handshake_parses() {
        let v = &vectors()["derived_qr_initiated_session"];
        let info = parse_post_handshake(&h(v, "post_handshake_plaintext")).unwrap();
        assert_eq!(info, h(v, "getinfo_cbor"));
        assert!(parse_post_handshake(&[0xa0, 0x00]).is_err());
        let no_ctap = Value::map()
            .insert(1, Value::bytes(info))
            .insert(3, Value::Array(vec![Value::text("dc")]));
        assert!(parse_post_handshake(&no_ctap.build().to_vec()).is_err());
        let dc_only = Value::map().insert(3, Value::Array(vec![Value::text("dc")]));
        assert_eq!(
            parse_post_handshake(&dc_only.build().to_vec()),
            Err(DesktopError::PostHandshake(PostHandshakeFault::NoCtap))
        );
    }

    #[test]
    fn message_types() {
        assert!(matches!(parse_incoming(&[1, 0x2e]), Ok(Incoming::Ctap(b)) if b == [0x2e]));
        assert!(matches!(
            parse_incoming(&[0]),
            Err(DesktopError::UnexpectedMessage(_))
        ));
        assert!(matches!(
            parse_incoming(&[4]),
            Err(DesktopError::UnknownMessageType(4))
        ));
        assert!(matches!(
            parse_incoming(&[1]),
            Err(DesktopError::UnexpectedMessage(_))
        ));
        assert!(matches!(parse_incoming(&[]), Err(DesktopError::BadFrame { .. })));
        assert!(matches!(parse_incoming(&[2, 0xa0]), Ok(Incoming::Update(None))));
        assert_eq!(ctap_request(&[4]).unwrap().to_bytes(), [1, 4]);
        assert_eq!(ctap_request(&[]), Err(MessageError::EmptyCtap));
    }

    #[test]
    fn qr_round_trip_shape() {
        let key = PrivateKey::generate().unwrap();
        let secret = QrSecret::generate().unwrap();
        let url = qr_url(&key.public_key(), &secret, "mc", true);
        let qr = QrData::from_url(&url).unwrap();
        assert_eq!(qr.secret.as_bytes(), secret.as_bytes());
        assert_eq!(qr.request_type, Some(RequestType::MakeCredential));
        assert_eq!(qr.known_assigned_domains(), KNOWN_ASSIGNED_DOMAINS);
        assert_eq!(qr.supports_linking, Some(true));
    }
}
