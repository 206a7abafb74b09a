//! [`HybridSession`]: the phone side of the FIDO hybrid transport (caBLE v2) as an FFI object.
//!
//! The app scans the desktop's QR code and hands the text to [`HybridSession::run_qr`]; the session connects
//! to the tunnel service, advertises through the app's [`BleAdvertiser`], runs the Noise handshake and answers
//! the desktop's CTAP requests with the [`Authenticator`] until the desktop is done. Linked desktops wake the
//! phone later without a QR code ([`HybridSession::serve_linked`], or [`HybridSession::run_linked`] with a
//! wake message that arrived by push). Cancelling the calling coroutine / Swift task cancels the session.

use std::sync::Arc;
use std::time::Duration;

use tandem_phone::ble as phone_ble;
use tandem_phone::{
    Phone, PhoneConfig, ProgressEvent, SessionError, SessionOutcome, SessionStep, Timeouts, TlsOptions,
    Tunnel, WakeChannel, WakeRequest,
};

use crate::TandemError;
use crate::authenticator::Authenticator;
use crate::callbacks::{AdvertiseError, ApproverAdapter, BleAdvertiser, LinkedSessionApprover};
use crate::runtime::{guard, spawn};
use crate::store::CredentialStore;
use crate::transport::{PlatformConnector, WebSocketClient};
use crate::types::{CtapCommand, CtapStatus};

/// Which tunnel service the phone uses: `tandem_phone::Tunnel`, derived.
#[uniffi::remote(Enum)]
pub enum Tunnel {
    /// An assigned domain (0 = cable.ua5v.com, 1 = cable.auth.com), with a hashed domain ID (≥ 256) to
    /// fall back to when the desktop does not know `id`. Google's and Apple's services cannot wake this
    /// phone, so sessions through them never offer linking.
    Assigned {
        /// Assigned domain ID (0 or 1).
        id: u16,
        /// Hashed domain ID (≥ 256) used instead when the desktop does not know `id`.
        fallback: u16,
    },
    /// A hashed domain ID (≥ 256).
    Hashed {
        /// The domain ID.
        id: u16,
    },
    /// A self-hosted or test service by URL (`wss://host[:port]`, or `ws://` on loopback when allowed);
    /// `domain_id` is what the advert carries. Linking (and `serve_linked`) needs this phone's own service:
    /// a hashed `domain_id` (≥ 256) and a host other than Google's or Apple's.
    Url {
        /// Base URL without a trailing slash.
        base_url: String,
        /// Domain ID to advertise (0, 1 or ≥ 256).
        domain_id: u16,
    },
}

/// Session settings.
#[derive(Debug, Clone, PartialEq, Eq, uniffi::Record)]
pub struct SessionOptions {
    /// The tunnel service.
    pub tunnel: Tunnel,
    /// Allow plain `ws://` to a loopback host (tests, local demos). Ignored for any other host.
    pub allow_insecure_loopback: bool,
    /// The user's "link computers" setting (apps default it to off): offer linking in every QR session
    /// whose desktop asks for it. Without it only [`HybridSession::run_qr_remembering`] with "remember
    /// this computer" links. A link is sent only after the session's ceremony succeeded.
    pub linking: bool,
    /// The name desktops show for this phone.
    pub authenticator_name: String,
    /// One limit in seconds for every step (connect, handshake, each request, the user); 0 keeps the
    /// per-step defaults (15 s connect, 60 s handshake and requests, 120 s for the user).
    pub step_timeout_secs: u32,
}

/// The step of a session where something failed: `tandem_phone::SessionStep`, derived.
#[uniffi::remote(Enum)]
pub enum SessionStep {
    /// Parsing the QR code.
    ParseQr,
    /// Connecting to the tunnel service.
    ConnectTunnel,
    /// Starting the BLE advert.
    Advertise,
    /// The Noise handshake.
    Handshake,
    /// Sending the post-handshake message.
    PostHandshake,
    /// Sending the linking update.
    Update,
    /// Waiting for the desktop's next message.
    AwaitRequest,
    /// The engine processing a request.
    ProcessRequest,
    /// Sending a response.
    SendResponse,
    /// The wake channel (linked sessions).
    WakeChannel,
}

