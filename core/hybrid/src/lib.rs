//! Hybrid transport (caBLE v2) protocol layers, authenticator and client roles: pure, no I/O.
//!
//! Section numbers refer to `shared/spec/hybrid.md`. Everything here is bytes in, bytes out; randomness
//! comes from the OS ([`random`]) except where a `*_with_*` constructor injects it for known-answer tests.
//!
//! | module | spec | what |
//! |---|---|---|
//! | [`digits`] | §2.2 | QR base-10 digits ↔ bytes |
//! | [`qr`], [`request_type`] | §2.1, §2.3 | `FIDO:/` URL, CBOR keys 0–6, validation, desktop generation |
//! | [`kdf`] | §3 | `Derive()` = HKDF-SHA256 with LE32 purpose |
//! | [`secrets`] | §3, §10.1 | zeroizing secrets and their derivations (EID key, tunnel ID, PSK, link secrets) |
//! | [`ids`] | §5, §6.1, §10 | tunnel ID, routing ID, nonces, link ID, contact ID |
//! | [`domain`] | §4 | tunnel-service domain IDs, hashed host names, choice against QR key 2 |
//! | [`eid`] | §6 | EID plaintext, 20-byte advert build and trial-decrypt |
//! | [`keys`] | §7.1 | P-256 keys, compressed/uncompressed encodings, ECDH |
//! | [`noise`] | §7 | `KNpsk0` / `NKpsk0` handshakes, initiator and responder, handshake hash |
//! | [`crypter`] | §8 | transport padding and AES-GCM with per-direction counters |
//! | [`post_handshake`] | §9.1 | the phone's first message (getInfo, features) |
//! | [`messages`] | §9.2, §9.3 | type byte, CTAP request/response framing, shutdown |
//! | [`update`] | §9.4 | update message padded to 512 bytes |
//! | [`linking`] | §10.1 | linking map and handshake signature |
//! | [`client_payload`] | §10.2 | state-assisted client payload |
//! | [`tunnel`] | §5 | tunnel-service paths, headers, subprotocol |
//!
//! Typical phone (responder) flow, QR-initiated: [`qr::QrData::from_url`] → [`secrets::QrSecret::tunnel_id`]
//! and [`tunnel::new_tunnel_path`] → routing ID from [`tunnel::parse_routing_id`] →
//! [`eid::EidPlaintext::generate`] → [`secrets::EidKey::encrypt`] (advert) and
//! [`secrets::QrSecret::psk`] → [`noise::ResponderHandshake::qr`] → `read_msg1` gives msg2 and a
//! [`crypter::Crypter`] → send [`post_handshake::PostHandshakeMessage`], optionally an
//! [`messages::AuthenticatorMessage::Update`], then answer [`messages::ClientMessage`]s.

pub mod client_payload;
pub mod crypter;
pub mod digits;
pub mod domain;
pub mod eid;
pub mod ids;
pub mod kdf;
pub mod keys;
pub mod linking;
mod mac;
pub mod messages;
pub mod noise;
pub mod post_handshake;
pub mod qr;
pub mod random;
pub mod request_type;
pub mod secrets;
pub mod tunnel;
pub mod update;
