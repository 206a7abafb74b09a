//! The tunnel's WebSocket through the platform's own client: foreign traits the app implements (OkHttp on
//! Android, `URLSessionWebSocketTask` on iOS) and the adapter that plugs them into the phone driver.
//!
//! The library carries no TLS stack of its own: the platform's TLS, trust store (including a self-hosted
//! tunnel's private CA, configured the platform's way), proxies and network policy apply, and the stripped
//! library stays about 1 MB smaller. The rules that must not depend on the implementation (URL policy, time
//! limits, subprotocol selection, message size) are applied on the Rust side for every connection.

use std::fmt;
use std::sync::Arc;

use tandem_phone::ws::{BoxFuture, ConnectRequest, Opened, WebSocketConnection, WebSocketConnector, WsError};

/// One HTTP header of the WebSocket upgrade request or response.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct HttpHeader {
    /// Header name (any case).
    pub name: String,
    /// Header value.
    pub value: String,
}

/// Why the platform WebSocket failed: `WebSocketException` (Kotlin) / `WebSocketError` (Swift).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, uniffi::Error)]
pub enum WebSocketError {
    /// The server answered the upgrade with this HTTP status instead of 101.
    #[error("the server answered HTTP {status}")]
    Rejected {
        /// The HTTP status code.
        status: u16,
    },
    /// A text message arrived (the tunnel carries binary messages only).
    #[error("a text message arrived")]
    TextMessage,
    /// Anything else: DNS, TCP, TLS (untrusted certificate), a reset connection.
    #[error("{reason}")]
    Failed {
        /// The platform's explanation.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for WebSocketError {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        WebSocketError::Failed {
            reason: format!("WebSocket client threw: {}", e.reason),
        }
    }
}

impl From<WebSocketError> for WsError {
    fn from(e: WebSocketError) -> Self {
        match e {
            WebSocketError::Rejected { status } => WsError::Rejected(status),
            WebSocketError::TextMessage => WsError::TextFrame,
            WebSocketError::Failed { reason } => WsError::Connect(reason),
        }
    }
}

/// Opens WebSocket connections for the hybrid tunnel with the platform's client.
#[uniffi::export(foreign)]
pub trait WebSocketClient: Send + Sync {
    /// Starts connecting to `url` (`wss://`, or `ws://` to a loopback test server), offering `subprotocol` in
    /// `Sec-WebSocket-Protocol` and sending `headers`. Returns at once, without blocking;
    /// [`WebSocket::opened`] waits for the server's answer.
    ///
    /// (Not `open`: uniffi escapes that Swift keyword in the generated C header too, which breaks it.)
    fn connect(
        &self,
        url: String,
        subprotocol: String,
        headers: Vec<HttpHeader>,
    ) -> Result<Arc<dyn WebSocket>, WebSocketError>;
}

/// One WebSocket, from the upgrade request on.
#[uniffi::export(foreign)]
#[async_trait::async_trait]
pub trait WebSocket: Send + Sync {
    /// Waits until the server accepted the upgrade and returns the headers of its 101 response (the tunnel
    /// sends the routing ID in one); throws `Rejected` with the status if it answered anything else.
    async fn opened(&self) -> Result<Vec<HttpHeader>, WebSocketError>;
    /// Sends one binary message.
    async fn send(&self, data: Vec<u8>) -> Result<(), WebSocketError>;
    /// Waits for the next binary message; null/nil once the server closed the connection or it dropped
    /// after a clean end. Throws `TextMessage` for a text message.
    async fn receive(&self) -> Result<Option<Vec<u8>>, WebSocketError>;
    /// Closes the connection (normal closure) and releases it; must not block. (Not `close`: that name is
    /// taken by `AutoCloseable` in the generated Kotlin.)
    fn disconnect(&self);
}

/// The phone driver's connector over a foreign [`WebSocketClient`].
pub(crate) struct PlatformConnector(pub(crate) Arc<dyn WebSocketClient>);

impl fmt::Debug for PlatformConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PlatformConnector")
    }
}

impl WebSocketConnector for PlatformConnector {
    fn connect<'a>(&'a self, request: ConnectRequest<'a>) -> BoxFuture<'a, Result<Opened, WsError>> {
        Box::pin(async move {
            let headers = request
                .headers
                .iter()
                .map(|(name, value)| HttpHeader {
                    name: (*name).to_owned(),
                    value: value.clone(),
                })
                .collect();
            let socket = self
                .0
                .connect(request.url.to_owned(), request.subprotocol.to_owned(), headers)?;
            // Dropped (and so closed) if the upgrade fails or the caller's time limit cancels this future.
            let connection = PlatformConnection(socket);
            let response = connection
                .0
                .opened()
                .await?
                .into_iter()
                .map(|h| (h.name, h.value))
                .collect();
            let connection: Box<dyn WebSocketConnection> = Box::new(connection);
            Ok((connection, response))
        })
    }
}

/// Closes the platform socket when the session lets go of it, whichever way the session ended.
struct PlatformConnection(Arc<dyn WebSocket>);

impl Drop for PlatformConnection {
    fn drop(&mut self) {
        self.0.disconnect();
    }
}

impl WebSocketConnection for PlatformConnection {
    fn send(&mut self, data: Vec<u8>) -> BoxFuture<'_, Result<(), WsError>> {
        Box::pin(async move {
            self.0.send(data).await.map_err(|e| match e {
                // The session maps a send failure on a live tunnel to "tunnel closed".
                WebSocketError::Failed { reason } => WsError::Protocol(reason),
                other => other.into(),
            })
        })
    }

    fn recv(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, WsError>> {
        Box::pin(async move {
            self.0.receive().await.map_err(|e| match e {
                WebSocketError::Failed { reason } => WsError::Protocol(reason),
                other => other.into(),
            })
        })
    }

    fn close(&mut self) -> BoxFuture<'_, ()> {
        // `disconnect` runs once, in Drop, which follows every close (a second call would make OkHttp
        // cancel a connection whose close frame is still queued).
        Box::pin(async {})
    }
}
