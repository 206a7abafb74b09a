//! The WebAuthn JSON layer: the W3C shapes a relying party, a browser and a platform passkey provider exchange,
//! with no authenticator in it.
//!
//! - [`CreationOptions`] / [`RequestOptions`]: `PublicKeyCredential{Creation,Request}OptionsJSON`, read once
//!   here for every user (the provider API in `tandem-engine`, the desktop peer, the FFI).
//! - [`client_data`]: the collected client data browsers serialise, and its hash.
//! - [`ExtensionInputs`] / [`ClientExtensionResults`]: credProps, prf, credProtect and credBlob as requested
//!   and as reported back.
//! - [`RegistrationResponse`] / [`AuthenticationResponse`]: `RegistrationResponseJSON` /
//!   `AuthenticationResponseJSON`.
//!
//! Mapping these to CTAP requests is a policy question (a phone provider and a desktop client answer it
//! differently), so it stays with each user.

#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod b64;
pub mod client_data;
mod extensions;
mod options;
mod response;

pub use client_data::{ClientDataType, client_data_hash, client_data_json};
pub use extensions::{
    ClientExtensionResults, CredPropsOutput, ExtensionInputs, PrfInputs, PrfOutput, PrfValues, prf_salt,
};
pub use options::{
    AuthenticatorSelection, CreationOptions, CredentialDescriptor, CredentialParameter, OptionsError,
    RelyingParty, RequestOptions, User,
};
pub use response::{AuthenticationResponse, AuthenticatorAttachment, RegistrationResponse};
