//! Session configuration: which tunnel service, transport security, timeouts and linking policy.

use std::sync::Arc;
use std::time::Duration;

use tandem_hybrid_proto::domain::{DomainId, select_domain};

use crate::error::SessionError;
use crate::ws::{TlsOptions, WebSocketConnector};

/// Which tunnel service the phone uses (the phone chooses; the desktop learns it from the advert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TunnelChoice {
    /// An assigned domain (0 = `cable.ua5v.com`, 1 = `cable.auth.com`), falling back to the hashed domain
    /// `fallback` when QR key 2 says the desktop does not know `id` (spec §4, pitfall P12).
    Assigned {
        /// The assigned ID (0 or 1).
        id: u16,
        /// Hashed ID (≥ 256) to use instead when the desktop does not know `id`.
        fallback: u16,
    },
    /// A hashed domain ID (≥ 256): the service must run at the host name the ID derives to.
    Hashed(u16),
    /// An explicit base URL (`wss://host[:port]`, or `ws://` on loopback when allowed) for self-hosted or
    /// test services. `domain_id` is what the advert carries; a desktop using the same service by URL
    /// override ignores it, any other desktop derives the host from it.
    Url {
        /// Base URL without a trailing slash, e.g. `wss://tunnel.example.net` or `ws://127.0.0.1:8080`.
        base_url: String,
        /// Domain ID to put in the advert (0, 1 or ≥ 256).
        domain_id: u16,
    },
}

/// A tunnel choice resolved for one desktop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedTunnel {
    /// Base URL of the service (scheme and authority, no trailing slash).
    pub base_url: String,
    /// Domain ID for the advert.
    pub domain: DomainId,
}

impl TunnelChoice {
    /// Resolves the choice for a desktop that knows `known_assigned` assigned domains (QR key 2; 0 when
    /// absent, as Chromium's parser defaults it). Linked sessions pass `u64::MAX`: the phone's own
    /// service is used as recorded at link time.
    pub fn resolve(&self, known_assigned: u64) -> Result<ResolvedTunnel, SessionError> {
        let bad = |raw: u16| {
            SessionError::TunnelConfig(format!("domain ID {raw} is in the unassigned range 2..=255"))
        };
        match self {
            TunnelChoice::Assigned { id, fallback } => {
                let preferred = DomainId::new(*id).map_err(|_| bad(*id))?;
                let fallback_id = DomainId::new(*fallback).map_err(|_| bad(*fallback))?;
                let domain = select_domain(preferred, fallback_id, known_assigned).ok_or_else(|| {
                    SessionError::TunnelConfig(format!(
                        "the desktop knows {known_assigned} assigned domain(s); neither {id} nor {fallback} is usable"
                    ))
                })?;
                Ok(ResolvedTunnel {
                    base_url: format!("wss://{}", domain.host()),
                    domain,
                })
            }
            TunnelChoice::Hashed(raw) => {
                let domain = DomainId::new(*raw).map_err(|_| bad(*raw))?;
                if *raw < 256 {
                    return Err(SessionError::TunnelConfig(format!(
                        "{raw} is not a hashed domain ID (≥ 256)"
                    )));
                }
                Ok(ResolvedTunnel {
                    base_url: format!("wss://{}", domain.host()),
                    domain,
                })
            }
            TunnelChoice::Url { base_url, domain_id } => {
                let domain = DomainId::new(*domain_id).map_err(|_| bad(*domain_id))?;
                if !domain.accepted_by(known_assigned) {
                    return Err(SessionError::TunnelConfig(format!(
                        "the desktop knows {known_assigned} assigned domain(s) and would ignore an advert for {domain_id}"
                    )));
                }
                Ok(ResolvedTunnel {
                    base_url: base_url.trim_end_matches('/').to_string(),
                    domain,
                })
            }
        }
    }
}

