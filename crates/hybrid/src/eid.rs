//! The BLE advert (docs/hybrid-protocol.md#advert): a 16-byte EID plaintext, AES-256 encrypted as one block,
//! plus a 4-byte truncated HMAC tag over the ciphertext — 20 bytes of service data.

use crate::domain::{DomainError, DomainId};
use crate::ids::{ConnectionNonce, RoutingId};
use crate::mac::hmac_sha256;
use crate::random::{self, RandomError};
use aes::Aes256;
use aes::cipher::{BlockCipherDecrypt, BlockCipherEncrypt, KeyInit};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Bytes of service data in an advert.
pub const ADVERT_LEN: usize = 20;
/// FIDO Alliance 16-bit service UUID carrying adverts (preferred).
pub const FIDO_SERVICE_UUID: u16 = 0xFFF9;
/// Google's legacy 16-bit service UUID (older Chromium phones, iOS 16); desktops scan both.
pub const GOOGLE_SERVICE_UUID: u16 = 0xFDE2;

/// Why a plaintext or advert is not for us. Receivers treat every variant as "not for me" (adverts of
/// other sessions are normal); the variants exist for diagnostics and tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AdvertError {
    /// Service data that is not exactly 20 bytes.
    #[error("advert must be {ADVERT_LEN} bytes, got {0}")]
    Length(usize),
    /// The HMAC tag does not match: another session's advert (or corrupted).
    #[error("advert tag mismatch")]
    TagMismatch,
    /// Reserved byte 0 of the plaintext is not zero.
    #[error("reserved EID byte is {0:#04x}, must be 0")]
    Reserved(u8),
    /// The domain ID is in the unassigned range.
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// The 16-byte EID plaintext: `00 ‖ nonce(10) ‖ routing ID(3) ‖ domain ID(2, LE)`. Always valid by
/// construction (reserved byte zero, domain ID valid). Its exact bytes salt the PSK
/// (docs/hybrid-protocol.md#pitfall-psk-salt).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct EidPlaintext([u8; 16]);

impl EidPlaintext {
    /// A QR-session plaintext.
    pub fn new(nonce: &ConnectionNonce, routing_id: &RoutingId, domain: DomainId) -> Self {
        let mut b = [0u8; 16];
        b[1..11].copy_from_slice(nonce.as_bytes());
        b[11..14].copy_from_slice(routing_id.as_bytes());
        b[14..16].copy_from_slice(&domain.to_le_bytes());
        EidPlaintext(b)
    }

    /// A fresh QR-session plaintext with a random connection nonce.
    pub fn generate(routing_id: &RoutingId, domain: DomainId) -> Result<Self, RandomError> {
        Ok(Self::new(&ConnectionNonce::generate()?, routing_id, domain))
    }

    /// A fresh state-assisted plaintext: bytes 1–13 random (routing data is not needed there), bytes
    /// 14–15 the real domain ID. Chromium's phone randomises 14–15 too, which makes desktops drop ≈0.4 % of
    /// its adverts (docs/hybrid-protocol.md#pitfall-linked-advert-domain); writing the real ID avoids that.
    pub fn generate_state_assisted(domain: DomainId) -> Result<Self, RandomError> {
        let mut b = [0u8; 16];
        random::fill(&mut b[1..14])?;
        b[14..16].copy_from_slice(&domain.to_le_bytes());
        Ok(EidPlaintext(b))
    }

    /// Validates raw plaintext bytes (byte 0 zero, domain ID valid).
    pub fn from_bytes(bytes: [u8; 16]) -> Result<Self, AdvertError> {
        if bytes[0] != 0 {
            return Err(AdvertError::Reserved(bytes[0]));
        }
        DomainId::from_le_bytes([bytes[14], bytes[15]])?;
        Ok(EidPlaintext(bytes))
    }

    /// The 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }

    /// Bytes 1–10.
    pub fn nonce(&self) -> ConnectionNonce {
        let mut n = [0u8; 10];
        n.copy_from_slice(&self.0[1..11]);
        ConnectionNonce::from_bytes(n)
    }

    /// Bytes 11–13 (meaningless in state-assisted adverts).
    pub fn routing_id(&self) -> RoutingId {
        RoutingId::from_bytes([self.0[11], self.0[12], self.0[13]])
    }

    /// Bytes 14–15.
    pub fn domain(&self) -> DomainId {
        // Validated at construction; the fallback is unreachable.
        DomainId::from_le_bytes([self.0[14], self.0[15]]).unwrap_or(DomainId::GOOGLE)
    }
}

/// The 20 bytes of service data on the air: `AES-ECB(plaintext) ‖ HMAC(ciphertext)[0..4]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Advert(pub [u8; ADVERT_LEN]);

impl Advert {
    /// The 20 bytes.
    pub fn as_bytes(&self) -> &[u8; ADVERT_LEN] {
        &self.0
    }
}

/// The 64-byte BLE advert key: bytes 0–31 are the AES-256 key, 32–63 the HMAC-SHA256 key
/// (docs/hybrid-protocol.md#advert-encryption).
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct EidKey {
    pub(crate) aes: [u8; 32],
    pub(crate) mac: [u8; 32],
}

impl EidKey {
    /// Length in bytes.
    pub const LEN: usize = 64;

    /// Wraps the 64 raw bytes.
    pub fn from_bytes(bytes: &[u8; 64]) -> Self {
        let (aes, mac) = bytes.split_at(32);
        let mut key = EidKey {
            aes: [0; 32],
            mac: [0; 32],
        };
        key.aes.copy_from_slice(aes);
        key.mac.copy_from_slice(mac);
        key
    }

