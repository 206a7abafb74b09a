//! Strict decoding of CTAP2 requests into typed structures.
//!
//! Rules (CTAP 2.2 §6 and §8): malformed CBOR → CTAP2_ERR_INVALID_CBOR (duplicate keys included); a field of
//! the wrong major type → CTAP2_ERR_CBOR_UNEXPECTED_TYPE; a required field absent → CTAP2_ERR_MISSING_PARAMETER;
//! unknown keys of parameter maps, entities, options and extensions are ignored; credential descriptors and
//! pubKeyCredParams of a type other than "public-key" are skipped. Extensions the engine knows but the
//! configured profile does not offer ([`decode_request_ignoring`]) are skipped unread like unknown ones, so
//! an input for an unsupported extension never fails a request (CTAP 2.2 §12: an authenticator ignores
//! extensions it does not support).

use tandem_cbor::Value;

use crate::status::EngineError;

/// The CTAP commands the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    /// authenticatorMakeCredential (0x01).
    MakeCredential,
    /// authenticatorGetAssertion (0x02).
    GetAssertion,
    /// authenticatorGetInfo (0x04).
    GetInfo,
    /// authenticatorClientPIN (0x06).
    ClientPin,
    /// authenticatorGetNextAssertion (0x08).
    GetNextAssertion,
    /// authenticatorSelection (0x0B).
    Selection,
}

impl Command {
    /// Maps the command byte.
    pub fn from_byte(b: u8) -> Result<Self, EngineError> {
        Ok(match b {
            0x01 => Command::MakeCredential,
            0x02 => Command::GetAssertion,
            0x04 => Command::GetInfo,
            0x06 => Command::ClientPin,
            0x08 => Command::GetNextAssertion,
            0x0B => Command::Selection,
            other => return Err(EngineError::InvalidCommand(other)),
        })
    }

    /// The command byte (the inverse of [`Self::from_byte`]).
    pub fn code(self) -> u8 {
        match self {
            Command::MakeCredential => 0x01,
            Command::GetAssertion => 0x02,
            Command::GetInfo => 0x04,
            Command::ClientPin => 0x06,
            Command::GetNextAssertion => 0x08,
            Command::Selection => 0x0B,
        }
    }
}

/// authenticatorClientPIN parameter keys (CTAP 2.2 §6.5.5.1), named once for the decoder.
pub(crate) mod client_pin_param {
    /// pinUvAuthProtocol.
    pub(crate) const PIN_UV_AUTH_PROTOCOL: i128 = 0x01;
    /// subCommand.
    pub(crate) const SUB_COMMAND: i128 = 0x02;
    /// keyAgreement.
    pub(crate) const KEY_AGREEMENT: i128 = 0x03;
    /// pinUvAuthParam.
    pub(crate) const PIN_UV_AUTH_PARAM: i128 = 0x04;
    /// newPinEnc.
    pub(crate) const NEW_PIN_ENC: i128 = 0x05;
    /// pinHashEnc.
    pub(crate) const PIN_HASH_ENC: i128 = 0x06;
    /// permissions.
    pub(crate) const PERMISSIONS: i128 = 0x09;
    /// rpId (the permissions RP ID).
    pub(crate) const RP_ID: i128 = 0x0A;
}

/// A decoded request.
#[derive(Debug, Clone, PartialEq)]
pub enum Request {
    /// authenticatorMakeCredential.
    MakeCredential(MakeCredentialRequest),
    /// authenticatorGetAssertion.
    GetAssertion(GetAssertionRequest),
    /// authenticatorGetInfo.
    GetInfo,
    /// authenticatorClientPIN.
    ClientPin(ClientPinRequest),
    /// authenticatorGetNextAssertion.
    GetNextAssertion,
    /// authenticatorSelection.
    Selection,
}

/// Decodes `command byte ‖ CBOR parameters`, reading every extension input the engine knows.
pub fn decode_request(message: &[u8]) -> Result<Request, EngineError> {
    decode_request_ignoring(message, &[])
}

