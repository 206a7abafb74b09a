//! WebSocket client edge to a tunnel service: `wss://` over rustls with the webpki roots, subprotocol
//! `fido.cable`, binary frames only.
//!
//! Plain `ws://` is refused unless the caller explicitly allows it and the host is a loopback address (local
//! test servers); a phone must never send its tunnel traffic in the clear over a network.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsLibError, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

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
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
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

fn client_config(tls: &TlsOptions) -> Result<Arc<rustls::ClientConfig>, WsError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for der in &tls.extra_roots_der {
        roots
            .add(rustls::pki_types::CertificateDer::from(der.clone()))
            .map_err(|e| WsError::Connect(format!("extra root certificate: {e}")))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| WsError::Connect(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

impl TunnelSocket {
    /// Opens `url` with subprotocol `fido.cable` and the extra request headers, within `timeout`.
    /// Returns the socket and the upgrade response headers.
    pub async fn connect(
        url: &str,
        extra_headers: &[(&str, String)],
        tls: &TlsOptions,
        timeout: Duration,
    ) -> Result<(Self, UpgradeHeaders), WsError> {
        check_url(url, tls)?;
        let mut request = url
            .into_client_request()
            .map_err(|e| WsError::BadUrl(format!("{url}: {e}")))?;
        let headers = request.headers_mut();
        headers.insert("sec-websocket-protocol", HeaderValue::from_static(SUBPROTOCOL));
        for (name, value) in extra_headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| WsError::BadUrl(e.to_string()))?;
            let value = HeaderValue::from_str(value).map_err(|e| WsError::BadUrl(e.to_string()))?;
            headers.insert(name, value);
        }
        let connector = if url.starts_with("wss") || url.starts_with("WSS") {
            Connector::Rustls(client_config(tls)?)
        } else {
            Connector::Plain
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let fut =
            tokio_tungstenite::connect_async_tls_with_config(request, Some(config), true, Some(connector));
        let (ws, response) = match tokio::time::timeout(timeout, fut).await {
            Err(_) => return Err(WsError::Timeout),
            Ok(Err(WsLibError::Http(resp))) => return Err(WsError::Rejected(resp.status().as_u16())),
            Ok(Err(WsLibError::Protocol(ProtocolError::SecWebSocketSubProtocolError(
                SubProtocolError::NoSubProtocol | SubProtocolError::InvalidSubProtocol,
            )))) => return Err(WsError::Subprotocol),
            Ok(Err(e)) => return Err(WsError::Connect(e.to_string())),
            Ok(Ok(pair)) => pair,
        };
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok((Self { ws }, headers))
    }

    /// Sends one binary message within `timeout`.
    pub async fn send(&mut self, data: Vec<u8>, timeout: Duration) -> Result<(), WsError> {
        match tokio::time::timeout(timeout, self.ws.send(Message::binary(data))).await {
            Err(_) => Err(WsError::Timeout),
            Ok(Err(e)) => Err(WsError::Protocol(e.to_string())),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Receives the next binary message within `timeout`; `Ok(None)` when the connection closed.
    /// Pings and pongs are handled transparently; a text frame is an error (Chromium closes on it too).
    pub async fn recv(&mut self, timeout: Duration) -> Result<Option<Vec<u8>>, WsError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let next = match tokio::time::timeout_at(deadline, self.ws.next()).await {
                Err(_) => return Err(WsError::Timeout),
                Ok(next) => next,
            };
            match next {
                None => return Ok(None),
                Some(Ok(Message::Binary(b))) => return Ok(Some(b.to_vec())),
                Some(Ok(Message::Text(_))) => return Err(WsError::TextFrame),
                Some(Ok(Message::Close(_))) => return Ok(None),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => continue,
                Some(Err(WsLibError::ConnectionClosed | WsLibError::AlreadyClosed)) => return Ok(None),
                Some(Err(WsLibError::Protocol(ProtocolError::ResetWithoutClosingHandshake))) => {
                    return Ok(None);
                }
                Some(Err(WsLibError::Io(e))) if is_disconnect(&e) => return Ok(None),
                Some(Err(WsLibError::Capacity(CapacityError::MessageTooLong { .. }))) => {
                    return Err(WsError::Oversized);
                }
                Some(Err(e)) => return Err(WsError::Protocol(e.to_string())),
            }
        }
    }

    /// Closes the connection politely (best effort, bounded by `timeout`).
    pub async fn close(mut self, timeout: Duration) {
        let _ = tokio::time::timeout(timeout, self.ws.close(None)).await;
    }
}

fn is_disconnect(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
    )
}

/// Finds a header (name lower-case) in upgrade response headers.
pub fn header<'a>(headers: &'a UpgradeHeaders, name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

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
