//! The phone's session driver: QR-initiated and linked (state-assisted) sessions, end to end.
//!
//! Each step is bounded by a [`Timeouts`] entry and reported to the [`ProgressListener`]; every failure is a
//! [`SessionError`] naming the step. The protocol itself lives in `tandem-hybrid`; this module only
//! sequences it over the tunnel and the radio. QR and linked sessions differ in how they find their tunnel
//! and keys; from the advert on, one driver ([`Phone::drive`]) runs both.

use std::sync::Arc;
use std::time::Duration;

use tandem_engine::store::StoreError;
use tandem_engine::{CancelOnDrop, Cancellation, CtapAnswer};
use tandem_engine::{EngineError, ReportedCommand, ReportedStatus};
use tandem_hybrid::{
    Advert, AuthenticatorMessage, ClientMessage, ClientPayload, CtapResponse, EidPlaintext, HandshakeHash,
    MessageError, NoiseError, PostHandshakeMessage, PublicKey, QrData, ResponderAwaitingMsg1, ResponderError,
    ResponderServing, RoutingId, UpdateMessage, WakeMessage,
};
use tandem_store::HybridStateStore;

use crate::ble::BleAdvertiser;
use crate::ceremony::{self, CeremonySlot, Completed};
use crate::config::{PhoneConfig, ResolvedTunnel};
use crate::consent::{LinkedSessionApprover, RefuseLinkedSessions};
use crate::engine::CtapEngine;
use crate::error::{FrameError, MessageRefusal, QrRejection, SessionError, SessionStep};
use crate::linking::{self, LinkIdentity};
use crate::progress::{ProgressEvent, ProgressListener};
use crate::ws::{self, TunnelSocket, WsError};

/// How a session ended (successfully).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOutcome {
    /// How many CTAP requests were answered.
    pub requests_served: u32,
    /// Status of the last response, if any.
    pub last_status: Option<ReportedStatus>,
    /// Whether this session sent the desktop linking information: QR sessions where the user allowed
    /// linking, only after the session's ceremony succeeded. The link is recorded just before it is sent,
    /// as Chrome stores it on arrival.
    pub linked: bool,
    /// Whether the desktop ended with shutdown (`true`) or by closing the tunnel (`false`).
    pub shutdown_received: bool,
}

/// The phone: configuration plus the platform pieces a session needs. Cheap to share behind an `Arc`.
pub struct Phone {
    config: PhoneConfig,
    engine: Arc<dyn CtapEngine>,
    state: Arc<dyn HybridStateStore>,
    advertiser: Arc<dyn BleAdvertiser>,
    listener: Arc<dyn ProgressListener>,
    approver: Arc<dyn LinkedSessionApprover>,
}

/// What a QR session that may link knows before the handshake.
struct LinkIntent {
    desktop_key: PublicKey,
    tunnel: ResolvedTunnel,
}

/// What a QR session needs to link once its ceremony succeeded.
struct LinkOffer {
    intent: LinkIntent,
    handshake_hash: HandshakeHash,
}

/// The part of a session that differs between QR and linked sessions once the tunnel is open.
enum SessionKind {
    /// QR-initiated: a padding-only update follows the post-handshake message; `Some` if it may link.
    Qr(Option<LinkIntent>),
    /// Linked (state-assisted): no update message.
    Linked,
}

/// Parses `FIDO:/<digits>` (scheme case-insensitive) and validates it as Chromium does. A QR code for a
/// digital credential (key 5 `"dcp"` / `"dci"`) is refused here, before any tunnel is opened: that session
/// would speak the JSON message type, which this phone does not offer.
pub(crate) fn parse_qr(text: &str) -> Result<QrData, QrRejection> {
    let qr = QrData::from_url(text.trim())?;
    match &qr.request_type {
        Some(hint) if qr.is_digital_credential_request() => Err(QrRejection::DigitalCredential(hint.clone())),
        _ => Ok(qr),
    }
}