/// [`decode_request`], except that the extension inputs named in `ignored` are skipped unread, exactly like
/// unknown extensions (neither validated nor passed on).
pub fn decode_request_ignoring(message: &[u8], ignored: &[&str]) -> Result<Request, EngineError> {
    let (&cmd, params) = message
        .split_first()
        .ok_or(EngineError::InvalidLength("empty CTAP message"))?;
    let command = Command::from_byte(cmd)?;
    Ok(match command {
        Command::MakeCredential => {
            Request::MakeCredential(MakeCredentialRequest::decode_ignoring(params, ignored)?)
        }
        Command::GetAssertion => {
            Request::GetAssertion(GetAssertionRequest::decode_ignoring(params, ignored)?)
        }
        Command::ClientPin => Request::ClientPin(ClientPinRequest::decode(params)?),
        Command::GetInfo | Command::GetNextAssertion | Command::Selection => {
            if !params.is_empty() {
                return Err(EngineError::InvalidLength("command takes no parameters"));
            }
            match command {
                Command::GetInfo => Request::GetInfo,
                Command::GetNextAssertion => Request::GetNextAssertion,
                _ => Request::Selection,
            }
        }
    })
}

/// The relying party (PublicKeyCredentialRpEntity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpEntity {
    /// RP ID.
    pub id: String,
    /// Display name.
    pub name: Option<String>,
}

/// The account (PublicKeyCredentialUserEntity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserEntity {
    /// User handle, 1..=64 bytes.
    pub id: Vec<u8>,
    /// Account name.
    pub name: Option<String>,
    /// Friendly name.
    pub display_name: Option<String>,
}

/// A credential descriptor of type "public-key".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialDescriptor {
    /// Credential ID.
    pub id: Vec<u8>,
    /// Transport hints, if given.
    pub transports: Option<Vec<String>>,
}

/// Salts of the hybrid `prf` extension (already hashed by the client: 32 bytes each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrfSalts {
    /// First salt.
    pub first: [u8; 32],
    /// Optional second salt.
    pub second: Option<[u8; 32]>,
}

/// The `prf` extension input in the form Chromium sends to hybrid phones.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrfInput {
    /// Salts for any credential.
    pub eval: Option<PrfSalts>,
    /// Salts for specific credential IDs (getAssertion only).
    pub eval_by_credential: Vec<(Vec<u8>, PrfSalts)>,
}

/// The `hmac-secret` (getAssertion) / `hmac-secret-mc` (makeCredential) input.
#[derive(Debug, Clone, PartialEq)]
pub struct HmacSecretInput {
    /// The platform's key-agreement COSE key (validated when used).
    pub key_agreement: Value,
    /// Encrypted salt(s).
    pub salt_enc: Vec<u8>,
    /// authenticate(sharedSecret, saltEnc).
    pub salt_auth: Vec<u8>,
    /// PIN/UV auth protocol (default 1).
    pub protocol: u64,
}

/// makeCredential extension inputs the engine understands.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MakeCredentialExtensions {
    /// credProtect level 1..=3.
    pub cred_protect: Option<u8>,
    /// hmac-secret: true.
    pub hmac_secret: bool,
    /// hmac-secret-mc input.
    pub hmac_secret_mc: Option<HmacSecretInput>,
    /// Hybrid `prf` input (presence alone enables PRF).
    pub prf: Option<PrfInput>,
    /// credBlob to store.
    pub cred_blob: Option<Vec<u8>>,
}

/// getAssertion extension inputs the engine understands.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GetAssertionExtensions {
    /// hmac-secret input.
    pub hmac_secret: Option<HmacSecretInput>,
    /// Hybrid `prf` input.
    pub prf: Option<PrfInput>,
    /// credBlob: true (`false` asks for nothing).
    pub cred_blob: bool,
}

/// makeCredential options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MakeCredentialOptions {
    /// Discoverable credential required.
    pub rk: bool,
    /// Explicit `up` value, if sent.
    pub up: Option<bool>,
    /// User verification requested.
    pub uv: bool,
}

/// getAssertion options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GetAssertionOptions {
    /// `rk` was sent (not allowed for getAssertion).
    pub rk_present: bool,
    /// User presence required (default true).
    pub up: bool,
    /// User verification requested.
    pub uv: bool,
}

/// authenticatorMakeCredential parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct MakeCredentialRequest {
    /// 0x01 clientDataHash.
    pub client_data_hash: Vec<u8>,
    /// 0x02 rp.
    pub rp: RpEntity,
    /// 0x03 user.
    pub user: UserEntity,
    /// 0x04 pubKeyCredParams: the algorithms of the "public-key" entries, in the caller's preference order.
    pub algorithms: Vec<i64>,
    /// 0x05 excludeList.
    pub exclude_list: Vec<CredentialDescriptor>,
    /// 0x06 extensions.
    pub extensions: MakeCredentialExtensions,
    /// 0x07 options.
    pub options: MakeCredentialOptions,
    /// 0x08 pinUvAuthParam.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x09 pinUvAuthProtocol.
    pub pin_uv_auth_protocol: Option<u64>,
    /// 0x0A enterpriseAttestation.
    pub enterprise_attestation: Option<u64>,
    /// 0x0B attestationFormatsPreference.
    pub attestation_formats_preference: Option<Vec<String>>,
}

