//! Issue #10 point 1: whose origin a WebAuthn-level request speaks for. A phishing app must not get an assertion
//! for a bank: its clientDataHash is refused unless it is an allowlisted browser (package AND certificate), a
//! browser's RP ID must fit its page's origin, and a native app needs the RP's Digital Asset Links. Every
//! refusal is typed, asks the user nothing and stores nothing. Positive cases are verified by webauthn-rs with
//! the origin the RP expects.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::*;
use tandem_engine::AuthenticatorConfig;
use tandem_engine::assetlinks::{AssetLinksSource, NoAssetLinks};
use tandem_engine::webauthn::{self, CallerPolicy, WebAuthnError};
use tandem_engine::{AndroidApp, AppSigning, Caller, CallerError, CertDigest, PrivilegedAllowlist};
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::proto::{
    COSEAlgorithm, PublicKeyCredential, RegisterPublicKeyCredential, UserVerificationPolicy,
};

const BROWSER_CERT: CertDigest = [0xB0; 32];
const BANK_APP_CERT: CertDigest = [0xBA; 32];
const EVIL_CERT: CertDigest = [0xEE; 32];

fn fingerprint(d: &CertDigest) -> String {
    d.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(":")
}

fn allowlist() -> PrivilegedAllowlist {
    PrivilegedAllowlist::parse(&format!(
        r#"{{"apps":[{{"type":"android","info":{{"package_name":"com.example.browser","signatures":[{{"build":"release","cert_fingerprint_sha256":"{}"}}]}}}}]}}"#,
        fingerprint(&BROWSER_CERT)
    ))
    .unwrap()
}

/// Asset-links files by RP ID, as if fetched.
#[derive(Default)]
struct Links(HashMap<String, Vec<u8>>);

impl AssetLinksSource for Links {
    fn fetch(&self, rp_id: &str) -> Result<Vec<u8>, String> {
        self.0.get(rp_id).cloned().ok_or_else(|| "404".into())
    }
}

fn bank_links(cert: &CertDigest) -> Links {
    let body = format!(
        r#"[{{"relation":["delegate_permission/common.get_login_creds"],
              "target":{{"namespace":"android_app","package_name":"com.bank.app","sha256_cert_fingerprints":["{}"]}}}}]"#,
        fingerprint(cert)
    );
    Links(HashMap::from([("bank.com".to_owned(), body.into_bytes())]))
}

fn app(package: &str, cert: CertDigest) -> AndroidApp {
    AndroidApp::new(package, AppSigning::Lineage(vec![cert]))
}

fn android(app: AndroidApp, origin: Option<&str>, hash: Option<[u8; 32]>) -> Caller {
    Caller::Android {
        app,
        origin: origin.map(str::to_owned),
        client_data_hash: hash,
    }
}

fn create(rp: &str) -> String {
    format!(
        r#"{{"challenge": "AAECAwQFBgcICQoLDA0ODw", "rp": {{"id": "{rp}", "name": "Bank"}},
            "user": {{"id": "dXNlci0x", "name": "alice"}},
            "pubKeyCredParams": [{{"type": "public-key", "alg": -7}}]}}"#
    )
}

