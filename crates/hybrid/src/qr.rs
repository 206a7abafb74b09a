//! The QR code (docs/hybrid-protocol.md#qr): `FIDO:/` + digits of a canonical CBOR map with keys 0–6. Parsing
//! (phone role) mirrors Chromium's validation; generation is for the desktop role.

use crate::digits::{self, DigitsError};
use crate::keys::{KeyError, PrivateKey, PublicKey};
use crate::random::RandomError;
use crate::request_type::RequestType;
use crate::secrets::QrSecret;
use tandem_cbor::Value;

/// The URL scheme prefix, compared case-insensitively.
pub const URL_PREFIX: &str = "FIDO:/";
/// Number of assigned tunnel domains this implementation knows (QR key 2 when generating).
pub const KNOWN_ASSIGNED_DOMAINS: u64 = 2;
/// How many assigned domains a desktop whose QR code has no key 2 is taken to know: domain 0
/// (`cable.ua5v.com`), which every hybrid desktop knows and which Chromium's phone uses without looking at
/// key 2. Absent is not "knows none".
pub const KNOWN_ASSIGNED_DOMAINS_WHEN_ABSENT: u64 = 1;
/// CTAP 2.3 data channel id: cloud-assisted WebSocket tunnel.
pub const DATA_CHANNEL_TUNNEL: u64 = 0;
/// CTAP 2.3 data channel id: direct BLE L2CAP.
pub const DATA_CHANNEL_BLE_L2CAP: u64 = 1;

/// Why a QR code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    /// The text does not start with `FIDO:/` (any case).
    #[error("QR code does not start with FIDO:/")]
    Prefix,
    /// The digits are malformed.
    #[error("QR digits: {0}")]
    Digits(#[from] DigitsError),
    /// The payload is not one canonical CBOR item.
    #[error("QR CBOR: {0}")]
    Cbor(#[from] tandem_cbor::DecodeError),
    /// The payload is not a CBOR map.
    #[error("QR payload is not a CBOR map")]
    NotMap,
    /// A required key is absent.
    #[error("QR key {0} missing")]
    Missing(u8),
    /// A key has the wrong CBOR type.
    #[error("QR key {key} must be a {expected}")]
    WrongType {
        /// The key.
        key: u8,
        /// The required type.
        expected: &'static str,
    },
    /// A byte string has the wrong length.
    #[error("QR key {key} must be {expected} bytes, got {got}")]
    Length {
        /// The key.
        key: u8,
        /// Required length.
        expected: usize,
        /// Received length.
        got: usize,
    },
    /// Key 0 is not a valid compressed P-256 point.
    #[error("QR key 0: {0}")]
    IdentityKey(#[from] KeyError),
}

/// QR key 6, whose meaning changed (docs/hybrid-protocol.md#qr-payload); both shapes are kept.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum QrKey6 {
    /// Legacy (Google Play services before CTAP 2.3): desktop supports non-discoverable makeCredential.
    NonDiscoverableMakeCredential(bool),
    /// CTAP 2.3 draft: data channels the desktop supports ([`DATA_CHANNEL_TUNNEL`], [`DATA_CHANNEL_BLE_L2CAP`]).
    DataChannels(Vec<u64>),
}

/// The decoded QR payload. Every field holds a validated value; optional keys are `None` when absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QrData {
    /// Key 0: the desktop's QR identity public key (decompressed; the 65-byte form enters the handshake).
    pub identity_key: PublicKey,
    /// Key 1: the QR secret.
    pub secret: QrSecret,
    /// Key 2: number of assigned tunnel domains the desktop knows. Any CBOR integer is accepted, as by
    /// Chromium's parser (`is_integer()`); values beyond the `i64` range saturate.
    pub known_domains: Option<i64>,
    /// Key 3: generation time, seconds since the Unix epoch (not validated, as in Chromium).
    pub timestamp: Option<u64>,
    /// Key 4: the desktop can store linking information.
    pub supports_linking: Option<bool>,
    /// Key 5: request-type hint.
    pub request_type: Option<RequestType>,
    /// Key 6 in either of its shapes; a value of any other shape is ignored.
    pub key6: Option<QrKey6>,
}

