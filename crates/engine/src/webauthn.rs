//! WebAuthn-level API for platform passkey providers.
//!
//! Android 14's Credential Manager hands a provider the W3C `PublicKeyCredentialCreationOptions` /
//! `PublicKeyCredentialRequestOptions` as JSON plus the clientDataHash; iOS 17's credential-provider
//! extension gives the same fields. This module parses that JSON (base64url binary fields), converts it to the
//! engine's typed CTAP requests and runs them through the very same [`Authenticator`] code path as CTAP, then
//! returns what an app needs to answer: credential ID, attestationObject, authenticatorData, SPKI public key,
//! signature, userHandle and client extension results. [`registration_response_json`] and
//! [`assertion_response_json`] build the W3C `RegistrationResponseJSON` / `AuthenticationResponseJSON`.
//!
//! Mapping choices: `residentKey` "required" or "preferred" (or `requireResidentKey`) ask for a discoverable
//! credential, and the engine's [`crate::DiscoverablePolicy`] decides (phones make every credential
//! discoverable; credProps reports what was stored); `attestation` "none" (the default) asks for fmt "none", "indirect"/"direct" for "packed",
//! "enterprise" for enterprise attestation when a certificate is configured (else "packed"); PRF inputs are
//! hashed as WebAuthn requires (SHA-256("WebAuthn PRF" ‖ 0x00 ‖ input)) and evaluated like hmac-secret with
//! the credential's UV CredRandom, so values match those obtained over hybrid or CTAP.

use tandem_webauthn::{
    AuthenticatorAttachment, ClientExtensionResults, CreationOptions, CredPropsOutput, PrfOutput, PrfValues,
    RequestOptions, prf_salt,
};

use crate::assetlinks::AssetLinksSource;
use crate::authenticator::Authenticator;
use crate::caller::{Caller, CallerError, ClientData, ClientDataType, PrivilegedAllowlist, ResolvedCaller};
use crate::cancel::Cancellation;
use crate::ctap::{
    CredentialDescriptor, GetAssertionExtensions, GetAssertionOptions, GetAssertionRequest,
    MakeCredentialExtensions, MakeCredentialOptions, MakeCredentialRequest, PrfInput, PrfSalts, RpEntity,
    UserEntity,
};
use crate::keys::spki_der;
use crate::status::EngineError;

/// Why a WebAuthn-level request failed.
#[derive(Debug, thiserror::Error)]
pub enum WebAuthnError {
    /// The options JSON is malformed or lacks a required member.
    #[error("invalid options JSON: {0}")]
    Json(String),
    /// The engine refused (user declined, no credentials, ...); the CTAP status tells which.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// The caller may not make this request for this RP ID (origin, allowlist, asset links). Checked before
    /// the engine runs: nothing was shown, signed or stored.
    #[error(transparent)]
    Caller(#[from] CallerError),
}

/// What a WebAuthn-level request is checked against before the engine sees it.
#[derive(Clone, Copy)]
pub struct CallerPolicy<'a> {
    /// The browsers whose clientDataHash and web origin count.
    pub allowlist: &'a PrivilegedAllowlist,
    /// Where native apps' Digital Asset Links come from.
    pub asset_links: &'a dyn AssetLinksSource,
}

impl std::fmt::Debug for CallerPolicy<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallerPolicy").finish_non_exhaustive()
    }
}

/// Resolves `caller`, checks it may use `rp_id`, and produces the client data to sign over.
fn admit(
    caller: &Caller,
    policy: &CallerPolicy<'_>,
    rp_id: &str,
    ty: ClientDataType,
    challenge: Option<&[u8]>,
) -> Result<ClientData, WebAuthnError> {
    let resolved: ResolvedCaller = caller.resolve(policy.allowlist)?;
    resolved.check_rp_id(rp_id, policy.asset_links)?;
    let challenge = match (resolved.built_origin(), challenge) {
        (None, c) => c.unwrap_or_default(),
        (Some(_), Some(c)) => c,
        (Some(_), None) => return Err(WebAuthnError::Json("challenge is required".into())),
    };
    Ok(resolved.client_data(ty, challenge))
}

fn prf_salts(v: &PrfValues) -> PrfSalts {
    PrfSalts {
        first: prf_salt(&v.first),
        second: v.second.as_deref().map(prf_salt),
    }
}

