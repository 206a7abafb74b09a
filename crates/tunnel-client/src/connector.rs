//! The seam between the tunnel protocol and whoever carries its WebSocket: the built-in rustls client
//! (feature `rustls`) or the embedding app's own client (OkHttp on Android, URLSession on iOS) through FFI.
//!
//! Implementations only move bytes. [`crate::TunnelSocket`] wraps every connection and applies the rules
//! that must not depend on the implementation: URL policy, time limits, the subprotocol check and the
//! message size limit.

use std::fmt::Debug;
use std::future::Future;
use std::pin::Pin;

use crate::{TlsOptions, UpgradeHeaders, WsError};

/// A boxed, sendable future (what the object-safe traits below return).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An open connection and the upgrade response headers (names in any case; [`crate::TunnelSocket`] lower-cases them).
pub type Opened = (Box<dyn WebSocketConnection>, UpgradeHeaders);

/// What a connector is asked to open.
#[derive(Debug, Clone, Copy)]
pub struct ConnectRequest<'a> {
    /// `ws://` or `wss://` URL, already checked against the URL policy.
    pub url: &'a str,
    /// Subprotocol to request (always `fido.cable`).
    pub subprotocol: &'a str,
    /// Extra request headers (name, value).
    pub headers: &'a [(&'a str, String)],
    /// Transport-security options; a platform connector uses the platform's trust store instead of
    /// `extra_roots_der`.
    pub tls: &'a TlsOptions,
}

/// Opens WebSocket connections.
pub trait WebSocketConnector: Send + Sync + Debug {
    /// Performs the upgrade. Returns the connection and the response headers (names in any case).
    /// A non-101 answer must be [`WsError::Rejected`] with the HTTP status.
    fn connect<'a>(&'a self, request: ConnectRequest<'a>) -> BoxFuture<'a, Result<Opened, WsError>>;
}

/// One open WebSocket carrying binary messages. Dropping it must release the connection.
pub trait WebSocketConnection: Send {
    /// Sends one binary message.
    fn send(&mut self, data: Vec<u8>) -> BoxFuture<'_, Result<(), WsError>>;
    /// The next binary message; `Ok(None)` once the peer closed. Pings/pongs are handled underneath;
    /// a text message is [`WsError::TextFrame`].
    fn recv(&mut self) -> BoxFuture<'_, Result<Option<Vec<u8>>, WsError>>;
    /// Starts or completes a polite close (best effort).
    fn close(&mut self) -> BoxFuture<'_, ()>;
}
