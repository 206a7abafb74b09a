//! The BLE advertising edge.
//!
//! The driver only produces the 20-byte encrypted advert; sending it is the platform's job: Android's
//! `BluetoothLeAdvertiser` (Kotlin, through the bindings), BlueZ's D-Bus advertising API on Linux, or the
//! simulated radio in tests (both in `tandem-radio`).

/// The FIDO Alliance 16-bit service UUID that carries hybrid adverts as service data.
pub const FIDO_SERVICE_UUID: u16 = 0xFFF9;

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