fn get(rp: &str) -> String {
    format!(r#"{{"challenge": "AAEC", "rpId": "{rp}"}}"#)
}

/// Registers one bank.com passkey the trusted way (the OS as client), for the sign-in refusals.
fn with_bank_passkey() -> Harness {
    let h = harness(AuthenticatorConfig::hybrid());
    let os = Caller::OsVerified {
        client_data_hash: [1; 32],
    };
    let policy = CallerPolicy {
        allowlist: &PrivilegedAllowlist::default(),
        asset_links: &NoAssetLinks,
    };
    webauthn::register(&h.auth, &create("bank.com"), &os, &policy).unwrap();
    h
}

/// Runs a registration and a sign-in as `caller` for `rp`, and expects both refused with `expected`, with no
/// prompt shown and nothing stored.
fn assert_refused(
    caller: &Caller,
    rp: &str,
    links: &dyn AssetLinksSource,
    expected: fn(&CallerError) -> bool,
) {
    let list = allowlist();
    let policy = CallerPolicy {
        allowlist: &list,
        asset_links: links,
    };
    let h = harness(AuthenticatorConfig::hybrid());
    match webauthn::register(&h.auth, &create(rp), caller, &policy) {
        Err(WebAuthnError::Caller(e)) => assert!(expected(&e), "register: unexpected {e:?}"),
        other => panic!("register: {other:?}"),
    }
    assert_eq!(h.credential_count(), 0, "nothing stored");
    assert_eq!(h.verifier.prompt_count(), 0, "the user was not asked");

    let h = with_bank_passkey();
    let prompts = h.verifier.prompt_count();
    match webauthn::authenticate(&h.auth, &get(rp), caller, &policy) {
        Err(WebAuthnError::Caller(e)) => assert!(expected(&e), "authenticate: unexpected {e:?}"),
        other => panic!("authenticate: {other:?}"),
    }
    assert_eq!(h.verifier.prompt_count(), prompts, "the user was not asked");
    assert_eq!(h.credential_count(), 1);
}

#[test]
fn unprivileged_app_supplying_a_hash_is_refused() {
    // The phishing app: the hash of the bank's clientData for a live challenge, rpId bank.com.
    let caller = android(app("com.evil.app", EVIL_CERT), None, Some([7; 32]));
    assert_refused(
        &caller,
        "bank.com",
        &bank_links(&EVIL_CERT),
        |e| matches!(e, CallerError::UnprivilegedClientDataHash { package } if package == "com.evil.app"),
    );
    // Claiming a web origin does not help either.
    let caller = android(app("com.evil.app", EVIL_CERT), Some("https://bank.com"), None);
    assert_refused(&caller, "bank.com", &NoAssetLinks, |e| {
        matches!(e, CallerError::UnprivilegedOrigin { .. })
    });
}

#[test]
fn privileged_browser_package_with_a_wrong_certificate_is_refused() {
    // A repackaged "browser" with the allowlisted package name but its own signing key.
    let caller = android(
        app("com.example.browser", EVIL_CERT),
        Some("https://bank.com"),
        Some([7; 32]),
    );
    assert_refused(&caller, "bank.com", &NoAssetLinks, |e| {
        matches!(e, CallerError::UnprivilegedClientDataHash { .. })
    });
}

#[test]
fn rp_id_outside_the_browsers_origin_is_refused() {
    let browser = || app("com.example.browser", BROWSER_CERT);
    for (origin, hash) in [("https://evil.com", Some([7; 32])), ("https://evil.com", None)] {
        let caller = android(browser(), Some(origin), hash);
        assert_refused(&caller, "bank.com", &NoAssetLinks, |e| {
            matches!(e, CallerError::RpIdMismatch { .. })
        });
    }
    for (origin, rp) in [("https://bank.com", "com"), ("https://bank.co.uk", "co.uk")] {
        let caller = android(browser(), Some(origin), Some([7; 32]));
        assert_refused(&caller, rp, &NoAssetLinks, |e| {
            matches!(e, CallerError::PublicSuffix { .. })
        });
    }
    let caller = android(browser(), Some("http://bank.com"), Some([7; 32]));
    assert_refused(&caller, "bank.com", &NoAssetLinks, |e| {
        matches!(e, CallerError::InvalidOrigin { .. })
    });
}

#[test]
fn native_app_without_asset_links_is_refused() {
    let caller = android(app("com.bank.app", BANK_APP_CERT), None, None);
    assert_refused(&caller, "bank.com", &NoAssetLinks, |e| {
        matches!(e, CallerError::AssetLinksUnavailable { .. })
    });
    // The bank lists its app, but with another certificate (a look-alike signed by someone else).
    assert_refused(&caller, "bank.com", &bank_links(&EVIL_CERT), |e| {
        matches!(e, CallerError::NotAssociated { .. })
    });
    // Another package with the bank's listed certificate is not the bank's app either.
    let other = android(app("com.evil.app", BANK_APP_CERT), None, None);
    assert_refused(&other, "bank.com", &bank_links(&BANK_APP_CERT), |e| {
        matches!(e, CallerError::NotAssociated { .. })
    });
    assert_refused(&caller, "com", &bank_links(&BANK_APP_CERT), |e| {
        matches!(e, CallerError::PublicSuffix { .. })
    });
}

fn relying_party(origin: &str) -> WebauthnCore {
    WebauthnCore::new_unsafe_experts_only(
        "Bank",
        "bank.com",
        vec![url::Url::parse(origin).unwrap()],
        Duration::from_secs(60),
        None,
        None,
    )
}

/// A full ceremony as `caller`, checked by webauthn-rs configured with the single origin `expected_origin`.
fn ceremony_verified_by_rp(caller: &Caller, links: &dyn AssetLinksSource, expected_origin: &str) {
    let list = allowlist();
    let policy = CallerPolicy {
        allowlist: &list,
        asset_links: links,
    };
    let h = harness(AuthenticatorConfig::hybrid());
    let rp = relying_party(expected_origin);
    let builder = rp
        .new_challenge_register_builder(b"user-1", "alice", "Alice")
        .unwrap()
        .user_verification_policy(UserVerificationPolicy::Required)
        .credential_algorithms(vec![COSEAlgorithm::ES256])
        .require_resident_key(true);
    let (ccr, state) = rp.generate_challenge_register(builder).unwrap();
    let reg = webauthn::register(&h.auth, &serde_json::to_string(&ccr).unwrap(), caller, &policy).unwrap();
    let cdj = reg
        .client_data_json
        .clone()
        .expect("Tandem built the client data");
    let json: serde_json::Value = serde_json::from_slice(&cdj).unwrap();
    assert_eq!(json["origin"], expected_origin);
    assert_eq!(json["type"], "webauthn.create");
    let response: RegisterPublicKeyCredential =
        serde_json::from_str(&webauthn::registration_response_json(&reg, &cdj)).unwrap();
    let cred = rp
        .register_credential(&response, &state, None)
        .expect("the RP accepts the registration");

    let builder = rp
        .new_challenge_authenticate_builder(vec![cred], Some(UserVerificationPolicy::Required))
        .unwrap();
    let (rcr, state) = rp.generate_challenge_authenticate(builder).unwrap();
    let a = webauthn::authenticate(&h.auth, &serde_json::to_string(&rcr).unwrap(), caller, &policy).unwrap();
    let cdj = a.client_data_json.clone().expect("Tandem built the client data");
    let pkc: PublicKeyCredential =
        serde_json::from_str(&webauthn::assertion_response_json(&a, &cdj)).unwrap();
    rp.authenticate_credential(&pkc, &state)
        .expect("the RP accepts the assertion");
}

#[test]
fn associated_native_app_signs_with_its_apk_key_hash_origin() {
    let bank = app("com.bank.app", BANK_APP_CERT);
    let origin = bank.apk_key_hash_origin().unwrap();
    assert!(origin.starts_with("android:apk-key-hash:"));
    ceremony_verified_by_rp(&android(bank, None, None), &bank_links(&BANK_APP_CERT), &origin);
}

#[test]
fn privileged_browser_without_a_hash_gets_client_data_for_its_page() {
    let caller = android(
        app("com.example.browser", BROWSER_CERT),
        Some("https://login.bank.com"),
        None,
    );
    ceremony_verified_by_rp(&caller, &NoAssetLinks, "https://login.bank.com");
}

#[test]
fn privileged_browser_hash_is_honoured_for_a_matching_rp_id() {
    let list = allowlist();
    let policy = CallerPolicy {
        allowlist: &list,
        asset_links: &NoAssetLinks,
    };
    let h = harness(AuthenticatorConfig::hybrid());
    let caller = android(
        app("com.example.browser", BROWSER_CERT),
        Some("https://login.bank.com"),
        Some([7; 32]),
    );
    let reg = webauthn::register(&h.auth, &create("bank.com"), &caller, &policy).unwrap();
    // The browser reports its own clientDataJSON.
    assert_eq!(reg.client_data_json, None);
    let a = webauthn::authenticate(&h.auth, &get("bank.com"), &caller, &policy).unwrap();
    assert_eq!(a.client_data_json, None);
    assert_eq!(h.credential_count(), 1);
}

#[test]
fn built_client_data_needs_a_challenge() {
    let list = allowlist();
    let links = bank_links(&BANK_APP_CERT);
    let policy = CallerPolicy {
        allowlist: &list,
        asset_links: &links,
    };
    let h = harness(AuthenticatorConfig::hybrid());
    let caller = android(app("com.bank.app", BANK_APP_CERT), None, None);
    assert!(matches!(
        webauthn::authenticate(&h.auth, r#"{"rpId": "bank.com"}"#, &caller, &policy),
        Err(WebAuthnError::Json(_))
    ));
}
