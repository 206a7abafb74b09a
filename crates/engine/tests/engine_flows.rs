//! End-to-end engine behaviour through `handle_ctap`, against the real SQLite store.

mod common;

use std::time::Duration;

use common::*;
use tandem_cbor::Value;
use tandem_engine::platform::{Operation, VerificationError};
use tandem_engine::store::CredentialStore;
use tandem_engine::{AttestationConfig, AuthenticatorConfig, BackupPolicy, CtapStatus};
use tandem_engine::{KeyAgreementKey, PinProtocol};

const RP: &str = "example.com";

fn register(h: &Harness, params: &Value) -> (Value, ParsedAuthData) {
    let resp = h.ok(0x01, params);
    let ad = parse_auth_data(resp.get_int(2).unwrap().as_bytes().unwrap());
    (resp, ad)
}

fn register_default(h: &Harness, user: &[u8], rk: bool) -> (Vec<u8>, Value) {
    let (_, ad) = register(h, &make_credential_params(RP, user, &[-7], rk));
    (ad.credential_id.unwrap(), ad.cose_key.unwrap())
}

#[test]
fn hybrid_registration_and_sign_in_round_trip() {
    let h = harness(AuthenticatorConfig::hybrid());
    let (resp, ad) = register(&h, &make_credential_params(RP, b"user-1", &[-7, -8], true));
    // UP|UV|AT: nothing syncs unless the embedding app declares it, so no backup flags; Chromium-phone
    // AAGUID of zeros.
    assert_eq!(ad.flags, 0x45);
    assert_eq!(ad.rp_id_hash, sha256(RP.as_bytes()));
    assert_eq!(ad.sign_count, 0);
    assert_eq!(ad.aaguid, Some([0; 16]));
    let id = ad.credential_id.clone().unwrap();
    assert_eq!(id.len(), 32);
    let cose = ad.cose_key.unwrap();
    assert_eq!(cose.get_int(3), Some(&Value::from(-7)));
    // Self attestation (no batch certificate configured) verifies under the new credential key.
    assert_eq!(resp.get_int(1).unwrap().as_text(), Some("packed"));
    let stmt = resp.get_int(3).unwrap();
    assert_eq!(stmt.get_text("alg"), Some(&Value::from(-7)));
    assert!(stmt.get_text("x5c").is_none());
    let auth_data = resp.get_int(2).unwrap().as_bytes().unwrap();
    assert!(verify_es256(
        &cose,
        auth_data,
        &CDH,
        stmt.get_text("sig").unwrap().as_bytes().unwrap()
    ));
    let prompt = h.verifier.last_prompt();
    assert_eq!(prompt.operation, Operation::Register);
    assert_eq!(prompt.rp_id, RP);
    assert_eq!(prompt.rp_name.as_deref(), Some("Example"));
    assert_eq!(prompt.account.as_ref().unwrap().user_id, b"user-1");
    let stored = h.store.list_all().unwrap();
    assert_eq!(stored.len(), 1);
    assert!(stored[0].discoverable && !stored[0].backup_eligible && !stored[0].backup_state);

    let a = h.ok(0x02, &get_assertion_params(RP, &[]));
    let cred = a.get_int(1).unwrap();
    assert_eq!(cred.get_text("id").unwrap().as_bytes(), Some(&id[..]));
    assert_eq!(
        cred.get_text("transports"),
        Some(&Value::Array(vec![Value::text("internal"), Value::text("cable")]))
    );
    let ad2 = a.get_int(2).unwrap().as_bytes().unwrap();
    let parsed = parse_auth_data(ad2);
    // UP|UV, and a per-credential counter (device-bound).
    assert_eq!((parsed.flags, parsed.sign_count), (0x05, 1));
    assert!(verify_es256(
        &cose,
        ad2,
        &CDH,
        a.get_int(3).unwrap().as_bytes().unwrap()
    ));
    let user = a.get_int(4).unwrap();
    assert_eq!(user.get_text("id").unwrap().as_bytes(), Some(&b"user-1"[..]));
    assert_eq!(
        user.get_text("name").unwrap().as_text(),
        Some("alice@example.com")
    );
    assert_eq!(a.get_int(6), Some(&Value::Bool(true)));
    assert!(a.get_int(5).is_none());
    assert_eq!(h.verifier.prompt_count(), 2);
    assert_eq!(h.verifier.last_prompt().operation, Operation::SignIn);
}

#[test]
fn synced_passkeys_carry_backup_flags_and_no_counter() {
    let h = harness(AuthenticatorConfig {
        backup: BackupPolicy::Synced,
        ..AuthenticatorConfig::hybrid()
    });
    let (_, ad) = register(&h, &make_credential_params(RP, b"u", &[-7], true));
    assert_eq!((ad.flags, ad.sign_count), (0x5d, 0), "UP|UV|BE|BS|AT");
    let stored = &h.store.list_all().unwrap()[0];
    assert!(stored.backup_eligible && stored.backup_state);
    for _ in 0..2 {
        let a = h.ok(0x02, &get_assertion_params(RP, &[]));
        let p = parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap());
        assert_eq!((p.flags, p.sign_count), (0x1d, 0));
    }
}

/// Desktops that never send `rk` (webauthn-authenticator-rs) still get a passkey on a phone, as with the
/// phones' own providers; a security-key profile keeps `rk` semantics.
#[test]
fn hybrid_credentials_are_discoverable_whatever_rk_says() {
    let h = harness(AuthenticatorConfig::hybrid());
    let (id, _) = register_default(&h, b"no-rk", false);
    assert!(h.store.list_all().unwrap()[0].discoverable);
    // Sign-in with an empty allow list finds it and returns the user handle.
    let a = h.ok(0x02, &get_assertion_params(RP, &[]));
    assert_eq!(
        a.get_int(1).unwrap().get_text("id").unwrap().as_bytes(),
        Some(&id[..])
    );
    assert_eq!(
        a.get_int(4).unwrap().get_text("id").unwrap().as_bytes(),
        Some(&b"no-rk"[..])
    );

    let hd = harness(AuthenticatorConfig::direct());
    let (id, _) = register_default(&hd, b"no-rk", false);
    assert!(!hd.store.list_all().unwrap()[0].discoverable);
    assert_eq!(
        hd.ctap(0x02, Some(&get_assertion_params(RP, &[]))).0,
        CtapStatus::NoCredentials.code()
    );
    let a = hd.ok(0x02, &get_assertion_params(RP, &[&id]));
    assert!(
        a.get_int(4).is_none(),
        "no user for a non-discoverable credential"
    );
}

