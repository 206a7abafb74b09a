//! The post-handshake message (docs/hybrid-protocol.md#post-handshake): the phone's first transport message
//! (counter 0), a bare CBOR map with no type byte — key 1 getInfo bytes, key 3 features, legacy key 2
//! linking. Revision 1 only: a plaintext that is not one canonical CBOR item would be revision 0, which is
//! not implemented.

use crate::linking::{LinkingError, LinkingInfo};
use tandem_cbor::Value;

/// Why a post-handshake message was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PostHandshakeError {
    /// Not one canonical CBOR item: a revision-0 peer or garbage.
    #[error("post-handshake message is not revision 1: {0}")]
    NotRevision1(#[from] tandem_cbor::DecodeError),
    /// Not a map.
    #[error("post-handshake message is not a CBOR map")]
    NotMap,
    /// A key has the wrong type.
    #[error("post-handshake key {key} must be a {expected}")]
    WrongType {
        /// The key.
        key: u8,
        /// The required type.
        expected: &'static str,
    },
    /// "ctap" is advertised but getInfo is missing.
    #[error("feature \"ctap\" without getInfo")]
    CtapWithoutGetInfo,
    /// getInfo is present but "ctap" is not advertised.
    #[error("getInfo without feature \"ctap\"")]
    GetInfoWithoutCtap,
    /// Legacy key 2 is present but invalid.
    #[error("post-handshake linking information: {0}")]
    Linking(#[from] LinkingError),
}

/// A feature string of key 3.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// `"ctap"`: CTAP2 over message type 1.
    Ctap,
    /// `"dc"`: digital credentials over message type 3.
    DigitalCredentials,
    /// Anything else (kept, ignored).
    Other(String),
}

impl Feature {
    /// The wire string.
    pub fn as_str(&self) -> &str {
        match self {
            Feature::Ctap => "ctap",
            Feature::DigitalCredentials => "dc",
            Feature::Other(s) => s,
        }
    }

    /// From the wire string.
    pub fn parse(s: &str) -> Self {
        match s {
            "ctap" => Feature::Ctap,
            "dc" => Feature::DigitalCredentials,
            other => Feature::Other(other.to_owned()),
        }
    }
}

/// Sorts features by wire string and drops duplicates (the order Chromium emits).
fn normalize(features: &mut Vec<Feature>) {
    features.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    features.dedup_by(|a, b| a.as_str() == b.as_str());
}

/// The decoded post-handshake message. Invariant (checked on parse, guaranteed by the constructors):
/// getInfo is present exactly when [`Feature::Ctap`] is listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostHandshakeMessage {
    get_info: Option<Vec<u8>>,
    features: Vec<Feature>,
    linking: Option<LinkingInfo>,
}

impl PostHandshakeMessage {
    /// A CTAP-capable phone's message: key 1 = `get_info` (the CBOR getInfo response, no status byte),
    /// key 3 = `["ctap"]`.
    pub fn ctap(get_info: Vec<u8>) -> Self {
        PostHandshakeMessage {
            get_info: Some(get_info),
            features: vec![Feature::Ctap],
            linking: None,
        }
    }

    /// Adds a feature besides "ctap" (e.g. [`Feature::DigitalCredentials`]).
    pub fn with_feature(mut self, feature: Feature) -> Self {
        if feature != Feature::Ctap {
            self.features.push(feature);
            normalize(&mut self.features);
        }
        self
    }

    /// The getInfo response bytes, if the phone speaks CTAP.
    pub fn get_info(&self) -> Option<&[u8]> {
        self.get_info.as_deref()
    }

    /// The features (`["ctap"]` when key 3 was absent).
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// Whether a feature is listed.
    pub fn supports(&self, feature: &Feature) -> bool {
        self.features.contains(feature)
    }

    /// Linking information in the legacy key-2 placement (current phones use an update message).
    pub fn linking(&self) -> Option<&LinkingInfo> {
        self.linking.as_ref()
    }

    /// The plaintext (before transport padding): a canonical CBOR map, features sorted.
    pub fn to_bytes(&self) -> Vec<u8> {
        let features: Vec<&str> = self.features.iter().map(Feature::as_str).collect();
        Value::map()
            .insert_opt(1u8, self.get_info.clone().map(Value::Bytes))
            .insert_opt(2u8, self.linking.as_ref().map(LinkingInfo::to_value))
            .insert(3u8, Value::Array(features.into_iter().map(Value::text).collect()))
            .build()
            .to_vec()
    }

