//! CTAP codec: strict request decoding (status per CTAP 2.2 §8.2) and known-answer getInfo encodings.

mod common;

use common::*;
use tandem_cbor::Value;
use tandem_engine::ctap::{Request, decode_request, decode_request_ignoring};
use tandem_engine::{AuthenticatorConfig, CtapStatus, EngineError};

fn status_of(msg: &[u8]) -> CtapStatus {
    match decode_request(msg) {
        Ok(r) => panic!("expected an error, decoded {r:?}"),
        Err(e) => e.status(),
    }
}

fn mc(params: &Value) -> Vec<u8> {
    let mut m = vec![0x01];
    m.extend(params.to_vec());
    m
}

fn ga(params: &Value) -> Vec<u8> {
    let mut m = vec![0x02];
    m.extend(params.to_vec());
    m
}

fn valid_mc() -> Value {
    make_credential_params("example.com", b"user-1", &[-7], true)
}

#[test]
fn framing_errors() {
    assert_eq!(status_of(&[]), CtapStatus::InvalidLength);
    assert_eq!(status_of(&[0x42]), CtapStatus::InvalidCommand);
    assert_eq!(status_of(&[0x03]), CtapStatus::InvalidCommand);
    assert_eq!(status_of(&[0x04, 0xa0]), CtapStatus::InvalidLength);
    assert!(matches!(decode_request(&[0x04]), Ok(Request::GetInfo)));
    assert!(matches!(decode_request(&[0x08]), Ok(Request::GetNextAssertion)));
    assert!(matches!(decode_request(&[0x0b]), Ok(Request::Selection)));
}

#[test]
fn malformed_cbor_is_invalid_cbor() {
    assert_eq!(status_of(&[0x01, 0xff]), CtapStatus::InvalidCbor);
    assert_eq!(status_of(&[0x01, 0xa1, 0x01]), CtapStatus::InvalidCbor);
    // Duplicate key 1.
    assert_eq!(
        status_of(&[0x01, 0xa2, 0x01, 0x40, 0x01, 0x40]),
        CtapStatus::InvalidCbor
    );
    // Trailing byte after the map.
    let mut m = mc(&valid_mc());
    m.push(0x00);
    assert_eq!(status_of(&m), CtapStatus::InvalidCbor);
    // Indefinite-length map.
    assert_eq!(status_of(&[0x02, 0xbf, 0xff]), CtapStatus::InvalidCbor);
}

#[test]
fn parameters_must_be_a_map() {
    assert_eq!(status_of(&[0x01, 0x80]), CtapStatus::CborUnexpectedType);
    assert_eq!(status_of(&[0x02, 0x01]), CtapStatus::CborUnexpectedType);
    assert_eq!(status_of(&[0x06, 0x60]), CtapStatus::CborUnexpectedType);
}

#[test]
fn missing_required_make_credential_fields() {
    for key in 1..=4 {
        assert_eq!(
            status_of(&mc(&without(valid_mc(), key))),
            CtapStatus::MissingParameter,
            "key {key}"
        );
    }
    assert_eq!(status_of(&[0x01]), CtapStatus::MissingParameter);
    let rp_without_id = with(valid_mc(), 2, Value::map().insert("name", "x").build());
    assert_eq!(status_of(&mc(&rp_without_id)), CtapStatus::MissingParameter);
    let user_without_id = with(valid_mc(), 3, Value::map().insert("name", "x").build());
    assert_eq!(status_of(&mc(&user_without_id)), CtapStatus::MissingParameter);
    let param_without_alg = with(
        valid_mc(),
        4,
        Value::Array(vec![Value::map().insert("type", "public-key").build()]),
    );
    assert_eq!(status_of(&mc(&param_without_alg)), CtapStatus::MissingParameter);
    let descriptor_without_id = with(
        valid_mc(),
        5,
        Value::Array(vec![Value::map().insert("type", "public-key").build()]),
    );
    assert_eq!(
        status_of(&mc(&descriptor_without_id)),
        CtapStatus::MissingParameter
    );
}

