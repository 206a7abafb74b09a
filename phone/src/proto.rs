//! The protocol operations the phone driver sequences, on top of `tandem-hybrid-proto`.
//!
//! One place maps the protocol crate's types and errors to what the driver needs (strings for error
//! reasons, typed [`Incoming`] messages), so the driver itself reads as the spec's flow.
//! QR parsing, the message framing of spec §9 and the linking map of §10.1 are written here against the
//! spec (canonical CBOR through `tandem-cbor`), pinned by the derived-session vectors in the tests.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tandem_cbor::Value;
use tandem_hybrid_proto::crypter::Crypter;
use tandem_hybrid_proto::ids::{ContactId, LinkId};
use tandem_hybrid_proto::keys::{PrivateKey, PublicKey};
use tandem_hybrid_proto::noise::ResponderHandshake;
use tandem_hybrid_proto::secrets::{PairedSecret, Psk, QrSecret};
use zeroize::Zeroizing;

use crate::error::SessionError;

/// What the phone needs from a scanned QR code.
pub(crate) struct ScannedQr {
    /// The desktop's QR identity key (key 0).
    pub(crate) desktop_key: PublicKey,
    /// The QR secret (key 1).
    pub(crate) secret: QrSecret,
    /// Number of assigned tunnel domains the desktop knows (key 2; 0 when absent, as Chromium's parser).
    pub(crate) known_assigned: u64,
    /// Whether the desktop can store linking information (key 4; false when absent).
    pub(crate) supports_linking: bool,
}

