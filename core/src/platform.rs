//! What the embedding platform provides: user verification and account choice.
//!
//! Both traits are synchronous: the engine runs on a blocking thread (the hybrid driver uses
//! `spawn_blocking`), and platform implementations block until the user answers (Android: BiometricPrompt
//! callback → latch; iOS: LAContext.evaluatePolicy → semaphore).

/// Which ceremony the user is asked to approve.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// Creating a new passkey (makeCredential).
    Register,
    /// Signing in with an existing passkey (getAssertion).
    SignIn,
}

/// The account a prompt is about, as the relying party described it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountInfo {
    /// Opaque user handle chosen by the relying party.
    pub user_id: Vec<u8>,
    /// Account name (e.g. an e-mail address), if the relying party gave one.
    pub name: Option<String>,
    /// Friendly name, if the relying party gave one.
    pub display_name: Option<String>,
}

/// Everything a biometric prompt needs to tell the user what they are approving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerificationPrompt {
    /// Register or sign in.
    pub operation: Operation,
    /// The relying party's identifier (a domain).
    pub rp_id: String,
    /// The relying party's display name, when known (registration only).
    pub rp_name: Option<String>,
    /// The account concerned: the new one on registration, the chosen one on sign-in (absent when the
    /// prompt comes before an account is chosen).
    pub account: Option<AccountInfo>,
}

/// Why user verification did not succeed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerificationError {
    /// The user said no (maps to CTAP2_ERR_OPERATION_DENIED).
    #[error("the user declined")]
    Denied,
    /// The user dismissed the prompt (maps to CTAP2_ERR_OPERATION_DENIED).
    #[error("the user cancelled")]
    Cancelled,
    /// Nobody answered in time (maps to CTAP2_ERR_USER_ACTION_TIMEOUT).
    #[error("the prompt timed out")]
    TimedOut,
    /// No biometric or device credential is enrolled, or it is locked out (maps to CTAP2_ERR_UV_BLOCKED /
    /// CTAP2_ERR_UV_INVALID as the engine documents).
    #[error("user verification is unavailable: {0}")]
    Unavailable(String),
}

/// Asks the user to prove who they are (BiometricPrompt, LocalAuthentication, a terminal prompt).
///
/// Returning `Ok(())` is the only way the engine obtains the approval value its signing functions require.
pub trait UserVerifier: Send + Sync {
    /// Shows `prompt` and blocks until the user has passed or failed the check.
    fn verify(&self, prompt: &VerificationPrompt) -> Result<(), VerificationError>;
}

/// Lets the user pick one of several accounts that match a sign-in request.
pub trait AccountChooser: Send + Sync {
    /// Returns the index into `accounts` the user chose, or `None` if they cancelled
    /// (maps to CTAP2_ERR_OPERATION_DENIED).
    fn choose(&self, rp_id: &str, accounts: &[AccountInfo]) -> Option<usize>;
}
