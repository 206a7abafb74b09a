//! A simulated BlueZ for tests: owns `org.bluez` on a private bus and models one adapter whose
//! radio hears every advertisement registered on it.
//!
//! What it serves (the subset btleplug 0.11 / bluez-async 0.8 and [`crate::bluez::BluezAdvertiser`]
//! use):
//! - `/`: `org.freedesktop.DBus.ObjectManager` (`GetManagedObjects`, `InterfacesAdded`/`Removed`).
//! - `/org/bluez/hci0`: `org.bluez.Adapter1` (Address, AddressType, Name, Alias, Modalias, Class,
//!   Powered (settable), Discovering, Discoverable, Pairable, UUIDs; `StartDiscovery`, `StopDiscovery`,
//!   `SetDiscoveryFilter`), `org.bluez.LEAdvertisingManager1` (`RegisterAdvertisement`,
//!   `UnregisterAdvertisement`, ActiveInstances, SupportedInstances, SupportedIncludes), and the test
//!   control interface [`CONTROL_IFACE`] (`InjectAdvert(s uuid, ay data) -> o device`,
//!   `RemoveAdvert(o device)`).
//! - `/org/bluez`: `org.bluez.AgentManager1` (`RegisterAgent`, `UnregisterAgent`,
//!   `RequestDefaultAgent`; agents are recorded, never called: nothing pairs). Chromium registers one.
//! - `/org/bluez/hci0/dev_XX_XX_XX_XX_XX_XX`: `org.bluez.Device1` for each advert on the air, while
//!   some client is discovering (and the discovery filter's UUIDs, if any, match). Every
//!   [`TICK`] the device's `RSSI` and `ServiceData` are re-announced with `PropertiesChanged`, as
//!   BlueZ does for repeated adverts when the filter asks for `DuplicateData`.
//!
//! Registering reads the advertisement's properties back from the caller, as BlueZ does, and
//! enforces the legacy 31-byte advertising-data limit. Adverts and discovery sessions of a client
//! that leaves the bus are dropped. Everything the radio "hears" is visible to tests through
//! [`FakeBluez::adverts`].

mod bus;
mod objects;
mod state;
pub mod uuid;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use zbus::Connection;

pub use self::bus::{PrivateBus, SimBluez};
use self::objects::{Adapter, AdvertisingManager, AgentManager, Control};
pub use self::state::{
    ADAPTER_PATH, AdvertSource, BLUEZ_NAME, CONTROL_IFACE, FakeBluezError, MANAGER_PATH, MAX_ADVERTS,
    OnAirAdvert, RSSI, TICK,
};
use self::state::{Shared, State, inject, remove};
use crate::rt::RuntimeThread;

const SETUP_LIMIT: Duration = Duration::from_secs(10);

/// A running simulated BlueZ. Dropping it leaves the bus.
pub struct FakeBluez {
    shared: Shared,
    // Kept so the bus connection (and the `org.bluez` name) lives as long as the handle.
    _conn: Connection,
    rt: RuntimeThread,
}

impl FakeBluez {
    /// Connects to the bus at `bus_address`, takes `org.bluez` and starts serving.
    pub fn start(bus_address: &str) -> Result<Self, FakeBluezError> {
        let shared = Shared(Arc::new(Mutex::new(State::new())));
        let rt = RuntimeThread::start("fake-bluez")?;
        let address = bus_address.to_owned();
        let serve_shared = shared.clone();
        let conn = rt.run(SETUP_LIMIT, async move {
            let conn = zbus::connection::Builder::address(address.as_str())?
                .serve_at("/", zbus::fdo::ObjectManager)?
                .serve_at(ADAPTER_PATH, Adapter::new(serve_shared.clone()))?
                .serve_at(ADAPTER_PATH, AdvertisingManager::new(serve_shared.clone()))?
                .serve_at(ADAPTER_PATH, Control::new(serve_shared.clone()))?
                .serve_at(MANAGER_PATH, AgentManager::new(serve_shared))?
                .name(BLUEZ_NAME)?
                .build()
                .await?;
            Ok::<_, zbus::Error>(conn)
        })??;
        rt.spawn(objects::announce_loop(conn.clone(), shared.clone()));
        let watcher = rt.run(
            SETUP_LIMIT,
            objects::departure_watcher(conn.clone(), shared.clone()),
        )??;
        rt.spawn(watcher);
        Ok(Self {
            shared,
            _conn: conn,
            rt,
        })
    }

    /// Every advert on the air, in the order they went up.
    pub fn adverts(&self) -> Vec<OnAirAdvert> {
        self.shared.lock().adverts.values().cloned().collect()
    }

    /// The object paths of the registered pairing agents, by client unique name.
    pub fn agents(&self) -> BTreeMap<String, String> {
        self.shared.lock().agents.clone()
    }

    /// Whether some client is discovering.
    pub fn is_discovering(&self) -> bool {
        self.shared.lock().discovering()
    }

    /// Puts service data `data` under the 16-bit `uuid` on the air (as a broadcast advert that also
    /// lists `uuid`), as if another device sent it. Returns the device object path.
    pub fn inject(&self, uuid: u16, data: &[u8]) -> Result<String, FakeBluezError> {
        inject(&self.shared, &uuid::from_u16(uuid), data)
    }

    /// Like [`FakeBluez::inject`] with any UUID string BlueZ accepts ("fff9", 128-bit form...).
    pub fn inject_uuid(&self, uuid: &str, data: &[u8]) -> Result<String, FakeBluezError> {
        let uuid128 = uuid::normalize(uuid)
            .ok_or_else(|| FakeBluezError::InvalidAdvert(format!("bad UUID {uuid:?}")))?;
        inject(&self.shared, &uuid128, data)
    }

    /// Takes an advert off the air by its device path; false if there was none.
    pub fn remove(&self, device_path: &str) -> bool {
        remove(&self.shared, device_path)
    }
}

impl Drop for FakeBluez {
    fn drop(&mut self) {
        // Close the connection on the runtime that drives it, before the runtime stops.
        let conn = self._conn.clone();
        let _ = self.rt.run(SETUP_LIMIT, async move {
            let _ = conn.close().await;
        });
    }
}
