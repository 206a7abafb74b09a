//! The second seal layer: credential secrets under the key user verification unlocks ([`UvKey`]).
//!
//! * Enrolment: the first key a verifier produces for a store is enrolled by storing a check value (an
//!   AES-256-GCM tag over nothing, under that key) through [`UvKeyCheckStore`]. Afterwards a key is accepted
//!   only if it authenticates the stored check; any other key is [`EngineError::UvKeyRejected`].
//! * Sealing: the engine's secret blob of every credential it creates is sealed under the key before it is
//!   handed to the store (which seals it again under its data key). Opening it needs the key, which the
//!   engine gets only inside a redeemed approval or a token granted after verification
//!   ([`crate::uv::Presence::uv_key`]).
//!
//! Sealed layout: `0x01 || nonce (12) || ciphertext || tag (16)`, associated data
//! `u64be(len(label)) || label || u64be(len(id)) || id || u64be(len(rpId)) || rpId`. A secret written before
//! this layer existed is the bare CBOR map ([`crate::keys::CredentialSecret::to_blob`], first byte
//! `0xa0..=0xbf`), so the first byte tells the two apart; such legacy secrets open without the key.

use aes_gcm::Aes256Gcm;
use aes_gcm::aead::{AeadInOut, KeyInit, Nonce, Tag};
use zeroize::Zeroizing;

use crate::env::{RandomSource, random_bytes};
use crate::platform::UvKey;
use crate::status::EngineError;
use crate::store::UvKeyCheckStore;

/// First byte of a secret sealed under the UV key.
const UV_SEALED_V1: u8 = 0x01;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const SECRET_LABEL: &[u8] = b"tandem-engine/v1/uv-sealed-secret";
const CHECK_LABEL: &[u8] = b"tandem-engine/v1/uv-key-check";

fn associated_data(label: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for item in std::iter::once(label).chain(parts.iter().copied()) {
        // usize → u64 never truncates on supported targets.
        out.extend_from_slice(&(item.len() as u64).to_be_bytes());
        out.extend_from_slice(item);
    }
    out
}

fn cipher(key: &UvKey) -> Aes256Gcm {
    Aes256Gcm::new(key.expose().into())
}