#[test]
fn device_bound_credentials_count_signatures() {
    let h = harness(AuthenticatorConfig::direct());
    let (_, ad) = register(&h, &make_credential_params(RP, b"u", &[-7], true));
    assert_eq!(ad.flags, 0x45, "UP|UV|AT, no backup flags");
    let id = ad.credential_id.unwrap();
    for expected in 1..=3u32 {
        let a = h.ok(0x02, &get_assertion_params(RP, &[&id]));
        let p = parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap());
        assert_eq!((p.flags, p.sign_count), (0x05, expected));
        assert!(a.get_int(1).unwrap().get_text("transports").is_none());
    }
}

#[test]
fn ed25519_is_chosen_by_request_order() {
    use ed25519_dalek::Verifier;
    let h = harness(AuthenticatorConfig::hybrid());
    let (_, ad) = register(&h, &make_credential_params(RP, b"u", &[-8, -7], true));
    let cose = ad.cose_key.unwrap();
    assert_eq!(cose.get_int(1), Some(&Value::from(1)), "OKP key");
    assert_eq!(cose.get_int(3), Some(&Value::from(-8)));
    assert_eq!(cose.get_int(-1), Some(&Value::from(6)), "Ed25519");
    let pk: [u8; 32] = cose.get_int(-2).unwrap().as_bytes().unwrap().try_into().unwrap();
    let vk = ed25519_dalek::VerifyingKey::from_bytes(&pk).unwrap();
    let a = h.ok(0x02, &get_assertion_params(RP, &[]));
    let mut msg = a.get_int(2).unwrap().as_bytes().unwrap().to_vec();
    msg.extend_from_slice(&CDH);
    let sig = ed25519_dalek::Signature::from_slice(a.get_int(3).unwrap().as_bytes().unwrap()).unwrap();
    assert!(vk.verify(&msg, &sig).is_ok());
    // Unknown algorithms before a supported one are skipped.
    let (_, ad) = register(&h, &make_credential_params(RP, b"v", &[-257, -7], true));
    assert_eq!(ad.cose_key.unwrap().get_int(3), Some(&Value::from(-7)));
}

#[test]
fn refusal_stores_nothing_and_maps_status() {
    let h = harness(AuthenticatorConfig::hybrid());
    for (outcome, status) in [
        (VerificationError::Denied, CtapStatus::OperationDenied),
        (VerificationError::Cancelled, CtapStatus::OperationDenied),
        (VerificationError::TimedOut, CtapStatus::UserActionTimeout),
        (
            VerificationError::Unavailable("no biometrics".into()),
            CtapStatus::UvBlocked,
        ),
    ] {
        h.verifier.push(Err(outcome));
        let (s, body) = h.ctap(0x01, Some(&make_credential_params(RP, b"u", &[-7], true)));
        assert_eq!(s, status.code());
        assert!(body.is_empty());
    }
    assert_eq!(h.credential_count(), 0);
    assert_eq!(h.verifier.prompt_count(), 4);
    // A refused sign-in returns nothing and changes no counter.
    let hd = harness(AuthenticatorConfig::direct());
    let (id, _) = register_default(&hd, b"u", true);
    hd.verifier.push(Err(VerificationError::Denied));
    assert_eq!(
        hd.ctap(0x02, Some(&get_assertion_params(RP, &[&id]))).0,
        CtapStatus::OperationDenied.code()
    );
    assert_eq!(hd.store.list_all().unwrap()[0].sign_count, 0);
}

#[test]
fn expired_approval_signs_and_stores_nothing() {
    let mut config = AuthenticatorConfig::hybrid();
    config.approval_ttl = Duration::ZERO;
    let h = harness(config);
    let (s, _) = h.ctap(0x01, Some(&make_credential_params(RP, b"u", &[-7], true)));
    assert_eq!(s, CtapStatus::Other.code());
    assert_eq!(h.credential_count(), 0);
    assert_eq!(h.verifier.prompt_count(), 1);
}

#[test]
fn make_credential_up_false_is_invalid_option_without_prompt() {
    let h = harness(AuthenticatorConfig::hybrid());
    let params = with(
        make_credential_params(RP, b"u", &[-7], true),
        7,
        Value::map().insert("rk", true).insert("up", false).build(),
    );
    assert_eq!(h.ctap(0x01, Some(&params)).0, CtapStatus::InvalidOption.code());
    assert_eq!((h.verifier.prompt_count(), h.credential_count()), (0, 0));
}

#[test]
fn exclude_list_waits_for_the_user_then_reports_excluded_whatever_the_answer() {
    let h = harness(AuthenticatorConfig::hybrid());
    let (id, _) = register_default(&h, b"u", true);
    let params = with(
        make_credential_params(RP, b"u2", &[-7], true),
        5,
        descriptor_list(&[b"other", &id]),
    );
    assert_eq!(
        h.ctap(0x01, Some(&params)).0,
        CtapStatus::CredentialExcluded.code()
    );
    assert_eq!(h.verifier.prompt_count(), 2);
    // CTAP 2.2 §6.1.2 step 12: "regardless of whether user presence is obtained or the authenticator times
    // out", CTAP2_ERR_CREDENTIAL_EXCLUDED. The user is still asked (no silent probing), once per request.
    for refusal in [
        VerificationError::Denied,
        VerificationError::Cancelled,
        VerificationError::TimedOut,
        VerificationError::Unavailable("locked out".into()),
    ] {
        h.verifier.push(Err(refusal));
        assert_eq!(
            h.ctap(0x01, Some(&params)).0,
            CtapStatus::CredentialExcluded.code()
        );
    }
    assert_eq!(h.verifier.prompt_count(), 6);
    assert_eq!(h.credential_count(), 1);
    // An exclude list naming another RP's credential does not block.
    let other_rp = with(
        make_credential_params("other.example", b"u", &[-7], true),
        5,
        descriptor_list(&[&id]),
    );
    assert_eq!(h.ctap(0x01, Some(&other_rp)).0, 0);
}

