//! CTAP commands and statuses as a session reports them to the app: the ones an app acts on by name,
//! every other byte kept as `Other`. The engine's own [`crate::CtapStatus`] is the full table it answers
//! with; these are the views the phone's progress events, its session outcome and the FFI carry.

use crate::ctap::Command;
use crate::status::CtapStatus as S;

/// A CTAP2 command a desktop sent (the first byte of a request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportedCommand {
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

impl ReportedCommand {
    /// The command for a request's first byte.
    pub fn from_code(code: u8) -> Self {
        Command::from_byte(code).map_or(ReportedCommand::Other { code }, |command| match command {
            Command::MakeCredential => ReportedCommand::MakeCredential,
            Command::GetAssertion => ReportedCommand::GetAssertion,
            Command::GetInfo => ReportedCommand::GetInfo,
            Command::ClientPin => ReportedCommand::ClientPin,
            Command::GetNextAssertion => ReportedCommand::GetNextAssertion,
            Command::Selection => ReportedCommand::Selection,
        })
    }

    /// The command byte: the codec's own ([`Command::code`]) for the named ones.
    pub fn code(self) -> u8 {
        let known = match self {
            ReportedCommand::MakeCredential => Command::MakeCredential,
            ReportedCommand::GetAssertion => Command::GetAssertion,
            ReportedCommand::GetInfo => Command::GetInfo,
            ReportedCommand::ClientPin => Command::ClientPin,
            ReportedCommand::GetNextAssertion => Command::GetNextAssertion,
            ReportedCommand::Selection => Command::Selection,
            ReportedCommand::Other { code } => return code,
        };
        known.code()
    }
}

/// A CTAP status, named where an app acts on it; every other code is [`ReportedStatus::Other`] with its byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReportedStatus {
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

impl ReportedStatus {
    /// The status for a response's first byte.
    pub fn from_code(code: u8) -> Self {
        const NAMED: [(S, ReportedStatus); 9] = [
            (S::Ok, ReportedStatus::Ok),
            (S::CredentialExcluded, ReportedStatus::CredentialExcluded),
            (S::UnsupportedAlgorithm, ReportedStatus::UnsupportedAlgorithm),
            (S::OperationDenied, ReportedStatus::OperationDenied),
            (S::KeepaliveCancel, ReportedStatus::KeepaliveCancel),
            (S::NoCredentials, ReportedStatus::NoCredentials),
            (S::UserActionTimeout, ReportedStatus::UserActionTimeout),
            (S::UvBlocked, ReportedStatus::UvBlocked),
            (S::UvInvalid, ReportedStatus::UvInvalid),
        ];
        NAMED
            .iter()
            .find(|(s, _)| s.code() == code)
            .map_or(ReportedStatus::Other { code }, |&(_, named)| named)
    }

    /// The status byte.
    pub fn code(self) -> u8 {
        match self {
            ReportedStatus::Ok => S::Ok.code(),
            ReportedStatus::CredentialExcluded => S::CredentialExcluded.code(),
            ReportedStatus::UnsupportedAlgorithm => S::UnsupportedAlgorithm.code(),
            ReportedStatus::OperationDenied => S::OperationDenied.code(),
            ReportedStatus::KeepaliveCancel => S::KeepaliveCancel.code(),
            ReportedStatus::NoCredentials => S::NoCredentials.code(),
            ReportedStatus::UserActionTimeout => S::UserActionTimeout.code(),
            ReportedStatus::UvBlocked => S::UvBlocked.code(),
            ReportedStatus::UvInvalid => S::UvInvalid.code(),
            ReportedStatus::Other { code } => code,
        }
    }
}

impl From<S> for ReportedStatus {
    fn from(s: S) -> Self {
        ReportedStatus::from_code(s.code())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte round-trips through the typed status and command; the named ones keep their CTAP codes.
    #[test]
    fn codes_round_trip() {
        for code in 0..=u8::MAX {
            assert_eq!(ReportedStatus::from_code(code).code(), code);
            assert_eq!(ReportedCommand::from_code(code).code(), code);
        }
        assert_eq!(ReportedStatus::from_code(0x27), ReportedStatus::OperationDenied);
        assert_eq!(ReportedStatus::from_code(0x00), ReportedStatus::Ok);
        assert_eq!(
            ReportedStatus::from_code(0x12),
            ReportedStatus::Other { code: 0x12 }
        );
        assert_eq!(ReportedStatus::from(S::UvInvalid), ReportedStatus::UvInvalid);
        assert_eq!(ReportedCommand::from_code(0x01), ReportedCommand::MakeCredential);
        assert_eq!(ReportedCommand::from_code(0x02), ReportedCommand::GetAssertion);
        assert_eq!(
            ReportedCommand::from_code(0x7e),
            ReportedCommand::Other { code: 0x7e }
        );
    }
}
