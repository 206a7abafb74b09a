//! The update message (docs/hybrid-protocol.md#update-message), type byte `02`: a CBOR map whose key 1
//! carries linking information and whose key 0 pads it so that, after transport padding, every update is 512
//! bytes whether or not it links.

use crate::linking::{LinkingError, LinkingInfo};
use tandem_cbor::Value;

/// Padded plaintext size of an update message (ciphertext 528 bytes).
pub const UPDATE_PADDED_LEN: usize = 512;

/// Why an update payload was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpdateError {
    /// Not one canonical CBOR item.
    #[error("update CBOR: {0}")]
    Cbor(#[from] tandem_cbor::DecodeError),
    /// Not a map.
    #[error("update payload is not a CBOR map")]
    NotMap,
    /// Key 1 is present but invalid.
    #[error("update linking information: {0}")]
    Linking(#[from] LinkingError),
}

/// An update from the phone: with or without linking information.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct UpdateMessage {
    /// Key 1; `None` for a padding-only update.
    pub linking: Option<LinkingInfo>,
}

impl UpdateMessage {
    /// The CBOR payload (without the type byte): `{0: zeros × P, 1: linking}` with Chromium's
    /// `P = 512 − 16 − 1 − 3 − len(CBOR{1: linking})`, or 492 without linking.
    pub fn to_payload(&self) -> Vec<u8> {
        let linking = self.linking.as_ref().map(LinkingInfo::to_value);
        // Chromium counts the bytes of `{1: linking}` only when linking; without it P is 492.
        let linking_len = linking
            .as_ref()
            .map_or(0, |l| Value::map().insert(1u8, l.clone()).build().to_vec().len());
        let pad = UPDATE_PADDED_LEN.saturating_sub(16 + 1 + 3 + linking_len);
        Value::map()
            .insert(0u8, Value::bytes(vec![0u8; pad]))
            .insert_opt(1u8, linking)
            .build()
            .to_vec()
    }

    /// Parses the CBOR payload (without the type byte). Keys other than 1 are ignored.
    pub fn parse_payload(payload: &[u8]) -> Result<Self, UpdateError> {
        let map = tandem_cbor::decode_canonical(payload)?;
        if map.as_map().is_none() {
            return Err(UpdateError::NotMap);
        }
        let linking = map.get_int(1).map(LinkingInfo::from_value).transpose()?;
        Ok(UpdateMessage { linking })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypter::pad;
    use proptest::prelude::*;

    #[test]
    fn padding_only_update_is_512() {
        let payload = UpdateMessage::default().to_payload();
        assert_eq!(payload.len() + 1, 498);
        let mut msg = vec![2u8];
        msg.extend_from_slice(&payload);
        assert_eq!(pad(&msg).len(), UPDATE_PADDED_LEN);
        assert_eq!(
            UpdateMessage::parse_payload(&payload).unwrap(),
            UpdateMessage::default()
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(b in proptest::collection::vec(any::<u8>(), 0..200)) {
            let _ = UpdateMessage::parse_payload(&b);
        }
    }
}
