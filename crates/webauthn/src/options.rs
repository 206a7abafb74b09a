//! `PublicKeyCredentialCreationOptionsJSON` (WebAuthn Level 3 §5.1.8) and
//! `PublicKeyCredentialRequestOptionsJSON` (WebAuthn Level 3 §5.1.9): read as a relying party writes them,
//! with binary members in base64url, bare or wrapped as `{"publicKey": {...}}` (webauthn-rs and
//! `navigator.credentials` style).

use serde::Deserialize;
use serde_json::Value as Json;

use crate::b64::Base64Url;
use crate::extensions::{ExtensionInputs, ExtensionsJson};

/// Why options JSON could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid options JSON: {0}")]
pub struct OptionsError(pub String);

/// `rp`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// `id` (a page may omit it; the client fills in its origin's host).
    pub id: Option<String>,
    /// `name`.
    pub name: Option<String>,
}

/// `user`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// `id`: the user handle.
    pub id: Vec<u8>,
    /// `name`.
    pub name: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
}

/// One of `pubKeyCredParams`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialParameter {
    /// `type` (only `"public-key"` is defined).
    pub ty: String,
    /// `alg`: a COSE algorithm identifier.
    pub alg: i64,
}

/// A `PublicKeyCredentialDescriptor` (allow or exclude list entry).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialDescriptor {
    /// `type` (only `"public-key"` is defined; clients skip others).
    pub ty: String,
    /// `id`: the credential ID.
    pub id: Vec<u8>,
    /// `transports`, if listed.
    pub transports: Option<Vec<String>>,
}

impl CredentialDescriptor {
    /// Whether this is a `public-key` descriptor (the only type an authenticator acts on).
    pub fn is_public_key(&self) -> bool {
        self.ty == "public-key"
    }
}

/// `authenticatorSelection`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuthenticatorSelection {
    /// `residentKey`: "discouraged", "preferred" or "required", as written.
    pub resident_key: Option<String>,
    /// `requireResidentKey` (the Level 1 spelling; counts only when `residentKey` is absent).
    pub require_resident_key: bool,
}

/// `PublicKeyCredentialCreationOptionsJSON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreationOptions {
    /// `challenge`.
    pub challenge: Option<Vec<u8>>,
    /// `rp`.
    pub rp: RelyingParty,
    /// `user`.
    pub user: User,
    /// `pubKeyCredParams`, in the relying party's order of preference.
    pub pub_key_cred_params: Vec<CredentialParameter>,
    /// `excludeCredentials`.
    pub exclude_credentials: Vec<CredentialDescriptor>,
    /// `authenticatorSelection`.
    pub authenticator_selection: AuthenticatorSelection,
    /// `attestation` ("none" when absent).
    pub attestation: Option<String>,
    /// `extensions`.
    pub extensions: ExtensionInputs,
}

/// `PublicKeyCredentialRequestOptionsJSON`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestOptions {
    /// `challenge`.
    pub challenge: Option<Vec<u8>>,
    /// `rpId` (a page may omit it; the client fills in its origin's host).
    pub rp_id: Option<String>,
    /// `allowCredentials`.
    pub allow_credentials: Vec<CredentialDescriptor>,
    /// `extensions`.
    pub extensions: ExtensionInputs,
}

impl CreationOptions {
    /// Reads creation options from JSON text.
    pub fn from_json(json: &str) -> Result<Self, OptionsError> {
        Self::from_value(parse(json)?)
    }

    /// Reads creation options from a parsed JSON value.
    pub fn from_value(value: Json) -> Result<Self, OptionsError> {
        let o: CreationOptionsJson = serde_json::from_value(unwrap_public_key(value)).map_err(json_error)?;
        Ok(CreationOptions {
            challenge: o.challenge.map(|c| c.0),
            rp: RelyingParty {
                id: o.rp.id,
                name: o.rp.name,
            },
            user: User {
                id: o.user.id.0,
                name: o.user.name,
                display_name: o.user.display_name,
            },
            pub_key_cred_params: o
                .pub_key_cred_params
                .into_iter()
                .map(|p| CredentialParameter { ty: p.ty, alg: p.alg })
                .collect(),
            exclude_credentials: o.exclude_credentials.into_iter().map(Into::into).collect(),
            authenticator_selection: o
                .authenticator_selection
                .map(|s| AuthenticatorSelection {
                    resident_key: s.resident_key,
                    require_resident_key: s.require_resident_key,
                })
                .unwrap_or_default(),
            attestation: o.attestation,
            extensions: o.extensions.unwrap_or_default().into_inputs()?,
        })
    }

    /// Whether the relying party asked for a discoverable credential outright (`residentKey: "required"`, or
    /// `requireResidentKey` when `residentKey` is absent).
    pub fn resident_key_required(&self) -> bool {
        match self.authenticator_selection.resident_key.as_deref() {
            Some(rk) => rk == "required",
            None => self.authenticator_selection.require_resident_key,
        }
    }

    /// The `public-key` algorithms, in preference order.
    pub fn algorithms(&self) -> Vec<i64> {
        self.pub_key_cred_params
            .iter()
            .filter(|p| p.ty == "public-key")
            .map(|p| p.alg)
            .collect()
    }
}

impl RequestOptions {
    /// Reads request options from JSON text.
    pub fn from_json(json: &str) -> Result<Self, OptionsError> {
        Self::from_value(parse(json)?)
    }

