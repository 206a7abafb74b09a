//! Hybrid transport (caBLE v2) protocol layers, authenticator and client roles: pure, no I/O.
//!
//! The protocol facts behind each module are in `docs/hybrid-protocol.md` (anchors below). Everything here
//! is bytes in, bytes out; randomness comes from the OS (`random`) except where a `*_with_*` constructor
//! injects it for known-answer tests.
//!
//! The modules below are private except `digits`, `kdf` and `tunnel` (namespaces of free functions and wire
//! names); every type they define is re-exported at the crate root, which is the API.
//!
//! | module | docs/hybrid-protocol.md | what |
//! |---|---|---|
//! | [`digits`] | docs/hybrid-protocol.md#qr-digits | QR base-10 digits ↔ bytes |
//! | `qr`, `request_type` | docs/hybrid-protocol.md#qr | `FIDO:/` URL, CBOR keys 0–6, validation, desktop generation |
//! | [`kdf`] | docs/hybrid-protocol.md#key-derivation | `Derive()` = HKDF-SHA256 with LE32 purpose |
//! | `secrets` | docs/hybrid-protocol.md#key-derivation | zeroizing secrets and their derivations (EID key, tunnel ID, PSK, link secrets) |
//! | `ids` | docs/hybrid-protocol.md#advert-eid, docs/hybrid-protocol.md#linking-map | tunnel ID, routing ID, nonces, link ID, contact ID |
//! | `domain` | docs/hybrid-protocol.md#tunnel-domains | tunnel-service domain IDs, hashed host names, choice against QR key 2 |
//! | `eid` | docs/hybrid-protocol.md#advert | EID plaintext, 20-byte advert build and trial-decrypt |
//! | `keys` | docs/hybrid-protocol.md#noise-primitives | P-256 keys, compressed/uncompressed encodings, ECDH |
//! | `noise` | docs/hybrid-protocol.md#noise | `KNpsk0` / `NKpsk0` handshakes, initiator and responder, handshake hash |
//! | `crypter` | docs/hybrid-protocol.md#transport-crypter | transport padding and AES-GCM with per-direction counters |
//! | `post_handshake` | docs/hybrid-protocol.md#post-handshake | the phone's first message (getInfo, features) |
//! | `messages` | docs/hybrid-protocol.md#message-types | type byte, CTAP request/response framing, shutdown |
//! | `update` | docs/hybrid-protocol.md#update-message | update message padded to 512 bytes |
//! | `linking` | docs/hybrid-protocol.md#linking-map | linking map and handshake signature |
//! | `client_payload` | docs/hybrid-protocol.md#state-assisted | state-assisted client payload |
//! | [`tunnel`] | docs/hybrid-protocol.md#tunnel-websocket | tunnel-service paths, headers, subprotocol |
//! | `role` | docs/hybrid-protocol.md#noise | sans-I/O phone and desktop state machines, handshake to serving |
//! | `wake` | docs/hybrid-protocol.md#state-assisted | Tandem's wake message (tunnel server → phone) |
//!
//! Typical phone (responder) flow, QR-initiated: [`QrData::from_url`] → [`QrSecret::tunnel_id`]
//! and [`tunnel::new_tunnel_path`] → routing ID from [`tunnel::parse_routing_id`] →
//! [`EidPlaintext::generate`] → [`EidKey::encrypt`] (advert) and [`QrSecret::psk`] →
//! [`ResponderAwaitingMsg1::qr`] with the [`PostHandshakeMessage`] → `read_msg1` gives
//! message 2, the encrypted post-handshake message and a [`ResponderEstablished`] → `serve` (QR
//! sessions first send a padding-only [`UpdateMessage`]) → a [`ResponderServing`] that
//! decrypts [`ClientMessage`]s and encrypts the answers. The phone and desktop drivers only move
//! these machines' bytes over the tunnel.

// Parses untrusted bytes (QR codes, adverts, handshakes): no panicking shortcuts outside tests.
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)
)]

mod client_payload;
mod crypter;
pub mod digits;
mod domain;
mod eid;
mod handshake_hash;
mod ids;
pub mod kdf;
mod keys;
mod linking;
mod mac;
mod messages;
mod noise;
mod post_handshake;
mod qr;
mod random;
mod request_type;
mod role;
mod secrets;
pub mod tunnel;
mod update;
mod wake;

// The public API: every type at the root. `digits`, `kdf` and `tunnel` stay namespaces of free functions
// and wire names.
pub use client_payload::{ClientPayload, ClientPayloadError};
pub use crypter::{
    Crypter, CrypterError, FrameError, MAX_COUNTER, PADDING_GRANULARITY, RecvCipher, SendCipher, TAG_LEN,
    pad, unpad,
};
pub use domain::{DomainError, DomainId, DomainKind, select_domain};
pub use eid::{
    ADVERT_LEN, Advert, AdvertError, EidKey, EidPlaintext, FIDO_SERVICE_UUID, GOOGLE_SERVICE_UUID,
};
pub use ids::{ClientNonce, ConnectionNonce, ContactId, IdError, LinkId, RoutingId, TunnelId};
pub use keys::{COMPRESSED_LEN, KeyError, PrivateKey, PublicKey, UNCOMPRESSED_LEN};
pub use linking::{LinkingError, LinkingInfo, handshake_signature};
pub use messages::{
    AuthenticatorMessage, ClientMessage, CtapRequest, CtapResponse, MessageError, MessageType,
};
pub use noise::{
    HANDSHAKE_MSG_LEN, HandshakeHash, HandshakeKind, InitiatorHandshake, NoiseError, ResponderHandshake,
};
pub use post_handshake::{Feature, PostHandshakeError, PostHandshakeMessage};
pub use qr::{
    DATA_CHANNEL_BLE_L2CAP, DATA_CHANNEL_TUNNEL, DesktopQr, KNOWN_ASSIGNED_DOMAINS,
    KNOWN_ASSIGNED_DOMAINS_WHEN_ABSENT, QrData, QrError, QrKey6, URL_PREFIX,
};
pub use random::RandomError;
pub use request_type::RequestType;
pub use role::{
    InitiatorAwaitingMsg2, InitiatorAwaitingPostHandshake, InitiatorError, InitiatorServing,
    ResponderAwaitingMsg1, ResponderError, ResponderEstablished, ResponderGreeting, ResponderServing,
};
pub use secrets::{PairedSecret, PerContactSecret, Psk, QrSecret, RootSecret, SecretLengthError, TrafficKey};
pub use update::{UPDATE_PADDED_LEN, UpdateError, UpdateMessage};
pub use wake::{MAX_CLIENT_PAYLOAD, WakeError, WakeMessage};
