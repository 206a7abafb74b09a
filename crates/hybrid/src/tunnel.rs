//! Tunnel-service request shapes (docs/hybrid-protocol.md#tunnel-websocket): paths, header names and the
//! subprotocol. Pure string building; the WebSocket client lives in the drivers.

use crate::domain::DomainId;
use crate::ids::{ContactId, IdError, RoutingId, TunnelId};

/// WebSocket subprotocol both sides must request and the server must select.
pub const SUBPROTOCOL: &str = "fido.cable";
/// Response header of `/cable/new` carrying the hex routing ID (case-insensitive name).
pub const ROUTING_ID_HEADER: &str = "X-caBLE-Routing-ID";
/// Request header of `/cable/contact` carrying the hex client payload.
pub const CLIENT_PAYLOAD_HEADER: &str = "X-caBLE-Client-Payload";
/// Request/response header negotiating the one-byte connect signal on `/cable/contact`.
pub const SIGNAL_CONNECTION_HEADER: &str = "X-caBLE-Signal-Connection";
/// The plaintext byte the service sends the desktop when the phone joins (if negotiated).
pub const CONNECT_SIGNAL: u8 = 0x00;

/// Phone, QR-initiated: `/cable/new/<HEX(tunnel_id)>`.
pub fn new_tunnel_path(tunnel_id: &TunnelId) -> String {
    format!("/cable/new/{}", tunnel_id.to_hex())
}

/// Desktop (QR) and phone (state-assisted): `/cable/connect/<HEX(routing_id)>/<HEX(tunnel_id)>`.
pub fn connect_path(routing_id: &RoutingId, tunnel_id: &TunnelId) -> String {
    format!("/cable/connect/{}/{}", routing_id.to_hex(), tunnel_id.to_hex())
}

/// Desktop, state-assisted: `/cable/contact/<base64url(contact_id)>`.
pub fn contact_path(contact_id: &ContactId) -> String {
    format!("/cable/contact/{}", contact_id.to_base64url())
}

/// `wss://<host of domain><path>`.
pub fn url(domain: DomainId, path: &str) -> String {
    format!("wss://{}{}", domain.host(), path)
}

/// Parses the `X-caBLE-Routing-ID` header value (3 bytes of hex; a missing/invalid one aborts the phone).
pub fn parse_routing_id(header_value: &str) -> Result<RoutingId, IdError> {
    RoutingId::from_hex(header_value.trim())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        let t = TunnelId::from_bytes([0xde; 16]);
        let r = parse_routing_id(" 0a0b0c ").unwrap();
        assert_eq!(
            connect_path(&r, &t),
            format!("/cable/connect/0A0B0C/{}", "DE".repeat(16))
        );
        assert_eq!(url(DomainId::APPLE, "/x"), "wss://cable.auth.com/x");
        assert!(parse_routing_id("0a0b").is_err());
    }
}
