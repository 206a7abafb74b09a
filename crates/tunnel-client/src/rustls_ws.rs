//! The built-in connector: tokio-tungstenite over rustls with the webpki roots (plus any extra roots).
//!
//! Desktop peers, the CLI and tests use it. The mobile library leaves it out (about 1 MB of TLS code and root
//! certificates) and uses the platform's WebSocket client instead, which also brings the platform's trust
//! store and proxy settings.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::error::{CapacityError, ProtocolError, SubProtocolError};
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsLibError, Message};
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};

use crate::connector::{BoxFuture, ConnectRequest, Opened, WebSocketConnection, WebSocketConnector};
use crate::{MAX_MESSAGE, TlsOptions, WsError};

/// tokio-tungstenite + rustls (ring provider; TLS 1.2 and 1.3 as rustls' safe defaults).
#[derive(Debug, Clone, Copy, Default)]
pub struct RustlsConnector;

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

impl RustlsConnector {
    async fn open(request: ConnectRequest<'_>) -> Result<Opened, WsError> {
        let url = request.url;
        let mut http = url
            .into_client_request()
            .map_err(|e| WsError::BadUrl(format!("{url}: {e}")))?;
        let headers = http.headers_mut();
        let protocol =
            HeaderValue::from_str(request.subprotocol).map_err(|e| WsError::BadUrl(e.to_string()))?;
        headers.insert("sec-websocket-protocol", protocol);
        for (name, value) in request.headers {
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|e| WsError::BadUrl(e.to_string()))?;
            let value = HeaderValue::from_str(value).map_err(|e| WsError::BadUrl(e.to_string()))?;
            headers.insert(name, value);
        }
        let connector = if url.get(..4).is_some_and(|s| s.eq_ignore_ascii_case("wss:")) {
            Connector::Rustls(client_config(request.tls)?)
        } else {
            Connector::Plain
        };
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        let (ws, response) =
            match tokio_tungstenite::connect_async_tls_with_config(http, Some(config), true, Some(connector))
                .await
            {
                Err(WsLibError::Http(resp)) => return Err(WsError::Rejected(resp.status().as_u16())),
                Err(WsLibError::Protocol(ProtocolError::SecWebSocketSubProtocolError(
                    SubProtocolError::NoSubProtocol | SubProtocolError::InvalidSubProtocol,
                ))) => return Err(WsError::Subprotocol),
                Err(e) => return Err(WsError::Connect(e.to_string())),
                Ok(pair) => pair,
            };
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        Ok((Box::new(TungsteniteConnection { ws }), headers))
    }
}

impl WebSocketConnector for RustlsConnector {
    fn connect<'a>(&'a self, request: ConnectRequest<'a>) -> BoxFuture<'a, Result<Opened, WsError>> {
        Box::pin(Self::open(request))
    }
}

struct TungsteniteConnection {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl TungsteniteConnection {
    async fn next_binary(&mut self) -> Result<Option<Vec<u8>>, WsError> {
        loop {
            match self.ws.next().await {
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
}

impl WebSocketConnection for TungsteniteConnection {
    fn send(&mut self, data: Vec<u8>) -> BoxFuture<'_, Result<(), WsError>> {
        Box::pin(async move {
            self.ws
                .send(Message::binary(data))
                .await
                .map_err(|e| WsError::Protocol(e.to_string()))
        })
    }

    fn recv(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, WsError>> {
        Box::pin(self.next_binary())
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            let _ = self.ws.close(None).await;
        })
    }
}

fn is_disconnect(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tokio::net::TcpListener;
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};

    use crate::{TlsOptions, TunnelSocket};

    /// The built-in client really puts `Origin` on the wire (a one-shot server captures the request).
    #[tokio::test]
    #[allow(clippy::result_large_err)] // tungstenite's handshake callback returns its HTTP error response
    async fn origin_reaches_the_server() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut origin = None;
            let callback = |req: &Request, mut resp: Response| {
                origin = req
                    .headers()
                    .get("origin")
                    .map(|v| v.to_str().unwrap().to_string());
                resp.headers_mut()
                    .insert("sec-websocket-protocol", "fido.cable".parse().unwrap());
                Ok(resp)
            };
            let ws = tokio_tungstenite::accept_hdr_async(tcp, callback).await.unwrap();
            drop(ws);
            origin
        });
        let tls = TlsOptions {
            allow_insecure_loopback: true,
            ..Default::default()
        };
        let url = format!("ws://127.0.0.1:{port}/cable/new/00");
        let (socket, _) = TunnelSocket::connect(&url, &[], &tls, Duration::from_secs(10))
            .await
            .expect("upgrade");
        socket.close(Duration::from_secs(1)).await;
        assert_eq!(
            server.await.unwrap().as_deref(),
            Some(format!("ws://127.0.0.1:{port}").as_str())
        );
    }
}
