//! The authenticator: one code path for CTAP requests (hybrid, direct CTAP clients) and the WebAuthn-level
//! API ([`crate::webauthn`]).
//!
//! Decisions worth knowing:
//! * Every makeCredential and every getAssertion with `up` (the default) runs the [`UserVerifier`] through
//!   the [`crate::uv`] gate; a pinUvAuthToken is validated when sent but never replaces that approval. A
//!   silent `up=false` request with a valid token is user-verified (UV=1, UP=0): the token was only issued
//!   after the verifier passed.
//! * The Hybrid profile refuses `up=false` (CTAP2_ERR_UNSUPPORTED_OPTION): over hybrid every signature,
//!   credential ID, user handle and extension output comes after the user was verified.
//! * pinUvAuthTokens (Direct profile) follow CTAP 2.1's token state ([`crate::token`]): bound to the RP
//!   named when issued, expiring, and spent by the first operation that prompted with them.
//! * A caller that stops waiting raises a [`Cancellation`]; a late approval then stores and signs nothing.
//! * Several discoverable credentials for one RP with user presence: the [`AccountChooser`] picks one
//!   (CTAP 2.1 §6.2.2, authenticator with a display), `userSelected` = true, no numberOfCredentials. The
//!   silent `up=false` pre-flight cannot prompt, so it returns the first with `numberOfCredentials` and serves
//!   the rest through getNextAssertion (state kept 30 s).
//! * getAssertion returns CTAP2_ERR_NO_CREDENTIALS without prompting when nothing matches (no point asking
//!   the user for a biometric that cannot lead anywhere).
//! * makeCredential with an excluded credential waits for the user (a prompt) and then returns
//!   CTAP2_ERR_CREDENTIAL_EXCLUDED whatever the user answered (CTAP 2.2 §6.1.2 step 12). A credProtect
//!   level-3 credential counts only for a user-verified request.
//! * The Hybrid profile serves only what its getInfo lists: no ClientPIN (CTAP1_ERR_INVALID_COMMAND), no
//!   pinUvAuthParam (no PIN/UV auth protocol is supported there), and hmac-secret(-mc) inputs are ignored
//!   like unknown extensions. largeBlobKey is supported in no profile (there is no largeBlobs command).
//! * Nothing is stored unless the user approved and every signature was produced.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};
use tandem_cbor::Value;

use crate::attestation;
use crate::authdata::{self, AttestedCredentialData, BackupFlags};
use crate::cancel::Cancellation;
use crate::clock::{Clock, SystemClock};
use crate::config::{AuthenticatorConfig, BackupPolicy, DiscoverablePolicy, GetInfoProfile};
use crate::ctap::{
    ClientPinRequest, ClientPinResponse, GetAssertionRequest, GetAssertionResponse, MakeCredentialRequest,
    MakeCredentialResponse, Request, ResponseUser, decode_request_ignoring,
};
use crate::extensions::{self, MAX_CRED_BLOB_LENGTH, VerifiedSalts, cred_protect_allows};
use crate::keys::{CredentialKey, CredentialSecret, SUPPORTED_ALGORITHMS, random_bytes};
use crate::pin::{KeyAgreementKey, PinProtocol};
use crate::platform::{
    AccountChooser, AccountInfo, Operation, UserVerifier, VerificationError, VerificationPrompt,
};
use crate::status::{CtapStatus, EngineError};
use crate::store::{CredentialMeta, CredentialStore, StoreError, StoredCredential};
use crate::token::PinUvAuthToken;
use crate::uv::{OperationBinding, Presence, Silent, TokenVerified, UvGate};
use crate::uvkey;

/// pinUvAuthToken permission: makeCredential.
pub const PERMISSION_MC: u64 = 0x01;
/// pinUvAuthToken permission: getAssertion.
pub const PERMISSION_GA: u64 = 0x02;

/// What getUVRetries (ClientPIN 0x07) reports. The engine's user verification is the platform's biometric
/// prompt (BiometricPrompt, LocalAuthentication), which counts failed matches and locks itself out on its own
/// (after five on both Android and iOS); the engine never sees individual failures, only the prompt's final
/// answer, and a lockout comes back as CTAP2_ERR_UV_BLOCKED. So it reports the platforms' allowance of five
/// rather than a count it cannot keep. Clients such as Yubico's Swift SDK call getUVRetries before using
/// built-in UV and give up on an error or zero.
pub const UV_RETRIES: u32 = 5;

/// ClientPIN subcommand getKeyAgreement.
const SUBCOMMAND_GET_KEY_AGREEMENT: u64 = 0x02;
/// ClientPIN subcommand getPinUvAuthTokenUsingUvWithPermissions.
const SUBCOMMAND_GET_UV_TOKEN: u64 = 0x06;
/// ClientPIN subcommand getUVRetries.
const SUBCOMMAND_GET_UV_RETRIES: u64 = 0x07;

/// How long getNextAssertion state lives (CTAP 2.1 §6.3: 30 seconds).
const NEXT_ASSERTION_TTL: Duration = Duration::from_secs(30);

/// Length of generated credential IDs.
const CREDENTIAL_ID_LEN: usize = 32;

