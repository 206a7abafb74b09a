//! The one error type every export returns: `TandemException` in Kotlin, `TandemError` in Swift.
//!
//! Each variant says which layer refused and why, with the CTAP status or protocol step where there is one, so
//! an app can branch on the kind and still show the reason.

use crate::types::CtapStatus;
use tandem_phone::SessionStep;

/// Why a Tandem call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum TandemError {
    /// An argument is malformed (bad JSON, wrong length, unknown value). Nothing was done.
    #[error("invalid input: {reason}")]
    InvalidInput {
        /// What was wrong.
        reason: String,
    },
    /// The authenticator refused the request with a CTAP2 status.
    #[error("CTAP error 0x{:02x}: {}", .status.code(), .reason)]
    Ctap {
        /// The CTAP2 status (e.g. [`CtapStatus::OperationDenied`] when the user declined,
        /// [`CtapStatus::NoCredentials`]).
        status: CtapStatus,
        /// The engine's explanation.
        reason: String,
    },
    /// The scanned text is not a valid hybrid QR code.
    #[error("invalid QR code: {reason}")]
    InvalidQr {
        /// What was wrong with it.
        reason: String,
    },
    /// The hybrid session failed at a protocol step (tunnel refused or closed, handshake, framing).
    #[error("hybrid session failed during {step:?}: {reason}")]
    Protocol {
        /// The step that failed.
        step: SessionStep,
        /// What went wrong.
        reason: String,
    },
    /// A step of the hybrid session took longer than its limit (the desktop never came, the user never
    /// answered).
    #[error("hybrid session timed out during {step:?}")]
    Timeout {
        /// The step that timed out.
        step: SessionStep,
    },
    /// The platform could not advertise over BLE.
    #[error("BLE advertising failed: {reason}")]
    Advertise {
        /// The advertiser's explanation.
        reason: String,
    },
    /// The platform keystore refused or failed to release the data key.
    #[error("key protector failed: {reason}")]
    KeyProtector {
        /// The key protector's explanation.
        reason: String,
    },
    /// The store's platform key is permanently gone (screen lock removed, key deleted): every passkey in
    /// this store is lost. Retrying cannot help; the app should say so and offer to start over
    /// (`delete_store_files`, plus deleting the platform key).
    #[error("the store's key was permanently invalidated: {reason}")]
    KeyInvalidated {
        /// The key protector's explanation.
        reason: String,
    },
    /// The named credential does not exist.
    #[error("no such credential")]
    NotFound,
    /// A stored credential could not be decrypted or parsed.
    #[error("stored credential is corrupt: {reason}")]
    Corrupt {
        /// What was wrong.
        reason: String,
    },
    /// The credential database failed (I/O, full disk, locked).
    #[error("database error: {reason}")]
    Database {
        /// The database's explanation.
        reason: String,
    },
    /// The caller may not make this request for this RP ID (not an allowlisted browser, RP ID outside its
    /// origin, app not in the RP's Digital Asset Links). Nothing was shown, signed or stored. Android:
    /// report it as a security failure (`CreateCredentialException`/`GetCredentialException` TYPE_UNKNOWN with
    /// this reason; the framework has no finer type).
    #[error("caller refused ({kind:?}): {reason}")]
    CallerRefused {
        /// Which rule refused.
        kind: crate::caller::CallerRefusal,
        /// The core's explanation (RP ID, origin, package).
        reason: String,
    },
    /// The user did not let a linked desktop's session start (refused, dismissed, or did not answer in
    /// time). A declined prompt during a ceremony is [`TandemError::Ctap`] with
    /// [`CtapStatus::OperationDenied`]; a cancelled coroutine / Swift task ends with the platform's own
    /// cancellation, not with this. Also what the library's runtime reports if it drops the work itself.
    #[error("cancelled")]
    Cancelled,
    /// A bug: a panic or an impossible state inside the library. Report it.
    #[error("internal error: {reason}")]
    Internal {
        /// The panic message or the broken invariant.
        reason: String,
    },
}

impl From<tandem_engine::store::StoreError> for TandemError {
    fn from(e: tandem_engine::store::StoreError) -> Self {
        use tandem_engine::store::StoreError as S;
        match e {
            S::KeyProtector(reason) => TandemError::KeyProtector { reason },
            S::KeyInvalidated(reason) => TandemError::KeyInvalidated { reason },
            S::Corrupt(reason) => TandemError::Corrupt { reason },
            S::NotFound => TandemError::NotFound,
            S::Database(reason) => TandemError::Database { reason },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_engine::store::StoreError;

    #[test]
    fn store_errors_keep_their_kind_and_reason() {
        assert_eq!(TandemError::from(StoreError::NotFound), TandemError::NotFound);
        assert_eq!(
            TandemError::from(StoreError::KeyProtector("locked".into())),
            TandemError::KeyProtector {
                reason: "locked".into()
            }
        );
        assert_eq!(
            TandemError::from(StoreError::KeyInvalidated("lock screen removed".into())),
            TandemError::KeyInvalidated {
                reason: "lock screen removed".into()
            }
        );
        assert_eq!(
            TandemError::from(StoreError::Corrupt("bad tag".into())),
            TandemError::Corrupt {
                reason: "bad tag".into()
            }
        );
        assert_eq!(
            TandemError::from(StoreError::Database("disk full".into())),
            TandemError::Database {
                reason: "disk full".into()
            }
        );
    }

    #[test]
    fn ctap_display_names_the_status() {
        let e = TandemError::Ctap {
            status: CtapStatus::OperationDenied,
            reason: "denied".into(),
        };
        assert_eq!(e.to_string(), "CTAP error 0x27: denied");
        let other = TandemError::Ctap {
            status: CtapStatus::Other { code: 0x12 },
            reason: "bad CBOR".into(),
        };
        assert_eq!(other.to_string(), "CTAP error 0x12: bad CBOR");
    }
}