    /// The 64 raw bytes (AES half first).
    pub fn to_bytes(&self) -> Zeroizing<[u8; 64]> {
        let mut out = Zeroizing::new([0u8; 64]);
        let (aes, mac) = out.split_at_mut(32);
        aes.copy_from_slice(&self.aes);
        mac.copy_from_slice(&self.mac);
        out
    }
}

impl PartialEq for EidKey {
    /// Constant-time comparison.
    fn eq(&self, other: &Self) -> bool {
        (self.aes.ct_eq(&other.aes) & self.mac.ct_eq(&other.mac)).into()
    }
}
impl Eq for EidKey {}

impl std::fmt::Debug for EidKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EidKey(<redacted>)")
    }
}

impl EidKey {
    fn tag(&self, ciphertext: &[u8; 16]) -> [u8; 4] {
        let full = hmac_sha256(&self.mac, ciphertext);
        [full[0], full[1], full[2], full[3]]
    }

    /// Encrypts a plaintext into an advert (phone role).
    pub fn encrypt(&self, plaintext: &EidPlaintext) -> Advert {
        let cipher = Aes256::new(&self.aes.into());
        let mut block = plaintext.0.into();
        cipher.encrypt_block(&mut block);
        let ciphertext: [u8; 16] = block.into();
        let mut out = [0u8; ADVERT_LEN];
        out[..16].copy_from_slice(&ciphertext);
        out[16..].copy_from_slice(&self.tag(&ciphertext));
        Advert(out)
    }

    /// Trial-decrypts service data (desktop role), in Chromium's order: length, tag (constant time),
    /// decrypt, reserved byte, domain ID.
    pub fn trial_decrypt(&self, service_data: &[u8]) -> Result<EidPlaintext, AdvertError> {
        let advert: &[u8; ADVERT_LEN] = service_data
            .try_into()
            .map_err(|_| AdvertError::Length(service_data.len()))?;
        let (ct, tag) = advert.split_at(16);
        let mut ciphertext = [0u8; 16];
        ciphertext.copy_from_slice(ct);
        if !bool::from(self.tag(&ciphertext).ct_eq(tag)) {
            return Err(AdvertError::TagMismatch);
        }
        let cipher = Aes256::new(&self.aes.into());
        let mut block = ciphertext.into();
        cipher.decrypt_block(&mut block);
        EidPlaintext::from_bytes(block.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn key() -> EidKey {
        EidKey::from_bytes(&[0x42; 64])
    }

    #[test]
    fn receiver_checks() {
        let k = key();
        let good = EidPlaintext::new(
            &ConnectionNonce::from_bytes([1; 10]),
            &RoutingId::from_bytes([2; 3]),
            DomainId::APPLE,
        );
        let advert = k.encrypt(&good);
        assert_eq!(k.trial_decrypt(&advert.0).unwrap(), good);
        assert_eq!(k.trial_decrypt(&advert.0[..19]), Err(AdvertError::Length(19)));
        let mut bad = advert.0;
        bad[19] ^= 1;
        assert_eq!(k.trial_decrypt(&bad), Err(AdvertError::TagMismatch));
        assert_eq!(
            EidKey::from_bytes(&[0x43; 64]).trial_decrypt(&advert.0),
            Err(AdvertError::TagMismatch)
        );

        // A correctly tagged advert whose plaintext is invalid must be rejected after decryption.
        let mut raw = *good.as_bytes();
        raw[0] = 1;
        let forged = k.encrypt(&EidPlaintext(raw));
        assert_eq!(k.trial_decrypt(&forged.0), Err(AdvertError::Reserved(1)));
        let mut raw = *good.as_bytes();
        raw[14] = 7;
        let forged = k.encrypt(&EidPlaintext(raw));
        assert_eq!(
            k.trial_decrypt(&forged.0),
            Err(AdvertError::Domain(DomainError(7)))
        );
    }

    #[test]
    fn state_assisted_keeps_domain() {
        let d = DomainId::new(0xf980).unwrap();
        for _ in 0..16 {
            let p = EidPlaintext::generate_state_assisted(d).unwrap();
            assert_eq!(p.as_bytes()[0], 0);
            assert_eq!(p.domain(), d);
        }
    }

    proptest! {
        #[test]
        fn trial_decrypt_never_panics(data in proptest::collection::vec(any::<u8>(), 0..40)) {
            let r = key().trial_decrypt(&data);
            if data.len() != ADVERT_LEN {
                prop_assert_eq!(r, Err(AdvertError::Length(data.len())));
            }
        }

        #[test]
        fn round_trip(nonce: [u8; 10], routing: [u8; 3], domain in prop_oneof![0u16..2, 256u16..=u16::MAX],
                      raw_key: [u8; 32]) {
            let mut kb = [0u8; 64];
            kb[..32].copy_from_slice(&raw_key);
            kb[32..].copy_from_slice(&raw_key);
            let k = EidKey::from_bytes(&kb);
            let p = EidPlaintext::new(&ConnectionNonce::from_bytes(nonce), &RoutingId::from_bytes(routing),
                                      DomainId::new(domain).unwrap());
            let decrypted = k.trial_decrypt(k.encrypt(&p).as_bytes()).unwrap();
            prop_assert_eq!(decrypted, p);
            prop_assert_eq!(*decrypted.nonce().as_bytes(), nonce);
            prop_assert_eq!(*decrypted.routing_id().as_bytes(), routing);
            prop_assert_eq!(decrypted.domain().raw(), domain);
        }
    }
}
