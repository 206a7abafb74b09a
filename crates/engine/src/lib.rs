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
//! Layout: [`ctap`] (codec) → [`authenticator`] (commands) → [`uv`] (approval gate) → [`authdata`],
//! [`attestation`], [`extensions`], [`pin`] (PIN/UV auth protocols), [`token`] (pinUvAuthToken state, timed by [`clock`]), [`keys`] (credential keys, secret blob).

pub mod assetlinks;
pub mod attestation;
pub mod authdata;
pub mod authenticator;
pub mod caller;
pub mod cancel;
pub mod clock;
pub mod config;
pub mod ctap;
pub mod extensions;
pub mod keys;
pub mod pin;
pub mod platform;
#[cfg(test)]
pub(crate) mod redaction;
pub mod rpid;
pub mod status;
pub mod store;
pub mod token;
pub mod uv;
pub mod uvkey;
pub mod webauthn;

pub use authenticator::Authenticator;
pub use config::{
    AttestationCertificate, AttestationConfig, AuthenticatorConfig, BackupPolicy, DiscoverablePolicy,
    GetInfoProfile,
};
pub use status::{CtapStatus, EngineError};
