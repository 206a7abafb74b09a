//! Whole hybrid ceremonies over loopback through the real tunnel server: QR registration, QR sign-in and a
//! linked (state-assisted) sign-in, each verified by webauthn-rs as the relying party.

use std::sync::Arc;
use std::time::Duration;

use tandem_desktop::QrSession;
use tandem_engine::store::CredentialStore;
use tandem_phone::{ProgressEvent, WakeChannel};
use tandem_radio::SimRadio;
use tandem_store::HybridStateStore;
use tandem_tests::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_register_then_sign_in_verified_by_relying_party() {
    let server = start_tunnel().await;
    let url = server.ws_url();
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("phone.sqlite"));
    let radio = SimRadio::new();
    let (pt, dt) = test_timeouts();
    let recorder = Arc::new(Recorder::default());
    let phone = make_phone(
        phone_config(&url, pt),
        store.clone(),
        &radio,
        Arc::new(AutoApprove),
        recorder.clone(),
    );
    let desktop = desktop_config(&url, dt);
    let rp = RelyingParty::new();

    // Registration: QR without linking.
    let (request, reg_state) = rp.start_registration("alice");
    let qr = QrSession::new(request.hint(), false).unwrap();
    let phone_task = {
        let phone = phone.clone();
        let url = qr.url().to_string();
        tokio::spawn(async move { phone.run_qr(&url).await })
    };
    let result = qr
        .run(&radio.scanner(), &request, &desktop)
        .await
        .expect("desktop registration");
    let outcome = phone_task.await.unwrap().expect("phone session");
    assert_eq!(outcome.requests_served, 1);
    assert_eq!(outcome.last_status, Some(tandem_engine::ReportedStatus::Ok));
    assert!(outcome.shutdown_received);
    assert!(!outcome.linked);
    assert!(result.link.is_none());
    assert_eq!(result.credential["authenticatorAttachment"], "cross-platform");
    let passkey = rp
        .finish_registration(&result.credential, &reg_state)
        .expect("RP accepts the registration");
    assert_eq!(store.list_all().unwrap().len(), 1);

    let events = recorder.events();
    let expected_order = [
        ProgressEvent::QrParsed,
        ProgressEvent::Advertising,
        ProgressEvent::HandshakeDone,
        ProgressEvent::RequestReceived {
            command: tandem_engine::ReportedCommand::MakeCredential,
        },
        ProgressEvent::AwaitingUser,
        ProgressEvent::Responded {
            status: tandem_engine::ReportedStatus::Ok,
        },
        ProgressEvent::Finished,
    ];
    let mut it = events.iter();
    for e in &expected_order {
        assert!(it.any(|x| x == e), "missing or out-of-order {e:?} in {events:?}");
    }
    assert!(
        matches!(events.get(1), Some(ProgressEvent::TunnelConnected { routing_id }) if routing_id.len() == 6)
    );
    // Advertising stopped after the handshake.
    assert!(radio.on_air().is_empty());

    // Sign-in with the new passkey.
    let (request, auth_state) = rp.start_authentication(&[passkey]);
    let qr = QrSession::new(request.hint(), false).unwrap();
    let phone_task = {
        let phone = phone.clone();
        let url = qr.url().to_string();
        tokio::spawn(async move { phone.run_qr(&url).await })
    };
    let result = qr
        .run(&radio.scanner(), &request, &desktop)
        .await
        .expect("desktop sign-in");
    phone_task.await.unwrap().expect("phone session");
    let auth = rp
        .finish_authentication(&result.credential, &auth_state)
        .expect("RP accepts the assertion");
    assert!(auth.user_verified());
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn linked_sign_in_after_qr_registration() {
    let server = start_tunnel().await;
    let url = server.ws_url();
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("phone.sqlite"));
    let radio = SimRadio::new();
    let (pt, dt) = test_timeouts();
    let phone = make_phone(
        phone_config(&url, pt),
        store.clone(),
        &radio,
        Arc::new(AutoApprove),
        Arc::new(Recorder::default()),
    );
    let desktop = desktop_config(&url, dt);
    let rp = RelyingParty::new();

    // QR registration with linking (QR key 4 = true).
    let (request, reg_state) = rp.start_registration("bob");
    let qr = QrSession::new(request.hint(), true).unwrap();
    let phone_task = {
        let phone = phone.clone();
        let url = qr.url().to_string();
        tokio::spawn(async move { phone.run_qr(&url).await })
    };
    let result = qr
        .run(&radio.scanner(), &request, &desktop)
        .await
        .expect("desktop registration");
    let outcome = phone_task.await.unwrap().expect("phone session");
    assert!(outcome.linked);
    let link = result.link.clone().expect("desktop kept a verified link");
    let passkey = rp
        .finish_registration(&result.credential, &reg_state)
        .expect("RP accepts the registration");
    let links = store.list_links().unwrap();
    assert_eq!(links.len(), 1);
    assert_eq!(hex::encode(links[0].link_id), link.link_id);

    // State-assisted sign-in: the phone listens on its wake channel; the desktop contacts it.
    let mut wake = WakeChannel::open(&phone).await.expect("wake channel");
    let (request, auth_state) = rp.start_authentication(&[passkey]);
    let phone_task = {
        let phone = phone.clone();
        tokio::spawn(async move {
            let wake_request = wake.next(Duration::from_secs(20)).await?;
            phone.run_linked(wake_request).await
        })
    };
    // Anyone who learned the contact ID (every linked desktop holds it) can have the service send the
    // phone a wake whose client payload is junk: the phone skips it and still answers its real desktop.
    let stranger = stranger_wake(&url, &link.contact_id).await;
    let result = tandem_desktop::run_linked(&link, &radio.scanner(), &request, &desktop)
        .await
        .expect("linked sign-in");
    let outcome = phone_task.await.unwrap().expect("phone linked session");
    assert_eq!(outcome.requests_served, 1);
    let auth = rp
        .finish_authentication(&result.credential, &auth_state)
        .expect("RP accepts the linked assertion");
    assert!(auth.user_verified());
    drop(stranger);
    server.shutdown().await;
}

