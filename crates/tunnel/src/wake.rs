//! Wake-ups the server queues for a phone's wake channel. The wire format and its one codec are
//! `tandem_hybrid::wake` (the phone decodes with the same code); this module only holds a pending wake-up
//! in the server's own identifier types.

pub use tandem_hybrid::{MAX_CLIENT_PAYLOAD, WakeError, WakeMessage};

use crate::ids::{RoutingId, TunnelId};

/// A wake-up for a state-assisted transaction, as the registry queues it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PendingWake {
    /// Tunnel the phone must join.
    pub(crate) tunnel: TunnelId,
    /// Routing ID to put in the connect path.
    pub(crate) routing: RoutingId,
    /// The desktop's client payload (CBOR), verbatim.
    pub(crate) client_payload: Vec<u8>,
}

impl PendingWake {
    /// The wire message ([`WakeMessage::encode`] gives its bytes).
    pub(crate) fn to_message(&self) -> WakeMessage {
        WakeMessage {
            tunnel_id: tandem_hybrid::TunnelId::from_bytes(self.tunnel.0),
            routing_id: tandem_hybrid::RoutingId::from_bytes(self.routing.0),
            client_payload: self.client_payload.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pending_wake_encodes_through_the_shared_codec() {
        let pending = PendingWake {
            tunnel: TunnelId([0x11; 16]),
            routing: RoutingId([1, 2, 3]),
            client_payload: vec![0xa0],
        };
        let expected = hex::decode("a301501111111111111111111111111111111102430102030341a0").unwrap();
        assert_eq!(pending.to_message().encode(), expected);
        let back = WakeMessage::decode(&expected).unwrap();
        assert_eq!(back.tunnel_id.as_bytes(), &pending.tunnel.0);
        assert_eq!(back.routing_id.as_bytes(), &pending.routing.0);
    }
}