fn bytes_of(v: &Value, key: u8) -> Result<&[u8], QrError> {
    v.as_bytes().ok_or(QrError::WrongType {
        key,
        expected: "byte string",
    })
}

fn parse_key6(v: &Value) -> Option<QrKey6> {
    match v {
        Value::Bool(b) => Some(QrKey6::NonDiscoverableMakeCredential(*b)),
        Value::Array(items) => items
            .iter()
            .map(Value::as_u64)
            .collect::<Option<Vec<_>>>()
            .map(QrKey6::DataChannels),
        _ => None,
    }
}

impl QrData {
    /// Parses a scanned `FIDO:/<digits>` string.
    pub fn from_url(url: &str) -> Result<Self, QrError> {
        let prefix = url.get(..URL_PREFIX.len()).ok_or(QrError::Prefix)?;
        if !prefix.eq_ignore_ascii_case(URL_PREFIX) {
            return Err(QrError::Prefix);
        }
        let digits = url.get(URL_PREFIX.len()..).ok_or(QrError::Prefix)?;
        Self::from_cbor(&digits::decode(digits)?)
    }

    /// Parses and validates the CBOR payload (canonical CBOR required, as Chromium's reader does).
    pub fn from_cbor(cbor: &[u8]) -> Result<Self, QrError> {
        let map = tandem_cbor::decode_canonical(cbor)?;
        if map.as_map().is_none() {
            return Err(QrError::NotMap);
        }

        let key0 = bytes_of(map.get_int(0).ok_or(QrError::Missing(0))?, 0)?;
        if key0.len() != crate::keys::COMPRESSED_LEN {
            return Err(QrError::Length {
                key: 0,
                expected: crate::keys::COMPRESSED_LEN,
                got: key0.len(),
            });
        }
        let identity_key = PublicKey::from_compressed(key0)?;

        let key1 = bytes_of(map.get_int(1).ok_or(QrError::Missing(1))?, 1)?;
        let secret = QrSecret::from_slice(key1).map_err(|e| QrError::Length {
            key: 1,
            expected: e.expected,
            got: e.got,
        })?;

        let known_domains = map
            .get_int(2)
            .map(|v| {
                v.as_int()
                    .map(|n| i64::try_from(n).unwrap_or(if n < 0 { i64::MIN } else { i64::MAX }))
                    .ok_or(QrError::WrongType {
                        key: 2,
                        expected: "integer",
                    })
            })
            .transpose()?;
        let timestamp = map.get_int(3).and_then(Value::as_u64);
        let supports_linking = map
            .get_int(4)
            .map(|v| {
                v.as_bool().ok_or(QrError::WrongType {
                    key: 4,
                    expected: "boolean",
                })
            })
            .transpose()?;
        let request_type = map
            .get_int(5)
            .map(|v| {
                v.as_text().map(RequestType::parse).ok_or(QrError::WrongType {
                    key: 5,
                    expected: "text string",
                })
            })
            .transpose()?;
        let key6 = map.get_int(6).and_then(parse_key6);

        Ok(QrData {
            identity_key,
            secret,
            known_domains,
            timestamp,
            supports_linking,
            request_type,
            key6,
        })
    }

    /// The canonical CBOR payload.
    pub fn to_cbor(&self) -> Vec<u8> {
        let key6 = self.key6.as_ref().map(|k| match k {
            QrKey6::NonDiscoverableMakeCredential(b) => Value::Bool(*b),
            QrKey6::DataChannels(ids) => Value::Array(ids.iter().map(|&i| Value::from(i)).collect()),
        });
        Value::map()
            .insert(0u8, Value::bytes(self.identity_key.to_compressed().to_vec()))
            .insert(1u8, Value::bytes(self.secret.as_bytes().to_vec()))
            .insert_opt(2u8, self.known_domains)
            .insert_opt(3u8, self.timestamp)
            .insert_opt(4u8, self.supports_linking)
            .insert_opt(5u8, self.request_type.as_ref().map(RequestType::as_str))
            .insert_opt(6u8, key6)
            .build()
            .to_vec()
    }