/// `/cable/contact/<contact>` with a client payload that is valid hex but no client payload (an empty
/// CBOR map): the service wakes the phone with it. Returns the stranger's socket, held open.
async fn stranger_wake(
    base_url: &str,
    contact_hex: &str,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    use base64::Engine as _;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let contact = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(hex::decode(contact_hex).unwrap());
    let mut req = format!("{base_url}/cable/contact/{contact}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "fido.cable".parse().unwrap());
    req.headers_mut()
        .insert("X-caBLE-Client-Payload", "A0".parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("stranger's contact request");
    ws
}

/// Chromium's desktop sends the whole allow list in one getAssertion request. With default limits on
/// both sides, a request far above the tunnel's old 16 KiB limit (about 260 KB: 3,000 foreign credential
/// IDs plus the real one) is relayed, served and verified.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_with_a_large_allow_list() {
    let server = start_tunnel().await;
    let url = server.ws_url();
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("phone.sqlite"));
    let radio = SimRadio::new();
    let (pt, dt) = test_timeouts();
    let phone = make_phone(
        phone_config(&url, pt),
        store,
        &radio,
        Arc::new(AutoApprove),
        Arc::new(Recorder::default()),
    );
    let desktop = desktop_config(&url, dt);
    let rp = RelyingParty::new();
    let (request, reg_state) = rp.start_registration("grace");
    let qr = QrSession::new(request.hint(), false).unwrap();
    let task = {
        let phone = phone.clone();
        let text = qr.url().to_string();
        tokio::spawn(async move { phone.run_qr(&text).await })
    };
    let result = qr
        .run(&radio.scanner(), &request, &desktop)
        .await
        .expect("registration");
    task.await.unwrap().expect("phone session");
    let passkey = rp
        .finish_registration(&result.credential, &reg_state)
        .expect("RP accepts the registration");

    let (mut request, auth_state) = rp.start_authentication(&[passkey]);
    let tandem_desktop::WebAuthnRequest::Get(get) = &mut request else {
        panic!("a get request")
    };
    let real = get.allow.clone();
    get.allow = (0..3000u32)
        .map(|i| {
            let mut id = vec![0xA5; 64];
            id[..4].copy_from_slice(&i.to_be_bytes());
            id
        })
        .chain(real)
        .collect();
    let hash = tandem_desktop::webauthn::client_data_hash(&request.client_data_json());
    let ctap = request.to_ctap(&hash);
    assert!(ctap.len() > 200 * 1024, "request is {} bytes", ctap.len());
    assert!(ctap.len() < 1 << 20);
    let qr = QrSession::new(request.hint(), false).unwrap();
    let task = {
        let phone = phone.clone();
        let text = qr.url().to_string();
        tokio::spawn(async move { phone.run_qr(&text).await })
    };
    let result = qr
        .run(&radio.scanner(), &request, &desktop)
        .await
        .expect("sign-in");
    let outcome = task.await.unwrap().expect("phone session");
    assert_eq!(outcome.last_status, Some(tandem_engine::ReportedStatus::Ok));
    rp.finish_authentication(&result.credential, &auth_state)
        .expect("RP accepts the assertion");
    server.shutdown().await;
}

