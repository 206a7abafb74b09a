//! The simulated radio's over-the-air unit: one service-data AD structure.
//!
//! On the UDP medium a datagram is `uuid (2 bytes, little-endian, as on air) ‖ data`. Pure bytes in,
//! bytes out.

use tandem_ble::FIDO_SERVICE_UUID;
use tandem_ble::SeenAdvert;

/// Google's legacy 16-bit service UUID for hybrid adverts, still sent by older phones and iOS 16.
pub const GOOGLE_CABLE_UUID: u16 = 0xFDE2;

/// The most service data a frame may carry: a legacy advert's 31 bytes minus the AD length, AD type
/// and UUID.
pub const MAX_SERVICE_DATA: usize = 27;

/// Whether desktops scan for service data under `uuid` (0xFFF9 or the legacy 0xFDE2).
pub fn is_hybrid_uuid(uuid: u16) -> bool {
    uuid == FIDO_SERVICE_UUID || uuid == GOOGLE_CABLE_UUID
}

/// Why a datagram is not a frame.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// Fewer than the two UUID bytes.
    #[error("frame of {0} bytes is shorter than its 2-byte UUID")]
    TooShort(usize),
    /// More service data than fits a legacy advert.
    #[error("frame carries {0} bytes of service data, more than {MAX_SERVICE_DATA}")]
    TooLong(usize),
}

/// Encodes one service-data frame.
pub fn encode(uuid: u16, data: &[u8]) -> Result<Vec<u8>, FrameError> {
    if data.len() > MAX_SERVICE_DATA {
        return Err(FrameError::TooLong(data.len()));
    }
    let mut frame = Vec::with_capacity(2 + data.len());
    frame.extend_from_slice(&uuid.to_le_bytes());
    frame.extend_from_slice(data);
    Ok(frame)
}

/// Decodes one service-data frame.
pub fn decode(frame: &[u8]) -> Result<SeenAdvert, FrameError> {
    let Some((uuid, data)) = frame.split_first_chunk::<2>() else {
        return Err(FrameError::TooShort(frame.len()));
    };
    if data.len() > MAX_SERVICE_DATA {
        return Err(FrameError::TooLong(data.len()));
    }
    Ok(SeenAdvert {
        uuid: u16::from_le_bytes(*uuid),
        data: data.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_answer_matches_on_air_order() {
        let data: Vec<u8> = (1..=20).collect();
        let frame = encode(FIDO_SERVICE_UUID, &data).expect("encode");
        let mut expected = vec![0xF9, 0xFF];
        expected.extend_from_slice(&data);
        assert_eq!(frame, expected);
        assert_eq!(decode(&frame), Ok(SeenAdvert { uuid: 0xFFF9, data }));
    }

    #[test]
    fn rejects_short_and_long() {
        assert_eq!(decode(&[0xF9]), Err(FrameError::TooShort(1)));
        assert_eq!(decode(&[0u8; 30]), Err(FrameError::TooLong(28)));
        assert_eq!(encode(0xFFF9, &[0u8; 28]), Err(FrameError::TooLong(28)));
    }

    #[test]
    fn hybrid_uuids() {
        assert!(is_hybrid_uuid(0xFFF9));
        assert!(is_hybrid_uuid(0xFDE2));
        assert!(!is_hybrid_uuid(0x180F));
    }

    proptest! {
        #[test]
        fn roundtrip(uuid in any::<u16>(), data in proptest::collection::vec(any::<u8>(), 0..=MAX_SERVICE_DATA)) {
            let frame = encode(uuid, &data).expect("encode");
            prop_assert_eq!(decode(&frame), Ok(SeenAdvert { uuid, data }));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = decode(&bytes);
        }
    }
}
