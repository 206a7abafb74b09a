//! The Tandem wake message: what a tunnel service sends a phone on its wake channel
//! (docs/hybrid-protocol.md#state-assisted). The one codec for it: the tunnel server encodes with it, the
//! phone decodes with it.
//!
//! Wire format: one binary WebSocket message holding a canonical CBOR map
//!
//! | key | type | value |
//! |---|---|---|
//! | 1 | bstr, 16 bytes | tunnel ID allocated by the server |
//! | 2 | bstr, 3 bytes | routing ID (byte 0 = issuing instance) |
//! | 3 | bstr, ≤ [`MAX_CLIENT_PAYLOAD`] bytes | the desktop's client payload ([`crate::client_payload`]), verbatim |
//!
//! These are the three fields of Google's FCM wake message (`caBLE.tunnelID`, `caBLE.routingID`,
//! `caBLE.clientPayload`), carried as bytes instead of hex. Unknown keys are ignored, as Chromium's phone
//! ignores FCM data fields and CBOR map keys it does not read (docs/protocol-notes.md); wrong types, wrong
//! lengths and missing keys are rejected.

use crate::ids::{IdError, RoutingId, TunnelId};
use tandem_cbor::Value;

/// Largest client payload a wake message carries, in bytes.
pub const MAX_CLIENT_PAYLOAD: usize = 2048;

/// Largest whole wake message: the payload plus the map and the two IDs.
const MAX_WAKE_LEN: usize = MAX_CLIENT_PAYLOAD + 64;

/// Why a wake message was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WakeError {
    /// Longer than any valid wake message (checked before parsing).
    #[error("wake message is too long")]
    TooLong,
    /// Not one canonical CBOR item.
    #[error("wake message CBOR: {0}")]
    Cbor(#[from] tandem_cbor::DecodeError),
    /// Not a map.
    #[error("wake message is not a CBOR map")]
    NotMap,
    /// A required key is absent.
    #[error("wake message key {0} missing")]
    Missing(u8),
    /// A key is not a byte string.
    #[error("wake message key {0} must be a byte string")]
    NotBytes(u8),
    /// An ID has the wrong length.
    #[error("wake message key {key}: {source}")]
    Id {
        /// The key.
        key: u8,
        /// What was wrong.
        source: IdError,
    },
    /// The client payload is longer than [`MAX_CLIENT_PAYLOAD`].
    #[error("wake message client payload is too long")]
    PayloadTooLong,
}

/// A wake-up for a state-assisted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeMessage {
    /// Key 1: the tunnel the phone must join.
    pub tunnel_id: TunnelId,
    /// Key 2: the routing ID for the connect path.
    pub routing_id: RoutingId,
    /// Key 3: the desktop's client payload (CBOR), verbatim.
    pub client_payload: Vec<u8>,
}

impl WakeMessage {
    /// The canonical CBOR encoding (keys 1, 2, 3 in order).
    pub fn encode(&self) -> Vec<u8> {
        Value::map()
            .insert(1u8, Value::bytes(self.tunnel_id.as_bytes().to_vec()))
            .insert(2u8, Value::bytes(self.routing_id.as_bytes().to_vec()))
            .insert(3u8, Value::bytes(self.client_payload.clone()))
            .build()
            .to_vec()
    }

