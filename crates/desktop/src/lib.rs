//! Desktop-side hybrid peer (the browser's role) for testers and tests.
//!
//! [`QrSession`] shows a QR code, finds the phone's advert through an [`ble::AdvertScanner`], joins the
//! tunnel, runs the Noise initiator and one WebAuthn ceremony ([`webauthn`]), producing the W3C
//! `PublicKeyCredential` JSON. A verified link from the phone's update message allows a later
//! state-assisted ceremony ([`run_linked`]).

/// The BLE ports this driver scans through (re-exported so callers need not name `tandem-ble`).
pub use tandem_ble as ble;
pub mod error;
pub mod get_info;
mod link;
pub mod proto;
pub mod session;
pub mod webauthn;
/// The tunnel WebSocket edge, shared with the phone.
pub use tandem_tunnel_client as ws;

pub use error::{DesktopError, DesktopStep, FrameError, LinkingFault, MessageRefusal, PostHandshakeFault};
pub use session::{
    CeremonyResult, Channel, DesktopConfig, DesktopTimeouts, FoundAdvert, QrSession, StoredLink,
    connect_linked, find_advert, render_qr, run_linked,
};
pub use webauthn::{CreateRequest, GetRequest, RelyingParty, UserEntity, WebAuthnRequest};
pub use ws::TlsOptions;
