//! Registrations and assertions produced through the WebAuthn-level API, verified by a real relying-party
//! library (webauthn-rs-core 0.6): attestation none, packed self, packed x5c with a CA; PRF/credProps outputs.

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::*;
use tandem_engine::assetlinks::NoAssetLinks;
use tandem_engine::webauthn::{self, CallerPolicy, WebAuthnError};
use tandem_engine::{AttestationConfig, AuthenticatorConfig, BackupPolicy, CtapStatus};
use tandem_engine::{Caller, PrivilegedAllowlist};
use webauthn_attestation_ca::{AttestationCaList, AttestationCaListBuilder};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::{
    AttestationConveyancePreference, COSEAlgorithm, Credential, PublicKeyCredential,
    RegisterPublicKeyCredential, UserVerificationPolicy,
};

const ORIGIN: &str = "https://example.com";

/// These tests play the WebAuthn client themselves (they build clientDataJSON and hash it), as the OS does on
/// iOS; the caller checks have their own tests (webauthn_caller.rs).
fn os(hash: &[u8]) -> Caller {
    Caller::OsVerified {
        client_data_hash: hash.try_into().unwrap(),
    }
}

fn policy() -> CallerPolicy<'static> {
    CallerPolicy {
        allowlist: PrivilegedAllowlist::bundled(),
        asset_links: &NoAssetLinks,
    }
}

fn rp() -> WebauthnCore {
    WebauthnCore::new_unsafe_experts_only(
        "Example",
        "example.com",
        vec![url::Url::parse(ORIGIN).unwrap()],
        Duration::from_secs(60),
        None,
        None,
    )
}

