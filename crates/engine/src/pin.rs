//! PIN/UV auth protocols 1 and 2 (CTAP 2.1 §6.5.6, §6.5.7): key agreement, shared secret, encrypt, decrypt,
//! authenticate. Used by ClientPIN (pinUvAuthToken) and by hmac-secret.

use aes::Aes256;
use cbc::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyIvInit, block_padding::NoPadding};
use hkdf::Hkdf;
use hmac::{Hmac, KeyInit, Mac};
use p256::elliptic_curve::sec1::ToSec1Point;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use tandem_cbor::Value;
use zeroize::Zeroizing;

use crate::env::{OsRandom, RandomSource, random_bytes};
use crate::status::EngineError;

/// A PIN/UV auth protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PinProtocol {
    /// Protocol one: SHA-256 shared secret, zero IV, 16-byte HMAC tags.
    One,
    /// Protocol two: HKDF-derived HMAC and AES keys, random IV, 32-byte HMAC tags.
    Two,
}

impl PinProtocol {
    /// Maps the wire number; an unsupported number is CTAP1_ERR_INVALID_PARAMETER.
    pub fn from_wire(n: u64) -> Result<Self, EngineError> {
        match n {
            1 => Ok(PinProtocol::One),
            2 => Ok(PinProtocol::Two),
            _ => Err(EngineError::InvalidParameter("unsupported pinUvAuthProtocol")),
        }
    }

    /// The wire number.
    pub fn wire(self) -> u64 {
        match self {
            PinProtocol::One => 1,
            PinProtocol::Two => 2,
        }
    }

    /// `authenticate(key, message)`: HMAC-SHA-256, truncated to 16 bytes in protocol one. Protocol two uses only
    /// the first 32 bytes of a longer key (the HMAC half of a shared secret).
    pub fn authenticate(self, key: &[u8], message: &[u8]) -> Vec<u8> {
        let key = match self {
            PinProtocol::One => key,
            PinProtocol::Two => key.get(..32).unwrap_or(key),
        };
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts any key length");
        mac.update(message);
        let tag = mac.finalize().into_bytes().to_vec();
        match self {
            PinProtocol::One => tag[..16].to_vec(),
            PinProtocol::Two => tag,
        }
    }

    /// `verify(key, message, signature)` in constant time.
    pub fn verify(self, key: &[u8], message: &[u8], signature: &[u8]) -> bool {
        let expected = self.authenticate(key, message);
        expected.len() == signature.len() && bool::from(expected.ct_eq(signature))
    }
}

/// The authenticator's key-agreement key pair (regenerated per [`crate::Authenticator`] instance, i.e. per
/// power cycle / session).
pub struct KeyAgreementKey {
    secret: p256::SecretKey,
}

impl std::fmt::Debug for KeyAgreementKey {
    /// Never prints the private scalar.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyAgreementKey(<redacted>)")
    }
}

impl KeyAgreementKey {
    /// A fresh key pair from the OS CSPRNG.
    pub fn generate() -> Result<Self, EngineError> {
        Self::generate_with(&OsRandom)
    }

    /// A fresh key pair from `random`.
    pub fn generate_with(random: &dyn RandomSource) -> Result<Self, EngineError> {
        loop {
            let bytes = random_bytes::<32>(random)?;
            if let Ok(secret) = p256::SecretKey::from_slice(bytes.as_ref()) {
                return Ok(KeyAgreementKey { secret });
            }
        }
    }

    /// The public key as the COSE_Key getKeyAgreement returns (kty EC2, alg -25, crv P-256).
    pub fn cose_public(&self) -> Value {
        let point = self.secret.public_key().to_sec1_point(false);
        let bytes = point.as_bytes();
        Value::map()
            .insert(1, 2)
            .insert(3, -25)
            .insert(-1, 1)
            .insert(-2, Value::bytes(bytes.get(1..33).unwrap_or_default()))
            .insert(-3, Value::bytes(bytes.get(33..65).unwrap_or_default()))
            .build()
    }

