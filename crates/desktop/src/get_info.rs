//! getInfo as a browser reads it: the rules Chromium's getInfo parser (`ReadCTAPGetInfoResponse` in
//! `device/fido/device_response_converter.cc`) enforces.
//!
//! A getInfo that breaks one of them is not a small problem: Chromium drops the whole response, treats the
//! phone as U2F-only, and no hybrid ceremony completes. The desktop peer applies these rules to the phone's
//! post-handshake getInfo so every end-to-end test fails as Chrome would, and the engine's getInfo tests
//! run every profile through [`check`].

use std::collections::BTreeSet;

use tandem_cbor::Value;

/// A getInfo rule Chromium enforces was broken; the text names the rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("getInfo that Chromium rejects: {0}")]
pub struct GetInfoRejected(pub &'static str);

/// Protocol versions Chromium recognises (others are skipped; at least one must be known).
const KNOWN_VERSIONS: &[&str] = &["U2F_V2", "FIDO_2_0", "FIDO_2_1_PRE", "FIDO_2_1"];

/// Options Chromium reads as booleans (any other type rejects the response).
const BOOL_OPTIONS: &[&str] = &[
    "plat",
    "rk",
    "up",
    "uv",
    "clientPin",
    "credMgmt",
    "credentialMgmtPreview",
    "bioEnroll",
    "userVerificationMgmtPreview",
    "pinUvAuthToken",
    "ep",
    "largeBlobs",
    "alwaysUv",
    "makeCredUvNotRqd",
];

fn require(ok: bool, rule: &'static str) -> Result<(), GetInfoRejected> {
    if ok { Ok(()) } else { Err(GetInfoRejected(rule)) }
}

fn unsigned(v: &Value) -> bool {
    matches!(v, Value::Int(i) if *i >= 0)
}

fn texts<'a>(v: &'a Value, rule: &'static str) -> Result<Vec<&'a str>, GetInfoRejected> {
    v.as_array()
        .ok_or(GetInfoRejected(rule))?
        .iter()
        .map(|i| i.as_text().ok_or(GetInfoRejected(rule)))
        .collect()
}

/// Applies Chromium's getInfo rules to a decoded getInfo map.
pub fn check(info: &Value) -> Result<(), GetInfoRejected> {
    require(info.as_map().is_some(), "getInfo is a map")?;

    // 0x01 versions: required, strings, no duplicates, at least one Chromium knows.
    let versions = texts(
        info.get_int(1)
            .ok_or(GetInfoRejected("versions (0x01) is required"))?,
        "versions (0x01) is an array of strings",
    )?;
    let mut seen = BTreeSet::new();
    for v in &versions {
        require(seen.insert(*v), "versions has no duplicates")?;
    }
    require(
        versions.iter().any(|v| KNOWN_VERSIONS.contains(v)),
        "versions holds a protocol Chromium knows",
    )?;

    // 0x03 AAGUID: required, 16 bytes.
    require(
        info.get_int(3)
            .and_then(Value::as_bytes)
            .is_some_and(|a| a.len() == 16),
        "aaguid (0x03) is a 16-byte string",
    )?;

    // 0x02 extensions: strings; credBlob needs credProtect.
    let extensions = match info.get_int(2) {
        Some(v) => texts(v, "extensions (0x02) is an array of strings")?,
        None => vec![],
    };
    let has_ext = |e: &str| extensions.contains(&e);
    require(
        !has_ext("credBlob") || has_ext("credProtect"),
        "credBlob requires credProtect",
    )?;

    // 0x04 options.
    let mut pin_uv_token = false;
    let mut client_pin = false;
    if let Some(options) = info.get_int(4) {
        let entries = options
            .as_map()
            .ok_or(GetInfoRejected("options (0x04) is a map"))?;
        for (k, v) in entries {
            if k.as_text().is_some_and(|name| BOOL_OPTIONS.contains(&name)) {
                require(v.as_bool().is_some(), "every known option is a bool")?;
            }
        }
        let flag = |n: &str| options.get_text(n).and_then(Value::as_bool);
        let rk = flag("rk") == Some(true);
        pin_uv_token = flag("pinUvAuthToken") == Some(true);
        client_pin = flag("clientPin").is_some();
        if let Some(level) = options.get_text("defaultCredProtect") {
            require(matches!(level, Value::Int(2 | 3)), "defaultCredProtect is 2 or 3")?;
        }
        if let Some(large_blobs) = flag("largeBlobs") {
            require(rk, "largeBlobs requires rk")?;
            require(
                !(large_blobs && has_ext("largeBlobKey") && has_ext("largeBlob")),
                "largeBlobs with largeBlobKey excludes the largeBlob extension",
            )?;
        }
    }

    // Unsigned integers: maxMsgSize, maxCredentialCountInList, maxCredentialIdLength,
    // maxSerializedLargeBlobArray, minPINLength, remainingDiscoverableCredentials.
    for key in [0x05, 0x07, 0x08, 0x0b, 0x0d, 0x14] {
        if let Some(v) = info.get_int(key) {
            require(unsigned(v), "size and count fields are unsigned integers")?;
        }
    }

    // 0x06 PIN/UV auth protocols: unsigned; required by pinUvAuthToken or clientPin.
    let mut known_protocols = 0;
    if let Some(v) = info.get_int(6) {
        let protocols = v
            .as_array()
            .ok_or(GetInfoRejected("pinUvAuthProtocols (0x06) is an array"))?;
        for p in protocols {
            require(unsigned(p), "pinUvAuthProtocols holds unsigned integers")?;
            if matches!(p, Value::Int(1 | 2)) {
                known_protocols += 1;
            }
        }
    }
    if pin_uv_token || client_pin {
        require(
            info.get_int(6).is_some(),
            "pinUvAuthToken or clientPin requires pinUvAuthProtocols (0x06)",
        )?;
        // Chromium would not reject this, but silently treat PIN/UV tokens as unsupported: a phone that
        // offers them must offer a protocol Chromium implements.
        require(known_protocols > 0, "pinUvAuthProtocols holds protocol 1 or 2")?;
    }

    // 0x09 transports: strings.
    if let Some(v) = info.get_int(9) {
        texts(v, "transports (0x09) is an array of strings")?;
    }

    // 0x0A algorithms: maps with a string type; public-key entries carry an integer alg.
    if let Some(v) = info.get_int(0x0a) {
        let algorithms = v
            .as_array()
            .ok_or(GetInfoRejected("algorithms (0x0A) is an array"))?;
        for a in algorithms {
            require(a.as_map().is_some(), "an algorithm is a map")?;
            let ty = a.get_text("type").and_then(Value::as_text);
            require(ty.is_some(), "an algorithm has a string type")?;
            if ty == Some("public-key") {
                require(
                    matches!(a.get_text("alg"), Some(Value::Int(_))),
                    "a public-key algorithm has an integer alg",
                )?;
            }
        }
    }

    // 0x0C forcePINChange: bool.
    if let Some(v) = info.get_int(0x0c) {
        require(v.as_bool().is_some(), "forcePINChange (0x0C) is a bool")?;
    }

    // 0x0F maxCredBlobLength: present exactly when credBlob is listed, and at least 32 (CTAP 2.1).
    let max_blob = info.get_int(0x0f);
    require(
        max_blob.is_some() == has_ext("credBlob"),
        "maxCredBlobLength (0x0F) is present iff credBlob is listed",
    )?;
    if let Some(v) = max_blob {
        require(
            matches!(v, Value::Int(n) if *n >= 32),
            "maxCredBlobLength (0x0F) is at least 32",
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(names: &[&str]) -> Value {
        Value::Array(names.iter().map(|n| Value::text(*n)).collect())
    }

    /// A getInfo Chromium accepts: what a Chromium phone sends, plus credBlob with its length.
    fn good() -> Value {
        Value::map()
            .insert(1, ext(&["FIDO_2_0", "FIDO_2_1"]))
            .insert(2, ext(&["credBlob", "credProtect", "prf"]))
            .insert(3, vec![0u8; 16])
            .insert(4, Value::map().insert("rk", true).insert("uv", true).build())
            .insert(9, ext(&["cable", "hybrid", "internal"]))
            .insert(15, 32u32)
            .build()
    }

    fn edit(info: &Value, key: i128, value: Option<Value>) -> Value {
        let mut entries: Vec<(Value, Value)> = info
            .as_map()
            .unwrap()
            .iter()
            .filter(|(k, _)| k.as_int() != Some(key))
            .cloned()
            .collect();
        if let Some(v) = value {
            entries.push((Value::Int(key), v));
        }
        Value::Map(entries)
    }

    fn options(pairs: &[(&str, Value)]) -> Value {
        Value::Map(pairs.iter().map(|(k, v)| (Value::text(*k), v.clone())).collect())
    }

    #[test]
    fn accepts_a_phone_get_info() {
        check(&good()).unwrap();
        // The real Android phone's getInfo (no credBlob, so no 0x0F).
        let android = edit(&edit(&good(), 0x0f, None), 2, Some(ext(&["devicePubKey", "prf"])));
        check(&android).unwrap();
    }

    /// The checker is only worth something if it refuses what Chromium refuses.
    #[test]
    fn rejects_what_chromium_rejects() {
        let good = good();
        let rejected = |v: &Value| check(v).unwrap_err().0;
        // The getInfo that broke Chrome: credBlob listed, maxCredBlobLength absent.
        assert!(rejected(&edit(&good, 0x0f, None)).contains("0x0F"));
        assert!(rejected(&edit(&good, 0x0f, Some(Value::Int(16)))).contains("at least 32"));
        assert!(rejected(&edit(&good, 2, Some(ext(&["prf"])))).contains("0x0F"));
        assert!(rejected(&edit(&good, 2, Some(ext(&["credBlob", "prf"])))).contains("credProtect"));
        assert!(check(&edit(&good, 1, Some(ext(&["FIDO_2_0", "FIDO_2_0"])))).is_err());
        assert!(check(&edit(&good, 1, Some(ext(&["FIDO_9"])))).is_err());
        assert!(check(&edit(&good, 1, None)).is_err());
        assert!(check(&edit(&good, 3, None)).is_err());
        assert!(check(&edit(&good, 3, Some(Value::bytes(vec![0; 15])))).is_err());
        assert!(check(&edit(&good, 4, Some(options(&[("uv", Value::Int(1))])))).is_err());
        assert!(check(&edit(&good, 4, Some(Value::Array(vec![])))).is_err());
        let token = options(&[("rk", Value::Bool(true)), ("pinUvAuthToken", Value::Bool(true))]);
        assert!(rejected(&edit(&good, 4, Some(token.clone()))).contains("0x06"));
        let with_token = edit(&good, 4, Some(token));
        assert!(check(&edit(&with_token, 6, Some(Value::Array(vec![Value::Int(7)])))).is_err());
        check(&edit(&with_token, 6, Some(Value::Array(vec![Value::Int(2)])))).unwrap();
        assert!(
            check(&edit(
                &good,
                4,
                Some(options(&[("largeBlobs", Value::Bool(true))]))
            ))
            .is_err()
        );
        let cred_protect = options(&[("defaultCredProtect", Value::Int(1))]);
        assert!(check(&edit(&good, 4, Some(cred_protect))).is_err());
        let bad_alg = Value::Array(vec![
            Value::map()
                .insert("type", "public-key")
                .insert("alg", "ES256")
                .build(),
        ]);
        assert!(check(&edit(&good, 0x0a, Some(bad_alg))).is_err());
        assert!(check(&edit(&good, 5, Some(Value::Int(-1)))).is_err());
        assert!(check(&edit(&good, 0x0c, Some(Value::Int(0)))).is_err());
        assert!(check(&edit(&good, 9, Some(Value::Array(vec![Value::Int(1)])))).is_err());
    }
}