fn client_data(kind: &str, options_json: &str) -> Vec<u8> {
    let v: serde_json::Value = serde_json::from_str(options_json).unwrap();
    let challenge = v["publicKey"]["challenge"].as_str().unwrap();
    format!(r#"{{"type":"{kind}","challenge":"{challenge}","origin":"{ORIGIN}","crossOrigin":false}}"#)
        .into_bytes()
}

fn register_with(
    h: &Harness,
    conveyance: AttestationConveyancePreference,
    algs: Vec<COSEAlgorithm>,
    cas: Option<&AttestationCaList>,
) -> (Credential, webauthn::RegistrationResult) {
    let rp = rp();
    let builder = rp
        .new_challenge_register_builder(b"user-1", "alice@example.com", "Alice")
        .unwrap()
        .attestation(conveyance)
        .user_verification_policy(UserVerificationPolicy::Required)
        .credential_algorithms(algs)
        .require_resident_key(true);
    let (ccr, state) = rp.generate_challenge_register(builder).unwrap();
    let options = serde_json::to_string(&ccr).unwrap();
    let cdj = client_data("webauthn.create", &options);
    let result = webauthn::register(&h.auth, &options, &os(&sha256(&cdj)), &policy()).unwrap();
    let json = webauthn::registration_response_json(&result, &cdj);
    let reg: RegisterPublicKeyCredential = serde_json::from_str(&json).unwrap();
    let cred = rp
        .register_credential(&reg, &state, cas)
        .expect("webauthn-rs accepts the registration");
    (cred, result)
}

fn sign_in(h: &Harness, cred: &Credential) -> webauthn_rs_core::proto::AuthenticationResult {
    let rp = rp();
    let builder = rp
        .new_challenge_authenticate_builder(vec![cred.clone()], Some(UserVerificationPolicy::Required))
        .unwrap();
    let (rcr, state) = rp.generate_challenge_authenticate(builder).unwrap();
    let options = serde_json::to_string(&rcr).unwrap();
    let cdj = client_data("webauthn.get", &options);
    let result = webauthn::authenticate(&h.auth, &options, &os(&sha256(&cdj)), &policy()).unwrap();
    let json = webauthn::assertion_response_json(&result, &cdj);
    let pkc: PublicKeyCredential = serde_json::from_str(&json).unwrap();
    rp.authenticate_credential(&pkc, &state)
        .expect("webauthn-rs accepts the assertion")
}

#[test]
fn attestation_none_registers_and_signs_in() {
    let h = harness(AuthenticatorConfig::direct());
    let (cred, result) = register_with(
        &h,
        AttestationConveyancePreference::None,
        vec![COSEAlgorithm::ES256],
        None,
    );
    assert!(cred.user_verified);
    assert!(!cred.backup_eligible);
    assert_eq!(result.public_key_algorithm, -7);
    // The SPKI an app returns from getPublicKey() is the same key webauthn-rs extracted.
    use p256::pkcs8::DecodePublicKey;
    assert!(p256::PublicKey::from_public_key_der(&result.public_key_spki_der).is_ok());
    for expected in 1..=2 {
        let r = sign_in(&h, &cred);
        assert!(r.user_verified());
        assert_eq!(r.counter(), expected);
    }
}

#[test]
fn packed_self_attestation_with_synced_passkey() {
    let h = harness(AuthenticatorConfig {
        backup: BackupPolicy::Synced,
        ..AuthenticatorConfig::hybrid()
    });
    let (cred, _) = register_with(
        &h,
        AttestationConveyancePreference::Direct,
        vec![COSEAlgorithm::ES256],
        None,
    );
    assert!(cred.backup_eligible && cred.backup_state);
    let r = sign_in(&h, &cred);
    assert_eq!(r.counter(), 0);
    assert!(r.backup_eligible());
}

#[test]
fn packed_x5c_attestation_verifies_against_the_ca() {
    let (cert, root) = attestation_chain(TEST_AAGUID);
    let mut config = AuthenticatorConfig::direct();
    config.aaguid = TEST_AAGUID;
    config.attestation = AttestationConfig {
        batch: Some(cert),
        ..Default::default()
    };
    let h = harness(config);
    let mut builder = AttestationCaListBuilder::new();
    builder
        .insert_device_der(
            &root,
            uuid::Uuid::from_bytes(TEST_AAGUID),
            "Tandem test".into(),
            BTreeMap::new(),
        )
        .unwrap();
    let cas = builder.build();
    let (cred, _) = register_with(
        &h,
        AttestationConveyancePreference::Direct,
        vec![COSEAlgorithm::ES256],
        Some(&cas),
    );
    sign_in(&h, &cred);

    // A CA list that does not contain our root must make the RP reject the same kind of registration.
    let (_, other_root) = attestation_chain(TEST_AAGUID);
    let mut other = AttestationCaListBuilder::new();
    other
        .insert_device_der(
            &other_root,
            uuid::Uuid::from_bytes(TEST_AAGUID),
            "Other".into(),
            BTreeMap::new(),
        )
        .unwrap();
    let other = other.build();
    let rp = rp();
    let builder = rp
        .new_challenge_register_builder(b"user-2", "bob@example.com", "Bob")
        .unwrap()
        .attestation(AttestationConveyancePreference::Direct);
    let (ccr, state) = rp.generate_challenge_register(builder).unwrap();
    let options = serde_json::to_string(&ccr).unwrap();
    let cdj = client_data("webauthn.create", &options);
    let result = webauthn::register(&h.auth, &options, &os(&sha256(&cdj)), &policy()).unwrap();
    let reg: RegisterPublicKeyCredential =
        serde_json::from_str(&webauthn::registration_response_json(&result, &cdj)).unwrap();
    assert!(rp.register_credential(&reg, &state, Some(&other)).is_err());
}

#[test]
fn tampered_signature_is_rejected_by_the_rp() {
    let h = harness(AuthenticatorConfig::hybrid());
    let (cred, _) = register_with(
        &h,
        AttestationConveyancePreference::None,
        vec![COSEAlgorithm::ES256],
        None,
    );
    let rp = rp();
    let builder = rp.new_challenge_authenticate_builder(vec![cred], None).unwrap();
    let (rcr, state) = rp.generate_challenge_authenticate(builder).unwrap();
    let options = serde_json::to_string(&rcr).unwrap();
    let cdj = client_data("webauthn.get", &options);
    let mut result = webauthn::authenticate(&h.auth, &options, &os(&sha256(&cdj)), &policy()).unwrap();
    // Sign over one clientDataJSON, present another.
    let other = cdj
        .iter()
        .map(|b| if *b == b'{' { b'{' } else { *b })
        .chain(std::iter::once(b' '))
        .collect::<Vec<_>>();
    let pkc: PublicKeyCredential =
        serde_json::from_str(&webauthn::assertion_response_json(&result, &other)).unwrap();
    assert!(rp.authenticate_credential(&pkc, &state).is_err());
    result.signature[8] ^= 0x01;
    let pkc: PublicKeyCredential =
        serde_json::from_str(&webauthn::assertion_response_json(&result, &cdj)).unwrap();
    assert!(rp.authenticate_credential(&pkc, &state).is_err());
}

#[test]
fn android_style_options_with_prf_and_cred_props() {
    let h = harness(AuthenticatorConfig::hybrid());
    // Shape of Credential Manager's requestJson (base64url without padding).
    let create = r#"{
        "challenge": "AAECAwQFBgcICQoLDA0ODw",
        "rp": {"id": "example.com", "name": "Example"},
        "user": {"id": "dXNlci0x", "name": "alice", "displayName": "Alice"},
        "pubKeyCredParams": [{"type": "public-key", "alg": -8}, {"type": "public-key", "alg": -7}],
        "timeout": 60000,
        "authenticatorSelection": {"residentKey": "preferred", "userVerification": "required"},
        "attestation": "none",
        "extensions": {"credProps": true, "prf": {"eval": {"first": "c2FsdA"}}}
    }"#;
    let reg = webauthn::register(&h.auth, create, &os(&[1u8; 32]), &policy()).unwrap();
    assert_eq!(reg.public_key_algorithm, -8);
    assert_eq!(reg.client_extension_results.to_json()["credProps"]["rk"], true);
    assert_eq!(reg.client_extension_results.to_json()["prf"]["enabled"], true);
    let first_at_create = reg.client_extension_results.to_json()["prf"]["results"]["first"]
        .as_str()
        .unwrap()
        .to_owned();
    let att = tandem_cbor::decode_canonical(&reg.attestation_object).unwrap();
    assert_eq!(att.get_text("fmt").unwrap().as_text(), Some("none"));

    let get = format!(
        r#"{{"challenge": "AAEC", "rpId": "example.com", "userVerification": "required",
            "extensions": {{"prf": {{"evalByCredential": {{"{}": {{"first": "c2FsdA"}}}}}}}}}}"#,
        base64_url(&reg.credential_id)
    );
    let a = webauthn::authenticate(&h.auth, &get, &os(&[2u8; 32]), &policy()).unwrap();
    assert_eq!(a.user_handle.as_deref(), Some(&b"user-1"[..]));
    assert_eq!(
        a.client_extension_results.to_json()["prf"]["results"]["first"].as_str(),
        Some(first_at_create.as_str())
    );
    let json: serde_json::Value =
        serde_json::from_str(&webauthn::assertion_response_json(&a, b"{}")).unwrap();
    assert_eq!(json["response"]["userHandle"], "dXNlci0x");
    assert_eq!(json["type"], "public-key");

    // Engine refusals surface with their CTAP status.
    let wrong_rp = r#"{"challenge": "AAEC", "rpId": "other.example"}"#;
    match webauthn::authenticate(&h.auth, wrong_rp, &os(&[2u8; 32]), &policy()) {
        Err(WebAuthnError::Engine(e)) => assert_eq!(e.status(), CtapStatus::NoCredentials),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        webauthn::authenticate(&h.auth, "{", &os(&[0; 32]), &policy()),
        Err(WebAuthnError::Json(_))
    ));
    assert!(matches!(
        webauthn::register(
            &h.auth,
            r#"{"rp": {"name": "x"}, "user": {"id": "AA"}, "pubKeyCredParams": []}"#,
            &os(&[0; 32]),
            &policy()
        ),
        Err(WebAuthnError::Json(_))
    ));
}