#[test]
fn mistyped_make_credential_fields() {
    let cases: Vec<(i64, Value)> = vec![
        (1, Value::text("hash")),
        (2, Value::text("example.com")),
        (2, Value::map().insert("id", 5).build()),
        (3, Value::map().insert("id", "text-id").build()),
        (
            3,
            Value::map()
                .insert("id", vec![1u8])
                .insert("displayName", 3)
                .build(),
        ),
        (4, Value::map().build()),
        (
            4,
            Value::Array(vec![
                Value::map()
                    .insert("alg", "ES256")
                    .insert("type", "public-key")
                    .build(),
            ]),
        ),
        (4, Value::Array(vec![Value::from(-7)])),
        (5, Value::map().build()),
        (6, Value::Array(vec![])),
        (6, Value::map().insert("credProtect", "high").build()),
        (6, Value::map().insert("hmac-secret", 1).build()),
        (7, Value::map().insert("rk", 1).build()),
        (7, Value::Array(vec![])),
        (8, Value::text("param")),
        (9, Value::text("2")),
        (10, Value::Bool(true)),
        (11, Value::text("packed")),
    ];
    for (key, value) in cases {
        let v = with(valid_mc(), key, value.clone());
        assert_eq!(
            status_of(&mc(&v)),
            CtapStatus::CborUnexpectedType,
            "key {key} = {value:?}"
        );
    }
}

#[test]
fn invalid_values() {
    let long_user = with(valid_mc(), 3, Value::map().insert("id", vec![0u8; 65]).build());
    assert_eq!(status_of(&mc(&long_user)), CtapStatus::InvalidLength);
    let level4 = with(valid_mc(), 6, Value::map().insert("credProtect", 4).build());
    assert_eq!(status_of(&mc(&level4)), CtapStatus::InvalidParameter);
    // largeBlobKey is not supported (no largeBlobs command): ignored like an unknown extension, whatever
    // its value.
    for lbk in [Value::Bool(false), Value::Bool(true), Value::from(3)] {
        let v = with(valid_mc(), 6, Value::map().insert("largeBlobKey", lbk).build());
        assert!(decode_request(&mc(&v)).is_ok());
    }
    let short_prf = with(
        valid_mc(),
        6,
        Value::map()
            .insert(
                "prf",
                Value::map()
                    .insert("eval", Value::map().insert("first", vec![0u8; 31]).build())
                    .build(),
            )
            .build(),
    );
    assert_eq!(status_of(&mc(&short_prf)), CtapStatus::InvalidLength);
}

