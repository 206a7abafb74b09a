//! The Tandem wake message: what the server sends a phone on its wake channel (pure; no I/O).
//!
//! Wire format: one binary WebSocket message holding a canonical CTAP2-style CBOR map
//!
//! | key | type | value |
//! |---|---|---|
//! | 1 | bstr, 16 bytes | tunnel ID allocated by the server |
//! | 2 | bstr, 3 bytes | routing ID (byte 0 = issuing instance) |
//! | 3 | bstr, ≤ 2048 bytes | the desktop's client payload (the CBOR `{1: link id, 2: nonce, 3: "ga"/"mc"}` it sent hex-encoded in `X-caBLE-Client-Payload`), verbatim |
//!
//! These are the three fields of Google's FCM wake message (`caBLE.tunnelID`, `caBLE.routingID`,
//! `caBLE.clientPayload`), carried as bytes instead of hex. The phone answers by connecting to
//! `/cable/connect/<HEX routing id>/<HEX tunnel id>` on the same service. Decoders must reject
//! unknown keys, wrong types and wrong lengths (this module's [`WakeMessage::decode`] does).

use ciborium::value::{Integer, Value};

use crate::ids::{RoutingId, TunnelId};

/// Largest client payload the server accepts and forwards, in bytes.
pub const MAX_CLIENT_PAYLOAD: usize = 2048;

/// A wake-up for a state-assisted transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WakeMessage {
    /// Tunnel the phone must join.
    pub tunnel: TunnelId,
    /// Routing ID to put in the connect path.
    pub routing: RoutingId,
    /// The desktop's client payload (CBOR), verbatim.
    pub client_payload: Vec<u8>,
}

/// Why a wake message could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WakeDecodeError {
    /// Not a single well-formed CBOR item.
    #[error("wake message is not valid CBOR")]
    NotCbor,
    /// Valid CBOR but not the map described in the module documentation.
    #[error("wake message has the wrong shape: {0}")]
    Shape(&'static str),
}

impl WakeMessage {
    /// Encodes as the canonical CBOR map (keys 1, 2, 3 in order; definite lengths).
    pub fn encode(&self) -> Vec<u8> {
        let map = Value::Map(vec![
            (Value::Integer(1.into()), Value::Bytes(self.tunnel.0.to_vec())),
            (Value::Integer(2.into()), Value::Bytes(self.routing.0.to_vec())),
            (
                Value::Integer(3.into()),
                Value::Bytes(self.client_payload.clone()),
            ),
        ]);
        let mut out = Vec::with_capacity(32 + self.client_payload.len());
        // Writing into a Vec cannot fail and every value here is serialisable.
        if ciborium::into_writer(&map, &mut out).is_err() {
            out.clear();
        }
        out
    }

    /// Decodes and validates a wake message.
    pub fn decode(bytes: &[u8]) -> Result<Self, WakeDecodeError> {
        if bytes.len() > MAX_CLIENT_PAYLOAD + 64 {
            return Err(WakeDecodeError::Shape("too long"));
        }
        let mut reader = bytes;
        let value: Value = ciborium::from_reader(&mut reader).map_err(|_| WakeDecodeError::NotCbor)?;
        if !reader.is_empty() {
            return Err(WakeDecodeError::Shape("trailing bytes"));
        }
        let Value::Map(entries) = value else {
            return Err(WakeDecodeError::Shape("not a map"));
        };
        if entries.len() != 3 {
            return Err(WakeDecodeError::Shape("expected exactly keys 1, 2, 3"));
        }
        let (mut tunnel, mut routing, mut payload) = (None, None, None);
        for (k, v) in entries {
            let key = match k {
                Value::Integer(i) => i,
                _ => return Err(WakeDecodeError::Shape("non-integer key")),
            };
            let Value::Bytes(b) = v else {
                return Err(WakeDecodeError::Shape("value is not a byte string"));
            };
            if key == Integer::from(1) && tunnel.is_none() {
                tunnel = Some(TunnelId(
                    b.try_into()
                        .map_err(|_| WakeDecodeError::Shape("tunnel id length"))?,
                ));
            } else if key == Integer::from(2) && routing.is_none() {
                routing = Some(RoutingId(
                    b.try_into()
                        .map_err(|_| WakeDecodeError::Shape("routing id length"))?,
                ));
            } else if key == Integer::from(3) && payload.is_none() {
                if b.len() > MAX_CLIENT_PAYLOAD {
                    return Err(WakeDecodeError::Shape("client payload too long"));
                }
                payload = Some(b);
            } else {
                return Err(WakeDecodeError::Shape("unknown or duplicate key"));
            }
        }
        match (tunnel, routing, payload) {
            (Some(tunnel), Some(routing), Some(client_payload)) => Ok(Self {
                tunnel,
                routing,
                client_payload,
            }),
            _ => Err(WakeDecodeError::Shape("missing key")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_answer() {
        let m = WakeMessage {
            tunnel: TunnelId([0x11; 16]),
            routing: RoutingId([0x01, 0x02, 0x03]),
            client_payload: vec![0xa0],
        };
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
        assert_eq!(m.encode(), expected);
        assert_eq!(WakeMessage::decode(&expected).unwrap(), m);
    }

    #[test]
    fn rejects_bad_shapes() {
        let good = WakeMessage {
            tunnel: TunnelId([0; 16]),
            routing: RoutingId([0; 3]),
            client_payload: vec![],
        }
        .encode();
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(WakeMessage::decode(&trailing).is_err());
        assert!(WakeMessage::decode(&good[..good.len() - 1]).is_err());
        // Routing ID of 4 bytes.
        let bad =
            hex::decode("a301500000000000000000000000000000000002440000000003 40".replace(' ', "")).unwrap();
        assert_eq!(
            WakeMessage::decode(&bad),
            Err(WakeDecodeError::Shape("routing id length"))
        );
        // Text key.
        assert!(WakeMessage::decode(&hex::decode("a16161 40".replace(' ', "")).unwrap()).is_err());
        assert_eq!(WakeMessage::decode(&[]), Err(WakeDecodeError::NotCbor));
    }

    proptest! {
        #[test]
        fn round_trip(t in any::<[u8; 16]>(), r in any::<[u8; 3]>(),
                      p in proptest::collection::vec(any::<u8>(), 0..300)) {
            let m = WakeMessage { tunnel: TunnelId(t), routing: RoutingId(r), client_payload: p };
            prop_assert_eq!(WakeMessage::decode(&m.encode()), Ok(m));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = WakeMessage::decode(&bytes);
        }
    }
}