#[test]
fn exclude_list_counts_a_uv_required_credential_only_for_a_verified_request() {
    let h = harness(AuthenticatorConfig::direct());
    let l3 = register_protected(&h, b"three", 3, true);
    let params = with(
        make_credential_params(RP, b"new", &[-7], true),
        5,
        descriptor_list(&[&l3]),
    );
    // The prompt is the engine's UV: approved, the request is verified and the level-3 credential excludes.
    assert_eq!(
        h.ctap(0x01, Some(&params)).0,
        CtapStatus::CredentialExcluded.code()
    );
    // Refused, the request is unverified: the level-3 entry does not count (nothing is revealed about it) and
    // the request ends as a refused registration.
    h.verifier.push(Err(VerificationError::Denied));
    assert_eq!(h.ctap(0x01, Some(&params)).0, CtapStatus::OperationDenied.code());
    // Verified by a pinUvAuthToken, it excludes whatever the presence prompt says.
    let p = platform(&h, PinProtocol::Two);
    let token = uv_token(&h, &p, PERMISSION_MC_GA, RP);
    let with_token = with(
        with(
            params.clone(),
            8,
            Value::bytes(PinProtocol::Two.authenticate(&token, &CDH)),
        ),
        9,
        Value::from(2),
    );
    h.verifier.push(Err(VerificationError::Denied));
    assert_eq!(
        h.ctap(0x01, Some(&with_token)).0,
        CtapStatus::CredentialExcluded.code()
    );
    // A level-1 credential in the same list excludes even when the prompt is refused.
    let (l1, _) = register_default(&h, b"one", true);
    let mixed = with(params, 5, descriptor_list(&[&l3, &l1]));
    h.verifier.push(Err(VerificationError::Denied));
    assert_eq!(
        h.ctap(0x01, Some(&mixed)).0,
        CtapStatus::CredentialExcluded.code()
    );
    assert_eq!(h.credential_count(), 2);
}

#[test]
fn silent_preflight_has_no_prompt_and_no_up_uv() {
    let h = harness(AuthenticatorConfig::direct());
    let (id, _) = register_default(&h, b"u", false);
    let before = h.verifier.prompt_count();
    let params = with(
        get_assertion_params(RP, &[&id]),
        5,
        Value::map().insert("up", false).build(),
    );
    let a = h.ok(0x02, &params);
    let p = parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap());
    assert_eq!(
        p.flags, 0x00,
        "neither UP nor UV (and no backup flags: nothing syncs)"
    );
    assert_eq!(h.verifier.prompt_count(), before);
    // up=false, uv=true cannot be honoured silently.
    let params = with(
        params,
        5,
        Value::map().insert("up", false).insert("uv", true).build(),
    );
    assert_eq!(h.ctap(0x02, Some(&params)).0, CtapStatus::InvalidOption.code());
    // No credential for an unknown ID, without prompting.
    assert_eq!(
        h.ctap(0x02, Some(&get_assertion_params(RP, &[b"nope"]))).0,
        CtapStatus::NoCredentials.code()
    );
    assert_eq!(h.verifier.prompt_count(), before);
}

#[test]
fn non_discoverable_credentials_need_the_allow_list() {
    // Only a profile with rk semantics makes non-discoverable credentials (phones make every one a passkey).
    let h = harness(AuthenticatorConfig::direct());
    let (id, cose) = register_default(&h, b"u", false);
    assert_eq!(
        h.ctap(0x02, Some(&get_assertion_params(RP, &[]))).0,
        CtapStatus::NoCredentials.code()
    );
    let a = h.ok(0x02, &get_assertion_params(RP, &[&id]));
    assert!(
        a.get_int(4).is_none(),
        "no user entity for a non-discoverable credential"
    );
    assert!(a.get_int(6).is_none());
    assert!(verify_es256(
        &cose,
        a.get_int(2).unwrap().as_bytes().unwrap(),
        &CDH,
        a.get_int(3).unwrap().as_bytes().unwrap()
    ));
    // The allow list is scoped to the RP.
    assert_eq!(
        h.ctap(0x02, Some(&get_assertion_params("evil.example", &[&id])))
            .0,
        CtapStatus::NoCredentials.code()
    );
}

fn register_protected(h: &Harness, user: &[u8], level: u8, rk: bool) -> Vec<u8> {
    let params = with(
        make_credential_params(RP, user, &[-7], rk),
        6,
        Value::map().insert("credProtect", level).build(),
    );
    let (_, ad) = register(h, &params);
    assert_eq!(ad.flags & 0x80, 0x80);
    assert_eq!(
        ad.extensions.unwrap().get_text("credProtect"),
        Some(&Value::from(level))
    );
    ad.credential_id.unwrap()
}

#[test]
fn cred_protect_levels_are_enforced() {
    // Silent requests exist only in the direct profile (hybrid refuses up=false).
    let silent = |v: Value| with(v, 5, Value::map().insert("up", false).build());
    let h = harness(AuthenticatorConfig::direct());
    let l2 = register_protected(&h, b"two", 2, true);
    let l3 = register_protected(&h, b"three", 3, true);
    // Silent, no allow list: neither level 2 nor 3 may be revealed.
    assert_eq!(
        h.ctap(0x02, Some(&silent(get_assertion_params(RP, &[])))).0,
        CtapStatus::NoCredentials.code()
    );
    // Silent with an allow list: level 2 yes, level 3 no.
    assert_eq!(h.ctap(0x02, Some(&silent(get_assertion_params(RP, &[&l2])))).0, 0);
    assert_eq!(
        h.ctap(0x02, Some(&silent(get_assertion_params(RP, &[&l3])))).0,
        CtapStatus::NoCredentials.code()
    );
    // With the verifier (UV), both are usable, with and without allow list.
    assert_eq!(h.ctap(0x02, Some(&get_assertion_params(RP, &[&l3]))).0, 0);
    *h.chooser.answer.lock().unwrap() = Some(1);
    let a = h.ok(0x02, &get_assertion_params(RP, &[]));
    assert_eq!(h.chooser.offered.lock().unwrap().last().unwrap().len(), 2);
    assert!(a.get_int(1).unwrap().get_text("id").is_some());
    // Level 1 credentials are found silently without a list.
    let h1 = harness(AuthenticatorConfig::direct());
    register_protected(&h1, b"one", 1, true);
    assert_eq!(h1.ctap(0x02, Some(&silent(get_assertion_params(RP, &[])))).0, 0);
    let stored = h.store.list_all().unwrap();
    assert!(stored.iter().any(|m| m.cred_protect == 3) && stored.iter().any(|m| m.cred_protect == 2));
}

