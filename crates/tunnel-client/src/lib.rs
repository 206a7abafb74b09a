//! WebSocket client edge to a tunnel service: subprotocol `fido.cable`, binary messages only.
//!
//! [`TunnelSocket`] applies the transport rules every tunnel connection follows, whichever client carries it
//! ([`WebSocketConnector`]): the built-in rustls one ([`RustlsConnector`], feature `rustls`) or the embedding
//! app's platform client over FFI. Plain `ws://` is refused unless the caller explicitly allows it and the
//! host is a loopback address (local test servers); a phone must never send its tunnel traffic in the clear
//! over a network.

mod connector;
#[cfg(feature = "rustls")]
mod rustls_ws;

use std::net::IpAddr;
use std::time::Duration;

pub use connector::{BoxFuture, ConnectRequest, Opened, WebSocketConnection, WebSocketConnector};
#[cfg(feature = "rustls")]
pub use rustls_ws::RustlsConnector;

/// The WebSocket subprotocol every hybrid tunnel connection must request and the server must select.
pub const SUBPROTOCOL: &str = "fido.cable";

/// Largest message accepted from the tunnel (Chromium's desktop limit is 1 MiB; CTAP messages are KiBs).
pub const MAX_MESSAGE: usize = 1 << 20;

/// TLS and transport-security options for tunnel connections.
#[derive(Debug, Clone, Default)]
pub struct TlsOptions {
    /// Allow plain `ws://` — only honoured for loopback hosts (127.0.0.0/8, ::1, `localhost`).
    pub allow_insecure_loopback: bool,
    /// Extra trusted root certificates (DER), e.g. a self-hosted tunnel's private CA or a test certificate.
    pub extra_roots_der: Vec<Vec<u8>>,
}

/// What went wrong at the WebSocket edge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WsError {
    /// The URL is not a usable ws/wss URL.
    #[error("bad tunnel URL {0}")]
    BadUrl(String),
    /// Plain ws:// without permission or for a non-loopback host.
    #[error("insecure URL refused: {0}")]
    Insecure(String),
    /// TCP/TLS/upgrade failure.
    #[error("{0}")]
    Connect(String),
    /// The server answered the upgrade with an HTTP status.
    #[error("HTTP {0}")]
    Rejected(u16),
    /// The server did not select `fido.cable`.
    #[error("subprotocol fido.cable not selected")]
    Subprotocol,
    /// Timed out.
    #[error("timed out")]
    Timeout,
    /// A non-binary data frame arrived.
    #[error("non-binary frame")]
    TextFrame,
    /// A message larger than [`MAX_MESSAGE`] arrived.
    #[error("oversized message")]
    Oversized,
    /// Any other WebSocket protocol failure.
    #[error("{0}")]
    Protocol(String),
}

/// An open tunnel connection carrying binary messages.
pub struct TunnelSocket {
    conn: Box<dyn WebSocketConnection>,
}

/// The HTTP response headers of a successful upgrade, lower-cased names.
pub type UpgradeHeaders = Vec<(String, String)>;

/// Checks scheme and loopback rules for `url`.
pub fn check_url(url: &str, tls: &TlsOptions) -> Result<(), WsError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| WsError::BadUrl(url.to_string()))?;
    match scheme.to_ascii_lowercase().as_str() {
        "wss" => Ok(()),
        "ws" => {
            let host = host_of(rest).ok_or_else(|| WsError::BadUrl(url.to_string()))?;
            if tls.allow_insecure_loopback && is_loopback(&host) {
                Ok(())
            } else {
                Err(WsError::Insecure(url.to_string()))
            }
        }
        _ => Err(WsError::BadUrl(url.to_string())),
    }
}

