//! Hybrid transport (caBLE v2) protocol layers, authenticator and client roles: pure, no I/O.
pub mod crypter;
pub mod digits;
pub mod domain;
pub mod eid;
pub mod ids;
pub mod kdf;
pub mod keys;
mod mac;
pub mod noise;
pub mod random;
pub mod secrets;
