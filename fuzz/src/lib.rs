//! Shared fixtures for the fuzz targets: keys and secrets from the derived QR session in
//! tests/data/hybrid-vectors.json, so targets reach the code behind MAC/AEAD checks with real keys.

use std::sync::OnceLock;

/// The derived QR-initiated session's values (hex-decoded on first use).
pub struct Session {
    /// Desktop identity private scalar.
    pub desktop_identity_private: [u8; 32],
    /// Desktop identity public key, uncompressed.
    pub desktop_identity_public: Vec<u8>,
    /// Phone ephemeral private scalar.
    pub phone_ephemeral_private: [u8; 32],
    /// Desktop ephemeral private scalar.
    pub desktop_ephemeral_private: [u8; 32],
    /// Noise PSK.
    pub psk: [u8; 32],
    /// EID key (AES ‖ HMAC).
    pub eid_key: [u8; 64],
    /// Desktop→phone traffic key.
    pub key_d2p: [u8; 32],
    /// Phone→desktop traffic key.
    pub key_p2d: [u8; 32],
    /// Handshake hash.
    pub handshake_hash: [u8; 32],
    /// Phone identity private scalar (state-assisted responder).
    pub phone_identity_private: [u8; 32],
}

fn field<const N: usize>(v: &serde_json::Value, name: &str) -> [u8; N] {
    let text = v[name]
        .as_str()
        .unwrap_or_else(|| panic!("vector field {name} missing"));
    let bytes = hex::decode(text).unwrap_or_else(|e| panic!("vector field {name}: {e}"));
    bytes
        .try_into()
        .unwrap_or_else(|_| panic!("vector field {name} has the wrong length"))
}

/// The fixture, parsed once per process.
pub fn session() -> &'static Session {
    static SESSION: OnceLock<Session> = OnceLock::new();
    SESSION.get_or_init(|| {
        let all: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/data/hybrid-vectors.json"))
                .expect("vectors parse");
        let s = &all["derived_qr_initiated_session"];
        Session {
            desktop_identity_private: field(s, "desktop_identity_private"),
            desktop_identity_public: field::<65>(s, "desktop_identity_public_uncompressed").to_vec(),
            phone_ephemeral_private: field(s, "phone_ephemeral_private"),
            desktop_ephemeral_private: field(s, "desktop_ephemeral_private"),
            psk: field(s, "psk"),
            eid_key: field(s, "eid_key"),
            key_d2p: field(s, "traffic_key_desktop_to_phone"),
            key_p2d: field(s, "traffic_key_phone_to_desktop"),
            handshake_hash: field(s, "handshake_hash"),
            phone_identity_private: field(s, "phone_identity_private"),
        }
    })
}
