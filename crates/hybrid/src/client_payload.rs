//! The state-assisted client payload (docs/hybrid-protocol.md#state-assisted):
//! CBOR `{1: link ID, 2: client nonce, 3: "ga"|"mc"}`, sent hex-encoded in `X-caBLE-Client-Payload` and
//! delivered to the phone by its wake-up channel.

use crate::ids::{ClientNonce, IdError, LinkId};
use crate::random::RandomError;
use crate::request_type::RequestType;
use tandem_cbor::Value;

/// Why a client payload was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientPayloadError {
    /// The header value is not hexadecimal.
    #[error("client payload is not hexadecimal")]
    NotHex,
    /// Not one canonical CBOR item.
    #[error("client payload CBOR: {0}")]
    Cbor(#[from] tandem_cbor::DecodeError),
    /// Not a map.
    #[error("client payload is not a CBOR map")]
    NotMap,
    /// A required key is absent.
    #[error("client payload key {0} missing")]
    Missing(u8),
    /// A key has the wrong type.
    #[error("client payload key {key} must be a {expected}")]
    WrongType {
        /// The key.
        key: u8,
        /// The required type.
        expected: &'static str,
    },
    /// A byte string has the wrong length.
    #[error("client payload key {key}: {source}")]
    Id {
        /// The key.
        key: u8,
        /// What was wrong.
        source: IdError,
    },
}

/// The decoded client payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientPayload {
    /// Key 1: which link (the phone recomputes the link secret from it).
    pub link_id: LinkId,
    /// Key 2: salt of this transaction's EID key.
    pub client_nonce: ClientNonce,
    /// Key 3: request-type hint (absent means getAssertion).
    pub request_type: RequestType,
}

impl ClientPayload {
    /// A payload with a fresh random client nonce (desktop role).
    pub fn generate(link_id: LinkId, request_type: RequestType) -> Result<Self, RandomError> {
        Ok(ClientPayload {
            link_id,
            client_nonce: ClientNonce::generate()?,
            request_type,
        })
    }

    /// The canonical CBOR encoding.
    pub fn to_cbor(&self) -> Vec<u8> {
        Value::map()
            .insert(1u8, Value::bytes(self.link_id.as_bytes().to_vec()))
            .insert(2u8, Value::bytes(self.client_nonce.as_bytes().to_vec()))
            .insert(3u8, self.request_type.as_str())
            .build()
            .to_vec()
    }

    /// Upper-case hex of the CBOR, the `X-caBLE-Client-Payload` header value.
    pub fn to_header_value(&self) -> String {
        hex::encode_upper(self.to_cbor())
    }

    /// Parses the CBOR (phone role).
    pub fn from_cbor(cbor: &[u8]) -> Result<Self, ClientPayloadError> {
        let map = tandem_cbor::decode_canonical(cbor)?;
        if map.as_map().is_none() {
            return Err(ClientPayloadError::NotMap);
        }
        let bytes = |key: u8| -> Result<&[u8], ClientPayloadError> {
            map.get_int(i128::from(key))
                .ok_or(ClientPayloadError::Missing(key))?
                .as_bytes()
                .ok_or(ClientPayloadError::WrongType {
                    key,
                    expected: "byte string",
                })
        };
        let link_id =
            LinkId::from_slice(bytes(1)?).map_err(|source| ClientPayloadError::Id { key: 1, source })?;
        let client_nonce =
            ClientNonce::from_slice(bytes(2)?).map_err(|source| ClientPayloadError::Id { key: 2, source })?;
        let request_type = match map.get_int(3) {
            None => RequestType::GetAssertion,
            Some(v) => RequestType::parse(v.as_text().ok_or(ClientPayloadError::WrongType {
                key: 3,
                expected: "text string",
            })?),
        };
        Ok(ClientPayload {
            link_id,
            client_nonce,
            request_type,
        })
    }

    /// Parses the hex header value / wake-up field (either case).
    pub fn from_header_value(hex_text: &str) -> Result<Self, ClientPayloadError> {
        Self::from_cbor(&hex::decode(hex_text).map_err(|_| ClientPayloadError::NotHex)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn round_trip(link: [u8; 8], nonce: [u8; 16], mc: bool) {
            let p = ClientPayload {
                link_id: LinkId::from_bytes(link),
                client_nonce: ClientNonce::from_bytes(nonce),
                request_type: if mc { RequestType::MakeCredential } else { RequestType::GetAssertion },
            };
            prop_assert_eq!(ClientPayload::from_header_value(&p.to_header_value()).unwrap(), p.clone());
            prop_assert_eq!(ClientPayload::from_header_value(&p.to_header_value().to_lowercase()).unwrap(), p);
        }

        #[test]
        fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..80), s in "\\PC{0,40}") {
            let _ = ClientPayload::from_cbor(&b);
            let _ = ClientPayload::from_header_value(&s);
        }
    }

    #[test]
    fn rejects() {
        assert_eq!(
            ClientPayload::from_header_value("zz"),
            Err(ClientPayloadError::NotHex)
        );
        let short = Value::map()
            .insert(1u8, Value::bytes(vec![1; 7]))
            .insert(2u8, Value::bytes(vec![0; 16]))
            .build();
        assert!(matches!(
            ClientPayload::from_cbor(&short.to_vec()),
            Err(ClientPayloadError::Id { key: 1, .. })
        ));
        let missing = Value::map().insert(1u8, Value::bytes(vec![1; 8])).build();
        assert_eq!(
            ClientPayload::from_cbor(&missing.to_vec()),
            Err(ClientPayloadError::Missing(2))
        );
    }
}
