//! Consent rules: no silent assertion over hybrid, pinUvAuthToken state (lifetime, RP binding, spending),
//! and late approvals that store nothing.

mod common;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use tandem_cbor::Value;
use tandem_engine::ManualClock;
use tandem_engine::platform::{UserVerifier, UvKey, VerificationError, VerificationPrompt};
use tandem_engine::store::CredentialStore;
use tandem_engine::{Authenticator, AuthenticatorConfig, CtapStatus};
use tandem_engine::{Cancellation, KeyAgreementKey, PinProtocol};
use tandem_engine::{INITIAL_USAGE_TIME_LIMIT, MAX_USAGE_TIME_PERIOD};

const RP: &str = "example.com";

fn register(h: &Harness, user: &[u8]) -> Vec<u8> {
    let a = h.ok(0x01, &make_credential_params(RP, user, &[-7], true));
    parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap())
        .credential_id
        .unwrap()
}

/// Over hybrid, `up=false` is refused before anything is looked up or signed: no signature, credential
/// ID, user handle, numberOfCredentials or extension output without the user.
#[test]
fn hybrid_refuses_silent_assertions() {
    let h = harness(AuthenticatorConfig::hybrid());
    let id = register(&h, b"first");
    register(&h, b"second");
    let prompts = h.verifier.prompt_count();
    let silent = |v: Value| with(v, 5, Value::map().insert("up", false).build());
    for params in [
        silent(get_assertion_params(RP, &[&id])),
        silent(get_assertion_params(RP, &[])),
        silent(with(
            get_assertion_params(RP, &[]),
            4,
            Value::map().insert("credBlob", true).build(),
        )),
    ] {
        let (status, body) = h.ctap(0x02, Some(&params));
        assert_eq!(status, CtapStatus::UnsupportedOption.code());
        assert!(body.is_empty(), "no response body at all");
    }
    // Nothing pending for getNextAssertion, nobody prompted, no counter moved.
    assert_eq!(h.ctap(0x08, None).0, CtapStatus::NotAllowed.code());
    assert_eq!(h.verifier.prompt_count(), prompts);
    assert!(h.store.list_all().unwrap().iter().all(|m| m.sign_count == 0));
    // The prompted request still works and is user-verified.
    let a = h.ok(0x02, &get_assertion_params(RP, &[&id]));
    assert_eq!(
        parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap()).flags & 0x05,
        0x05
    );
}

fn harness_with_clock(clock: Arc<ManualClock>) -> Harness {
    let h = harness(AuthenticatorConfig::direct());
    let auth = Authenticator::new(
        AuthenticatorConfig::direct(),
        h.store.clone(),
        h.verifier.clone(),
        h.chooser.clone(),
    )
    .with_clock(clock);
    Harness { auth, ..h }
}

struct Client {
    key: KeyAgreementKey,
    shared: tandem_engine::SharedSecret,
}

fn client(h: &Harness) -> Client {
    let resp = h.ok(0x06, &Value::map().insert(1, 2).insert(2, 2).build());
    let key = KeyAgreementKey::generate().unwrap();
    let shared = key
        .shared_secret(PinProtocol::Two, resp.get_int(1).unwrap())
        .unwrap();
    Client { key, shared }
}

fn token_request(c: &Client, permissions: u64, rp: Option<&str>) -> Value {
    let mut m = Value::map()
        .insert(1, 2)
        .insert(2, 6)
        .insert(3, c.key.cose_public())
        .insert(9, permissions);
    if let Some(rp) = rp {
        m = m.insert(10, rp);
    }
    m.build()
}

fn token(h: &Harness, c: &Client, permissions: u64, rp: &str) -> Vec<u8> {
    let resp = h.ok(0x06, &token_request(c, permissions, Some(rp)));
    c.shared
        .decrypt(resp.get_int(2).unwrap().as_bytes().unwrap())
        .unwrap()
        .to_vec()
}

fn with_token(params: Value, token: &[u8], param_key: i64) -> Value {
    let tag = PinProtocol::Two.authenticate(token, &CDH);
    with(
        with(params, param_key, Value::bytes(tag)),
        param_key + 1,
        Value::from(2),
    )
}

/// mc/ga permissions need an RP ID when the token is issued; the user is not even asked without one.
#[test]
fn token_permissions_mc_ga_require_an_rp_id() {
    let h = harness(AuthenticatorConfig::direct());
    let c = client(&h);
    for permissions in [0x01, 0x02, 0x03] {
        assert_eq!(
            h.ctap(0x06, Some(&token_request(&c, permissions, None))).0,
            CtapStatus::MissingParameter.code()
        );
    }
    assert_eq!(h.verifier.prompt_count(), 0);
}