    /// `decapsulate(peerCoseKey)` followed by the protocol's KDF.
    pub fn shared_secret(&self, protocol: PinProtocol, peer: &Value) -> Result<SharedSecret, EngineError> {
        let bad = || EngineError::InvalidParameter("keyAgreement is not a P-256 COSE key");
        if peer.as_map().is_none() {
            return Err(EngineError::UnexpectedType("keyAgreement"));
        }
        if peer.get_int(1).and_then(Value::as_int) != Some(2)
            || peer.get_int(-1).and_then(Value::as_int) != Some(1)
        {
            return Err(bad());
        }
        let x = peer.get_int(-2).and_then(Value::as_bytes).ok_or_else(bad)?;
        let y = peer.get_int(-3).and_then(Value::as_bytes).ok_or_else(bad)?;
        if x.len() != 32 || y.len() != 32 {
            return Err(bad());
        }
        let mut sec1 = vec![0x04];
        sec1.extend_from_slice(x);
        sec1.extend_from_slice(y);
        let public = p256::PublicKey::from_sec1_bytes(&sec1).map_err(|_| bad())?;
        let shared = p256::ecdh::diffie_hellman(self.secret.to_nonzero_scalar(), public.as_affine());
        let z = Zeroizing::new(shared.raw_secret_bytes().to_vec());
        Ok(SharedSecret::derive(protocol, &z))
    }
}

/// A shared secret from key agreement, for one protocol.
pub struct SharedSecret {
    protocol: PinProtocol,
    /// Protocol one: 32 bytes. Protocol two: HMAC key (32) ‖ AES key (32).
    bytes: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for SharedSecret {
    /// Names the protocol only; the bytes are the session's HMAC and AES keys.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSecret")
            .field("protocol", &self.protocol)
            .field("bytes", &format_args!("<{} bytes redacted>", self.bytes.len()))
            .finish()
    }
}

impl SharedSecret {
    /// The protocol's KDF over the ECDH x-coordinate `z`.
    pub fn derive(protocol: PinProtocol, z: &[u8]) -> Self {
        let bytes = match protocol {
            PinProtocol::One => Zeroizing::new(Sha256::digest(z).to_vec()),
            PinProtocol::Two => {
                let hk = Hkdf::<Sha256>::new(Some(&[0u8; 32]), z);
                let mut out = Zeroizing::new(vec![0u8; 64]);
                let (hmac_key, aes_key) = out.split_at_mut(32);
                hk.expand(b"CTAP2 HMAC key", hmac_key)
                    .expect("32 bytes is a valid HKDF length");
                hk.expand(b"CTAP2 AES key", aes_key)
                    .expect("32 bytes is a valid HKDF length");
                out
            }
        };
        SharedSecret { protocol, bytes }
    }

    /// The protocol this secret belongs to.
    pub fn protocol(&self) -> PinProtocol {
        self.protocol
    }

    fn aes_key(&self) -> &[u8] {
        match self.protocol {
            PinProtocol::One => &self.bytes,
            PinProtocol::Two => self.bytes.get(32..).unwrap_or_default(),
        }
    }