fn descriptors(list: &[tandem_webauthn::CredentialDescriptor]) -> Vec<CredentialDescriptor> {
    list.iter()
        .filter(|d| d.is_public_key())
        .map(|d| CredentialDescriptor {
            id: d.id.clone(),
            transports: d.transports.clone(),
        })
        .collect()
}

/// The `prf` client extension output: `enabled` when given (registration only) and the `results` the engine
/// put in the response's unsigned extension outputs, if any.
fn prf_output(unsigned: Option<&tandem_cbor::Value>, enabled: Option<bool>) -> PrfOutput {
    let results = unsigned
        .and_then(|u| u.get_text("prf"))
        .and_then(|p| p.get_text("results"))
        .and_then(|r| {
            let first = r.get_text("first").and_then(tandem_cbor::Value::as_bytes)?;
            let second = r.get_text("second").and_then(tandem_cbor::Value::as_bytes);
            Some(PrfValues {
                first: first.to_vec(),
                second: second.map(<[u8]>::to_vec),
            })
        });
    PrfOutput { enabled, results }
}

/// Everything an app needs to finish a registration.
#[derive(Clone, PartialEq)]
pub struct RegistrationResult {
    /// Credential ID (rawId).
    pub credential_id: Vec<u8>,
    /// The CBOR attestation object.
    pub attestation_object: Vec<u8>,
    /// The authenticator data inside it.
    pub authenticator_data: Vec<u8>,
    /// DER SubjectPublicKeyInfo of the credential key.
    pub public_key_spki_der: Vec<u8>,
    /// COSE algorithm of the credential key.
    pub public_key_algorithm: i64,
    /// Transports to report.
    pub transports: Vec<String>,
    /// `clientExtensionResults` (credProps, prf).
    pub client_extension_results: ClientExtensionResults,
    /// The clientDataJSON Tandem built and signed over; `None` when a trusted client (privileged browser, the
    /// OS) supplied the hash and reports its own.
    pub client_data_json: Option<Vec<u8>>,
}

/// Everything an app needs to finish an authentication.
#[derive(Clone, PartialEq)]
pub struct AssertionResult {
    /// Credential ID (rawId).
    pub credential_id: Vec<u8>,
    /// Authenticator data.
    pub authenticator_data: Vec<u8>,
    /// Signature over authenticatorData ‖ clientDataHash.
    pub signature: Vec<u8>,
    /// User handle (discoverable credentials).
    pub user_handle: Option<Vec<u8>>,
    /// `clientExtensionResults` (prf).
    pub client_extension_results: ClientExtensionResults,
    /// The clientDataJSON Tandem built and signed over; `None` when a trusted client supplied the hash.
    pub client_data_json: Option<Vec<u8>>,
}

// `clientExtensionResults` may hold PRF results (key material for the RP's encryption), so Debug hides them.
impl std::fmt::Debug for RegistrationResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrationResult")
            .field("credential_id", &self.credential_id)
            .field("attestation_object", &self.attestation_object)
            .field("authenticator_data", &self.authenticator_data)
            .field("public_key_spki_der", &self.public_key_spki_der)
            .field("public_key_algorithm", &self.public_key_algorithm)
            .field("transports", &self.transports)
            .field("client_extension_results", &format_args!("<redacted>"))
            .field("client_data_json", &self.client_data_json)
            .finish()
    }
}

impl std::fmt::Debug for AssertionResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionResult")
            .field("credential_id", &self.credential_id)
            .field("authenticator_data", &self.authenticator_data)
            .field("signature", &self.signature)
            .field("user_handle", &self.user_handle)
            .field("client_extension_results", &format_args!("<redacted>"))
            .field("client_data_json", &self.client_data_json)
            .finish()
    }
}

/// Runs a registration described by `PublicKeyCredentialCreationOptions` JSON for `caller`, after checking
/// under `policy` that the caller may use the RP ID (nothing is stored when it may not).
pub fn register(
    authenticator: &Authenticator,
    options_json: &str,
    caller: &Caller,
    policy: &CallerPolicy<'_>,
) -> Result<RegistrationResult, WebAuthnError> {
    register_cancellable(authenticator, options_json, caller, policy, &Cancellation::new())
}

