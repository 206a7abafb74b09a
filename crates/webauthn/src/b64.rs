//! base64url as WebAuthn JSON uses it: written without padding, read with or without it (Android and
//! webauthn-rs omit it; some servers add it).

use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, URL_SAFE_NO_PAD};
use serde::Deserialize;

const LENIENT: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// base64url, padded or not.
pub fn decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    LENIENT.decode(text.as_bytes())
}

/// Bytes that arrive as a base64url JSON string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Base64Url(pub(crate) Vec<u8>);

impl<'de> Deserialize<'de> for Base64Url {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        decode(&s).map(Base64Url).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_answers() {
        assert_eq!(encode(&[0xfb, 0xff]), "-_8");
        assert_eq!(decode("-_8").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode("-_8=").unwrap(), vec![0xfb, 0xff]);
        assert!(decode("+/8").is_err(), "standard alphabet is not base64url");
        let padded: Base64Url = serde_json::from_str("\"AQI=\"").unwrap();
        assert_eq!(padded.0, vec![1, 2]);
        assert!(serde_json::from_str::<Base64Url>("\"A+/=\"").is_err());
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            prop_assert_eq!(decode(&encode(&bytes)).unwrap(), bytes);
        }
    }
}