#[test]
fn account_chooser_resolves_several_passkeys() {
    let h = harness(AuthenticatorConfig::hybrid());
    register_default(&h, b"first", true);
    register_default(&h, b"second", true);
    *h.chooser.answer.lock().unwrap() = Some(1);
    let a = h.ok(0x02, &get_assertion_params(RP, &[]));
    let offered = h.chooser.offered.lock().unwrap().last().unwrap().clone();
    let chosen = a
        .get_int(4)
        .unwrap()
        .get_text("id")
        .unwrap()
        .as_bytes()
        .unwrap()
        .to_vec();
    assert_eq!(chosen, offered[1].user_id);
    assert_eq!(
        h.verifier.last_prompt().account.unwrap().user_id,
        chosen,
        "prompt names the chosen account"
    );
    // Cancelling the chooser denies the operation before any biometric prompt.
    let prompts = h.verifier.prompt_count();
    *h.chooser.answer.lock().unwrap() = None;
    assert_eq!(
        h.ctap(0x02, Some(&get_assertion_params(RP, &[]))).0,
        CtapStatus::OperationDenied.code()
    );
    *h.chooser.answer.lock().unwrap() = Some(7);
    assert_eq!(
        h.ctap(0x02, Some(&get_assertion_params(RP, &[]))).0,
        CtapStatus::OperationDenied.code()
    );
    assert_eq!(h.verifier.prompt_count(), prompts);
}

#[test]
fn discoverable_credential_for_same_user_is_replaced() {
    let h = harness(AuthenticatorConfig::hybrid());
    register_default(&h, b"same", true);
    let (second, _) = register_default(&h, b"same", true);
    let all = h.store.list_all().unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, second);
}

#[test]
fn silent_multi_credential_uses_get_next_assertion() {
    let h = harness(AuthenticatorConfig::direct());
    register_default(&h, b"first", true);
    register_default(&h, b"second", true);
    let params = with(
        get_assertion_params(RP, &[]),
        5,
        Value::map().insert("up", false).build(),
    );
    let a = h.ok(0x02, &params);
    assert_eq!(a.get_int(5), Some(&Value::from(2)));
    let first = a.get_int(1).unwrap().get_text("id").unwrap().clone();
    let (s, body) = h.ctap(0x08, None);
    assert_eq!(s, 0);
    let b = tandem_cbor::decode_canonical(&body).unwrap();
    assert_ne!(b.get_int(1).unwrap().get_text("id").unwrap(), &first);
    assert_eq!(
        parse_auth_data(b.get_int(2).unwrap().as_bytes().unwrap()).flags & 0x05,
        0
    );
    assert!(
        b.get_int(4).unwrap().get_text("name").is_none(),
        "no identifying info without UV"
    );
    assert_eq!(h.ctap(0x08, None).0, CtapStatus::NotAllowed.code());
    assert_eq!(
        h.verifier.prompt_count(),
        2,
        "only the two registrations prompted"
    );
}

/// A CTAP client's side of the PIN/UV auth protocol.
struct Platform {
    key: KeyAgreementKey,
    protocol: PinProtocol,
    shared: tandem_engine::SharedSecret,
}

fn platform(h: &Harness, protocol: PinProtocol) -> Platform {
    let resp = h.ok(
        0x06,
        &Value::map().insert(1, protocol.wire()).insert(2, 2).build(),
    );
    let auth_key = resp.get_int(1).unwrap().clone();
    assert_eq!(auth_key.get_int(3), Some(&Value::from(-25)));
    let key = KeyAgreementKey::generate().unwrap();
    let shared = key.shared_secret(protocol, &auth_key).unwrap();
    Platform {
        key,
        protocol,
        shared,
    }
}

const PERMISSION_MC_GA: u64 = 0x03;

/// getPinUvAuthTokenUsingUvWithPermissions (one prompt), decrypted.
fn uv_token(h: &Harness, p: &Platform, permissions: u64, rp: &str) -> Vec<u8> {
    let req = Value::map()
        .insert(1, p.protocol.wire())
        .insert(2, 6)
        .insert(3, p.key.cose_public())
        .insert(9, permissions)
        .insert(10, rp)
        .build();
    let resp = h.ok(0x06, &req);
    p.shared
        .decrypt(resp.get_int(2).unwrap().as_bytes().unwrap())
        .unwrap()
        .to_vec()
}

impl Platform {
    fn hmac_input(&self, salts: &[u8]) -> Value {
        let enc = self.shared.encrypt(salts).unwrap();
        Value::map()
            .insert(1, self.key.cose_public())
            .insert(2, enc.clone())
            .insert(3, self.shared.authenticate(&enc))
            .insert(4, self.protocol.wire())
            .build()
    }
}