    /// Parses a decrypted post-handshake plaintext (desktop role). Key 0 (padding) and unknown keys are
    /// ignored; absent key 3 means `["ctap"]`.
    pub fn parse(plaintext: &[u8]) -> Result<Self, PostHandshakeError> {
        let map = tandem_cbor::decode_canonical(plaintext)?;
        if map.as_map().is_none() {
            return Err(PostHandshakeError::NotMap);
        }
        let get_info = map
            .get_int(1)
            .map(|v| {
                v.as_bytes()
                    .map(<[u8]>::to_vec)
                    .ok_or(PostHandshakeError::WrongType {
                        key: 1,
                        expected: "byte string",
                    })
            })
            .transpose()?;
        let linking = map.get_int(2).map(LinkingInfo::from_value).transpose()?;
        let features = match map.get_int(3) {
            None => vec![Feature::Ctap],
            Some(v) => v
                .as_array()
                .and_then(|items| {
                    items
                        .iter()
                        .map(|i| i.as_text().map(Feature::parse))
                        .collect::<Option<Vec<_>>>()
                })
                .ok_or(PostHandshakeError::WrongType {
                    key: 3,
                    expected: "array of text strings",
                })?,
        };
        let mut features = features;
        normalize(&mut features);
        match (get_info.is_some(), features.contains(&Feature::Ctap)) {
            (false, true) => return Err(PostHandshakeError::CtapWithoutGetInfo),
            (true, false) => return Err(PostHandshakeError::GetInfoWithoutCtap),
            _ => {}
        }
        Ok(PostHandshakeMessage {
            get_info,
            features,
            linking,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checks() {
        let gi = Value::map()
            .insert(1u8, Value::Array(vec![Value::text("FIDO_2_0")]))
            .build()
            .to_vec();
        let m = PostHandshakeMessage::ctap(gi.clone()).with_feature(Feature::DigitalCredentials);
        assert_eq!(PostHandshakeMessage::parse(&m.to_bytes()).unwrap(), m);
        let no_gi = Value::map()
            .insert(3u8, Value::Array(vec![Value::text("ctap")]))
            .build()
            .to_vec();
        assert_eq!(
            PostHandshakeMessage::parse(&no_gi),
            Err(PostHandshakeError::CtapWithoutGetInfo)
        );
        let no_ctap = Value::map()
            .insert(1u8, Value::bytes(gi.clone()))
            .insert(3u8, Value::Array(vec![Value::text("dc")]))
            .build()
            .to_vec();
        assert_eq!(
            PostHandshakeMessage::parse(&no_ctap),
            Err(PostHandshakeError::GetInfoWithoutCtap)
        );
        let dc_only = Value::map()
            .insert(3u8, Value::Array(vec![Value::text("dc")]))
            .build()
            .to_vec();
        assert!(
            !PostHandshakeMessage::parse(&dc_only)
                .unwrap()
                .supports(&Feature::Ctap)
        );
        // Revision 0: CBOR followed by zero padding and a count is not one item.
        let mut rev0 = Value::map().insert(1u8, Value::bytes(gi)).build().to_vec();
        rev0.extend_from_slice(&[0, 0, 2, 0]);
        assert!(matches!(
            PostHandshakeMessage::parse(&rev0),
            Err(PostHandshakeError::NotRevision1(_))
        ));
        assert_eq!(
            PostHandshakeMessage::parse(&[0x01]),
            Err(PostHandshakeError::NotMap)
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            if let Ok(m) = PostHandshakeMessage::parse(&b) {
                // Whatever parses re-encodes to something that parses to the same message.
                prop_assert_eq!(PostHandshakeMessage::parse(&m.to_bytes()).unwrap(), m);
            }
        }

        #[test]
        fn round_trip(gi in proptest::collection::vec(any::<u8>(), 0..100), dc: bool) {
            let mut m = PostHandshakeMessage::ctap(gi);
            if dc { m = m.with_feature(Feature::DigitalCredentials); }
            prop_assert_eq!(PostHandshakeMessage::parse(&m.to_bytes()).unwrap(), m);
        }
    }
}
