//! Self-hostable hybrid (caBLE v2) tunnel server: a WebSocket relay that behaves like Google's tunnel service
//! for the endpoints in docs/hybrid-protocol.md#tunnel-websocket, plus a Tandem wake channel that replaces
//! Google's FCM push for state-assisted transactions (docs/hybrid-protocol.md#state-assisted). It is a pure
//! relay: everything it forwards is Noise-encrypted end to end, and it depends on no other Tandem crate.
//!
//! ```no_run
//! # async fn run() -> Result<(), tandem_tunnel::TunnelError> {
//! use tandem_tunnel::{ServerConfig, TunnelServer};
//! let server = TunnelServer::bind(ServerConfig::plain("127.0.0.1:0".parse().unwrap())).await?;
//! println!("tunnel service at {}", server.ws_url()); // ws://127.0.0.1:PORT
//! println!("{:?}", server.stats());
//! server.shutdown().await; // stop accepting, close everything with 1001, wait
//! # Ok(()) }
//! ```
//!
//! # Endpoints
//!
//! Every request must be a WebSocket upgrade offering subprotocol `fido.cable` (else **400**, as Google's
//! service answers); the server selects it in the `101` response. Hex may be in either case; the server
//! writes upper case (as Chromium does).
//!
//! | request | who | answer |
//! |---|---|---|
//! | `GET /cable/new/<HEX 16-byte tunnel id>` | phone, QR-initiated | `101` + `X-caBLE-Routing-ID: <HEX 3 bytes>`; `409` if the tunnel ID exists; `503` at `max_tunnels` |
//! | `GET /cable/connect/<HEX routing id>/<HEX tunnel id>` | desktop (QR) or woken phone (state-assisted) | `101`, paired with the waiting creator; `404` if no such tunnel or the routing ID does not match; `409` if it already has its second party |
//! | `GET /cable/contact/<base64url contact id>` + `X-caBLE-Client-Payload: <HEX>` [+ `X-caBLE-Signal-Connection: true`] | desktop, state-assisted | `101` (signal header echoed) and the phone is woken; `410 Gone` if the contact ID is unknown; `400` without a hex payload (≤ 2048 bytes) |
//! | `GET /tandem/wake/<base64url contact id>` | phone, Tandem-specific | `101`; the connection becomes the contact's wake channel; `503` at `max_wake_listeners` / `max_contacts` |
//!
//! Anything else is `404`; a known endpoint with malformed arguments is `400`.
//!
//! # Relay semantics
//!
//! Binary messages are forwarded verbatim in both directions, boundaries and order preserved. Messages
//! the creator sends before the second party joins are held (bounded by `max_buffered_bytes`) and
//! delivered first. Pings are answered by the server and not relayed. When one side closes (or breaks),
//! the other is closed with `1000`. Close codes the server uses: `1001` shutdown, `1003` text frame,
//! `1002` WebSocket protocol error, `1007` bad UTF-8, `1008` policy (message count, buffer, idle timeout,
//! join timeout, lifetime), `1009` message too big. Connect signal: if the desktop asked for it on
//! `/cable/contact`, the server sends it one plaintext binary message `00` when the phone joins, before
//! anything relayed; the phone never sees it.
//!
//! # Wake channel (state-assisted, replaces FCM)
//!
//! The phone keeps `GET /tandem/wake/<base64url contact id>` (subprotocol `fido.cable`) open; its contact
//! ID is the one it put in its linking data, so it acts as a bearer token: generate it randomly (e.g. 32
//! bytes) and keep it secret. Opening the channel registers the contact; a newer channel for the same
//! contact replaces the older (closed with `1000`). The phone sends nothing but pong/ping frames; the
//! server pings every `wake_ping_interval` and closes a channel silent for two intervals (`1008`); any
//! data message from the phone closes it (`1008`, text `1003`).
//!
//! On `/cable/contact` the server allocates a random tunnel ID and a routing ID and sends the phone one
//! **binary** message: the canonical CBOR map `{1: bstr(16) tunnel id, 2: bstr(3) routing id, 3: bstr client
//! payload}` (see [`WakeMessage`]; e.g. `a3 01 50 <16 bytes> 02 43 <3 bytes> 03 41 a0`). The phone then
//! connects to `/cable/connect/<HEX routing id>/<HEX tunnel id>` on the same service and proceeds as in
//! docs/hybrid-protocol.md#state-assisted. If the phone is not listening at that moment, up to 4 wakes are
//! held and delivered when it reconnects (if their tunnels are still waiting); a held wake is dropped when its
//! tunnel ends, and all held wakes together are capped by `max_queued_wake_bytes`. A contact stays known for
//! `contact_ttl` after its phone last listened; after that (or if it never listened) `/cable/contact` answers
//! `410`. Contacts are kept in memory only: after a restart every contact is unknown until its phone listens
//! again, and desktops that contact it meanwhile get `410` and delete the link — keep phones connected before
//! announcing a restarted instance.
//!
//! # Several instances behind a reverse proxy
//!
//! Byte 0 of every routing ID is the configured [`ServerConfig::instance_id`] (bytes 1–2 are random), so a
//! proxy can send `/cable/connect/<routing id>/…` to the instance that issued it by its first two hex
//! digits. `/cable/new` may go to any instance. `/cable/contact/<c>` must reach the instance where
//! `/tandem/wake/<c>` is held: route both by a consistent hash of the contact ID. Example (nginx, TLS
//! terminated at the proxy, instances 0 and 1 on plain loopback ports):
//!
//! ```nginx
//! map $http_upgrade $connection_upgrade { default upgrade; '' close; }
//! map $uri $tandem_contact { ~^/(?:cable/contact|tandem/wake)/(?<c>[A-Za-z0-9_-]+)$ $c; default ""; }
//! upstream tandem_any     { server 127.0.0.1:8100; server 127.0.0.1:8101; }
//! upstream tandem_i0      { server 127.0.0.1:8100; }
//! upstream tandem_i1      { server 127.0.0.1:8101; }
//! upstream tandem_contact { hash $tandem_contact consistent; server 127.0.0.1:8100; server 127.0.0.1:8101; }
//!
//! server {
//!     listen 443 ssl; server_name cable.example.org;   # the host your hashed domain ID derives to
//!     proxy_http_version 1.1;
//!     proxy_set_header Upgrade $http_upgrade;
//!     proxy_set_header Connection $connection_upgrade;
//!     proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;   # with --trusted-proxy 127.0.0.1
//!     proxy_read_timeout 300s;
//!     location ~* ^/cable/connect/00 { proxy_pass http://tandem_i0; }
//!     location ~* ^/cable/connect/01 { proxy_pass http://tandem_i1; }
//!     location ^~ /cable/new/        { proxy_pass http://tandem_any; }
//!     location ^~ /cable/contact/    { proxy_pass http://tandem_contact; }
//!     location ^~ /tandem/wake/      { proxy_pass http://tandem_contact; }
//! }
//! ```
//!
//! # Limits ([`Limits`], defaults)
//!
//! | limit | default | webauthn-rs server | on violation |
//! |---|---|---|---|
//! | `max_message_size` (message and frame) | 1 MiB | 16 KiB | close `1009`, checked from the frame header |
//! | `max_messages_per_direction` | 32 | 16 per peer | close `1008` |
//! | `max_buffered_bytes` (before the peer joins) | 64 KiB | — | close `1008` |
//! | `max_buffered_bytes_total` (all tunnels) | 64 MiB | — | close `1013` |
//! | `idle_timeout` (paired, nothing relayed) | 180 s | — | close both `1008` |
//! | `join_timeout` | 60 s | — | close `1008` |
//! | `tunnel_lifetime` (from creation) | 300 s | 120 s (from phone connect) | close both `1008` |
//! | `max_tunnels` | 10 000 | — | `503` |
//! | `max_pending_handshakes` | 512 | — | the busiest client's newest handshake is dropped for a client holding fewer; else the new connection is dropped |
//! | `handshake_timeout` (TLS + upgrade) | 10 s | — | connection dropped |
//! | `header_timeout` (TLS + request head) | 4 s | — | connection dropped |
//! | `per_client.max_pending_handshakes` | 32 | — | connection dropped on accept |
//! | `per_client.accept_rate` / `accept_burst` | 20/s, burst 60 | — | connection dropped on accept |
//! | `per_client.max_tunnels` | 256 | — | `503` |
//! | `per_client.max_wake_listeners` | 1 024 | — | `503` |
//! | `max_wake_listeners` / `max_contacts` | 10 000 / 100 000 | — | `503` |
//! | `contact_ttl` | 30 days | — | `410` afterwards |
//! | `max_queued_wake_bytes` (wakes held for absent phones; each dies with its tunnel) | 4 MiB | — | wake dropped |
//! | `wake_ping_interval` | 30 s | — | close `1008` after 2 silent intervals |
//! | `close_timeout` | 5 s | — | connection dropped |
//!
//! A client is an IPv4 address or an IPv6 /64 (see [`ClientKey`]); the per-client defaults leave room for
//! carrier-grade NAT, where many honest phones share one address. Behind a reverse proxy every connection
//! comes from the proxy's address: declare the proxy in [`ServerConfig::trusted_proxies`] (CLI
//! `--trusted-proxy`) and have it send `X-Forwarded-For` (nginx: `proxy_set_header X-Forwarded-For
//! $proxy_add_x_forwarded_for;`). Connections from a trusted proxy share the pending-handshake pool without
//! a per-client cap of their own; their tunnels, wake listeners and request rate count against the client
//! the header names ([`client_address`]). The PROXY protocol is not supported.
//!
//! A caBLE session relays about 4–6 messages per direction (Noise handshake, post-handshake, update,
//! request/response, shutdown). Most are a few KiB, but Chromium's desktop sends a whole allow list in one
//! request, so the message limit is the 1 MiB Chromium's own WebSocket adapter accepts. Nothing flows
//! while the phone shows its biometric prompt: the idle timeout and lifetime are longer than the phone's
//! user-verification limit plus its handshake and sending budget (`tandem-phone`'s
//! `Timeouts::longest_tunnel_silence` / `Timeouts::tunnel_budget`, checked against these defaults by its
//! tests), so a slow prompt never loses the tunnel first. Per connection the server keeps a
//! 4 KiB read buffer and writes eagerly (at most one message plus 64 KiB pending per socket); a slow reader
//! stalls only its own tunnel (backpressure to the sender) until the idle timeout. The bench
//! (`benches/tunnel_bench.rs`) measured 14.9 KiB of server memory per idle paired tunnel (two sockets),
//! about 146 MB for 10 000 tunnels.
//!
//! # TLS and logging
//!
//! With [`TlsConfig`] the server speaks `wss://` (rustls, ring provider, TLS 1.2/1.3, ALPN `http/1.1`).
//! Without it, it serves plain `ws://`, meant for loopback or behind a TLS-terminating proxy, and logs a
//! warning when bound to a non-loopback address. Logs use `tracing`; tunnel IDs appear truncated to 4
//! bytes, contact IDs to 3, and payloads never.