#[test]
fn hmac_secret_matches_hmac_secret_mc_and_prf() {
    for protocol in [PinProtocol::One, PinProtocol::Two] {
        let h = harness(AuthenticatorConfig::direct());
        let p = platform(&h, protocol);
        let salt1 = [0x11u8; 32];
        let salt2 = [0x22u8; 32];
        let salts = [salt1, salt2].concat();
        let mc = with(
            make_credential_params(RP, b"u", &[-7], true),
            6,
            Value::map()
                .insert("hmac-secret", true)
                .insert("hmac-secret-mc", p.hmac_input(&salts))
                .build(),
        );
        let (_, ad) = register(&h, &mc);
        let ext = ad.extensions.unwrap();
        assert_eq!(ext.get_text("hmac-secret"), Some(&Value::Bool(true)));
        let mc_out = p
            .shared
            .decrypt(ext.get_text("hmac-secret-mc").unwrap().as_bytes().unwrap())
            .unwrap();
        assert_eq!(mc_out.len(), 64);

        let ga = with(
            get_assertion_params(RP, &[]),
            4,
            Value::map().insert("hmac-secret", p.hmac_input(&salts)).build(),
        );
        let a = h.ok(0x02, &ga);
        let ext = parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap())
            .extensions
            .unwrap();
        let ga_out = p
            .shared
            .decrypt(ext.get_text("hmac-secret").unwrap().as_bytes().unwrap())
            .unwrap();
        assert_eq!(
            ga_out.as_slice(),
            mc_out.as_slice(),
            "same CredRandom (UV) at creation and assertion"
        );
        assert_ne!(ga_out[..32], ga_out[32..]);

        // The hybrid `prf` form with the same salts gives the same values, in unsigned outputs.
        let prf = Value::map()
            .insert(
                "prf",
                Value::map()
                    .insert(
                        "eval",
                        Value::map()
                            .insert("first", salt1.to_vec())
                            .insert("second", salt2.to_vec())
                            .build(),
                    )
                    .build(),
            )
            .build();
        let a = h.ok(0x02, &with(get_assertion_params(RP, &[]), 4, prf));
        let results = a
            .get_int(8)
            .unwrap()
            .get_text("prf")
            .unwrap()
            .get_text("results")
            .unwrap();
        assert_eq!(
            results.get_text("first").unwrap().as_bytes().unwrap(),
            &ga_out[..32]
        );
        assert_eq!(
            results.get_text("second").unwrap().as_bytes().unwrap(),
            &ga_out[32..]
        );

        // A tampered saltAuth is rejected before any prompt.
        let prompts = h.verifier.prompt_count();
        let mut bad = p.hmac_input(&salts);
        if let Value::Map(m) = &mut bad {
            m.retain(|(k, _)| k.as_int() != Some(3));
            m.push((
                Value::from(3),
                Value::bytes(vec![0u8; if protocol == PinProtocol::One { 16 } else { 32 }]),
            ));
        }
        let ga = with(
            get_assertion_params(RP, &[]),
            4,
            Value::map().insert("hmac-secret", bad).build(),
        );
        assert_eq!(h.ctap(0x02, Some(&ga)).0, CtapStatus::PinAuthInvalid.code());
        // Salts of the wrong size.
        let ga = with(
            get_assertion_params(RP, &[]),
            4,
            Value::map()
                .insert("hmac-secret", p.hmac_input(&[0u8; 48]))
                .build(),
        );
        assert_eq!(h.ctap(0x02, Some(&ga)).0, CtapStatus::InvalidLength.code());
        assert_eq!(h.verifier.prompt_count(), prompts);
    }
}

#[test]
fn prf_at_creation_and_by_credential() {
    let h = harness(AuthenticatorConfig::hybrid());
    let salt = [0x33u8; 32];
    let prf = Value::map()
        .insert(
            "prf",
            Value::map()
                .insert("eval", Value::map().insert("first", salt.to_vec()).build())
                .build(),
        )
        .build();
    let resp = h.ok(
        0x01,
        &with(make_credential_params(RP, b"u", &[-7], true), 6, prf.clone()),
    );
    let out = resp.get_int(6).unwrap().get_text("prf").unwrap();
    assert_eq!(out.get_text("enabled"), Some(&Value::Bool(true)));
    let at_create = out
        .get_text("results")
        .unwrap()
        .get_text("first")
        .unwrap()
        .clone();
    assert!(out.get_text("results").unwrap().get_text("second").is_none());
    let id = parse_auth_data(resp.get_int(2).unwrap().as_bytes().unwrap())
        .credential_id
        .unwrap();
    // evalByCredential for this ID wins over eval.
    let by = Value::map()
        .insert(
            "prf",
            Value::map()
                .insert("eval", Value::map().insert("first", vec![0u8; 32]).build())
                .insert(
                    "evalByCredential",
                    Value::Map(vec![(
                        Value::bytes(id.clone()),
                        Value::map().insert("first", salt.to_vec()).build(),
                    )]),
                )
                .build(),
        )
        .build();
    let a = h.ok(0x02, &with(get_assertion_params(RP, &[&id]), 4, by));
    let results = a
        .get_int(8)
        .unwrap()
        .get_text("prf")
        .unwrap()
        .get_text("results")
        .unwrap();
    assert_eq!(results.get_text("first"), Some(&at_create));
    // evalByCredential is not allowed at creation.
    let bad = Value::map()
        .insert(
            "prf",
            Value::map()
                .insert("evalByCredential", Value::Map(vec![]))
                .build(),
        )
        .build();
    assert_eq!(
        h.ctap(
            0x01,
            Some(&with(make_credential_params(RP, b"v", &[-7], true), 6, bad))
        )
        .0,
        CtapStatus::InvalidParameter.code()
    );
}

#[test]
fn cred_blob_is_served_and_large_blob_key_is_ignored() {
    let h = harness(AuthenticatorConfig::direct());
    let blob = vec![0xb1u8; 16];
    // largeBlobKey is not supported (no largeBlobs command): any value, even a malformed one, is ignored.
    for large_blob_key in [Value::Bool(true), Value::Bool(false), Value::text("x")] {
        let mc = with(
            make_credential_params(RP, b"u", &[-7], true),
            6,
            Value::map()
                .insert("credBlob", blob.clone())
                .insert("largeBlobKey", large_blob_key.clone())
                .build(),
        );
        let resp = h.ok(0x01, &mc);
        assert!(resp.get_int(5).is_none(), "no largeBlobKey output");
        let ad = parse_auth_data(resp.get_int(2).unwrap().as_bytes().unwrap());
        assert_eq!(
            ad.extensions.unwrap().get_text("credBlob"),
            Some(&Value::Bool(true))
        );
        let ga = with(
            get_assertion_params(RP, &[]),
            4,
            Value::map()
                .insert("credBlob", true)
                .insert("largeBlobKey", large_blob_key)
                .build(),
        );
        let a = h.ok(0x02, &ga);
        assert!(a.get_int(7).is_none(), "no largeBlobKey output");
        let ext = parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap())
            .extensions
            .unwrap();
        assert_eq!(ext.get_text("credBlob").unwrap().as_bytes(), Some(&blob[..]));
    }
    // credBlob false asks for nothing (no output, no error).
    let ga = with(
        get_assertion_params(RP, &[]),
        4,
        Value::map().insert("credBlob", false).build(),
    );
    let a = h.ok(0x02, &ga);
    assert!(
        parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap())
            .extensions
            .is_none()
    );
    // Too long: not stored, reported false.
    let mc = with(
        make_credential_params(RP, b"v", &[-7], true),
        6,
        Value::map().insert("credBlob", vec![0u8; 33]).build(),
    );
    let (_, ad) = register(&h, &mc);
    assert_eq!(
        ad.extensions.unwrap().get_text("credBlob"),
        Some(&Value::Bool(false))
    );
}

