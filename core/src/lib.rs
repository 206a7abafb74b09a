//! Tandem's authenticator engine.
//!
//! Every transport reaches the same code: the hybrid responder hands [`Authenticator::handle_ctap`] raw CTAP2
//! messages, while the Android Credential Manager provider and the iOS credential-provider extension call the
//! WebAuthn-level entry points with a request and a clientDataHash. The engine does no I/O of its own: it talks to
//! the platform only through the traits in [`platform`] and to storage through [`store::CredentialStore`].

pub mod platform;
pub mod store;
