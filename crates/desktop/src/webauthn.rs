//! The browser's WebAuthn layer: turns a WebAuthn request into a CTAP2 command (with clientDataJSON and its
//! hash) and a CTAP2 response into the W3C `PublicKeyCredential` JSON a relying party verifies.
//!
//! Pure: bytes and values in, bytes and JSON out.

use tandem_cbor::Value;
use tandem_webauthn::{
    AuthenticationResponse, AuthenticatorAttachment, ClientDataType, ClientExtensionResults, CreationOptions,
    RegistrationResponse, RequestOptions,
};

/// CTAP command byte of authenticatorMakeCredential.
pub const CMD_MAKE_CREDENTIAL: u8 = 0x01;
/// CTAP command byte of authenticatorGetAssertion.
pub const CMD_GET_ASSERTION: u8 = 0x02;

/// The relying party of a registration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelyingParty {
    /// RP ID (a domain).
    pub id: String,
    /// Display name.
    pub name: String,
}

/// The account a registration is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntity {
    /// User handle (opaque, ≤ 64 bytes).
    pub id: Vec<u8>,
    /// Account name.
    pub name: String,
    /// Friendly name.
    pub display_name: String,
}

/// `navigator.credentials.create()` options, reduced to what a hybrid ceremony uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateRequest {
    /// The calling page's origin (e.g. `https://example.com`).
    pub origin: String,
    /// Relying party.
    pub rp: RelyingParty,
    /// User account.
    pub user: UserEntity,
    /// The RP's challenge.
    pub challenge: Vec<u8>,
    /// COSE algorithms the RP accepts, in preference order.
    pub algorithms: Vec<i64>,
    /// Whether a discoverable credential (passkey) is required.
    pub resident_key: bool,
    /// Credential IDs the authenticator must not already hold.
    pub exclude: Vec<Vec<u8>>,
}

/// `navigator.credentials.get()` options, reduced to what a hybrid ceremony uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GetRequest {
    /// The calling page's origin.
    pub origin: String,
    /// RP ID.
    pub rp_id: String,
    /// The RP's challenge.
    pub challenge: Vec<u8>,
    /// Acceptable credential IDs (empty: discoverable credentials).
    pub allow: Vec<Vec<u8>>,
}

/// One WebAuthn operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebAuthnRequest {
    /// Registration.
    Create(CreateRequest),
    /// Authentication.
    Get(GetRequest),
}