#[test]
fn pin_uv_auth_token_is_validated_but_never_replaces_the_prompt() {
    for protocol in [PinProtocol::Two, PinProtocol::One] {
        let h = harness(AuthenticatorConfig::direct());
        let p = platform(&h, protocol);
        let req = Value::map()
            .insert(1, protocol.wire())
            .insert(2, 6)
            .insert(3, p.key.cose_public())
            .insert(9, 0x03)
            .insert(10, RP)
            .build();
        let resp = h.ok(0x06, &req);
        assert_eq!(h.verifier.prompt_count(), 1);
        let token = p
            .shared
            .decrypt(resp.get_int(2).unwrap().as_bytes().unwrap())
            .unwrap();
        assert_eq!(token.len(), 32);
        let param = protocol.authenticate(&token, &CDH);
        let mc = with(
            make_credential_params(RP, b"u", &[-7], true),
            8,
            Value::bytes(param.clone()),
        );
        let mc = with(mc, 9, Value::from(protocol.wire()));
        // A wrong tag fails.
        let mut wrong = param.clone();
        wrong[0] ^= 1;
        let bad = with(mc.clone(), 8, Value::bytes(wrong));
        assert_eq!(h.ctap(0x01, Some(&bad)).0, CtapStatus::PinAuthInvalid.code());
        // The right one works, and the verifier still ran for the operation itself.
        let (_, ad) = register(&h, &mc);
        assert_eq!(ad.flags & 0x05, 0x05);
        assert_eq!(h.verifier.prompt_count(), 2);
        // The token is spent.
        assert_eq!(h.ctap(0x01, Some(&mc)).0, CtapStatus::PinAuthInvalid.code());
        // Missing protocol with a param.
        let no_proto = without(mc.clone(), 9);
        assert_eq!(
            h.ctap(0x01, Some(&no_proto)).0,
            CtapStatus::MissingParameter.code()
        );
    }
    let h = harness(AuthenticatorConfig::direct());
    let p = platform(&h, PinProtocol::Two);
    let base = Value::map()
        .insert(1, 2)
        .insert(2, 6)
        .insert(3, p.key.cose_public());
    assert_eq!(
        h.ctap(0x06, Some(&base.clone().insert(9, 0x04).build())).0,
        CtapStatus::UnauthorizedPermission.code()
    );
    assert_eq!(
        h.ctap(0x06, Some(&base.clone().insert(9, 0).build())).0,
        CtapStatus::InvalidParameter.code()
    );
    assert_eq!(
        h.ctap(0x06, Some(&base.build())).0,
        CtapStatus::MissingParameter.code()
    );
    // A token bound to one RP does not work for another.
    let resp = h.ok(
        0x06,
        &Value::map()
            .insert(1, 2)
            .insert(2, 6)
            .insert(3, p.key.cose_public())
            .insert(9, 2)
            .insert(10, "a.example")
            .build(),
    );
    let token = p
        .shared
        .decrypt(resp.get_int(2).unwrap().as_bytes().unwrap())
        .unwrap();
    register_default(&h, b"u", true);
    let ga = with(
        get_assertion_params(RP, &[]),
        6,
        Value::bytes(PinProtocol::Two.authenticate(&token, &CDH)),
    );
    assert_eq!(
        h.ctap(0x02, Some(&with(ga, 7, Value::from(2)))).0,
        CtapStatus::PinAuthInvalid.code()
    );
}

#[test]
fn silent_preflight_with_a_token_is_user_verified() {
    let h = harness(AuthenticatorConfig::direct());
    let id = register_protected(&h, b"three", 3, true);
    let p = platform(&h, PinProtocol::Two);
    let req = Value::map()
        .insert(1, 2)
        .insert(2, 6)
        .insert(3, p.key.cose_public())
        .insert(9, 0x02)
        .insert(10, RP)
        .build();
    let token = p
        .shared
        .decrypt(h.ok(0x06, &req).get_int(2).unwrap().as_bytes().unwrap())
        .unwrap();
    let param = Value::bytes(PinProtocol::Two.authenticate(&token, &CDH));
    let preflight = with(
        get_assertion_params(RP, &[&id]),
        5,
        Value::map().insert("up", false).build(),
    );
    // Without the token the level-3 credential stays hidden.
    assert_eq!(h.ctap(0x02, Some(&preflight)).0, CtapStatus::NoCredentials.code());
    let preflight = with(with(preflight, 6, param.clone()), 7, Value::from(2));
    let prompts = h.verifier.prompt_count();
    let a = h.ok(0x02, &preflight);
    assert_eq!(
        parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap()).flags & 0x05,
        0x04,
        "UV from the token (issued after verification), no UP (nobody was asked now)"
    );
    assert_eq!(
        a.get_int(4).unwrap().get_text("name").unwrap().as_text(),
        Some("alice@example.com"),
        "a verified request may see the account name"
    );
    assert_eq!(h.verifier.prompt_count(), prompts);
    // The token is still usable for the real assertion, which prompts and sets UP|UV.
    let real = with(
        with(get_assertion_params(RP, &[&id]), 6, param),
        7,
        Value::from(2),
    );
    let a = h.ok(0x02, &real);
    assert_eq!(
        parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap()).flags & 0x05,
        0x05
    );
    assert_eq!(h.verifier.prompt_count(), prompts + 1);
}

