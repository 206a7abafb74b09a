//! Identifiers the tunnel service deals in: tunnel IDs, routing IDs and contact IDs.
//!
//! All three are parsed from untrusted request paths, so parsing is total (typed errors, no panics) and
//! the `Display` forms used in logs are truncated: a tunnel ID is derived from the QR secret and a contact
//! ID is a bearer token for the wake channel, so full values never reach the logs.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Why an identifier in a request path could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    /// The text is not hexadecimal of the expected length.
    #[error("expected {expected} hex digits")]
    BadHex {
        /// Number of hex digits expected.
        expected: usize,
    },
    /// The text is not unpadded base64url, or decodes to an empty or overlong value.
    #[error("contact id must be 1..={max} bytes of unpadded base64url")]
    BadContact {
        /// Largest accepted contact ID, in bytes.
        max: usize,
    },
}

fn parse_hex<const N: usize>(text: &str) -> Result<[u8; N], IdError> {
    let mut out = [0u8; N];
    // `hex` accepts both cases, which is what real clients need (Chromium emits upper case).
    if text.len() != 2 * N {
        return Err(IdError::BadHex { expected: 2 * N });
    }
    hex::decode_to_slice(text, &mut out).map_err(|_| IdError::BadHex { expected: 2 * N })?;
    Ok(out)
}

/// 16-byte tunnel ID (`/cable/new/<HEX>`); on the phone it is derived from the QR secret.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TunnelId(pub [u8; 16]);

impl TunnelId {
    /// Parses 32 hex digits (either case).
    pub fn from_hex(text: &str) -> Result<Self, IdError> {
        parse_hex(text).map(Self)
    }

    /// A fresh random tunnel ID (used for state-assisted tunnels the server allocates).
    pub(crate) fn random() -> Result<Self, getrandom::Error> {
        let mut id = [0u8; 16];
        getrandom::fill(&mut id)?;
        Ok(Self(id))
    }

    /// Upper-case hex, as Chromium writes it in paths.
    pub fn to_hex(&self) -> String {
        hex::encode_upper(self.0)
    }
}

/// Only the first 4 bytes, enough to correlate log lines without revealing the ID.
impl fmt::Display for TunnelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}…", hex::encode(&self.0[..4]))
    }
}

impl fmt::Debug for TunnelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TunnelId({self})")
    }
}

/// 3-byte routing ID. Byte 0 is the issuing server's instance ID so that a reverse proxy can route
/// `/cable/connect/<routing id>/…` to the instance holding the tunnel; bytes 1–2 are random.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub struct RoutingId(pub [u8; 3]);

impl RoutingId {
    /// Parses 6 hex digits (either case).
    pub fn from_hex(text: &str) -> Result<Self, IdError> {
        parse_hex(text).map(Self)
    }

    /// A routing ID for this instance: `[instance_id, random, random]`.
    pub(crate) fn for_instance(instance_id: u8) -> Result<Self, getrandom::Error> {
        let mut rnd = [0u8; 2];
        getrandom::fill(&mut rnd)?;
        Ok(Self([instance_id, rnd[0], rnd[1]]))
    }

    /// The instance ID this routing ID was issued by.
    pub fn instance_id(&self) -> u8 {
        self.0[0]
    }

    /// Upper-case hex, the form of the `X-caBLE-Routing-ID` header.
    pub fn to_hex(&self) -> String {
        hex::encode_upper(self.0)
    }
}

impl fmt::Display for RoutingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

/// Opaque contact ID (`/cable/contact/<base64url>`): the bearer token that names a phone's wake channel.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ContactId(Vec<u8>);

impl ContactId {
    /// Largest accepted contact ID in bytes (FCM registration tokens, the Google equivalent, are ~160).
    pub const MAX_LEN: usize = 512;

    /// Parses unpadded base64url (RFC 4648 §5) of 1..=[`Self::MAX_LEN`] bytes.
    pub fn from_base64url(text: &str) -> Result<Self, IdError> {
        let err = IdError::BadContact { max: Self::MAX_LEN };
        // Bound the work before decoding: 4 chars carry 3 bytes.
        if text.is_empty() || text.len() > Self::MAX_LEN.div_ceil(3) * 4 {
            return Err(err);
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| err)?;
        Self::from_bytes(bytes)
    }

    /// Wraps raw bytes, enforcing the length bounds.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, IdError> {
        if bytes.is_empty() || bytes.len() > Self::MAX_LEN {
            return Err(IdError::BadContact { max: Self::MAX_LEN });
        }
        Ok(Self(bytes))
    }

    /// The raw bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// Unpadded base64url, the form used in request paths.
    pub fn to_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.0)
    }
}

/// Only a short prefix: the contact ID is a bearer token for the wake channel.
impl fmt::Display for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.0.len().min(3);
        write!(f, "{}…", hex::encode(self.0.get(..end).unwrap_or_default()))
    }
}

impl fmt::Debug for ContactId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContactId({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_ids_accept_either_case() {
        let upper = TunnelId::from_hex("00112233445566778899AABBCCDDEEFF").unwrap();
        let lower = TunnelId::from_hex("00112233445566778899aabbccddeeff").unwrap();
        assert_eq!(upper, lower);
        assert_eq!(upper.0[15], 0xff);
        assert_eq!(upper.to_hex(), "00112233445566778899AABBCCDDEEFF");
        assert_eq!(RoutingId::from_hex("a1B2c3").unwrap().0, [0xa1, 0xb2, 0xc3]);
    }

    #[test]
    fn hex_ids_reject_bad_lengths_and_digits() {
        assert!(TunnelId::from_hex("0011").is_err());
        assert!(TunnelId::from_hex("00112233445566778899AABBCCDDEEFF00").is_err());
        assert!(TunnelId::from_hex("0011223344556677889gAABBCCDDEEFF").is_err());
        assert!(RoutingId::from_hex("0102").is_err());
        assert!(RoutingId::from_hex("01020z").is_err());
        // Multi-byte UTF-8 of the right byte length must not panic.
        assert!(RoutingId::from_hex("ééé").is_err());
    }

    #[test]
    fn routing_id_carries_instance() {
        let r = RoutingId::for_instance(0x42).unwrap();
        assert_eq!(r.instance_id(), 0x42);
    }

    #[test]
    fn contact_id_base64url() {
        let c = ContactId::from_base64url("AQID_-8").unwrap();
        assert_eq!(c.as_bytes(), &[1, 2, 3, 0xff, 0xef]);
        assert_eq!(c.to_base64url(), "AQID_-8");
        assert!(ContactId::from_base64url("").is_err());
        assert!(
            ContactId::from_base64url("AQID+/8").is_err(),
            "standard alphabet rejected"
        );
        assert!(ContactId::from_base64url("AQI=").is_err(), "padding rejected");
        let long = "A".repeat(1000);
        assert!(ContactId::from_base64url(&long).is_err());
    }

    #[test]
    fn display_is_truncated() {
        let t = TunnelId::from_hex("00112233445566778899AABBCCDDEEFF").unwrap();
        assert_eq!(t.to_string(), "00112233…");
        let c = ContactId::from_bytes(vec![9; 40]).unwrap();
        assert_eq!(c.to_string(), "090909…");
    }
}