#![deny(missing_docs)]

mod clients;
mod config;
mod conn;
mod error;
mod forwarded;
mod ids;
mod registry;
mod relay;
mod request;
mod route;
mod server;
mod wake;
mod wake_channel;

/// The upgrade-request parser and the types it needs, for the cargo-fuzz target `tunnel_headers`
/// (feature `fuzzing`; not a stable API).
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing {
    pub use crate::request::{Endpoint, Rejection, parse_request};
    pub use tokio_tungstenite::tungstenite::handshake::server::Request;
    pub use tokio_tungstenite::tungstenite::http;
}

pub use clients::{ClientKey, ClientLimits};
pub use config::{DEFAULT_MAX_MESSAGE_SIZE, Limits, ServerConfig, TlsConfig};
pub use error::TunnelError;
pub use forwarded::{FORWARDED_FOR_HEADER, ProxyNet, ProxyNetError, REAL_IP_HEADER, client_address};
pub use ids::{ContactId, IdError, RoutingId, TunnelId};
pub use registry::Stats;
pub use request::{CLIENT_PAYLOAD_HEADER, ROUTING_ID_HEADER, SIGNAL_CONNECTION_HEADER, SUBPROTOCOL};
pub use route::{Route, RouteError, parse as parse_path};
pub use server::{RunningServer, TunnelServer};
pub use wake::{MAX_CLIENT_PAYLOAD, WakeError, WakeMessage};
