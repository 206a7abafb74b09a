//! Tandem's authenticator engine.
//!
//! Every transport reaches the same code: the hybrid responder hands [`Authenticator::handle_ctap`] raw CTAP2
//! messages, while the Android Credential Manager provider and the iOS credential-provider extension call the
//! WebAuthn-level entry points in [`webauthn`] with a request and a clientDataHash. The engine does no I/O of
//! its own: it talks to the platform only through the traits in [`platform`] and to storage through
//! [`store::CredentialStore`].
//!
//! Before a WebAuthn-level request reaches the engine, [`caller`] decides whose origin it speaks for, [`rpid`]
//! checks the RP ID against a web origin and [`assetlinks`] against a native app's Digital Asset Links.
//!
//! Layout: [`ctap`] (codec) → [`authenticator`] (shared state, dispatch) → `commands` (one file per CTAP
//! command, as the spec's numbered steps) → `uv` (approval gate) → `authdata`, `attestation`,
//! `extensions`, [`pin`] (PIN/UV auth protocols), `token` (pinUvAuthToken state), [`keys`] (credential
//! keys, secret blob). Randomness and time come only from the [`Env`] given at construction (`clock`
//! for time), so tests can run the engine deterministically.

pub mod assetlinks;
mod attestation;
mod authdata;
pub mod authenticator;
pub mod caller;
mod calling_app;
pub mod cancel;
mod clock;
mod commands;
mod config;
pub mod ctap;
mod env;
mod extensions;
pub mod keys;
pub mod pin;
pub mod platform;
#[cfg(test)]
pub(crate) mod redaction;
pub mod rpid;
mod status;
pub mod store;
mod token;
mod uv;
mod uvkey;
pub mod webauthn;

pub use authenticator::Authenticator;
pub use clock::{Clock, MANUAL_CLOCK_UNIX_START, ManualClock, SystemClock};
pub use commands::client_pin::{PERMISSION_GA, PERMISSION_MC, UV_RETRIES};
pub use commands::make_credential::CreatedCredential;
pub use config::{
    AttestationCertificate, AttestationConfig, AuthenticatorConfig, BackupPolicy, DiscoverablePolicy,
    GetInfoProfile,
};
pub use env::{Env, OsRandom, RandomSource, SeededRandom};
pub use status::{CtapStatus, EngineError};
pub use token::{INITIAL_USAGE_TIME_LIMIT, MAX_USAGE_TIME_PERIOD, USER_PRESENT_TIME_LIMIT};
