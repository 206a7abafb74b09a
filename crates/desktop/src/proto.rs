//! The protocol operations the desktop peer sequences, on top of `tandem-hybrid`: QR generation, the
//! Noise initiator, message framing (docs/hybrid-protocol.md#messages) and verification of linking
//! information (docs/hybrid-protocol.md#linking-map).

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tandem_cbor::Value;
use tandem_hybrid::crypter::Crypter;
use tandem_hybrid::domain::DomainId;
use tandem_hybrid::ids::{ClientNonce, LinkId};
use tandem_hybrid::keys::{PrivateKey, PublicKey};
use tandem_hybrid::noise::{HandshakeHash, InitiatorHandshake};
use tandem_hybrid::secrets::{Psk, QrSecret};
use zeroize::Zeroizing;

use crate::error::{DesktopError, DesktopStep};
use crate::session::StoredLink;

/// Number of assigned tunnel domains this desktop knows (QR key 2).
pub const KNOWN_ASSIGNED_DOMAINS: u64 = 2;

/// The `FIDO:/…` URL: CBOR `{0: compressed key, 1: secret, 2: 2, 3: now, 4: linking, 5: hint}` in digits.
pub fn qr_url(identity: &PublicKey, secret: &QrSecret, hint: &str, linking: bool) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let cbor = Value::map()
        .insert(0, Value::bytes(identity.to_compressed().to_vec()))
        .insert(1, Value::bytes(secret.as_bytes().to_vec()))
        .insert(2, KNOWN_ASSIGNED_DOMAINS)
        .insert(3, now)
        .insert(4, linking)
        .insert(5, hint)
        .build()
        .to_vec();
    format!("FIDO:/{}", tandem_hybrid::digits::encode(&cbor))
}

/// A handshake waiting for the phone's response.
pub struct Initiator(InitiatorHandshake);

impl Initiator {
    /// Processes message 2 (exactly 81 bytes) and returns the transport encryption.
    pub fn finish(self, msg2: &[u8]) -> Result<Crypter, String> {
        self.0.read_msg2(msg2).map_err(|e| e.to_string())
    }
}

/// Starts a QR session's `KNpsk0` handshake: returns the state and message 1.
pub fn initiate_qr(psk: &Psk, identity: &PrivateKey) -> Result<(Initiator, Vec<u8>), String> {
    let (hs, msg1) = InitiatorHandshake::qr(identity, psk).map_err(|e| e.to_string())?;
    Ok((Initiator(hs), msg1.to_vec()))
}

/// Starts a linked session's `NKpsk0` handshake with the phone's identity key.
pub fn initiate_linked(psk: &Psk, phone_identity: &PublicKey) -> Result<(Initiator, Vec<u8>), String> {
    let (hs, msg1) = InitiatorHandshake::state_assisted(phone_identity, psk).map_err(|e| e.to_string())?;
    Ok((Initiator(hs), msg1.to_vec()))
}

/// Checks the post-handshake message and returns the getInfo CBOR. Revision 1 only: the plaintext must be one
/// canonical CBOR map; "ctap" must be offered and getInfo present (docs/hybrid-protocol.md#post-handshake)
/// and acceptable to Chromium's getInfo parser ([`crate::get_info::check`]).
pub fn parse_post_handshake(plaintext: &[u8]) -> Result<Vec<u8>, String> {
    let map =
        tandem_cbor::decode_canonical(plaintext).map_err(|e| format!("not one canonical CBOR item: {e}"))?;
    if map.as_map().is_none() {
        return Err("not a map".into());
    }
    let features: Vec<&str> = match map.get_int(3) {
        None => vec!["ctap"],
        Some(v) => v
            .as_array()
            .ok_or("key 3 (features) is not an array")?
            .iter()
            .map(|f| f.as_text().ok_or("a feature is not text"))
            .collect::<Result<_, _>>()?,
    };
    if !features.contains(&"ctap") {
        return Err("the phone does not offer \"ctap\"".into());
    }
    let info = map
        .get_int(1)
        .and_then(Value::as_bytes)
        .ok_or("key 1 (getInfo) missing or not bytes")?;
    let parsed = tandem_cbor::decode_canonical(info).map_err(|e| format!("getInfo: {e}"))?;
    // Refuse what Chrome refuses, so no test passes with a getInfo that real desktops drop.
    crate::get_info::check(&parsed).map_err(|e| e.to_string())?;
    Ok(info.to_vec())
}

