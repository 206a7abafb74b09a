//! How the iOS credential-provider extension answers the system when a request does not end in a credential:
//! the `ASExtensionError.Code` it cancels with. The mapping lives here, where it is tested; the Swift side only
//! turns an [`ExtensionOutcome`] into the code of the same name.

use crate::TandemError;
use crate::choices::account_choices;
use crate::store::Credential;
use crate::types::CtapStatus;

/// The `ASExtensionError.Code` an extension request ends with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, uniffi::Enum)]
pub enum ExtensionOutcome {
    /// `.userCanceled`: the user declined or cancelled (the prompt, the account list); the system says nothing.
    UserCanceled,
    /// `.credentialIdentityNotFound`: the passkey the system asked for is not (or no longer) in the store.
    CredentialIdentityNotFound,
    /// `.matchedExcludedCredential` (iOS 18; `.failed` before): a registration matched an excluded
    /// credential, i.e. this account already has a passkey here.
    MatchedExcludedCredential,
    /// `.userInteractionRequired`: a request without UI cannot be served; the system retries with UI.
    UserInteractionRequired,
    /// `.failed`: anything else (no biometrics enrolled, the store's key lost, database or internal errors).
    Failed,
}

/// The answer for an interactive request (registration, sign-in with UI) that failed with `error`.
#[uniffi::export]
pub fn extension_outcome(error: TandemError) -> ExtensionOutcome {
    match error {
        TandemError::Cancelled => ExtensionOutcome::UserCanceled,
        TandemError::Ctap { status, .. } => match status {
            // The user said no at the prompt or dismissed it; the caller stopped waiting (the sheet closed).
            CtapStatus::OperationDenied | CtapStatus::KeepaliveCancel => ExtensionOutcome::UserCanceled,
            CtapStatus::NoCredentials => ExtensionOutcome::CredentialIdentityNotFound,
            CtapStatus::CredentialExcluded => ExtensionOutcome::MatchedExcludedCredential,
            // A timeout is not the user's choice, and no biometrics (UvBlocked) needs Settings, not a retry.
            CtapStatus::Ok
            | CtapStatus::UnsupportedAlgorithm
            | CtapStatus::UserActionTimeout
            | CtapStatus::UvBlocked
            | CtapStatus::UvInvalid
            | CtapStatus::Other { .. } => ExtensionOutcome::Failed,
        },
        TandemError::NotFound => ExtensionOutcome::CredentialIdentityNotFound,
        TandemError::InvalidInput { .. }
        | TandemError::InvalidQr { .. }
        | TandemError::Protocol { .. }
        | TandemError::Timeout { .. }
        | TandemError::Advertise { .. }
        | TandemError::KeyProtector { .. }
        | TandemError::KeyInvalidated { .. }
        | TandemError::Corrupt { .. }
        | TandemError::Database { .. }
        | TandemError::CallerRefused { .. }
        | TandemError::Internal { .. } => ExtensionOutcome::Failed,
    }
}

/// The answer to a sign-in the system asks for without UI (`provideCredentialWithoutUserInteraction`) for the
/// passkey `credential_id` of `rp_id`, given the store's `credentials`.
///
/// Every signature needs Face ID / Touch ID, so a passkey that is in the store always needs UI. One that is
/// not (deleted in the app, or its row damaged, while the system still lists it) is reported as not found, so
/// the system stops offering it.
#[uniffi::export]
pub fn silent_assertion_outcome(
    credentials: Vec<Credential>,
    rp_id: String,
    credential_id: Vec<u8>,
) -> ExtensionOutcome {
    if credential_id.is_empty() || account_choices(credentials, rp_id, vec![credential_id]).is_empty() {
        ExtensionOutcome::CredentialIdentityNotFound
    } else {
        ExtensionOutcome::UserInteractionRequired
    }
}