#[test]
fn unknown_keys_options_extensions_and_types_are_ignored() {
    let v = with(valid_mc(), 0x20, Value::text("future"));
    let v = with(
        v,
        7,
        Value::map()
            .insert("rk", true)
            .insert("future-option", false)
            .build(),
    );
    let v = with(
        v,
        6,
        Value::map().insert("futureExt", Value::Array(vec![])).build(),
    );
    let v = with(
        v,
        4,
        Value::Array(vec![
            Value::map()
                .insert("alg", -7)
                .insert("type", "future-type")
                .build(),
            Value::map()
                .insert("alg", -8)
                .insert("type", "public-key")
                .build(),
        ]),
    );
    match decode_request(&mc(&v)).unwrap() {
        Request::MakeCredential(r) => {
            assert_eq!(r.algorithms, vec![-8]);
            assert!(r.options.rk);
            assert_eq!(r.rp.id, "example.com");
            assert_eq!(r.user.id, b"user-1");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn get_assertion_fields() {
    let valid = get_assertion_params("example.com", &[b"cred"]);
    assert!(matches!(
        decode_request(&ga(&valid)),
        Ok(Request::GetAssertion(_))
    ));
    assert_eq!(
        status_of(&ga(&without(valid.clone(), 1))),
        CtapStatus::MissingParameter
    );
    assert_eq!(
        status_of(&ga(&without(valid.clone(), 2))),
        CtapStatus::MissingParameter
    );
    assert_eq!(
        status_of(&ga(&with(valid.clone(), 1, Value::bytes(vec![1])))),
        CtapStatus::CborUnexpectedType
    );
    assert_eq!(
        status_of(&ga(&with(valid.clone(), 3, Value::map().build()))),
        CtapStatus::CborUnexpectedType
    );
    assert_eq!(
        status_of(&ga(&with(
            valid.clone(),
            5,
            Value::map().insert("up", "no").build()
        ))),
        CtapStatus::CborUnexpectedType
    );
    let hs_missing = with(
        valid.clone(),
        4,
        Value::map()
            .insert("hmac-secret", Value::map().insert(2, vec![0u8; 32]).build())
            .build(),
    );
    assert_eq!(status_of(&ga(&hs_missing)), CtapStatus::MissingParameter);
    match decode_request(&ga(&with(valid, 5, Value::map().insert("up", false).build()))).unwrap() {
        Request::GetAssertion(r) => assert!(!r.options.up && !r.options.uv),
        other => panic!("{other:?}"),
    }
}

#[test]
fn client_pin_fields() {
    let mut m = vec![0x06];
    m.extend(Value::map().insert(1, 2).build().to_vec());
    assert_eq!(status_of(&m), CtapStatus::MissingParameter);
    let mut m = vec![0x06];
    m.extend(Value::map().insert(1, 2).insert(2, "two").build().to_vec());
    assert_eq!(status_of(&m), CtapStatus::CborUnexpectedType);
    let mut m = vec![0x06];
    m.extend(
        Value::map()
            .insert(1, 2)
            .insert(2, 6)
            .insert(3, vec![1u8])
            .build()
            .to_vec(),
    );
    assert_eq!(status_of(&m), CtapStatus::CborUnexpectedType);
}

#[test]
fn engine_level_statuses_through_handle_ctap() {
    let h = harness(AuthenticatorConfig::hybrid());
    // No supported algorithm.
    let (s, body) = h.ctap(
        0x01,
        Some(&make_credential_params("example.com", b"u", &[-257, -35], true)),
    );
    assert_eq!((s, body.len()), (CtapStatus::UnsupportedAlgorithm.code(), 0));
    // Unknown ClientPIN subcommand (direct profile; over hybrid there is no ClientPIN at all);
    // getNextAssertion without a pending getAssertion.
    let d = harness(AuthenticatorConfig::direct());
    let (s, _) = d.ctap(0x06, Some(&Value::map().insert(1, 2).insert(2, 0x0f).build()));
    assert_eq!(s, CtapStatus::InvalidSubcommand.code());
    let (s, _) = h.ctap(0x06, Some(&Value::map().insert(1, 2).insert(2, 0x0f).build()));
    assert_eq!(s, CtapStatus::InvalidCommand.code());
    assert_eq!(h.auth.handle_ctap(&[0x08]), vec![CtapStatus::NotAllowed.code()]);
    // rk in getAssertion options.
    let (s, _) = h.ctap(
        0x02,
        Some(&with(
            get_assertion_params("example.com", &[]),
            5,
            Value::map().insert("rk", true).build(),
        )),
    );
    assert_eq!(s, CtapStatus::UnsupportedOption.code());
    // Unsupported PIN protocol.
    let (s, _) = d.ctap(0x06, Some(&Value::map().insert(1, 3).insert(2, 2).build()));
    assert_eq!(s, CtapStatus::InvalidParameter.code());
    assert_eq!(
        h.verifier.prompt_count() + d.verifier.prompt_count(),
        0,
        "no request above may prompt the user"
    );
}

#[test]
fn engine_errors_map_to_one_status_each() {
    assert_eq!(EngineError::CredentialExcluded.status().code(), 0x19);
    assert_eq!(EngineError::NoCredentials.status().code(), 0x2e);
    assert_eq!(EngineError::OperationDenied.status().code(), 0x27);
    assert_eq!(EngineError::UserActionTimeout.status().code(), 0x2f);
    assert_eq!(EngineError::PinAuthInvalid.status().code(), 0x33);
    assert_eq!(EngineError::InvalidOption("x").status().code(), 0x2c);
    assert_eq!(EngineError::PinNotSet.status().code(), 0x35);
}

#[test]
fn ignored_extensions_are_skipped_unread() {
    let bad = Value::map()
        .insert("hmac-secret", "yes")
        .insert("hmac-secret-mc", 7)
        .insert("credProtect", 2)
        .build();
    let v = with(valid_mc(), 6, bad);
    assert_eq!(status_of(&mc(&v)), CtapStatus::CborUnexpectedType);
    match decode_request_ignoring(&mc(&v), &["hmac-secret", "hmac-secret-mc"]).unwrap() {
        Request::MakeCredential(r) => {
            assert!(!r.extensions.hmac_secret && r.extensions.hmac_secret_mc.is_none());
            assert_eq!(
                r.extensions.cred_protect,
                Some(2),
                "other extensions are still read"
            );
        }
        other => panic!("decoded {other:?}"),
    }
    let mut ga = vec![0x02];
    ga.extend(
        with(
            get_assertion_params("example.com", &[]),
            4,
            Value::map().insert("hmac-secret", Value::Array(vec![])).build(),
        )
        .to_vec(),
    );
    assert_eq!(status_of(&ga), CtapStatus::CborUnexpectedType);
    match decode_request_ignoring(&ga, &["hmac-secret"]).unwrap() {
        Request::GetAssertion(r) => assert!(r.extensions.hmac_secret.is_none()),
        other => panic!("decoded {other:?}"),
    }
}

fn hex_text(s: &str) -> String {
    hex::encode(s.as_bytes())
}

#[test]
fn hybrid_get_info_known_answer() {
    let h = harness(AuthenticatorConfig::hybrid());
    let expected = [
        "a6".to_owned(),
        format!("018268{}68{}", hex_text("FIDO_2_0"), hex_text("FIDO_2_1")),
        format!(
            "028368{}6b{}63{}",
            hex_text("credBlob"),
            hex_text("credProtect"),
            hex_text("prf")
        ),
        format!("0350{}", "00".repeat(16)),
        "04a262726bf5627576f5".to_owned(),
        format!(
            "098365{}66{}68{}",
            hex_text("cable"),
            hex_text("hybrid"),
            hex_text("internal")
        ),
        // maxCredBlobLength 32: required by Chromium whenever credBlob is listed.
        "0f1820".to_owned(),
    ]
    .concat();
    assert_eq!(hex::encode(h.auth.get_info_cbor()), expected);
    // Same bytes through the CTAP command, behind a zero status byte.
    let resp = h.auth.handle_ctap(&[0x04]);
    assert_eq!(resp[0], 0);
    assert_eq!(resp[1..], h.auth.get_info_cbor()[..]);
    // Structure matches the real Android phone's getInfo (hybrid-vectors.json) except the extension list.
    let android = hex::decode(
        "a50182684649444f5f325f30684649444f5f325f3102826c6465766963655075624b657963707266035000000000000000000000000000000000\
         04a262726bf5627576f50983656361626c656668796272696468696e7465726e616c",
    )
    .unwrap();
    let android = tandem_cbor::decode_canonical(&android).unwrap();
    let ours = tandem_cbor::decode_canonical(&h.auth.get_info_cbor()).unwrap();
    for key in [1, 3, 4, 9] {
        assert_eq!(ours.get_int(key), android.get_int(key), "getInfo key {key}");
    }
}

#[test]
fn direct_get_info_lists_pin_uv_support() {
    let h = harness(AuthenticatorConfig::direct());
    let info = tandem_cbor::decode_canonical(&h.auth.get_info_cbor()).unwrap();
    let opts = info.get_int(4).unwrap();
    assert_eq!(opts.get_text("pinUvAuthToken"), Some(&Value::Bool(true)));
    assert_eq!(opts.get_text("uv"), Some(&Value::Bool(true)));
    assert!(opts.get_text("clientPin").is_none());
    assert_eq!(
        info.get_int(6),
        Some(&Value::Array(vec![Value::from(2), Value::from(1)]))
    );
    let ext: Vec<&str> = info
        .get_int(2)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_text().unwrap())
        .collect();
    assert_eq!(
        ext,
        ["credBlob", "credProtect", "hmac-secret", "hmac-secret-mc", "prf"]
    );
    assert_eq!(info.get_int(15), Some(&Value::from(32)));
    // largeBlobKey is only meaningful with the largeBlobs option and command 0x0C, which the engine lacks.
    assert!(opts.get_text("largeBlobs").is_none());
    assert!(info.get_int(11).is_none(), "no maxSerializedLargeBlobArray");
}
