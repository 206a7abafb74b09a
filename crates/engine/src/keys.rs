//! Credential key pairs, their COSE and SPKI public forms, and the engine-owned secret blob kept in the store.

use coset::{AsCborValue, CoseKey, CoseKeyBuilder, KeyType, Label, iana};
use ed25519_dalek::Signer as _;
use p256::elliptic_curve::sec1::ToSec1Point;
use sha2::Digest;

use tandem_cbor::Value;
use zeroize::{Zeroize, Zeroizing};

use crate::env::{OsRandom, RandomSource, random_bytes};
use crate::status::EngineError;

/// COSE algorithm identifier of ES256 (ECDSA P-256 with SHA-256).
pub const COSE_ES256: i64 = -7;
/// COSE algorithm identifier of EdDSA (used here with Ed25519).
pub const COSE_EDDSA: i64 = -8;

/// The signature algorithms the engine can create credentials for, in the engine's own preference order.
pub const SUPPORTED_ALGORITHMS: [i64; 2] = [COSE_ES256, COSE_EDDSA];

/// A credential's private key. Both variants zeroize on drop.
pub enum CredentialKey {
    /// ECDSA P-256. Kept as a bare secret key: building an `ecdsa::SigningKey` would compute the public key
    /// (a second scalar multiplication) on every assertion.
    Es256(p256::SecretKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

impl std::fmt::Debug for CredentialKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CredentialKey(alg {})", self.algorithm())
    }
}

impl CredentialKey {
    /// Generates a fresh key for a COSE algorithm the engine supports, from the OS CSPRNG.
    pub fn generate(alg: i64) -> Result<Self, EngineError> {
        Self::generate_with(alg, &OsRandom)
    }

    /// Generates a fresh key for a COSE algorithm the engine supports, from `random`.
    pub fn generate_with(alg: i64, random: &dyn RandomSource) -> Result<Self, EngineError> {
        match alg {
            COSE_ES256 => loop {
                // Rejection sampling: a uniformly random 32-byte string is a valid scalar with
                // overwhelming probability; retry on the rare out-of-range value.
                let bytes = random_bytes::<32>(random)?;
                if let Ok(k) = p256::SecretKey::from_slice(bytes.as_ref()) {
                    break Ok(CredentialKey::Es256(k));
                }
            },
            COSE_EDDSA => Ok(CredentialKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                &*random_bytes::<32>(random)?,
            ))),
            _ => Err(EngineError::UnsupportedAlgorithm),
        }
    }

    /// Rebuilds a key from its algorithm and private bytes.
    pub fn from_private(alg: i64, private: &[u8]) -> Result<Self, EngineError> {
        match alg {
            COSE_ES256 => p256::SecretKey::from_slice(private)
                .map(CredentialKey::Es256)
                .map_err(|_| EngineError::Internal("stored P-256 key is invalid")),
            COSE_EDDSA => {
                let bytes: &[u8; 32] = private
                    .try_into()
                    .map_err(|_| EngineError::Internal("stored Ed25519 key is invalid"))?;
                Ok(CredentialKey::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                    bytes,
                )))
            }
            _ => Err(EngineError::Internal("stored key has an unknown algorithm")),
        }
    }

    /// The COSE algorithm identifier.
    pub fn algorithm(&self) -> i64 {
        match self {
            CredentialKey::Es256(_) => COSE_ES256,
            CredentialKey::Ed25519(_) => COSE_EDDSA,
        }
    }

    /// The private key bytes (scalar or seed).
    fn private_bytes(&self) -> Zeroizing<Vec<u8>> {
        match self {
            CredentialKey::Es256(k) => Zeroizing::new(k.to_bytes().to_vec()),
            CredentialKey::Ed25519(k) => Zeroizing::new(k.to_bytes().to_vec()),
        }
    }

    /// Signs `message`: a DER-encoded ECDSA signature (SHA-256) or a 64-byte Ed25519 signature, as WebAuthn
    /// expects for each algorithm.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            CredentialKey::Es256(k) => {
                let prehash = sha2::Sha256::digest(message);
                // RFC 6979 deterministic ECDSA, exactly what `SigningKey::sign` does, minus the public key.
                let (sig, _) = ecdsa::hazmat::sign_prehashed_rfc6979::<p256::NistP256, sha2::Sha256>(
                    &k.to_nonzero_scalar(),
                    &prehash,
                    &[],
                );
                sig.to_der().as_bytes().to_vec()
            }
            CredentialKey::Ed25519(k) => k.sign(message).to_bytes().to_vec(),
        }
    }

    /// The public key in its raw form: the 65-byte uncompressed SEC1 point or the 32-byte Ed25519 key.
    pub fn public_raw(&self) -> Vec<u8> {
        match self {
            CredentialKey::Es256(k) => k.public_key().to_sec1_point(false).as_bytes().to_vec(),
            CredentialKey::Ed25519(k) => k.verifying_key().to_bytes().to_vec(),
        }
    }

    /// The COSE_Key of the public key, canonically encoded.
    pub fn cose_public_key(&self) -> Vec<u8> {
        cose_public_key(self.algorithm(), &self.public_raw()).unwrap_or_default()
    }

    /// The public key as a DER SubjectPublicKeyInfo (what Android's `getPublicKey()` returns).
    pub fn spki_der(&self) -> Vec<u8> {
        spki_der(self.algorithm(), &self.public_raw()).unwrap_or_default()
    }
}