/// authenticatorGetAssertion parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct GetAssertionRequest {
    /// 0x01 rpId.
    pub rp_id: String,
    /// 0x02 clientDataHash.
    pub client_data_hash: Vec<u8>,
    /// 0x03 allowList (empty when absent).
    pub allow_list: Vec<CredentialDescriptor>,
    /// 0x04 extensions.
    pub extensions: GetAssertionExtensions,
    /// 0x05 options.
    pub options: GetAssertionOptions,
    /// 0x06 pinUvAuthParam.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x07 pinUvAuthProtocol.
    pub pin_uv_auth_protocol: Option<u64>,
}

/// authenticatorClientPIN parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct ClientPinRequest {
    /// 0x01 pinUvAuthProtocol.
    pub protocol: Option<u64>,
    /// 0x02 subCommand.
    pub sub_command: u64,
    /// 0x03 keyAgreement.
    pub key_agreement: Option<Value>,
    /// 0x04 pinUvAuthParam.
    pub pin_uv_auth_param: Option<Vec<u8>>,
    /// 0x05 newPinEnc.
    pub new_pin_enc: Option<Vec<u8>>,
    /// 0x06 pinHashEnc.
    pub pin_hash_enc: Option<Vec<u8>>,
    /// 0x09 permissions.
    pub permissions: Option<u64>,
    /// 0x0A rpId.
    pub rp_id: Option<String>,
}

// ---- field helpers ----

/// The top-level parameter map; an empty parameter string is an empty map.
fn param_map(params: &[u8]) -> Result<Vec<(Value, Value)>, EngineError> {
    if params.is_empty() {
        return Ok(Vec::new());
    }
    match tandem_cbor::decode(params)? {
        Value::Map(m) => Ok(m),
        _ => Err(EngineError::UnexpectedType("parameters")),
    }
}

fn field(map: &[(Value, Value)], key: i128) -> Option<&Value> {
    map.iter().find(|(k, _)| k.as_int() == Some(key)).map(|(_, v)| v)
}

fn text_field<'a>(map: &'a [(Value, Value)], key: &str) -> Option<&'a Value> {
    map.iter().find(|(k, _)| k.as_text() == Some(key)).map(|(_, v)| v)
}

fn bytes(v: &Value, name: &'static str) -> Result<Vec<u8>, EngineError> {
    v.as_bytes()
        .map(<[u8]>::to_vec)
        .ok_or(EngineError::UnexpectedType(name))
}

fn text(v: &Value, name: &'static str) -> Result<String, EngineError> {
    v.as_text()
        .map(str::to_owned)
        .ok_or(EngineError::UnexpectedType(name))
}

fn uint(v: &Value, name: &'static str) -> Result<u64, EngineError> {
    match v {
        Value::Int(i) => u64::try_from(*i).map_err(|_| EngineError::InvalidParameter(name)),
        _ => Err(EngineError::UnexpectedType(name)),
    }
}

fn boolean(v: &Value, name: &'static str) -> Result<bool, EngineError> {
    v.as_bool().ok_or(EngineError::UnexpectedType(name))
}

fn map<'a>(v: &'a Value, name: &'static str) -> Result<&'a [(Value, Value)], EngineError> {
    v.as_map().ok_or(EngineError::UnexpectedType(name))
}

fn array<'a>(v: &'a Value, name: &'static str) -> Result<&'a [Value], EngineError> {
    v.as_array().ok_or(EngineError::UnexpectedType(name))
}

fn required<T>(v: Option<T>, name: &'static str) -> Result<T, EngineError> {
    v.ok_or(EngineError::MissingParameter(name))
}

fn opt_text(m: &[(Value, Value)], key: &str, name: &'static str) -> Result<Option<String>, EngineError> {
    text_field(m, key).map(|v| text(v, name)).transpose()
}