/// Parses `FIDO:/<digits>` (scheme case-insensitive) into its CBOR map and validates it as Chromium does.
pub(crate) fn parse_qr(text: &str) -> Result<ScannedQr, String> {
    let text = text.trim();
    let prefix = text.get(..6).ok_or("too short")?;
    if !prefix.eq_ignore_ascii_case("FIDO:/") {
        return Err("does not start with FIDO:/".into());
    }
    let bytes = tandem_hybrid_proto::digits::decode(&text[6..]).map_err(|e| format!("digits: {e}"))?;
    let map = tandem_cbor::decode_canonical(&bytes).map_err(|e| format!("CBOR: {e}"))?;
    if map.as_map().is_none() {
        return Err("CBOR is not a map".into());
    }
    let key = map
        .get_int(0)
        .and_then(Value::as_bytes)
        .ok_or("key 0 (public key) missing or not bytes")?;
    let desktop_key = PublicKey::from_compressed(key).map_err(|e| format!("key 0: {e}"))?;
    let secret = map
        .get_int(1)
        .and_then(Value::as_bytes)
        .ok_or("key 1 (secret) missing or not bytes")?;
    let secret = QrSecret::from_slice(secret).map_err(|e| format!("key 1: {e}"))?;
    let known_assigned = match map.get_int(2) {
        None => 0,
        Some(v) => v.as_u64().ok_or("key 2 is not an unsigned integer")?,
    };
    let supports_linking = match map.get_int(4) {
        None => false,
        Some(v) => v.as_bool().ok_or("key 4 is not a boolean")?,
    };
    if let Some(v) = map.get_int(5) {
        v.as_text().ok_or("key 5 is not text")?;
    }
    Ok(ScannedQr {
        desktop_key,
        secret,
        known_assigned,
        supports_linking,
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

/// The post-handshake message (spec §9.1): bare CBOR `{1: getInfo, 3: ["ctap"]}`, no type byte.
pub(crate) fn post_handshake(get_info: Vec<u8>) -> Vec<u8> {
    Value::map()
        .insert(1, Value::Bytes(get_info))
        .insert(3, Value::Array(vec![Value::text("ctap")]))
        .build()
        .to_vec()
}

/// Linking information for an update message (spec §10.1), ready to encode.
pub struct LinkingInfo(Value);

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
    let signature = linking_signature(identity, desktop_key, handshake_hash)?;
    Ok(LinkingInfo(
        Value::map()
            .insert(1, Value::bytes(contact.as_bytes().to_vec()))
            .insert(2, Value::bytes(link_id.as_bytes().to_vec()))
            .insert(3, Value::bytes(secret.as_bytes().to_vec()))
            .insert(4, Value::bytes(identity.public_key().to_uncompressed().to_vec()))
            .insert(5, name)
            .insert(6, Value::bytes(signature.to_vec()))
            .build(),
    ))
}

/// `HMAC-SHA256(key = ECDH(identity, desktop_key).x, message = handshake_hash)`.
fn linking_signature(
    identity: &PrivateKey,
    desktop_key: &PublicKey,
    handshake_hash: &[u8; 32],
) -> Result<[u8; 32], String> {
    let secret = p256::SecretKey::from_slice(identity.to_bytes().as_slice()).map_err(|e| e.to_string())?;
    let peer = p256::PublicKey::from_sec1_bytes(&desktop_key.to_uncompressed()).map_err(|e| e.to_string())?;
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
    let key = Zeroizing::new(shared.raw_secret_bytes().to_vec());
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(handshake_hash);
    Ok(mac.finalize().into_bytes().into())
}

/// Size of an update message's plaintext before Crypter padding (spec §9.4).
const UPDATE_SIZE: usize = 512 - 16 - 1 - 3;

/// The update message (spec §9.4): `02 ‖ CBOR{0: zeros, 1: linking map}`, the padding sized so the
/// message length does not reveal whether linking happened.
pub(crate) fn update_message(link: Option<&LinkingInfo>) -> Vec<u8> {
    let link_len = link.map_or(0, |l| Value::map().insert(1, l.0.clone()).build().to_vec().len());
    let padding = UPDATE_SIZE.saturating_sub(link_len);
    let map = Value::map()
        .insert(0, Value::Bytes(vec![0; padding]))
        .insert_opt(1, link.map(|l| l.0.clone()))
        .build();
    let mut out = vec![MSG_UPDATE];
    out.extend_from_slice(&map.to_vec());
    out
}

const MSG_SHUTDOWN: u8 = 0;
const MSG_CTAP: u8 = 1;
const MSG_UPDATE: u8 = 2;
const MSG_JSON: u8 = 3;

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
    let (&kind, body) = plaintext.split_first().ok_or_else(|| SessionError::BadFrame {
        step: crate::error::Step::AwaitRequest,
        reason: "empty message".into(),
    })?;
    match kind {
        MSG_SHUTDOWN => Ok(Incoming::Shutdown),
        MSG_CTAP if body.is_empty() => Err(SessionError::UnexpectedMessage(
            "CTAP message without a command".into(),
        )),
        MSG_CTAP => Ok(Incoming::Ctap(body.to_vec())),
        MSG_UPDATE => Ok(Incoming::Update),
        // Only offered with the "dc" feature, which this phone does not advertise.
        MSG_JSON => Err(SessionError::UnexpectedMessage(
            "JSON message, but feature \"dc\" was not offered".into(),
        )),
        other => Err(SessionError::UnknownMessageType(other)),
    }
}

/// `01 ‖ response`.
pub(crate) fn ctap_message(response: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + response.len());
    out.push(MSG_CTAP);
    out.extend_from_slice(response);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_hybrid_proto::secrets::RootSecret;

    fn vectors() -> serde_json::Value {
        let text = include_str!("../../tests/data/hybrid-vectors.json");
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
        assert!(parse_qr("HTTP:/1").is_err());
        assert!(parse_qr("FIDO:/").is_err());
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
        let sig = linking_signature(&identity, &desktop, &hh).unwrap();
        assert_eq!(sig.to_vec(), h(v, "linking_signature"));
        let secret = root.paired_secret(&contact, &link_id);
        assert_eq!(secret.as_bytes().to_vec(), h(v, "paired_secret"));
        // The vector's linking map carries a name; its update message must match byte for byte.
        let expected = h(v, "update_plaintext_with_type_byte");
        let map = tandem_cbor::decode_canonical(&expected[1..]).unwrap();
        let name = map
            .get_int(1)
            .and_then(|l| l.get_int(5))
            .and_then(Value::as_text)
            .unwrap()
            .to_string();
        let info = linking_info(&contact, &link_id, &secret, &identity, &name, &desktop, &hh).unwrap();
        assert_eq!(update_message(Some(&info)), expected);
        // Padding-only: 512 bytes after Crypter padding, like the linked one.
        let plain = update_message(None);
        assert_eq!(tandem_hybrid_proto::crypter::pad(&plain).len(), 512);
        assert_eq!(tandem_hybrid_proto::crypter::pad(&expected).len(), 512);
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