/// Builds the canonical COSE_Key for a raw public key (65-byte uncompressed P-256 point or 32-byte Ed25519
/// key). `None` if the raw key does not fit the algorithm.
pub fn cose_public_key(alg: i64, raw: &[u8]) -> Option<Vec<u8>> {
    let key: CoseKey = match alg {
        COSE_ES256 => {
            if raw.len() != 65 || raw.first() != Some(&0x04) {
                return None;
            }
            CoseKeyBuilder::new_ec2_pub_key(
                iana::EllipticCurve::P_256,
                raw[1..33].to_vec(),
                raw[33..].to_vec(),
            )
            .algorithm(iana::Algorithm::ES256)
            .build()
        }
        COSE_EDDSA => {
            if raw.len() != 32 {
                return None;
            }
            CoseKey {
                kty: KeyType::Assigned(iana::KeyType::OKP),
                alg: Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)),
                params: vec![
                    (
                        Label::Int(iana::OkpKeyParameter::Crv as i64),
                        ciborium::Value::from(iana::EllipticCurve::Ed25519 as i64),
                    ),
                    (
                        Label::Int(iana::OkpKeyParameter::X as i64),
                        ciborium::Value::Bytes(raw.to_vec()),
                    ),
                ],
                ..Default::default()
            }
        }
        _ => return None,
    };
    // coset emits map entries in its own order; re-encode through tandem-cbor for canonical order.
    let value = key.to_cbor_value().ok()?;
    Some(Value::from_ciborium(&value)?.to_vec())
}

/// DER SubjectPublicKeyInfo prefixes: SEQUENCE { AlgorithmIdentifier, BIT STRING header }.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86,
    0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// Builds the DER SubjectPublicKeyInfo of a raw public key. The structures have a fixed layout for these two
/// key types, so a constant prefix is exact (RFC 5480, RFC 8410).
pub fn spki_der(alg: i64, raw: &[u8]) -> Option<Vec<u8>> {
    let prefix: &[u8] = match (alg, raw.len()) {
        (COSE_ES256, 65) => &P256_SPKI_PREFIX,
        (COSE_EDDSA, 32) => &ED25519_SPKI_PREFIX,
        _ => return None,
    };
    let mut out = prefix.to_vec();
    out.extend_from_slice(raw);
    Some(out)
}

/// Version tag of the secret blob layout.
const SECRET_VERSION: i128 = 1;

