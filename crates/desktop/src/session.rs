//! The desktop's side of a hybrid ceremony: QR code, advert scanning, tunnel, Noise initiator, CTAP.
//!
//! The low-level [`Channel`] is public so tests can drive a session message by message (and send faulty
//! frames); [`QrSession::run`] and [`run_linked`] do a whole WebAuthn ceremony.

use std::collections::HashSet;
use std::time::Duration;

use tandem_hybrid::{
    ClientMessage, ClientNonce, DomainId, EidKey, EidPlaintext, InitiatorAwaitingMsg2,
    InitiatorAwaitingPostHandshake, InitiatorServing, LinkId, PairedSecret, PrivateKey, PublicKey, QrSecret,
};

use crate::ble::AdvertScanner;
use crate::error::{DesktopError, DesktopStep, FrameError, LinkingFault, MessageRefusal};
pub use crate::link::StoredLink;
use crate::proto::{self, Incoming, initiator_error};
use crate::webauthn::{self, WebAuthnRequest};
use crate::ws::{TlsOptions, TunnelSocket, WsError};

/// Per-step time limits of the desktop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DesktopTimeouts {
    /// Scanning for the advert (the user has to scan the QR code first). Default 180 s.
    pub advert: Duration,
    /// TCP + TLS + upgrade. Default 15 s.
    pub connect: Duration,
    /// Waiting for the phone's handshake response and post-handshake message. Default 30 s.
    pub handshake: Duration,
    /// Waiting for a CTAP response (includes the user's biometric check). Default 180 s.
    pub response: Duration,
    /// Sending one message, and waiting for the phone to close after shutdown. Default 10 s.
    pub send: Duration,
}

impl Default for DesktopTimeouts {
    fn default() -> Self {
        DesktopTimeouts {
            advert: Duration::from_secs(180),
            connect: Duration::from_secs(15),
            handshake: Duration::from_secs(30),
            response: Duration::from_secs(180),
            send: Duration::from_secs(10),
        }
    }
}

impl DesktopTimeouts {
    /// Every limit set to `d`.
    pub fn all(d: Duration) -> Self {
        DesktopTimeouts {
            advert: d,
            connect: d,
            handshake: d,
            response: d,
            send: d,
        }
    }
}

/// Desktop configuration.
#[derive(Debug, Clone, Default)]
pub struct DesktopConfig {
    /// Use this tunnel service base URL (`wss://host[:port]`, or `ws://` on loopback) instead of the host
    /// the advert's domain ID derives to — as webauthn-rs' `cable-override-tunnel` does for test servers.
    pub tunnel_url: Option<String>,
    /// Transport security options.
    pub tls: TlsOptions,
    /// Time limits.
    pub timeouts: DesktopTimeouts,
}

impl DesktopConfig {
    fn base_url(&self, domain: DomainId) -> String {
        match &self.tunnel_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => format!("wss://{}", domain.host()),
        }
    }
}

fn ws_error(step: DesktopStep, e: WsError) -> DesktopError {
    match e {
        WsError::BadUrl(u) => DesktopError::TunnelConfig(format!("bad tunnel URL {u}")),
        WsError::Insecure(u) => DesktopError::InsecureTunnelUrl(u),
        WsError::Connect(r) => DesktopError::TunnelConnect(r),
        WsError::Rejected(410) => DesktopError::ContactGone,
        WsError::Rejected(status) => DesktopError::TunnelRejected { status },
        WsError::Subprotocol => DesktopError::MissingSubprotocol,
        WsError::Timeout => DesktopError::Timeout { step },
        WsError::TextFrame => DesktopError::BadFrame {
            step,
            reason: FrameError::NonBinary,
        },
        WsError::Oversized => DesktopError::BadFrame {
            step,
            reason: FrameError::TooLarge,
        },
        WsError::Protocol(reason) => DesktopError::WebSocket { step, reason },
    }
}

