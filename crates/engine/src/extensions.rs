//! Extension processing shared by makeCredential and getAssertion: hmac-secret(-mc), the hybrid `prf` form,
//! credProtect policy.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use tandem_cbor::Value;
use zeroize::Zeroizing;

use crate::ctap::{HmacSecretInput, PrfSalts};
use crate::pin::{KeyAgreementKey, PinProtocol, SharedSecret};
use crate::status::EngineError;

/// credProtect: userVerificationOptional.
pub(crate) const CRED_PROTECT_UV_OPTIONAL: u8 = 1;
/// credProtect: userVerificationOptionalWithCredentialIDList.
pub(crate) const CRED_PROTECT_UV_OPTIONAL_WITH_LIST: u8 = 2;
/// credProtect: userVerificationRequired.
pub(crate) const CRED_PROTECT_UV_REQUIRED: u8 = 3;

/// Largest credBlob the engine stores (getInfo maxCredBlobLength).
pub(crate) const MAX_CRED_BLOB_LENGTH: usize = 32;

/// Whether a credential of credProtect `level` may be used for an assertion (CTAP 2.1 §12.1): level 3 only
/// with user verification; level 2 without UV only when the RP named it in an allow list.
pub(crate) fn cred_protect_allows(level: u8, user_verified: bool, allow_list_given: bool) -> bool {
    match level {
        CRED_PROTECT_UV_REQUIRED => user_verified,
        CRED_PROTECT_UV_OPTIONAL_WITH_LIST => user_verified || allow_list_given,
        _ => true,
    }
}

/// HMAC-SHA-256(CredRandom, salt1) ‖ [HMAC-SHA-256(CredRandom, salt2)].
pub(crate) fn hmac_outputs(cred_random: &[u8; 32], salt1: &[u8], salt2: Option<&[u8]>) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(64));
    for salt in std::iter::once(salt1).chain(salt2) {
        let mut mac =
            <Hmac<Sha256> as KeyInit>::new_from_slice(cred_random).expect("any HMAC key length works");
        mac.update(salt);
        out.extend_from_slice(&mac.finalize().into_bytes());
    }
    out
}

/// An hmac-secret input whose saltAuth has been checked and whose salts are decrypted.
pub(crate) struct VerifiedSalts {
    shared: SharedSecret,
    salts: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for VerifiedSalts {
    /// The decrypted salts are PRF inputs the platform encrypted for a reason; the shared secret redacts itself.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedSalts")
            .field("shared", &self.shared)
            .field("salts", &format_args!("<{} bytes redacted>", self.salts.len()))
            .finish()
    }
}

impl VerifiedSalts {
    /// Agrees on the shared secret, verifies saltAuth (CTAP2_ERR_PIN_AUTH_INVALID on mismatch) and decrypts
    /// the salts, which must be 32 or 64 bytes (CTAP1_ERR_INVALID_LENGTH otherwise).
    pub(crate) fn open(
        key_agreement: &KeyAgreementKey,
        input: &HmacSecretInput,
    ) -> Result<Self, EngineError> {
        let protocol = PinProtocol::from_wire(input.protocol)?;
        let shared = key_agreement.shared_secret(protocol, &input.key_agreement)?;
        if !shared.verify(&input.salt_enc, &input.salt_auth) {
            return Err(EngineError::PinAuthInvalid);
        }
        let salts = shared.decrypt(&input.salt_enc)?;
        if salts.len() != 32 && salts.len() != 64 {
            return Err(EngineError::InvalidLength(
                "hmac-secret salts must be 32 or 64 bytes",
            ));
        }
        Ok(VerifiedSalts { shared, salts })
    }

    /// The encrypted outputs for one credential.
    pub(crate) fn outputs(&self, cred_random: &[u8; 32]) -> Result<Vec<u8>, EngineError> {
        let (s1, s2) = self.salts.split_at(32);
        let out = hmac_outputs(cred_random, s1, (!s2.is_empty()).then_some(s2));
        self.shared.encrypt(&out)
    }
}

/// The `results` map of the hybrid `prf` extension.
pub(crate) fn prf_results(cred_random: &[u8; 32], salts: &PrfSalts) -> Value {
    let out = hmac_outputs(
        cred_random,
        &salts.first,
        salts.second.as_ref().map(|s| s.as_slice()),
    );
    let (first, second) = out.split_at(32);
    Value::map()
        .insert("first", first.to_vec())
        .insert_opt("second", (!second.is_empty()).then(|| second.to_vec()))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_decrypted_salts() {
        let salts = [0xa5, 0x5a, 0x13, 0x37, 0xc3, 0x3c, 0x99, 0x66];
        let v = VerifiedSalts {
            shared: SharedSecret::derive(PinProtocol::One, &[1; 32]),
            salts: Zeroizing::new(salts.to_vec()),
        };
        crate::redaction::assert_redacted(&v, &salts);
    }

    #[test]
    fn hmac_output_known_answer() {
        // HMAC-SHA-256(key = 32 × 0x0b, "salt" = 32 × 0x01), computed with Python's hmac module.
        let out = hmac_outputs(&[0x0b; 32], &[1; 32], None);
        assert_eq!(
            hex::encode(&out[..]),
            "ea3ce3e2e328be8d8ebfe7107a68cdd7adae8d6188ddb06d91b8dbb4cb9c1842"
        );
    }

    #[test]
    fn cred_protect_rules() {
        assert!(cred_protect_allows(1, false, false));
        assert!(!cred_protect_allows(2, false, false));
        assert!(cred_protect_allows(2, false, true));
        assert!(cred_protect_allows(2, true, false));
        assert!(!cred_protect_allows(3, false, true));
        assert!(cred_protect_allows(3, true, false));
    }
}
