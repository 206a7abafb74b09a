//! authenticatorSelection (CTAP 2.2 §6.9).

use crate::authenticator::Authenticator;
use crate::platform::{Operation, VerificationError, VerificationPrompt};
use crate::status::EngineError;

impl Authenticator {
    /// authenticatorSelection: asks for user presence in every profile.
    pub(crate) fn selection(&self) -> Result<(), EngineError> {
        // Step 1: collect user presence. Presence only (nothing is signed or opened), so the UV key the
        // verifier returns is not needed.
        let prompt = VerificationPrompt {
            operation: Operation::SignIn,
            rp_id: String::new(),
            rp_name: None,
            account: None,
        };
        // Step 2: CTAP2_OK when given, CTAP2_ERR_USER_ACTION_TIMEOUT when nobody answered,
        // CTAP2_ERR_OPERATION_DENIED otherwise (declined, cancelled, or no prompt possible).
        self.verifier.verify(&prompt).map(|_| ()).map_err(|e| match e {
            VerificationError::TimedOut => EngineError::UserActionTimeout,
            _ => EngineError::OperationDenied,
        })
    }
}