/// A token unused for longer than the initial usage time limit is refused; a used one serves until the
/// maximum usage period, then is refused too.
#[test]
fn token_expires_per_its_usage_timer() {
    let clock = Arc::new(ManualClock::new());
    let h = harness_with_clock(clock.clone());
    let id = register(&h, b"u");
    let c = client(&h);
    let silent_ga = |t: &[u8]| {
        with_token(
            with(
                get_assertion_params(RP, &[&id]),
                5,
                Value::map().insert("up", false).build(),
            ),
            t,
            6,
        )
    };

    // Unused past the initial limit: gone.
    let t = token(&h, &c, 0x02, RP);
    clock.advance(INITIAL_USAGE_TIME_LIMIT + Duration::from_secs(1));
    assert_eq!(
        h.ctap(0x02, Some(&silent_ga(&t))).0,
        CtapStatus::PinAuthInvalid.code()
    );

    // Used in time, it keeps serving (silent uses) until the maximum period, then not.
    let t = token(&h, &c, 0x02, RP);
    clock.advance(INITIAL_USAGE_TIME_LIMIT - Duration::from_secs(1));
    assert_eq!(h.ctap(0x02, Some(&silent_ga(&t))).0, 0);
    clock.advance(Duration::from_secs(120));
    assert_eq!(h.ctap(0x02, Some(&silent_ga(&t))).0, 0);
    clock.advance(MAX_USAGE_TIME_PERIOD);
    assert_eq!(
        h.ctap(0x02, Some(&silent_ga(&t))).0,
        CtapStatus::PinAuthInvalid.code()
    );
}

/// The token is bound to the RP named at issue, and a prompted operation spends it.
#[test]
fn token_is_bound_to_its_rp_and_spent_by_a_prompted_operation() {
    let h = harness(AuthenticatorConfig::direct());
    let id = register(&h, b"u");
    let c = client(&h);
    let t = token(&h, &c, 0x03, "other.example");
    assert_eq!(
        h.ctap(0x02, Some(&with_token(get_assertion_params(RP, &[&id]), &t, 6)))
            .0,
        CtapStatus::PinAuthInvalid.code()
    );
    let t = token(&h, &c, 0x03, RP);
    assert_eq!(
        h.ctap(0x02, Some(&with_token(get_assertion_params(RP, &[&id]), &t, 6)))
            .0,
        0
    );
    // Spent: neither a silent request nor makeCredential may use it again.
    let silent = with(
        get_assertion_params(RP, &[&id]),
        5,
        Value::map().insert("up", false).build(),
    );
    assert_eq!(
        h.ctap(0x02, Some(&with_token(silent, &t, 6))).0,
        CtapStatus::PinAuthInvalid.code()
    );
    assert_eq!(
        h.ctap(
            0x01,
            Some(&with_token(make_credential_params(RP, b"v", &[-7], true), &t, 8))
        )
        .0,
        CtapStatus::PinAuthInvalid.code()
    );
}

/// A verifier that approves, but only after its caller gave up (the session timed out meanwhile).
struct ApprovesTooLate(Mutex<Option<Cancellation>>);

impl UserVerifier for ApprovesTooLate {
    fn verify(&self, _prompt: &VerificationPrompt) -> Result<UvKey, VerificationError> {
        if let Some(c) = self.0.lock().unwrap().as_ref() {
            c.cancel();
        }
        Ok(common::test_uv_key())
    }
}

#[test]
fn late_approval_stores_and_signs_nothing() {
    let verifier = Arc::new(ApprovesTooLate(Mutex::new(None)));
    let store = sqlite_store();
    let auth = Authenticator::new(
        AuthenticatorConfig::hybrid(),
        store.clone(),
        verifier.clone(),
        Arc::new(tandem_tests_free_chooser::First),
    );
    let mc = [vec![0x01], make_credential_params(RP, b"u", &[-7], true).to_vec()].concat();
    let cancel = Cancellation::new();
    *verifier.0.lock().unwrap() = Some(cancel.clone());
    assert_eq!(
        auth.handle_ctap_cancellable(&mc, &cancel),
        [CtapStatus::KeepaliveCancel.code()]
    );
    assert!(store.list_all().unwrap().is_empty(), "no credential stored");

    // With a caller still waiting it works; a late approval of a sign-in then signs nothing either.
    *verifier.0.lock().unwrap() = None;
    assert_eq!(auth.handle_ctap_cancellable(&mc, &Cancellation::new())[0], 0);
    let ga = [vec![0x02], get_assertion_params(RP, &[]).to_vec()].concat();
    let cancel = Cancellation::new();
    *verifier.0.lock().unwrap() = Some(cancel.clone());
    assert_eq!(
        auth.handle_ctap_cancellable(&ga, &cancel),
        [CtapStatus::KeepaliveCancel.code()]
    );
    assert_eq!(store.list_all().unwrap()[0].sign_count, 0, "no signature counted");
}

mod tandem_tests_free_chooser {
    use tandem_engine::platform::{AccountChooser, AccountInfo};
    pub(crate) struct First;
    impl AccountChooser for First {
        fn choose(&self, _rp_id: &str, accounts: &[AccountInfo]) -> Option<usize> {
            (!accounts.is_empty()).then_some(0)
        }
    }
}