    /// Decodes and validates a wake message.
    pub fn decode(bytes: &[u8]) -> Result<Self, WakeError> {
        if bytes.len() > MAX_WAKE_LEN {
            return Err(WakeError::TooLong);
        }
        let map = tandem_cbor::decode_canonical(bytes)?;
        if map.as_map().is_none() {
            return Err(WakeError::NotMap);
        }
        let field = |key: u8| -> Result<&[u8], WakeError> {
            map.get_int(i128::from(key))
                .ok_or(WakeError::Missing(key))?
                .as_bytes()
                .ok_or(WakeError::NotBytes(key))
        };
        let tunnel_id = TunnelId::from_slice(field(1)?).map_err(|source| WakeError::Id { key: 1, source })?;
        let routing_id =
            RoutingId::from_slice(field(2)?).map_err(|source| WakeError::Id { key: 2, source })?;
        let client_payload = field(3)?;
        if client_payload.len() > MAX_CLIENT_PAYLOAD {
            return Err(WakeError::PayloadTooLong);
        }
        Ok(WakeMessage {
            tunnel_id,
            routing_id,
            client_payload: client_payload.to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> WakeMessage {
        WakeMessage {
            tunnel_id: TunnelId::from_bytes([0x11; 16]),
            routing_id: RoutingId::from_bytes([1, 2, 3]),
            client_payload: vec![0xa0],
        }
    }

    #[test]
    fn known_answer() {
        let expected = hex::decode(concat!(
            "a3",
            "01",
            "50",
            "11111111111111111111111111111111",
            "02",
            "43",
            "010203",
            "03",
            "41",
            "a0"
        ))
        .unwrap();
        assert_eq!(sample().encode(), expected);
        assert_eq!(WakeMessage::decode(&expected).unwrap(), sample());
    }

    #[test]
    fn unknown_keys_are_ignored() {
        let with_extra = Value::map()
            .insert(1u8, Value::bytes(vec![0x11; 16]))
            .insert(2u8, Value::bytes(vec![1, 2, 3]))
            .insert(3u8, Value::bytes(vec![0xa0]))
            .insert(4u8, "from a newer server")
            .build()
            .to_vec();
        assert_eq!(WakeMessage::decode(&with_extra).unwrap(), sample());
    }

    #[test]
    fn rejects_bad_shapes() {
        let good = sample().encode();
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(WakeMessage::decode(&trailing), Err(WakeError::Cbor(_))));
        assert!(matches!(
            WakeMessage::decode(&good[..good.len() - 1]),
            Err(WakeError::Cbor(_))
        ));
        assert!(matches!(WakeMessage::decode(&[]), Err(WakeError::Cbor(_))));
        assert_eq!(WakeMessage::decode(&[0x01]), Err(WakeError::NotMap));
        assert_eq!(WakeMessage::decode(&[0xa0]), Err(WakeError::Missing(1)));
        let long_routing = Value::map()
            .insert(1u8, Value::bytes(vec![0; 16]))
            .insert(2u8, Value::bytes(vec![0; 4]))
            .insert(3u8, Value::bytes(vec![]))
            .build()
            .to_vec();
        assert!(matches!(
            WakeMessage::decode(&long_routing),
            Err(WakeError::Id { key: 2, .. })
        ));
        let text_payload = Value::map()
            .insert(1u8, Value::bytes(vec![0; 16]))
            .insert(2u8, Value::bytes(vec![0; 3]))
            .insert(3u8, "x")
            .build()
            .to_vec();
        assert_eq!(WakeMessage::decode(&text_payload), Err(WakeError::NotBytes(3)));
        let mut big = sample();
        big.client_payload = vec![0; MAX_CLIENT_PAYLOAD + 1];
        assert_eq!(WakeMessage::decode(&big.encode()), Err(WakeError::PayloadTooLong));
        assert_eq!(
            WakeMessage::decode(&vec![0; MAX_WAKE_LEN + 1]),
            Err(WakeError::TooLong)
        );
    }

    proptest! {
        #[test]
        fn round_trip(t in any::<[u8; 16]>(), r in any::<[u8; 3]>(),
                      p in proptest::collection::vec(any::<u8>(), 0..300)) {
            let m = WakeMessage {
                tunnel_id: TunnelId::from_bytes(t),
                routing_id: RoutingId::from_bytes(r),
                client_payload: p,
            };
            prop_assert_eq!(WakeMessage::decode(&m.encode()), Ok(m));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = WakeMessage::decode(&bytes);
        }
    }
}