/// Why a CTAP response could not be turned into a credential.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponseError {
    /// The authenticator answered with a non-zero CTAP status.
    #[error("authenticator returned CTAP status {0:#04x}")]
    Status(u8),
    /// The response is empty.
    #[error("empty CTAP response")]
    Empty,
    /// The CBOR is malformed or not canonical.
    #[error("malformed CTAP response CBOR: {0}")]
    Cbor(String),
    /// A required field is missing or has the wrong type.
    #[error("CTAP response field {0} missing or of the wrong type")]
    Field(&'static str),
    /// The authenticator data is too short or inconsistent.
    #[error("malformed authenticator data: {0}")]
    AuthData(&'static str),
}

impl WebAuthnRequest {
    /// The hint for QR key 5: `"mc"` or `"ga"`.
    pub fn hint(&self) -> &'static str {
        match self {
            WebAuthnRequest::Create(_) => "mc",
            WebAuthnRequest::Get(_) => "ga",
        }
    }

    /// The RP ID this request is for.
    pub fn rp_id(&self) -> &str {
        match self {
            WebAuthnRequest::Create(c) => &c.rp.id,
            WebAuthnRequest::Get(g) => &g.rp_id,
        }
    }

    /// The collected client data, serialised as browsers do: `type`, `challenge`, `origin`, `crossOrigin`
    /// in that order.
    pub fn client_data_json(&self) -> String {
        let (ty, challenge, origin) = match self {
            WebAuthnRequest::Create(c) => (ClientDataType::Create, &c.challenge, &c.origin),
            WebAuthnRequest::Get(g) => (ClientDataType::Get, &g.challenge, &g.origin),
        };
        tandem_webauthn::client_data_json(ty, challenge, origin)
    }

    /// The CTAP2 command (command byte ‖ canonical CBOR parameters) for `client_data_hash`.
    pub fn to_ctap(&self, client_data_hash: &[u8; 32]) -> Vec<u8> {
        let descriptor = |id: &Vec<u8>| {
            Value::map()
                .insert("id", Value::bytes(id.clone()))
                .insert("type", "public-key")
                .build()
        };
        let (cmd, params) = match self {
            WebAuthnRequest::Create(c) => {
                let rp = Value::map()
                    .insert("id", c.rp.id.as_str())
                    .insert("name", c.rp.name.as_str());
                let user = Value::map()
                    .insert("id", Value::bytes(c.user.id.clone()))
                    .insert("name", c.user.name.as_str())
                    .insert("displayName", c.user.display_name.as_str());
                let algs: Vec<Value> = c
                    .algorithms
                    .iter()
                    .map(|a| {
                        Value::map()
                            .insert("alg", *a)
                            .insert("type", "public-key")
                            .build()
                    })
                    .collect();
                let exclude = (!c.exclude.is_empty())
                    .then(|| Value::Array(c.exclude.iter().map(descriptor).collect::<Vec<_>>()));
                // Over hybrid the phone always verifies the user itself; "uv" asks for it explicitly.
                let options = Value::map().insert("rk", c.resident_key).insert("uv", true);
                let params = Value::map()
                    .insert(1, Value::bytes(client_data_hash.to_vec()))
                    .insert(2, rp)
                    .insert(3, user)
                    .insert(4, Value::Array(algs))
                    .insert_opt(5, exclude)
                    .insert(7, options)
                    .build();
                (CMD_MAKE_CREDENTIAL, params)
            }
            WebAuthnRequest::Get(g) => {
                let allow = (!g.allow.is_empty())
                    .then(|| Value::Array(g.allow.iter().map(descriptor).collect::<Vec<_>>()));
                let params = Value::map()
                    .insert(1, g.rp_id.as_str())
                    .insert(2, Value::bytes(client_data_hash.to_vec()))
                    .insert_opt(3, allow)
                    .insert(5, Value::map().insert("uv", true))
                    .build();
                (CMD_GET_ASSERTION, params)
            }
        };
        let mut out = vec![cmd];
        out.extend_from_slice(&params.to_vec());
        out
    }

    /// Turns the phone's CTAP response (status byte ‖ CBOR) into the `PublicKeyCredential` JSON.
    pub fn credential_json(
        &self,
        client_data_json: &str,
        ctap_response: &[u8],
    ) -> Result<serde_json::Value, ResponseError> {
        let (&status, body) = ctap_response.split_first().ok_or(ResponseError::Empty)?;
        if status != 0 {
            return Err(ResponseError::Status(status));
        }
        let map = tandem_cbor::decode_canonical(body).map_err(|e| ResponseError::Cbor(e.to_string()))?;
        // This client requests no extensions, so there is nothing to report.
        let extensions = ClientExtensionResults::default();
        let transports = ["hybrid".to_owned(), "internal".to_owned()];
        match self {
            WebAuthnRequest::Create(_) => {
                let fmt = map
                    .get_int(1)
                    .and_then(Value::as_text)
                    .ok_or(ResponseError::Field("fmt (1)"))?;
                let auth_data = map
                    .get_int(2)
                    .and_then(Value::as_bytes)
                    .ok_or(ResponseError::Field("authData (2)"))?;
                let att_stmt = map
                    .get_int(3)
                    .filter(|v| v.as_map().is_some())
                    .ok_or(ResponseError::Field("attStmt (3)"))?;
                let cred_id = attested_credential_id(auth_data)?;
                let attestation_object = Value::map()
                    .insert("fmt", fmt)
                    .insert("attStmt", att_stmt.clone())
                    .insert("authData", Value::bytes(auth_data.to_vec()))
                    .build()
                    .to_vec();
                Ok(RegistrationResponse {
                    credential_id: cred_id,
                    client_data_json: client_data_json.as_bytes(),
                    attestation_object: &attestation_object,
                    authenticator_data: None,
                    public_key: None,
                    transports: &transports,
                    attachment: AuthenticatorAttachment::CrossPlatform,
                    extensions: &extensions,
                }
                .to_json())
            }
            WebAuthnRequest::Get(g) => {
                // The credential (key 1) may be omitted when the allow list had exactly one entry.
                let cred_id = match map.get_int(1) {
                    Some(c) => c
                        .get_text("id")
                        .and_then(Value::as_bytes)
                        .ok_or(ResponseError::Field("credential (1)"))?,
                    None => match g.allow.as_slice() {
                        [only] => only.as_slice(),
                        _ => return Err(ResponseError::Field("credential (1)")),
                    },
                };
                let auth_data = map
                    .get_int(2)
                    .and_then(Value::as_bytes)
                    .ok_or(ResponseError::Field("authData (2)"))?;
                if auth_data.len() < 37 {
                    return Err(ResponseError::AuthData("shorter than 37 bytes"));
                }
                let signature = map
                    .get_int(3)
                    .and_then(Value::as_bytes)
                    .ok_or(ResponseError::Field("signature (3)"))?;
                let user_handle = match map.get_int(4) {
                    None => None,
                    Some(u) => Some(
                        u.get_text("id")
                            .and_then(Value::as_bytes)
                            .ok_or(ResponseError::Field("user (4)"))?,
                    ),
                };
                Ok(AuthenticationResponse {
                    credential_id: cred_id,
                    client_data_json: client_data_json.as_bytes(),
                    authenticator_data: auth_data,
                    signature,
                    user_handle,
                    attachment: AuthenticatorAttachment::CrossPlatform,
                    extensions: &extensions,
                }
                .to_json())
            }
        }
    }
}