impl From<SessionError> for TandemError {
    fn from(e: SessionError) -> Self {
        let reason = e.to_string();
        let protocol = |step: SessionStep| TandemError::Protocol {
            step,
            reason: reason.clone(),
        };
        match e {
            SessionError::InvalidQr(reason) => TandemError::InvalidQr {
                reason: reason.to_string(),
            },
            SessionError::Advertise(e) => TandemError::Advertise {
                reason: e.to_string(),
            },
            SessionError::Timeout { step } => TandemError::Timeout { step },
            // Linking state failures keep the store's kind (a key-protector refusal stays one).
            SessionError::Store(e) => e.into(),
            SessionError::Randomness(_) => TandemError::Internal { reason },
            // A tunnel choice or URL the app configured that cannot work: the app's input, not the network.
            SessionError::TunnelConfig(_) | SessionError::InsecureTunnelUrl(_) => {
                TandemError::InvalidInput { reason }
            }
            SessionError::Engine(reason) => TandemError::Internal { reason },
            SessionError::KeyInvalidated(reason) => TandemError::KeyInvalidated { reason },
            // The user refused (or ignored) a linked desktop's request: as for a cancelled session.
            SessionError::LinkedSessionRefused { .. } => TandemError::Cancelled,
            SessionError::TunnelConnect(_)
            | SessionError::TunnelRejected { .. }
            | SessionError::MissingSubprotocol
            | SessionError::MissingRoutingId
            | SessionError::InvalidRoutingId(_) => protocol(SessionStep::ConnectTunnel),
            SessionError::Handshake(_) => protocol(SessionStep::Handshake),
            SessionError::TunnelClosed { step }
            | SessionError::BadFrame { step, .. }
            | SessionError::WebSocket { step, .. } => protocol(step),
            SessionError::UnknownMessageType(_) | SessionError::UnexpectedMessage(_) => {
                protocol(SessionStep::AwaitRequest)
            }
            SessionError::BadWake(_) | SessionError::UnknownLink(_) => protocol(SessionStep::WakeChannel),
        }
    }
}

/// What the session tells the UI as it goes: `tandem_phone::ProgressEvent`, derived.
#[uniffi::remote(Enum)]
pub enum ProgressEvent {
    /// The QR code was parsed and is valid.
    QrParsed,
    /// The wake channel is open: linked desktops can reach this phone from now on (`serve_linked`).
    WaitingForDesktop,
    /// The tunnel service accepted the connection (`routing_id` is hex; empty for linked sessions).
    TunnelConnected {
        /// Routing ID the service assigned.
        routing_id: String,
    },
    /// The BLE advert is on the air.
    Advertising,
    /// The Noise handshake completed.
    HandshakeDone,
    /// A CTAP request arrived.
    RequestReceived {
        /// The CTAP command ([`CtapCommand::MakeCredential`] to create a passkey,
        /// [`CtapCommand::GetAssertion`] to sign in...).
        command: CtapCommand,
    },
    /// The engine is waiting for the user.
    AwaitingUser,
    /// A response was sent.
    Responded {
        /// The CTAP status sent ([`CtapStatus::Ok`] on success).
        status: CtapStatus,
    },
    /// The session ended normally.
    Finished,
    /// The session failed.
    Failed {
        /// Why, in words.
        reason: String,
    },
}

/// Receives progress events, in order, from the session's thread: return quickly (post to the UI thread).
#[uniffi::export(foreign)]
pub trait ProgressListener: Send + Sync {
    /// Called once per event.
    fn on_event(&self, event: ProgressEvent);
}

/// How a session ended: `tandem_phone::SessionOutcome`, derived.
#[uniffi::remote(Record)]
pub struct SessionOutcome {
    /// How many CTAP requests were answered.
    pub requests_served: u32,
    /// Status of the last response, if any.
    pub last_status: Option<CtapStatus>,
    /// Whether this session sent the desktop linking information (recorded as a linked desktop from then
    /// on, as Chrome stores it on arrival, even if the request then failed).
    pub linked: bool,
    /// Whether the desktop ended with a shutdown message (else it closed the tunnel).
    pub shutdown_received: bool,
}

/// A session that ran to its end is a success only if its last CTAP answer was; otherwise the refusal is
/// reported with its status, as the WebAuthn-level calls do.
fn completed(outcome: SessionOutcome) -> Result<SessionOutcome, TandemError> {
    match outcome.last_status {
        Some(status) if status != CtapStatus::Ok => Err(TandemError::Ctap {
            status,
            reason: format!(
                "the desktop's last request was refused with CTAP status 0x{:02x}",
                status.code()
            ),
        }),
        _ => Ok(outcome),
    }
}