    /// The `FIDO:/<digits>` string to render as a QR code.
    pub fn to_url(&self) -> String {
        format!("{URL_PREFIX}{}", digits::encode(&self.to_cbor()))
    }

    /// How many assigned domains the desktop knows, for [`crate::domain::select_domain`]: QR key 2 (a
    /// negative count is 0), or [`KNOWN_ASSIGNED_DOMAINS_WHEN_ABSENT`] when key 2 is absent.
    pub fn known_assigned_domains(&self) -> u64 {
        match self.known_domains {
            None => KNOWN_ASSIGNED_DOMAINS_WHEN_ABSENT,
            Some(n) => u64::try_from(n).unwrap_or(0),
        }
    }

    /// Whether key 5 asks for a digital credential (`"dcp"`, `"dci"`) rather than a WebAuthn ceremony.
    pub fn is_digital_credential_request(&self) -> bool {
        self.request_type
            .as_ref()
            .is_some_and(RequestType::is_digital_credential)
    }

    /// The hint to act on: absent or unknown means getAssertion.
    pub fn effective_request_type(&self) -> RequestType {
        self.request_type
            .as_ref()
            .map_or(RequestType::GetAssertion, RequestType::effective)
    }

    /// Whether the desktop said it can store linking information (key 4 true).
    pub fn desktop_can_link(&self) -> bool {
        self.supports_linking == Some(true)
    }
}

/// A freshly generated QR code with its private identity key (desktop role).
#[derive(Debug, Clone)]
pub struct DesktopQr {
    /// The private half of key 0: needed for the handshake and to verify linking signatures.
    pub identity: PrivateKey,
    /// What goes into the QR code.
    pub data: QrData,
}

impl DesktopQr {
    /// A new QR code: fresh P-256 key and secret, key 2 = [`KNOWN_ASSIGNED_DOMAINS`], key 3 = `now_unix`,
    /// key 4 = `supports_linking`, key 5 = `request_type`.
    pub fn generate(
        now_unix: u64,
        supports_linking: bool,
        request_type: RequestType,
    ) -> Result<Self, RandomError> {
        let identity = PrivateKey::generate()?;
        let data = QrData {
            identity_key: identity.public_key(),
            secret: QrSecret::generate()?,
            known_domains: Some(KNOWN_ASSIGNED_DOMAINS as i64),
            timestamp: Some(now_unix),
            supports_linking: Some(supports_linking),
            request_type: Some(request_type),
            key6: None,
        };
        Ok(DesktopQr { identity, data })
    }