#[test]
fn silent_discovery_with_a_token_stays_user_verified_through_get_next_assertion() {
    let h = harness(AuthenticatorConfig::direct());
    register_default(&h, b"first", true);
    register_default(&h, b"second", true);
    let p = platform(&h, PinProtocol::One);
    let token = uv_token(&h, &p, 0x02, RP);
    let params = with(
        with(
            with(
                get_assertion_params(RP, &[]),
                5,
                Value::map().insert("up", false).build(),
            ),
            6,
            Value::bytes(PinProtocol::One.authenticate(&token, &CDH)),
        ),
        7,
        Value::from(1),
    );
    let prompts = h.verifier.prompt_count();
    let a = h.ok(0x02, &params);
    assert_eq!(a.get_int(5), Some(&Value::from(2)));
    let (s, body) = h.ctap(0x08, None);
    assert_eq!(s, 0);
    let b = tandem_cbor::decode_canonical(&body).unwrap();
    for r in [&a, &b] {
        assert_eq!(
            parse_auth_data(r.get_int(2).unwrap().as_bytes().unwrap()).flags & 0x05,
            0x04
        );
        assert!(r.get_int(4).unwrap().get_text("name").is_some());
    }
    assert_eq!(h.verifier.prompt_count(), prompts);
    // Without the token, the same discovery is unverified throughout.
    let bare = without(without(params, 6), 7);
    let a = h.ok(0x02, &bare);
    assert_eq!(
        parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap()).flags & 0x05,
        0
    );
    let b = tandem_cbor::decode_canonical(&h.ctap(0x08, None).1).unwrap();
    assert_eq!(
        parse_auth_data(b.get_int(2).unwrap().as_bytes().unwrap()).flags & 0x05,
        0
    );
}

#[test]
fn zero_length_pin_uv_auth_param_probe() {
    // CTAP 2.2 §6.1.2 / §6.2.2 step 1: after user presence, PIN_NOT_SET (no PIN exists; UV is built in).
    let h = harness(AuthenticatorConfig::direct());
    let mc = with(
        make_credential_params(RP, b"u", &[-7], true),
        8,
        Value::bytes(vec![]),
    );
    assert_eq!(h.ctap(0x01, Some(&mc)).0, CtapStatus::PinNotSet.code());
    assert_eq!(h.verifier.prompt_count(), 1);
    // With a protocol too (step 1 comes before the protocol check).
    let mc2 = with(mc.clone(), 9, Value::from(2));
    assert_eq!(h.ctap(0x01, Some(&mc2)).0, CtapStatus::PinNotSet.code());
    let ga = with(get_assertion_params(RP, &[]), 6, Value::bytes(vec![]));
    assert_eq!(h.ctap(0x02, Some(&ga)).0, CtapStatus::PinNotSet.code());
    assert_eq!(h.verifier.prompt_count(), 3);
    assert_eq!(h.verifier.last_prompt().operation, Operation::SignIn);
    // "If the user declines permission, or the operation times out": OPERATION_DENIED.
    for refusal in [
        VerificationError::Denied,
        VerificationError::Cancelled,
        VerificationError::TimedOut,
        VerificationError::Unavailable("no biometrics".into()),
    ] {
        h.verifier.push(Err(refusal.clone()));
        assert_eq!(h.ctap(0x01, Some(&mc)).0, CtapStatus::OperationDenied.code());
        h.verifier.push(Err(refusal));
        assert_eq!(h.ctap(0x02, Some(&ga)).0, CtapStatus::OperationDenied.code());
    }
    assert_eq!(h.credential_count(), 0);
}

#[test]
fn hybrid_refuses_pin_uv_auth_without_prompting() {
    // The hybrid getInfo offers no PIN/UV auth protocol, so step 1 (the probe) does not apply and any
    // pinUvAuthParam fails the protocol check: MISSING_PARAMETER without one, INVALID_PARAMETER with one.
    let h = harness(AuthenticatorConfig::hybrid());
    let (id, _) = register_default(&h, b"u", true);
    let prompts = h.verifier.prompt_count();
    for param in [vec![], vec![0u8; 32]] {
        let mc = with(
            make_credential_params(RP, b"v", &[-7], true),
            8,
            Value::bytes(param.clone()),
        );
        assert_eq!(h.ctap(0x01, Some(&mc)).0, CtapStatus::MissingParameter.code());
        let mc = with(mc, 9, Value::from(2));
        assert_eq!(h.ctap(0x01, Some(&mc)).0, CtapStatus::InvalidParameter.code());
        let ga = with(
            with(get_assertion_params(RP, &[&id]), 6, Value::bytes(param)),
            7,
            Value::from(1),
        );
        assert_eq!(h.ctap(0x02, Some(&ga)).0, CtapStatus::InvalidParameter.code());
    }
    assert_eq!(h.verifier.prompt_count(), prompts);
    assert_eq!(h.credential_count(), 1);
}

#[test]
fn hybrid_has_no_client_pin() {
    let h = harness(AuthenticatorConfig::hybrid());
    let key = KeyAgreementKey::generate().unwrap();
    for sub in [0x01, 0x02, 0x05, 0x06, 0x07] {
        let req = Value::map()
            .insert(1, 2)
            .insert(2, sub)
            .insert(3, key.cose_public())
            .insert(9, 0x03)
            .insert(10, RP)
            .build();
        assert_eq!(
            h.ctap(0x06, Some(&req)).0,
            CtapStatus::InvalidCommand.code(),
            "subcommand {sub}"
        );
    }
    assert_eq!(h.verifier.prompt_count(), 0);
}

