//! Fair admission (issue 14 point 1): one address holding idle sockets and opening tunnels in a loop must
//! not keep another address from completing ceremonies. Loopback has the whole 127/8, so the attacker
//! binds its sockets to 127.0.0.2 while the honest client uses 127.0.0.1.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use futures_util::SinkExt;
use tandem_tunnel::{ClientLimits, Limits, RunningServer};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

const ATTACKER: &str = "127.0.0.2";

/// A TCP connection to the server from `source`.
async fn tcp_from(server: &RunningServer, source: &str) -> std::io::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source.parse().expect("ip"), 0))?;
    socket.connect(server.local_addr()).await
}

/// Opens `/cable/new/<random>` from `source`: the socket, or the HTTP status (or `None` when the server
/// dropped the connection without answering).
async fn new_tunnel_from(
    server: &RunningServer,
    source: &str,
) -> Result<WebSocketStream<MaybeTlsStream<TcpStream>>, Option<StatusCode>> {
    new_tunnel_forwarded(server, source, None).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_address_does_not_lock_out_another() {
    let limits = Limits {
        // A small shared pool the attacker alone could fill: it may hold more than the pool, and connect
        // as fast as it likes, so only eviction keeps the honest client in.
        max_pending_handshakes: 16,
        per_client: ClientLimits {
            max_pending_handshakes: 64,
            max_tunnels: 20,
            accept_rate: 100_000,
            accept_burst: 100_000,
            ..ClientLimits::default()
        },
        ..Limits::default()
    };
    let server = start(limits).await;
    let stop = tokio::sync::watch::channel(false);

    // The attacker: idle sockets that never send a request head, refilled as the server drops them,
    // plus tunnels opened in a loop and held.
    let attacker = {
        let server = &server;
        let mut stop = stop.1.clone();
        async move {
            let mut idle = Vec::new();
            let mut tunnels = Vec::new();
            let mut refused_tunnels = 0u32;
            // Tunnels first, as many as it can get: the per-address cap answers 503 past its share.
            for _ in 0..25 {
                match new_tunnel_from(server, ATTACKER).await {
                    Ok(ws) => tunnels.push(ws),
                    Err(status) => {
                        assert_eq!(status, Some(StatusCode::SERVICE_UNAVAILABLE));
                        refused_tunnels += 1;
                    }
                }
            }
            // Then idle sockets that never send a request head, refilled as the server drops them, and
            // more tunnel attempts among them (its own idle sockets crowd those out).
            while !*stop.borrow() {
                for _ in 0..32 {
                    if let Ok(tcp) = tcp_from(server, ATTACKER).await {
                        idle.push(tcp);
                    }
                }
                if let Ok(ws) = new_tunnel_from(server, ATTACKER).await {
                    tunnels.push(ws);
                }
                // Keep the descriptor count bounded: old idle sockets go, new ones replace them.
                if idle.len() > 600 {
                    idle.drain(..300);
                }
                tokio::select! {
                    _ = stop.changed() => {}
                    _ = tokio::time::sleep(Duration::from_millis(5)) => {}
                }
            }
            (tunnels.len(), refused_tunnels)
        }
    };

    let honest = async {
        // Let the attacker take its tunnels and fill the pool first.
        tokio::time::sleep(Duration::from_millis(500)).await;
        let mut took = Vec::new();
        for round in 0..20u8 {
            let started = Instant::now();
            honest_exchange(&server, round).await;
            took.push(started.elapsed());
        }
        let _ = stop.0.send(true);
        took
    };

    let ((held, refused), mut took) = tokio::join!(attacker, honest);
    took.sort();
    let stats = server.stats();
    println!(
        "honest exchanges: 20/20; slowest {:?}, median {:?}; attacker held {held} tunnels, refused {refused}; \
         evicted {}, refused connections {}",
        took[took.len() - 1],
        took[took.len() / 2],
        stats.connections_evicted,
        stats.connections_refused,
    );
    // The attacker got its share of tunnels and no more, and its handshakes gave way to the honest client.
    assert!(held <= 20, "attacker held {held} tunnels");
    assert!(
        refused > 0,
        "the per-address tunnel cap never refused the attacker"
    );
    assert!(stats.connections_evicted > 0, "{stats:?}");
}

#[tokio::test]
async fn a_silent_socket_is_dropped_at_the_header_deadline() {
    let limits = Limits {
        header_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let server = start(limits).await;
    let mut silent = tcp_from(&server, ATTACKER).await.expect("connect");
    wait_stats(&server, |s| s.pending_handshakes == 1).await;
    // Well before `handshake_timeout` (10 s), the server lets go of the silent socket.
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(
        Duration::from_secs(5),
        tokio::io::AsyncReadExt::read(&mut silent, &mut buf),
    )
    .await
    .expect("silent socket kept past the header deadline");
    assert!(matches!(read, Ok(0) | Err(_)));
    wait_stats(&server, |s| s.pending_handshakes == 0).await;
    // A client that sends its head in time is unaffected.
    let (mut ws, _) = open(&server, &format!("/cable/new/{}", tunnel_id()), &[SP])
        .await
        .expect("honest upgrade");
    ws.send(Message::Ping(Vec::new().into())).await.expect("ping");
}

/// `/cable/new/<random>` from `source`, with an `X-Forwarded-For` header if given: the socket, or the HTTP
/// status (`None` when the server dropped the connection without answering).
async fn new_tunnel_forwarded(
    server: &RunningServer,
    source: &str,
    forwarded_for: Option<&str>,
) -> Result<WebSocketStream<MaybeTlsStream<TcpStream>>, Option<StatusCode>> {
    let tcp = tcp_from(server, source).await.map_err(|_| None)?;
    let url = format!("{}/cable/new/{}", server.ws_url(), tunnel_id());
    let mut req = url.into_client_request().expect("request");
    let headers = req.headers_mut();
    headers.insert("Sec-WebSocket-Protocol", "fido.cable".parse().expect("header"));
    if let Some(hops) = forwarded_for {
        headers.insert("X-Forwarded-For", hops.parse().expect("header"));
    }
    match tokio::time::timeout(
        WAIT,
        tokio_tungstenite::client_async(req, MaybeTlsStream::Plain(tcp)),
    )
    .await
    {
        Ok(Ok((ws, _))) => Ok(ws),
        Ok(Err(WsError::Http(resp))) => Err(Some(resp.status())),
        Ok(Err(_)) | Err(_) => Err(None),
    }
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_share() {
    let mut config = tandem_tunnel::ServerConfig::plain("127.0.0.1:0".parse().expect("addr"));
    config.limits.per_client.max_tunnels = 2;
    // 127.0.0.1 plays the proxy; 127.0.0.2 is a direct client whose forwarded header must not count.
    config.trusted_proxies = vec!["127.0.0.1".parse().expect("net")];
    let server = tandem_tunnel::TunnelServer::bind(config).await.expect("bind");
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(
            new_tunnel_forwarded(&server, "127.0.0.1", Some("198.51.100.1"))
                .await
                .expect("a's share"),
        );
    }
    assert_eq!(
        new_tunnel_forwarded(&server, "127.0.0.1", Some("198.51.100.1"))
            .await
            .err(),
        Some(Some(StatusCode::SERVICE_UNAVAILABLE))
    );
    // Another client behind the same proxy is unaffected; a forged entry left of it changes nothing.
    for _ in 0..2 {
        held.push(
            new_tunnel_forwarded(&server, "127.0.0.1", Some("198.51.100.1, 198.51.100.2"))
                .await
                .expect("b's share"),
        );
    }
    // An untrusted peer is itself, whatever it claims.
    for i in 0..2 {
        held.push(
            new_tunnel_forwarded(&server, ATTACKER, Some(&format!("203.0.113.{i}")))
                .await
                .expect("direct share"),
        );
    }
    assert_eq!(
        new_tunnel_forwarded(&server, ATTACKER, Some("203.0.113.99"))
            .await
            .err(),
        Some(Some(StatusCode::SERVICE_UNAVAILABLE))
    );
    assert_eq!(server.stats().tunnels, 6);
}
