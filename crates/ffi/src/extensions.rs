//! `clientExtensionResults` as records: what the engine reports for the extensions it supports (credProps,
//! prf), typed for the apps, and turned back into the W3C JSON only where a response JSON is built.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Map, Value as Json, json};

/// The client extension results of a registration or sign-in (`clientExtensionResults`). A field is `None`
/// when the relying party did not ask for that extension.
///
/// PRF outputs are the relying party's key material: `Debug` prints them redacted.
#[derive(Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct ClientExtensionResults {
    /// `credProps` (registrations only).
    pub cred_props: Option<CredentialProperties>,
    /// `prf`.
    pub prf: Option<PrfOutputs>,
}

/// The `credProps` extension's output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Record)]
pub struct CredentialProperties {
    /// Whether the credential is discoverable (a resident key): what was stored, not what was asked.
    pub rk: bool,
}

/// The `prf` extension's output.
#[derive(Clone, Default, PartialEq, Eq, uniffi::Record)]
pub struct PrfOutputs {
    /// Registrations only: whether the credential supports PRF.
    pub enabled: Option<bool>,
    /// The evaluated outputs, when the request asked for an evaluation.
    pub results: Option<PrfValues>,
}

/// PRF outputs (32 bytes each).
#[derive(Clone, PartialEq, Eq, uniffi::Record)]
pub struct PrfValues {
    /// The output for the `first` input.
    pub first: Vec<u8>,
    /// The output for the `second` input, when one was given.
    pub second: Option<Vec<u8>>,
}

impl std::fmt::Debug for ClientExtensionResults {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientExtensionResults")
            .field("cred_props", &self.cred_props)
            .field("prf", &self.prf)
            .finish()
    }
}

impl std::fmt::Debug for PrfOutputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrfOutputs")
            .field("enabled", &self.enabled)
            .field("results", &self.results)
            .finish()
    }
}

impl std::fmt::Debug for PrfValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrfValues(<redacted>)")
    }
}

impl ClientExtensionResults {
    /// Reads the engine's `clientExtensionResults` object (only the extensions it produces: credProps, prf).
    pub(crate) fn from_json(results: &Json) -> Self {
        let bytes = |v: Option<&Json>| v.and_then(Json::as_str).and_then(|s| B64.decode(s).ok());
        ClientExtensionResults {
            cred_props: results.get("credProps").map(|c| CredentialProperties {
                rk: c.get("rk").and_then(Json::as_bool).unwrap_or(false),
            }),
            prf: results.get("prf").map(|p| PrfOutputs {
                enabled: p.get("enabled").and_then(Json::as_bool),
                results: p.get("results").and_then(|r| {
                    Some(PrfValues {
                        first: bytes(r.get("first"))?,
                        second: bytes(r.get("second")),
                    })
                }),
            }),
        }
    }

    /// The W3C JSON form (`AuthenticationExtensionsClientOutputsJSON`, binary values base64url).
    pub(crate) fn to_json(&self) -> Json {
        let mut out = Map::new();
        if let Some(c) = self.cred_props {
            out.insert("credProps".into(), json!({ "rk": c.rk }));
        }
        if let Some(p) = &self.prf {
            let mut prf = Map::new();
            if let Some(enabled) = p.enabled {
                prf.insert("enabled".into(), Json::Bool(enabled));
            }
            if let Some(r) = &p.results {
                let mut values = Map::new();
                values.insert("first".into(), Json::String(B64.encode(&r.first)));
                if let Some(second) = &r.second {
                    values.insert("second".into(), Json::String(B64.encode(second)));
                }
                prf.insert("results".into(), Json::Object(values));
            }
            out.insert("prf".into(), Json::Object(prf));
        }
        Json::Object(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the engine reports comes back as the same JSON after a trip through the records.
    #[test]
    fn engine_json_round_trips_through_the_records() {
        for j in [
            json!({}),
            json!({"credProps": {"rk": true}}),
            json!({"credProps": {"rk": false}, "prf": {"enabled": true}}),
            json!({"prf": {"enabled": true, "results": {"first": "AQID"}}}),
            json!({"prf": {"results": {"first": "AQID", "second": "BAUG"}}}),
        ] {
            assert_eq!(ClientExtensionResults::from_json(&j).to_json(), j);
        }
        let r = ClientExtensionResults::from_json(&json!({"prf": {"results": {"first": "AQID"}}}));
        assert_eq!(
            r.prf.and_then(|p| p.results).map(|v| v.first),
            Some(vec![1, 2, 3])
        );
    }

    #[test]
    fn debug_hides_prf_outputs() {
        let r = ClientExtensionResults {
            cred_props: Some(CredentialProperties { rk: true }),
            prf: Some(PrfOutputs {
                enabled: Some(true),
                results: Some(PrfValues {
                    first: vec![0xA5; 32],
                    second: None,
                }),
            }),
        };
        let printed = format!("{r:?} {r:#?}");
        assert!(printed.contains("redacted"), "{printed}");
        assert!(!printed.contains("165"), "{printed}");
    }
}
