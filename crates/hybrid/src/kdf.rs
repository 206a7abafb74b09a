//! The one key-derivation function of the protocol (docs/hybrid-protocol.md#key-derivation).
//!
//! `Derive(secret, salt, purpose, L) = HKDF-SHA256(IKM = secret, salt, info = LE32(purpose), L)`.
//! The typed wrappers (`QrSecret::eid_key`, `PairedSecret::psk`, ...) live in [`crate::secrets`]; this module
//! only knows purposes and bytes.

use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

/// The purpose numbers (docs/hybrid-protocol.md#key-derivation); the HKDF `info` is the number as four
/// little-endian bytes (docs/hybrid-protocol.md#pitfall-hkdf-info).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum Purpose {
    /// 64-byte BLE advert key (AES-256 half, then HMAC-SHA256 half).
    EidKey = 1,
    /// 16-byte tunnel ID.
    TunnelId = 2,
    /// 32-byte Noise pre-shared key.
    Psk = 3,
    /// 32-byte long-term link secret.
    PairedSecret = 4,
    /// 32-byte seed of the phone's long-term identity key.
    IdentityKeySeed = 5,
    /// 32-byte per-contact-ID intermediate secret.
    PerContactIdSecret = 6,
}

impl Purpose {
    /// The HKDF `info` bytes: the purpose as a little-endian u32.
    pub fn info(self) -> [u8; 4] {
        (self as u32).to_le_bytes()
    }
}

/// `Derive(secret, salt, purpose, N)`. An empty salt is the RFC 5869 default (32 zero bytes).
#[allow(clippy::expect_used, reason = "the output length is bounded at compile time")]
pub fn derive<const N: usize>(secret: &[u8], salt: &[u8], purpose: Purpose) -> Zeroizing<[u8; N]> {
    // HKDF-SHA256 can produce at most 255 hash lengths; checked at compile time for every use.
    const { assert!(N <= 255 * 32) };
    let mut out = Zeroizing::new([0u8; N]);
    Hkdf::<Sha256>::new(Some(salt), secret)
        .expand(&purpose.info(), out.as_mut())
        .expect("output length is bounded at compile time");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn info_is_little_endian() {
        assert_eq!(Purpose::EidKey.info(), [1, 0, 0, 0]);
        assert_eq!(Purpose::PerContactIdSecret.info(), [6, 0, 0, 0]);
    }

    #[test]
    fn prefix_property_holds() {
        let long: Zeroizing<[u8; 64]> = derive(b"secret", b"salt", Purpose::EidKey);
        let short: Zeroizing<[u8; 16]> = derive(b"secret", b"salt", Purpose::EidKey);
        assert_eq!(&long[..16], &short[..]);
    }

    #[test]
    fn empty_salt_equals_zero_salt() {
        let a: Zeroizing<[u8; 32]> = derive(b"x", b"", Purpose::Psk);
        let b: Zeroizing<[u8; 32]> = derive(b"x", &[0u8; 32], Purpose::Psk);
        assert_eq!(a, b);
        let c: Zeroizing<[u8; 32]> = derive(b"x", &[0u8; 32], Purpose::PairedSecret);
        assert_ne!(a, c);
    }
}