/// The `Origin` a tunnel connection to `url` sends: the URL's own origin, `scheme://host[:port]` (port only
/// when not the scheme's default), e.g. `wss://cable.ua5v.com`. Chromium opens its tunnel WebSockets with
/// `url::Origin::Create(url)` as origin, and webauthn-rs sends `Origin: wss://<host>` from both roles;
/// a tunnel service may refuse an upgrade without one.
pub fn origin_of(url: &str) -> Result<String, WsError> {
    let bad = || WsError::BadUrl(url.to_string());
    let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "wss" => "443",
        "ws" => "80",
        _ => return Err(bad()),
    };
    let authority = rest.split(['/', '?', '#']).next().ok_or_else(bad)?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']').ok_or_else(bad)?;
            (format!("[{h}]"), after.strip_prefix(':'))
        }
        None => match authority.split_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        },
    };
    if host.is_empty() || host == "[]" {
        return Err(bad());
    }
    let host = host.to_ascii_lowercase();
    Ok(match port.filter(|p| !p.is_empty() && *p != default_port) {
        Some(p) => format!("{scheme}://{host}:{p}"),
        None => format!("{scheme}://{host}"),
    })
}

fn host_of(rest: &str) -> Option<String> {
    let authority = rest.split(['/', '?', '#']).next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h.to_string());
    }
    Some(authority.split(':').next()?.to_string())
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl TunnelSocket {
    /// Opens `url` with the built-in rustls client ([`TunnelSocket::open`] with [`RustlsConnector`]).
    #[cfg(feature = "rustls")]
    pub async fn connect(
        url: &str,
        extra_headers: &[(&str, String)],
        tls: &TlsOptions,
        timeout: Duration,
    ) -> Result<(Self, UpgradeHeaders), WsError> {
        Self::open(&RustlsConnector, url, extra_headers, tls, timeout).await
    }

    /// Opens `url` through `connector` with subprotocol `fido.cable`, `Origin` ([`origin_of`], unless
    /// `extra_headers` has one) and the extra request headers, within `timeout`. Returns the socket and the
    /// upgrade response headers (names lower-cased). The URL policy, the `Origin` header and the
    /// subprotocol check are applied here, not left to the connector.
    pub async fn open(
        connector: &dyn WebSocketConnector,
        url: &str,
        extra_headers: &[(&str, String)],
        tls: &TlsOptions,
        timeout: Duration,
    ) -> Result<(Self, UpgradeHeaders), WsError> {
        check_url(url, tls)?;
        let mut request_headers: Vec<(&str, String)> = Vec::with_capacity(extra_headers.len() + 1);
        if !extra_headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("origin"))
        {
            request_headers.push(("Origin", origin_of(url)?));
        }
        request_headers.extend(extra_headers.iter().cloned());
        let request = ConnectRequest {
            url,
            subprotocol: SUBPROTOCOL,
            headers: &request_headers,
            tls,
        };
        let (conn, mut headers) = match tokio::time::timeout(timeout, connector.connect(request)).await {
            Err(_) => return Err(WsError::Timeout),
            Ok(result) => result?,
        };
        for (name, _) in headers.iter_mut() {
            name.make_ascii_lowercase();
        }
        // RFC 6455 §4.1: the server must select one of the offered subprotocols; a platform client may not
        // check this itself.
        let selected = header(&headers, "sec-websocket-protocol").map(str::trim);
        if selected != Some(SUBPROTOCOL) {
            return Err(WsError::Subprotocol);
        }
        Ok((Self { conn }, headers))
    }

    /// Sends one binary message within `timeout`.
    pub async fn send(&mut self, data: Vec<u8>, timeout: Duration) -> Result<(), WsError> {
        match tokio::time::timeout(timeout, self.conn.send(data)).await {
            Err(_) => Err(WsError::Timeout),
            Ok(result) => result,
        }
    }

    /// Receives the next binary message within `timeout`; `Ok(None)` when the connection closed.
    /// Pings and pongs are handled underneath; a text frame is an error (Chromium closes on it too).
    pub async fn recv(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, WsError> {
        match tokio::time::timeout(timeout, self.conn.recv()).await {
            Err(_) => Err(WsError::Timeout),
            Ok(Ok(Some(message))) if message.len() > MAX_MESSAGE => Err(WsError::Oversized),
            Ok(result) => result,
        }
    }

    /// Closes the connection politely (best effort, bounded by `timeout`).
    pub async fn close(mut self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.conn.close()).await;
    }
}