/// Maps a WebSocket-edge error to the session error for `step`.
pub(crate) fn ws_error(step: SessionStep, e: WsError) -> SessionError {
    match e {
        WsError::BadUrl(u) => SessionError::TunnelConfig(format!("bad tunnel URL {u}")),
        WsError::Insecure(u) => SessionError::InsecureTunnelUrl(u),
        WsError::Connect(r) => SessionError::TunnelConnect(r),
        WsError::Rejected(status) => SessionError::TunnelRejected { status },
        WsError::Subprotocol => SessionError::MissingSubprotocol,
        WsError::Timeout => SessionError::Timeout { step },
        WsError::TextFrame => SessionError::BadFrame {
            step,
            reason: FrameError::NonBinary,
        },
        WsError::Oversized => SessionError::BadFrame {
            step,
            reason: FrameError::TooLarge,
        },
        WsError::Protocol(reason) => SessionError::WebSocket { step, reason },
    }
}

/// The advertiser is stopped when this guard drops, whichever way the session ends.
struct AdvertGuard<'a>(&'a dyn BleAdvertiser, bool);

impl AdvertGuard<'_> {
    fn stop(&mut self) {
        if self.1 {
            self.0.stop();
            self.1 = false;
        }
    }
}

impl Drop for AdvertGuard<'_> {
    fn drop(&mut self) {
        self.stop();
    }
}

impl Phone {
    /// Assembles a phone. `state` keeps the linking secrets and linked desktops (the SQLite store
    /// implements it); `advertiser` sends the BLE advert; `listener` receives progress events.
    pub fn new(
        config: PhoneConfig,
        engine: Arc<dyn CtapEngine>,
        state: Arc<dyn HybridStateStore>,
        advertiser: Arc<dyn BleAdvertiser>,
        listener: Arc<dyn ProgressListener>,
    ) -> Self {
        Phone {
            config,
            engine,
            state,
            advertiser,
            listener,
            approver: Arc::new(RefuseLinkedSessions),
        }
    }