/// A found advert: its decrypted plaintext.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundAdvert {
    /// The 16-byte EID plaintext.
    pub plaintext: EidPlaintext,
    /// The 20 bytes seen on the air.
    pub raw: Vec<u8>,
}

/// Scans until an advert decrypts under `key`, ignoring foreign, malformed and already-seen adverts.
pub async fn find_advert(
    scanner: &dyn AdvertScanner,
    key: &EidKey,
    seen: &mut HashSet<Vec<u8>>,
    limit: Duration,
) -> Result<FoundAdvert, DesktopError> {
    let mut rx = scanner.scan()?;
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let advert = match tokio::time::timeout_at(deadline, rx.recv()).await {
            Err(_) => {
                return Err(DesktopError::Timeout {
                    step: DesktopStep::Scan,
                });
            }
            Ok(None) => {
                return Err(DesktopError::Scan(crate::ble::ScanError::Failed(
                    "scan ended".into(),
                )));
            }
            Ok(Some(a)) => a,
        };
        if !matches!(advert.uuid, 0xFFF9 | 0xFDE2) || seen.contains(&advert.data) {
            continue;
        }
        // Anything that does not decrypt is someone else's advert: not an error
        // (docs/hybrid-protocol.md#advert-encryption).
        if let Ok(plaintext) = key.trial_decrypt(&advert.data) {
            seen.insert(advert.data.clone());
            return Ok(FoundAdvert {
                plaintext,
                raw: advert.data,
            });
        }
    }
}

/// An established, encrypted channel to the phone: the tunnel and the initiator machine it feeds.
pub struct Channel {
    socket: TunnelSocket,
    serving: InitiatorServing,
    timeouts: DesktopTimeouts,
    /// The getInfo CBOR from the post-handshake message.
    pub get_info: Vec<u8>,
    /// Linking information received in an update message (QR sessions), verified.
    pub link: Option<StoredLink>,
    link_check: Option<(PrivateKey, DomainId)>,
}

impl Channel {
    /// Sends raw bytes as one binary message (tests use this to inject faults).
    pub async fn send_raw(&mut self, frame: Vec<u8>) -> Result<(), DesktopError> {
        send_frame(
            &mut self.socket,
            frame,
            DesktopStep::SendRequest,
            self.timeouts.send,
        )
        .await
    }

    /// Encrypts `message` and sends it.
    async fn send_message(&mut self, message: &ClientMessage) -> Result<(), DesktopError> {
        let frame = self
            .serving
            .send(message)
            .map_err(|e| initiator_error(DesktopStep::SendRequest, e))?;
        self.send_raw(frame).await
    }

    /// Encrypts `plaintext` (carrying its type byte, valid or not) and sends it: a test peer's way to send
    /// a message no real desktop would. Only with the `fault-injection` feature.
    #[cfg(feature = "fault-injection")]
    pub async fn send_plaintext(&mut self, plaintext: &[u8]) -> Result<(), DesktopError> {
        let frame = self
            .serving
            .seal_plaintext(plaintext)
            .map_err(|e| DesktopError::BadFrame {
                step: DesktopStep::SendRequest,
                reason: e.into(),
            })?;
        self.send_raw(frame).await
    }

    /// Encrypts `padded` without applying transport padding and sends it: a test peer's way to put a
    /// badly padded frame on the wire. Only with the `fault-injection` feature.
    #[cfg(feature = "fault-injection")]
    pub async fn send_unpadded(&mut self, padded: &[u8]) -> Result<(), DesktopError> {
        let frame = self
            .serving
            .seal_unpadded(padded)
            .map_err(|e| DesktopError::BadFrame {
                step: DesktopStep::SendRequest,
                reason: e.into(),
            })?;
        self.send_raw(frame).await
    }