/// The answer to a request without UI when the store could not even be read (`error`): the interactive
/// attempt that follows can prompt, and reports the error properly if it persists.
#[uniffi::export]
pub fn silent_failure_outcome(error: TandemError) -> ExtensionOutcome {
    match error {
        TandemError::KeyInvalidated { .. } | TandemError::Corrupt { .. } | TandemError::Internal { .. } => {
            ExtensionOutcome::Failed
        }
        _ => ExtensionOutcome::UserInteractionRequired,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identities::tests::credential;
    use tandem_phone::SessionStep;

    fn ctap(status: CtapStatus) -> TandemError {
        TandemError::Ctap {
            status,
            reason: String::new(),
        }
    }

    #[test]
    fn refusals_by_the_user_are_cancels() {
        for e in [
            ctap(CtapStatus::OperationDenied),
            ctap(CtapStatus::KeepaliveCancel),
            TandemError::Cancelled,
        ] {
            assert_eq!(
                extension_outcome(e.clone()),
                ExtensionOutcome::UserCanceled,
                "{e:?}"
            );
        }
    }

    #[test]
    fn missing_and_excluded_credentials_have_their_own_codes() {
        assert_eq!(
            extension_outcome(ctap(CtapStatus::NoCredentials)),
            ExtensionOutcome::CredentialIdentityNotFound
        );
        assert_eq!(
            extension_outcome(TandemError::NotFound),
            ExtensionOutcome::CredentialIdentityNotFound
        );
        assert_eq!(
            extension_outcome(ctap(CtapStatus::CredentialExcluded)),
            ExtensionOutcome::MatchedExcludedCredential
        );
    }

    #[test]
    fn everything_else_fails_and_never_asks_for_interaction() {
        let reason = String::from("r");
        for e in [
            ctap(CtapStatus::UserActionTimeout),
            ctap(CtapStatus::UvBlocked),
            ctap(CtapStatus::UvInvalid),
            ctap(CtapStatus::Other { code: 0x7f }),
            TandemError::InvalidInput {
                reason: reason.clone(),
            },
            TandemError::Timeout {
                step: SessionStep::Handshake,
            },
            TandemError::KeyProtector {
                reason: reason.clone(),
            },
            TandemError::KeyInvalidated {
                reason: reason.clone(),
            },
            TandemError::Corrupt {
                reason: reason.clone(),
            },
            TandemError::Database {
                reason: reason.clone(),
            },
            TandemError::Internal { reason },
        ] {
            assert_eq!(extension_outcome(e.clone()), ExtensionOutcome::Failed, "{e:?}");
        }
    }

    #[test]
    fn a_silent_request_for_a_stored_passkey_needs_ui_and_a_stale_one_is_not_found() {
        let creds = vec![credential(&[1], "example.com", Some("a"), 1)];
        assert_eq!(
            silent_assertion_outcome(creds.clone(), "example.com".into(), vec![1]),
            ExtensionOutcome::UserInteractionRequired
        );
        assert_eq!(
            silent_assertion_outcome(creds.clone(), "example.com".into(), vec![2]),
            ExtensionOutcome::CredentialIdentityNotFound
        );
        // The right ID under another RP is not the passkey asked for.
        assert_eq!(
            silent_assertion_outcome(creds.clone(), "other.example".into(), vec![1]),
            ExtensionOutcome::CredentialIdentityNotFound
        );
        assert_eq!(
            silent_assertion_outcome(creds, "example.com".into(), vec![]),
            ExtensionOutcome::CredentialIdentityNotFound
        );
    }

    #[test]
    fn a_store_that_cannot_be_read_silently_needs_ui_unless_it_is_lost() {
        let reason = String::from("r");
        assert_eq!(
            silent_failure_outcome(TandemError::KeyProtector {
                reason: reason.clone()
            }),
            ExtensionOutcome::UserInteractionRequired
        );
        assert_eq!(
            silent_failure_outcome(TandemError::Database {
                reason: reason.clone()
            }),
            ExtensionOutcome::UserInteractionRequired
        );
        assert_eq!(
            silent_failure_outcome(TandemError::KeyInvalidated { reason }),
            ExtensionOutcome::Failed
        );
    }
}
