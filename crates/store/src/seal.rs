//! Sealed blobs: AES-256-GCM under the data key, bound to their row by associated data.
//!
//! Blob layout: `version (1 byte) || nonce (12) || ciphertext || tag (16)`.
//! Associated data: `u64be(len(label)) || label || (u64be(len(part)) || part)*`. The label names the format
//! version and the purpose, and every part is length-prefixed, so a blob sealed for one row or purpose never
//! authenticates as another (no two different part lists encode to the same bytes).

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit, Nonce, Tag};
use tandem_engine::store::StoreError;
use zeroize::Zeroizing;

/// Length of the data key in bytes (AES-256).
pub const DATA_KEY_LEN: usize = 32;
/// The only blob format version this build writes and reads.
pub(crate) const BLOB_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const HEADER_LEN: usize = 1 + NONCE_LEN;

/// What a sealed blob is for; each purpose has its own label in the associated data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// A credential's engine-owned secret.
    CredentialSecret,
    /// A named hybrid-linking secret.
    HybridSecret,
    /// The empty message that proves a released data key belongs to this database.
    KeyCheck,
    /// The data key wrapped by [`crate::SoftwareKeyProtector`].
    SoftwareWrap,
    /// The software UV key ([`crate::SqliteStore::software_uv_key`]) under the data key.
    SoftwareUvKey,
}

impl Purpose {
    fn label(self) -> &'static [u8] {
        match self {
            Purpose::CredentialSecret => b"tandem-store/v1/credential-secret",
            Purpose::HybridSecret => b"tandem-store/v1/hybrid-secret",
            Purpose::KeyCheck => b"tandem-store/v1/key-check",
            Purpose::SoftwareWrap => b"tandem-store/v1/software-protector-wrap",
            Purpose::SoftwareUvKey => b"tandem-store/v1/software-uv-key",
        }
    }
}

/// Encodes the associated data for `purpose` and the row-identifying `parts`.
pub(crate) fn associated_data(purpose: Purpose, parts: &[&[u8]]) -> Vec<u8> {
    let label = purpose.label();
    let mut out = Vec::with_capacity(8 + label.len() + parts.iter().map(|p| 8 + p.len()).sum::<usize>());
    for item in std::iter::once(label).chain(parts.iter().copied()) {
        // usize → u64 never truncates on supported targets.
        out.extend_from_slice(&(item.len() as u64).to_be_bytes());
        out.extend_from_slice(item);
    }
    out
}