    /// Sends one CTAP request (command ‖ CBOR) and returns the response (status ‖ CBOR). Update messages
    /// arriving meanwhile are processed (linking info verified and kept).
    pub async fn ctap(&mut self, request: &[u8]) -> Result<Vec<u8>, DesktopError> {
        let message = proto::ctap_request(request)
            .map_err(|e| DesktopError::UnexpectedMessage(MessageRefusal::Malformed(e)))?;
        self.send_message(&message).await?;
        let deadline = tokio::time::Instant::now() + self.timeouts.response;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = recv_frame(&mut self.socket, DesktopStep::AwaitResponse, left).await?;
            match proto::incoming(self.serving.receive(&frame))? {
                Incoming::Ctap(response) => return Ok(response),
                Incoming::Update(linking) => self.accept_update(linking)?,
            }
        }
    }

    /// Verifies and keeps the linking information of an update message (QR sessions that asked for it).
    fn accept_update(&mut self, linking: Option<tandem_hybrid::LinkingInfo>) -> Result<(), DesktopError> {
        let (Some(linking), Some((qr_key, domain))) = (linking, self.link_check.as_ref()) else {
            return Ok(());
        };
        let link = proto::verify_link(&linking, qr_key, self.serving.handshake_hash(), *domain)?;
        self.link = Some(link);
        Ok(())
    }

    /// Sends shutdown and waits (bounded) for the phone to close the connection.
    pub async fn shutdown(mut self) -> Result<(), DesktopError> {
        self.send_message(&ClientMessage::Shutdown).await?;
        // The phone closes after shutdown; anything else it sends now is ignored.
        let deadline = tokio::time::Instant::now() + self.timeouts.send;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.socket.recv(left).await {
                Ok(None) => return Ok(()),
                Ok(Some(_)) => continue,
                Err(WsError::Timeout) => {
                    self.socket.close(self.timeouts.send).await;
                    return Ok(());
                }
                Err(e) => return Err(ws_error(DesktopStep::Shutdown, e)),
            }
        }
    }

    /// Closes the connection without shutdown (tests).
    pub async fn abort(self) {
        self.socket.close(self.timeouts.send).await;
    }
}

/// Result of a successful ceremony.
#[derive(Debug, Clone)]
pub struct CeremonyResult {
    /// The W3C `PublicKeyCredential` JSON.
    pub credential: serde_json::Value,
    /// The clientDataJSON that was hashed.
    pub client_data_json: String,
    /// getInfo from the post-handshake message.
    pub get_info: Vec<u8>,
    /// A verified link, if the phone offered one.
    pub link: Option<StoredLink>,
}

async fn ceremony(mut channel: Channel, request: &WebAuthnRequest) -> Result<CeremonyResult, DesktopError> {
    let client_data_json = request.client_data_json();
    let hash = webauthn::client_data_hash(&client_data_json);
    let response = channel.ctap(&request.to_ctap(&hash)).await?;
    let credential = request.credential_json(&client_data_json, &response);
    let get_info = channel.get_info.clone();
    let link = channel.link.clone();
    channel.shutdown().await?;
    Ok(CeremonyResult {
        credential: credential?,
        client_data_json,
        get_info,
        link,
    })
}

/// One QR-initiated session, desktop side.
pub struct QrSession {
    identity: PrivateKey,
    secret: QrSecret,
    url: String,
    linking: bool,
}

impl QrSession {
    /// Makes a fresh QR key and secret. `hint` is `"mc"` or `"ga"`; `linking` sets QR key 4.
    pub fn new(hint: &str, linking: bool) -> Result<Self, DesktopError> {
        let identity = PrivateKey::generate()?;
        let secret = QrSecret::generate()?;
        let url = proto::qr_url(&identity.public_key(), &secret, hint, linking);
        Ok(QrSession {
            identity,
            secret,
            url,
            linking,
        })
    }

    /// The `FIDO:/…` URL the QR code encodes.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The QR code drawn with Unicode half blocks for a terminal.
    pub fn render_terminal(&self) -> String {
        render_qr(&self.url)
    }