/// [`register`] for a caller that may go away (a cancelled coroutine or task): once `cancel` is raised the
/// prompt is dismissed (if the verifier can) and nothing is stored.
pub fn register_cancellable(
    authenticator: &Authenticator,
    options_json: &str,
    caller: &Caller,
    policy: &CallerPolicy<'_>,
    cancel: &Cancellation,
) -> Result<RegistrationResult, WebAuthnError> {
    let o = CreationOptions::from_json(options_json).map_err(|e| WebAuthnError::Json(e.0))?;
    let rp_id =
        o.rp.id
            .clone()
            .ok_or_else(|| WebAuthnError::Json("rp.id is required".into()))?;
    let client_data = admit(
        caller,
        policy,
        &rp_id,
        ClientDataType::Create,
        o.challenge.as_deref(),
    )?;
    // "preferred" counts too: a phone keeps every passkey it can (the engine's DiscoverablePolicy decides).
    let rk = match o.authenticator_selection.resident_key.as_deref() {
        Some("required") | Some("preferred") => true,
        Some(_) => false,
        None => o.authenticator_selection.require_resident_key,
    };
    let algorithms = o.algorithms();
    let ext_json = o.extensions;
    let prf_requested = ext_json.prf.is_some();
    if ext_json
        .prf
        .as_ref()
        .is_some_and(|p| p.eval_by_credential.is_some())
    {
        return Err(WebAuthnError::Json(
            "prf.evalByCredential is not allowed on create".into(),
        ));
    }
    let cred_protect = match ext_json.credential_protection_policy.as_deref() {
        None => None,
        Some("userVerificationOptional") => Some(1),
        Some("userVerificationOptionalWithCredentialIDList") => Some(2),
        Some("userVerificationRequired") => Some(3),
        Some(other) => {
            return Err(WebAuthnError::Json(format!(
                "unknown credentialProtectionPolicy {other}"
            )));
        }
    };
    let (formats, enterprise) = match o.attestation.as_deref().unwrap_or("none") {
        "none" => (vec!["none".to_owned()], None),
        "enterprise" if authenticator.config().attestation.enterprise.is_some() => {
            (vec!["packed".to_owned()], Some(1))
        }
        _ => (vec!["packed".to_owned()], None),
    };
    let req = MakeCredentialRequest {
        client_data_hash: client_data.hash.to_vec(),
        rp: RpEntity {
            id: rp_id,
            name: o.rp.name,
        },
        user: UserEntity {
            id: o.user.id,
            name: o.user.name,
            display_name: o.user.display_name,
        },
        algorithms,
        exclude_list: descriptors(&o.exclude_credentials),
        extensions: MakeCredentialExtensions {
            cred_protect,
            hmac_secret: false,
            hmac_secret_mc: None,
            prf: ext_json.prf.as_ref().map(|p| PrfInput {
                eval: p.eval.as_ref().map(prf_salts),
                eval_by_credential: vec![],
            }),
            cred_blob: ext_json.cred_blob,
        },
        options: MakeCredentialOptions {
            rk,
            up: None,
            uv: true,
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
        // Vendor-facilitated: applies only to the RP IDs configured for enterprise attestation.
        enterprise_attestation: enterprise,
        attestation_formats_preference: Some(formats),
    };
    let (response, created) = authenticator.make_credential_cancellable(req, cancel)?;

    let ext = ClientExtensionResults {
        // What was stored, not what was asked: the engine may make every credential discoverable.
        cred_props: ext_json.cred_props.then_some(CredPropsOutput {
            rk: created.discoverable,
        }),
        prf: prf_requested.then(|| prf_output(response.unsigned_extension_outputs.as_ref(), Some(true))),
    };
    Ok(RegistrationResult {
        credential_id: created.id,
        attestation_object: response.attestation_object(),
        authenticator_data: response.auth_data.clone(),
        public_key_spki_der: spki_der(created.algorithm, &created.public_key_raw).unwrap_or_default(),
        public_key_algorithm: created.algorithm,
        transports: vec!["hybrid".to_owned(), "internal".to_owned()],
        client_extension_results: ext,
        client_data_json: client_data.json,
    })
}

/// Runs an authentication described by `PublicKeyCredentialRequestOptions` JSON for `caller`, after the same
/// checks as [`register`]. `rpId` must be present (the provider fills it from the calling origin when the page
/// omitted it).
pub fn authenticate(
    authenticator: &Authenticator,
    options_json: &str,
    caller: &Caller,
    policy: &CallerPolicy<'_>,
) -> Result<AssertionResult, WebAuthnError> {
    authenticate_cancellable(authenticator, options_json, caller, policy, &Cancellation::new())
}

/// [`authenticate`] for a caller that may go away: once `cancel` is raised the prompt (or account choice) is
/// dismissed (if the platform can) and nothing is signed.
pub fn authenticate_cancellable(
    authenticator: &Authenticator,
    options_json: &str,
    caller: &Caller,
    policy: &CallerPolicy<'_>,
    cancel: &Cancellation,
) -> Result<AssertionResult, WebAuthnError> {
    let o = RequestOptions::from_json(options_json).map_err(|e| WebAuthnError::Json(e.0))?;
    let rp_id = o
        .rp_id
        .clone()
        .ok_or_else(|| WebAuthnError::Json("rpId is required".into()))?;
    let client_data = admit(
        caller,
        policy,
        &rp_id,
        ClientDataType::Get,
        o.challenge.as_deref(),
    )?;
    let ext_json = o.extensions;
    let prf = ext_json.prf.as_ref().map(|p| PrfInput {
        eval: p.eval.as_ref().map(prf_salts),
        eval_by_credential: p
            .eval_by_credential
            .iter()
            .flatten()
            .map(|(id, values)| (id.clone(), prf_salts(values)))
            .collect(),
    });
    let req = GetAssertionRequest {
        rp_id,
        client_data_hash: client_data.hash.to_vec(),
        allow_list: descriptors(&o.allow_credentials),
        extensions: GetAssertionExtensions {
            hmac_secret: None,
            prf,
            cred_blob: ext_json.get_cred_blob,
        },
        options: GetAssertionOptions {
            rk_present: false,
            up: true,
            uv: true,
        },
        pin_uv_auth_param: None,
        pin_uv_auth_protocol: None,
    };
    let response = authenticator.get_assertion_cancellable(req, cancel)?;
    let ext = ClientExtensionResults {
        cred_props: None,
        prf: ext_json
            .prf
            .is_some()
            .then(|| prf_output(response.unsigned_extension_outputs.as_ref(), None)),
    };
    Ok(AssertionResult {
        credential_id: response.credential_id,
        authenticator_data: response.auth_data,
        signature: response.signature,
        user_handle: response.user.map(|u| u.id),
        client_extension_results: ext,
        client_data_json: client_data.json,
    })
}

/// The W3C `RegistrationResponseJSON` for `result`, given the clientDataJSON the platform built.
pub fn registration_response_json(result: &RegistrationResult, client_data_json: &[u8]) -> String {
    tandem_webauthn::RegistrationResponse {
        credential_id: &result.credential_id,
        client_data_json,
        attestation_object: &result.attestation_object,
        authenticator_data: Some(&result.authenticator_data),
        public_key: Some((&result.public_key_spki_der, result.public_key_algorithm)),
        transports: &result.transports,
        attachment: AuthenticatorAttachment::Platform,
        extensions: &result.client_extension_results,
    }
    .to_json()
    .to_string()
}

/// The W3C `AuthenticationResponseJSON` for `result`, given the clientDataJSON the platform built.
pub fn assertion_response_json(result: &AssertionResult, client_data_json: &[u8]) -> String {
    tandem_webauthn::AuthenticationResponse {
        credential_id: &result.credential_id,
        client_data_json,
        authenticator_data: &result.authenticator_data,
        signature: &result.signature,
        user_handle: result.user_handle.as_deref(),
        attachment: AuthenticatorAttachment::Platform,
        extensions: &result.client_extension_results,
    }
    .to_json()
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_debug_hides_prf_results() {
        let prf = [0xa5u8, 0x5a, 0x13, 0x37, 0xc3, 0x3c, 0x99, 0x66];
        let encoded = tandem_webauthn::b64::encode(&prf);
        let results = ClientExtensionResults {
            cred_props: None,
            prf: Some(PrfOutput {
                enabled: None,
                results: Some(PrfValues {
                    first: prf.to_vec(),
                    second: None,
                }),
            }),
        };
        let a = AssertionResult {
            credential_id: vec![1],
            authenticator_data: vec![2],
            signature: vec![3],
            user_handle: None,
            client_extension_results: results.clone(),
            client_data_json: None,
        };
        let r = RegistrationResult {
            credential_id: vec![1],
            attestation_object: vec![2],
            authenticator_data: vec![3],
            public_key_spki_der: vec![4],
            public_key_algorithm: -7,
            transports: vec![],
            client_extension_results: results,
            client_data_json: None,
        };
        for printed in [format!("{a:?} {a:#?}"), format!("{r:?} {r:#?}")] {
            assert!(printed.contains("redacted"));
            assert!(!printed.contains(&encoded), "{printed}");
        }
        crate::redaction::assert_redacted(&a, &prf);
    }
}
