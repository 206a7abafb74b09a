//! The pinUvAuthParam steps makeCredential and getAssertion share (CTAP 2.2 §6.1.2 / §6.2.2 steps 1–2 and
//! the token check), and the pinUvAuthToken's spending after use.

use crate::authenticator::{Authenticator, lock};
use crate::config::GetInfoProfile;
use crate::pin::PinProtocol;
use crate::platform::{Operation, VerificationPrompt};
use crate::status::EngineError;
use crate::uv::TokenVerified;

impl Authenticator {
    /// CTAP 2.2 §6.1.2 / §6.2.2 steps 1–2 for a request's pinUvAuthParam: the zero-length probe, then the
    /// protocol check. Over hybrid no PIN/UV auth protocol is offered, so any pinUvAuthParam is refused there
    /// (CTAP1_ERR_INVALID_PARAMETER, or CTAP2_ERR_MISSING_PARAMETER without a protocol).
    pub(crate) fn check_pin_uv_protocol(
        &self,
        param: Option<&[u8]>,
        protocol: Option<u64>,
        operation: Operation,
        rp_id: &str,
    ) -> Result<(), EngineError> {
        let Some(param) = param else { return Ok(()) };
        // Step 1: a zero-length pinUvAuthParam asks whether a PIN is set.
        if self.config.profile == GetInfoProfile::Direct && param.is_empty() {
            return Err(self.pin_probe(operation, rp_id));
        }
        // Step 2: the protocol must be present and supported.
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
    pub(crate) fn check_pin_uv_auth(
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
        let now = self.env.clock().now();
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
    /// cleared ([`crate::token::PinUvAuthToken::spend`]).
    pub(crate) fn spend_token(&self) {
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
}
