//! Identifiers that travel in URLs, headers, adverts and payloads (not secret).

use crate::random::{self, RandomError};
use base64::Engine as _;

/// Why an identifier could not be built from bytes or text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text is not hexadecimal.
    #[error("not a hexadecimal string")]
    NotHex,
    /// Wrong number of bytes.
    #[error("{what} must be {expected} bytes, got {got}")]
    Length {
        /// Which identifier.
        what: &'static str,
        /// Required length.
        expected: usize,
        /// Received length.
        got: usize,
    },
    /// An empty identifier where one is required.
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

fn fixed<const N: usize>(what: &'static str, bytes: &[u8]) -> Result<[u8; N], IdError> {
    <[u8; N]>::try_from(bytes).map_err(|_| IdError::Length {
        what,
        expected: N,
        got: bytes.len(),
    })
}

fn from_hex<const N: usize>(what: &'static str, text: &str) -> Result<[u8; N], IdError> {
    let bytes = hex::decode(text).map_err(|_| IdError::NotHex)?;
    fixed(what, &bytes)
}

macro_rules! fixed_id {
    ($(#[$m:meta])* $name:ident, $len:expr, $what:expr) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Length in bytes.
            pub const LEN: usize = $len;

            /// Wraps raw bytes.
            pub const fn from_bytes(bytes: [u8; $len]) -> Self {
                Self(bytes)
            }

            /// Copies from a slice of exactly [`Self::LEN`] bytes.
            pub fn from_slice(bytes: &[u8]) -> Result<Self, IdError> {
                fixed($what, bytes).map(Self)
            }

            /// Parses hexadecimal text (either case) of exactly [`Self::LEN`] bytes.
            pub fn from_hex(text: &str) -> Result<Self, IdError> {
                from_hex($what, text).map(Self)
            }

            /// Fresh random bytes from the OS.
            pub fn generate() -> Result<Self, RandomError> {
                random::array().map(Self)
            }

            /// The raw bytes.
            pub const fn as_bytes(&self) -> &[u8; $len] {
                &self.0
            }

            /// Upper-case hexadecimal, as Chromium writes identifiers into URLs and headers.
            pub fn to_hex(&self) -> String {
                hex::encode_upper(self.0)
            }
        }
    };
}

fixed_id!(
    /// 16-byte tunnel ID (`Derive(qr_secret, "", 2, 16)`), naming the tunnel at the tunnel service
    /// (docs/hybrid-protocol.md#key-derivation, docs/hybrid-protocol.md#tunnel-websocket).
    TunnelId,
    16,
    "tunnel ID"
);
fixed_id!(
    /// 3-byte routing ID chosen by the tunnel service (`X-caBLE-Routing-ID`), carried in the advert
    /// (docs/hybrid-protocol.md#advert-eid).
    RoutingId,
    3,
    "routing ID"
);
fixed_id!(
    /// 10-byte per-session connection nonce in the advert plaintext (docs/hybrid-protocol.md#advert-eid).
    ConnectionNonce,
    10,
    "connection nonce"
);
fixed_id!(
    /// 16-byte client nonce of a state-assisted transaction: the salt of its EID key
    /// (docs/hybrid-protocol.md#state-assisted).
    ClientNonce,
    16,
    "client nonce"
);
fixed_id!(
    /// 8-byte link ("pairing") ID of a linked desktop (docs/hybrid-protocol.md#linking-map key 2).
    LinkId,
    8,
    "link ID"
);

/// Opaque handle the tunnel service uses to wake the phone (docs/hybrid-protocol.md#linking-map key 1;
/// Google: FCM token bytes).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ContactId(Vec<u8>);

impl ContactId {
    /// Wraps non-empty bytes.
    pub fn new(bytes: Vec<u8>) -> Result<Self, IdError> {
        if bytes.is_empty() {
            return Err(IdError::Empty("contact ID"));
        }
        Ok(Self(bytes))
    }

    /// `len` (at least 1) fresh random bytes from the OS: a phone's new contact ID.
    pub fn generate(len: usize) -> Result<Self, RandomError> {
        let mut bytes = vec![0; len.max(1)];
        random::fill(&mut bytes)?;
        Ok(Self(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Base64url without padding, as used in `/cable/contact/<...>`
    /// (docs/hybrid-protocol.md#tunnel-websocket).
    pub fn to_base64url(&self) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_case() {
        let r = RoutingId::from_hex("0a0B0c").unwrap();
        assert_eq!(r.as_bytes(), &[0x0a, 0x0b, 0x0c]);
        assert_eq!(r.to_hex(), "0A0B0C");
        assert!(matches!(RoutingId::from_hex("0a0b"), Err(IdError::Length { .. })));
        assert_eq!(RoutingId::from_hex("zz0b0c"), Err(IdError::NotHex));
    }

    #[test]
    fn contact_id_rules() {
        assert!(ContactId::new(Vec::new()).is_err());
        assert_eq!(
            ContactId::new(b"example-contact-id".to_vec())
                .unwrap()
                .to_base64url(),
            "ZXhhbXBsZS1jb250YWN0LWlk"
        );
    }
}
