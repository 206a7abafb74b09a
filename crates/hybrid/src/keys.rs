//! P-256 keys in the encodings the protocol uses: 33-byte compressed in the QR code, 65-byte uncompressed
//! everywhere else (handshake messages, `MixHash`, linking key 4). ECDH output is the 32-byte X coordinate.

use crate::random::{self, RandomError};
use p256::elliptic_curve::sec1::ToSec1Point;
use zeroize::Zeroizing;

/// Length of an uncompressed SEC1 point (`04 ‖ X ‖ Y`).
pub const UNCOMPRESSED_LEN: usize = 65;
/// Length of a compressed SEC1 point (`02`/`03` ‖ X).
pub const COMPRESSED_LEN: usize = 33;

/// Why key bytes were rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Wrong length or prefix for the requested encoding.
    #[error("expected a {expected}-byte SEC1 point, got {got} bytes")]
    Encoding {
        /// Required length.
        expected: usize,
        /// Received length.
        got: usize,
    },
    /// The bytes do not describe a point on P-256 (or describe the identity).
    #[error("not a valid P-256 point")]
    InvalidPoint,
    /// The scalar is zero or not below the group order.
    #[error("not a valid P-256 private scalar")]
    InvalidScalar,
}

/// A validated P-256 public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PublicKey(p256::PublicKey);

impl PublicKey {
    /// Parses a 65-byte uncompressed point (the form used on the wire by the handshake and linking).
    pub fn from_uncompressed(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != UNCOMPRESSED_LEN || bytes.first() != Some(&0x04) {
            return Err(KeyError::Encoding {
                expected: UNCOMPRESSED_LEN,
                got: bytes.len(),
            });
        }
        Self::from_sec1(bytes)
    }

    /// Parses and decompresses a 33-byte compressed point (the QR code's key 0).
    pub fn from_compressed(bytes: &[u8]) -> Result<Self, KeyError> {
        if bytes.len() != COMPRESSED_LEN || !matches!(bytes.first(), Some(0x02 | 0x03)) {
            return Err(KeyError::Encoding {
                expected: COMPRESSED_LEN,
                got: bytes.len(),
            });
        }
        Self::from_sec1(bytes)
    }

    fn from_sec1(bytes: &[u8]) -> Result<Self, KeyError> {
        p256::PublicKey::from_sec1_bytes(bytes)
            .map(Self)
            .map_err(|_| KeyError::InvalidPoint)
    }

    /// The 65-byte uncompressed encoding.
    pub fn to_uncompressed(&self) -> [u8; UNCOMPRESSED_LEN] {
        self.0.to_uncompressed_point().into()
    }

    /// The 33-byte compressed encoding.
    pub fn to_compressed(&self) -> [u8; COMPRESSED_LEN] {
        self.0.to_compressed_point().into()
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PublicKey({})", hex::encode(self.to_compressed()))
    }
}

/// A P-256 private key (zeroized on drop by the underlying `p256::SecretKey`).
#[derive(Clone)]
pub struct PrivateKey(p256::SecretKey);

impl PrivateKey {
    /// A fresh key from the OS CSPRNG.
    pub fn generate() -> Result<Self, RandomError> {
        loop {
            let candidate = Zeroizing::new(random::array::<32>()?);
            // Rejection sampling: a uniformly random 32-byte string is a valid scalar except with
            // probability ~2^-32, so this loop practically never repeats.
            if let Ok(key) = Self::from_bytes(&candidate) {
                return Ok(key);
            }
        }
    }

    /// A key from its 32-byte big-endian scalar.
    pub fn from_bytes(scalar: &[u8; 32]) -> Result<Self, KeyError> {
        p256::SecretKey::from_slice(scalar)
            .map(Self)
            .map_err(|_| KeyError::InvalidScalar)
    }

    /// The 32-byte big-endian scalar (for persistent storage).
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes().into())
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        PublicKey(self.0.public_key())
    }

    /// ECDH: the X coordinate of `self · peer`.
    pub(crate) fn ecdh(&self, peer: &PublicKey) -> Zeroizing<[u8; 32]> {
        let shared = self.0.diffie_hellman(&peer.0);
        Zeroizing::new((*shared.raw_secret_bytes()).into())
    }
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PrivateKey(public: {:?})", self.public_key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodings_round_trip() {
        let k = PrivateKey::generate().unwrap();
        let p = k.public_key();
        assert_eq!(PublicKey::from_uncompressed(&p.to_uncompressed()).unwrap(), p);
        assert_eq!(PublicKey::from_compressed(&p.to_compressed()).unwrap(), p);
        assert!(PublicKey::from_uncompressed(&p.to_compressed()).is_err());
        assert!(PublicKey::from_compressed(&p.to_uncompressed()).is_err());
        let mut bad = p.to_uncompressed();
        bad[64] ^= 1;
        assert_eq!(PublicKey::from_uncompressed(&bad), Err(KeyError::InvalidPoint));
    }

    #[test]
    fn ecdh_is_symmetric() {
        let a = PrivateKey::generate().unwrap();
        let b = PrivateKey::generate().unwrap();
        assert_eq!(*a.ecdh(&b.public_key()), *b.ecdh(&a.public_key()));
    }

    #[test]
    fn scalar_bounds() {
        assert_eq!(
            PrivateKey::from_bytes(&[0u8; 32]).unwrap_err(),
            KeyError::InvalidScalar
        );
        assert_eq!(
            PrivateKey::from_bytes(&[0xff; 32]).unwrap_err(),
            KeyError::InvalidScalar
        );
        let k = PrivateKey::from_bytes(&[0x11; 32]).unwrap();
        assert_eq!(*k.to_bytes(), [0x11; 32]);
    }
}