/// Finds a header (name lower-case) in upgrade response headers.
pub fn header<'a>(headers: &'a UpgradeHeaders, name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_is_the_urls_own_origin() {
        let ok = |u: &str| origin_of(u).unwrap();
        assert_eq!(ok("wss://cable.ua5v.com/cable/new/00ff"), "wss://cable.ua5v.com");
        assert_eq!(
            ok("WSS://Cable.Auth.COM:443/cable/connect/a/b"),
            "wss://cable.auth.com"
        );
        assert_eq!(
            ok("wss://tunnel.example.net:8443/x?y#z"),
            "wss://tunnel.example.net:8443"
        );
        assert_eq!(ok("ws://127.0.0.1:8080/cable/new/00"), "ws://127.0.0.1:8080");
        assert_eq!(ok("ws://localhost:80"), "ws://localhost");
        assert_eq!(ok("ws://[::1]:9/x"), "ws://[::1]:9");
        assert_eq!(ok("wss://user@host.example/x"), "wss://host.example");
        for bad in ["http://x", "wss://", "nonsense", "ws://[::1/x", "wss:///path"] {
            assert!(matches!(origin_of(bad), Err(WsError::BadUrl(_))), "{bad}");
        }
    }

    /// Records what each connect was asked for, then fails it.
    #[derive(Debug, Default)]
    struct Recording(std::sync::Mutex<Vec<Vec<(String, String)>>>);

    impl WebSocketConnector for Recording {
        fn connect<'a>(&'a self, request: ConnectRequest<'a>) -> BoxFuture<'a, Result<Opened, WsError>> {
            let headers = request
                .headers
                .iter()
                .map(|(n, v)| ((*n).to_string(), v.clone()))
                .collect();
            self.0.lock().unwrap().push(headers);
            Box::pin(async { Err(WsError::Rejected(418)) })
        }
    }

    #[tokio::test]
    async fn every_connector_is_given_the_origin_header() {
        let rec = Recording::default();
        let tls = TlsOptions::default();
        let t = Duration::from_secs(5);
        let url = "wss://cable.wufkweyy3uaxb.com/cable/new/00112233445566778899aabbccddeeff";
        let err = TunnelSocket::open(&rec, url, &[], &tls, t).await.err();
        assert_eq!(err, Some(WsError::Rejected(418)));
        let payload = ("X-caBLE-Client-Payload", "a1".to_string());
        let _ = TunnelSocket::open(&rec, url, std::slice::from_ref(&payload), &tls, t).await;
        // A caller's own Origin is kept, not doubled.
        let own = ("origin", "wss://elsewhere.example".to_string());
        let _ = TunnelSocket::open(&rec, url, std::slice::from_ref(&own), &tls, t).await;
        let seen = rec.0.lock().unwrap().clone();
        let origin = ("Origin".to_string(), "wss://cable.wufkweyy3uaxb.com".to_string());
        assert_eq!(seen[0], vec![origin.clone()]);
        assert_eq!(
            seen[1],
            vec![origin, ("X-caBLE-Client-Payload".into(), "a1".into())]
        );
        assert_eq!(seen[2], vec![("origin".into(), "wss://elsewhere.example".into())]);
    }

    #[test]
    fn url_rules() {
        let strict = TlsOptions::default();
        let lax = TlsOptions {
            allow_insecure_loopback: true,
            ..Default::default()
        };
        assert_eq!(check_url("wss://cable.ua5v.com", &strict), Ok(()));
        assert!(matches!(
            check_url("ws://127.0.0.1:8080", &strict),
            Err(WsError::Insecure(_))
        ));
        assert_eq!(check_url("ws://127.0.0.1:8080", &lax), Ok(()));
        assert_eq!(check_url("ws://[::1]:80/x", &lax), Ok(()));
        assert_eq!(check_url("ws://localhost", &lax), Ok(()));
        assert!(matches!(
            check_url("ws://10.0.0.1:8080", &lax),
            Err(WsError::Insecure(_))
        ));
        assert!(matches!(
            check_url("ws://127.0.0.1.evil.com", &lax),
            Err(WsError::Insecure(_))
        ));
        assert!(matches!(
            check_url("http://127.0.0.1", &lax),
            Err(WsError::BadUrl(_))
        ));
        assert!(matches!(check_url("127.0.0.1", &lax), Err(WsError::BadUrl(_))));
    }
}
