//! Session configuration: which tunnel service, transport security, timeouts and linking policy.

use std::sync::Arc;
use std::time::Duration;

use tandem_hybrid::{DomainId, DomainKind, select_domain};

use crate::error::SessionError;
use crate::ws::{TlsOptions, WebSocketConnector};

/// Which tunnel service the phone uses (the phone chooses; the desktop learns it from the advert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tunnel {
    /// An assigned domain (0 = `cable.ua5v.com`, 1 = `cable.auth.com`), falling back to the hashed domain
    /// `fallback` when QR key 2 says the desktop does not know `id` (docs/hybrid-protocol.md#tunnel-domains,
    /// docs/hybrid-protocol.md#pitfall-unknown-assigned-domain). Those services cannot wake this phone: no
    /// linking through this choice.
    Assigned {
        /// The assigned ID (0 or 1).
        id: u16,
        /// Hashed ID (≥ 256) to use instead when the desktop does not know `id`.
        fallback: u16,
    },
    /// A hashed domain ID (≥ 256): the service must run at the host name the ID derives to.
    Hashed {
        /// The domain ID.
        id: u16,
    },
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

/// Host names of the assigned (third-party) tunnel services: Google's and Apple's.
fn is_assigned_host(host: &str) -> bool {
    [DomainId::GOOGLE, DomainId::APPLE]
        .iter()
        .any(|d| d.host().eq_ignore_ascii_case(host))
}

/// The host of a base URL `scheme://[user@]host[:port][/…]` (brackets kept off IPv6 literals).
fn host_of(base_url: &str) -> Option<&str> {
    let rest = base_url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h);
    }
    authority.split(':').next()
}

impl ResolvedTunnel {
    /// Whether this is Google's or Apple's tunnel service (an assigned domain ID, or their host name):
    /// a desktop linked through it would look for the phone there, where only those vendors' phones can
    /// be woken.
    pub fn is_third_party(&self) -> bool {
        self.domain.kind() == DomainKind::Assigned || host_of(&self.base_url).is_none_or(is_assigned_host)
    }
}

impl Tunnel {
    /// The service this phone can be woken through for linked sessions — its own, as configured — or
    /// `None` when the choice is Google's or Apple's service (an assigned domain ID or host), which can
    /// only wake their own phones. A linked desktop contacts the service whose domain ID was in the
    /// QR session's advert, so linking is offered only when that session ran on this service too.
    pub fn wake_service(&self) -> Option<ResolvedTunnel> {
        let own = match self {
            Tunnel::Assigned { .. } => return None,
            Tunnel::Hashed { .. } | Tunnel::Url { .. } => self.resolve(u64::MAX).ok()?,
        };
        (!own.is_third_party()).then_some(own)
    }

    /// Whether a QR session on `resolved` may offer linking: only when it is this phone's own wake
    /// service ([`Tunnel::wake_service`]).
    pub fn can_link_through(&self, resolved: &ResolvedTunnel) -> bool {
        self.wake_service().as_ref() == Some(resolved)
    }

