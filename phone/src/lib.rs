//! Phone-side hybrid session driver: tunnel client, BLE advert, Noise responder, CTAP serving.

pub mod ble;
pub mod error;
pub mod progress;
pub mod ws;

pub use error::{SessionError, Step};
pub use progress::{NoProgress, ProgressEvent, ProgressListener};
