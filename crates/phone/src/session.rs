//! The phone's session driver: QR-initiated and linked (state-assisted) sessions, end to end.
//!
//! Each step is bounded by a [`Timeouts`] entry and reported to the [`ProgressListener`]; every failure is a
//! [`SessionError`] naming the step. The protocol itself lives in `tandem-hybrid` (through
//! [`crate::proto`]); this module only sequences it over the tunnel and the radio.

use std::sync::Arc;
use std::time::Duration;

use tandem_engine::EngineError;
use tandem_engine::authenticator::CtapAnswer;
use tandem_engine::cancel::{CancelOnDrop, Cancellation};
use tandem_engine::store::StoreError;
use tandem_hybrid::eid::EidPlaintext;
use tandem_hybrid::ids::RoutingId;
use tandem_hybrid::keys::PublicKey;
use tandem_store::HybridStateStore;

use crate::ble::BleAdvertiser;
use crate::ceremony::{self, CeremonySlot, Completed};
use crate::config::{PhoneConfig, ResolvedTunnel};
use crate::consent::{LinkedSessionApprover, RefuseLinkedSessions};
use crate::engine::CtapEngine;
use crate::error::{SessionError, Step};
use crate::linking::{self, LinkIdentity, WakeRequest};
use crate::progress::{ProgressEvent, ProgressListener};
use crate::proto::{self, Incoming, Transport};
use crate::ws::{self, TunnelSocket, WsError};

/// How a session ended (successfully).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionOutcome {
    /// How many CTAP requests were answered.
    pub requests_served: u32,
    /// Status byte of the last response, if any.
    pub last_status: Option<u8>,
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

/// What a QR session needs to link once its ceremony succeeded.
struct LinkOffer {
    desktop_key: PublicKey,
    handshake_hash: [u8; 32],
    tunnel: ResolvedTunnel,
}

