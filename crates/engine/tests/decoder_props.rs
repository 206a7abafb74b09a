//! Property tests: random bytes and random CBOR maps into every decoder and into the whole engine. No input
//! may panic; every failure is a typed error with a CTAP status.

mod common;

use std::sync::OnceLock;

use common::*;
use proptest::prelude::*;
use tandem_cbor::Value;
use tandem_engine::ctap::{ClientPinRequest, GetAssertionRequest, MakeCredentialRequest, decode_request};
use tandem_engine::{AuthenticatorConfig, CtapStatus};

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::from),
        (-30i64..30).prop_map(Value::from),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Bytes),
        prop_oneof![
            Just("id"),
            Just("name"),
            Just("type"),
            Just("public-key"),
            Just("alg"),
            Just("rk"),
            Just("up"),
            Just("uv"),
            Just("credProtect"),
            Just("hmac-secret"),
            Just("prf"),
            Just("eval"),
            Just("first"),
            Just("credBlob"),
            Just("largeBlobKey"),
            Just("evalByCredential"),
            Just("hmac-secret-mc"),
            Just("displayName"),
            Just("transports"),
            Just("second")
        ]
        .prop_map(Value::text),
        any::<bool>().prop_map(Value::Bool),
        Just(Value::Null),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            proptest::collection::vec((leaf(), inner), 0..6).prop_map(|entries| {
                // Keep keys unique so the encoder's canonical form is well defined.
                let mut seen: Vec<Value> = Vec::new();
                Value::Map(
                    entries
                        .into_iter()
                        .filter(|(k, _)| {
                            let new = !seen.contains(k);
                            seen.push(k.clone());
                            new
                        })
                        .collect(),
                )
            }),
        ]
    })
}

/// A parameter map with integer keys 1..=11, some of them holding plausible shapes.
fn param_map() -> impl Strategy<Value = Value> {
    proptest::collection::btree_map(1i64..=11, value(), 0..8)
        .prop_map(|m| Value::Map(m.into_iter().map(|(k, v)| (Value::from(k), v)).collect()))
}

fn engine() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| harness(AuthenticatorConfig::direct()))
}

fn check_response(resp: &[u8]) {
    assert!(!resp.is_empty());
    if resp[0] != 0 {
        assert_eq!(resp.len(), 1, "nothing follows an error status");
    } else if resp.len() > 1 {
        tandem_cbor::decode_canonical(&resp[1..]).expect("success bodies are canonical CBOR");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(cmd in prop_oneof![Just(1u8), Just(2), Just(4), Just(6), Just(8), Just(11), any::<u8>()],
                                body in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut msg = vec![cmd];
        msg.extend_from_slice(&body);
        let _ = decode_request(&msg);
        let _ = MakeCredentialRequest::decode(&body);
        let _ = GetAssertionRequest::decode(&body);
        let _ = ClientPinRequest::decode(&body);
        check_response(&engine().auth.handle_ctap(&msg));
    }

    #[test]
    fn random_cbor_maps_give_typed_errors(cmd in prop_oneof![Just(1u8), Just(2), Just(6)], params in param_map()) {
        let bytes = params.to_vec();
        let mut msg = vec![cmd];
        msg.extend_from_slice(&bytes);
        if let Err(e) = decode_request(&msg) {
            // Structurally valid CBOR never yields INVALID_CBOR.
            prop_assert_ne!(e.status(), CtapStatus::InvalidCbor);
        }
        check_response(&engine().auth.handle_ctap(&msg));
    }

    #[test]
    fn mutated_valid_requests_never_panic(key in 1i64..=11, v in value(), rk in any::<bool>()) {
        let mc = with(make_credential_params("example.com", b"u", &[-7], rk), key, v.clone());
        let mut msg = vec![1u8];
        msg.extend(mc.to_vec());
        check_response(&engine().auth.handle_ctap(&msg));
        let ga = with(get_assertion_params("example.com", &[]), key.min(7), v);
        let mut msg = vec![2u8];
        msg.extend(ga.to_vec());
        check_response(&engine().auth.handle_ctap(&msg));
    }
}