/// Per-step time limits. Defaults (documented on each field) follow what desktops tolerate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP + TLS + WebSocket upgrade to the tunnel service. Default 15 s.
    pub connect: Duration,
    /// From advertising until the desktop's handshake message arrives (the desktop must see the advert
    /// and join the tunnel). Default 60 s.
    pub handshake: Duration,
    /// Waiting for the desktop's next message (a request, or shutdown after a response). Default 60 s.
    pub request: Duration,
    /// The engine answering one request, user verification included (Chromium's phone allows 60 s for
    /// the local operation; a biometric prompt can be slow). Default 120 s.
    pub user: Duration,
    /// Writing one message. Default 10 s.
    pub send: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(15),
            handshake: Duration::from_secs(60),
            request: Duration::from_secs(60),
            user: Duration::from_secs(120),
            send: Duration::from_secs(10),
        }
    }
}

impl Timeouts {
    /// Every limit set to `d` (handy for tests of the timeout paths).
    pub fn all(d: Duration) -> Self {
        Timeouts {
            connect: d,
            handshake: d,
            request: d,
            user: d,
            send: d,
        }
    }
}

/// Everything that configures the phone's sessions.
#[derive(Debug, Clone)]
pub struct PhoneConfig {
    /// The tunnel service.
    pub tunnel: TunnelChoice,
    /// Transport security options (plain ws:// on loopback, extra roots for the built-in client).
    pub tls: TlsOptions,
    /// Who carries the tunnel WebSocket: the built-in rustls client or the app's platform client.
    pub connector: Arc<dyn WebSocketConnector>,
    /// Per-step time limits.
    pub timeouts: Timeouts,
    /// Offer linking (state-assisted sign-in later) when the QR says the desktop can store it (key 4).
    pub linking: bool,
    /// Name the desktop shows for this phone in its list of linked devices.
    pub authenticator_name: String,
}

impl PhoneConfig {
    /// `tunnel` over the built-in rustls client, secure transport, default timeouts, linking on.
    #[cfg(feature = "rustls")]
    pub fn new(tunnel: TunnelChoice) -> Self {
        Self::with_connector(tunnel, Arc::new(crate::ws::RustlsConnector))
    }

    /// `tunnel` over `connector` (e.g. the platform's WebSocket client), secure transport, default
    /// timeouts, linking on.
    pub fn with_connector(tunnel: TunnelChoice, connector: Arc<dyn WebSocketConnector>) -> Self {
        PhoneConfig {
            tunnel,
            tls: TlsOptions::default(),
            connector,
            timeouts: Timeouts::default(),
            linking: true,
            authenticator_name: "Tandem".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_falls_back_when_desktop_does_not_know_it() {
        let choice = TunnelChoice::Assigned { id: 1, fallback: 266 };
        let r = choice.resolve(2).unwrap();
        assert_eq!(
            r,
            ResolvedTunnel {
                base_url: "wss://cable.auth.com".into(),
                domain: DomainId::APPLE
            }
        );
        let r = choice.resolve(1).unwrap();
        assert_eq!(r.base_url, "wss://cable.wufkweyy3uaxb.com");
        assert_eq!(r.domain.raw(), 266);
        let both_assigned = TunnelChoice::Assigned { id: 1, fallback: 0 };
        assert!(matches!(
            both_assigned.resolve(0),
            Err(SessionError::TunnelConfig(_))
        ));
    }

    #[test]
    fn hashed_and_url() {
        assert_eq!(
            TunnelChoice::Hashed(0xF980).resolve(0).unwrap().base_url,
            "wss://cable.my4kstlhndi4c.net"
        );
        assert!(TunnelChoice::Hashed(1).resolve(2).is_err());
        assert!(TunnelChoice::Hashed(7).resolve(2).is_err());
        let url = TunnelChoice::Url {
            base_url: "ws://127.0.0.1:9/".into(),
            domain_id: 300,
        };
        assert_eq!(url.resolve(0).unwrap().base_url, "ws://127.0.0.1:9");
        let url0 = TunnelChoice::Url {
            base_url: "ws://127.0.0.1:9".into(),
            domain_id: 0,
        };
        assert!(url0.resolve(0).is_err());
        assert!(url0.resolve(1).is_ok());
    }
}