/// An AES-256-GCM key (the data key, or the software protector's wrapping key), held only as an expanded
/// cipher that zeroizes itself on drop.
pub(crate) struct SealKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    /// Builds the cipher from raw key bytes; `None` unless exactly [`DATA_KEY_LEN`] bytes.
    pub(crate) fn from_bytes(key: &[u8]) -> Option<Self> {
        if key.len() != DATA_KEY_LEN {
            return None;
        }
        Aes256Gcm::new_from_slice(key)
            .ok()
            .map(|cipher| SealKey { cipher })
    }

    /// Builds the cipher from a key of the right length (infallible).
    pub(crate) fn from_array(key: &[u8; DATA_KEY_LEN]) -> Self {
        SealKey {
            cipher: Aes256Gcm::new(key.into()),
        }
    }

    /// Encrypts `plaintext` under a fresh random nonce.
    pub(crate) fn seal(
        &self,
        purpose: Purpose,
        parts: &[&[u8]],
        plaintext: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| StoreError::Database(format!("random number generator failed: {e}")))?;
        self.seal_with_nonce(purpose, parts, plaintext, nonce)
    }

    /// Encrypts with a caller-chosen nonce. Private so only [`SealKey::seal`] (random nonces) and the
    /// known-answer tests reach it.
    fn seal_with_nonce(
        &self,
        purpose: Purpose,
        parts: &[&[u8]],
        plaintext: &[u8],
        nonce: [u8; NONCE_LEN],
    ) -> Result<Vec<u8>, StoreError> {
        let aad = associated_data(purpose, parts);
        let mut out = Vec::with_capacity(HEADER_LEN + plaintext.len() + TAG_LEN);
        out.push(BLOB_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(plaintext);
        let tag = self
            .cipher
            .encrypt_inout_detached(
                &Nonce::<Aes256Gcm>::from(nonce),
                &aad,
                out[HEADER_LEN..].as_mut().into(),
            )
            .map_err(|_| StoreError::Database("secret too long to encrypt".into()))?;
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// Authenticates and decrypts `blob`; every failure (short, unknown version, wrong row, tampered) is
    /// [`StoreError::Corrupt`].
    pub(crate) fn open(
        &self,
        purpose: Purpose,
        parts: &[&[u8]],
        blob: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        let (&version, rest) = blob
            .split_first()
            .ok_or_else(|| StoreError::Corrupt("sealed blob is empty".into()))?;
        if version != BLOB_VERSION {
            return Err(StoreError::Corrupt(format!(
                "unknown sealed blob version {version}"
            )));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(StoreError::Corrupt(format!(
                "sealed blob too short ({} bytes)",
                blob.len()
            )));
        }
        let (nonce, rest) = rest.split_at(NONCE_LEN);
        let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
        let nonce = Nonce::<Aes256Gcm>::try_from(nonce)
            .map_err(|_| StoreError::Corrupt("sealed blob nonce has the wrong length".into()))?;
        let tag = Tag::<Aes256Gcm>::try_from(tag)
            .map_err(|_| StoreError::Corrupt("sealed blob tag has the wrong length".into()))?;
        let aad = associated_data(purpose, parts);
        let mut plaintext = Zeroizing::new(ciphertext.to_vec());
        self.cipher
            .decrypt_inout_detached(&nonce, &aad, plaintext.as_mut_slice().into(), &tag)
            .map_err(|_| {
                StoreError::Corrupt("sealed blob failed authentication (tampered or moved)".into())
            })?;
        Ok(plaintext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SealKey {
        let bytes: Vec<u8> = (0u8..32).collect();
        SealKey::from_bytes(&bytes).unwrap()
    }

    #[test]
    fn associated_data_known_answer() {
        let aad = associated_data(Purpose::CredentialSecret, &[b"\x01\x02", b"example.com"]);
        let expected = [
            &[0, 0, 0, 0, 0, 0, 0, 33][..],
            b"tandem-store/v1/credential-secret",
            &[0, 0, 0, 0, 0, 0, 0, 2, 1, 2],
            &[0, 0, 0, 0, 0, 0, 0, 11],
            b"example.com",
        ]
        .concat();
        assert_eq!(aad, expected);
    }

    #[test]
    fn length_prefixes_separate_parts() {
        let a = associated_data(Purpose::HybridSecret, &[b"ab", b"c"]);
        let b = associated_data(Purpose::HybridSecret, &[b"a", b"bc"]);
        assert_ne!(a, b);
        assert_ne!(
            associated_data(Purpose::HybridSecret, &[b"x"]),
            associated_data(Purpose::CredentialSecret, &[b"x"])
        );
    }

    /// Expected bytes computed independently with Python `cryptography`'s AESGCM over the same key, nonce,
    /// plaintext and associated data (see the test body for the inputs).
    #[test]
    fn seal_known_answer() {
        let sealed = key()
            .seal_with_nonce(
                Purpose::CredentialSecret,
                &[b"\x01\x02", b"example.com"],
                b"engine secret",
                [
                    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab,
                ],
            )
            .unwrap();
        assert_eq!(hex::encode(&sealed), SEAL_KAT);
        let opened = key()
            .open(Purpose::CredentialSecret, &[b"\x01\x02", b"example.com"], &sealed)
            .unwrap();
        assert_eq!(opened.as_slice(), b"engine secret");
    }

    const SEAL_KAT: &str =
        "01a0a1a2a3a4a5a6a7a8a9aaab83761b442bae22cc0706f5b6735d0a788a0c9577c31c2ccfa9675ed166";

    #[test]
    fn open_rejects_wrong_row_purpose_version_and_truncation() {
        let k = key();
        let sealed = k.seal(Purpose::CredentialSecret, &[b"id", b"rp"], b"s").unwrap();
        assert!(
            k.open(Purpose::CredentialSecret, &[b"id", b"rp"], &sealed)
                .is_ok()
        );
        for bad_parts in [&[&b"id"[..], b"rq"][..], &[b"ie", b"rp"], &[b"id"]] {
            assert!(matches!(
                k.open(Purpose::CredentialSecret, bad_parts, &sealed),
                Err(StoreError::Corrupt(_))
            ));
        }
        assert!(matches!(
            k.open(Purpose::HybridSecret, &[b"id", b"rp"], &sealed),
            Err(StoreError::Corrupt(_))
        ));
        let mut v2 = sealed.clone();
        v2[0] = 2;
        assert!(matches!(
            k.open(Purpose::CredentialSecret, &[b"id", b"rp"], &v2),
            Err(StoreError::Corrupt(_))
        ));
        for len in 0..sealed.len() {
            assert!(matches!(
                k.open(Purpose::CredentialSecret, &[b"id", b"rp"], &sealed[..len]),
                Err(StoreError::Corrupt(_))
            ));
        }
    }

    #[test]
    fn nonces_are_fresh() {
        let k = key();
        let a = k.seal(Purpose::HybridSecret, &[b"n"], b"same").unwrap();
        let b = k.seal(Purpose::HybridSecret, &[b"n"], b"same").unwrap();
        assert_ne!(a[1..13], b[1..13]);
    }

    #[test]
    fn key_length_is_enforced() {
        assert!(SealKey::from_bytes(&[0u8; 31]).is_none());
        assert!(SealKey::from_bytes(&[0u8; 33]).is_none());
    }

    mod random {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Arbitrary bytes never panic the decoder and never authenticate.
            #[test]
            fn random_blobs_are_corrupt(blob in proptest::collection::vec(any::<u8>(), 0..200)) {
                let r = key().open(Purpose::CredentialSecret, &[b"id", b"rp"], &blob);
                prop_assert!(matches!(r, Err(StoreError::Corrupt(_))));
            }

            /// Any single-bit flip or truncation of a valid blob is rejected.
            #[test]
            fn damaged_blobs_are_corrupt(
                plaintext in proptest::collection::vec(any::<u8>(), 0..80),
                flip in any::<prop::sample::Index>(),
                bit in 0u8..8,
                cut in any::<prop::sample::Index>(),
            ) {
                let k = key();
                let sealed = k.seal(Purpose::HybridSecret, &[b"name"], &plaintext).unwrap();
                let opened = k.open(Purpose::HybridSecret, &[b"name"], &sealed).unwrap();
                prop_assert_eq!(opened.as_slice(), &plaintext[..]);
                let mut flipped = sealed.clone();
                flipped[flip.index(sealed.len())] ^= 1 << bit;
                let r = k.open(Purpose::HybridSecret, &[b"name"], &flipped);
                prop_assert!(matches!(r, Err(StoreError::Corrupt(_))));
                let truncated = &sealed[..cut.index(sealed.len())];
                let r = k.open(Purpose::HybridSecret, &[b"name"], truncated);
                prop_assert!(matches!(r, Err(StoreError::Corrupt(_))));
            }
        }
    }
}