struct AdvertiserAdapter(Arc<dyn BleAdvertiser>);

impl phone_ble::BleAdvertiser for AdvertiserAdapter {
    fn start(&self, advert: &[u8; 20]) -> Result<(), phone_ble::AdvertiseError> {
        self.0.start(advert.to_vec()).map_err(|e| match e {
            AdvertiseError::Unavailable { reason } => phone_ble::AdvertiseError::Unavailable(reason),
            AdvertiseError::Failed { reason } => phone_ble::AdvertiseError::Failed(reason),
        })
    }

    fn stop(&self) {
        self.0.stop();
    }
}

struct ListenerAdapter(Arc<dyn ProgressListener>);

impl tandem_phone::ProgressListener for ListenerAdapter {
    fn on_event(&self, event: ProgressEvent) {
        // A listener that throws must not end the session: uniffi reports it as a panic, which stays here.
        let listener = Arc::clone(&self.0);
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || listener.on_event(event)));
    }
}

/// The phone side of hybrid sessions, over one authenticator and credential store.
#[derive(uniffi::Object)]
pub struct HybridSession {
    phone: Arc<Phone>,
}

impl std::fmt::Debug for HybridSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HybridSession").finish_non_exhaustive()
    }
}

#[uniffi::export]
impl HybridSession {
    /// Assembles a phone: `authenticator` answers CTAP, `store` keeps the linking state, `advertiser` sends
    /// the BLE advert, `web_sockets` carries the tunnel (the platform's WebSocket client, so its TLS, trust
    /// store and proxies apply — a self-hosted tunnel's private CA is configured there), `listener` receives
    /// progress, `linked_sessions` asks the user before each linked session starts.
    #[uniffi::constructor]
    pub fn new(
        authenticator: Arc<Authenticator>,
        store: Arc<CredentialStore>,
        advertiser: Arc<dyn BleAdvertiser>,
        web_sockets: Arc<dyn WebSocketClient>,
        listener: Arc<dyn ProgressListener>,
        linked_sessions: Arc<dyn LinkedSessionApprover>,
        options: SessionOptions,
    ) -> Result<Arc<Self>, TandemError> {
        guard(|| {
            if options.authenticator_name.is_empty() {
                return Err(TandemError::InvalidInput {
                    reason: "authenticator_name is empty".into(),
                });
            }
            let mut config =
                PhoneConfig::with_connector(options.tunnel, Arc::new(PlatformConnector(web_sockets)));
            config.tls = TlsOptions {
                allow_insecure_loopback: options.allow_insecure_loopback,
                extra_roots_der: Vec::new(),
            };
            if options.step_timeout_secs > 0 {
                config.timeouts = Timeouts::all(Duration::from_secs(options.step_timeout_secs.into()));
            }
            config.linking = options.linking;
            config.authenticator_name = options.authenticator_name;
            let engine: Arc<dyn tandem_phone::CtapEngine> = authenticator.engine();
            let phone = Phone::new(
                config,
                engine,
                store.sqlite(),
                Arc::new(AdvertiserAdapter(advertiser)),
                Arc::new(ListenerAdapter(listener)),
            )
            .with_linked_session_approver(Arc::new(ApproverAdapter(linked_sessions)));
            Ok(Arc::new(HybridSession {
                phone: Arc::new(phone),
            }))
        })
    }

    /// Runs one QR-initiated session from the scanned text (`FIDO:/…`) until the desktop is done.
    ///
    /// Throws `Ctap` when the session ran but the last request was refused (the user declined, no
    /// matching passkey...): the desktop got that status, and the app should tell the user too.
    pub async fn run_qr(&self, qr_text: String) -> Result<SessionOutcome, TandemError> {
        let phone = Arc::clone(&self.phone);
        spawn(async move { completed(phone.run_qr(&qr_text).await?) }).await
    }

    /// [`HybridSession::run_qr`] with the user's "remember this computer" choice, asked before the scan:
    /// when `true` this session may link even with the linking setting off.
    pub async fn run_qr_remembering(
        &self,
        qr_text: String,
        remember_this_computer: bool,
    ) -> Result<SessionOutcome, TandemError> {
        let phone = Arc::clone(&self.phone);
        spawn(async move { completed(phone.run_qr_remembering(&qr_text, remember_this_computer).await?) })
            .await
    }

