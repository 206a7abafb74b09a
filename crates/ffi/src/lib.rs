//! uniffi bindings of the Tandem core for Kotlin and Swift.
//!
//! What crosses the boundary:
//! - objects: [`CredentialStore`] (the SQLite store), [`Authenticator`] (the engine) and [`HybridSession`] (the
//!   phone side of a hybrid ceremony);
//! - foreign traits the apps implement: [`UserVerifier`], [`KeyProtector`], [`BleAdvertiser`],
//!   [`AccountChooser`], [`ProgressListener`], and the tunnel's [`WebSocketClient`] / [`WebSocket`];
//! - one error enum, [`TandemError`], that becomes `TandemException` in Kotlin and `TandemError` in Swift;
//! - the iOS extension's decisions as plain functions: [`passkey_identities`] (what to publish to the system),
//!   [`account_choices`] (which accounts to offer) and [`extension_outcome`] (how a failure is reported).
//!
//! No panic crosses the FFI: every exported body runs under [`runtime::guard`] (sync) or on the crate's tokio
//! runtime (async), and a panic comes out as [`TandemError::Internal`].

#[cfg(any(test, feature = "https-asset-links"))]
mod assetlinks;
mod authenticator;
mod callbacks;
mod caller;
mod choices;
mod error;
mod extensions;
mod identities;
mod outcome;
mod runtime;
mod session;
mod store;
#[cfg(test)]
mod testing;
mod transport;
mod types;

pub use authenticator::{
    AssertionResult, Authenticator, AuthenticatorOptions, BackupPolicy, RegistrationResult,
    assertion_response_json, registration_response_json,
};
pub use callbacks::{
    AccountChooser, AdvertiseError, BleAdvertiser, KeyProtector, KeyProtectorError, UserVerifier,
    VerificationError,
};
pub use caller::{CallerContext, CallerRefusal};
pub use choices::{AccountChoice, account_choices};
pub use error::TandemError;
pub use extensions::{ClientExtensionResults, CredPropsOutput, PrfOutput, PrfValues};
pub use identities::{PasskeyIdentity, passkey_identities};
pub use outcome::{ExtensionOutcome, extension_outcome, silent_assertion_outcome, silent_failure_outcome};
pub use session::{HybridSession, ProgressListener, SessionOptions};
pub use store::{Credential, CredentialStore, LinkedDesktop, UnreadableCredential, delete_store_files};
pub use tandem_phone::SessionStep;
pub use tandem_phone::Tunnel;
pub use tandem_phone::{ProgressEvent, SessionOutcome};
pub use transport::{HttpHeader, WebSocket, WebSocketClient, WebSocketError};
pub use types::{
    AccountInfo, CtapCommand, CtapStatus, Operation, VerificationPrompt, ctap_status_code,
    ctap_status_from_code,
};

uniffi::setup_scaffolding!("tandem");

/// The version of the Tandem core this library was built from.
#[uniffi::export]
pub fn core_version() -> String {
    env!("CARGO_PKG_VERSION").to_owned()
}
