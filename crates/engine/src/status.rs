//! CTAP status codes (CTAP 2.2 §8.2) and the engine's error type that maps onto them.

use crate::platform::VerificationError;
use crate::store::StoreError;

/// Every status code the engine can put in the first byte of a CTAP response.
///
/// The list follows CTAP 2.2 §8.2; codes reserved for transports (channel busy, lock required, ...) are kept so
/// callers can match on the whole table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum CtapStatus {
    /// CTAP2_OK / CTAP1_ERR_SUCCESS.
    Ok = 0x00,
    /// CTAP1_ERR_INVALID_COMMAND: the command is not known or not supported.
    InvalidCommand = 0x01,
    /// CTAP1_ERR_INVALID_PARAMETER: a parameter has an invalid value.
    InvalidParameter = 0x02,
    /// CTAP1_ERR_INVALID_LENGTH: a length is not what the command expects.
    InvalidLength = 0x03,
    /// CTAP1_ERR_INVALID_SEQ.
    InvalidSeq = 0x04,
    /// CTAP1_ERR_TIMEOUT.
    Timeout = 0x05,
    /// CTAP1_ERR_CHANNEL_BUSY.
    ChannelBusy = 0x06,
    /// CTAP1_ERR_LOCK_REQUIRED.
    LockRequired = 0x0A,
    /// CTAP1_ERR_INVALID_CHANNEL.
    InvalidChannel = 0x0B,
    /// CTAP2_ERR_CBOR_UNEXPECTED_TYPE: a CBOR item has the wrong major type.
    CborUnexpectedType = 0x11,
    /// CTAP2_ERR_INVALID_CBOR: the parameters are not well-formed CBOR.
    InvalidCbor = 0x12,
    /// CTAP2_ERR_MISSING_PARAMETER: a required parameter is absent.
    MissingParameter = 0x14,
    /// CTAP2_ERR_LIMIT_EXCEEDED.
    LimitExceeded = 0x15,
    /// CTAP2_ERR_FP_DATABASE_FULL.
    FpDatabaseFull = 0x17,
    /// CTAP2_ERR_LARGE_BLOB_STORAGE_FULL.
    LargeBlobStorageFull = 0x18,
    /// CTAP2_ERR_CREDENTIAL_EXCLUDED: an excludeList credential exists on this authenticator.
    CredentialExcluded = 0x19,
    /// CTAP2_ERR_PROCESSING.
    Processing = 0x21,
    /// CTAP2_ERR_INVALID_CREDENTIAL.
    InvalidCredential = 0x22,
    /// CTAP2_ERR_USER_ACTION_PENDING.
    UserActionPending = 0x23,
    /// CTAP2_ERR_OPERATION_PENDING.
    OperationPending = 0x24,
    /// CTAP2_ERR_NO_OPERATIONS.
    NoOperations = 0x25,
    /// CTAP2_ERR_UNSUPPORTED_ALGORITHM: none of pubKeyCredParams is supported.
    UnsupportedAlgorithm = 0x26,
    /// CTAP2_ERR_OPERATION_DENIED: the user declined.
    OperationDenied = 0x27,
    /// CTAP2_ERR_KEY_STORE_FULL.
    KeyStoreFull = 0x28,
    /// CTAP2_ERR_UNSUPPORTED_OPTION.
    UnsupportedOption = 0x2B,
    /// CTAP2_ERR_INVALID_OPTION.
    InvalidOption = 0x2C,
    /// CTAP2_ERR_KEEPALIVE_CANCEL.
    KeepaliveCancel = 0x2D,
    /// CTAP2_ERR_NO_CREDENTIALS.
    NoCredentials = 0x2E,
    /// CTAP2_ERR_USER_ACTION_TIMEOUT.
    UserActionTimeout = 0x2F,
    /// CTAP2_ERR_NOT_ALLOWED.
    NotAllowed = 0x30,
    /// CTAP2_ERR_PIN_INVALID.
    PinInvalid = 0x31,
    /// CTAP2_ERR_PIN_BLOCKED.
    PinBlocked = 0x32,
    /// CTAP2_ERR_PIN_AUTH_INVALID.
    PinAuthInvalid = 0x33,
    /// CTAP2_ERR_PIN_AUTH_BLOCKED.
    PinAuthBlocked = 0x34,
    /// CTAP2_ERR_PIN_NOT_SET.
    PinNotSet = 0x35,
    /// CTAP2_ERR_PUAT_REQUIRED.
    PuatRequired = 0x36,
    /// CTAP2_ERR_PIN_POLICY_VIOLATION.
    PinPolicyViolation = 0x37,
    /// CTAP2_ERR_REQUEST_TOO_LARGE.
    RequestTooLarge = 0x39,
    /// CTAP2_ERR_ACTION_TIMEOUT.
    ActionTimeout = 0x3A,
    /// CTAP2_ERR_UP_REQUIRED.
    UpRequired = 0x3B,
    /// CTAP2_ERR_UV_BLOCKED: built-in user verification is unavailable or locked out.
    UvBlocked = 0x3C,
    /// CTAP2_ERR_INTEGRITY_FAILURE.
    IntegrityFailure = 0x3D,
    /// CTAP2_ERR_INVALID_SUBCOMMAND.
    InvalidSubcommand = 0x3E,
    /// CTAP2_ERR_UV_INVALID.
    UvInvalid = 0x3F,
    /// CTAP2_ERR_UNAUTHORIZED_PERMISSION.
    UnauthorizedPermission = 0x40,
    /// CTAP1_ERR_OTHER.
    Other = 0x7F,
}