/// A platform provider stores every passkey as discoverable (as Google Password Manager and iCloud Keychain
/// do), and credProps says so even when the RP asked for a non-discoverable credential.
#[test]
fn cred_props_reports_what_was_stored() {
    let create = |resident_key: &str| {
        format!(
            r#"{{"challenge": "AAEC", "rp": {{"id": "example.com", "name": "Example"}},
                "user": {{"id": "dXNlci0x", "name": "alice", "displayName": "Alice"}},
                "pubKeyCredParams": [{{"type": "public-key", "alg": -7}}],
                "authenticatorSelection": {{"residentKey": "{resident_key}"}},
                "extensions": {{"credProps": true}}}}"#
        )
    };
    let h = harness(AuthenticatorConfig::hybrid());
    let reg = webauthn::register(&h.auth, &create("discouraged"), &os(&[1u8; 32]), &policy()).unwrap();
    assert_eq!(reg.client_extension_results.to_json()["credProps"]["rk"], true);
    // And it really is discoverable: a sign-in without allowCredentials finds it.
    let a = webauthn::authenticate(
        &h.auth,
        r#"{"challenge": "AAEC", "rpId": "example.com"}"#,
        &os(&[2u8; 32]),
        &policy(),
    )
    .unwrap();
    assert_eq!(a.credential_id, reg.credential_id);

    // With rk semantics (a security-key profile), credProps reports false for "discouraged".
    let hd = harness(AuthenticatorConfig::direct());
    let reg = webauthn::register(&hd.auth, &create("discouraged"), &os(&[1u8; 32]), &policy()).unwrap();
    assert_eq!(reg.client_extension_results.to_json()["credProps"]["rk"], false);
}

fn base64_url(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}