    /// The key adverts for this QR code are encrypted with.
    pub fn eid_key(&self) -> EidKey {
        self.secret.eid_key()
    }

    /// Scans for this session's advert, joins the tunnel and completes the handshake and post-handshake
    /// message.
    pub async fn connect(
        &self,
        scanner: &dyn AdvertScanner,
        config: &DesktopConfig,
    ) -> Result<Channel, DesktopError> {
        let mut seen = HashSet::new();
        let found = find_advert(scanner, &self.secret.eid_key(), &mut seen, config.timeouts.advert).await?;
        self.connect_with(&found, config).await
    }

    /// Joins the tunnel named by an already-decrypted advert and completes the handshake.
    pub async fn connect_with(
        &self,
        found: &FoundAdvert,
        config: &DesktopConfig,
    ) -> Result<Channel, DesktopError> {
        let t = config.timeouts;
        let domain = found.plaintext.domain();
        let url = format!(
            "{}/cable/connect/{}/{}",
            config.base_url(domain),
            found.plaintext.routing_id().to_hex(),
            self.secret.tunnel_id().to_hex()
        );
        let (mut socket, _) = TunnelSocket::connect(&url, &[], &config.tls, t.connect)
            .await
            .map_err(|e| ws_error(DesktopStep::ConnectTunnel, e))?;
        let psk = self.secret.psk(&found.plaintext);
        let (initiator, msg1) = InitiatorAwaitingMsg2::qr(&self.identity, &psk)?;
        let initiator = exchange(&mut socket, initiator, msg1.to_vec(), t).await?;
        let link_check = self.linking.then(|| (self.identity.clone(), domain));
        finish_connect(socket, initiator, t, link_check).await
    }

    /// The whole ceremony: scan, connect, one request, shutdown.
    pub async fn run(
        &self,
        scanner: &dyn AdvertScanner,
        request: &WebAuthnRequest,
        config: &DesktopConfig,
    ) -> Result<CeremonyResult, DesktopError> {
        let channel = self.connect(scanner, config).await?;
        ceremony(channel, request).await
    }
}

/// Sends one frame within `limit`; a tunnel the phone already closed is [`DesktopError::TunnelClosed`].
async fn send_frame(
    socket: &mut TunnelSocket,
    frame: Vec<u8>,
    step: DesktopStep,
    limit: Duration,
) -> Result<(), DesktopError> {
    socket.send(frame, limit).await.map_err(|e| match e {
        WsError::Protocol(_) => DesktopError::TunnelClosed { step },
        other => ws_error(step, other),
    })
}

/// Receives the next frame within `limit`; a closed tunnel is an error.
async fn recv_frame(
    socket: &mut TunnelSocket,
    step: DesktopStep,
    limit: Duration,
) -> Result<Vec<u8>, DesktopError> {
    socket
        .recv(limit)
        .await
        .map_err(|e| ws_error(step, e))?
        .ok_or(DesktopError::TunnelClosed { step })
}

/// Sends message 1 and feeds the phone's message 2 to the initiator machine.
async fn exchange(
    socket: &mut TunnelSocket,
    initiator: InitiatorAwaitingMsg2,
    msg1: Vec<u8>,
    t: DesktopTimeouts,
) -> Result<InitiatorAwaitingPostHandshake, DesktopError> {
    send_frame(socket, msg1, DesktopStep::Handshake, t.send).await?;
    let msg2 = recv_frame(socket, DesktopStep::Handshake, t.handshake).await?;
    initiator
        .read_msg2(&msg2)
        .map_err(|e| initiator_error(DesktopStep::Handshake, e))
}

/// Reads and checks the post-handshake message: the channel is then ready for requests.
async fn finish_connect(
    mut socket: TunnelSocket,
    initiator: InitiatorAwaitingPostHandshake,
    t: DesktopTimeouts,
    link_check: Option<(PrivateKey, DomainId)>,
) -> Result<Channel, DesktopError> {
    let frame = recv_frame(&mut socket, DesktopStep::PostHandshake, t.handshake).await?;
    let (serving, post) = initiator
        .read_post_handshake(&frame)
        .map_err(|e| initiator_error(DesktopStep::PostHandshake, e))?;
    Ok(Channel {
        socket,
        serving,
        timeouts: t,
        get_info: proto::check_post_handshake(&post)?,
        link: None,
        link_check,
    })
}