/// Linking information as received, before verification.
#[derive(Clone)]
pub struct ReceivedLink {
    contact_id: Vec<u8>,
    link_id: Vec<u8>,
    secret: Vec<u8>,
    identity: Vec<u8>,
    name: String,
    signature: Vec<u8>,
}

impl std::fmt::Debug for ReceivedLink {
    /// Never prints the link secret (it lets its holder wake the phone and start sessions).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceivedLink")
            .field("contact_id", &self.contact_id)
            .field("link_id", &self.link_id)
            .field("secret", &format_args!("<{} bytes redacted>", self.secret.len()))
            .field("identity", &self.identity)
            .field("name", &self.name)
            .field("signature", &self.signature)
            .finish()
    }
}

/// A message from the phone after the post-handshake message.
pub enum Incoming {
    /// `01 ‖ status ‖ CBOR`.
    Ctap(Vec<u8>),
    /// `02 ‖ CBOR`, with the linking map if it carried one.
    Update(Option<ReceivedLink>),
}

const MSG_SHUTDOWN: u8 = 0;
const MSG_CTAP: u8 = 1;
const MSG_UPDATE: u8 = 2;
const MSG_JSON: u8 = 3;

/// Splits the type byte off a decrypted message from the phone.
pub fn parse_incoming(plaintext: &[u8]) -> Result<Incoming, DesktopError> {
    let step = DesktopStep::AwaitResponse;
    let (&kind, body) = plaintext.split_first().ok_or_else(|| DesktopError::BadFrame {
        step,
        reason: "empty message".into(),
    })?;
    match kind {
        MSG_CTAP if body.is_empty() => Err(DesktopError::UnexpectedMessage(
            "CTAP reply without a status".into(),
        )),
        MSG_CTAP => Ok(Incoming::Ctap(body.to_vec())),
        MSG_UPDATE => parse_update(body).map(Incoming::Update),
        // Chromium treats a shutdown from the phone as an error (docs/hybrid-protocol.md#message-types).
        MSG_SHUTDOWN => Err(DesktopError::UnexpectedMessage("shutdown from the phone".into())),
        MSG_JSON => Err(DesktopError::UnexpectedMessage(
            "JSON message without a JSON request".into(),
        )),
        other => Err(DesktopError::UnknownMessageType(other)),
    }
}

fn parse_update(body: &[u8]) -> Result<Option<ReceivedLink>, DesktopError> {
    let bad = |why: String| DesktopError::Linking(why);
    let map = tandem_cbor::decode_canonical(body).map_err(|e| bad(format!("update CBOR: {e}")))?;
    let Some(link) = map.get_int(1) else {
        return Ok(None);
    };
    let bytes = |k: i128, what: &str| {
        link.get_int(k)
            .and_then(Value::as_bytes)
            .map(<[u8]>::to_vec)
            .ok_or_else(|| bad(format!("{what} missing")))
    };
    Ok(Some(ReceivedLink {
        contact_id: bytes(1, "contact ID (1)")?,
        link_id: bytes(2, "link ID (2)")?,
        secret: bytes(3, "link secret (3)")?,
        identity: bytes(4, "identity key (4)")?,
        name: link
            .get_int(5)
            .and_then(Value::as_text)
            .ok_or_else(|| bad("name (5) missing".into()))?
            .to_string(),
        signature: bytes(6, "signature (6)")?,
    }))
}

