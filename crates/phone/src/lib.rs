//! Phone-side hybrid session driver: tunnel client, BLE advert, Noise responder, CTAP serving.
//!
//! [`Phone::run_qr`] runs a QR-initiated session from the scanned text; [`WakeChannel`] and
//! [`Phone::run_linked`] serve linked (state-assisted) sessions. Progress goes to a [`ProgressListener`];
//! failures are [`SessionError`]s that name the step. The public API uses owned types, `Arc<dyn Trait>`
//! callbacks and async fns so a uniffi layer can wrap it directly.

/// The BLE ports this driver advertises through (re-exported so callers need not name `tandem-ble`).
pub use tandem_ble as ble;
pub mod ceremony;
mod config;
mod consent;
mod engine;
mod error;
mod linking;
mod progress;
mod session;
mod wake;
/// The tunnel WebSocket edge, shared with the desktop peer.
pub use tandem_tunnel_client as ws;

pub use config::{PhoneConfig, ResolvedTunnel, Timeouts, Tunnel};
pub use consent::{LinkedSessionApprover, RefuseLinkedSessions};
pub use engine::CtapEngine;
pub use error::{FrameError, MessageRefusal, QrRejection, SessionError, SessionStep, WakeFault};
pub use linking::LinkIdentity;
pub use progress::{NoProgress, ProgressEvent, ProgressListener};
pub use session::{Phone, SessionOutcome};
pub use tandem_hybrid::ClientPayload;
pub use wake::{WakeChannel, WakeRequest};
pub use ws::TlsOptions;