    /// Reads request options from a parsed JSON value.
    pub fn from_value(value: Json) -> Result<Self, OptionsError> {
        let o: RequestOptionsJson = serde_json::from_value(unwrap_public_key(value)).map_err(json_error)?;
        Ok(RequestOptions {
            challenge: o.challenge.map(|c| c.0),
            rp_id: o.rp_id,
            allow_credentials: o.allow_credentials.into_iter().map(Into::into).collect(),
            extensions: o.extensions.unwrap_or_default().into_inputs()?,
        })
    }
}

fn json_error(e: serde_json::Error) -> OptionsError {
    OptionsError(e.to_string())
}

fn parse(json: &str) -> Result<Json, OptionsError> {
    serde_json::from_str(json).map_err(json_error)
}

fn unwrap_public_key(v: Json) -> Json {
    match v {
        Json::Object(mut m) if m.contains_key("publicKey") => m.remove("publicKey").unwrap_or(Json::Null),
        other => other,
    }
}

#[derive(Deserialize)]
struct RpJson {
    id: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserJson {
    id: Base64Url,
    name: Option<String>,
    display_name: Option<String>,
}

#[derive(Deserialize)]
struct ParamJson {
    #[serde(rename = "type")]
    ty: String,
    alg: i64,
}

#[derive(Deserialize)]
struct DescriptorJson {
    #[serde(rename = "type")]
    ty: String,
    id: Base64Url,
    transports: Option<Vec<String>>,
}

impl From<DescriptorJson> for CredentialDescriptor {
    fn from(d: DescriptorJson) -> Self {
        CredentialDescriptor {
            ty: d.ty,
            id: d.id.0,
            transports: d.transports,
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SelectionJson {
    resident_key: Option<String>,
    #[serde(default)]
    require_resident_key: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreationOptionsJson {
    challenge: Option<Base64Url>,
    rp: RpJson,
    user: UserJson,
    pub_key_cred_params: Vec<ParamJson>,
    #[serde(default)]
    exclude_credentials: Vec<DescriptorJson>,
    #[serde(default)]
    authenticator_selection: Option<SelectionJson>,
    attestation: Option<String>,
    #[serde(default)]
    extensions: Option<ExtensionsJson>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestOptionsJson {
    challenge: Option<Base64Url>,
    rp_id: Option<String>,
    #[serde(default)]
    allow_credentials: Vec<DescriptorJson>,
    #[serde(default)]
    extensions: Option<ExtensionsJson>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const CREATE: &str = r#"{"publicKey":{"challenge":"AQID","rp":{"id":"a.example","name":"A"},
        "user":{"id":"BAU","name":"n","displayName":"N"},
        "pubKeyCredParams":[{"type":"public-key","alg":-7},{"type":"other","alg":-8},{"type":"public-key","alg":-257}],
        "excludeCredentials":[{"type":"public-key","id":"Bg==","transports":["hybrid"]}],
        "authenticatorSelection":{"residentKey":"preferred","requireResidentKey":true},
        "extensions":{"credProps":true,"prf":{"eval":{"first":"AA"}}}}}"#;

    #[test]
    fn reads_creation_options_wrapped_or_bare() {
        let o = CreationOptions::from_json(CREATE).unwrap();
        assert_eq!(o.challenge.as_deref(), Some(&[1, 2, 3][..]));
        assert_eq!(o.rp.id.as_deref(), Some("a.example"));
        assert_eq!(o.user.id, vec![4, 5]);
        assert_eq!(o.user.display_name.as_deref(), Some("N"));
        assert_eq!(o.algorithms(), vec![-7, -257]);
        assert_eq!(
            o.exclude_credentials[0].id,
            vec![6],
            "padded base64url is accepted"
        );
        assert!(
            !o.resident_key_required(),
            "residentKey wins over requireResidentKey"
        );
        assert!(o.extensions.cred_props);
        assert_eq!(o.extensions.prf.unwrap().eval.unwrap().first, vec![0]);
        let bare: Json = serde_json::from_str(CREATE).unwrap();
        assert_eq!(
            CreationOptions::from_value(bare["publicKey"].clone()).unwrap(),
            CreationOptions::from_json(CREATE).unwrap()
        );
    }

    #[test]
    fn reads_request_options_with_eval_by_credential() {
        let o = RequestOptions::from_json(
            r#"{"challenge":"AQ","rpId":"a.example","allowCredentials":[{"type":"public-key","id":"Bw"}],
                "extensions":{"getCredBlob":true,"prf":{"evalByCredential":{"Bw":{"first":"AQ","second":"Ag"}}}}}"#,
        )
        .unwrap();
        assert_eq!(o.rp_id.as_deref(), Some("a.example"));
        assert_eq!(o.allow_credentials[0].id, vec![7]);
        assert!(o.extensions.get_cred_blob);
        let by = o.extensions.prf.unwrap().eval_by_credential.unwrap();
        assert_eq!(by[0].0, vec![7]);
        assert_eq!(by[0].1.second.as_deref(), Some(&[2][..]));
    }

    #[test]
    fn rejects_malformed_options_with_a_typed_error() {
        for bad in [
            "",
            "[]",
            r#"{"rp":{},"user":{"id":"!!"},"pubKeyCredParams":[]}"#,
            r#"{"rp":{},"user":{"id":"AA"}}"#,
            r#"{"rp":{},"user":{"id":"AA"},"pubKeyCredParams":[],"extensions":{"prf":{"evalByCredential":{"!":{"first":"AA"}}}}}"#,
        ] {
            assert!(CreationOptions::from_json(bad).is_err(), "{bad}");
        }
        assert!(RequestOptions::from_json(r#"{"allowCredentials":[{"type":"public-key"}]}"#).is_err());
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_text(s in ".{0,200}") {
            let _ = CreationOptions::from_json(&s);
            let _ = RequestOptions::from_json(&s);
        }
    }
}
