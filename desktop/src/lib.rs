//! Desktop-side hybrid peer (the browser's role) for testers and tests.

pub mod ble;
pub mod webauthn;
pub mod ws;
