//! The scanning port (desktop side).
//!
//! The desktop trial-decrypts every advert it sees; where they come from is up to the scanner: btleplug on a
//! real radio (through BlueZ on Linux) or the simulated radio (both in `tandem-radio`).

/// Service data seen on the air.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenAdvert {
    /// The 16-bit service UUID the data was carried under (0xFFF9, or Google's legacy 0xFDE2).
    pub uuid: u16,
    /// The service data bytes (20 for a hybrid advert; anything else is not for us).
    pub data: Vec<u8>,
}

/// Why scanning could not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScanError {
    /// No adapter, adapter off, or no permission.
    #[error("BLE scanning unavailable: {0}")]
    Unavailable(String),
    /// The scan started but failed.
    #[error("BLE scanning failed: {0}")]
    Failed(String),
}

/// A source of service-data adverts under 0xFFF9 and 0xFDE2.
pub trait AdvertScanner: Send + Sync {
    /// Starts scanning. Adverts arrive on the returned channel until it is dropped, which stops the scan.
    fn scan(&self) -> Result<tokio::sync::mpsc::Receiver<SeenAdvert>, ScanError>;
}
