//! BLE edges: simulated radio, BlueZ advertising over D-Bus, btleplug scanning.
//!
//! - [`sim::SimRadio`]: in-process broadcast medium for tests.
//! - [`udp`]: the same medium across processes over loopback UDP (port [`udp::SIM_UDP_PORT`]).
//! - `bluez::BluezAdvertiser` (Linux, feature `bluez`): LE advertising through BlueZ's D-Bus API.
//! - `btle::BtleplugScanner` (Linux, feature `bluez`): scanning through btleplug.
//! - `fake_bluez` (Linux, feature `bluez`): a simulated BlueZ on a private dbus-daemon, for tests,
//!   also as the `fake-bluez` binary.
//!
//! Building the default `bluez` feature needs `libdbus-1-dev` and `pkg-config` (btleplug links
//! libdbus); its tests need `dbus-daemon` and skip, saying so on stderr, without it (set
//! `TANDEM_REQUIRE_DBUS=1` to make that a failure). `default-features = false` leaves only the
//! simulated radio, with no system dependency.

pub mod frame;
#[cfg(all(target_os = "linux", feature = "bluez"))]
mod rt;
pub mod sim;
pub mod udp;

#[cfg(all(target_os = "linux", feature = "bluez"))]
pub mod bluez;
#[cfg(all(target_os = "linux", feature = "bluez"))]
pub mod btle;
#[cfg(all(target_os = "linux", feature = "bluez"))]
pub mod fake_bluez;

pub use frame::{GOOGLE_CABLE_UUID, is_hybrid_uuid};
pub use sim::{SimAdvertiser, SimRadio, SimScanner};
pub use udp::{SIM_UDP_PORT, UdpAdvertiser, UdpScanner};
