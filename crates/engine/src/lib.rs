//! Tandem's authenticator engine.
//!
//! Every transport reaches the same code: the hybrid responder hands [`Authenticator::handle_ctap`] raw CTAP2
//! messages, while the Android Credential Manager provider and the iOS credential-provider extension call the
//! WebAuthn-level entry points in [`webauthn`] with a request and a clientDataHash. The engine does no I/O of
//! its own: it talks to the platform only through the traits in [`platform`] and to storage through
//! [`store::CredentialStore`].
//!
//! Before a WebAuthn-level request reaches the engine, [`Caller`] decides whose origin it speaks for,
//! [`rpid`] checks the RP ID against a web origin and [`assetlinks`] against a native app's Digital Asset Links.
//!
//! Public namespaces: [`ctap`] (the CTAP2 codec), [`store`] and [`platform`] (the ports an app or edge
//! implements), [`webauthn`] (the provider entry points), [`rpid`] and [`assetlinks`]; every other type is
//! re-exported at the root.
//!
//! Layout: [`ctap`] (codec) → `authenticator` (shared state, dispatch) → `commands` (one file per CTAP
//! command, as the spec's numbered steps) → `uv` (approval gate) → `authdata`, `attestation`,
//! `extensions`, `pin` (PIN/UV auth protocols), `token` (pinUvAuthToken state), `keys` (credential
//! keys, secret blob). Randomness and time come only from the [`Env`] given at construction (`clock`
//! for time), so tests can run the engine deterministically.

pub mod assetlinks;
mod attestation;
mod authdata;
mod authenticator;
mod caller;
mod calling_app;
mod cancel;
mod clock;
mod commands;
mod config;
pub mod ctap;
mod env;
mod extensions;
mod keys;
mod pin;
pub mod platform;
#[cfg(test)]
pub(crate) mod redaction;
mod reported;
pub mod rpid;
mod status;
pub mod store;
mod token;
mod uv;
mod uvkey;
pub mod webauthn;

pub use authenticator::{Authenticator, CtapAnswer, rp_id_hash};
pub use caller::{
    AndroidApp, AppSigning, Caller, CallerError, CertDigest, ClientData, ClientDataType, PrivilegedAllowlist,
    ResolvedCaller,
};
pub use cancel::{CancelOnDrop, Cancellation, Cancelled};
pub use clock::{Clock, MANUAL_CLOCK_UNIX_START, ManualClock, SystemClock};
pub use commands::client_pin::{PERMISSION_GA, PERMISSION_MC, UV_RETRIES};
pub use commands::make_credential::CreatedCredential;
pub use config::{
    AttestationCertificate, AttestationConfig, AuthenticatorConfig, BackupPolicy, DiscoverablePolicy,
    GetInfoProfile,
};
pub use env::{Env, OsRandom, RandomSource, SeededRandom};
pub use keys::{
    COSE_EDDSA, COSE_ES256, CredentialKey, CredentialSecret, SUPPORTED_ALGORITHMS, cose_public_key, spki_der,
};
pub use pin::{KeyAgreementKey, PinProtocol, SharedSecret};
pub use reported::{ReportedCommand, ReportedStatus};
pub use status::{CtapStatus, EngineError};
pub use token::{INITIAL_USAGE_TIME_LIMIT, MAX_USAGE_TIME_PERIOD, USER_PRESENT_TIME_LIMIT};
