//! Phone-side hybrid session driver: tunnel client, BLE advert, Noise responder, CTAP serving.

pub mod ble;