/// The public part of a credential just created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedCredential {
    /// Credential ID.
    pub id: Vec<u8>,
    /// COSE algorithm.
    pub algorithm: i64,
    /// Raw public key (uncompressed SEC1 point or Ed25519 key).
    pub public_key_raw: Vec<u8>,
    /// Whether it was stored as discoverable (what WebAuthn's credProps reports as `rk`).
    pub discoverable: bool,
}

struct PendingAssertions {
    request: GetAssertionRequest,
    remaining: Vec<CredentialMeta>,
    deadline: Instant,
    /// Set when the getAssertion that started the sequence carried a valid pinUvAuthToken (UV=1).
    token: Option<TokenVerified>,
}

/// One CTAP answer: the bytes for the peer (status byte ‖ CBOR) and, when the status is a failure, the
/// engine's typed error behind it.
#[derive(Debug)]
pub struct CtapAnswer {
    /// Status byte ‖ CBOR, exactly what [`Authenticator::handle_ctap`] returns.
    pub response: Vec<u8>,
    /// Why the request failed (`None` on success).
    pub error: Option<EngineError>,
}

/// The authenticator engine. Cheap to share: every method takes `&self`.
pub struct Authenticator {
    config: AuthenticatorConfig,
    store: Arc<dyn CredentialStore>,
    verifier: Arc<dyn UserVerifier>,
    chooser: Arc<dyn AccountChooser>,
    key_agreement: Option<KeyAgreementKey>,
    pin_token: Mutex<Option<PinUvAuthToken>>,
    pending: Mutex<Option<PendingAssertions>>,
    clock: Arc<dyn Clock>,
}