/// Maps a WebSocket-edge error to the session error for `step`.
pub(crate) fn ws_error(step: Step, e: WsError) -> SessionError {
    match e {
        WsError::BadUrl(u) => SessionError::TunnelConfig(format!("bad tunnel URL {u}")),
        WsError::Insecure(u) => SessionError::InsecureTunnelUrl(u),
        WsError::Connect(r) => SessionError::TunnelConnect(r),
        WsError::Rejected(status) => SessionError::TunnelRejected { status },
        WsError::Subprotocol => SessionError::MissingSubprotocol,
        WsError::Timeout => SessionError::Timeout { step },
        WsError::TextFrame => SessionError::BadFrame {
            step,
            reason: "non-binary WebSocket frame".into(),
        },
        WsError::Oversized => SessionError::BadFrame {
            step,
            reason: "message too large".into(),
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
        let qr = proto::parse_qr(qr_text).map_err(SessionError::InvalidQr)?;
        self.emit(ProgressEvent::QrParsed);

        let tunnel = self.config.tunnel.resolve(qr.known_assigned)?;
        let tunnel_id = qr.secret.tunnel_id();
        let url = format!("{}/cable/new/{}", tunnel.base_url, tunnel_id.to_hex());
        let (mut socket, headers) =
            TunnelSocket::open(&*self.config.connector, &url, &[], &self.config.tls, t.connect)
                .await
                .map_err(|e| ws_error(Step::ConnectTunnel, e))?;
        let routing = match ws::header(&headers, "x-cable-routing-id") {
            None => return Err(SessionError::MissingRoutingId),
            Some(v) => {
                RoutingId::from_hex(v.trim()).map_err(|_| SessionError::InvalidRoutingId(v.to_string()))?
            }
        };
        self.emit(ProgressEvent::TunnelConnected {
            routing_id: routing.to_hex(),
        });

        let plaintext = EidPlaintext::generate(&routing, tunnel.domain)
            .map_err(|e| SessionError::Handshake(format!("no randomness for the advert: {e}")))?;
        let advert = qr.secret.eid_key().encrypt(&plaintext);
        let mut guard = AdvertGuard(self.advertiser.as_ref(), false);
        self.advertiser.start(advert.as_bytes())?;
        guard.1 = true;
        self.emit(ProgressEvent::Advertising);

        let msg1 = recv_or_closed(&mut socket, Step::Handshake, t.handshake).await?;
        let psk = qr.secret.psk(&plaintext);
        let established = proto::respond_qr(&psk, &qr.desktop_key, &msg1).map_err(SessionError::Handshake)?;
        guard.stop();
        let mut transport = established.transport;
        send(&mut socket, established.msg2, Step::Handshake, t.send).await?;
        self.emit(ProgressEvent::HandshakeDone);

        let post = proto::post_handshake(self.engine.get_info());
        send_encrypted(&mut socket, &mut transport, &post, Step::PostHandshake, t.send).await?;

        // A padding-only update now; linking information, if any, follows only after the ceremony.
        let update = proto::update_message(None);
        send_encrypted(&mut socket, &mut transport, &update, Step::Update, t.send).await?;

        // Linking is offered only if the desktop can store it (QR key 4), the user allowed it (app setting
        // or "remember this computer" for this scan), and this session runs on the phone's own tunnel
        // service: the desktop will contact the service of this session's advert to wake the phone, and
        // Google's or Apple's service cannot wake it. It is sent only once the session's ceremony
        // succeeded (see `serve`).
        let allowed = self.config.linking || remember;
        let offer = if qr.supports_linking && allowed && self.config.tunnel.can_link_through(&tunnel) {
            Some(LinkOffer {
                desktop_key: qr.desktop_key,
                handshake_hash: established.handshake_hash,
                tunnel,
            })
        } else {
            None
        };

        let outcome = self.serve(&mut socket, &mut transport, offer).await?;
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
        transport: &mut Transport,
    ) -> Result<(), SessionError> {
        let link = self.prepare_link(&offer.desktop_key, &offer.handshake_hash)?;
        linking::record_link(self.state(), &link, &offer.tunnel)?;
        let update = proto::update_message(Some(&link.info));
        send_encrypted(
            socket,
            transport,
            &update,
            Step::Update,
            self.config.timeouts.send,
        )
        .await
    }

    fn prepare_link(
        &self,
        desktop_key: &tandem_hybrid::keys::PublicKey,
        handshake_hash: &[u8; 32],
    ) -> Result<linking::PreparedLink, SessionError> {
        let identity = LinkIdentity::load_or_create(self.state())?;
        identity.prepare_link(desktop_key, handshake_hash, &self.config.authenticator_name)
    }

    /// Runs one linked (state-assisted) session after a wake-up: joins the tunnel the service allocated,
    /// advertises the state-assisted EID, answers `NKpsk0` with the identity key, serves CTAP.
    pub async fn run_linked(&self, wake: WakeRequest) -> Result<SessionOutcome, SessionError> {
        let result = self.run_linked_inner(wake).await;
        self.finish(result)
    }

    async fn run_linked_inner(&self, wake: WakeRequest) -> Result<SessionOutcome, SessionError> {
        let t = self.config.timeouts;
        let identity = LinkIdentity::load(self.state())?
            .ok_or_else(|| SessionError::UnknownLink("this phone has no linking identity".into()))?;
        let payload = linking::ClientPayload::decode(&wake.client_payload)?;
        let Some(desktop) = self
            .state
            .get_link(payload.link_id.as_bytes())
            .map_err(|e| SessionError::Store(e.to_string()))?
        else {
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
        let (mut socket, _) =
            TunnelSocket::open(&*self.config.connector, &url, &[], &self.config.tls, t.connect)
                .await
                .map_err(|e| ws_error(Step::ConnectTunnel, e))?;
        self.emit(ProgressEvent::TunnelConnected {
            routing_id: wake.routing_id.to_hex(),
        });

        // Bytes 14–15 carry the real domain ID so no desktop drops the advert
        // (docs/hybrid-protocol.md#pitfall-linked-advert-domain).
        let plaintext = EidPlaintext::generate_state_assisted(tunnel.domain)
            .map_err(|e| SessionError::Handshake(format!("no randomness for the advert: {e}")))?;
        let advert = paired.eid_key(&payload.client_nonce).encrypt(&plaintext);
        let mut guard = AdvertGuard(self.advertiser.as_ref(), false);
        self.advertiser.start(advert.as_bytes())?;
        guard.1 = true;
        self.emit(ProgressEvent::Advertising);

        let msg1 = recv_or_closed(&mut socket, Step::Handshake, t.handshake).await?;
        let psk = paired.psk(&plaintext);
        let established =
            proto::respond_linked(&psk, identity.identity_key(), &msg1).map_err(SessionError::Handshake)?;
        guard.stop();
        let mut transport = established.transport;
        send(&mut socket, established.msg2, Step::Handshake, t.send).await?;
        self.emit(ProgressEvent::HandshakeDone);

        let post = proto::post_handshake(self.engine.get_info());
        send_encrypted(&mut socket, &mut transport, &post, Step::PostHandshake, t.send).await?;
        let outcome = self.serve(&mut socket, &mut transport, None).await?;
        socket.close(t.send).await;
        Ok(outcome)
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
        transport: &mut Transport,
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
                .map_err(|e| ws_error(Step::AwaitRequest, e))?
            {
                Some(frame) => frame,
                None if outcome.requests_served > 0 => return Ok(outcome),
                None => {
                    return Err(SessionError::TunnelClosed {
                        step: Step::AwaitRequest,
                    });
                }
            };
            let plaintext = transport
                .decrypt(&frame)
                .map_err(|reason| SessionError::BadFrame {
                    step: Step::AwaitRequest,
                    reason,
                })?;
            match proto::parse_incoming(&plaintext)? {
                Incoming::Shutdown => {
                    outcome.shutdown_received = true;
                    return Ok(outcome);
                }
                Incoming::Update => continue,
                Incoming::Ctap(request) => {
                    let command = request.first().copied().unwrap_or(0);
                    self.emit(ProgressEvent::RequestReceived { command });
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
                                    self.send_link(proof, offer, socket, transport).await?;
                                    outcome.linked = true;
                                }
                                slot.record(done);
                                response
                            }
                        }
                    } else {
                        self.call_engine(request, t.user).await?
                    };
                    let status = response.response.first().copied().unwrap_or(0);
                    let message = proto::ctap_message(&response.response);
                    send_encrypted(socket, transport, &message, Step::SendResponse, t.send).await?;
                    if let Some(EngineError::Store(StoreError::KeyInvalidated(why))) = response.error {
                        // The desktop has its failure status; the phone's app must hear why.
                        return Err(SessionError::KeyInvalidated(why));
                    }
                    outcome.requests_served += 1;
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
                step: Step::ProcessRequest,
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
    step: Step,
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
    step: Step,
    limit: Duration,
) -> Result<(), SessionError> {
    socket.send(data, limit).await.map_err(|e| match e {
        WsError::Protocol(_) => SessionError::TunnelClosed { step },
        other => ws_error(step, other),
    })
}

async fn send_encrypted(
    socket: &mut TunnelSocket,
    transport: &mut Transport,
    plaintext: &[u8],
    step: Step,
    limit: Duration,
) -> Result<(), SessionError> {
    let frame = transport
        .encrypt(plaintext)
        .map_err(|reason| SessionError::BadFrame { step, reason })?;
    send(socket, frame, step, limit).await
}