/// Everything secret about one credential. Serialised as a versioned CBOR map into
/// [`crate::store::StoredCredential::secret`]:
/// `{1: version (1), 2: alg, 3: private key, 4: CredRandomWithUV, 5: CredRandomWithoutUV, 6: largeBlobKey,
/// 7: hmac-secret enabled}`.
pub struct CredentialSecret {
    /// The signing key.
    pub key: CredentialKey,
    /// hmac-secret / PRF key used when the assertion had user verification.
    pub cred_random_uv: Zeroizing<[u8; 32]>,
    /// hmac-secret key used when the assertion had no user verification.
    pub cred_random_no_uv: Zeroizing<[u8; 32]>,
    /// Per-credential largeBlobKey. Still generated and stored (the blob format keeps field 6), but never
    /// served: the engine has no largeBlobs command, so it does not offer the largeBlobKey extension.
    pub large_blob_key: Zeroizing<[u8; 32]>,
    /// Whether the credential was created with hmac-secret (or prf) enabled.
    pub hmac_secret: bool,
}

impl std::fmt::Debug for CredentialSecret {
    /// Names the algorithm only: CredRandom and largeBlobKey are key material (logs must not carry them).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialSecret")
            .field("key", &self.key)
            .field("cred_random_uv", &format_args!("<redacted>"))
            .field("cred_random_no_uv", &format_args!("<redacted>"))
            .field("large_blob_key", &format_args!("<redacted>"))
            .field("hmac_secret", &self.hmac_secret)
            .finish()
    }
}

impl CredentialSecret {
    /// Fresh secret material around a new key, from the OS CSPRNG.
    pub fn generate(key: CredentialKey, hmac_secret: bool) -> Result<Self, EngineError> {
        Self::generate_with(key, hmac_secret, &OsRandom)
    }

    /// Fresh secret material around a new key, from `random`.
    pub fn generate_with(
        key: CredentialKey,
        hmac_secret: bool,
        random: &dyn RandomSource,
    ) -> Result<Self, EngineError> {
        Ok(CredentialSecret {
            key,
            cred_random_uv: random_bytes(random)?,
            cred_random_no_uv: random_bytes(random)?,
            large_blob_key: random_bytes(random)?,
            hmac_secret,
        })
    }

    /// Serialises to the versioned CBOR blob; intermediate copies are wiped.
    pub fn to_blob(&self) -> Zeroizing<Vec<u8>> {
        let mut v = Value::map()
            .insert(1, Value::Int(SECRET_VERSION))
            .insert(2, self.key.algorithm())
            .insert(3, Value::Bytes(self.key.private_bytes().to_vec()))
            .insert(4, Value::Bytes(self.cred_random_uv.to_vec()))
            .insert(5, Value::Bytes(self.cred_random_no_uv.to_vec()))
            .insert(6, Value::Bytes(self.large_blob_key.to_vec()))
            .insert(7, self.hmac_secret)
            .build();
        let out = Zeroizing::new(v.to_vec());
        wipe(&mut v);
        out
    }

    /// Parses a blob written by [`CredentialSecret::to_blob`].
    pub fn from_blob(blob: &[u8]) -> Result<Self, EngineError> {
        let corrupt = EngineError::Internal("stored credential secret is malformed");
        let mut v = tandem_cbor::decode(blob)
            .map_err(|_| EngineError::Internal("stored credential secret is malformed"))?;
        let result = (|| {
            if v.get_int(1)?.as_int()? != SECRET_VERSION {
                return None;
            }
            let alg = v.get_int(2)?.as_i64()?;
            let key = CredentialKey::from_private(alg, v.get_int(3)?.as_bytes()?).ok()?;
            let arr = |k| -> Option<Zeroizing<[u8; 32]>> {
                Some(Zeroizing::new(
                    <[u8; 32]>::try_from(v.get_int(k)?.as_bytes()?).ok()?,
                ))
            };
            Some(CredentialSecret {
                key,
                cred_random_uv: arr(4)?,
                cred_random_no_uv: arr(5)?,
                large_blob_key: arr(6)?,
                hmac_secret: v.get_int(7)?.as_bool()?,
            })
        })();
        wipe(&mut v);
        result.ok_or(corrupt)
    }
}

