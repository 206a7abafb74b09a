//! Hostile clients (issue 5 item 6): each attack is a bounded loop on loopback that stops by itself.
//! The assertions are on outcomes the server reports (stats, close codes, refused connections) and on an
//! honest tunnel still relaying correctly while the attack runs.

mod common;

use std::time::Duration;

use common::*;
use futures_util::SinkExt;
use tandem_tunnel::{ClientLimits, Limits};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// Per-client limits with an accept rate no test loop reaches, for tests about other limits where one
/// loopback address plays every client.
fn unlimited_rate() -> ClientLimits {
    ClientLimits {
        accept_rate: 100_000,
        accept_burst: 100_000,
        ..ClientLimits::default()
    }
}

/// Waits until the server has closed a raw connection (EOF or reset), reading and discarding.
async fn server_closes(tcp: &mut TcpStream) {
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(WAIT, tcp.read(&mut buf))
            .await
            .expect("server kept the connection")
        {
            Ok(0) | Err(_) => return,
            Ok(_) => continue,
        }
    }
}

#[tokio::test]
async fn garbage_and_oversized_request_heads_are_dropped() {
    let server = start(Limits::default()).await;
    let attack = async {
        for i in 0..40u32 {
            let mut tcp = TcpStream::connect(server.local_addr()).await.unwrap();
            let mut junk = vec![0u8; 2048];
            getrandom::fill(&mut junk).unwrap();
            if i % 2 == 0 {
                // Random bytes instead of HTTP.
                let _ = tcp.write_all(&junk).await;
            } else {
                // A syntactically plausible request head that never ends (over tungstenite's 64 KiB cap).
                let _ = tcp.write_all(b"GET /cable/new/00 HTTP/1.1\r\nHost: x\r\n").await;
                for _ in 0..40 {
                    if tcp
                        .write_all(format!("X-Junk: {}\r\n", hex::encode(&junk[..1000])).as_bytes())
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
            server_closes(&mut tcp).await;
        }
    };
    let honest = async {
        for round in 0..10 {
            honest_exchange(&server, round).await;
        }
    };
    tokio::join!(attack, honest);
    wait_stats(&server, |s| s.pending_handshakes == 0 && s.tunnels == 0).await;
    assert!(server.stats().connections_accepted >= 60);
    server.shutdown().await;
}

#[tokio::test]
async fn half_open_clients_cannot_exhaust_handshake_slots_forever() {
    let limits = Limits {
        max_pending_handshakes: 8,
        handshake_timeout: Duration::from_millis(300),
        ..Limits::default()
    };
    let server = start(limits).await;
    // An honest tunnel established before the attack keeps working during it.
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    let mut desktop = connect(&server, &routing, &tid).await;

    // 40 silent connections: at most 8 get a handshake slot, the rest are dropped at accept.
    let mut silent = Vec::new();
    for _ in 0..40 {
        silent.push(TcpStream::connect(server.local_addr()).await.unwrap());
    }
    wait_stats(&server, |s| s.connections_refused >= 32).await;
    assert!(server.stats().pending_handshakes <= 8);
    for i in 0..5u8 {
        send(&mut desktop, &[i; 32]).await;
        assert_eq!(recv(&mut phone).await, vec![i; 32]);
    }
    // The handshake timeout frees every slot: the silent clients all end up closed.
    for tcp in &mut silent {
        server_closes(tcp).await;
    }
    wait_stats(&server, |s| s.pending_handshakes == 0).await;
    honest_exchange(&server, 1).await;
    drop((phone, desktop));
    server.shutdown().await;
}

#[tokio::test]
async fn flood_of_new_tunnels_is_capped() {
    let limits = Limits {
        max_tunnels: 50,
        // One address plays every client here: the global cap is under test, not the per-client rate.
        per_client: unlimited_rate(),
        ..Limits::default()
    };
    let server = start(limits).await;
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    let mut desktop = connect(&server, &routing, &tid).await;

    let mut held = Vec::new();
    let mut refused = 0;
    for _ in 0..200 {
        match open(&server, &format!("/cable/new/{}", tunnel_id()), &[SP]).await {
            Ok((ws, _)) => held.push(ws),
            Err(status) => {
                assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
                refused += 1;
            }
        }
        assert!(server.stats().tunnels <= 50);
    }
    assert_eq!(held.len(), 49, "the honest tunnel holds the 50th place");
    assert_eq!(refused, 151);
    // The honest tunnel still relays during the flood.
    send(&mut desktop, b"still here").await;
    assert_eq!(recv(&mut phone).await, b"still here");
    // Places come back when flood sockets go away.
    drop(held);
    wait_stats(&server, |s| s.tunnels == 1).await;
    honest_exchange(&server, 2).await;
    drop((phone, desktop));
    server.shutdown().await;
}

#[tokio::test]
async fn connects_to_unknown_tunnels_are_refused() {
    let server = start(Limits {
        per_client: unlimited_rate(),
        ..Limits::default()
    })
    .await;
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    let attack = async {
        for i in 0..200u32 {
            // Random routing IDs, and the right routing ID with random tunnel IDs.
            let r = if i % 2 == 0 {
                hex::encode(i.to_be_bytes())[2..].to_string()
            } else {
                routing.clone()
            };
            let status = open(&server, &format!("/cable/connect/{r}/{}", tunnel_id()), &[SP])
                .await
                .err();
            assert_eq!(status, Some(StatusCode::NOT_FOUND));
        }
    };
    let honest = async {
        for round in 0..5 {
            honest_exchange(&server, round).await;
        }
    };
    tokio::join!(attack, honest);
    // The attack neither created tunnels nor disturbed the waiting one.
    assert_eq!(server.stats().tunnels, 1);
    assert!(server.stats().requests_rejected >= 200);
    let mut desktop = connect(&server, &routing, &tid).await;
    send(&mut phone, b"ok").await;
    assert_eq!(recv(&mut desktop).await, b"ok");
    drop((phone, desktop));
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_frames_are_refused_without_buffering() {
    let limits = Limits {
        max_message_size: 4096,
        ..Limits::default()
    };
    let server = start(limits).await;
    let attack = async {
        for _ in 0..20 {
            let tid = tunnel_id();
            let (mut attacker, _) = new_tunnel(&server, &tid).await;
            // 1 MiB frame: the server must refuse it from the header, not after buffering it.
            let _ = attacker
                .send(Message::Binary(Bytes::from(vec![7u8; 1 << 20])))
                .await;
            assert_eq!(closed_with(&mut attacker).await, Some(CloseCode::Size));
        }
    };
    let honest = async {
        for round in 0..5 {
            honest_exchange(&server, round).await;
        }
    };
    tokio::join!(attack, honest);
    wait_stats(&server, |s| s.tunnels == 0 && s.buffered_bytes == 0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn slow_reader_cannot_make_the_server_buffer_without_bound() {
    let limits = Limits {
        max_messages_per_direction: 1_000_000,
        idle_timeout: Duration::from_millis(500),
        ..Limits::default()
    };
    let server = start(limits).await;
    let tid = tunnel_id();
    let (reader, routing) = new_tunnel(&server, &tid).await; // never reads
    let mut writer = connect(&server, &routing, &tid).await;
    let chunk = Bytes::from(vec![0x5au8; 16 * 1024]);
    const ATTEMPTS: usize = 20_000; // 320 MiB if nothing pushed back
    let mut sent = 0usize;
    let honest = async {
        for round in 0..3 {
            honest_exchange(&server, round).await;
        }
    };
    let flood = async {
        for _ in 0..ATTEMPTS {
            // Backpressure shows up as a send that does not complete; the server then ends the tunnel.
            match tokio::time::timeout(
                Duration::from_secs(3),
                writer.send(Message::Binary(chunk.clone())),
            )
            .await
            {
                Ok(Ok(())) => sent += 1,
                _ => break,
            }
        }
    };
    tokio::join!(flood, honest);
    // What got through is bounded by socket buffers plus one message in the server, not by the attacker.
    assert!(sent < ATTEMPTS / 4, "sent {sent} messages without backpressure");
    wait_stats(&server, |s| s.tunnels == 0).await;
    drop((reader, writer));
    server.shutdown().await;
}