    /// `encrypt(key, plaintext)`; the plaintext must be a whole number of AES blocks. Protocol two's IV comes
    /// from the OS CSPRNG.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Vec<u8>, EngineError> {
        self.encrypt_with(plaintext, &OsRandom)
    }

    /// [`Self::encrypt`] drawing protocol two's IV from `random`.
    pub fn encrypt_with(&self, plaintext: &[u8], random: &dyn RandomSource) -> Result<Vec<u8>, EngineError> {
        if !plaintext.len().is_multiple_of(16) {
            return Err(EngineError::InvalidLength(
                "plaintext is not a multiple of 16 bytes",
            ));
        }
        let iv: [u8; 16] = match self.protocol {
            PinProtocol::One => [0; 16],
            PinProtocol::Two => *random_bytes::<16>(random)?,
        };
        let enc = cbc::Encryptor::<Aes256>::new_from_slices(self.aes_key(), &iv)
            .map_err(|_| EngineError::Internal("AES key length"))?;
        let ct = enc.encrypt_padded_vec::<NoPadding>(plaintext);
        Ok(match self.protocol {
            PinProtocol::One => ct,
            PinProtocol::Two => [iv.as_slice(), &ct].concat(),
        })
    }

    /// `decrypt(key, ciphertext)`.
    pub fn decrypt(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, EngineError> {
        let (iv, ct): ([u8; 16], &[u8]) = match self.protocol {
            PinProtocol::One => ([0; 16], ciphertext),
            PinProtocol::Two => {
                let (iv, ct) = ciphertext
                    .split_at_checked(16)
                    .ok_or(EngineError::InvalidLength("ciphertext shorter than the IV"))?;
                (iv.try_into().map_err(|_| EngineError::InvalidLength("IV"))?, ct)
            }
        };
        if ct.is_empty() || !ct.len().is_multiple_of(16) {
            return Err(EngineError::InvalidLength(
                "ciphertext is not a multiple of 16 bytes",
            ));
        }
        let dec = cbc::Decryptor::<Aes256>::new_from_slices(self.aes_key(), &iv)
            .map_err(|_| EngineError::Internal("AES key length"))?;
        dec.decrypt_padded_vec::<NoPadding>(ct)
            .map(Zeroizing::new)
            .map_err(|_| EngineError::InvalidLength("ciphertext"))
    }

    /// `authenticate(sharedSecret, message)`.
    pub fn authenticate(&self, message: &[u8]) -> Vec<u8> {
        self.protocol.authenticate(&self.bytes, message)
    }

    /// `verify(sharedSecret, message, signature)`.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.protocol.verify(&self.bytes, message, signature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_shared_secret_and_key_agreement_key() {
        let secret = [0xa5, 0x5a, 0x13, 0x37, 0xc3, 0x3c, 0x99, 0x66];
        let s = SharedSecret {
            protocol: PinProtocol::Two,
            bytes: Zeroizing::new(secret.to_vec()),
        };
        crate::redaction::assert_redacted(&s, &secret);
        let scalar = [0x42; 32];
        let k = KeyAgreementKey {
            secret: p256::SecretKey::from_slice(&scalar).unwrap(),
        };
        crate::redaction::assert_redacted(&k, &scalar);
    }

    #[test]
    fn protocol_two_kdf_known_answer() {
        // HKDF-SHA-256 with a 32-byte zero salt over z = 32 × 0x01, computed independently with Python's
        // hmac/hashlib (RFC 5869 by hand).
        let s = SharedSecret::derive(PinProtocol::Two, &[1u8; 32]);
        assert_eq!(
            hex::encode(&s.bytes[..32]),
            "3fcaf99755eded437af206501059d757005ff8fb1fdc226efa1569b8d22813b9"
        );
        assert_eq!(
            hex::encode(&s.bytes[32..]),
            "0d02137a534834b864aaa39cc1ac8463a7d3c7d162946ae0f1baa5fa44163551"
        );
        let one = SharedSecret::derive(PinProtocol::One, &[1u8; 32]);
        assert_eq!(
            hex::encode(&one.bytes[..]),
            "72cd6e8422c407fb6d098690f1130b7ded7ec2f7f5e1d30bd9d521f015363793"
        );
    }

    #[test]
    fn both_protocols_round_trip_between_two_parties() {
        let a = KeyAgreementKey::generate().unwrap();
        let b = KeyAgreementKey::generate().unwrap();
        for p in [PinProtocol::One, PinProtocol::Two] {
            let sa = a.shared_secret(p, &b.cose_public()).unwrap();
            let sb = b.shared_secret(p, &a.cose_public()).unwrap();
            let ct = sa.encrypt(&[7u8; 64]).unwrap();
            assert_eq!(sb.decrypt(&ct).unwrap().as_slice(), &[7u8; 64]);
            let tag = sa.authenticate(b"msg");
            assert!(sb.verify(b"msg", &tag));
            assert!(!sb.verify(b"msh", &tag));
            assert_eq!(tag.len(), if p == PinProtocol::One { 16 } else { 32 });
        }
    }

    #[test]
    fn rejects_off_curve_peer_keys_and_bad_lengths() {
        let a = KeyAgreementKey::generate().unwrap();
        let bogus = Value::map()
            .insert(1, 2)
            .insert(3, -25)
            .insert(-1, 1)
            .insert(-2, vec![1u8; 32])
            .insert(-3, vec![2u8; 32])
            .build();
        assert!(a.shared_secret(PinProtocol::Two, &bogus).is_err());
        let s = SharedSecret::derive(PinProtocol::Two, &[3u8; 32]);
        assert!(s.decrypt(&[0u8; 20]).is_err());
        assert!(s.decrypt(&[0u8; 16]).is_err());
        assert!(s.encrypt(&[0u8; 15]).is_err());
    }
}