    /// The `FIDO:/<digits>` string.
    pub fn url(&self) -> String {
        self.data.to_url()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn sample() -> QrData {
        DesktopQr::generate(1_700_000_000, true, RequestType::MakeCredential)
            .unwrap()
            .data
    }

    #[test]
    fn generated_round_trips() {
        let d = sample();
        assert_eq!(QrData::from_url(&d.to_url()).unwrap(), d);
        assert_eq!(QrData::from_url(&d.to_url().to_lowercase()).unwrap(), d);
        assert_eq!(d.to_url().len(), 6 + 168);
    }

    fn with(key: u8, v: Value) -> Vec<u8> {
        let base = tandem_cbor::decode(&sample().to_cbor()).unwrap();
        let mut entries: Vec<(Value, Value)> = base
            .as_map()
            .unwrap()
            .iter()
            .filter(|(k, _)| k != &Value::from(key))
            .cloned()
            .collect();
        entries.push((Value::from(key), v));
        Value::Map(entries).to_vec()
    }

    fn without(key: u8) -> Vec<u8> {
        let base = tandem_cbor::decode(&sample().to_cbor()).unwrap();
        let entries = base
            .as_map()
            .unwrap()
            .iter()
            .filter(|(k, _)| k != &Value::from(key))
            .cloned()
            .collect();
        Value::Map(entries).to_vec()
    }

    #[test]
    fn validation() {
        assert_eq!(QrData::from_cbor(&without(0)), Err(QrError::Missing(0)));
        assert_eq!(QrData::from_cbor(&without(1)), Err(QrError::Missing(1)));
        assert_eq!(
            QrData::from_cbor(&with(1, Value::bytes(vec![0; 15]))),
            Err(QrError::Length {
                key: 1,
                expected: 16,
                got: 15
            })
        );
        assert_eq!(
            QrData::from_cbor(&with(0, Value::bytes(vec![2; 32]))),
            Err(QrError::Length {
                key: 0,
                expected: 33,
                got: 32
            })
        );
        let uncompressed = sample().identity_key.to_uncompressed().to_vec();
        assert!(matches!(
            QrData::from_cbor(&with(0, Value::bytes(uncompressed))),
            Err(QrError::Length { .. })
        ));
        let mut not_on_curve = vec![2u8; 33];
        not_on_curve[1..].fill(0xff);
        assert!(matches!(
            QrData::from_cbor(&with(0, Value::bytes(not_on_curve))),
            Err(QrError::IdentityKey(_))
        ));
        assert!(matches!(
            QrData::from_cbor(&with(2, Value::text("2"))),
            Err(QrError::WrongType { key: 2, .. })
        ));
        assert!(matches!(
            QrData::from_cbor(&with(2, Value::Bool(true))),
            Err(QrError::WrongType { key: 2, .. })
        ));
        assert!(matches!(
            QrData::from_cbor(&with(4, Value::from(1))),
            Err(QrError::WrongType { key: 4, .. })
        ));
        assert!(matches!(
            QrData::from_cbor(&with(5, Value::bytes(b"ga".to_vec()))),
            Err(QrError::WrongType { .. })
        ));
        // Key 3 and unknown keys are not checked.
        assert_eq!(
            QrData::from_cbor(&with(3, Value::text("x"))).unwrap().timestamp,
            None
        );
        assert!(QrData::from_cbor(&with(9, Value::Null)).is_ok());
        assert_eq!(QrData::from_cbor(&Value::from(1).to_vec()), Err(QrError::NotMap));
        // Non-canonical CBOR (a one-byte integer in a two-byte head) is rejected.
        assert!(matches!(
            QrData::from_cbor(&[0xa1, 0x18, 0x00, 0x00]),
            Err(QrError::Cbor(_))
        ));
        assert_eq!(QrData::from_url("HTTP:/123"), Err(QrError::Prefix));
        assert_eq!(QrData::from_url("FIDO"), Err(QrError::Prefix));
        assert_eq!(QrData::from_url("FIDÖ:/1"), Err(QrError::Prefix));
    }

    #[test]
    fn key6_both_shapes() {
        let legacy = QrData::from_cbor(&with(6, Value::Bool(true))).unwrap();
        assert_eq!(legacy.key6, Some(QrKey6::NonDiscoverableMakeCredential(true)));
        let channels = QrData::from_cbor(&with(6, Value::Array(vec![0u8.into(), 1u8.into()]))).unwrap();
        assert_eq!(
            channels.key6,
            Some(QrKey6::DataChannels(vec![
                DATA_CHANNEL_TUNNEL,
                DATA_CHANNEL_BLE_L2CAP
            ]))
        );
        assert_eq!(QrData::from_cbor(&channels.to_cbor()).unwrap(), channels);
        assert_eq!(QrData::from_cbor(&with(6, Value::text("x"))).unwrap().key6, None);
    }

    #[test]
    fn key2_any_integer_as_chromium() {
        // Chromium's phone-side parser only asks `is_integer()`: negative and huge counts parse.
        let negative = QrData::from_cbor(&with(2, Value::from(-1))).unwrap();
        assert_eq!(negative.known_domains, Some(-1));
        assert_eq!(negative.known_assigned_domains(), 0);
        assert_eq!(QrData::from_cbor(&negative.to_cbor()).unwrap(), negative);
        let huge = QrData::from_cbor(&with(2, Value::from(u64::MAX))).unwrap();
        assert_eq!(huge.known_domains, Some(i64::MAX));
        assert_eq!(huge.known_assigned_domains(), i64::MAX as u64);
        assert_eq!(QrData::from_cbor(&huge.to_cbor()).unwrap(), huge);
        let very_negative = QrData::from_cbor(&with(2, Value::Int(-(1i128 << 64)))).unwrap();
        assert_eq!(very_negative.known_domains, Some(i64::MIN));
        assert_eq!(
            QrData::from_cbor(&with(2, Value::from(4567)))
                .unwrap()
                .known_assigned_domains(),
            4567
        );
        // Absent is not "knows no domains": domain 0 is known to every hybrid desktop.
        let absent = QrData::from_cbor(&without(2)).unwrap();
        assert_eq!(absent.known_domains, None);
        assert_eq!(
            absent.known_assigned_domains(),
            KNOWN_ASSIGNED_DOMAINS_WHEN_ABSENT
        );
        assert!(crate::domain::DomainId::GOOGLE.accepted_by(absent.known_assigned_domains()));
        assert!(!crate::domain::DomainId::APPLE.accepted_by(absent.known_assigned_domains()));
    }

    #[test]
    fn digital_credential_hints_are_recognised() {
        for hint in ["dcp", "dci"] {
            let qr = QrData::from_cbor(&with(5, Value::text(hint))).unwrap();
            assert!(qr.is_digital_credential_request(), "{hint}");
        }
        for hint in ["ga", "mc", "dcga", ""] {
            let qr = QrData::from_cbor(&with(5, Value::text(hint))).unwrap();
            assert!(!qr.is_digital_credential_request(), "{hint}");
        }
        assert!(
            !QrData::from_cbor(&without(5))
                .unwrap()
                .is_digital_credential_request()
        );
    }

    #[test]
    fn hints() {
        let mut d = sample();
        d.request_type = None;
        assert_eq!(d.effective_request_type(), RequestType::GetAssertion);
        d.request_type = Some(RequestType::parse("dcga"));
        assert_eq!(d.effective_request_type(), RequestType::GetAssertion);
        assert_eq!(QrData::from_cbor(&d.to_cbor()).unwrap(), d);
    }

    proptest! {
        #[test]
        fn from_url_never_panics(s in "(?i:fido:/)[0-9]{0,200}|\\PC{0,50}") {
            let _ = QrData::from_url(&s);
        }

        #[test]
        fn from_cbor_never_panics(b in proptest::collection::vec(any::<u8>(), 0..120)) {
            let _ = QrData::from_cbor(&b);
        }

        #[test]
        fn round_trip(secret: [u8; 16], known in proptest::option::of(any::<i64>()),
                      ts in proptest::option::of(any::<u64>()), link in proptest::option::of(any::<bool>()),
                      hint in proptest::option::of("[a-z]{0,4}"),
                      key6 in proptest::option::of(prop_oneof![
                          any::<bool>().prop_map(QrKey6::NonDiscoverableMakeCredential),
                          proptest::collection::vec(any::<u64>(), 0..4).prop_map(QrKey6::DataChannels)])) {
            let d = QrData {
                identity_key: PrivateKey::from_bytes(&[0x11; 32]).unwrap().public_key(),
                secret: QrSecret::from_bytes(secret),
                known_domains: known,
                timestamp: ts,
                supports_linking: link,
                request_type: hint.as_deref().map(RequestType::parse),
                key6,
            };
            prop_assert_eq!(QrData::from_url(&d.to_url()).unwrap(), d);
        }
    }
}
