//! Faults at every step of a QR session, each ending in a clear typed error on the phone (or being ignored
//! where the spec says so). Real phone, real tunnel server, desktop driven by hand. No timed assertions:
//! timeouts are configured short only where the timeout path itself is under test.

use std::sync::Arc;
use std::time::Duration;

use tandem_desktop::{DesktopError, DesktopStep, QrSession};
use tandem_engine::store::CredentialStore;
use tandem_hybrid::{InitiatorHandshake, QrSecret};
use tandem_phone::ble::BleAdvertiser;
use tandem_phone::{Phone, ProgressEvent, SessionError, SessionOutcome, SessionStep, Timeouts};
use tandem_radio::SimRadio;
use tandem_store::{HybridStateStore, SqliteStore};
use tandem_tests::*;
use tandem_tunnel::{Limits, ServerConfig, TunnelServer};
use tokio::task::JoinHandle;

struct World {
    server: tandem_tunnel::RunningServer,
    url: String,
    radio: SimRadio,
    store: Arc<SqliteStore>,
    phone: Arc<Phone>,
    _dir: tempfile::TempDir,
}

async fn world_with(timeouts: Timeouts, verifier: Arc<dyn tandem_engine::platform::UserVerifier>) -> World {
    let server = start_tunnel().await;
    world_on(server, timeouts, verifier)
}

fn world_on(
    server: tandem_tunnel::RunningServer,
    timeouts: Timeouts,
    verifier: Arc<dyn tandem_engine::platform::UserVerifier>,
) -> World {
    let url = server.ws_url();
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("phone.sqlite"));
    let radio = SimRadio::new();
    let phone = make_phone(
        phone_config(&url, timeouts),
        store.clone(),
        &radio,
        verifier,
        Arc::new(Recorder::default()),
    );
    World {
        server,
        url,
        radio,
        store,
        phone,
        _dir: dir,
    }
}

async fn world() -> World {
    world_with(Timeouts::all(Duration::from_secs(20)), Arc::new(AutoApprove)).await
}

