//! CTAP2-canonical CBOR.
//!
//! Chromium's CBOR reader, python-fido2 in strict mode and the CTAP 2.2 specification all insist on the
//! "CTAP2 canonical CBOR encoding form": shortest-form integers and lengths, definite lengths only, map keys
//! sorted by the length of their encoding first and then bytewise, no duplicate keys, no tags, no floats.
//! A generic serializer (or a `BTreeMap<String, _>`) gets the key order wrong, so every message this project
//! emits goes through [`Value::to_vec`], which sorts map keys canonically at encoding time.
//!
//! Decoding comes in two strengths (see [`DecodeOptions`]): the default accepts any well-formed, definite-length
//! item of the supported types (what an authenticator should accept from a client), and
//! [`DecodeOptions::canonical`] additionally rejects anything that would not re-encode byte-for-byte (what
//! Chromium's reader enforces, used by the desktop peer and by tests).

// A parser of untrusted bytes: no panicking shortcuts outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod decode;
mod encode;
mod value;

pub use decode::{DecodeError, DecodeOptions, decode, decode_canonical};
pub use value::{MapBuilder, Value};

/// Maximum nesting depth accepted by the decoder (Chromium's reader uses 16).
pub const MAX_NESTING: usize = 16;