impl CtapStatus {
    /// The status byte.
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// Why the engine could not complete a command. One enum for the whole engine layer; each variant maps to
/// exactly one [`CtapStatus`] via [`EngineError::status`].
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The command byte is unknown or unsupported.
    #[error("unknown or unsupported command 0x{0:02x}")]
    InvalidCommand(u8),
    /// The request parameters are not well-formed CBOR.
    #[error("invalid CBOR: {0}")]
    InvalidCbor(#[from] tandem_cbor::DecodeError),
    /// A field has the wrong CBOR type.
    #[error("field {0} has an unexpected CBOR type")]
    UnexpectedType(&'static str),
    /// A required field is absent.
    #[error("required field {0} is missing")]
    MissingParameter(&'static str),
    /// A field has an unacceptable value.
    #[error("invalid parameter: {0}")]
    InvalidParameter(&'static str),
    /// A field has an unacceptable length.
    #[error("invalid length: {0}")]
    InvalidLength(&'static str),
    /// No requested algorithm is supported.
    #[error("no supported algorithm in pubKeyCredParams")]
    UnsupportedAlgorithm,
    /// An option is not supported at all.
    #[error("unsupported option: {0}")]
    UnsupportedOption(&'static str),
    /// An option has a value that is not allowed for this command.
    #[error("invalid option: {0}")]
    InvalidOption(&'static str),
    /// A credential in the exclude list exists (reported only after user presence).
    #[error("a credential in the exclude list already exists")]
    CredentialExcluded,
    /// No credential matches.
    #[error("no matching credential")]
    NoCredentials,
    /// The user declined, cancelled or did not choose an account.
    #[error("the user declined the operation")]
    OperationDenied,
    /// The user did not answer in time.
    #[error("the user did not answer in time")]
    UserActionTimeout,
    /// Built-in user verification is unavailable.
    #[error("user verification unavailable: {0}")]
    UvBlocked(String),
    /// A pinUvAuthParam (or hmac-secret saltAuth) did not verify, or the token lacks a permission.
    #[error("pinUvAuthParam is invalid")]
    PinAuthInvalid,
    /// The pinUvAuthToken's usage timer ran out (CTAP 2.1 §6.5.2.1): refused as a token no longer in use.
    #[error("the pinUvAuthToken has expired")]
    PinUvAuthTokenExpired,
    /// The caller stopped waiting (session timed out or cancelled) before the engine finished: nothing was
    /// stored or signed, even if the user approved late.
    #[error("the request was abandoned by its caller")]
    Abandoned,
    /// A zero-length pinUvAuthParam probe answered after user presence: no PIN is set (the engine has none).
    #[error("zero-length pinUvAuthParam probe: no PIN is set")]
    PinNotSet,
    /// A requested pinUvAuthToken permission is not supported.
    #[error("unsupported pinUvAuthToken permission")]
    UnauthorizedPermission,
    /// A ClientPIN subcommand is not supported.
    #[error("unsupported ClientPIN subcommand {0}")]
    InvalidSubcommand(u64),
    /// getNextAssertion without a pending getAssertion.
    #[error("command not allowed in this state")]
    NotAllowed,
    /// The verifier answered with a key that is not the one enrolled for this store: the platform said
    /// "verified" without the unlock that proves it (a hook, a fake prompt). Reported as
    /// CTAP2_ERR_UV_INVALID; nothing is signed or stored.
    #[error("user verification did not unlock the authenticator's key")]
    UvKeyRejected,
    /// The user-verification gate refused a stale, reused or mismatched approval (a bug, never user input).
    #[error("approval rejected: {0}")]
    ApprovalRejected(&'static str),
    /// Storage failed.
    #[error("credential store: {0}")]
    Store(#[from] StoreError),
    /// A stored secret could not be parsed or a key could not be used.
    #[error("internal error: {0}")]
    Internal(&'static str),
}

impl EngineError {
    /// The CTAP status this error is reported as.
    pub fn status(&self) -> CtapStatus {
        match self {
            EngineError::InvalidCommand(_) => CtapStatus::InvalidCommand,
            EngineError::InvalidCbor(_) => CtapStatus::InvalidCbor,
            EngineError::UnexpectedType(_) => CtapStatus::CborUnexpectedType,
            EngineError::MissingParameter(_) => CtapStatus::MissingParameter,
            EngineError::InvalidParameter(_) => CtapStatus::InvalidParameter,
            EngineError::InvalidLength(_) => CtapStatus::InvalidLength,
            EngineError::UnsupportedAlgorithm => CtapStatus::UnsupportedAlgorithm,
            EngineError::UnsupportedOption(_) => CtapStatus::UnsupportedOption,
            EngineError::InvalidOption(_) => CtapStatus::InvalidOption,
            EngineError::CredentialExcluded => CtapStatus::CredentialExcluded,
            EngineError::NoCredentials => CtapStatus::NoCredentials,
            EngineError::OperationDenied => CtapStatus::OperationDenied,
            EngineError::UserActionTimeout => CtapStatus::UserActionTimeout,
            EngineError::UvBlocked(_) => CtapStatus::UvBlocked,
            EngineError::UvKeyRejected => CtapStatus::UvInvalid,
            EngineError::PinAuthInvalid | EngineError::PinUvAuthTokenExpired => CtapStatus::PinAuthInvalid,
            EngineError::Abandoned => CtapStatus::KeepaliveCancel,
            EngineError::PinNotSet => CtapStatus::PinNotSet,
            EngineError::UnauthorizedPermission => CtapStatus::UnauthorizedPermission,
            EngineError::InvalidSubcommand(_) => CtapStatus::InvalidSubcommand,
            EngineError::NotAllowed => CtapStatus::NotAllowed,
            EngineError::ApprovalRejected(_) | EngineError::Internal(_) => CtapStatus::Other,
            EngineError::Store(_) => CtapStatus::Other,
        }
    }
}

impl From<VerificationError> for EngineError {
    fn from(e: VerificationError) -> Self {
        match e {
            VerificationError::Denied | VerificationError::Cancelled => EngineError::OperationDenied,
            VerificationError::TimedOut => EngineError::UserActionTimeout,
            VerificationError::Unavailable(why) => EngineError::UvBlocked(why),
            VerificationError::KeyInvalidated(why) => EngineError::Store(StoreError::KeyInvalidated(why)),
        }
    }
}