#[test]
fn hybrid_ignores_hmac_secret_inputs() {
    let h = harness(AuthenticatorConfig::hybrid());
    let key = KeyAgreementKey::generate().unwrap();
    let well_formed = Value::map()
        .insert(1, key.cose_public())
        .insert(2, vec![0u8; 32])
        .insert(3, vec![0u8; 16])
        .build();
    // Well-formed or not, hmac-secret(-mc) inputs are ignored over hybrid, as if unknown: no output, no error.
    for (hmac_secret, hmac_secret_mc) in [
        (Value::Bool(true), well_formed.clone()),
        (Value::text("yes"), Value::from(7)),
    ] {
        let mc = with(
            make_credential_params(RP, b"u", &[-7], true),
            6,
            Value::map()
                .insert("hmac-secret", hmac_secret)
                .insert("hmac-secret-mc", hmac_secret_mc)
                .insert("credProtect", 1)
                .build(),
        );
        let (_, ad) = register(&h, &mc);
        let ext = ad.extensions.unwrap();
        assert!(ext.get_text("hmac-secret").is_none() && ext.get_text("hmac-secret-mc").is_none());
        assert_eq!(ext.get_text("credProtect"), Some(&Value::from(1)));
        for input in [well_formed.clone(), Value::Array(vec![])] {
            let ga = with(
                get_assertion_params(RP, &[]),
                4,
                Value::map().insert("hmac-secret", input).build(),
            );
            let a = h.ok(0x02, &ga);
            assert!(
                parse_auth_data(a.get_int(2).unwrap().as_bytes().unwrap())
                    .extensions
                    .is_none()
            );
        }
    }
    // The direct profile serves hmac-secret, so there a malformed input is still an error.
    let d = harness(AuthenticatorConfig::direct());
    let mc = with(
        make_credential_params(RP, b"u", &[-7], true),
        6,
        Value::map().insert("hmac-secret", "yes").build(),
    );
    assert_eq!(d.ctap(0x01, Some(&mc)).0, CtapStatus::CborUnexpectedType.code());
}

#[test]
fn get_uv_retries_reports_the_platform_allowance() {
    let h = harness(AuthenticatorConfig::direct());
    // python-fido2 (and Yubico's SDKs) send the protocol; the subcommand does not need it.
    for req in [
        Value::map().insert(1, 2).insert(2, 7).build(),
        Value::map().insert(1, 1).insert(2, 7).build(),
        Value::map().insert(2, 7).build(),
    ] {
        let resp = h.ok(0x06, &req);
        assert_eq!(resp, Value::map().insert(5, tandem_engine::UV_RETRIES).build());
    }
    assert_eq!(tandem_engine::UV_RETRIES, 5);
    assert_eq!(h.verifier.prompt_count(), 0);
    // PIN subcommands stay unsupported: there is no PIN.
    assert_eq!(
        h.ctap(0x06, Some(&Value::map().insert(1, 2).insert(2, 1).build()))
            .0,
        CtapStatus::InvalidSubcommand.code()
    );
}

#[test]
fn attestation_choices() {
    let (cert, _root) = attestation_chain(TEST_AAGUID);
    let mut config = AuthenticatorConfig::direct();
    config.aaguid = TEST_AAGUID;
    config.attestation = AttestationConfig {
        batch: Some(cert.clone()),
        enterprise: Some(cert.clone()),
        enterprise_rp_ids: vec!["corp.example".into()],
    };
    let h = harness(config);
    let resp = h.ok(0x01, &make_credential_params(RP, b"u", &[-8], true));
    assert_eq!(resp.get_int(1).unwrap().as_text(), Some("packed"));
    let stmt = resp.get_int(3).unwrap();
    assert_eq!(
        stmt.get_text("alg"),
        Some(&Value::from(-7)),
        "batch key is ES256 whatever the credential"
    );
    assert_eq!(
        stmt.get_text("x5c"),
        Some(&Value::Array(vec![Value::bytes(cert.chain[0].clone())]))
    );
    assert!(resp.get_int(4).is_none());
    // Preference for none.
    let pref = |list: &[&str]| Value::Array(list.iter().map(|s| Value::text(*s)).collect());
    let resp = h.ok(
        0x01,
        &with(
            make_credential_params(RP, b"v", &[-7], true),
            11,
            pref(&["tpm", "none", "packed"]),
        ),
    );
    assert_eq!(resp.get_int(1).unwrap().as_text(), Some("none"));
    assert_eq!(resp.get_int(3), Some(&Value::Map(vec![])));
    // Enterprise: 1 only for listed RPs, 2 for all; epAtt reported.
    let ep = |rp: &str, v: i64| with(make_credential_params(rp, b"w", &[-7], true), 10, Value::from(v));
    assert_eq!(
        h.ok(0x01, &ep("corp.example", 1)).get_int(4),
        Some(&Value::Bool(true))
    );
    assert!(h.ok(0x01, &ep(RP, 1)).get_int(4).is_none());
    assert_eq!(h.ok(0x01, &ep(RP, 2)).get_int(4), Some(&Value::Bool(true)));
    assert_eq!(h.ctap(0x01, Some(&ep(RP, 3))).0, CtapStatus::InvalidOption.code());
    // Not configured: enterpriseAttestation is an invalid parameter.
    let plain = harness(AuthenticatorConfig::direct());
    assert_eq!(
        plain.ctap(0x01, Some(&ep(RP, 2))).0,
        CtapStatus::InvalidParameter.code()
    );
    assert_eq!(plain.credential_count(), 0);
}

#[test]
fn selection_asks_for_presence_in_every_profile() {
    for config in [AuthenticatorConfig::hybrid(), AuthenticatorConfig::direct()] {
        let h = harness(config);
        assert_eq!(h.auth.handle_ctap(&[0x0b]), vec![0]);
        assert_eq!(h.verifier.prompt_count(), 1);
        for (refusal, status) in [
            (VerificationError::Denied, CtapStatus::OperationDenied),
            (VerificationError::Cancelled, CtapStatus::OperationDenied),
            (
                VerificationError::Unavailable("no biometrics".into()),
                CtapStatus::OperationDenied,
            ),
            (VerificationError::TimedOut, CtapStatus::UserActionTimeout),
        ] {
            h.verifier.push(Err(refusal));
            assert_eq!(h.auth.handle_ctap(&[0x0b]), vec![status.code()]);
        }
        assert_eq!(h.verifier.prompt_count(), 5);
    }
}

#[test]
fn authenticator_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<tandem_engine::Authenticator>();
}
