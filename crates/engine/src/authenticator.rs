//! The authenticator: one code path for CTAP requests (hybrid, direct CTAP clients) and the WebAuthn-level
//! API ([`crate::webauthn`]). This file holds the shared state and the dispatch; each command lives in its own
//! file under [`crate::commands`], written as the CTAP 2.2 algorithm's numbered steps.
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
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::cancel::Cancellation;
use crate::clock::Clock;
use crate::config::{AuthenticatorConfig, GetInfoProfile};
use crate::ctap::{GetAssertionRequest, Request, decode_request_ignoring};
use crate::env::Env;
use crate::pin::KeyAgreementKey;
use crate::platform::{AccountChooser, UserVerifier};
use crate::status::{CtapStatus, EngineError};
use crate::store::{CredentialMeta, CredentialStore};
use crate::token::PinUvAuthToken;
use crate::uv::{TokenVerified, UvGate};

/// What a silent multi-credential getAssertion leaves for getNextAssertion.
pub(crate) struct PendingAssertions {
    /// The getAssertion request that started the sequence.
    pub(crate) request: GetAssertionRequest,
    /// The credentials not served yet, in order.
    pub(crate) remaining: Vec<CredentialMeta>,
    /// When the sequence ends (CTAP 2.2 §6.3: 30 seconds after the last answer).
    pub(crate) deadline: Instant,
    /// Set when the getAssertion that started the sequence carried a valid pinUvAuthToken (UV=1).
    pub(crate) token: Option<TokenVerified>,
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
    pub(crate) config: AuthenticatorConfig,
    pub(crate) store: Arc<dyn CredentialStore>,
    pub(crate) verifier: Arc<dyn UserVerifier>,
    pub(crate) chooser: Arc<dyn AccountChooser>,
    /// Randomness and time; every command reads them from here, never ambiently.
    pub(crate) env: Env,
    key_agreement: Option<KeyAgreementKey>,
    /// The pinUvAuthToken issued by ClientPIN, if any (CTAP 2.1 token state, see [`crate::token`]).
    pub(crate) pin_token: Mutex<Option<PinUvAuthToken>>,
    /// What a silent multi-credential getAssertion left for getNextAssertion.
    pub(crate) pending: Mutex<Option<PendingAssertions>>,
}

/// SHA-256 of an RP ID.
pub fn rp_id_hash(rp_id: &str) -> [u8; 32] {
    Sha256::digest(rp_id.as_bytes()).into()
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks cannot leave a half-written value (plain replacements only).
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Authenticator {
    /// Creates an engine in the production environment ([`Env::system`]: OS randomness, system clocks). See
    /// [`Self::new_with_env`].
    pub fn new(
        config: AuthenticatorConfig,
        store: Arc<dyn CredentialStore>,
        verifier: Arc<dyn UserVerifier>,
        chooser: Arc<dyn AccountChooser>,
    ) -> Self {
        Self::new_with_env(config, store, verifier, chooser, Env::system())
    }

    /// Creates an engine drawing randomness and time from `env` only. The key-agreement key for PIN/UV
    /// protocols is generated here (one per instance, like an authenticator power-up); if the random source
    /// fails, ClientPIN and hmac-secret report CTAP1_ERR_OTHER.
    pub fn new_with_env(
        config: AuthenticatorConfig,
        store: Arc<dyn CredentialStore>,
        verifier: Arc<dyn UserVerifier>,
        chooser: Arc<dyn AccountChooser>,
        env: Env,
    ) -> Self {
        Authenticator {
            config,
            store,
            verifier,
            chooser,
            key_agreement: KeyAgreementKey::generate_with(env.random()).ok(),
            env,
            pin_token: Mutex::new(None),
            pending: Mutex::new(None),
        }
    }

    /// The same engine reading time from `clock` (pinUvAuthToken lifetime, approvals, getNextAssertion
    /// window), so tests can move time instead of sleeping.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.env = self.env.with_clock(clock);
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

    // ---------------------------------------------------------------- state shared by the commands

    /// Extension inputs the engine understands but the configured profile does not offer: they are ignored
    /// like unknown extensions (never validated, never served).
    pub(crate) fn ignored_extensions(&self) -> &'static [&'static str] {
        match self.config.profile {
            GetInfoProfile::Hybrid => &["hmac-secret", "hmac-secret-mc"],
            GetInfoProfile::Direct => &[],
        }
    }

    /// The user-verification gate for one request, in the engine's environment.
    pub(crate) fn gate<'a>(&'a self, cancel: &'a Cancellation) -> UvGate<'a> {
        UvGate::new(
            self.verifier.as_ref(),
            self.store.as_ref(),
            self.config.approval_ttl,
            cancel,
        )
        .with_env(&self.env)
    }

    /// This power-up's key-agreement key (ClientPIN, hmac-secret).
    pub(crate) fn key_agreement(&self) -> Result<&KeyAgreementKey, EngineError> {
        self.key_agreement
            .as_ref()
            .ok_or(EngineError::Internal("no key-agreement key"))
    }
}
