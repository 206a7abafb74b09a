//! The wake channel: Tandem's own way for a linked desktop to reach this phone. The phone keeps
//! `/tandem/wake/<contact id>` open on its tunnel service and receives one binary wake message per wake-up
//! (`{1: tunnel id, 2: routing id, 3: client payload}`, decoded by `tandem_hybrid::wake`).

use std::time::Duration;

use tandem_hybrid::{ClientPayload, WakeMessage};

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

    /// Waits up to `limit` for the next usable wake-up. A frame that is not a wake message, or whose
    /// client payload does not parse, is skipped: anyone who learned the contact ID can send one, and it
    /// must not end the phone's wait for its real desktops.
    pub async fn next(&mut self, limit: Duration) -> Result<WakeRequest, SessionError> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self
                .socket
                .recv(left)
                .await
                .map_err(|e| ws_error(SessionStep::WakeChannel, e))?
                .ok_or(SessionError::TunnelClosed {
                    step: SessionStep::WakeChannel,
                })?;
            match usable(&frame) {
                Some(wake) => return Ok(wake),
                None => tracing::debug!(len = frame.len(), "unusable wake message skipped"),
            }
        }
    }
}

/// The wake message in `frame` if it and its client payload parse.
fn usable(frame: &[u8]) -> Option<WakeRequest> {
    let wake = WakeMessage::decode(frame).ok()?;
    ClientPayload::from_cbor(&wake.client_payload).ok()?;
    Some(wake)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tandem_hybrid::{ClientNonce, LinkId, RequestType, RoutingId, TunnelId};

    #[test]
    fn only_wakes_with_a_client_payload_are_usable() {
        let payload = ClientPayload {
            link_id: LinkId::from_bytes([7; 8]),
            client_nonce: ClientNonce::from_bytes([9; 16]),
            request_type: RequestType::GetAssertion,
        };
        let wake = WakeMessage {
            tunnel_id: TunnelId::from_bytes([1; 16]),
            routing_id: RoutingId::from_bytes([2, 3, 4]),
            client_payload: payload.to_cbor(),
        };
        assert_eq!(usable(&wake.encode()), Some(wake.clone()));
        assert_eq!(usable(&[0xff, 0x00]), None);
        assert_eq!(usable(&[]), None);
        let junk_payload = WakeMessage {
            client_payload: vec![0xa0],
            ..wake
        };
        assert_eq!(usable(&junk_payload.encode()), None);
    }
}
