//! Endpoint behaviour over loopback: relay semantics, HTTP statuses, subprotocol, limits, the
//! state-assisted contact/wake flow, TLS and shutdown.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use futures_util::{SinkExt, StreamExt};
use tandem_tunnel::{Limits, ServerConfig, TlsConfig, TunnelServer, WakeMessage};
use tokio_tungstenite::tungstenite::http::StatusCode;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Bytes, Message};

#[tokio::test]
async fn relays_both_directions_preserving_order_and_boundaries() {
    let server = start(Limits::default()).await;
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    assert_eq!(routing.len(), 6);
    assert_eq!(&routing[..2], "07", "routing id carries the instance id");
    // Sent before the desktop joins: must be buffered and delivered first.
    send(&mut phone, b"early-1").await;
    send(&mut phone, b"").await;
    wait_stats(&server, |s| s.buffered_bytes == 7).await;
    // Desktop joins with lower-case hex.
    let mut desktop = connect(&server, &routing.to_lowercase(), &tid.to_lowercase()).await;
    assert_eq!(recv(&mut desktop).await, b"early-1");
    assert_eq!(recv(&mut desktop).await, b"");
    wait_stats(&server, |s| {
        s.buffered_bytes == 0 && s.waiting_tunnels == 0 && s.tunnels == 1
    })
    .await;

    let big = vec![0xa5u8; 16 * 1024];
    for i in 0u8..10 {
        send(&mut desktop, &[i; 3]).await;
    }
    send(&mut desktop, &big).await;
    for i in 0u8..10 {
        assert_eq!(recv(&mut phone).await, vec![i; 3]);
    }
    assert_eq!(recv(&mut phone).await, big);
    send(&mut phone, b"reply").await;
    assert_eq!(recv(&mut desktop).await, b"reply");

    // One side closing closes the other.
    desktop.close(None).await.unwrap();
    assert_eq!(closed_with(&mut phone).await, Some(CloseCode::Normal));
    wait_stats(&server, |s| s.tunnels == 0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn http_statuses() {
    let server = start(Limits::default()).await;
    let tid = tunnel_id();
    let other = tunnel_id();
    let (_phone, routing) = new_tunnel(&server, &tid).await;

    assert_eq!(
        open(&server, &format!("/cable/new/{tid}"), &[SP]).await.err(),
        Some(StatusCode::CONFLICT)
    );
    // Same ID in the other case is the same tunnel.
    let lower = tid.to_lowercase();
    assert_eq!(
        open(&server, &format!("/cable/new/{lower}"), &[SP]).await.err(),
        Some(StatusCode::CONFLICT)
    );
    assert_eq!(
        open(&server, &format!("/cable/connect/{routing}/{other}"), &[SP])
            .await
            .err(),
        Some(StatusCode::NOT_FOUND)
    );
    let wrong_routing = if routing == "070000" { "070001" } else { "070000" };
    assert_eq!(
        open(&server, &format!("/cable/connect/{wrong_routing}/{tid}"), &[SP])
            .await
            .err(),
        Some(StatusCode::NOT_FOUND)
    );
    for bad in [
        "/cable/new/xyz",
        "/cable/new/",
        "/cable/connect/0102/00",
        "/cable/contact/a+b",
    ] {
        assert_eq!(
            open(&server, bad, &[SP]).await.err(),
            Some(StatusCode::BAD_REQUEST),
            "{bad}"
        );
    }
    assert_eq!(
        open(&server, "/elsewhere", &[SP]).await.err(),
        Some(StatusCode::NOT_FOUND)
    );
    // Missing or wrong subprotocol.
    assert_eq!(
        open(&server, &format!("/cable/new/{other}"), &[]).await.err(),
        Some(StatusCode::BAD_REQUEST)
    );
    assert_eq!(
        open(
            &server,
            &format!("/cable/new/{other}"),
            &[("Sec-WebSocket-Protocol", "chat")]
        )
        .await
        .err(),
        Some(StatusCode::BAD_REQUEST)
    );
    // Unknown contact ⇒ 410 Gone.
    assert_eq!(
        open(
            &server,
            "/cable/contact/AQIDBA",
            &[SP, ("X-caBLE-Client-Payload", "A0")]
        )
        .await
        .err(),
        Some(StatusCode::GONE)
    );
    // A second joiner for a joined tunnel ⇒ 409.
    let _desktop = connect(&server, &routing, &tid).await;
    assert_eq!(
        open(&server, &format!("/cable/connect/{routing}/{tid}"), &[SP])
            .await
            .err(),
        Some(StatusCode::CONFLICT)
    );
    assert_eq!(server.stats().tunnels, 1);
    assert!(server.stats().requests_rejected >= 12);
    drop((_phone, _desktop));
    server.shutdown().await;
}

#[tokio::test]
async fn text_frames_close_1003() {
    let server = start(Limits::default()).await;
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    let mut desktop = connect(&server, &routing, &tid).await;
    desktop.send(Message::Text("hello".into())).await.unwrap();
    assert_eq!(closed_with(&mut desktop).await, Some(CloseCode::Unsupported));
    assert_eq!(closed_with(&mut phone).await, Some(CloseCode::Normal));
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_message_closes_1009() {
    let limits = Limits {
        max_message_size: 1024,
        ..Limits::default()
    };
    let server = start(limits).await;
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    let mut desktop = connect(&server, &routing, &tid).await;
    send(&mut desktop, &[1; 1024]).await;
    assert_eq!(recv(&mut phone).await.len(), 1024);
    send(&mut desktop, &[1; 1025]).await;
    assert_eq!(closed_with(&mut desktop).await, Some(CloseCode::Size));
    assert_eq!(closed_with(&mut phone).await, Some(CloseCode::Normal));
    server.shutdown().await;
}

/// By default a message as large as Chromium's adapter accepts (1 MiB) is relayed: Chromium's desktop
/// sends a whole allow list in one request.
#[tokio::test]
async fn default_limits_relay_a_whole_allow_list() {
    assert_eq!(Limits::default().max_message_size, 1 << 20);
    assert_eq!(tandem_tunnel::DEFAULT_MAX_MESSAGE_SIZE, 1 << 20);
    let server = start(Limits::default()).await;
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    let mut desktop = connect(&server, &routing, &tid).await;
    let request: Vec<u8> = (0..1usize << 20).map(|i| i as u8).collect();
    send(&mut desktop, &request).await;
    assert_eq!(recv(&mut phone).await, request);
    send(&mut phone, &request).await;
    assert_eq!(recv(&mut desktop).await, request);
    send(&mut desktop, &vec![1; (1 << 20) + 1]).await;
    assert_eq!(closed_with(&mut desktop).await, Some(CloseCode::Size));
    assert_eq!(closed_with(&mut phone).await, Some(CloseCode::Normal));
    server.shutdown().await;
}

#[tokio::test]
async fn too_many_messages_close_1008() {
    let limits = Limits {
        max_messages_per_direction: 3,
        ..Limits::default()
    };
    let server = start(limits).await;
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    send(&mut phone, b"buffered counts too").await;
    let mut desktop = connect(&server, &routing, &tid).await;
    // The other direction has its own allowance.
    for _ in 0..3 {
        send(&mut desktop, b"d").await;
        assert_eq!(recv(&mut phone).await, b"d");
    }
    send(&mut phone, b"2").await;
    send(&mut phone, b"3").await;
    send(&mut phone, b"4").await;
    assert_eq!(recv(&mut desktop).await, b"buffered counts too");
    assert_eq!(recv(&mut desktop).await, b"2");
    assert_eq!(recv(&mut desktop).await, b"3");
    assert_eq!(closed_with(&mut phone).await, Some(CloseCode::Policy));
    assert_eq!(closed_with(&mut desktop).await, Some(CloseCode::Normal));
    server.shutdown().await;
}

#[tokio::test]
async fn buffer_limit_before_join_closes_1008() {
    let limits = Limits {
        max_buffered_bytes: 100,
        ..Limits::default()
    };
    let server = start(limits).await;
    let (mut phone, _) = new_tunnel(&server, &tunnel_id()).await;
    send(&mut phone, &[0; 60]).await;
    send(&mut phone, &[0; 60]).await;
    assert_eq!(closed_with(&mut phone).await, Some(CloseCode::Policy));
    wait_stats(&server, |s| s.tunnels == 0 && s.buffered_bytes == 0).await;
    server.shutdown().await;
}

/// The server-wide cap on bytes held for absent peers: the tunnel whose message does not fit is closed
/// with 1013 (try again later); the tunnels already holding theirs keep them and still deliver.
#[tokio::test]
async fn server_wide_buffer_cap_closes_1013() {
    let limits = Limits {
        max_buffered_bytes: 1000,
        max_buffered_bytes_total: 1000,
        ..Limits::default()
    };
    let server = start(limits).await;
    let tid = tunnel_id();
    let (mut first, routing) = new_tunnel(&server, &tid).await;
    send(&mut first, &[1; 600]).await;
    wait_stats(&server, |s| s.buffered_bytes == 600).await;
    let (mut second, _) = new_tunnel(&server, &tunnel_id()).await;
    send(&mut second, &[2; 600]).await;
    assert_eq!(closed_with(&mut second).await, Some(CloseCode::Again));
    assert_eq!(server.stats().buffered_bytes, 600);
    // The first tunnel's backlog is intact.
    let mut desktop = connect(&server, &routing, &tid).await;
    assert_eq!(recv(&mut desktop).await, vec![1; 600]);
    wait_stats(&server, |s| s.buffered_bytes == 0).await;
    desktop.close(None).await.expect("close");
    assert_eq!(closed_with(&mut first).await, Some(CloseCode::Normal));
    server.shutdown().await;
}

#[tokio::test]
async fn idle_and_join_timeouts_close_1008() {
    let limits = Limits {
        idle_timeout: Duration::from_millis(200),
        join_timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let server = start(limits).await;
    // Nobody joins.
    let (mut lonely, _) = new_tunnel(&server, &tunnel_id()).await;
    assert_eq!(closed_with(&mut lonely).await, Some(CloseCode::Policy));
    // Joined, one message, then silence.
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    let mut desktop = connect(&server, &routing, &tid).await;
    send(&mut desktop, b"x").await;
    assert_eq!(recv(&mut phone).await, b"x");
    assert_eq!(closed_with(&mut phone).await, Some(CloseCode::Policy));
    assert_eq!(closed_with(&mut desktop).await, Some(CloseCode::Policy));
    wait_stats(&server, |s| s.tunnels == 0).await;
    server.shutdown().await;
}

#[tokio::test]
async fn tunnel_lifetime_is_enforced_despite_traffic() {
    let limits = Limits {
        tunnel_lifetime: Duration::from_millis(300),
        ..Limits::default()
    };
    let server = start(limits).await;
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    let mut desktop = connect(&server, &routing, &tid).await;
    // Keep the tunnel busy (well under the message cap) until the server ends it.
    let code = loop {
        send(&mut desktop, b"tick").await;
        tokio::select! {
            m = phone.next() => match m {
                Some(Ok(Message::Binary(_))) => {}
                Some(Ok(Message::Close(f))) => break f.map(|f| f.code),
                other => panic!("unexpected {other:?}"),
            },
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(code, Some(CloseCode::Policy));
    while let Some(Ok(_)) = phone.next().await {}
    assert_eq!(closed_with(&mut desktop).await, Some(CloseCode::Policy));
    server.shutdown().await;
}

#[tokio::test]
async fn contact_wake_and_connect_signal() {
    let server = start(Limits::default()).await;
    let contact = "c29tZS1jb250YWN0LWlk"; // base64url("some-contact-id")
    // Phone listens on its wake channel, which registers the contact.
    let (mut wake, resp) = open(&server, &format!("/tandem/wake/{contact}"), &[SP])
        .await
        .expect("wake");
    assert_eq!(
        resp.headers().get("sec-websocket-protocol").unwrap(),
        "fido.cable"
    );
    wait_stats(&server, |s| s.wake_listeners == 1 && s.known_contacts == 1).await;

    let payload =
        hex::decode("a3015008c0b2aa8d6e5cc6a60240fb4b22b7d4025010111111111111111111111111111111036267610a")
            .unwrap_or_else(|_| vec![0xa1, 0x03, 0x62, b'g', b'a']);
    let (mut desktop, resp) = open(
        &server,
        &format!("/cable/contact/{contact}"),
        &[
            SP,
            ("X-caBLE-Client-Payload", &hex::encode_upper(&payload)),
            ("X-caBLE-Signal-Connection", "true"),
        ],
    )
    .await
    .expect("contact");
    assert_eq!(resp.headers().get("x-cable-signal-connection").unwrap(), "true");
    // The desktop may send before the phone joins (buffered).
    send(&mut desktop, b"noise msg1").await;

    let wake_msg = WakeMessage::decode(&recv(&mut wake).await).expect("wake message decodes");
    assert_eq!(wake_msg.client_payload, payload);
    assert_eq!(wake_msg.routing_id.as_bytes()[0], 7);
    let mut phone = connect(
        &server,
        &wake_msg.routing_id.to_hex(),
        &wake_msg.tunnel_id.to_hex(),
    )
    .await;

    assert_eq!(recv(&mut desktop).await, [0u8], "connect signal");
    assert_eq!(
        recv(&mut phone).await,
        b"noise msg1",
        "the phone never sees the signal"
    );
    send(&mut phone, b"noise msg2").await;
    assert_eq!(recv(&mut desktop).await, b"noise msg2");

    // Without the signal header nothing is echoed and no 00 is sent.
    let (mut desktop2, resp) = open(
        &server,
        &format!("/cable/contact/{contact}"),
        &[SP, ("X-caBLE-Client-Payload", "A0")],
    )
    .await
    .expect("contact");
    assert!(resp.headers().get("x-cable-signal-connection").is_none());
    let w = WakeMessage::decode(&recv(&mut wake).await).unwrap();
    assert_eq!(w.client_payload, [0xa0]);
    let mut phone2 = connect(&server, &w.routing_id.to_hex(), &w.tunnel_id.to_hex()).await;
    send(&mut phone2, b"first").await;
    assert_eq!(recv(&mut desktop2).await, b"first");

    // A phone that reconnects later still gets wakes queued while it was away.
    wake.close(None).await.unwrap();
    wait_stats(&server, |s| s.wake_listeners == 0).await;
    let (_desktop3, _) = open(
        &server,
        &format!("/cable/contact/{contact}"),
        &[SP, ("X-caBLE-Client-Payload", "A1")],
    )
    .await
    .expect("known contact stays known while the phone is away");
    let (mut wake2, _) = open(&server, &format!("/tandem/wake/{contact}"), &[SP])
        .await
        .expect("wake");
    let w = WakeMessage::decode(&recv(&mut wake2).await).unwrap();
    assert_eq!(w.client_payload, [0xa1]);
    drop((_desktop3, desktop, desktop2, phone, phone2));

    // Data from the phone on the wake channel is a policy violation.
    send(&mut wake2, b"nope").await;
    assert_eq!(closed_with(&mut wake2).await, Some(CloseCode::Policy));
    server.shutdown().await;
}

#[tokio::test]
async fn newer_wake_listener_replaces_older() {
    let server = start(Limits::default()).await;
    let (mut old, _) = open(&server, "/tandem/wake/AAEC", &[SP]).await.unwrap();
    wait_stats(&server, |s| s.wake_listeners == 1).await;
    let (mut new, _) = open(&server, "/tandem/wake/AAEC", &[SP]).await.unwrap();
    assert_eq!(closed_with(&mut old).await, Some(CloseCode::Normal));
    let (_d, _) = open(
        &server,
        "/cable/contact/AAEC",
        &[SP, ("X-caBLE-Client-Payload", "00")],
    )
    .await
    .unwrap();
    assert_eq!(
        WakeMessage::decode(&recv(&mut new).await).unwrap().client_payload,
        [0]
    );
    drop((new, _d));
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_everything_with_1001() {
    let server = start(Limits::default()).await;
    let tid = tunnel_id();
    let (mut phone, routing) = new_tunnel(&server, &tid).await;
    let mut desktop = connect(&server, &routing, &tid).await;
    let (mut waiting, _) = new_tunnel(&server, &tunnel_id()).await;
    let (mut wake, _) = open(&server, "/tandem/wake/AAEC", &[SP]).await.unwrap();
    wait_stats(&server, |s| s.tunnels == 2 && s.wake_listeners == 1).await;
    let addr = server.local_addr();
    let (codes, ()) = tokio::join!(
        async {
            (
                closed_with(&mut phone).await,
                closed_with(&mut desktop).await,
                closed_with(&mut waiting).await,
                closed_with(&mut wake).await,
            )
        },
        server.shutdown()
    );
    let away = Some(CloseCode::Away);
    assert_eq!(codes, (away, away, away, away));
    // The listener is gone.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn tls_relay() {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let mut config = ServerConfig::plain("127.0.0.1:0".parse().unwrap());
    config.tls = Some(TlsConfig::Pem {
        cert_chain: cert.cert.pem().into_bytes(),
        private_key: cert.signing_key.serialize_pem().into_bytes().into(),
    });
    let server = TunnelServer::bind(config).await.unwrap();
    assert!(server.ws_url().starts_with("wss://127.0.0.1:"));

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(Arc::new(client));
    let port = server.local_addr().port();
    let open_tls = |path: String| {
        let connector = connector.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let tls = connector.connect(name, tcp).await.unwrap();
            use tokio_tungstenite::tungstenite::client::IntoClientRequest;
            let mut req = format!("wss://localhost:{port}{path}")
                .into_client_request()
                .unwrap();
            req.headers_mut()
                .insert("Sec-WebSocket-Protocol", "fido.cable".parse().unwrap());
            tokio_tungstenite::client_async(req, tls).await.unwrap()
        }
    };
    let tid = tunnel_id();
    let (mut phone, resp) = open_tls(format!("/cable/new/{tid}")).await;
    let routing = resp
        .headers()
        .get("x-cable-routing-id")
        .unwrap()
        .to_str()
        .unwrap()
        .to_string();
    let (mut desktop, _) = open_tls(format!("/cable/connect/{routing}/{tid}")).await;
    desktop
        .send(Message::Binary(Bytes::from_static(b"over tls")))
        .await
        .unwrap();
    match phone.next().await {
        Some(Ok(Message::Binary(b))) => assert_eq!(&b[..], b"over tls"),
        other => panic!("{other:?}"),
    }
    drop((phone, desktop));
    server.shutdown().await;
}

#[tokio::test]
async fn bad_tls_material_is_a_typed_error() {
    let mut config = ServerConfig::plain("127.0.0.1:0".parse().unwrap());
    config.tls = Some(TlsConfig::Pem {
        cert_chain: b"not pem".to_vec(),
        private_key: b"nope".to_vec().into(),
    });
    assert!(matches!(
        TunnelServer::bind(config).await,
        Err(tandem_tunnel::TunnelError::TlsPem(_))
    ));
    let mut config = ServerConfig::plain("127.0.0.1:0".parse().unwrap());
    config.limits.max_message_size = 0;
    assert!(matches!(
        TunnelServer::bind(config).await,
        Err(tandem_tunnel::TunnelError::Config(_))
    ));
}

#[tokio::test]
async fn wake_listener_and_contact_caps() {
    let limits = Limits {
        max_wake_listeners: 2,
        max_contacts: 3,
        ..Limits::default()
    };
    let server = start(limits).await;
    let (a, _) = open(&server, "/tandem/wake/AAAA", &[SP]).await.unwrap();
    let (b, _) = open(&server, "/tandem/wake/AAAB", &[SP]).await.unwrap();
    assert_eq!(
        open(&server, "/tandem/wake/AAAC", &[SP]).await.err(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    drop(a);
    wait_stats(&server, |s| s.wake_listeners == 1).await;
    let (c, _) = open(&server, "/tandem/wake/AAAC", &[SP]).await.unwrap();
    drop(c);
    wait_stats(&server, |s| s.wake_listeners == 1 && s.known_contacts == 3).await;
    // Three contacts remembered (within their TTL): a fourth cannot register.
    assert_eq!(
        open(&server, "/tandem/wake/AAAD", &[SP]).await.err(),
        Some(StatusCode::SERVICE_UNAVAILABLE)
    );
    // A remembered contact re-registers fine.
    let (a2, _) = open(&server, "/tandem/wake/AAAA", &[SP]).await.unwrap();
    // Oversized client payload.
    let huge = "00".repeat(tandem_tunnel::MAX_CLIENT_PAYLOAD + 1);
    assert_eq!(
        open(
            &server,
            "/cable/contact/AAAA",
            &[SP, ("X-caBLE-Client-Payload", &huge)]
        )
        .await
        .err(),
        Some(StatusCode::BAD_REQUEST)
    );
    drop((a2, b));
    server.shutdown().await;
}

#[tokio::test]
async fn expired_contacts_are_gone() {
    let limits = Limits {
        contact_ttl: Duration::from_millis(50),
        ..Limits::default()
    };
    let server = start(limits).await;
    let (wake, _) = open(&server, "/tandem/wake/AAAA", &[SP]).await.unwrap();
    drop(wake);
    wait_stats(&server, |s| s.wake_listeners == 0).await;
    // Once the TTL has passed since the phone last listened, the contact is permanently invalid.
    let status = loop {
        match open(
            &server,
            "/cable/contact/AAAA",
            &[SP, ("X-caBLE-Client-Payload", "00")],
        )
        .await
        {
            Ok(_) => tokio::time::sleep(Duration::from_millis(20)).await,
            Err(s) => break s,
        }
    };
    assert_eq!(status, StatusCode::GONE);
    server.shutdown().await;
}

#[tokio::test]
async fn silent_wake_listener_is_dropped_but_a_responsive_one_stays() {
    let limits = Limits {
        wake_ping_interval: Duration::from_millis(50),
        ..Limits::default()
    };
    let server = start(limits).await;
    let (mut silent, _) = open(&server, "/tandem/wake/AAAA", &[SP]).await.unwrap();
    let (mut live, _) = open(&server, "/tandem/wake/AAAB", &[SP]).await.unwrap();
    // `live` is polled, so tungstenite answers the server's pings; `silent` is not polled.
    let code = tokio::select! {
        code = async {
            tokio::time::sleep(Duration::from_millis(400)).await;
            closed_with(&mut silent).await
        } => code,
        other = async {
            loop {
                match live.next().await {
                    Some(Ok(Message::Ping(_))) => continue,
                    other => return other,
                }
            }
        } => panic!("responsive listener got {other:?}"),
    };
    assert_eq!(code, Some(CloseCode::Policy));
    // The responsive listener still receives wakes.
    let (_d, _) = open(
        &server,
        "/cable/contact/AAAB",
        &[SP, ("X-caBLE-Client-Payload", "07")],
    )
    .await
    .unwrap();
    assert_eq!(
        WakeMessage::decode(&recv(&mut live).await)
            .unwrap()
            .client_payload,
        [7]
    );
    drop((live, _d));
    server.shutdown().await;
}

#[tokio::test]
async fn tls_pem_files_are_read() {
    let dir = std::env::temp_dir().join(format!("tandem-tunnel-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let mut config = ServerConfig::plain("127.0.0.1:0".parse().unwrap());
    config.tls = Some(TlsConfig::PemFiles {
        cert_chain: cert_path.clone(),
        private_key: key_path,
    });
    let server = TunnelServer::bind(config).await.unwrap();
    assert!(server.ws_url().starts_with("wss://"));
    server.shutdown().await;
    let mut config = ServerConfig::plain("127.0.0.1:0".parse().unwrap());
    config.tls = Some(TlsConfig::PemFiles {
        cert_chain: cert_path,
        private_key: dir.join("missing.pem"),
    });
    assert!(matches!(
        TunnelServer::bind(config).await,
        Err(tandem_tunnel::TunnelError::TlsFile { .. })
    ));
    let _ = std::fs::remove_dir_all(&dir);
}
