//! The key user verification unlocks: approvals need the enrolled key, and hybrid credentials' secrets are
//! sealed under it (issue "Hostile callers", point 3). Through `handle_ctap`, against the real SQLite store.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use tandem_engine::CredentialSecret;
use tandem_engine::platform::{UserVerifier, UvKey, VerificationError, VerificationPrompt};
use tandem_engine::store::CredentialStore;
use tandem_engine::{Authenticator, AuthenticatorConfig, CtapStatus};

const RP: &str = "example.com";
const REAL: [u8; 32] = [0x11; 32];
const FAKE: [u8; 32] = [0x22; 32];

/// Answers "verified" with whatever key it is set to: the real one, or (as a hook faking the prompt's
/// callback would) any other.
struct Keyed(Mutex<[u8; 32]>);

impl UserVerifier for Keyed {
    fn verify(&self, _prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        Ok(UvKey::from_array(*self.0.lock().unwrap()))
    }
}

struct World {
    store: Arc<tandem_store::SqliteStore>,
    user: Arc<Keyed>,
}

impl World {
    fn new() -> Self {
        World {
            store: sqlite_store(),
            user: Arc::new(Keyed(Mutex::new(REAL))),
        }
    }

    fn engine(&self, config: AuthenticatorConfig) -> Authenticator {
        let chooser = Arc::new(FixedChooser {
            answer: Mutex::new(Some(0)),
            offered: Mutex::new(vec![]),
        });
        Authenticator::new(config, self.store.clone(), self.user.clone(), chooser)
    }

    fn answer_with(&self, key: [u8; 32]) {
        *self.user.0.lock().unwrap() = key;
    }
}

fn ctap(engine: &Authenticator, cmd: u8, params: &tandem_cbor::Value) -> (u8, Vec<u8>) {
    let mut msg = vec![cmd];
    msg.extend(params.to_vec());
    let resp = engine.handle_ctap(&msg);
    (resp[0], resp[1..].to_vec())
}

fn register(engine: &Authenticator, user: &[u8]) -> Vec<u8> {
    let (status, body) = ctap(engine, 0x01, &make_credential_params(RP, user, &[-7], true));
    assert_eq!(status, 0, "registration failed with 0x{status:02x}");
    let resp = tandem_cbor::decode_canonical(&body).unwrap();
    parse_auth_data(resp.get_int(2).unwrap().as_bytes().unwrap())
        .credential_id
        .unwrap()
}

/// A verifier that says "yes" with a key other than the enrolled one gets no signature, registers
/// nothing, and moves no counter; with the real key again everything works. Before the UV key, any `Ok`
/// from the verifier was an approval, so the fake signed and registered.
#[test]
fn a_verifier_without_the_enrolled_key_gets_no_signature_and_changes_nothing() {
    let w = World::new();
    let engine = w.engine(AuthenticatorConfig::hybrid());
    let id = register(&engine, b"alice");
    let count_before = w.store.get(&id).unwrap().unwrap().meta.sign_count;

    w.answer_with(FAKE);
    for params in [get_assertion_params(RP, &[&id]), get_assertion_params(RP, &[])] {
        let (status, body) = ctap(&engine, 0x02, &params);
        assert_eq!(status, CtapStatus::UvInvalid as u8);
        assert!(body.is_empty());
    }
    let (status, _) = ctap(
        &engine,
        0x01,
        &make_credential_params(RP, b"mallory", &[-7], true),
    );
    assert_eq!(status, CtapStatus::UvInvalid as u8);
    assert_eq!(w.store.list_all().unwrap().len(), 1);
    assert_eq!(w.store.get(&id).unwrap().unwrap().meta.sign_count, count_before);

    w.answer_with(REAL);
    let (status, _) = ctap(&engine, 0x02, &get_assertion_params(RP, &[&id]));
    assert_eq!(status, 0);
    assert_eq!(
        w.store.get(&id).unwrap().unwrap().meta.sign_count,
        count_before + 1
    );
}