pub use tandem_webauthn::OptionsError;

fn required(v: Option<String>, what: &str) -> Result<String, OptionsError> {
    v.ok_or_else(|| OptionsError(format!("{what} missing or not a string")))
}

impl WebAuthnRequest {
    /// Reads `PublicKeyCredentialCreationOptionsJSON` (optionally wrapped in `{"publicKey": …}`), as a
    /// relying party sends it to the browser; `origin` is the calling page's origin.
    pub fn from_create_options_json(options: &serde_json::Value, origin: &str) -> Result<Self, OptionsError> {
        let o = CreationOptions::from_value(options.clone())?;
        // A desktop client asks for a discoverable credential only when the relying party requires one.
        let resident_key = o.resident_key_required();
        let algorithms = o.algorithms();
        if algorithms.is_empty() {
            return Err(OptionsError("pubKeyCredParams has no algorithm".into()));
        }
        Ok(WebAuthnRequest::Create(CreateRequest {
            origin: origin.to_string(),
            rp: RelyingParty {
                id: required(o.rp.id, "rp.id")?,
                name: required(o.rp.name, "rp.name")?,
            },
            user: UserEntity {
                id: o.user.id,
                name: required(o.user.name, "user.name")?,
                display_name: required(o.user.display_name, "user.displayName")?,
            },
            challenge: o
                .challenge
                .ok_or_else(|| OptionsError("challenge missing".into()))?,
            algorithms,
            resident_key,
            exclude: o.exclude_credentials.into_iter().map(|d| d.id).collect(),
        }))
    }

    /// Reads `PublicKeyCredentialRequestOptionsJSON` (optionally wrapped in `{"publicKey": …}`).
    pub fn from_get_options_json(options: &serde_json::Value, origin: &str) -> Result<Self, OptionsError> {
        let o = RequestOptions::from_value(options.clone())?;
        Ok(WebAuthnRequest::Get(GetRequest {
            origin: origin.to_string(),
            rp_id: required(o.rp_id, "rpId")?,
            challenge: o
                .challenge
                .ok_or_else(|| OptionsError("challenge missing".into()))?,
            allow: o.allow_credentials.into_iter().map(|d| d.id).collect(),
        }))
    }
}

/// SHA-256 of the client data JSON.
pub fn client_data_hash(client_data_json: &str) -> [u8; 32] {
    tandem_webauthn::client_data_hash(client_data_json.as_bytes())
}