/// Overwrites every byte string inside a CBOR value (secret blobs pass through `Value` on their way to bytes).
fn wipe(v: &mut Value) {
    match v {
        Value::Bytes(b) => b.zeroize(),
        Value::Array(items) => items.iter_mut().for_each(wipe),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, val)| wipe(val)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret_material() {
        let s = CredentialSecret::generate(CredentialKey::generate(COSE_ES256).unwrap(), true).unwrap();
        for secret in [
            s.key.private_bytes().to_vec(),
            s.cred_random_uv.to_vec(),
            s.cred_random_no_uv.to_vec(),
            s.large_blob_key.to_vec(),
        ] {
            crate::redaction::assert_redacted(&s, &secret);
        }
        assert!(format!("{s:?}").contains("alg -7"));
    }

    #[test]
    fn secret_blob_round_trips_for_both_algorithms() {
        for alg in SUPPORTED_ALGORITHMS {
            let s = CredentialSecret::generate(CredentialKey::generate(alg).unwrap(), true).unwrap();
            let blob = s.to_blob();
            let back = CredentialSecret::from_blob(&blob).unwrap();
            assert_eq!(back.key.algorithm(), alg);
            assert_eq!(back.key.public_raw(), s.key.public_raw());
            assert_eq!(*back.cred_random_uv, *s.cred_random_uv);
            assert_eq!(*back.cred_random_no_uv, *s.cred_random_no_uv);
            assert_eq!(*back.large_blob_key, *s.large_blob_key);
            assert!(back.hmac_secret);
        }
    }

    #[test]
    fn secret_blob_rejects_other_versions_and_garbage() {
        let s = CredentialSecret::generate(CredentialKey::generate(COSE_ES256).unwrap(), false).unwrap();
        let mut v = tandem_cbor::decode(&s.to_blob()).unwrap();
        if let Value::Map(m) = &mut v {
            m[0].1 = Value::Int(2);
        }
        assert!(CredentialSecret::from_blob(&v.to_vec()).is_err());
        assert!(CredentialSecret::from_blob(&[0xa0]).is_err());
        assert!(CredentialSecret::from_blob(&[0xff, 0x00]).is_err());
    }

    #[test]
    fn cose_key_for_p256_is_canonical_and_complete() {
        // Fixed point: the P-256 generator.
        let mut raw = vec![0x04];
        raw.extend(hex::decode("6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296").unwrap());
        raw.extend(hex::decode("4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5").unwrap());
        let cose = cose_public_key(COSE_ES256, &raw).unwrap();
        let expected = format!(
            "a5010203262001215820{}225820{}",
            "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
            "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
        );
        assert_eq!(hex::encode(&cose), expected);
        assert!(tandem_cbor::decode_canonical(&cose).is_ok());
    }

    #[test]
    fn cose_key_for_ed25519_is_canonical() {
        let raw = [0x11u8; 32];
        let cose = cose_public_key(COSE_EDDSA, &raw).unwrap();
        assert_eq!(
            hex::encode(&cose),
            format!("a4010103272006215820{}", "11".repeat(32))
        );
    }

    #[test]
    fn es256_signature_verifies_and_is_deterministic() {
        use p256::ecdsa::signature::Verifier;
        let key = CredentialKey::from_private(COSE_ES256, &[0x42; 32]).unwrap();
        let sig = key.sign(b"message");
        assert_eq!(sig, key.sign(b"message"), "RFC 6979");
        let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(&key.public_raw()).unwrap();
        let parsed = p256::ecdsa::Signature::from_der(&sig).unwrap();
        assert!(vk.verify(b"message", &parsed).is_ok());
        // Same bytes as the high-level signer.
        use p256::ecdsa::signature::Signer;
        let reference: p256::ecdsa::Signature = p256::ecdsa::SigningKey::from_slice(&[0x42; 32])
            .unwrap()
            .sign(b"message");
        assert_eq!(reference.to_der().as_bytes(), &sig[..]);
    }

    #[test]
    fn spki_parses_as_a_p256_key() {
        let key = CredentialKey::generate(COSE_ES256).unwrap();
        use p256::pkcs8::DecodePublicKey;
        let parsed = p256::PublicKey::from_public_key_der(&key.spki_der()).unwrap();
        assert_eq!(parsed.to_sec1_bytes().to_vec(), key.public_raw());
    }
}
