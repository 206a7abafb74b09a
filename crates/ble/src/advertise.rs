//! The advertising port (phone side).
//!
//! The driver only produces the 20-byte encrypted advert; sending it is the platform's job: Android's
//! `BluetoothLeAdvertiser` (Kotlin, through the bindings), BlueZ's D-Bus advertising API on Linux, or the
//! simulated radio in tests (both in `tandem-radio`).

/// The FIDO Alliance 16-bit service UUID that carries hybrid adverts as service data.
pub const FIDO_SERVICE_UUID: u16 = 0xFFF9;

/// The most advertising data a legacy (BLE 4.x) advertisement carries, and so the most an advert that
/// every desktop can receive may use.
pub const MAX_LEGACY_ADVERTISING_DATA: usize = 31;

/// AD type "Complete List of 16-bit Service Class UUIDs".
pub const AD_TYPE_SERVICE_UUIDS_16: u8 = 0x03;
/// AD type "Service Data – 16-bit UUID".
pub const AD_TYPE_SERVICE_DATA_16: u8 = 0x16;
/// AD type "Flags", which a stack may prepend (3 bytes with its header).
pub const AD_TYPE_FLAGS: u8 = 0x01;

/// Length of [`advertising_data`]'s output.
pub const ADVERTISING_DATA_LEN: usize = 4 + 4 + 20;

/// The advertising data of a hybrid advert exactly as Chromium's Android phone puts it on air
/// (`BLEAdvert.java`: `addServiceUuid` and `addServiceData` with 0xFFF9, no name, no TX power):
/// `03 03 F9 FF` (0xFFF9 in the 16-bit service-UUID list) then `17 16 F9 FF <20-byte advert>` (service
/// data). 28 bytes, so even a stack that prepends the 3-byte flags structure stays within the legacy
/// 31. Platform advertisers (Android's `AdvertiseData` with `addServiceUuid` + `addServiceData`, BlueZ's
/// `ServiceUUIDs` + `ServiceData`) are configured to produce this layout.
pub fn advertising_data(advert: &[u8; 20]) -> [u8; ADVERTISING_DATA_LEN] {
    let uuid = FIDO_SERVICE_UUID.to_le_bytes();
    let mut out = [0u8; ADVERTISING_DATA_LEN];
    out[..4].copy_from_slice(&[3, AD_TYPE_SERVICE_UUIDS_16, uuid[0], uuid[1]]);
    out[4..8].copy_from_slice(&[1 + 2 + 20, AD_TYPE_SERVICE_DATA_16, uuid[0], uuid[1]]);
    out[8..].copy_from_slice(advert);
    out
}

const _: () = assert!(ADVERTISING_DATA_LEN + 3 <= MAX_LEGACY_ADVERTISING_DATA);

/// Why the platform could not advertise.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AdvertiseError {
    /// Bluetooth is off, missing, or the app lacks the advertising permission.
    #[error("BLE advertising unavailable: {0}")]
    Unavailable(String),
    /// The platform accepted the request but failed to start.
    #[error("BLE advertising failed: {0}")]
    Failed(String),
}

/// Broadcasts a hybrid advert: service data under [`FIDO_SERVICE_UUID`] holding exactly the 20 bytes given,
/// non-connectable, until [`BleAdvertiser::stop`] is called.
pub trait BleAdvertiser: Send + Sync {
    /// Starts advertising `advert`. Replaces any advert this advertiser is already sending.
    fn start(&self, advert: &[u8; 20]) -> Result<(), AdvertiseError>;
    /// Stops advertising. Harmless if not advertising.
    fn stop(&self);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits advertising data into its AD structures `(type, data)`; `None` if malformed.
    fn structures(mut ad: &[u8]) -> Option<Vec<(u8, &[u8])>> {
        let mut out = Vec::new();
        while let Some((&len, rest)) = ad.split_first() {
            let len = usize::from(len);
            if len == 0 || rest.len() < len {
                return None;
            }
            out.push((rest[0], &rest[1..len]));
            ad = &rest[len..];
        }
        Some(out)
    }

    #[test]
    fn advert_lists_fff9_and_carries_it_as_service_data_like_chromiums_phone() {
        let advert: [u8; 20] = std::array::from_fn(|i| i as u8 + 1);
        let ad = advertising_data(&advert);
        let mut expected = vec![0x03, 0x03, 0xF9, 0xFF, 0x17, 0x16, 0xF9, 0xFF];
        expected.extend_from_slice(&advert);
        assert_eq!(ad.to_vec(), expected);
        let parsed = structures(&ad).expect("well-formed AD structures");
        assert_eq!(
            parsed,
            vec![
                (AD_TYPE_SERVICE_UUIDS_16, &[0xF9, 0xFF][..]),
                (AD_TYPE_SERVICE_DATA_16, &expected[6..]),
            ]
        );
        // Within the legacy limit, even with the flags structure a stack may add.
        let mut with_flags = vec![0x02, AD_TYPE_FLAGS, 0x06];
        with_flags.extend_from_slice(&ad);
        assert!(
            with_flags.len() <= MAX_LEGACY_ADVERTISING_DATA,
            "{}",
            with_flags.len()
        );
        assert!(structures(&with_flags).is_some());
    }
}
