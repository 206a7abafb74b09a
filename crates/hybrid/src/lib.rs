//! Hybrid transport (caBLE v2) protocol layers, authenticator and client roles: pure, no I/O.
//!
//! The protocol facts behind each module are in `docs/hybrid-protocol.md` (anchors below). Everything here
//! is bytes in, bytes out; randomness comes from the OS ([`random`]) except where a `*_with_*` constructor
//! injects it for known-answer tests.
//!
//! | module | docs/hybrid-protocol.md | what |
//! |---|---|---|
//! | [`digits`] | docs/hybrid-protocol.md#qr-digits | QR base-10 digits ↔ bytes |
//! | [`qr`], [`request_type`] | docs/hybrid-protocol.md#qr | `FIDO:/` URL, CBOR keys 0–6, validation, desktop generation |
//! | [`kdf`] | docs/hybrid-protocol.md#key-derivation | `Derive()` = HKDF-SHA256 with LE32 purpose |
//! | [`secrets`] | docs/hybrid-protocol.md#key-derivation | zeroizing secrets and their derivations (EID key, tunnel ID, PSK, link secrets) |
//! | [`ids`] | docs/hybrid-protocol.md#advert-eid, docs/hybrid-protocol.md#linking-map | tunnel ID, routing ID, nonces, link ID, contact ID |
//! | [`domain`] | docs/hybrid-protocol.md#tunnel-domains | tunnel-service domain IDs, hashed host names, choice against QR key 2 |
//! | [`eid`] | docs/hybrid-protocol.md#advert | EID plaintext, 20-byte advert build and trial-decrypt |
//! | [`keys`] | docs/hybrid-protocol.md#noise-primitives | P-256 keys, compressed/uncompressed encodings, ECDH |
//! | [`noise`] | docs/hybrid-protocol.md#noise | `KNpsk0` / `NKpsk0` handshakes, initiator and responder, handshake hash |
//! | [`crypter`] | docs/hybrid-protocol.md#transport-crypter | transport padding and AES-GCM with per-direction counters |
//! | [`post_handshake`] | docs/hybrid-protocol.md#post-handshake | the phone's first message (getInfo, features) |
//! | [`messages`] | docs/hybrid-protocol.md#message-types | type byte, CTAP request/response framing, shutdown |
//! | [`update`] | docs/hybrid-protocol.md#update-message | update message padded to 512 bytes |
//! | [`linking`] | docs/hybrid-protocol.md#linking-map | linking map and handshake signature |
//! | [`client_payload`] | docs/hybrid-protocol.md#state-assisted | state-assisted client payload |
//! | [`tunnel`] | docs/hybrid-protocol.md#tunnel-websocket | tunnel-service paths, headers, subprotocol |
//! | [`role`] | docs/hybrid-protocol.md#noise | sans-I/O phone and desktop state machines, handshake to serving |
//! | [`wake`] | docs/hybrid-protocol.md#state-assisted | Tandem's wake message (tunnel server → phone) |
//!
//! Typical phone (responder) flow, QR-initiated: [`qr::QrData::from_url`] → [`secrets::QrSecret::tunnel_id`]
//! and [`tunnel::new_tunnel_path`] → routing ID from [`tunnel::parse_routing_id`] →
//! [`eid::EidPlaintext::generate`] → [`secrets::EidKey::encrypt`] (advert) and [`secrets::QrSecret::psk`] →
//! [`role::ResponderAwaitingMsg1::qr`] with the [`post_handshake::PostHandshakeMessage`] → `read_msg1` gives
//! message 2, the encrypted post-handshake message and a [`role::ResponderEstablished`] → `serve` (QR
//! sessions first send a padding-only [`update::UpdateMessage`]) → a [`role::ResponderServing`] that
//! decrypts [`messages::ClientMessage`]s and encrypts the answers. The phone and desktop drivers only move
//! these machines' bytes over the tunnel.

// Parses untrusted bytes (QR codes, adverts, handshakes): no panicking shortcuts outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

pub mod client_payload;
pub mod crypter;
pub mod digits;
pub mod domain;
pub mod eid;
mod handshake_hash;
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
pub mod role;
pub mod secrets;
pub mod tunnel;
pub mod update;
pub mod wake;