/// Verifies the linking signature with the QR key and returns the link to keep.
pub fn verify_link(
    link: &ReceivedLink,
    qr_key: &PrivateKey,
    handshake_hash: &HandshakeHash,
    domain: DomainId,
) -> Result<StoredLink, String> {
    let identity = PublicKey::from_uncompressed(&link.identity).map_err(|e| format!("identity key: {e}"))?;
    if link.link_id.len() != LinkId::LEN || link.secret.len() != 32 || link.contact_id.is_empty() {
        return Err("link ID, secret or contact ID has the wrong length".into());
    }
    let secret = p256::SecretKey::from_slice(qr_key.to_bytes().as_slice()).map_err(|e| e.to_string())?;
    let peer = p256::PublicKey::from_sec1_bytes(&identity.to_uncompressed()).map_err(|e| e.to_string())?;
    let shared = p256::ecdh::diffie_hellman(secret.to_nonzero_scalar(), peer.as_affine());
    let key = Zeroizing::new(shared.raw_secret_bytes().to_vec());
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&key).map_err(|e| e.to_string())?;
    mac.update(handshake_hash.as_bytes());
    mac.verify_slice(&link.signature)
        .map_err(|_| "the linking signature does not verify".to_string())?;
    Ok(StoredLink {
        contact_id: hex::encode(&link.contact_id),
        link_id: hex::encode(&link.link_id),
        link_secret: hex::encode(&link.secret),
        identity_key: hex::encode(&link.identity),
        name: link.name.clone(),
        domain_id: domain.raw(),
    })
}

/// `01 ‖ request`.
pub fn ctap_message(request: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + request.len());
    out.push(MSG_CTAP);
    out.extend_from_slice(request);
    out
}

/// `00`.
pub fn shutdown_message() -> Vec<u8> {
    vec![MSG_SHUTDOWN]
}

/// The state-assisted client payload `{1: link id, 2: client nonce, 3: hint}`.
pub fn client_payload(link_id: &LinkId, nonce: &ClientNonce, hint: &str) -> Vec<u8> {
    Value::map()
        .insert(1, Value::bytes(link_id.as_bytes().to_vec()))
        .insert(2, Value::bytes(nonce.as_bytes().to_vec()))
        .insert(3, hint)
        .build()
        .to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn links_debug_redacts_the_link_secret() {
        let secret = vec![0xa5, 0x5a, 0x13, 0x37, 0xc3, 0x3c, 0x99, 0x66];
        let received = ReceivedLink {
            contact_id: vec![1; 4],
            link_id: vec![2; 8],
            secret: secret.clone(),
            identity: vec![4; 65],
            name: "phone".into(),
            signature: vec![5; 32],
        };
        let stored = crate::session::StoredLink {
            contact_id: "01".into(),
            link_id: "02".into(),
            link_secret: hex::encode(&secret),
            identity_key: "04".into(),
            name: "phone".into(),
            domain_id: 0,
        };
        for printed in [
            format!("{received:?} {received:#?}"),
            format!("{stored:?} {stored:#?}"),
        ] {
            assert!(printed.contains("redacted"));
            assert!(!leaks(&printed, &secret), "{printed}");
        }
    }

    fn vectors() -> serde_json::Value {
        serde_json::from_str(include_str!("../../../tests/data/hybrid-vectors.json")).unwrap()
    }

    fn h(v: &serde_json::Value, k: &str) -> Vec<u8> {
        hex::decode(v[k].as_str().unwrap()).unwrap()
    }

    #[test]
    fn vector_update_verifies() {
        let v = &vectors()["derived_qr_initiated_session"];
        let update = h(v, "update_plaintext_with_type_byte");
        let Ok(Incoming::Update(Some(link))) = parse_incoming(&update) else {
            panic!("no linking map")
        };
        let qr_key = PrivateKey::from_bytes(&h(v, "desktop_identity_private").try_into().unwrap()).unwrap();
        let hh = HandshakeHash::from_bytes(h(v, "handshake_hash").try_into().unwrap());
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
        assert!(matches!(parse_incoming(&[2, 0xa0]), Ok(Incoming::Update(None))));
    }

    #[test]
    fn qr_round_trip_shape() {
        let key = PrivateKey::generate().unwrap();
        let secret = QrSecret::generate().unwrap();
        let url = qr_url(&key.public_key(), &secret, "mc", true);
        let bytes = tandem_hybrid::digits::decode(url.strip_prefix("FIDO:/").unwrap()).unwrap();
        let map = tandem_cbor::decode_canonical(&bytes).unwrap();
        assert_eq!(
            map.get_int(1).and_then(Value::as_bytes),
            Some(secret.as_bytes().as_slice())
        );
        assert_eq!(map.get_int(5).and_then(Value::as_text), Some("mc"));
    }
}