fn rp_entity(v: &Value) -> Result<RpEntity, EngineError> {
    let m = map(v, "rp")?;
    Ok(RpEntity {
        id: text(required(text_field(m, "id"), "rp.id")?, "rp.id")?,
        name: opt_text(m, "name", "rp.name")?,
    })
}

fn user_entity(v: &Value) -> Result<UserEntity, EngineError> {
    let m = map(v, "user")?;
    let id = bytes(required(text_field(m, "id"), "user.id")?, "user.id")?;
    if id.is_empty() || id.len() > 64 {
        return Err(EngineError::InvalidLength("user.id must be 1..=64 bytes"));
    }
    Ok(UserEntity {
        id,
        name: opt_text(m, "name", "user.name")?,
        display_name: opt_text(m, "displayName", "user.displayName")?,
    })
}

fn descriptors(v: &Value, name: &'static str) -> Result<Vec<CredentialDescriptor>, EngineError> {
    let mut out = Vec::new();
    for item in array(v, name)? {
        let m = map(item, name)?;
        let ty = text(
            required(text_field(m, "type"), "descriptor.type")?,
            "descriptor.type",
        )?;
        let id = bytes(required(text_field(m, "id"), "descriptor.id")?, "descriptor.id")?;
        let transports = match text_field(m, "transports") {
            None => None,
            Some(t) => Some(
                array(t, "descriptor.transports")?
                    .iter()
                    .map(|x| text(x, "descriptor.transports"))
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        if ty == "public-key" {
            out.push(CredentialDescriptor { id, transports });
        }
    }
    Ok(out)
}

fn algorithms(v: &Value) -> Result<Vec<i64>, EngineError> {
    let mut out = Vec::new();
    for item in array(v, "pubKeyCredParams")? {
        let m = map(item, "pubKeyCredParams")?;
        let alg = required(text_field(m, "alg"), "pubKeyCredParams.alg")?;
        let ty = text(
            required(text_field(m, "type"), "pubKeyCredParams.type")?,
            "pubKeyCredParams.type",
        )?;
        let alg = match alg {
            Value::Int(i) => i64::try_from(*i).ok(),
            _ => return Err(EngineError::UnexpectedType("pubKeyCredParams.alg")),
        };
        if let (Some(alg), "public-key") = (alg, ty.as_str()) {
            out.push(alg);
        }
    }
    Ok(out)
}

fn option_map(v: &Value) -> Result<Vec<(String, bool)>, EngineError> {
    let mut out = Vec::new();
    for (k, val) in map(v, "options")? {
        // Option keys are text; values must be booleans. Unknown options are ignored by the callers.
        if let Some(k) = k.as_text() {
            out.push((k.to_owned(), boolean(val, "options")?));
        }
    }
    Ok(out)
}

fn salt32(v: &Value, name: &'static str) -> Result<[u8; 32], EngineError> {
    let b = v.as_bytes().ok_or(EngineError::UnexpectedType(name))?;
    b.try_into()
        .map_err(|_| EngineError::InvalidLength("prf salts are 32 bytes"))
}

fn prf_salts(v: &Value) -> Result<PrfSalts, EngineError> {
    let m = map(v, "prf.eval")?;
    Ok(PrfSalts {
        first: salt32(required(text_field(m, "first"), "prf.first")?, "prf.first")?,
        second: text_field(m, "second")
            .map(|s| salt32(s, "prf.second"))
            .transpose()?,
    })
}

fn prf_input(v: &Value, allow_by_credential: bool) -> Result<PrfInput, EngineError> {
    let m = map(v, "prf")?;
    let eval = text_field(m, "eval").map(prf_salts).transpose()?;
    let mut eval_by_credential = Vec::new();
    if let Some(by) = text_field(m, "evalByCredential") {
        if !allow_by_credential {
            return Err(EngineError::InvalidParameter(
                "prf.evalByCredential on makeCredential",
            ));
        }
        for (id, salts) in map(by, "prf.evalByCredential")? {
            let id = bytes(id, "prf.evalByCredential key")?;
            if id.is_empty() {
                return Err(EngineError::InvalidParameter(
                    "empty credential ID in prf.evalByCredential",
                ));
            }
            eval_by_credential.push((id, prf_salts(salts)?));
        }
    }
    Ok(PrfInput {
        eval,
        eval_by_credential,
    })
}

fn hmac_secret_input(v: &Value, name: &'static str) -> Result<HmacSecretInput, EngineError> {
    let m = map(v, name)?;
    let key_agreement = required(field(m, 1), "hmac-secret keyAgreement")?.clone();
    map(&key_agreement, "hmac-secret keyAgreement")?;
    Ok(HmacSecretInput {
        key_agreement,
        salt_enc: bytes(
            required(field(m, 2), "hmac-secret saltEnc")?,
            "hmac-secret saltEnc",
        )?,
        salt_auth: bytes(
            required(field(m, 3), "hmac-secret saltAuth")?,
            "hmac-secret saltAuth",
        )?,
        protocol: field(m, 4)
            .map(|p| uint(p, "hmac-secret pinUvAuthProtocol"))
            .transpose()?
            .unwrap_or(1),
    })
}

/// The extension map's entries (text key, if it is one), minus the `ignored` ones. largeBlobKey is not among
/// the extensions read: the engine does not support largeBlobs (command 0x0C), so the key is ignored like
/// any unknown extension.
fn extension_entries<'a>(
    v: &'a Value,
    ignored: &'a [&str],
) -> Result<impl Iterator<Item = (Option<&'a str>, &'a Value)>, EngineError> {
    Ok(map(v, "extensions")?
        .iter()
        .map(|(k, val)| (k.as_text(), val))
        .filter(move |(k, _)| !k.is_some_and(|k| ignored.contains(&k))))
}

fn mc_extensions(v: &Value, ignored: &[&str]) -> Result<MakeCredentialExtensions, EngineError> {
    let mut ext = MakeCredentialExtensions::default();
    for (k, val) in extension_entries(v, ignored)? {
        match k {
            Some("credProtect") => {
                let level = uint(val, "credProtect")?;
                ext.cred_protect = Some(match level {
                    1..=3 => level as u8,
                    _ => return Err(EngineError::InvalidParameter("credProtect level")),
                });
            }
            Some("hmac-secret") => ext.hmac_secret = boolean(val, "hmac-secret")?,
            Some("hmac-secret-mc") => ext.hmac_secret_mc = Some(hmac_secret_input(val, "hmac-secret-mc")?),
            Some("prf") => ext.prf = Some(prf_input(val, false)?),
            Some("credBlob") => ext.cred_blob = Some(bytes(val, "credBlob")?),
            _ => {}
        }
    }
    Ok(ext)
}

fn ga_extensions(v: &Value, ignored: &[&str]) -> Result<GetAssertionExtensions, EngineError> {
    let mut ext = GetAssertionExtensions::default();
    for (k, val) in extension_entries(v, ignored)? {
        match k {
            Some("hmac-secret") => ext.hmac_secret = Some(hmac_secret_input(val, "hmac-secret")?),
            Some("prf") => ext.prf = Some(prf_input(val, true)?),
            Some("credBlob") => ext.cred_blob = boolean(val, "credBlob")?,
            _ => {}
        }
    }
    Ok(ext)
}

impl MakeCredentialRequest {
    /// Decodes the CBOR parameters of authenticatorMakeCredential.
    pub fn decode(params: &[u8]) -> Result<Self, EngineError> {
        Self::decode_ignoring(params, &[])
    }

    /// [`Self::decode`], skipping the extension inputs named in `ignored`.
    pub fn decode_ignoring(params: &[u8], ignored: &[&str]) -> Result<Self, EngineError> {
        let m = param_map(params)?;
        // Type-check every present field before reporting missing ones, so a mistyped field is always
        // CBOR_UNEXPECTED_TYPE whatever else is wrong.
        let client_data_hash = field(&m, 1).map(|v| bytes(v, "clientDataHash")).transpose()?;
        let rp = field(&m, 2).map(rp_entity).transpose()?;
        let user = field(&m, 3).map(user_entity).transpose()?;
        let algs = field(&m, 4).map(algorithms).transpose()?;
        let exclude_list = field(&m, 5)
            .map(|v| descriptors(v, "excludeList"))
            .transpose()?
            .unwrap_or_default();
        let extensions = field(&m, 6)
            .map(|v| mc_extensions(v, ignored))
            .transpose()?
            .unwrap_or_default();
        let mut options = MakeCredentialOptions::default();
        if let Some(v) = field(&m, 7) {
            for (k, b) in option_map(v)? {
                match k.as_str() {
                    "rk" => options.rk = b,
                    "up" => options.up = Some(b),
                    "uv" => options.uv = b,
                    _ => {}
                }
            }
        }
        let pin_uv_auth_param = field(&m, 8).map(|v| bytes(v, "pinUvAuthParam")).transpose()?;
        let pin_uv_auth_protocol = field(&m, 9).map(|v| uint(v, "pinUvAuthProtocol")).transpose()?;
        let enterprise_attestation = field(&m, 10)
            .map(|v| uint(v, "enterpriseAttestation"))
            .transpose()?;
        let attestation_formats_preference = field(&m, 11)
            .map(|v| {
                array(v, "attestationFormatsPreference")?
                    .iter()
                    .map(|f| text(f, "attestationFormatsPreference"))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?;
        Ok(MakeCredentialRequest {
            client_data_hash: required(client_data_hash, "clientDataHash")?,
            rp: required(rp, "rp")?,
            user: required(user, "user")?,
            algorithms: required(algs, "pubKeyCredParams")?,
            exclude_list,
            extensions,
            options,
            pin_uv_auth_param,
            pin_uv_auth_protocol,
            enterprise_attestation,
            attestation_formats_preference,
        })
    }
}

impl GetAssertionRequest {
    /// Decodes the CBOR parameters of authenticatorGetAssertion.
    pub fn decode(params: &[u8]) -> Result<Self, EngineError> {
        Self::decode_ignoring(params, &[])
    }

    /// [`Self::decode`], skipping the extension inputs named in `ignored`.
    pub fn decode_ignoring(params: &[u8], ignored: &[&str]) -> Result<Self, EngineError> {
        let m = param_map(params)?;
        let rp_id = field(&m, 1).map(|v| text(v, "rpId")).transpose()?;
        let client_data_hash = field(&m, 2).map(|v| bytes(v, "clientDataHash")).transpose()?;
        let allow_list = field(&m, 3)
            .map(|v| descriptors(v, "allowList"))
            .transpose()?
            .unwrap_or_default();
        let extensions = field(&m, 4)
            .map(|v| ga_extensions(v, ignored))
            .transpose()?
            .unwrap_or_default();
        let mut options = GetAssertionOptions {
            rk_present: false,
            up: true,
            uv: false,
        };
        if let Some(v) = field(&m, 5) {
            for (k, b) in option_map(v)? {
                match k.as_str() {
                    "rk" => options.rk_present = true,
                    "up" => options.up = b,
                    "uv" => options.uv = b,
                    _ => {}
                }
            }
        }
        let pin_uv_auth_param = field(&m, 6).map(|v| bytes(v, "pinUvAuthParam")).transpose()?;
        let pin_uv_auth_protocol = field(&m, 7).map(|v| uint(v, "pinUvAuthProtocol")).transpose()?;
        Ok(GetAssertionRequest {
            rp_id: required(rp_id, "rpId")?,
            client_data_hash: required(client_data_hash, "clientDataHash")?,
            allow_list,
            extensions,
            options,
            pin_uv_auth_param,
            pin_uv_auth_protocol,
        })
    }
}

impl ClientPinRequest {
    /// Decodes the CBOR parameters of authenticatorClientPIN.
    pub fn decode(params: &[u8]) -> Result<Self, EngineError> {
        use client_pin_param as k;
        let m = param_map(params)?;
        let protocol = field(&m, k::PIN_UV_AUTH_PROTOCOL)
            .map(|v| uint(v, "pinUvAuthProtocol"))
            .transpose()?;
        let sub_command = field(&m, k::SUB_COMMAND)
            .map(|v| uint(v, "subCommand"))
            .transpose()?;
        let key_agreement = match field(&m, k::KEY_AGREEMENT) {
            Some(v) => {
                map(v, "keyAgreement")?;
                Some(v.clone())
            }
            None => None,
        };
        Ok(ClientPinRequest {
            protocol,
            sub_command: required(sub_command, "subCommand")?,
            key_agreement,
            pin_uv_auth_param: field(&m, k::PIN_UV_AUTH_PARAM)
                .map(|v| bytes(v, "pinUvAuthParam"))
                .transpose()?,
            new_pin_enc: field(&m, k::NEW_PIN_ENC)
                .map(|v| bytes(v, "newPinEnc"))
                .transpose()?,
            pin_hash_enc: field(&m, k::PIN_HASH_ENC)
                .map(|v| bytes(v, "pinHashEnc"))
                .transpose()?,
            permissions: field(&m, k::PERMISSIONS)
                .map(|v| uint(v, "permissions"))
                .transpose()?,
            rp_id: field(&m, k::RP_ID).map(|v| text(v, "rpId")).transpose()?,
        })
    }
}