fn seal(
    key: &UvKey,
    aad: &[u8],
    plaintext: &[u8],
    random: &dyn RandomSource,
) -> Result<Vec<u8>, EngineError> {
    let nonce = random_bytes::<NONCE_LEN>(random)?;
    let mut out = Vec::with_capacity(1 + NONCE_LEN + plaintext.len() + TAG_LEN);
    out.push(UV_SEALED_V1);
    out.extend_from_slice(nonce.as_slice());
    out.extend_from_slice(plaintext);
    let tag = cipher(key)
        .encrypt_inout_detached(
            &Nonce::<Aes256Gcm>::from(*nonce),
            aad,
            out[1 + NONCE_LEN..].as_mut().into(),
        )
        .map_err(|_| EngineError::Internal("credential secret too long to seal"))?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Opens a blob made by [`seal`]; `None` if it is malformed or does not authenticate under `key`.
fn open(key: &UvKey, aad: &[u8], blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let rest = blob.strip_prefix(&[UV_SEALED_V1])?;
    if rest.len() < NONCE_LEN + TAG_LEN {
        return None;
    }
    let (nonce, rest) = rest.split_at(NONCE_LEN);
    let (ciphertext, tag) = rest.split_at(rest.len() - TAG_LEN);
    let nonce = Nonce::<Aes256Gcm>::try_from(nonce).ok()?;
    let tag = Tag::<Aes256Gcm>::try_from(tag).ok()?;
    let mut plaintext = Zeroizing::new(ciphertext.to_vec());
    cipher(key)
        .decrypt_inout_detached(&nonce, aad, plaintext.as_mut_slice().into(), &tag)
        .ok()?;
    Some(plaintext)
}

/// Enrols `key` if the store has no check value yet, otherwise checks it against the enrolled one.
pub(crate) fn check(
    key: &UvKey,
    store: &dyn UvKeyCheckStore,
    random: &dyn RandomSource,
) -> Result<(), EngineError> {
    let aad = associated_data(CHECK_LABEL, &[]);
    let candidate = seal(key, &aad, &[], random)?;
    let enrolled = store.uv_key_check(&candidate)?;
    match open(key, &aad, &enrolled) {
        Some(_) => Ok(()),
        None => Err(EngineError::UvKeyRejected),
    }
}

/// Seals a credential's secret blob under `key`, bound to the credential's ID and RP ID.
pub(crate) fn seal_secret(
    key: &UvKey,
    credential_id: &[u8],
    rp_id: &str,
    secret: &[u8],
    random: &dyn RandomSource,
) -> Result<Zeroizing<Vec<u8>>, EngineError> {
    let aad = associated_data(SECRET_LABEL, &[credential_id, rp_id.as_bytes()]);
    seal(key, &aad, secret, random).map(Zeroizing::new)
}

/// Whether a stored secret carries the UV layer (else it predates it: a bare CBOR map).
pub(crate) fn is_uv_sealed(stored: &[u8]) -> bool {
    stored.first() == Some(&UV_SEALED_V1)
}

/// The engine's secret blob from what the store returned. A UV-sealed secret needs `key`: without one (a
/// silent request with no token) the credential cannot be used, reported as
/// [`EngineError::NoCredentials`]; one that does not authenticate under the key is a damaged row.
pub(crate) fn open_secret(
    key: Option<&UvKey>,
    credential_id: &[u8],
    rp_id: &str,
    stored: &[u8],
) -> Result<Zeroizing<Vec<u8>>, EngineError> {
    if !is_uv_sealed(stored) {
        return Ok(Zeroizing::new(stored.to_vec()));
    }
    let key = key.ok_or(EngineError::NoCredentials)?;
    let aad = associated_data(SECRET_LABEL, &[credential_id, rp_id.as_bytes()]);
    open(key, &aad, stored).ok_or(EngineError::Internal(
        "credential secret does not open under the UV key",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::OsRandom;
    use crate::store::StoreError;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Checks(Mutex<Option<Vec<u8>>>);
    impl UvKeyCheckStore for Checks {
        fn uv_key_check(&self, candidate: &[u8]) -> Result<Vec<u8>, StoreError> {
            Ok(self
                .0
                .lock()
                .unwrap()
                .get_or_insert_with(|| candidate.to_vec())
                .clone())
        }
    }

    fn key(b: u8) -> UvKey {
        UvKey::from_array([b; 32])
    }

    #[test]
    fn first_key_is_enrolled_and_only_it_passes() {
        let checks = Checks::default();
        check(&key(1), &checks, &OsRandom).unwrap();
        check(&key(1), &checks, &OsRandom).unwrap();
        assert!(matches!(
            check(&key(2), &checks, &OsRandom),
            Err(EngineError::UvKeyRejected)
        ));
    }

    #[test]
    fn sealed_secret_opens_only_with_its_key_and_row() {
        let sealed = seal_secret(&key(1), b"id", "example.com", b"secret", &OsRandom).unwrap();
        assert!(is_uv_sealed(&sealed));
        let opened = open_secret(Some(&key(1)), b"id", "example.com", &sealed).unwrap();
        assert_eq!(opened.as_slice(), b"secret");
        assert!(matches!(
            open_secret(None, b"id", "example.com", &sealed),
            Err(EngineError::NoCredentials)
        ));
        for (k, id, rp) in [
            (key(2), &b"id"[..], "example.com"),
            (key(1), b"ie", "example.com"),
            (key(1), b"id", "example.org"),
        ] {
            assert!(matches!(
                open_secret(Some(&k), id, rp, &sealed),
                Err(EngineError::Internal(_))
            ));
        }
    }

    #[test]
    fn legacy_secret_passes_through() {
        // A bare CBOR map (what secrets were before this layer) starts with 0xa0..=0xbf.
        let legacy = [0xa1, 0x01, 0x01];
        assert!(!is_uv_sealed(&legacy));
        assert_eq!(
            open_secret(None, b"id", "rp", &legacy).unwrap().as_slice(),
            &legacy
        );
    }
}