    /// Resolves the choice for a desktop that knows `known_assigned` assigned domains (from QR key 2; 1
    /// when absent). Linked sessions use [`Tunnel::wake_service`] instead.
    pub fn resolve(&self, known_assigned: u64) -> Result<ResolvedTunnel, SessionError> {
        let bad = |raw: u16| {
            SessionError::TunnelConfig(format!("domain ID {raw} is in the unassigned range 2..=255"))
        };
        match self {
            Tunnel::Assigned { id, fallback } => {
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
            Tunnel::Hashed { id: raw } => {
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
            Tunnel::Url { base_url, domain_id } => {
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
    /// The longest the tunnel may carry nothing in either direction while this phone still needs it:
    /// waiting for the desktop's next message (`request`), or user verification (`user`) followed by
    /// writing the response (`send`) — during a biometric prompt both ends are silent. A tunnel service
    /// whose idle timeout is not longer than this can drop the tunnel under a slow prompt.
    pub fn longest_tunnel_silence(&self) -> Duration {
        self.request.max(self.user.saturating_add(self.send))
    }

    /// The longest a one-request QR session holds its tunnel, counted from `/cable/new`: waiting for the
    /// desktop's handshake (`handshake`), writing the handshake response, post-handshake and update
    /// messages (3 × `send`), waiting for the request (`request`), user verification (`user`) and writing
    /// the response (`send`). A tunnel service whose lifetime cap is not longer than this can end a
    /// ceremony that is within every one of the phone's limits.
    pub fn tunnel_budget(&self) -> Duration {
        [self.request, self.user, self.send.saturating_mul(4)]
            .into_iter()
            .fold(self.handshake, Duration::saturating_add)
    }

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
    pub tunnel: Tunnel,
    /// Transport security options (plain ws:// on loopback, extra roots for the built-in client).
    pub tls: TlsOptions,
    /// Who carries the tunnel WebSocket: the built-in rustls client or the app's platform client.
    pub connector: Arc<dyn WebSocketConnector>,
    /// Per-step time limits.
    pub timeouts: Timeouts,
    /// The user's app setting "link computers" (default off): offer linking (state-assisted sign-in later)
    /// in every QR session where the QR says the desktop can store it (key 4) and the session runs on this
    /// phone's own tunnel service ([`Tunnel::wake_service`]); never through Google's or Apple's
    /// service, which cannot wake this phone. Without it, only a session started with "remember this
    /// computer" ([`crate::Phone::run_qr_remembering`]) links. Either way the link is sent only after the
    /// session's ceremony succeeded.
    pub linking: bool,
    /// Name the desktop shows for this phone in its list of linked devices.
    pub authenticator_name: String,
}

impl PhoneConfig {
    /// `tunnel` over the built-in rustls client, secure transport, default timeouts, linking off.
    #[cfg(feature = "rustls")]
    pub fn new(tunnel: Tunnel) -> Self {
        Self::with_connector(tunnel, Arc::new(crate::ws::RustlsConnector))
    }

    /// `tunnel` over `connector` (e.g. the platform's WebSocket client), secure transport, default
    /// timeouts, linking off (the user turns it on, or chooses "remember this computer" per scan).
    pub fn with_connector(tunnel: Tunnel, connector: Arc<dyn WebSocketConnector>) -> Self {
        PhoneConfig {
            tunnel,
            tls: TlsOptions::default(),
            connector,
            timeouts: Timeouts::default(),
            linking: false,
            authenticator_name: "Tandem".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assigned_falls_back_when_desktop_does_not_know_it() {
        let choice = Tunnel::Assigned { id: 1, fallback: 266 };
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
        let both_assigned = Tunnel::Assigned { id: 1, fallback: 0 };
        assert!(matches!(
            both_assigned.resolve(0),
            Err(SessionError::TunnelConfig(_))
        ));
    }

    #[test]
    fn linking_only_through_the_phones_own_service() {
        // Google's / Apple's services (assigned IDs) can never wake this phone.
        let assigned = Tunnel::Assigned { id: 0, fallback: 266 };
        assert_eq!(assigned.wake_service(), None);
        for known in [0, 1, 2] {
            assert!(
                !assigned.can_link_through(&assigned.resolve(known).unwrap()),
                "{known}"
            );
        }
        // Even the hashed fallback of an assigned choice is not where the phone listens.
        assert_eq!(assigned.resolve(0).unwrap().domain.raw(), 266);

        // A hashed domain is the phone's own service.
        let hashed = Tunnel::Hashed { id: 266 };
        let own = hashed.wake_service().expect("own service");
        assert_eq!(own.base_url, "wss://cable.wufkweyy3uaxb.com");
        assert!(hashed.can_link_through(&hashed.resolve(0).unwrap()));
        assert!(hashed.can_link_through(&hashed.resolve(2).unwrap()));

        // A URL with a hashed ID is too; with an assigned ID, or at Google's/Apple's host, it is not.
        let url = |base: &str, id: u16| Tunnel::Url {
            base_url: base.into(),
            domain_id: id,
        };
        let self_hosted = url("wss://tunnel.example.net:8443/", 300);
        assert!(self_hosted.can_link_through(&self_hosted.resolve(2).unwrap()));
        let loopback_google_id = url("ws://127.0.0.1:9", 0);
        assert_eq!(loopback_google_id.wake_service(), None);
        assert!(!loopback_google_id.can_link_through(&loopback_google_id.resolve(2).unwrap()));
        for host in [
            "wss://cable.ua5v.com",
            "wss://CABLE.AUTH.COM:443",
            "wss://user@cable.auth.com/x",
        ] {
            let c = url(host, 300);
            assert_eq!(c.wake_service(), None, "{host}");
            assert!(!c.can_link_through(&c.resolve(2).unwrap()), "{host}");
        }
        // A session resolved elsewhere than the wake service is not linkable either.
        let elsewhere = ResolvedTunnel {
            base_url: "wss://other.example.net".into(),
            domain: DomainId::new(300).unwrap(),
        };
        assert!(!self_hosted.can_link_through(&elsewhere));
        assert_eq!(host_of("ws://[::1]:80/x"), Some("::1"));
        assert_eq!(host_of("nonsense"), None);
    }

    #[test]
    fn tunnel_budgets() {
        let t = Timeouts::default();
        assert_eq!(t.longest_tunnel_silence(), t.user + t.send);
        assert_eq!(t.tunnel_budget(), t.handshake + t.request + t.user + 4 * t.send);
        let slow_desktop = Timeouts {
            request: Duration::from_secs(500),
            ..t
        };
        assert_eq!(slow_desktop.longest_tunnel_silence(), Duration::from_secs(500));
        assert_eq!(Timeouts::all(Duration::MAX).tunnel_budget(), Duration::MAX);
    }

    /// Tandem's own tunnel server (defaults) never gives up on a tunnel before the phone (defaults)
    /// would: its idle timeout outlasts the phone's longest silence (a slow biometric prompt), and its
    /// lifetime cap outlasts a whole ceremony at every phone limit. Changing either side's defaults
    /// without the other fails here.
    #[test]
    fn default_tunnel_limits_outlast_the_phones_timeouts() {
        let phone = Timeouts::default();
        let tunnel = tandem_tunnel::Limits::default();
        assert!(
            tunnel.idle_timeout > phone.longest_tunnel_silence(),
            "tunnel idle timeout {:?} must exceed the phone's longest silence {:?}",
            tunnel.idle_timeout,
            phone.longest_tunnel_silence()
        );
        assert!(
            tunnel.tunnel_lifetime > phone.tunnel_budget(),
            "tunnel lifetime {:?} must exceed the phone's session budget {:?}",
            tunnel.tunnel_lifetime,
            phone.tunnel_budget()
        );
        // The tunnel waits for the desktop at least as long as the phone does.
        assert!(tunnel.join_timeout >= phone.handshake);
    }

    #[test]
    fn hashed_and_url() {
        assert_eq!(
            Tunnel::Hashed { id: 0xF980 }.resolve(0).unwrap().base_url,
            "wss://cable.my4kstlhndi4c.net"
        );
        assert!(Tunnel::Hashed { id: 1 }.resolve(2).is_err());
        assert!(Tunnel::Hashed { id: 7 }.resolve(2).is_err());
        let url = Tunnel::Url {
            base_url: "ws://127.0.0.1:9/".into(),
            domain_id: 300,
        };
        assert_eq!(url.resolve(0).unwrap().base_url, "ws://127.0.0.1:9");
        let url0 = Tunnel::Url {
            base_url: "ws://127.0.0.1:9".into(),
            domain_id: 0,
        };
        assert!(url0.resolve(0).is_err());
        assert!(url0.resolve(1).is_ok());
    }
}