/// SHA-256 of an RP ID.
pub fn rp_id_hash(rp_id: &str) -> [u8; 32] {
    Sha256::digest(rp_id.as_bytes()).into()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave a half-written value (plain replacements only).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Authenticator {
    /// Creates an engine. The key-agreement key for PIN/UV protocols is generated here (one per instance,
    /// like an authenticator power-up); if the OS random generator fails, ClientPIN and hmac-secret report
    /// CTAP1_ERR_OTHER.
    pub fn new(
        config: AuthenticatorConfig,
        store: Arc<dyn CredentialStore>,
        verifier: Arc<dyn UserVerifier>,
        chooser: Arc<dyn AccountChooser>,
    ) -> Self {
        Authenticator {
            config,
            store,
            verifier,
            chooser,
            key_agreement: KeyAgreementKey::generate().ok(),
            pin_token: Mutex::new(None),
            pending: Mutex::new(None),
            clock: Arc::new(SystemClock),
        }
    }

    /// The same engine reading time from `clock` (pinUvAuthToken lifetime, getNextAssertion window), so
    /// tests can move time instead of sleeping.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &AuthenticatorConfig {
        &self.config
    }

    /// Handles one CTAP message (command byte ‖ CBOR) and returns status byte ‖ CBOR. Never panics on input.
    pub fn handle_ctap(&self, request: &[u8]) -> Vec<u8> {
        self.handle_ctap_cancellable(request, &Cancellation::new())
    }

    /// [`Self::handle_ctap`] for a caller that may stop waiting: once `cancel` is raised, a user's late
    /// approval stores and signs nothing (the answer is CTAP2_ERR_KEEPALIVE_CANCEL, which nobody reads).
    pub fn handle_ctap_cancellable(&self, request: &[u8], cancel: &Cancellation) -> Vec<u8> {
        self.answer_ctap(request, cancel).response
    }

    /// [`Self::handle_ctap_cancellable`], keeping the typed error behind a failure status: a transport
    /// sends the status byte to its peer but tells its own app why (key loss needs the app, not the peer).
    pub fn answer_ctap(&self, request: &[u8], cancel: &Cancellation) -> CtapAnswer {
        match self.dispatch(request, cancel) {
            Ok(body) => {
                let mut response = Vec::with_capacity(1 + body.len());
                response.push(CtapStatus::Ok.code());
                response.extend_from_slice(&body);
                CtapAnswer {
                    response,
                    error: None,
                }
            }
            Err(e) => CtapAnswer {
                response: vec![e.status().code()],
                error: Some(e),
            },
        }
    }

    fn dispatch(&self, request: &[u8], cancel: &Cancellation) -> Result<Vec<u8>, EngineError> {
        let request = decode_request_ignoring(request, self.ignored_extensions())?;
        // Any command other than getNextAssertion ends a pending assertion sequence.
        if !matches!(request, Request::GetNextAssertion) {
            *lock(&self.pending) = None;
        }
        match request {
            Request::MakeCredential(r) => Ok(self.make_credential_cancellable(r, cancel)?.0.to_cbor()),
            Request::GetAssertion(r) => Ok(self.get_assertion_cancellable(r, cancel)?.to_cbor()),
            Request::GetInfo => Ok(self.get_info_cbor()),
            Request::ClientPin(r) => Ok(self.client_pin(r)?.to_cbor()),
            Request::GetNextAssertion => Ok(self.get_next_assertion()?.to_cbor()),
            Request::Selection => self.selection().map(|()| Vec::new()),
        }
    }

    // ---------------------------------------------------------------- getInfo

    /// Extensions this engine supports in the configured profile.
    pub fn supported_extensions(&self) -> Vec<&'static str> {
        match self.config.profile {
            // No PIN/UV protocol over hybrid, so no hmac-secret there: PRF travels as `prf`.
            GetInfoProfile::Hybrid => vec!["credBlob", "credProtect", "prf"],
            GetInfoProfile::Direct => {
                vec!["credBlob", "credProtect", "hmac-secret", "hmac-secret-mc", "prf"]
            }
        }
    }

    /// Extension inputs the engine understands but the configured profile does not offer: they are ignored
    /// like unknown extensions (never validated, never served).
    fn ignored_extensions(&self) -> &'static [&'static str] {
        match self.config.profile {
            GetInfoProfile::Hybrid => &["hmac-secret", "hmac-secret-mc"],
            GetInfoProfile::Direct => &[],
        }
    }

    /// `req` without the extension inputs the profile ignores. The decoder already skips them; this covers
    /// typed requests that did not come through it.
    fn without_ignored_mc_extensions(&self, mut req: MakeCredentialRequest) -> MakeCredentialRequest {
        let ignored = self.ignored_extensions();
        if ignored.contains(&"hmac-secret") {
            req.extensions.hmac_secret = false;
        }
        if ignored.contains(&"hmac-secret-mc") {
            req.extensions.hmac_secret_mc = None;
        }
        req
    }

    /// `req` without the extension inputs the profile ignores (see [`Self::without_ignored_mc_extensions`]).
    fn without_ignored_ga_extensions(&self, mut req: GetAssertionRequest) -> GetAssertionRequest {
        if self.ignored_extensions().contains(&"hmac-secret") {
            req.extensions.hmac_secret = None;
        }
        req
    }

    /// The getInfo response CBOR (no status byte), as the hybrid post-handshake message carries it.
    pub fn get_info_cbor(&self) -> Vec<u8> {
        self.get_info().to_vec()
    }

    fn get_info(&self) -> Value {
        let texts = |v: Vec<String>| Value::Array(v.into_iter().map(Value::Text).collect());
        let extensions = Value::Array(self.supported_extensions().into_iter().map(Value::text).collect());
        let transports = texts(self.config.transports());
        let versions = Value::Array(vec![Value::text("FIDO_2_0"), Value::text("FIDO_2_1")]);
        match self.config.profile {
            // maxCredBlobLength (0x0F) is present exactly when credBlob is listed: Chromium's getInfo parser
            // rejects the whole response otherwise and falls back to U2F (see docs/protocol-notes.md).
            GetInfoProfile::Hybrid => Value::map()
                .insert(1, versions)
                .insert(2, extensions)
                .insert(3, self.config.aaguid.to_vec())
                .insert(4, Value::map().insert("rk", true).insert("uv", true).build())
                .insert(9, transports)
                .insert(15, MAX_CRED_BLOB_LENGTH as u32)
                .build(),
            GetInfoProfile::Direct => {
                let mut options = Value::map()
                    .insert("rk", true)
                    .insert("up", true)
                    .insert("uv", true)
                    .insert("pinUvAuthToken", true);
                if self.config.attestation.enterprise.is_some() {
                    options = options.insert("ep", true);
                }
                let algorithms = Value::Array(
                    SUPPORTED_ALGORITHMS
                        .iter()
                        .map(|a| {
                            Value::map()
                                .insert("alg", *a)
                                .insert("type", "public-key")
                                .build()
                        })
                        .collect(),
                );
                Value::map()
                    .insert(1, versions)
                    .insert(2, extensions)
                    .insert(3, self.config.aaguid.to_vec())
                    .insert(4, options.build())
                    .insert(5, 4096u32)
                    .insert(6, Value::Array(vec![Value::from(2u8), Value::from(1u8)]))
                    .insert(7, 64u32)
                    .insert(8, CREDENTIAL_ID_LEN as u32)
                    .insert(9, transports)
                    .insert(10, algorithms)
                    .insert(15, MAX_CRED_BLOB_LENGTH as u32)
                    .insert(22, Value::Array(vec![Value::text("packed"), Value::text("none")]))
                    .build()
            }
        }
    }

    // ---------------------------------------------------------------- shared helpers

    fn gate<'a>(&'a self, cancel: &'a Cancellation) -> UvGate<'a> {
        UvGate::new(
            self.verifier.as_ref(),
            self.store.as_ref(),
            self.config.approval_ttl,
            cancel,
        )
    }

    fn key_agreement(&self) -> Result<&KeyAgreementKey, EngineError> {
        self.key_agreement
            .as_ref()
            .ok_or(EngineError::Internal("no key-agreement key"))
    }

    /// CTAP 2.2 §6.1.2 / §6.2.2 steps 1–2 for a request's pinUvAuthParam: the zero-length probe, then the
    /// protocol check. Over hybrid no PIN/UV auth protocol is offered, so any pinUvAuthParam is refused there
    /// (CTAP1_ERR_INVALID_PARAMETER, or CTAP2_ERR_MISSING_PARAMETER without a protocol).
    fn check_pin_uv_protocol(
        &self,
        param: Option<&[u8]>,
        protocol: Option<u64>,
        operation: Operation,
        rp_id: &str,
    ) -> Result<(), EngineError> {
        let Some(param) = param else { return Ok(()) };
        if self.config.profile == GetInfoProfile::Direct && param.is_empty() {
            return Err(self.pin_probe(operation, rp_id));
        }
        let protocol = protocol.ok_or(EngineError::MissingParameter("pinUvAuthProtocol"))?;
        match self.config.profile {
            GetInfoProfile::Direct => PinProtocol::from_wire(protocol).map(|_| ()),
            GetInfoProfile::Hybrid => Err(EngineError::InvalidParameter(
                "no pinUvAuthProtocol is supported over hybrid",
            )),
        }
    }

    /// Validates a pinUvAuthParam against the current pinUvAuthToken (CTAP 2.1 §6.1.2 step 11 / §6.2.2),
    /// after [`Self::check_pin_uv_protocol`]. Returns the UV witness when a token authorised the request.
    fn check_pin_uv_auth(
        &self,
        param: Option<&[u8]>,
        protocol: Option<u64>,
        permission: u64,
        rp_id: &str,
        client_data_hash: &[u8],
    ) -> Result<Option<TokenVerified>, EngineError> {
        let Some(param) = param else { return Ok(None) };
        let protocol =
            PinProtocol::from_wire(protocol.ok_or(EngineError::MissingParameter("pinUvAuthProtocol"))?)?;
        let now = self.clock.now();
        let mut guard = lock(&self.pin_token);
        let token = guard.as_mut().ok_or(EngineError::PinAuthInvalid)?;
        match token.authorise(protocol, client_data_hash, param, permission, rp_id, now) {
            Err(EngineError::PinUvAuthTokenExpired) => {
                // The usage timer ran out: the token is gone (stopUsingPinUvAuthToken).
                *guard = None;
                Err(EngineError::PinUvAuthTokenExpired)
            }
            other => other.map(Some),
        }
    }

    /// After an operation that collected user presence with a token: its flags and permissions are
    /// cleared ([`PinUvAuthToken::spend`]).
    fn spend_token(&self) {
        if let Some(token) = lock(&self.pin_token).as_mut() {
            token.spend();
        }
    }

    /// The zero-length pinUvAuthParam probe (CTAP 2.2 §6.1.2 / §6.2.2 step 1): collect user presence; if the
    /// user declines or the prompt times out (or cannot be shown), CTAP2_ERR_OPERATION_DENIED; otherwise
    /// CTAP2_ERR_PIN_NOT_SET, since no PIN exists (built-in UV is not a PIN).
    fn pin_probe(&self, operation: Operation, rp_id: &str) -> EngineError {
        let prompt = VerificationPrompt {
            operation,
            rp_id: rp_id.to_owned(),
            rp_name: None,
            account: None,
        };
        // Presence only (nothing is signed or opened), so the key is not needed.
        match self.verifier.verify(&prompt) {
            Ok(_) => EngineError::PinNotSet,
            Err(_) => EngineError::OperationDenied,
        }
    }

    fn backup_flags(&self) -> BackupFlags {
        match self.config.backup {
            BackupPolicy::DeviceBound => BackupFlags {
                eligible: false,
                state: false,
            },
            BackupPolicy::Synced => BackupFlags {
                eligible: true,
                state: true,
            },
        }
    }

    // ---------------------------------------------------------------- makeCredential

    /// authenticatorMakeCredential on a typed request.
    pub fn make_credential(&self, req: MakeCredentialRequest) -> Result<MakeCredentialResponse, EngineError> {
        self.make_credential_cancellable(req, &Cancellation::new())
            .map(|(response, _)| response)
    }

    /// makeCredential whose caller may stop waiting: after `cancel` is raised nothing is stored. Also
    /// reports the new credential's public key (for the WebAuthn-level API).
    pub fn make_credential_cancellable(
        &self,
        req: MakeCredentialRequest,
        cancel: &Cancellation,
    ) -> Result<(MakeCredentialResponse, CreatedCredential), EngineError> {
        let req = self.without_ignored_mc_extensions(req);
        self.check_pin_uv_protocol(
            req.pin_uv_auth_param.as_deref(),
            req.pin_uv_auth_protocol,
            Operation::Register,
            &req.rp.id,
        )?;
        let alg = req
            .algorithms
            .iter()
            .copied()
            .find(|a| SUPPORTED_ALGORITHMS.contains(a))
            .ok_or(EngineError::UnsupportedAlgorithm)?;
        if req.options.up == Some(false) {
            return Err(EngineError::InvalidOption(
                "up=false is not allowed in makeCredential",
            ));
        }
        let attestation = attestation::choose(
            &self.config.attestation,
            &req.rp.id,
            req.enterprise_attestation,
            req.attestation_formats_preference.as_deref(),
        )?;
        let token_used = self
            .check_pin_uv_auth(
                req.pin_uv_auth_param.as_deref(),
                req.pin_uv_auth_protocol,
                PERMISSION_MC,
                &req.rp.id,
                &req.client_data_hash,
            )?
            .is_some();

        let rp_hash = rp_id_hash(&req.rp.id);
        let account = AccountInfo {
            user_id: req.user.id.clone(),
            name: req.user.name.clone(),
            display_name: req.user.display_name.clone(),
        };
        let prompt = VerificationPrompt {
            operation: Operation::Register,
            rp_id: req.rp.id.clone(),
            rp_name: req.rp.name.clone(),
            account: Some(account),
        };
        let binding = OperationBinding::new(Operation::Register, &rp_hash, &req.client_data_hash);

        // Exclude list (CTAP 2.2 §6.1.2 step 12): wait for the user, then CTAP2_ERR_CREDENTIAL_EXCLUDED
        // whatever they answered (a refusal must not turn into another status the RP could tell apart). A
        // credProtect level-3 credential counts only if the request is user-verified: by a token, or by this
        // prompt, which is the engine's UV. If that prompt is refused, the level-3 entry is dropped and the
        // request ends as the refused creation it then is.
        if !req.exclude_list.is_empty() {
            let existing = self.store.list_for_rp(&req.rp.id)?;
            let hits: Vec<&CredentialMeta> = existing
                .iter()
                .filter(|m| req.exclude_list.iter().any(|d| d.id == m.id))
                .collect();
            if !hits.is_empty() {
                let only_uv_required = hits
                    .iter()
                    .all(|m| m.cred_protect == extensions::CRED_PROTECT_UV_REQUIRED);
                let answer = self.gate(cancel).verify(&prompt, binding.clone());
                return Err(match answer {
                    Err(e) if only_uv_required && !token_used => e,
                    _ => EngineError::CredentialExcluded,
                });
            }
        }

        // Validate extension inputs before prompting, so malformed input never costs the user a prompt.
        let ext = &req.extensions;
        let hmac_mc = match (&ext.hmac_secret_mc, ext.hmac_secret) {
            (Some(input), true) => Some(VerifiedSalts::open(self.key_agreement()?, input)?),
            _ => None,
        };

        let approval = self.gate(cancel).verify(&prompt, binding.clone())?;
        still_wanted(cancel)?;

        // Everything below runs only after the user approved; nothing is stored until all of it succeeded.
        let key = CredentialKey::generate(alg)?;
        let secret = CredentialSecret::generate(key, ext.hmac_secret || ext.prf.is_some())?;
        let credential_id = random_bytes::<CREDENTIAL_ID_LEN>()?.to_vec();
        let cred_protect = ext.cred_protect.unwrap_or(extensions::CRED_PROTECT_UV_OPTIONAL);
        let cred_blob = ext
            .cred_blob
            .as_ref()
            .filter(|b| b.len() <= MAX_CRED_BLOB_LENGTH)
            .cloned();

        let mut signed_ext = Value::map();
        if let Some(level) = ext.cred_protect {
            signed_ext = signed_ext.insert("credProtect", level);
        }
        if ext.hmac_secret {
            signed_ext = signed_ext.insert("hmac-secret", true);
        }
        if let Some(salts) = &hmac_mc {
            // The credential was just verified, so the UV CredRandom applies.
            signed_ext = signed_ext.insert("hmac-secret-mc", salts.outputs(&secret.cred_random_uv)?);
        }
        if ext.cred_blob.is_some() {
            signed_ext = signed_ext.insert("credBlob", cred_blob.is_some());
        }
        let unsigned = ext.prf.as_ref().map(|prf| {
            let results = prf
                .eval
                .as_ref()
                .map(|s| extensions::prf_results(&secret.cred_random_uv, s));
            Value::map()
                .insert(
                    "prf",
                    Value::map()
                        .insert("enabled", true)
                        .insert_opt("results", results)
                        .build(),
                )
                .build()
        });

        let attested = AttestedCredentialData {
            aaguid: self.config.aaguid,
            credential_id: credential_id.clone(),
            cose_public_key: secret.key.cose_public_key(),
        };
        let presence = approval.redeem(&binding, Instant::now())?;
        // The secret is stored sealed under the key this verification unlocked: only a later verification
        // that unlocks the same key can use it.
        let stored_secret = if self.config.secrets_under_uv_key {
            let uv_key = presence
                .uv_key()
                .ok_or(EngineError::Internal("a redeemed approval carries no UV key"))?;
            uvkey::seal_secret(uv_key, &credential_id, &req.rp.id, &secret.to_blob())?
        } else {
            secret.to_blob()
        };
        let backup = self.backup_flags();
        let auth_data = authdata::encode(
            &rp_hash,
            presence,
            backup,
            0,
            Some(&attested),
            Some(&signed_ext.build()),
        );
        let statement = attestation::statement(attestation, &secret.key, &auth_data, &req.client_data_hash)?;

        let created_at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let stored = StoredCredential {
            meta: CredentialMeta {
                id: credential_id,
                rp_id: req.rp.id.clone(),
                rp_name: req.rp.name.clone(),
                user_id: req.user.id.clone(),
                user_name: req.user.name.clone(),
                user_display_name: req.user.display_name.clone(),
                algorithm: alg,
                discoverable: match self.config.discoverable {
                    DiscoverablePolicy::Always => true,
                    DiscoverablePolicy::AsRequested => req.options.rk,
                },
                cred_protect,
                backup_eligible: backup.eligible,
                backup_state: backup.state,
                sign_count: 0,
                created_at,
                cred_blob,
            },
            secret: stored_secret,
        };
        // Checked again just before storing: an approval that raced the caller's timeout stores nothing.
        still_wanted(cancel)?;
        self.store.insert(&stored)?;
        if token_used {
            self.spend_token();
        }
        let created = CreatedCredential {
            id: stored.meta.id.clone(),
            algorithm: alg,
            public_key_raw: secret.key.public_raw(),
            discoverable: stored.meta.discoverable,
        };
        let response = MakeCredentialResponse {
            fmt: statement.fmt.to_owned(),
            auth_data,
            att_stmt: statement.att_stmt,
            ep_att: statement.ep_att,
            unsigned_extension_outputs: unsigned,
        };
        Ok((response, created))
    }

    // ---------------------------------------------------------------- getAssertion

    /// authenticatorGetAssertion on a typed request.
    pub fn get_assertion(&self, req: GetAssertionRequest) -> Result<GetAssertionResponse, EngineError> {
        self.get_assertion_cancellable(req, &Cancellation::new())
    }

    /// getAssertion whose caller may stop waiting: after `cancel` is raised nothing is signed (and no
    /// signature counter moves).
    pub fn get_assertion_cancellable(
        &self,
        req: GetAssertionRequest,
        cancel: &Cancellation,
    ) -> Result<GetAssertionResponse, EngineError> {
        let req = self.without_ignored_ga_extensions(req);
        self.check_pin_uv_protocol(
            req.pin_uv_auth_param.as_deref(),
            req.pin_uv_auth_protocol,
            Operation::SignIn,
            &req.rp_id,
        )?;
        if req.options.rk_present {
            return Err(EngineError::UnsupportedOption(
                "rk is not an option of getAssertion",
            ));
        }
        let silent = !req.options.up;
        if silent && self.config.profile == GetInfoProfile::Hybrid {
            // Over hybrid every signature needs the user (Chromium never sends up=false there): a silent
            // request would hand a desktop a signature over a hash it chose, credential IDs, user handles,
            // numberOfCredentials and extension outputs without anyone being asked.
            return Err(EngineError::UnsupportedOption("up=false over hybrid"));
        }
        if silent && req.options.uv {
            // The engine's only UV is the platform prompt, which is also user presence.
            return Err(EngineError::InvalidOption("uv without up"));
        }
        let token = self.check_pin_uv_auth(
            req.pin_uv_auth_param.as_deref(),
            req.pin_uv_auth_protocol,
            PERMISSION_GA,
            &req.rp_id,
            &req.client_data_hash,
        )?;
        let token_used = token.is_some();

        // Eligibility under credProtect: every prompted assertion is user-verified; a silent pre-flight is
        // user-verified when it carries a valid pinUvAuthToken (issued only after the verifier passed;
        // CTAP 2.2 §6.2.2 "uv bit"), as python-fido2's pre-flight does. Such a pre-flight answers UP=0, UV=1.
        let will_verify = !silent || token_used;
        let allow_list_given = !req.allow_list.is_empty();
        // With an allow list, look each ID up directly (one indexed read that also yields the secret) instead
        // of listing the RP; without one, list the RP's discoverable credentials.
        let mut candidates: Vec<(CredentialMeta, Option<StoredCredential>)> = Vec::new();
        if allow_list_given {
            for d in &req.allow_list {
                if candidates.iter().any(|(m, _)| m.id == d.id) {
                    continue;
                }
                let found = match self.store.get(&d.id) {
                    // A damaged row is passed over like an unknown ID, so the list's other credentials still
                    // sign (the store reports it through `unreadable`).
                    Err(StoreError::Corrupt(_)) => None,
                    other => other?,
                };
                if let Some(c) = found
                    && c.meta.rp_id == req.rp_id
                {
                    candidates.push((c.meta.clone(), Some(c)));
                }
            }
        } else {
            candidates = self
                .store
                .list_for_rp(&req.rp_id)?
                .into_iter()
                .filter(|m| m.discoverable)
                .map(|m| (m, None))
                .collect();
        }
        candidates.retain(|(m, _)| cred_protect_allows(m.cred_protect, will_verify, allow_list_given));
        if candidates.is_empty() {
            return Err(EngineError::NoCredentials);
        }
        // Validate extension inputs before any prompt.
        let hmac = match &req.extensions.hmac_secret {
            Some(input) => Some(VerifiedSalts::open(self.key_agreement()?, input)?),
            None => None,
        };

        if silent {
            let (first, loaded) = candidates.remove(0);
            let total = candidates.len() + 1;
            let presence = silent_presence(token.clone());
            let mut response = self.assert_one(&req, &first, loaded, presence, hmac.as_ref())?;
            if !allow_list_given && total > 1 {
                response.number_of_credentials = u32::try_from(total).ok();
                *lock(&self.pending) = Some(PendingAssertions {
                    request: req,
                    remaining: candidates.into_iter().map(|(m, _)| m).collect(),
                    deadline: self.clock.now() + NEXT_ASSERTION_TTL,
                    token,
                });
            }
            return Ok(response);
        }

        let (chosen, loaded) = if !allow_list_given && candidates.len() > 1 {
            let accounts: Vec<AccountInfo> = candidates.iter().map(|(m, _)| account_of(m)).collect();
            let index = self
                .chooser
                .choose_cancellable(&req.rp_id, &accounts, cancel)
                .ok_or(EngineError::OperationDenied)?;
            if index >= candidates.len() {
                return Err(EngineError::OperationDenied);
            }
            candidates.swap_remove(index)
        } else {
            candidates.remove(0)
        };
        let rp_hash = rp_id_hash(&req.rp_id);
        let binding = OperationBinding::new(Operation::SignIn, &rp_hash, &req.client_data_hash);
        let prompt = VerificationPrompt {
            operation: Operation::SignIn,
            rp_id: req.rp_id.clone(),
            rp_name: chosen.rp_name.clone(),
            account: Some(account_of(&chosen)),
        };
        let approval = self.gate(cancel).verify(&prompt, binding.clone())?;
        still_wanted(cancel)?;
        let presence = approval.redeem(&binding, Instant::now())?;
        let mut response = self.assert_one(&req, &chosen, loaded, presence, hmac.as_ref())?;
        if !allow_list_given {
            response.user_selected = Some(true);
        }
        if token_used {
            self.spend_token();
        }
        Ok(response)
    }

    /// Builds and signs one assertion for `meta`.
    fn assert_one(
        &self,
        req: &GetAssertionRequest,
        meta: &CredentialMeta,
        loaded: Option<StoredCredential>,
        presence: Presence,
        hmac: Option<&VerifiedSalts>,
    ) -> Result<GetAssertionResponse, EngineError> {
        let stored = match loaded {
            Some(s) => s,
            None => self.store.get(&meta.id)?.ok_or(EngineError::NoCredentials)?,
        };
        let blob = uvkey::open_secret(
            presence.uv_key(),
            &stored.meta.id,
            &stored.meta.rp_id,
            &stored.secret,
        )?;
        let secret = CredentialSecret::from_blob(&blob)?;
        if self.config.secrets_under_uv_key
            && !uvkey::is_uv_sealed(&stored.secret)
            && let Some(key) = presence.uv_key()
        {
            // A secret stored before the UV layer: seal it now, so from here on only a verification opens it.
            let sealed = uvkey::seal_secret(key, &stored.meta.id, &stored.meta.rp_id, &blob)?;
            self.store.replace_secret(&stored.meta.id, &sealed)?;
        }
        let verified = presence.user_verified();
        let cred_random = if verified {
            &secret.cred_random_uv
        } else {
            &secret.cred_random_no_uv
        };

        let mut signed_ext = Value::map();
        if let Some(salts) = hmac.filter(|_| secret.hmac_secret) {
            signed_ext = signed_ext.insert("hmac-secret", salts.outputs(cred_random)?);
        }
        if req.extensions.cred_blob {
            signed_ext = signed_ext.insert("credBlob", stored.meta.cred_blob.clone().unwrap_or_default());
        }
        // PRF is offered for every credential (as platform passkey providers do); raw CTAP hmac-secret only
        // for credentials created with it.
        let unsigned = match &req.extensions.prf {
            Some(prf) => {
                let salts = prf
                    .eval_by_credential
                    .iter()
                    .find(|(id, _)| *id == meta.id)
                    .map(|(_, s)| s)
                    .or(prf.eval.as_ref());
                salts.map(|s| {
                    Value::map()
                        .insert(
                            "prf",
                            Value::map()
                                .insert("results", extensions::prf_results(cred_random, s))
                                .build(),
                        )
                        .build()
                })
            }
            None => None,
        };

        // Backup-eligible credentials use no counter (always 0); device-bound ones count atomically.
        let sign_count = if stored.meta.backup_eligible {
            0
        } else {
            self.store.increment_sign_count(&meta.id)?
        };
        let backup = BackupFlags {
            eligible: stored.meta.backup_eligible,
            state: stored.meta.backup_state,
        };
        let rp_hash = rp_id_hash(&req.rp_id);
        let auth_data = authdata::encode(
            &rp_hash,
            presence,
            backup,
            sign_count,
            None,
            Some(&signed_ext.build()),
        );
        let mut message = auth_data.clone();
        message.extend_from_slice(&req.client_data_hash);
        let signature = secret.key.sign(&message);

        let user = stored.meta.discoverable.then(|| ResponseUser {
            id: stored.meta.user_id.clone(),
            // Identifying fields only after user verification (CTAP 2.1 §6.2.2).
            name: if verified {
                Some(stored.meta.user_name.clone().unwrap_or_default())
            } else {
                None
            },
            display_name: if verified {
                Some(stored.meta.user_display_name.clone().unwrap_or_default())
            } else {
                None
            },
        });
        Ok(GetAssertionResponse {
            credential_id: meta.id.clone(),
            credential_transports: (self.config.profile == GetInfoProfile::Hybrid)
                .then(|| vec!["internal".to_owned(), "cable".to_owned()]),
            auth_data,
            signature,
            user,
            number_of_credentials: None,
            user_selected: None,
            unsigned_extension_outputs: unsigned,
        })
    }

    /// authenticatorGetNextAssertion: the next credential of a silent multi-credential getAssertion.
    pub fn get_next_assertion(&self) -> Result<GetAssertionResponse, EngineError> {
        let mut guard = lock(&self.pending);
        let pending = guard.as_mut().ok_or(EngineError::NotAllowed)?;
        if self.clock.now() >= pending.deadline || pending.remaining.is_empty() {
            *guard = None;
            return Err(EngineError::NotAllowed);
        }
        let meta = pending.remaining.remove(0);
        let request = pending.request.clone();
        let presence = silent_presence(pending.token.clone());
        drop(guard);
        let hmac = match &request.extensions.hmac_secret {
            Some(input) => Some(VerifiedSalts::open(self.key_agreement()?, input)?),
            None => None,
        };
        self.assert_one(&request, &meta, None, presence, hmac.as_ref())
    }

    // ---------------------------------------------------------------- selection / ClientPIN

    /// authenticatorSelection (CTAP 2.2 §6.9): ask for user presence in every profile; CTAP2_OK when given,
    /// CTAP2_ERR_USER_ACTION_TIMEOUT when nobody answered, CTAP2_ERR_OPERATION_DENIED otherwise (declined,
    /// cancelled, or no prompt possible).
    fn selection(&self) -> Result<(), EngineError> {
        let prompt = VerificationPrompt {
            operation: Operation::SignIn,
            rp_id: String::new(),
            rp_name: None,
            account: None,
        };
        // Presence only (nothing is signed or opened), so the key is not needed.
        self.verifier.verify(&prompt).map(|_| ()).map_err(|e| match e {
            VerificationError::TimedOut => EngineError::UserActionTimeout,
            _ => EngineError::OperationDenied,
        })
    }

    /// authenticatorClientPIN: getKeyAgreement (0x02), getPinUvAuthTokenUsingUvWithPermissions (0x06) and
    /// getUVRetries (0x07). The engine has no PIN, so PIN subcommands are CTAP2_ERR_INVALID_SUBCOMMAND. The
    /// Hybrid profile lists neither clientPin nor pinUvAuthToken, so there the whole command is
    /// CTAP1_ERR_INVALID_COMMAND.
    pub fn client_pin(&self, req: ClientPinRequest) -> Result<ClientPinResponse, EngineError> {
        if self.config.profile == GetInfoProfile::Hybrid {
            return Err(EngineError::InvalidCommand(0x06));
        }
        match req.sub_command {
            SUBCOMMAND_GET_KEY_AGREEMENT => {
                PinProtocol::from_wire(
                    req.protocol
                        .ok_or(EngineError::MissingParameter("pinUvAuthProtocol"))?,
                )?;
                Ok(ClientPinResponse {
                    key_agreement: Some(self.key_agreement()?.cose_public()),
                    ..Default::default()
                })
            }
            SUBCOMMAND_GET_UV_TOKEN => {
                let protocol = PinProtocol::from_wire(
                    req.protocol
                        .ok_or(EngineError::MissingParameter("pinUvAuthProtocol"))?,
                )?;
                let peer = req
                    .key_agreement
                    .as_ref()
                    .ok_or(EngineError::MissingParameter("keyAgreement"))?;
                let permissions = req
                    .permissions
                    .ok_or(EngineError::MissingParameter("permissions"))?;
                if permissions == 0 {
                    return Err(EngineError::InvalidParameter("permissions"));
                }
                if permissions & !(PERMISSION_MC | PERMISSION_GA) != 0 {
                    return Err(EngineError::UnauthorizedPermission);
                }
                // mc and ga need a permissions RP ID (CTAP 2.1 §6.5.5.7.2): the token is bound to that RP
                // from issue, not to whichever RP first uses it.
                let rp_id = req.rp_id.clone().ok_or(EngineError::MissingParameter("rpId"))?;
                let shared = self.key_agreement()?.shared_secret(protocol, peer)?;
                let operation = if permissions & PERMISSION_MC != 0 {
                    Operation::Register
                } else {
                    Operation::SignIn
                };
                let prompt = VerificationPrompt {
                    operation,
                    rp_id: rp_id.clone(),
                    rp_name: None,
                    account: None,
                };
                let grant = self.gate(&Cancellation::new()).grant_token(&prompt)?;
                let token = random_bytes::<32>()?;
                let encrypted = shared.encrypt(token.as_ref())?;
                *lock(&self.pin_token) = Some(PinUvAuthToken::issue(
                    token,
                    permissions,
                    rp_id,
                    grant,
                    self.clock.now(),
                ));
                Ok(ClientPinResponse {
                    pin_uv_auth_token: Some(encrypted),
                    ..Default::default()
                })
            }
            // getUVRetries takes no other parameter (a pinUvAuthProtocol, if sent, is not needed); see
            // UV_RETRIES for the count.
            SUBCOMMAND_GET_UV_RETRIES => Ok(ClientPinResponse {
                uv_retries: Some(UV_RETRIES),
                ..Default::default()
            }),
            other => Err(EngineError::InvalidSubcommand(other)),
        }
    }
}

/// Fails with [`EngineError::Abandoned`] once the caller stopped waiting.
fn still_wanted(cancel: &Cancellation) -> Result<(), EngineError> {
    if cancel.is_cancelled() {
        Err(EngineError::Abandoned)
    } else {
        Ok(())
    }
}

/// The presence of a request that prompted nobody: user-verified if a pinUvAuthToken authorised it.
fn silent_presence(token: Option<TokenVerified>) -> Presence {
    match token {
        Some(t) => Presence::TokenVerified(t),
        None => Presence::Silent(Silent),
    }
}

fn account_of(m: &CredentialMeta) -> AccountInfo {
    AccountInfo {
        user_id: m.user_id.clone(),
        name: m.user_name.clone(),
        display_name: m.user_display_name.clone(),
    }
}
