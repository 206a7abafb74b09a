//! Server configuration: listen address, instance ID, TLS material and resource limits.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use zeroize::Zeroizing;

use crate::clients::ClientLimits;
use crate::forwarded::ProxyNet;

/// Everything [`crate::TunnelServer::bind`] needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on. Port 0 picks a free port (see [`crate::RunningServer::local_addr`]).
    pub listen: SocketAddr,
    /// This instance's ID, written into byte 0 of every routing ID it issues so a reverse proxy can route
    /// `/cable/connect/<routing id>/…` back to it.
    pub instance_id: u8,
    /// TLS certificate and key; `None` serves plain `ws://` (meant for loopback or behind a TLS proxy).
    pub tls: Option<TlsConfig>,
    /// Resource limits.
    pub limits: Limits,
    /// Reverse proxies whose `X-Forwarded-For` / `X-Real-IP` headers name the client (see
    /// [`crate::client_address`]); connections from anywhere else count as their own address. Empty by
    /// default: a forwarded header from an undeclared peer is never believed.
    pub trusted_proxies: Vec<ProxyNet>,
}

impl ServerConfig {
    /// Plain-TCP server on `listen` with default limits and instance ID 0.
    pub fn plain(listen: SocketAddr) -> Self {
        Self {
            listen,
            instance_id: 0,
            tls: None,
            limits: Limits::default(),
            trusted_proxies: Vec::new(),
        }
    }
}

/// TLS certificate chain and private key, PEM-encoded.
#[derive(Clone)]
pub enum TlsConfig {
    /// Read both from files when binding.
    PemFiles {
        /// Certificate chain, leaf first.
        cert_chain: PathBuf,
        /// PKCS#8, PKCS#1 or SEC1 private key.
        private_key: PathBuf,
    },
    /// PEM text already in memory.
    Pem {
        /// Certificate chain, leaf first.
        cert_chain: Vec<u8>,
        /// Private key.
        private_key: Zeroizing<Vec<u8>>,
    },
}

impl std::fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::PemFiles {
                cert_chain,
                private_key,
            } => f
                .debug_struct("PemFiles")
                .field("cert_chain", cert_chain)
                .field("private_key", private_key)
                .finish(),
            Self::Pem { .. } => f.write_str("Pem { .. }"),
        }
    }
}

/// The default largest message: 1 MiB, what Chromium's tunnel WebSocket adapter accepts
/// (`kMaxIncomingMessageSize`). Chromium's desktop sends a whole allow list in one getAssertion request, so
/// a smaller limit would break sign-ins on accounts with many credentials.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 1 << 20;

/// Resource limits. Defaults are sized for a small public instance; see the crate documentation for the
/// reasoning and a comparison with webauthn-rs' tunnel server.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest WebSocket message (and frame) accepted from a client, in bytes. Larger ⇒ close 1009.
    pub max_message_size: usize,
    /// Most data messages one side may send during a tunnel's life (buffered ones included). More ⇒ 1008.
    pub max_messages_per_direction: u32,
    /// Most bytes held for a peer that has not joined yet, per tunnel. More ⇒ 1008.
    pub max_buffered_bytes: usize,
    /// Most bytes held for peers that have not joined yet, over all tunnels: the worst case of the
    /// per-tunnel buffers stays bounded whatever `max_tunnels` is. More ⇒ the tunnel whose message did not
    /// fit is closed with 1013 (try again later).
    pub max_buffered_bytes_total: usize,
    /// A paired tunnel that relays nothing (in either direction) for this long is closed with 1008. A write
    /// blocked on a slow reader counts as no progress.
    pub idle_timeout: Duration,
    /// How long a tunnel waits for its second party before it is closed with 1008.
    pub join_timeout: Duration,
    /// Hard cap on a tunnel's life, counted from its creation. Closed with 1008.
    pub tunnel_lifetime: Duration,
    /// Most tunnels (waiting or paired) at once. More ⇒ HTTP 503.
    pub max_tunnels: usize,
    /// Most connections still in TLS/WebSocket handshake. Further connections are dropped on accept.
    pub max_pending_handshakes: usize,
    /// Time a connection gets to finish TLS and the WebSocket upgrade.
    pub handshake_timeout: Duration,
    /// Time a connection gets to finish TLS and send its whole upgrade request head; shorter than
    /// `handshake_timeout`, so slow or silent sockets give their place back early.
    pub header_timeout: Duration,
    /// What each client (an IPv4 address or an IPv6 /64) may hold at once, and how fast it may connect.
    pub per_client: ClientLimits,
    /// Most phones listening on wake channels at once. More ⇒ HTTP 503.
    pub max_wake_listeners: usize,
    /// Most contact IDs remembered (listening or not). More ⇒ HTTP 503 on a new wake registration.
    pub max_contacts: usize,
    /// Most bytes of wakes queued for phones not listening, over all contacts. More ⇒ the wake is dropped
    /// (its tunnel ends at the join timeout).
    pub max_queued_wake_bytes: usize,
    /// A contact ID whose phone has not listened for this long is forgotten (then `/cable/contact` ⇒ 410).
    pub contact_ttl: Duration,
    /// Interval of server pings on wake channels; a listener silent for two intervals is closed (1008).
    pub wake_ping_interval: Duration,
    /// Time allowed for a close handshake before the connection is simply dropped.
    pub close_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            max_messages_per_direction: 32,
            max_buffered_bytes: 64 * 1024,
            max_buffered_bytes_total: 64 * 1024 * 1024,
            // Longer than a phone's longest silence: Tandem's phone allows 120 s of user verification
            // plus 10 s to send (tandem-phone checks this relation against its own defaults).
            idle_timeout: Duration::from_secs(180),
            join_timeout: Duration::from_secs(60),
            // Longer than a whole one-request ceremony at every phone limit (tandem-phone: 280 s).
            tunnel_lifetime: Duration::from_secs(300),
            max_tunnels: 10_000,
            max_pending_handshakes: 512,
            handshake_timeout: Duration::from_secs(10),
            header_timeout: Duration::from_secs(4),
            per_client: ClientLimits::default(),
            max_wake_listeners: 10_000,
            max_contacts: 100_000,
            max_queued_wake_bytes: 4 * 1024 * 1024,
            contact_ttl: Duration::from_secs(30 * 24 * 3600),
            wake_ping_interval: Duration::from_secs(30),
            close_timeout: Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// Checks that the limits are usable (non-zero where zero would make the server useless).
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.max_message_size == 0 {
            return Err("max_message_size must be > 0");
        }
        if self.max_pending_handshakes == 0 {
            return Err("max_pending_handshakes must be > 0");
        }
        let c = &self.per_client;
        if c.max_pending_handshakes == 0 || c.accept_rate == 0 || c.accept_burst == 0 {
            return Err("per-client pending handshakes, accept rate and accept burst must be > 0");
        }
        if self.wake_ping_interval.is_zero() {
            return Err("wake_ping_interval must be > 0");
        }
        for d in [
            self.idle_timeout,
            self.join_timeout,
            self.tunnel_lifetime,
            self.handshake_timeout,
            self.header_timeout,
        ] {
            if d.is_zero() {
                return Err("timeouts must be > 0");
            }
        }
        Ok(())
    }
}
