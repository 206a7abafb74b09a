//! Client extension inputs and outputs (WebAuthn §9–10, the credProps, prf, credProtect and credBlob
//! extensions) in their JSON shapes.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value as Json};
use sha2::{Digest, Sha256};

use crate::b64::{self, Base64Url};

/// One or two PRF inputs or outputs.
#[derive(Clone, PartialEq, Eq)]
pub struct PrfValues {
    /// `first`.
    pub first: Vec<u8>,
    /// `second`, if given.
    pub second: Option<Vec<u8>>,
}

// PRF values are key material for the relying party's encryption.
impl std::fmt::Debug for PrfValues {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrfValues").finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct PrfValuesJson {
    first: Base64Url,
    second: Option<Base64Url>,
}

impl From<PrfValuesJson> for PrfValues {
    fn from(v: PrfValuesJson) -> Self {
        PrfValues {
            first: v.first.0,
            second: v.second.map(|s| s.0),
        }
    }
}

/// The `prf` extension input.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PrfInputs {
    /// `eval`: inputs for whichever credential is used.
    pub eval: Option<PrfValues>,
    /// `evalByCredential`: inputs per credential ID (base64url keys decoded); `None` when absent.
    pub eval_by_credential: Option<Vec<(Vec<u8>, PrfValues)>>,
}

impl std::fmt::Debug for PrfInputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrfInputs").finish_non_exhaustive()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct PrfJson {
    eval: Option<PrfValuesJson>,
    eval_by_credential: Option<BTreeMap<String, PrfValuesJson>>,
}

/// The salt CTAP's hmac-secret is evaluated with for a PRF input: SHA-256("WebAuthn PRF" ‖ 0x00 ‖ input)
/// (WebAuthn §10.1.4), so values match whichever transport asked.
pub fn prf_salt(input: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"WebAuthn PRF");
    h.update([0u8]);
    h.update(input);
    h.finalize().into()
}

/// `AuthenticationExtensionsClientInputs`, the members Tandem acts on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ExtensionInputs {
    /// `credProps: true`.
    pub cred_props: bool,
    /// `prf`.
    pub prf: Option<PrfInputs>,
    /// `credentialProtectionPolicy` as written.
    pub credential_protection_policy: Option<String>,
    /// `credBlob` (registration).
    pub cred_blob: Option<Vec<u8>>,
    /// `getCredBlob: true` (authentication).
    pub get_cred_blob: bool,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ExtensionsJson {
    #[serde(default)]
    cred_props: bool,
    prf: Option<PrfJson>,
    credential_protection_policy: Option<String>,
    cred_blob: Option<Base64Url>,
    #[serde(default)]
    get_cred_blob: bool,
}

impl ExtensionsJson {
    pub(crate) fn into_inputs(self) -> Result<ExtensionInputs, crate::OptionsError> {
        let prf = match self.prf {
            None => None,
            Some(p) => {
                let by = match p.eval_by_credential {
                    None => None,
                    Some(map) => {
                        let mut out = Vec::with_capacity(map.len());
                        for (id, values) in map {
                            let id = b64::decode(&id)
                                .map_err(|e| crate::OptionsError(format!("evalByCredential key: {e}")))?;
                            out.push((id, values.into()));
                        }
                        Some(out)
                    }
                };
                Some(PrfInputs {
                    eval: p.eval.map(Into::into),
                    eval_by_credential: by,
                })
            }
        };
        Ok(ExtensionInputs {
            cred_props: self.cred_props,
            prf,
            credential_protection_policy: self.credential_protection_policy,
            cred_blob: self.cred_blob.map(|b| b.0),
            get_cred_blob: self.get_cred_blob,
        })
    }
}

/// The `credProps` output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CredPropsOutput {
    /// `rk`: whether the credential was stored as discoverable.
    pub rk: bool,
}

/// The `prf` output.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct PrfOutput {
    /// `enabled` (registration only).
    pub enabled: Option<bool>,
    /// `results`, when the authenticator evaluated the PRF.
    pub results: Option<PrfValues>,
}

impl std::fmt::Debug for PrfOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrfOutput")
            .field("enabled", &self.enabled)
            .field("results", &self.results.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

/// `AuthenticationExtensionsClientOutputs`: what a ceremony reports back about the extensions asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClientExtensionResults {
    /// `credProps`, when asked for.
    pub cred_props: Option<CredPropsOutput>,
    /// `prf`, when asked for.
    pub prf: Option<PrfOutput>,
}

impl ClientExtensionResults {
    /// The JSON object (`{}` when nothing was asked for).
    pub fn to_json(&self) -> Json {
        let mut ext = Map::new();
        if let Some(p) = self.cred_props {
            ext.insert("credProps".into(), serde_json::json!({ "rk": p.rk }));
        }
        if let Some(prf) = &self.prf {
            let mut out = Map::new();
            if let Some(enabled) = prf.enabled {
                out.insert("enabled".into(), Json::Bool(enabled));
            }
            if let Some(r) = &prf.results {
                let mut results = Map::new();
                results.insert("first".into(), Json::String(b64::encode(&r.first)));
                if let Some(second) = &r.second {
                    results.insert("second".into(), Json::String(b64::encode(second)));
                }
                out.insert("results".into(), Json::Object(results));
            }
            ext.insert("prf".into(), Json::Object(out));
        }
        Json::Object(ext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prf_salt_known_answer() {
        // SHA-256("WebAuthn PRF" ‖ 0x00 ‖ "abc"), computed with Python's hashlib.
        let expected = "425507dfa7404b2fc3743ff9673c78e7b3c2f9d298b533ae2d8277203f73f4b7";
        let hex: String = prf_salt(b"abc").iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn outputs_serialise_as_webauthn_names_them() {
        let r = ClientExtensionResults {
            cred_props: Some(CredPropsOutput { rk: true }),
            prf: Some(PrfOutput {
                enabled: Some(true),
                results: Some(PrfValues {
                    first: vec![1],
                    second: None,
                }),
            }),
        };
        assert_eq!(
            r.to_json(),
            serde_json::json!({"credProps": {"rk": true}, "prf": {"enabled": true, "results": {"first": "AQ"}}})
        );
        assert_eq!(ClientExtensionResults::default().to_json(), serde_json::json!({}));
    }

    #[test]
    fn debug_hides_prf_values() {
        let v = PrfValues {
            first: vec![0xAB; 32],
            second: None,
        };
        assert!(!format!("{v:?}").contains("171"));
    }
}