    /// Runs one linked session (same outcome rules as [`HybridSession::run_qr`]) from a wake message (CBOR `{1: tunnel id, 2: routing id, 3: client
    /// payload}`) that arrived by push.
    pub async fn run_linked(&self, wake_message: Vec<u8>) -> Result<SessionOutcome, TandemError> {
        let phone = Arc::clone(&self.phone);
        spawn(async move {
            let wake = WakeRequest::decode(&wake_message).map_err(SessionError::from)?;
            completed(phone.run_linked(wake).await?)
        })
        .await
    }

    /// Opens the wake channel to the phone's tunnel service, waits up to `wait_secs` for a linked desktop
    /// to ask for this phone, then serves that session.
    pub async fn serve_linked(&self, wait_secs: u32) -> Result<SessionOutcome, TandemError> {
        let phone = Arc::clone(&self.phone);
        spawn(async move {
            let mut channel = WakeChannel::open(&phone).await?;
            let wake = channel.next(Duration::from_secs(wait_secs.into())).await?;
            drop(channel);
            completed(phone.run_linked(wake).await?)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(last_status: Option<u8>) -> SessionOutcome {
        SessionOutcome {
            requests_served: 1,
            last_status: last_status.map(CtapStatus::from_code),
            linked: false,
            shutdown_received: true,
        }
    }

    #[test]
    fn a_refused_last_request_is_a_ctap_error() {
        assert!(matches!(
            completed(outcome(Some(0x27))),
            Err(TandemError::Ctap {
                status: CtapStatus::OperationDenied,
                ..
            })
        ));
        assert_eq!(completed(outcome(Some(0))).map(|o| o.requests_served), Ok(1));
        assert_eq!(completed(outcome(None)).map(|o| o.last_status), Ok(None));
    }

    #[test]
    fn session_errors_keep_their_kind_and_step() {
        assert_eq!(
            TandemError::from(SessionError::InvalidQr(tandem_hybrid::QrError::Prefix.into())),
            TandemError::InvalidQr {
                reason: "QR code does not start with FIDO:/".into()
            }
        );
        assert_eq!(
            TandemError::from(SessionError::Timeout {
                step: SessionStep::Handshake
            }),
            TandemError::Timeout {
                step: SessionStep::Handshake
            }
        );
        assert!(matches!(
            TandemError::from(SessionError::TunnelRejected { status: 404 }),
            TandemError::Protocol { step: SessionStep::ConnectTunnel, reason } if reason.contains("404")
        ));
        assert!(matches!(
            TandemError::from(SessionError::Advertise(phone_ble::AdvertiseError::Unavailable("off".into()))),
            TandemError::Advertise { reason } if reason.contains("off")
        ));
        assert_eq!(
            completed(outcome(Some(0))).map(|o| o.last_status),
            Ok(Some(CtapStatus::Ok))
        );
        assert_eq!(
            TandemError::from(SessionError::LinkedSessionRefused {
                desktop: "desktop 01".into()
            }),
            TandemError::Cancelled
        );
    }

    /// A tunnel the app configured wrongly is its input's fault, not the network's.
    #[test]
    fn tunnel_configuration_errors_are_invalid_input() {
        for e in [
            SessionError::TunnelConfig("bad tunnel URL ftp://x".into()),
            SessionError::InsecureTunnelUrl("ws://example.com".into()),
        ] {
            assert!(
                matches!(TandemError::from(e.clone()), TandemError::InvalidInput { .. }),
                "{e:?}"
            );
        }
    }

    /// A key-protector refusal while reading or writing the linking state is reported as such, not as a
    /// database failure; real database failures stay `Database`.
    #[test]
    fn linking_store_failures_keep_their_kind() {
        use tandem_engine::store::StoreError;
        assert_eq!(
            TandemError::from(SessionError::Store(StoreError::KeyProtector(
                "user not authenticated".into()
            ))),
            TandemError::KeyProtector {
                reason: "user not authenticated".into()
            }
        );
        assert_eq!(
            TandemError::from(SessionError::Store(StoreError::Database("disk full".into()))),
            TandemError::Database {
                reason: "disk full".into()
            }
        );
    }
}
