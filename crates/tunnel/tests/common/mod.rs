//! Loopback client helpers shared by the integration tests.
#![allow(dead_code)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tandem_tunnel::{Limits, RunningServer, ServerConfig, TunnelServer};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::handshake::client::Response;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub(crate) type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Upper bound for any single wait in the tests: generous, only there so a bug hangs no CI run.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

pub(crate) async fn start(limits: Limits) -> RunningServer {
    // Logs on demand (RUST_LOG=tandem_tunnel=debug); ignore "already set" from other tests.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut config = ServerConfig::plain("127.0.0.1:0".parse().unwrap());
    config.instance_id = 7;
    config.limits = limits;
    TunnelServer::bind(config).await.expect("bind")
}

/// Opens a WebSocket at `path` with the given extra headers; `Err(status)` when the server refused.
pub(crate) async fn open(
    server: &RunningServer,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<(Client, Response), StatusCode> {
    let url = format!("{}{}", server.ws_url(), path);
    let mut req = url.into_client_request().unwrap();
    for (k, v) in headers {
        req.headers_mut().append(
            tokio_tungstenite::tungstenite::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    let tcp = TcpStream::connect(server.local_addr()).await.unwrap();
    let fut = tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(tcp));
    match tokio::time::timeout(WAIT, fut).await.expect("handshake hung") {
        Ok(pair) => Ok(pair),
        Err(WsError::Http(resp)) => Err(resp.status()),
        Err(e) => panic!("unexpected handshake error: {e}"),
    }
}

pub(crate) const SP: (&str, &str) = ("Sec-WebSocket-Protocol", "fido.cable");

/// `/cable/new/<tunnel>`; returns the socket and the routing ID header.
pub(crate) async fn new_tunnel(server: &RunningServer, tunnel_hex: &str) -> (Client, String) {
    let (ws, resp) = open(server, &format!("/cable/new/{tunnel_hex}"), &[SP])
        .await
        .expect("new");
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "fido.cable"
    );
    let routing = resp
        .headers()
        .get("x-cable-routing-id")
        .expect("routing id header")
        .to_str()
        .unwrap();
    (ws, routing.to_string())
}

pub(crate) async fn connect(server: &RunningServer, routing: &str, tunnel_hex: &str) -> Client {
    let (ws, resp) = open(server, &format!("/cable/connect/{routing}/{tunnel_hex}"), &[SP])
        .await
        .expect("connect");
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "fido.cable"
    );
    ws
}

pub(crate) async fn send(ws: &mut Client, data: &[u8]) {
    ws.send(Message::Binary(Bytes::copy_from_slice(data)))
        .await
        .expect("send");
}

/// Next data message (pings/pongs skipped); panics on close or timeout.
pub(crate) async fn recv(ws: &mut Client) -> Vec<u8> {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("recv timed out");
        match msg {
            Some(Ok(Message::Binary(b))) => return b.to_vec(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a binary message, got {other:?}"),
        }
    }
}

/// Reads until the server closes; returns the close code (None if the connection just dropped).
pub(crate) async fn closed_with(ws: &mut Client) -> Option<CloseCode> {
    loop {
        let msg = tokio::time::timeout(WAIT, ws.next())
            .await
            .expect("close timed out");
        match msg {
            Some(Ok(Message::Close(frame))) => {
                // Keep polling so tungstenite sends our close reply and the handshake completes.
                while let Ok(Some(Ok(_))) = tokio::time::timeout(WAIT, ws.next()).await {}
                return frame.map(|f| f.code);
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return None,
        }
    }
}

/// A random 16-byte tunnel ID in hex.
pub(crate) fn tunnel_id() -> String {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).unwrap();
    hex::encode_upper(id)
}

/// Polls the server's stats until `pred` holds (bounded by [`WAIT`]).
pub(crate) async fn wait_stats(server: &RunningServer, pred: impl Fn(&tandem_tunnel::Stats) -> bool) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let s = server.stats();
        if pred(&s) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "stats never reached the expected state: {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A complete honest QR-style exchange from 127.0.0.1: create, join, relay both ways, close.
pub(crate) async fn honest_exchange(server: &RunningServer, round: u8) {
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(server, &tid).await;
    let mut desktop = connect(server, &routing, &tid).await;
    send(&mut desktop, &[round; 81]).await;
    assert_eq!(recv(&mut phone).await, vec![round; 81]);
    send(&mut phone, &[round ^ 0xff; 81]).await;
    send(&mut phone, &[round; 300]).await;
    assert_eq!(recv(&mut desktop).await, vec![round ^ 0xff; 81]);
    assert_eq!(recv(&mut desktop).await, vec![round; 300]);
    desktop.close(None).await.unwrap();
    assert_eq!(closed_with(&mut phone).await, Some(CloseCode::Normal));
}
