//! BLE ports: what the phone and desktop drivers need from a radio, with no radio in it.
//!
//! The drivers depend on these traits; the radios (`tandem-radio`: simulated, UDP, BlueZ, btleplug; the mobile
//! platforms through `tandem-ffi`) implement them. Living below both keeps `tandem-radio` independent of the
//! drivers it serves.

mod advertise;
mod scan;

pub use advertise::{
    AD_TYPE_FLAGS, AD_TYPE_SERVICE_DATA_16, AD_TYPE_SERVICE_UUIDS_16, ADVERTISING_DATA_LEN, AdvertiseError,
    BleAdvertiser, FIDO_SERVICE_UUID, MAX_LEGACY_ADVERTISING_DATA, advertising_data,
};
pub use scan::{AdvertScanner, ScanError, SeenAdvert};