/// A tunnel server with a certificate only the test trusts, on loopback.
async fn start_tls_tunnel() -> (tandem_tunnel::RunningServer, Vec<u8>) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let mut config = tandem_tunnel::ServerConfig::plain("127.0.0.1:0".parse().unwrap());
    config.tls = Some(tandem_tunnel::TlsConfig::Pem {
        cert_chain: cert.cert.pem().into_bytes(),
        private_key: cert.signing_key.serialize_pem().into_bytes().into(),
    });
    let server = tandem_tunnel::TunnelServer::bind(config).await.unwrap();
    (server, cert.cert.der().to_vec())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn qr_registration_over_wss_with_a_private_root() {
    let (server, root) = start_tls_tunnel().await;
    // The certificate names "localhost"; plain ws:// is not allowed on either side.
    let url = format!("wss://localhost:{}", server.local_addr().port());
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("phone.sqlite"));
    let radio = SimRadio::new();
    let (pt, dt) = test_timeouts();
    let mut config = phone_config(&url, pt);
    config.tls = tandem_phone::TlsOptions {
        allow_insecure_loopback: false,
        extra_roots_der: vec![root.clone()],
    };
    let phone = make_phone(
        config,
        store.clone(),
        &radio,
        Arc::new(AutoApprove),
        Arc::new(Recorder::default()),
    );
    let mut desktop = desktop_config(&url, dt);
    desktop.tls = tandem_desktop::TlsOptions {
        allow_insecure_loopback: false,
        extra_roots_der: vec![root],
    };
    let rp = RelyingParty::new();

    let (request, reg_state) = rp.start_registration("carol");
    let qr = QrSession::new(request.hint(), false).unwrap();
    let phone_task = {
        let phone = phone.clone();
        let url = qr.url().to_string();
        tokio::spawn(async move { phone.run_qr(&url).await })
    };
    let result = qr
        .run(&radio.scanner(), &request, &desktop)
        .await
        .expect("desktop over wss");
    phone_task.await.unwrap().expect("phone over wss");
    rp.finish_registration(&result.credential, &reg_state)
        .expect("RP accepts the registration made over wss");
    assert_eq!(store.list_all().unwrap().len(), 1);
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untrusted_tunnel_certificate_is_refused() {
    let (server, _root) = start_tls_tunnel().await;
    let url = format!("wss://localhost:{}", server.local_addr().port());
    let dir = tempfile::tempdir().unwrap();
    let store = open_store(&dir.path().join("phone.sqlite"));
    let radio = SimRadio::new();
    let (pt, _) = test_timeouts();
    let mut config = phone_config(&url, pt);
    // Only the webpki roots: the self-signed tunnel certificate must not be accepted.
    config.tls = tandem_phone::TlsOptions::default();
    let phone = make_phone(
        config,
        store.clone(),
        &radio,
        Arc::new(AutoApprove),
        Arc::new(Recorder::default()),
    );
    let qr = QrSession::new("mc", false).unwrap();
    let err = phone
        .run_qr(qr.url())
        .await
        .expect_err("an untrusted certificate must fail the session");
    let text = format!("{err:?} {err}").to_lowercase();
    assert!(text.contains("certificate") || text.contains("tls"), "{text}");
    assert!(radio.on_air().is_empty(), "no advert before the tunnel is up");
    assert!(store.list_all().unwrap().is_empty());
    server.shutdown().await;
}