fn spawn_phone(phone: &Arc<Phone>, qr: &str) -> JoinHandle<Result<SessionOutcome, SessionError>> {
    let phone = phone.clone();
    let qr = qr.to_string();
    tokio::spawn(async move { phone.run_qr(&qr).await })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnel_closed_before_handshake() {
    let w = world().await;
    let desktop = RawDesktop::new(false);
    let phone = spawn_phone(&w.phone, &desktop.url);
    let (socket, _) = desktop.join(&w.radio, &w.url).await;
    socket.close(Duration::from_secs(5)).await;
    let err = phone.await.unwrap().unwrap_err();
    assert_eq!(
        err,
        SessionError::TunnelClosed {
            step: SessionStep::Handshake
        }
    );
    assert!(w.radio.on_air().is_empty(), "advert stopped after the failure");
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tunnel_closed_after_handshake() {
    let w = world().await;
    let desktop = desktop_config(
        &w.url,
        tandem_desktop::DesktopTimeouts::all(Duration::from_secs(20)),
    );
    let qr = QrSession::new("ga", false).unwrap();
    let phone = spawn_phone(&w.phone, qr.url());
    let channel = qr.connect(&w.radio.scanner(), &desktop).await.expect("handshake");
    channel.abort().await;
    let err = phone.await.unwrap().unwrap_err();
    assert_eq!(
        err,
        SessionError::TunnelClosed {
            step: SessionStep::AwaitRequest
        }
    );
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_psk_fails_the_handshake() {
    let w = world().await;
    let desktop = RawDesktop::new(false);
    let phone = spawn_phone(&w.phone, &desktop.url);
    let (mut socket, found) = desktop.join(&w.radio, &w.url).await;
    // The PSK of another QR secret for the same advert plaintext.
    let wrong = QrSecret::generate().unwrap().psk(&found.plaintext);
    let (_hs, msg1) = InitiatorHandshake::qr(&desktop.identity, &wrong).unwrap();
    socket.send(msg1.to_vec(), Duration::from_secs(5)).await.unwrap();
    let err = phone.await.unwrap().unwrap_err();
    assert!(matches!(err, SessionError::Handshake(_)), "{err:?}");
    drop(socket);
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_handshake_message() {
    let w = world().await;
    let desktop = RawDesktop::new(false);
    let phone = spawn_phone(&w.phone, &desktop.url);
    let (mut socket, found) = desktop.join(&w.radio, &w.url).await;
    let (_hs, msg1) =
        InitiatorHandshake::qr(&desktop.identity, &desktop.secret.psk(&found.plaintext)).unwrap();
    socket
        .send(msg1[..40].to_vec(), Duration::from_secs(5))
        .await
        .unwrap();
    let err = phone.await.unwrap().unwrap_err();
    assert!(matches!(err, SessionError::Handshake(_)), "{err:?}");
    drop(socket);
    w.server.shutdown().await;
}

/// Connects a desktop channel (handshake and post-handshake done) to the phone.
async fn connected(
    w: &World,
) -> (
    tandem_desktop::Channel,
    JoinHandle<Result<SessionOutcome, SessionError>>,
) {
    let desktop = desktop_config(
        &w.url,
        tandem_desktop::DesktopTimeouts::all(Duration::from_secs(20)),
    );
    let qr = QrSession::new("ga", false).unwrap();
    let phone = spawn_phone(&w.phone, qr.url());
    let channel = qr.connect(&w.radio.scanner(), &desktop).await.expect("handshake");
    (channel, phone)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_transport_frame() {
    let w = world().await;
    let (mut channel, phone) = connected(&w).await;
    // A real ciphertext's first half: the AEAD tag cannot verify.
    channel.send_raw(vec![0x5a; 24]).await.unwrap();
    let err = phone.await.unwrap().unwrap_err();
    assert!(
        matches!(
            err,
            SessionError::BadFrame {
                step: SessionStep::AwaitRequest,
                ..
            }
        ),
        "{err:?}"
    );
    drop(channel);
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn badly_padded_frame() {
    let w = world().await;
    let (mut channel, phone) = connected(&w).await;
    // Authenticates under the right key and counter, but its last byte claims 200 bytes of padding in a
    // 32-byte plaintext.
    let mut padded = [0u8; 32];
    padded[0] = 0x01;
    padded[31] = 200;
    channel.send_unpadded(&padded).await.unwrap();
    let err = phone.await.unwrap().unwrap_err();
    match &err {
        SessionError::BadFrame {
            step: SessionStep::AwaitRequest,
            reason,
        } => assert!(reason.to_string().contains("padding"), "{reason}"),
        other => panic!("expected a padding error, got {other:?}"),
    }
    drop(channel);
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frame() {
    // A tunnel that relays large messages, so the phone's own 1 MiB limit is what trips.
    let mut config = ServerConfig::plain("127.0.0.1:0".parse().unwrap());
    config.limits = Limits {
        max_message_size: 4 << 20,
        max_buffered_bytes: 8 << 20,
        ..Limits::default()
    };
    let server = TunnelServer::bind(config).await.unwrap();
    let w = world_on(
        server,
        Timeouts::all(Duration::from_secs(20)),
        Arc::new(AutoApprove),
    );
    let (mut channel, phone) = connected(&w).await;
    let _ = channel.send_raw(vec![0; (1 << 20) + 64]).await;
    let err = phone.await.unwrap().unwrap_err();
    assert_eq!(
        err,
        SessionError::BadFrame {
            step: SessionStep::AwaitRequest,
            reason: tandem_phone::FrameError::TooLarge
        }
    );
    drop(channel);
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_message_type() {
    let w = world().await;
    let (mut channel, phone) = connected(&w).await;
    channel.send_plaintext(&[0x07, 0x01]).await.unwrap();
    let err = phone.await.unwrap().unwrap_err();
    assert_eq!(err, SessionError::UnknownMessageType(0x07));
    drop(channel);
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_desktop_times_out_at_handshake() {
    let short = Timeouts {
        handshake: Duration::from_millis(300),
        ..Timeouts::all(Duration::from_secs(20))
    };
    let w = world_with(short, Arc::new(AutoApprove)).await;
    let desktop = RawDesktop::new(false);
    let phone = spawn_phone(&w.phone, &desktop.url);
    let (socket, _) = desktop.join(&w.radio, &w.url).await;
    let err = phone.await.unwrap().unwrap_err();
    assert_eq!(
        err,
        SessionError::Timeout {
            step: SessionStep::Handshake
        }
    );
    drop(socket);
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_desktop_times_out_waiting_for_a_request() {
    let short = Timeouts {
        request: Duration::from_millis(300),
        ..Timeouts::all(Duration::from_secs(20))
    };
    let w = world_with(short, Arc::new(AutoApprove)).await;
    let (channel, phone) = connected(&w).await;
    let err = phone.await.unwrap().unwrap_err();
    assert_eq!(
        err,
        SessionError::Timeout {
            step: SessionStep::AwaitRequest
        }
    );
    drop(channel);
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_phone_times_out_on_the_desktop() {
    // The "phone" here is a tunnel peer that never answers the handshake.
    let server = start_tunnel().await;
    let url = server.ws_url();
    let radio = SimRadio::new();
    let qr = QrSession::new("ga", false).unwrap();
    let secret_tunnel = {
        // Create the tunnel as a phone would, then advertise, then stay silent.
        let bytes = tandem_hybrid::digits::decode(qr.url().strip_prefix("FIDO:/").unwrap()).unwrap();
        let map = tandem_cbor::decode_canonical(&bytes).unwrap();
        QrSecret::from_slice(map.get_int(1).and_then(tandem_cbor::Value::as_bytes).unwrap()).unwrap()
    };
    let tls = tandem_phone::TlsOptions {
        allow_insecure_loopback: true,
        ..Default::default()
    };
    let new_url = format!("{url}/cable/new/{}", secret_tunnel.tunnel_id().to_hex());
    let (phone_socket, headers) =
        tandem_phone::ws::TunnelSocket::connect(&new_url, &[], &tls, Duration::from_secs(5))
            .await
            .unwrap();
    let routing =
        tandem_hybrid::RoutingId::from_hex(tandem_phone::ws::header(&headers, "x-cable-routing-id").unwrap())
            .unwrap();
    let domain = tandem_hybrid::DomainId::new(TEST_DOMAIN_ID).unwrap();
    let plaintext = tandem_hybrid::EidPlaintext::generate(&routing, domain).unwrap();
    let advertiser = radio.advertiser();
    advertiser
        .start(secret_tunnel.eid_key().encrypt(&plaintext).as_bytes())
        .unwrap();
    let short = tandem_desktop::DesktopTimeouts {
        handshake: Duration::from_millis(300),
        ..tandem_desktop::DesktopTimeouts::all(Duration::from_secs(20))
    };
    let err = qr
        .connect(&radio.scanner(), &desktop_config(&url, short))
        .await
        .err()
        .expect("must fail");
    assert_eq!(
        err,
        DesktopError::Timeout {
            step: DesktopStep::Handshake
        }
    );
    drop(phone_socket);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn foreign_and_replayed_adverts_are_ignored() {
    let w = world().await;
    // An advert from an earlier session (replayed) and one from another desktop's QR (foreign) are on the
    // air before the real one.
    let earlier = QrSession::new("ga", false).unwrap();
    let earlier_phone = spawn_phone(&w.phone, earlier.url());
    let desktop_cfg = desktop_config(
        &w.url,
        tandem_desktop::DesktopTimeouts::all(Duration::from_secs(20)),
    );
    let mut seen = std::collections::HashSet::new();
    let earlier_advert = tandem_desktop::find_advert(
        &w.radio.scanner(),
        &earlier.eid_key(),
        &mut seen,
        Duration::from_secs(20),
    )
    .await
    .unwrap();
    let ch = earlier.connect_with(&earlier_advert, &desktop_cfg).await.unwrap();
    ch.abort().await;
    let _ = earlier_phone.await;

    let replay = w.radio.advertiser();
    replay
        .start(&earlier_advert.raw.clone().try_into().unwrap())
        .unwrap();
    let foreign = w.radio.advertiser();
    let other = QrSecret::generate().unwrap();
    let domain = tandem_hybrid::DomainId::new(TEST_DOMAIN_ID).unwrap();
    let routing = tandem_hybrid::RoutingId::from_bytes([1, 2, 3]);
    let p = tandem_hybrid::EidPlaintext::generate(&routing, domain).unwrap();
    foreign.start(other.eid_key().encrypt(&p).as_bytes()).unwrap();

    // Only foreign adverts on the air: the desktop finds nothing (a scan timeout, not an error per advert).
    let qr = QrSession::new("ga", false).unwrap();
    let mut seen = std::collections::HashSet::new();
    let none = tandem_desktop::find_advert(
        &w.radio.scanner(),
        &qr.eid_key(),
        &mut seen,
        Duration::from_millis(400),
    )
    .await;
    assert_eq!(
        none.err(),
        Some(DesktopError::Timeout {
            step: DesktopStep::Scan
        })
    );

    // With the real phone advertising too, the desktop completes the ceremony.
    let rp = RelyingParty::new();
    let (request, state) = rp.start_registration("carol");
    let qr = QrSession::new(request.hint(), false).unwrap();
    let phone = spawn_phone(&w.phone, qr.url());
    let result = qr
        .run(&w.radio.scanner(), &request, &desktop_cfg)
        .await
        .expect("ceremony despite noise");
    phone.await.unwrap().unwrap();
    rp.finish_registration(&result.credential, &state)
        .expect("RP accepts");
    replay.stop();
    foreign.stop();
    w.server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_registration_stores_nothing() {
    let w = world_with(Timeouts::all(Duration::from_secs(20)), Arc::new(AlwaysDeny)).await;
    let desktop = desktop_config(
        &w.url,
        tandem_desktop::DesktopTimeouts::all(Duration::from_secs(20)),
    );
    let rp = RelyingParty::new();
    let (request, _state) = rp.start_registration("dave");
    let qr = QrSession::new(request.hint(), false).unwrap();
    let phone = spawn_phone(&w.phone, qr.url());
    let err = qr.run(&w.radio.scanner(), &request, &desktop).await.unwrap_err();
    // CTAP2_ERR_OPERATION_DENIED.
    assert_eq!(
        err,
        DesktopError::Response(tandem_desktop::webauthn::ResponseError::Status(0x27))
    );
    let outcome = phone.await.unwrap().expect("the phone session itself completes");
    assert_eq!(
        outcome.last_status,
        Some(tandem_engine::ReportedStatus::OperationDenied)
    );
    assert!(!outcome.linked);
    assert!(w.store.list_all().unwrap().is_empty());
    assert!(w.store.list_links().unwrap().is_empty());
    w.server.shutdown().await;
}

/// Linking is offered only on the phone's own tunnel service: a session advertised under Google's domain
/// ID would send the linked desktop to cable.ua5v.com, which cannot wake this phone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_linking_through_googles_or_apples_domain() {
    for domain_id in [0u16, 1] {
        let server = start_tunnel().await;
        let url = server.ws_url();
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir.path().join("phone.sqlite"));
        let radio = SimRadio::new();
        let mut config = phone_config(&url, Timeouts::all(Duration::from_secs(20)));
        config.tunnel = tandem_phone::Tunnel::Url {
            base_url: url.clone(),
            domain_id,
        };
        let phone = make_phone(
            config,
            store.clone(),
            &radio,
            Arc::new(AutoApprove),
            Arc::new(Recorder::default()),
        );
        let desktop = desktop_config(
            &url,
            tandem_desktop::DesktopTimeouts::all(Duration::from_secs(20)),
        );
        let rp = RelyingParty::new();
        let (request, state) = rp.start_registration("frank");
        let qr = QrSession::new(request.hint(), true).unwrap();
        let task = spawn_phone(&phone, qr.url());
        let result = qr
            .run(&radio.scanner(), &request, &desktop)
            .await
            .expect("the ceremony itself works");
        rp.finish_registration(&result.credential, &state)
            .expect("RP accepts");
        let outcome = task.await.unwrap().expect("phone session");
        assert!(!outcome.linked, "domain {domain_id}");
        assert!(result.link.is_none(), "domain {domain_id}");
        assert!(store.list_links().unwrap().is_empty(), "domain {domain_id}");
        // Nor can the phone listen for linked desktops there.
        assert!(matches!(
            tandem_phone::WakeChannel::open(&phone).await.err(),
            Some(SessionError::TunnelConfig(_))
        ));
        server.shutdown().await;
    }
}

/// A QR code for a digital credential (key 5 "dcp") is refused before any tunnel is opened.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digital_credential_qr_is_refused_before_the_tunnel() {
    let server = start_tunnel().await;
    let url = server.ws_url();
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("phone.sqlite"));
    let radio = SimRadio::new();
    let recorder = Arc::new(Recorder::default());
    let phone = make_phone(
        phone_config(&url, Timeouts::all(Duration::from_secs(20))),
        store,
        &radio,
        Arc::new(AutoApprove),
        recorder.clone(),
    );
    let identity = tandem_hybrid::PrivateKey::generate().unwrap();
    let secret = QrSecret::generate().unwrap();
    let qr = tandem_desktop::proto::qr_url(&identity.public_key(), &secret, "dcp", true);
    let err = phone.run_qr(&qr).await.unwrap_err();
    assert!(
        matches!(&err, SessionError::InvalidQr(reason) if reason.to_string().contains("digital credential")),
        "{err:?}"
    );
    let events = recorder.events();
    assert!(
        !events
            .iter()
            .any(|e| matches!(e, ProgressEvent::TunnelConnected { .. } | ProgressEvent::QrParsed)),
        "{events:?}"
    );
    assert_eq!(server.stats().tunnels_created, 0, "no tunnel was opened");
    assert!(radio.on_air().is_empty());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_qr_and_insecure_url_are_typed() {
    let w = world().await;
    let err = w.phone.run_qr("FIDO:/12345").await.unwrap_err();
    assert!(matches!(err, SessionError::InvalidQr(_)), "{err:?}");
    let err = w.phone.run_qr("https://example.com").await.unwrap_err();
    assert!(matches!(err, SessionError::InvalidQr(_)), "{err:?}");
    w.server.shutdown().await;
}

/// A fault-injecting "tunnel service" that selects `fido.cable` but answers `/cable/new` with the given
/// routing header (or none).
#[allow(clippy::result_large_err)] // the callback type is fixed by tungstenite
async fn bad_tunnel(routing: Option<&'static str>) -> String {
    use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        if let Ok((tcp, _)) = listener.accept().await {
            let callback = move |_req: &Request, mut resp: Response| {
                resp.headers_mut()
                    .insert("sec-websocket-protocol", "fido.cable".parse().unwrap());
                if let Some(r) = routing {
                    resp.headers_mut()
                        .insert("x-cable-routing-id", r.parse().unwrap());
                }
                Ok(resp)
            };
            if let Ok(ws) = tokio_tungstenite::accept_hdr_async(tcp, callback).await {
                tokio::time::sleep(Duration::from_secs(2)).await;
                drop(ws);
            }
        }
    });
    format!("ws://{addr}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_or_invalid_routing_id_is_typed() {
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("phone.sqlite"));
    let radio = SimRadio::new();
    for (header, expected) in [
        (None, SessionError::MissingRoutingId),
        (Some("ABCD"), SessionError::InvalidRoutingId("ABCD".into())),
        (Some("zz0011"), SessionError::InvalidRoutingId("zz0011".into())),
    ] {
        let url = bad_tunnel(header).await;
        let phone = make_phone(
            phone_config(&url, Timeouts::all(Duration::from_secs(20))),
            store.clone(),
            &radio,
            Arc::new(AutoApprove),
            Arc::new(Recorder::default()),
        );
        let desktop = RawDesktop::new(false);
        assert_eq!(phone.run_qr(&desktop.url).await.unwrap_err(), expected);
        assert!(
            radio.on_air().is_empty(),
            "nothing advertised without a routing ID"
        );
    }
}