/// Parsed [`StoredLink`] material.
struct LinkMaterial {
    contact_id: Vec<u8>,
    link_id: LinkId,
    secret: PairedSecret,
    identity: PublicKey,
    domain: DomainId,
}

fn link_material(link: &StoredLink) -> Result<LinkMaterial, DesktopError> {
    let bad = |what: &'static str| DesktopError::Linking(LinkingFault::StoredLink(what));
    let contact_id = hex::decode(&link.contact_id).map_err(|_| bad("contact ID"))?;
    let link_id = LinkId::from_slice(&hex::decode(&link.link_id).map_err(|_| bad("link ID"))?)
        .map_err(|_| bad("link ID"))?;
    let secret = PairedSecret::from_slice(&hex::decode(&link.link_secret).map_err(|_| bad("link secret"))?)
        .map_err(|_| bad("link secret"))?;
    let identity =
        PublicKey::from_uncompressed(&hex::decode(&link.identity_key).map_err(|_| bad("identity key"))?)
            .map_err(|_| bad("identity key"))?;
    let domain = DomainId::new(link.domain_id).map_err(|_| bad("domain ID"))?;
    Ok(LinkMaterial {
        contact_id,
        link_id,
        secret,
        identity,
        domain,
    })
}

/// Connects to a linked phone without a QR code (state-assisted): `/cable/contact`, advert, `NKpsk0`.
pub async fn connect_linked(
    link: &StoredLink,
    hint: &str,
    scanner: &dyn AdvertScanner,
    config: &DesktopConfig,
) -> Result<Channel, DesktopError> {
    let t = config.timeouts;
    let m = link_material(link)?;
    let nonce = ClientNonce::generate()?;
    let payload = proto::client_payload(&m.link_id, &nonce, hint);
    let url = format!(
        "{}/cable/contact/{}",
        config.base_url(m.domain),
        base64url(&m.contact_id)
    );
    let headers = [("x-cable-client-payload", hex::encode_upper(&payload))];
    let (mut socket, _) = TunnelSocket::connect(&url, &headers, &config.tls, t.connect)
        .await
        .map_err(|e| ws_error(DesktopStep::ConnectTunnel, e))?;
    let mut seen = HashSet::new();
    let found = find_advert(scanner, &m.secret.eid_key(&nonce), &mut seen, t.advert).await?;
    let psk = m.secret.psk(&found.plaintext);
    let (initiator, msg1) = InitiatorAwaitingMsg2::state_assisted(&m.identity, &psk)?;
    let initiator = exchange(&mut socket, initiator, msg1.to_vec(), t).await?;
    finish_connect(socket, initiator, t, None).await
}

/// A whole state-assisted ceremony with a linked phone.
pub async fn run_linked(
    link: &StoredLink,
    scanner: &dyn AdvertScanner,
    request: &WebAuthnRequest,
    config: &DesktopConfig,
) -> Result<CeremonyResult, DesktopError> {
    let channel = connect_linked(link, request.hint(), scanner, config).await?;
    ceremony(channel, request).await
}

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Renders `text` as a QR code with Unicode half blocks (two modules per character cell).
pub fn render_qr(text: &str) -> String {
    match qrcode::QrCode::new(text.as_bytes()) {
        Ok(code) => code
            .render::<qrcode::render::unicode::Dense1x2>()
            .dark_color(qrcode::render::unicode::Dense1x2::Light)
            .light_color(qrcode::render::unicode::Dense1x2::Dark)
            .build(),
        Err(e) => format!("(cannot render QR code: {e})"),
    }
}
