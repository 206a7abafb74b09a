//! What the embedding platform provides: user verification and account choice.
//!
//! Both traits are synchronous: the engine runs on a blocking thread (the hybrid driver uses
//! `spawn_blocking`), and platform implementations block until the user answers (Android: BiometricPrompt
//! callback → latch; iOS: LAContext.evaluatePolicy → semaphore).

use crate::cancel::Cancellation;
use zeroize::Zeroizing;

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

impl VerificationPrompt {
    /// The prompt's title, built from the RP ID only: the domain the signature will be valid for. The RP
    /// name is whatever the caller claims ("Google" can front `evil.example`), so it never stands alone.
    pub fn title(&self) -> String {
        match (self.operation, self.rp_id.is_empty()) {
            (Operation::Register, false) => format!("Create a passkey for {}", self.rp_id),
            (Operation::SignIn, false) => format!("Sign in to {}", self.rp_id),
            (Operation::Register, true) => "Create a passkey".to_owned(),
            (Operation::SignIn, true) => "Confirm it's you".to_owned(),
        }
    }

    /// The line under the title: the account, and the RP's self-declared name beside it, labelled as a
    /// name (`"alice@example.com · named \"Example\""`). `None` when there is neither.
    pub fn subtitle(&self) -> Option<String> {
        let account = self
            .account
            .as_ref()
            .and_then(|a| a.name.clone().or_else(|| a.display_name.clone()))
            .filter(|s| !s.is_empty());
        let name = self
            .rp_name
            .as_ref()
            .filter(|n| !n.is_empty() && **n != self.rp_id)
            .map(|n| format!("named \"{n}\""));
        match (account, name) {
            (Some(a), Some(n)) => Some(format!("{a} · {n}")),
            (a, n) => a.or(n),
        }
    }
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
    /// The platform key that unlocks the UV key is gone for good (a new biometric was enrolled, the screen
    /// lock was removed, the Keychain item was deleted): every credential sealed under the UV key is lost.
    /// Reported like the store's key loss ([`crate::store::StoreError::KeyInvalidated`]) so the app offers to
    /// start over, never as a retryable "unavailable".
    #[error("the key user verification unlocks is gone: {0}")]
    KeyInvalidated(String),
}

/// Length of a [`UvKey`] in bytes.
pub const UV_KEY_LEN: usize = 32;

/// The key that user verification unlocks: 32 bytes the platform keeps wrapped by a key only a passed
/// verification can use (an auth-bound Keystore key through `BiometricPrompt.CryptoObject`, a Secure Enclave
/// key through an `LAContext`), or a software stand-in where there is no such hardware (CLI, tests).
///
/// Credentials created by the engine keep their secret sealed under this key, and the engine checks it
/// against a value enrolled in the store before it mints an approval ([`crate::uv::UvGate`]): a verifier
/// that answers "yes" without producing the real key gets no approval, no signature, and changes nothing.
/// Zeroized on drop; `Debug` prints no bytes.
#[derive(Clone)]
pub struct UvKey(Zeroizing<[u8; UV_KEY_LEN]>);

impl UvKey {
    /// The key from its raw bytes (as the platform unwrapped them).
    pub fn from_array(bytes: [u8; UV_KEY_LEN]) -> Self {
        UvKey(Zeroizing::new(bytes))
    }

    /// The key from a slice; `None` unless exactly [`UV_KEY_LEN`] bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        <[u8; UV_KEY_LEN]>::try_from(bytes).ok().map(Self::from_array)
    }

    /// The raw bytes, for the engine's sealing and for platform glue that hands the key across an FFI.
    pub fn expose(&self) -> &[u8; UV_KEY_LEN] {
        &self.0
    }
}

impl std::fmt::Debug for UvKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UvKey(..)")
    }
}

/// Asks the user to prove who they are (BiometricPrompt, LocalAuthentication, a terminal prompt).
///
/// Returning the [`UvKey`] the verification unlocked is the only way the engine obtains the approval value
/// its signing functions require, and the key must be the one enrolled for the store (see [`UvKey`]).
pub trait UserVerifier: Send + Sync {
    /// Shows `prompt`, blocks until the user has passed or failed the check, and on success returns the key
    /// the verification unlocked.
    fn verify(&self, prompt: &VerificationPrompt) -> Result<UvKey, VerificationError>;

    /// [`Self::verify`] for a request whose caller may go away: a verifier that can dismiss its prompt
    /// (the FFI's async platform verifiers) overrides this, waits on [`Cancellation::cancelled`] beside the
    /// user, and answers [`VerificationError::Cancelled`] once it is raised. The engine always calls this
    /// one; the default ignores `cancel` (the engine still discards a late answer).
    fn verify_cancellable(
        &self,
        prompt: &VerificationPrompt,
        cancel: &Cancellation,
    ) -> Result<UvKey, VerificationError> {
        let _ = cancel;
        self.verify(prompt)
    }
}

/// Lets the user pick one of several accounts that match a sign-in request.
pub trait AccountChooser: Send + Sync {
    /// Returns the index into `accounts` the user chose, or `None` if they cancelled
    /// (maps to CTAP2_ERR_OPERATION_DENIED).
    fn choose(&self, rp_id: &str, accounts: &[AccountInfo]) -> Option<usize>;

    /// [`Self::choose`] for a request whose caller may go away; see
    /// [`UserVerifier::verify_cancellable`]. A cancelled choice is `None`.
    fn choose_cancellable(
        &self,
        rp_id: &str,
        accounts: &[AccountInfo],
        cancel: &Cancellation,
    ) -> Option<usize> {
        let _ = cancel;
        self.choose(rp_id, accounts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prompt(
        operation: Operation,
        rp_id: &str,
        rp_name: Option<&str>,
        account: Option<&str>,
    ) -> VerificationPrompt {
        VerificationPrompt {
            operation,
            rp_id: rp_id.into(),
            rp_name: rp_name.map(Into::into),
            account: account.map(|n| AccountInfo {
                user_id: vec![1],
                name: Some(n.into()),
                display_name: None,
            }),
        }
    }

    /// A caller claiming the name "Google" for `evil.example` gets a title naming `evil.example`; the name
    /// only appears beside it, marked as a name.
    #[test]
    fn title_names_the_rp_id_never_the_claimed_name() {
        let p = prompt(
            Operation::SignIn,
            "evil.example",
            Some("Google"),
            Some("alice@gmail.com"),
        );
        assert_eq!(p.title(), "Sign in to evil.example");
        assert!(!p.title().contains("Google"));
        assert_eq!(
            p.subtitle().as_deref(),
            Some("alice@gmail.com · named \"Google\"")
        );
        let p = prompt(Operation::Register, "example.com", Some("Example"), None);
        assert_eq!(p.title(), "Create a passkey for example.com");
        assert_eq!(p.subtitle().as_deref(), Some("named \"Example\""));
        // A name equal to the RP ID adds nothing; no name, no account: no subtitle.
        assert_eq!(
            prompt(Operation::SignIn, "a.example", Some("a.example"), None).subtitle(),
            None
        );
        assert_eq!(
            prompt(Operation::SignIn, "", None, None).title(),
            "Confirm it's you"
        );
    }
}