    /// The same phone asking `approver` before each linked session (without one, every linked session is
    /// refused).
    pub fn with_linked_session_approver(mut self, approver: Arc<dyn LinkedSessionApprover>) -> Self {
        self.approver = approver;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &PhoneConfig {
        &self.config
    }

    pub(crate) fn emit(&self, event: ProgressEvent) {
        self.listener.on_event(event);
    }

    pub(crate) fn state(&self) -> &dyn HybridStateStore {
        self.state.as_ref()
    }

    fn finish(&self, result: Result<SessionOutcome, SessionError>) -> Result<SessionOutcome, SessionError> {
        match &result {
            Ok(_) => self.emit(ProgressEvent::Finished),
            Err(e) => self.emit(ProgressEvent::Failed {
                reason: e.to_string(),
            }),
        }
        result
    }

    /// Runs one QR-initiated session from the scanned text (`FIDO:/…`): tunnel, advert, handshake,
    /// post-handshake and update messages, then CTAP requests until the desktop shuts down or closes.
    /// Links only if the app setting ([`PhoneConfig::linking`]) allows it.
    pub async fn run_qr(&self, qr_text: &str) -> Result<SessionOutcome, SessionError> {
        self.run_qr_remembering(qr_text, false).await
    }

    /// [`Phone::run_qr`] with the user's "remember this computer" choice, made before the scan: when
    /// `true`, this session may link even if the app setting is off.
    pub async fn run_qr_remembering(
        &self,
        qr_text: &str,
        remember_this_computer: bool,
    ) -> Result<SessionOutcome, SessionError> {
        let result = self.run_qr_inner(qr_text, remember_this_computer).await;
        self.finish(result)
    }

    async fn run_qr_inner(&self, qr_text: &str, remember: bool) -> Result<SessionOutcome, SessionError> {
        let t = self.config.timeouts;
        let qr = parse_qr(qr_text).map_err(SessionError::InvalidQr)?;
        self.emit(ProgressEvent::QrParsed);

        let tunnel = self.config.tunnel.resolve(qr.known_assigned_domains())?;
        let tunnel_id = qr.secret.tunnel_id();
        let url = format!("{}/cable/new/{}", tunnel.base_url, tunnel_id.to_hex());
        let (socket, headers) =
            TunnelSocket::open(&*self.config.connector, &url, &[], &self.config.tls, t.connect)
                .await
                .map_err(|e| ws_error(SessionStep::ConnectTunnel, e))?;
        let routing = match ws::header(&headers, "x-cable-routing-id") {
            None => return Err(SessionError::MissingRoutingId),
            Some(v) => {
                RoutingId::from_hex(v.trim()).map_err(|_| SessionError::InvalidRoutingId(v.to_string()))?
            }
        };
        self.emit(ProgressEvent::TunnelConnected {
            routing_id: routing.to_hex(),
        });

        let plaintext = EidPlaintext::generate(&routing, tunnel.domain).map_err(NoiseError::from)?;
        let advert = qr.secret.eid_key().encrypt(&plaintext);
        let responder = ResponderAwaitingMsg1::qr(
            &qr.identity_key,
            &qr.secret.psk(&plaintext),
            self.post_handshake(),
        )?;

        // Linking is offered only if the desktop can store it (QR key 4), the user allowed it (app setting
        // or "remember this computer" for this scan), and this session runs on the phone's own tunnel
        // service: the desktop will contact the service of this session's advert to wake the phone, and
        // Google's or Apple's service cannot wake it. It is sent only once the session's ceremony
        // succeeded (see `serve`).
        let allowed = self.config.linking || remember;
        let intent = (qr.desktop_can_link() && allowed && self.config.tunnel.can_link_through(&tunnel))
            .then_some(LinkIntent {
                desktop_key: qr.identity_key,
                tunnel,
            });
        self.drive(socket, &advert, responder, SessionKind::Qr(intent))
            .await
    }

    /// The post-handshake message this phone sends: its getInfo, feature "ctap" only.
    fn post_handshake(&self) -> PostHandshakeMessage {
        PostHandshakeMessage::ctap(self.engine.get_info())
    }

    /// The session from the advert on, shared by QR and linked sessions: advertise, then move bytes between
    /// the tunnel and the responder machine (`tandem_hybrid::role`): message 1 in; message 2 and the
    /// post-handshake message out; for QR sessions a padding-only update; then serve.
    async fn drive(
        &self,
        mut socket: TunnelSocket,
        advert: &Advert,
        responder: ResponderAwaitingMsg1,
        kind: SessionKind,
    ) -> Result<SessionOutcome, SessionError> {
        let t = self.config.timeouts;
        let mut guard = AdvertGuard(self.advertiser.as_ref(), false);
        self.advertiser.start(advert.as_bytes())?;
        guard.1 = true;
        self.emit(ProgressEvent::Advertising);

        let msg1 = recv_or_closed(&mut socket, SessionStep::Handshake, t.handshake).await?;
        let (established, greeting) = responder
            .read_msg1(&msg1)
            .map_err(|e| role_error(SessionStep::PostHandshake, e))?;
        guard.stop();
        send(
            &mut socket,
            greeting.msg2.to_vec(),
            SessionStep::Handshake,
            t.send,
        )
        .await?;
        self.emit(ProgressEvent::HandshakeDone);
        send(
            &mut socket,
            greeting.post_handshake,
            SessionStep::PostHandshake,
            t.send,
        )
        .await?;

        let (update, offer) = match kind {
            SessionKind::Linked => (None, None),
            SessionKind::Qr(intent) => {
                // A padding-only update now; linking information, if any, follows only after the ceremony.
                let offer = intent.map(|intent| LinkOffer {
                    intent,
                    handshake_hash: *established.handshake_hash(),
                });
                (Some(UpdateMessage { linking: None }), offer)
            }
        };
        let (mut serving, frame) = established
            .serve(update)
            .map_err(|e| role_error(SessionStep::Update, e))?;
        if let Some(frame) = frame {
            send(&mut socket, frame, SessionStep::Update, t.send).await?;
        }

        let outcome = self.serve(&mut socket, &mut serving, offer).await?;
        socket.close(t.send).await;
        Ok(outcome)
    }

    /// Records and sends the link of a QR session whose ceremony succeeded (`_proof`), before that
    /// ceremony's response: Chrome processes messages in order and stores the link as soon as the update
    /// arrives (`AddPairing`), so the phone records it first and honours it from then on. A send that
    /// fails after recording leaves a link only the phone knows, which is harmless.
    async fn send_link(
        &self,
        _proof: &Completed,
        offer: LinkOffer,
        socket: &mut TunnelSocket,
        serving: &mut ResponderServing,
    ) -> Result<(), SessionError> {
        let link = self.prepare_link(&offer.intent.desktop_key, &offer.handshake_hash)?;
        linking::record_link(self.state(), &link, &offer.intent.tunnel)?;
        let update = AuthenticatorMessage::Update(UpdateMessage {
            linking: Some(link.info),
        });
        send_message(
            socket,
            serving,
            &update,
            SessionStep::Update,
            self.config.timeouts.send,
        )
        .await
    }

    fn prepare_link(
        &self,
        desktop_key: &PublicKey,
        handshake_hash: &HandshakeHash,
    ) -> Result<linking::PreparedLink, SessionError> {
        let identity = LinkIdentity::load_or_create(self.state())?;
        identity.prepare_link(desktop_key, handshake_hash, &self.config.authenticator_name)
    }

    /// Runs one linked (state-assisted) session after a wake-up: joins the tunnel the service allocated,
    /// advertises the state-assisted EID, answers `NKpsk0` with the identity key, serves CTAP.
    pub async fn run_linked(&self, wake: WakeMessage) -> Result<SessionOutcome, SessionError> {
        let result = self.run_linked_inner(wake).await;
        self.finish(result)
    }

    async fn run_linked_inner(&self, wake: WakeMessage) -> Result<SessionOutcome, SessionError> {
        let t = self.config.timeouts;
        let identity = LinkIdentity::load(self.state())?
            .ok_or_else(|| SessionError::UnknownLink("this phone has no linking identity".into()))?;
        let payload = ClientPayload::from_cbor(&wake.client_payload)?;
        let Some(desktop) = self.state.get_link(payload.link_id.as_bytes())? else {
            return Err(SessionError::UnknownLink(format!(
                "link {} is not (or no longer) linked",
                payload.link_id.to_hex()
            )));
        };
        // The user accepts the session before the phone joins the tunnel; nothing is served otherwise.
        self.ask_to_accept(&desktop.desktop_name, t.user).await?;
        let paired = identity.paired_secret(&payload.link_id);
        let tunnel: ResolvedTunnel = self.config.tunnel.wake_service().ok_or_else(no_wake_service)?;
        let url = format!(
            "{}/cable/connect/{}/{}",
            tunnel.base_url,
            wake.routing_id.to_hex(),
            wake.tunnel_id.to_hex()
        );
        let (socket, _) = TunnelSocket::open(&*self.config.connector, &url, &[], &self.config.tls, t.connect)
            .await
            .map_err(|e| ws_error(SessionStep::ConnectTunnel, e))?;
        self.emit(ProgressEvent::TunnelConnected {
            routing_id: wake.routing_id.to_hex(),
        });

        // Bytes 14–15 carry the real domain ID so no desktop drops the advert
        // (docs/hybrid-protocol.md#pitfall-linked-advert-domain).
        let plaintext = EidPlaintext::generate_state_assisted(tunnel.domain).map_err(NoiseError::from)?;
        let advert = paired.eid_key(&payload.client_nonce).encrypt(&plaintext);
        let responder = ResponderAwaitingMsg1::state_assisted(
            identity.identity_key(),
            &paired.psk(&plaintext),
            self.post_handshake(),
        )?;
        self.drive(socket, &advert, responder, SessionKind::Linked).await
    }

    /// Asks the platform whether the linked desktop `desktop_name` may start a session (within `limit`);
    /// anything but a yes is [`SessionError::LinkedSessionRefused`].
    async fn ask_to_accept(&self, desktop_name: &str, limit: Duration) -> Result<(), SessionError> {
        let approver = Arc::clone(&self.approver);
        let name = desktop_name.to_owned();
        // Raised when this future ends without an answer (time limit, session dropped): the question goes away.
        let cancel = Cancellation::new();
        let _withdraw = CancelOnDrop(cancel.clone());
        let task = tokio::task::spawn_blocking(move || approver.accept_cancellable(&name, &cancel));
        match tokio::time::timeout(limit, task).await {
            Ok(Ok(true)) => Ok(()),
            _ => Err(SessionError::LinkedSessionRefused {
                desktop: desktop_name.to_owned(),
            }),
        }
    }

    /// Serves CTAP requests until shutdown or close. Closing before any response was sent is an error.
    /// One ceremony per session ([`crate::ceremony`]); `link`, for QR sessions that may link, is sent
    /// just before the response of a ceremony that succeeded.
    async fn serve(
        &self,
        socket: &mut TunnelSocket,
        serving: &mut ResponderServing,
        mut link: Option<LinkOffer>,
    ) -> Result<SessionOutcome, SessionError> {
        let t = self.config.timeouts;
        let mut outcome = SessionOutcome {
            requests_served: 0,
            last_status: None,
            linked: false,
            shutdown_received: false,
        };
        let mut slot = CeremonySlot::new();
        loop {
            let frame = match socket
                .recv(t.request)
                .await
                .map_err(|e| ws_error(SessionStep::AwaitRequest, e))?
            {
                Some(frame) => frame,
                None if outcome.requests_served > 0 => return Ok(outcome),
                None => {
                    return Err(SessionError::TunnelClosed {
                        step: SessionStep::AwaitRequest,
                    });
                }
            };
            match serving
                .receive(&frame)
                .map_err(|e| role_error(SessionStep::AwaitRequest, e))?
            {
                ClientMessage::Shutdown => {
                    outcome.shutdown_received = true;
                    return Ok(outcome);
                }
                // Defined but unused from the desktop.
                ClientMessage::Update(_) => continue,
                // Only offered with the "dc" feature, which this phone does not advertise.
                ClientMessage::Json(_) => {
                    return Err(SessionError::UnexpectedMessage(MessageRefusal::JsonWithoutDc));
                }
                ClientMessage::Ctap(ctap) => {
                    let command = ctap.command;
                    let mut request = Vec::with_capacity(1 + ctap.params.len());
                    request.push(ctap.command);
                    request.extend_from_slice(&ctap.params);
                    self.emit(ProgressEvent::RequestReceived {
                        command: ReportedCommand::from_code(command),
                    });
                    self.emit(ProgressEvent::AwaitingUser);
                    let response = if ceremony::is_ceremony(&request) {
                        match slot.take() {
                            None => CtapAnswer {
                                response: vec![ceremony::SECOND_CEREMONY_STATUS],
                                error: None,
                            },
                            Some(ticket) => {
                                let in_flight = ticket.begin();
                                let response = self.call_engine(request, t.user).await?;
                                let done =
                                    in_flight.finish(response.response.first().copied().unwrap_or(0xff));
                                if let (Some(proof), Some(offer)) = (done.as_ref(), link.take()) {
                                    self.send_link(proof, offer, socket, serving).await?;
                                    outcome.linked = true;
                                }
                                slot.record(done);
                                response
                            }
                        }
                    } else {
                        self.call_engine(request, t.user).await?
                    };
                    let (status, body) = response
                        .response
                        .split_first()
                        .map_or((0, &[][..]), |(s, b)| (*s, b));
                    let message = AuthenticatorMessage::Ctap(CtapResponse {
                        status,
                        body: body.to_vec(),
                    });
                    send_message(socket, serving, &message, SessionStep::SendResponse, t.send).await?;
                    if let Some(EngineError::Store(StoreError::KeyInvalidated(why))) = response.error {
                        // The desktop has its failure status; the phone's app must hear why.
                        return Err(SessionError::KeyInvalidated(why));
                    }
                    outcome.requests_served += 1;
                    let status = ReportedStatus::from_code(status);
                    outcome.last_status = Some(status);
                    self.emit(ProgressEvent::Responded { status });
                }
            }
        }
    }

    async fn call_engine(&self, request: Vec<u8>, limit: Duration) -> Result<CtapAnswer, SessionError> {
        let engine = Arc::clone(&self.engine);
        // Raised when this future ends without the answer (timeout below, or the session dropped): a user
        // approving after that stores and signs nothing.
        let cancel = Cancellation::new();
        let _abandon = CancelOnDrop(cancel.clone());
        let task = tokio::task::spawn_blocking(move || engine.handle_ctap(&request, &cancel));
        match tokio::time::timeout(limit, task).await {
            Err(_) => Err(SessionError::Timeout {
                step: SessionStep::ProcessRequest,
            }),
            Ok(Err(join)) => Err(SessionError::Engine(join.to_string())),
            Ok(Ok(answer)) if answer.response.is_empty() => {
                Err(SessionError::Engine("empty engine response".into()))
            }
            Ok(Ok(answer)) => Ok(answer),
        }
    }
}

/// The error for linked sessions when the configured tunnel is Google's or Apple's service.
pub(crate) fn no_wake_service() -> SessionError {
    SessionError::TunnelConfig(
        "linked sessions need the phone's own tunnel service (a hashed domain ID); Google's and Apple's \
         services cannot wake this phone"
            .into(),
    )
}

pub(crate) async fn recv_or_closed(
    socket: &mut TunnelSocket,
    step: SessionStep,
    limit: Duration,
) -> Result<Vec<u8>, SessionError> {
    socket
        .recv(limit)
        .await
        .map_err(|e| ws_error(step, e))?
        .ok_or(SessionError::TunnelClosed { step })
}

async fn send(
    socket: &mut TunnelSocket,
    data: Vec<u8>,
    step: SessionStep,
    limit: Duration,
) -> Result<(), SessionError> {
    socket.send(data, limit).await.map_err(|e| match e {
        WsError::Protocol(_) => SessionError::TunnelClosed { step },
        other => ws_error(step, other),
    })
}

/// Encrypts `message` with the responder machine and sends it.
async fn send_message(
    socket: &mut TunnelSocket,
    serving: &mut ResponderServing,
    message: &AuthenticatorMessage,
    step: SessionStep,
    limit: Duration,
) -> Result<(), SessionError> {
    let frame = serving.send(message).map_err(|e| role_error(step, e))?;
    send(socket, frame, step, limit).await
}

/// The session error for a refusal of the responder machine at `step`. A frame that does not decrypt or
/// is empty is a bad frame, an unknown type byte its own error (Chromium closes the connection on both).
fn role_error(step: SessionStep, e: ResponderError) -> SessionError {
    match e {
        ResponderError::Noise(e) => SessionError::Handshake(e),
        ResponderError::Transport(e) => SessionError::BadFrame {
            step,
            reason: e.into(),
        },
        ResponderError::Message(MessageError::UnknownType(t)) => SessionError::UnknownMessageType(t),
        ResponderError::Message(MessageError::Empty) => SessionError::BadFrame {
            step,
            reason: FrameError::Empty,
        },
        ResponderError::Message(other) => SessionError::UnexpectedMessage(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_hybrid::{ContactId, LinkId, LinkingInfo, PrivateKey, RootSecret};

    fn vectors() -> serde_json::Value {
        let text = include_str!("../../../tests/data/hybrid-vectors.json");
        serde_json::from_str(text).unwrap()
    }

    fn h(v: &serde_json::Value, k: &str) -> Vec<u8> {
        hex::decode(v[k].as_str().unwrap()).unwrap()
    }

    #[test]
    fn qr_vector_parses() {
        let v = &vectors()["derived_qr_initiated_session"];
        let qr = parse_qr(v["qr_url"].as_str().unwrap()).unwrap();
        assert_eq!(
            qr.identity_key.to_uncompressed().to_vec(),
            h(v, "desktop_identity_public_uncompressed")
        );
        assert_eq!(qr.secret.as_bytes().to_vec(), h(v, "qr_secret"));
        assert_eq!(qr.known_assigned_domains(), 2);
        assert!(qr.desktop_can_link());
        assert!(parse_qr("fido:/123").is_err());
        assert!(
            parse_qr(&v["qr_url"].as_str().unwrap().to_lowercase()).is_ok(),
            "scheme is case-insensitive"
        );
        assert!(parse_qr("HTTP:/1").is_err());
        assert!(parse_qr("FIDO:/").is_err());
    }

    #[test]
    fn digital_credential_qr_is_refused() {
        use tandem_hybrid::{DesktopQr, RequestType};
        for hint in ["dcp", "dci"] {
            let qr = DesktopQr::generate(1_700_000_000, true, RequestType::parse(hint)).unwrap();
            let err = parse_qr(&qr.url()).expect_err("refused");
            assert_eq!(err, QrRejection::DigitalCredential(RequestType::parse(hint)));
            assert!(err.to_string().contains("digital credential"), "{err}");
        }
        for hint in ["ga", "mc", "something-new"] {
            let qr = DesktopQr::generate(1_700_000_000, true, RequestType::parse(hint)).unwrap();
            assert!(parse_qr(&qr.url()).is_ok(), "{hint}");
        }
    }

    #[test]
    fn linking_and_update_match_vectors() {
        let v = &vectors()["derived_qr_initiated_session"];
        let root = RootSecret::from_slice(&h(v, "root_secret")).unwrap();
        let contact = ContactId::new(h(v, "contact_id")).unwrap();
        let link_id = LinkId::from_slice(&h(v, "pairing_id")).unwrap();
        let identity = PrivateKey::from_bytes(&h(v, "phone_identity_private").try_into().unwrap()).unwrap();
        let desktop = PublicKey::from_uncompressed(&h(v, "desktop_identity_public_uncompressed")).unwrap();
        let hh = HandshakeHash::from_bytes(h(v, "handshake_hash").try_into().unwrap());
        let sig = tandem_hybrid::handshake_signature(&identity, &desktop, &hh);
        assert_eq!(sig.to_vec(), h(v, "linking_signature"));
        let secret = root.paired_secret(&contact, &link_id);
        assert_eq!(secret.as_bytes().to_vec(), h(v, "paired_secret"));
        // The vector's linking map carries a name; its update message must match byte for byte.
        let expected = h(v, "update_plaintext_with_type_byte");
        let map = tandem_cbor::decode_canonical(&expected[1..]).unwrap();
        let name = map
            .get_int(1)
            .and_then(|l| l.get_int(5))
            .and_then(tandem_cbor::Value::as_text)
            .unwrap()
            .to_string();
        let info = LinkingInfo::new(contact, link_id, secret, &identity, &name, &desktop, &hh);
        let update = AuthenticatorMessage::Update(UpdateMessage { linking: Some(info) }).to_bytes();
        assert_eq!(update, expected);
        // Padding-only: 512 bytes after Crypter padding, like the linked one.
        let plain = AuthenticatorMessage::Update(UpdateMessage { linking: None }).to_bytes();
        assert_eq!(tandem_hybrid::pad(&plain).len(), 512);
        assert_eq!(tandem_hybrid::pad(&expected).len(), 512);
    }

    /// How a desktop message the responder machine refuses becomes a session error.
    #[test]
    fn refused_messages() {
        let refusal = |bytes: &[u8]| {
            let e = ClientMessage::parse(bytes).expect_err("refused");
            role_error(SessionStep::AwaitRequest, ResponderError::Message(e))
        };
        assert_eq!(
            refusal(&[1]),
            SessionError::UnexpectedMessage(MessageRefusal::Malformed(MessageError::EmptyCtap))
        );
        assert_eq!(refusal(&[9, 1]), SessionError::UnknownMessageType(9));
        assert_eq!(
            refusal(&[]),
            SessionError::BadFrame {
                step: SessionStep::AwaitRequest,
                reason: FrameError::Empty
            }
        );
        assert_eq!(
            role_error(
                SessionStep::Update,
                ResponderError::Transport(tandem_hybrid::CrypterError::Decrypt)
            ),
            SessionError::BadFrame {
                step: SessionStep::Update,
                reason: tandem_hybrid::CrypterError::Decrypt.into()
            }
        );
    }
}
