//! The getInfo of every engine profile, checked against the rules real clients enforce when they parse it.
//!
//! A known-answer test of our own bytes cannot catch a getInfo that a browser rejects (one pinned the bytes
//! for months: `credBlob` without `maxCredBlobLength` made Chromium drop the whole getInfo and fall back to
//! U2F). So every profile goes through the desktop peer's restatement of Chromium's parser
//! ([`tandem_desktop::get_info::check`]) and through the CTAP 2.1 consistency rules python-fido2's client
//! builds on (the python-fido2 suite parses the same bytes with its own `Info`).

use std::sync::Arc;

use tandem_cbor::Value;
use tandem_desktop::get_info;
use tandem_engine::{
    AttestationCertificate, AttestationConfig, Authenticator, AuthenticatorConfig, BackupPolicy,
    DiscoverablePolicy,
};
use tandem_store::{SoftwareKeyProtector, SqliteStore};
use tandem_tests::AutoApprove;
use zeroize::Zeroizing;

fn get_info_of(config: AuthenticatorConfig) -> Vec<u8> {
    let protector = Arc::new(SoftwareKeyProtector::from_key_bytes(&[7u8; 32]));
    let store = Arc::new(SqliteStore::open_in_memory(protector).expect("in-memory store"));
    let engine = Authenticator::new(config, store, Arc::new(AutoApprove), Arc::new(AutoApprove));
    let bytes = engine.get_info_cbor();
    // The CTAP command returns the same bytes behind a success status.
    assert_eq!(engine.handle_ctap(&[0x04]), [&[0u8][..], &bytes].concat());
    bytes
}

/// CTAP 2.1 consistency rules beyond Chromium's parser that clients rely on.
fn ctap_consistent(info: &Value) -> Result<(), &'static str> {
    let extensions: Vec<&str> = info
        .get_int(2)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_text).collect())
        .unwrap_or_default();
    let option = |n: &str| {
        info.get_int(4)
            .and_then(|o| o.get_text(n))
            .and_then(Value::as_bool)
    };
    let protocols = info
        .get_int(6)
        .and_then(Value::as_array)
        .map_or(0, <[Value]>::len);
    // largeBlobKey is only usable with the largeBlobs command (CTAP 2.1 §12.3); clients pair them.
    if extensions.contains(&"largeBlobKey") != (option("largeBlobs") == Some(true)) {
        return Err("largeBlobKey is listed iff the largeBlobs option is true");
    }
    // hmac-secret needs the ClientPIN key agreement, so a PIN/UV protocol.
    if extensions.contains(&"hmac-secret") && protocols == 0 {
        return Err("hmac-secret requires pinUvAuthProtocols");
    }
    if extensions.contains(&"hmac-secret-mc") && !extensions.contains(&"hmac-secret") {
        return Err("hmac-secret-mc requires hmac-secret");
    }
    if option("pinUvAuthToken") == Some(true) && option("uv").is_none() && option("clientPin").is_none() {
        return Err("pinUvAuthToken requires a UV method (uv or clientPin)");
    }
    Ok(())
}

fn placeholder_certificate() -> AttestationCertificate {
    // getInfo only reads whether a certificate is configured.
    AttestationCertificate {
        private_key_pkcs8: Zeroizing::new(vec![]),
        chain: vec![],
    }
}

fn profiles() -> Vec<(&'static str, AuthenticatorConfig)> {
    vec![
        ("hybrid", AuthenticatorConfig::hybrid()),
        (
            "hybrid, synced, rk as requested",
            AuthenticatorConfig {
                backup: BackupPolicy::Synced,
                discoverable: DiscoverablePolicy::AsRequested,
                ..AuthenticatorConfig::hybrid()
            },
        ),
        ("direct", AuthenticatorConfig::direct()),
        (
            "direct with batch and enterprise attestation",
            AuthenticatorConfig {
                aaguid: [9; 16],
                attestation: AttestationConfig {
                    batch: Some(placeholder_certificate()),
                    enterprise: Some(placeholder_certificate()),
                    enterprise_rp_ids: vec!["example.com".into()],
                },
                ..AuthenticatorConfig::direct()
            },
        ),
        (
            "direct with custom transports",
            AuthenticatorConfig {
                transports: Some(vec!["usb".into(), "nfc".into()]),
                ..AuthenticatorConfig::direct()
            },
        ),
    ]
}

#[test]
fn every_profile_passes_chromium_and_ctap_rules() {
    for (name, config) in profiles() {
        let bytes = get_info_of(config);
        let info = tandem_cbor::decode_canonical(&bytes).expect("getInfo is canonical CBOR");
        get_info::check(&info).unwrap_or_else(|e| panic!("{name}: {e}"));
        ctap_consistent(&info).unwrap_or_else(|rule| panic!("{name}: inconsistent getInfo: {rule}"));
    }
}

#[test]
fn hybrid_get_info_offers_only_what_is_served_over_hybrid() {
    let info = tandem_cbor::decode_canonical(&get_info_of(AuthenticatorConfig::hybrid())).unwrap();
    let extensions: Vec<&str> = info
        .get_int(2)
        .and_then(Value::as_array)
        .unwrap()
        .iter()
        .filter_map(Value::as_text)
        .collect();
    // Chromium's own phone lists prf; Tandem also serves credBlob and credProtect over hybrid.
    assert_eq!(extensions, ["credBlob", "credProtect", "prf"]);
    let options = info.get_int(4).unwrap();
    for hidden in [
        "clientPin",
        "pinUvAuthToken",
        "largeBlobs",
        "credMgmt",
        "bioEnroll",
    ] {
        assert!(
            options.get_text(hidden).is_none(),
            "{hidden} is not offered over hybrid"
        );
    }
    assert!(info.get_int(6).is_none(), "no PIN/UV protocols over hybrid");
}

/// The consistency checker refuses what it is meant to refuse.
#[test]
fn consistency_checker_rejects_known_bad_get_infos() {
    let ext = |names: &[&str]| Value::Array(names.iter().map(|n| Value::text(*n)).collect());
    let lbk = Value::map()
        .insert(2, ext(&["largeBlobKey"]))
        .insert(4, Value::map().insert("rk", true).build())
        .build();
    assert!(ctap_consistent(&lbk).unwrap_err().contains("largeBlobKey"));
    let hmac = Value::map().insert(2, ext(&["hmac-secret"])).build();
    assert!(ctap_consistent(&hmac).unwrap_err().contains("hmac-secret"));
    let token = Value::map()
        .insert(4, Value::map().insert("pinUvAuthToken", true).build())
        .insert(6, Value::Array(vec![Value::Int(2)]))
        .build();
    assert!(ctap_consistent(&token).is_err());
}
