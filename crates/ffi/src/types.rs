//! Plain records and enums that cross the FFI, with conversions from the core's types.

use tandem_engine::platform as core;

pub use tandem_engine::platform::{AccountInfo, Operation};
pub use tandem_engine::{ReportedCommand as CtapCommand, ReportedStatus as CtapStatus};

/// Which ceremony the user is asked to approve: the engine's own type, derived for the FFI.
#[uniffi::remote(Enum)]
pub enum Operation {
    /// Creating a new passkey.
    Register,
    /// Signing in with an existing passkey.
    SignIn,
}

/// An account as the relying party described it: the engine's own type, derived for the FFI.
#[uniffi::remote(Record)]
pub struct AccountInfo {
    /// Opaque user handle chosen by the relying party.
    pub user_id: Vec<u8>,
    /// Account name (e.g. an e-mail address), if given.
    pub name: Option<String>,
    /// Friendly name, if given.
    pub display_name: Option<String>,
}

/// What a biometric prompt should tell the user they are approving.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct VerificationPrompt {
    /// Register or sign in.
    pub operation: Operation,
    /// The relying party's identifier (a domain).
    pub rp_id: String,
    /// The relying party's display name, when known.
    pub rp_name: Option<String>,
    /// The account concerned, when already known.
    pub account: Option<AccountInfo>,
    /// The title to show, built from the RP ID ("Sign in to example.com"): never from the RP's claimed
    /// name, which anyone can set.
    pub title: String,
    /// The line under the title: the account, with the RP's claimed name beside it, labelled as a name.
    pub subtitle: Option<String>,
}

impl From<&core::VerificationPrompt> for VerificationPrompt {
    fn from(p: &core::VerificationPrompt) -> Self {
        VerificationPrompt {
            operation: p.operation,
            rp_id: p.rp_id.clone(),
            rp_name: p.rp_name.clone(),
            account: p.account.clone(),
            title: p.title(),
            subtitle: p.subtitle(),
        }
    }
}

/// A CTAP2 command a desktop sent (the first byte of a request): `tandem_engine::ReportedCommand`, derived.
#[uniffi::remote(Enum)]
pub enum CtapCommand {
    /// authenticatorMakeCredential (0x01): create a passkey.
    MakeCredential,
    /// authenticatorGetAssertion (0x02): sign in.
    GetAssertion,
    /// authenticatorGetInfo (0x04).
    GetInfo,
    /// authenticatorClientPIN (0x06).
    ClientPin,
    /// authenticatorGetNextAssertion (0x08).
    GetNextAssertion,
    /// authenticatorSelection (0x0B).
    Selection,
    /// Any other command byte (the engine answers CTAP1_ERR_INVALID_COMMAND).
    Other {
        /// The command byte.
        code: u8,
    },
}

/// A CTAP status, named where an app acts on it; every other code is `Other` with its byte:
/// `tandem_engine::ReportedStatus`, derived.
#[uniffi::remote(Enum)]
pub enum CtapStatus {
    /// CTAP2_OK (0x00): the request succeeded.
    Ok,
    /// CTAP2_ERR_CREDENTIAL_EXCLUDED (0x19): this account already has a passkey here.
    CredentialExcluded,
    /// CTAP2_ERR_UNSUPPORTED_ALGORITHM (0x26): none of the requested algorithms is supported.
    UnsupportedAlgorithm,
    /// CTAP2_ERR_OPERATION_DENIED (0x27): the user declined or cancelled.
    OperationDenied,
    /// CTAP2_ERR_KEEPALIVE_CANCEL (0x2D): the caller stopped waiting (the request was abandoned).
    KeepaliveCancel,
    /// CTAP2_ERR_NO_CREDENTIALS (0x2E): no matching passkey.
    NoCredentials,
    /// CTAP2_ERR_USER_ACTION_TIMEOUT (0x2F): the user did not answer in time.
    UserActionTimeout,
    /// CTAP2_ERR_UV_BLOCKED (0x3C): user verification is unavailable (no biometrics enrolled, locked out).
    UvBlocked,
    /// CTAP2_ERR_UV_INVALID (0x3F): the verifier's answer did not unlock the authenticator's key.
    UvInvalid,
    /// Any other status (malformed request, unsupported option, internal failure...).
    Other {
        /// The status byte.
        code: u8,
    },
}

/// The byte of `status`, for logs and for apps that report the raw code.
#[uniffi::export]
pub fn ctap_status_code(status: CtapStatus) -> u8 {
    status.code()
}

/// The typed status of `code`: a named [`CtapStatus`] where there is one, else [`CtapStatus::Other`].
#[uniffi::export]
pub fn ctap_status_from_code(code: u8) -> CtapStatus {
    CtapStatus::from_code(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The record the apps build their prompt from carries a title naming the RP ID, not the claimed name.
    #[test]
    fn prompt_title_names_the_rp_id() {
        let p = VerificationPrompt::from(&core::VerificationPrompt {
            operation: core::Operation::Register,
            rp_id: "evil.example".into(),
            rp_name: Some("Google".into()),
            account: None,
        });
        assert_eq!(p.title, "Create a passkey for evil.example");
        assert_eq!(p.subtitle.as_deref(), Some("named \"Google\""));
    }

    /// The exported helpers are the engine's codes.
    #[test]
    fn exported_status_helpers_round_trip() {
        for code in 0..=u8::MAX {
            assert_eq!(ctap_status_code(ctap_status_from_code(code)), code);
        }
        assert_eq!(ctap_status_from_code(0x27), CtapStatus::OperationDenied);
    }
}
