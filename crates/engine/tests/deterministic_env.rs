//! The engine under an injected environment ([`Env`]): with the same seed and a manual clock, the same
//! requests give byte-identical answers, so the engine reads no randomness or time of its own.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use tandem_engine::Env;
use tandem_engine::{Authenticator, AuthenticatorConfig};

const RP: &str = "example.com";

/// makeCredential then getAssertion (allow list naming the new credential) on a fresh engine and store,
/// returning both raw answers (status ‖ CBOR).
fn register_and_sign_in(config: AuthenticatorConfig, env: Env) -> (Vec<u8>, Vec<u8>) {
    let chooser = Arc::new(FixedChooser {
        answer: Mutex::new(Some(0)),
        offered: Mutex::new(vec![]),
    });
    let auth = Authenticator::new_with_env(
        config,
        sqlite_store(),
        Arc::new(ScriptedVerifier::default()),
        chooser,
        env,
    );
    let mut mc = vec![0x01];
    mc.extend(make_credential_params(RP, b"user-1", &[-7, -8], true).to_vec());
    let created = auth.handle_ctap(&mc);
    assert_eq!(created[0], 0, "makeCredential succeeds");
    let body = tandem_cbor::decode_canonical(&created[1..]).unwrap();
    let ad = parse_auth_data(body.get_int(2).unwrap().as_bytes().unwrap());
    let id = ad.credential_id.unwrap();
    let mut ga = vec![0x02];
    ga.extend(get_assertion_params(RP, &[&id]).to_vec());
    let asserted = auth.handle_ctap(&ga);
    assert_eq!(asserted[0], 0, "getAssertion succeeds");
    (created, asserted)
}

#[test]
fn the_same_seed_gives_byte_identical_answers() {
    for config in [AuthenticatorConfig::direct(), AuthenticatorConfig::hybrid()] {
        let first = register_and_sign_in(config.clone(), Env::seeded([0x42; 32]));
        let second = register_and_sign_in(config.clone(), Env::seeded([0x42; 32]));
        assert_eq!(first, second, "same seed, same bytes");
        // The seed is what decides them: another seed gives another credential.
        let other = register_and_sign_in(config, Env::seeded([0x43; 32]));
        assert_ne!(first.0, other.0, "another seed, another credential");
        assert_ne!(first.1, other.1, "another seed, another assertion");
    }
}

#[test]
fn the_system_environment_is_not_reproducible() {
    let a = register_and_sign_in(AuthenticatorConfig::direct(), Env::system());
    let b = register_and_sign_in(AuthenticatorConfig::direct(), Env::system());
    assert_ne!(a.0, b.0, "fresh OS randomness, fresh credential");
}
