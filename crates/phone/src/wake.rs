//! The wake channel: Tandem's own way for a linked desktop to reach this phone. The phone keeps
//! `/tandem/wake/<contact id>` open on its tunnel service and receives one binary wake message per wake-up
//! (`{1: tunnel id, 2: routing id, 3: client payload}`, decoded by `tandem_hybrid::wake`).

use std::time::Duration;

use tandem_hybrid::WakeMessage;

use crate::error::{SessionError, SessionStep};
use crate::linking::LinkIdentity;
use crate::progress::ProgressEvent;
use crate::session::{Phone, no_wake_service, ws_error};
use crate::ws::TunnelSocket;

/// A wake-up: the tunnel the service allocated and the desktop's client payload. The name the phone's API
/// has always used for [`WakeMessage`]; decode one with [`WakeMessage::decode`].
pub type WakeRequest = WakeMessage;

/// An open wake channel to the phone's own tunnel service.
pub struct WakeChannel {
    socket: TunnelSocket,
}

impl WakeChannel {
    /// Opens `/tandem/wake/<base64url contact id>` on the configured service, creating the linking
    /// identity if needed.
    pub async fn open(phone: &Phone) -> Result<Self, SessionError> {
        let tunnel = phone.config().tunnel.wake_service().ok_or_else(no_wake_service)?;
        let identity = LinkIdentity::load_or_create(phone.state())?;
        let url = format!(
            "{}/tandem/wake/{}",
            tunnel.base_url,
            identity.contact_id().to_base64url()
        );
        let (socket, _) = TunnelSocket::open(
            &*phone.config().connector,
            &url,
            &[],
            &phone.config().tls,
            phone.config().timeouts.connect,
        )
        .await
        .map_err(|e| ws_error(SessionStep::WakeChannel, e))?;
        phone.emit(ProgressEvent::WaitingForDesktop);
        Ok(WakeChannel { socket })
    }

    /// Waits up to `limit` for the next wake-up.
    pub async fn next(&mut self, limit: Duration) -> Result<WakeRequest, SessionError> {
        let frame = self
            .socket
            .recv(limit)
            .await
            .map_err(|e| ws_error(SessionStep::WakeChannel, e))?
            .ok_or(SessionError::TunnelClosed {
                step: SessionStep::WakeChannel,
            })?;
        Ok(WakeMessage::decode(&frame)?)
    }
}