/// The credential ID inside authenticator data with attested credential data (flag AT).
fn attested_credential_id(auth_data: &[u8]) -> Result<&[u8], ResponseError> {
    let flags = *auth_data
        .get(32)
        .ok_or(ResponseError::AuthData("shorter than 37 bytes"))?;
    if flags & 0x40 == 0 {
        return Err(ResponseError::AuthData(
            "no attested credential data (AT flag clear)",
        ));
    }
    // rpIdHash 32, flags 1, signCount 4, AAGUID 16, then the 2-byte big-endian ID length.
    let len_bytes = auth_data
        .get(53..55)
        .ok_or(ResponseError::AuthData("truncated attested credential data"))?;
    let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
    auth_data
        .get(55..55 + len)
        .ok_or(ResponseError::AuthData("truncated credential ID"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn create() -> WebAuthnRequest {
        WebAuthnRequest::Create(CreateRequest {
            origin: "https://example.com".into(),
            rp: RelyingParty {
                id: "example.com".into(),
                name: "Example".into(),
            },
            user: UserEntity {
                id: vec![1, 2, 3],
                name: "alice".into(),
                display_name: "Alice".into(),
            },
            challenge: vec![0xfb; 4],
            algorithms: vec![-7],
            resident_key: true,
            exclude: vec![],
        })
    }

    #[test]
    fn client_data_json_is_browser_shaped() {
        assert_eq!(
            create().client_data_json(),
            r#"{"type":"webauthn.create","challenge":"-_v7-w","origin":"https://example.com","crossOrigin":false}"#
        );
    }

    #[test]
    fn make_credential_known_answer() {
        let ctap = create().to_ctap(&[0; 32]);
        let expected = concat!(
            "01",
            "a5",
            "01",
            "5820",
            "0000000000000000000000000000000000000000000000000000000000000000",
            "02",
            "a2",
            "626964",
            "6b6578616d706c652e636f6d",
            "646e616d65",
            "674578616d706c65",
            "03",
            "a3",
            "626964",
            "43010203",
            "646e616d65",
            "65616c696365",
            "6b646973706c61794e616d65",
            "65416c696365",
            "04",
            "81",
            "a2",
            "63616c67",
            "26",
            "6474797065",
            "6a7075626c69632d6b6579",
            "07",
            "a2",
            "62726b",
            "f5",
            "627576",
            "f5"
        );
        assert_eq!(hex::encode(ctap), expected);
    }

    #[test]
    fn options_json() {
        let create = json!({"publicKey": {
            "rp": {"id": "example.com", "name": "Example"},
            "user": {"id": "AQID", "name": "alice", "displayName": "Alice"},
            "challenge": "-_v7-w",
            "pubKeyCredParams": [{"type": "public-key", "alg": -7}, {"type": "public-key", "alg": -257}],
            "authenticatorSelection": {"residentKey": "required", "userVerification": "required"}
        }});
        let r = WebAuthnRequest::from_create_options_json(&create, "https://example.com").unwrap();
        let WebAuthnRequest::Create(c) = &r else {
            panic!("not a create request")
        };
        assert_eq!(c.user.id, vec![1, 2, 3]);
        assert_eq!(c.algorithms, vec![-7, -257]);
        assert!(c.resident_key);
        assert_eq!(r, create_with_algs(vec![-7, -257]));
        let get = json!({"challenge": "AAAA", "rpId": "example.com", "allowCredentials": [{"type": "public-key", "id": "qrs"}]});
        let WebAuthnRequest::Get(g) =
            WebAuthnRequest::from_get_options_json(&get, "https://example.com").unwrap()
        else {
            panic!("not a get request")
        };
        assert_eq!(g.allow, vec![vec![0xaa, 0xbb]]);
        assert!(WebAuthnRequest::from_get_options_json(&json!({"rpId": "x"}), "o").is_err());
    }

    fn create_with_algs(algorithms: Vec<i64>) -> WebAuthnRequest {
        let WebAuthnRequest::Create(mut c) = create() else {
            unreachable!()
        };
        c.algorithms = algorithms;
        WebAuthnRequest::Create(c)
    }

    #[test]
    fn error_status_is_typed() {
        assert_eq!(
            create().credential_json("{}", &[0x27]),
            Err(ResponseError::Status(0x27))
        );
        assert_eq!(create().credential_json("{}", &[]), Err(ResponseError::Empty));
        assert!(matches!(
            create().credential_json("{}", &[0, 0xff]),
            Err(ResponseError::Cbor(_))
        ));
    }

    #[test]
    fn registration_json_from_response() {
        let mut auth_data = vec![0x11; 32];
        auth_data.push(0x45); // UP | UV | AT
        auth_data.extend_from_slice(&[0, 0, 0, 0]);
        auth_data.extend_from_slice(&[0; 16]);
        auth_data.extend_from_slice(&[0, 2, 0xaa, 0xbb]);
        let body = Value::map()
            .insert(1, "none")
            .insert(2, Value::bytes(auth_data.clone()))
            .insert(3, Value::map().build())
            .build()
            .to_vec();
        let mut resp = vec![0];
        resp.extend_from_slice(&body);
        let j = create().credential_json("{}", &resp).unwrap();
        assert_eq!(j["id"], "qrs");
        assert_eq!(j["authenticatorAttachment"], "cross-platform");
        let att = tandem_webauthn::b64::decode(j["response"]["attestationObject"].as_str().unwrap()).unwrap();
        let att = tandem_cbor::decode_canonical(&att).unwrap();
        assert_eq!(att.get_text("fmt").and_then(Value::as_text), Some("none"));
        assert_eq!(
            att.get_text("authData").and_then(Value::as_bytes),
            Some(auth_data.as_slice())
        );
        // Without the AT flag the response is rejected.
        auth_data[32] = 0x05;
        let body = Value::map()
            .insert(1, "none")
            .insert(2, Value::bytes(auth_data))
            .insert(3, Value::map().build())
            .build()
            .to_vec();
        let mut resp = vec![0];
        resp.extend_from_slice(&body);
        assert!(matches!(
            create().credential_json("{}", &resp),
            Err(ResponseError::AuthData(_))
        ));
    }
}