/// A hybrid credential's secret reaches the store sealed under the UV key: what the store hands back is
/// not the engine's secret blob, so code that reads the store (with the data key) still cannot sign. The
/// direct profile (which must sign silently) stores the bare blob.
#[test]
fn hybrid_secrets_are_sealed_under_the_uv_key() {
    let w = World::new();
    let id = register(&w.engine(AuthenticatorConfig::hybrid()), b"alice");
    let stored = w.store.get(&id).unwrap().unwrap();
    assert_eq!(stored.secret.first(), Some(&0x01));
    assert!(CredentialSecret::from_blob(&stored.secret).is_err());

    let direct = register(&w.engine(AuthenticatorConfig::direct()), b"bob");
    let stored = w.store.get(&direct).unwrap().unwrap();
    assert!(CredentialSecret::from_blob(&stored.secret).is_ok());
}

/// Credentials stored before the UV layer (bare secret blob, as the direct profile still writes) keep
/// working in the hybrid profile, and the first verified sign-in re-seals them under the UV key.
#[test]
fn unsealed_credentials_sign_and_are_resealed_on_first_verified_use() {
    let w = World::new();
    let id = register(&w.engine(AuthenticatorConfig::direct()), b"legacy");
    assert!(CredentialSecret::from_blob(&w.store.get(&id).unwrap().unwrap().secret).is_ok());
    let hybrid = w.engine(AuthenticatorConfig::hybrid());
    for _ in 0..2 {
        let (status, _) = ctap(&hybrid, 0x02, &get_assertion_params(RP, &[&id]));
        assert_eq!(status, 0);
        let stored = w.store.get(&id).unwrap().unwrap();
        assert_eq!(stored.secret.first(), Some(&0x01));
        assert!(CredentialSecret::from_blob(&stored.secret).is_err());
    }
}

/// Without a verification there is no key: a silent request (direct profile, no token) cannot use a
/// credential whose secret is sealed under it, and reports no credentials rather than signing.
#[test]
fn a_silent_request_cannot_open_a_sealed_secret() {
    let w = World::new();
    let id = register(&w.engine(AuthenticatorConfig::hybrid()), b"alice");
    let silent = with(
        get_assertion_params(RP, &[&id]),
        5,
        tandem_cbor::Value::map().insert("up", false).build(),
    );
    let (status, _) = ctap(&w.engine(AuthenticatorConfig::direct()), 0x02, &silent);
    assert_eq!(status, CtapStatus::NoCredentials as u8);
}

/// The platform key behind the UV key is gone (a new fingerprint enrolled): the passkeys sealed under it
/// are lost. That is the store's kind of key loss, so the app can offer to start over, not a retryable
/// "UV unavailable"; and nothing is registered or signed.
#[test]
fn a_lost_uv_key_is_key_loss_not_a_retryable_refusal() {
    struct Lost;
    impl UserVerifier for Lost {
        fn verify(&self, _prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
            Err(VerificationError::KeyInvalidated("new biometric enrolled".into()))
        }
    }
    let w = World::new();
    let id = register(&w.engine(AuthenticatorConfig::hybrid()), b"alice");
    let chooser = Arc::new(FixedChooser {
        answer: Mutex::new(Some(0)),
        offered: Mutex::new(vec![]),
    });
    let engine = Authenticator::new(
        AuthenticatorConfig::hybrid(),
        w.store.clone(),
        Arc::new(Lost),
        chooser,
    );
    let (status, _) = ctap(&engine, 0x02, &get_assertion_params(RP, &[&id]));
    assert_eq!(status, CtapStatus::Other as u8);
    let (status, _) = ctap(&engine, 0x01, &make_credential_params(RP, b"bob", &[-7], true));
    assert_eq!(status, CtapStatus::Other as u8);
    assert_eq!(w.store.list_all().unwrap().len(), 1);
    assert!(matches!(
        tandem_engine::EngineError::from(VerificationError::KeyInvalidated("x".into())),
        tandem_engine::EngineError::Store(tandem_engine::store::StoreError::KeyInvalidated(_))
    ));
}
