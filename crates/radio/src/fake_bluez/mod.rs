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
pub mod uuid;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use zbus::Connection;

pub use self::bus::{PrivateBus, SimBluez};
use self::objects::{Adapter, AdvertisingManager, AgentManager, Control};
use crate::rt::{RunError, RuntimeThread};

/// The well-known name the fake owns.
pub const BLUEZ_NAME: &str = "org.bluez";
/// The object path of BlueZ's manager interfaces (`AgentManager1`).
pub const MANAGER_PATH: &str = "/org/bluez";
/// The one adapter's object path.
pub const ADAPTER_PATH: &str = "/org/bluez/hci0";
/// The test-control interface on the adapter object.
pub const CONTROL_IFACE: &str = "org.tandem.FakeBluez1";
/// How often devices on the air are re-announced while discovering.
pub const TICK: Duration = Duration::from_millis(100);
/// The RSSI reported for every simulated device.
pub const RSSI: i16 = -52;
/// How many adverts may be registered at once (a typical controller's count).
pub const MAX_ADVERTS: usize = 4;

const SETUP_LIMIT: Duration = Duration::from_secs(10);

/// Why the simulated BlueZ (or its private bus) could not run.
#[derive(Debug, thiserror::Error)]
pub enum FakeBluezError {
    /// `dbus-daemon` is not installed (Debian package `dbus-daemon`).
    #[error("dbus-daemon is not installed (install the `dbus-daemon` package)")]
    DaemonNotInstalled,
    /// `dbus-daemon` started but did not come up.
    #[error("dbus-daemon failed: {0}")]
    Daemon(String),
    /// Local I/O failed (temporary files, threads).
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    /// Talking to the bus failed (e.g. `org.bluez` already owned).
    #[error("D-Bus: {0}")]
    DBus(#[from] zbus::Error),
    /// A setup step did not finish in time.
    #[error("setup: {0}")]
    Run(#[from] RunError),
    /// An injected advert was malformed.
    #[error("invalid advert: {0}")]
    InvalidAdvert(String),
}

/// Who put an advert on the air.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdvertSource {
    /// Registered through `RegisterAdvertisement` by bus client `owner` at object `path`.
    Registered {
        /// The client's unique bus name.
        owner: String,
        /// The client's `LEAdvertisement1` object path.
        path: String,
    },
    /// Injected through [`FakeBluez::inject`] or the control interface.
    Injected,
}

/// One advert on the simulated air, with the properties BlueZ read from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OnAirAdvert {
    /// Where it came from.
    pub source: AdvertSource,
    /// The simulated advertiser's (random static) address.
    pub address: String,
    /// The device object that shows it to scanners.
    pub device_path: String,
    /// `Type` ("broadcast" or "peripheral").
    pub kind: String,
    /// `ServiceUUIDs`, normalised to lower-case 128-bit form.
    pub service_uuids: Vec<String>,
    /// `ServiceData`, keys normalised to lower-case 128-bit form.
    pub service_data: BTreeMap<String, Vec<u8>>,
    /// `LocalName`, if the advertiser set one.
    pub local_name: Option<String>,
    /// Whether `Includes` asked for the TX power (or `IncludeTxPower` was set).
    pub include_tx_power: bool,
}

impl OnAirAdvert {
    /// Whether a discovery filter on `uuids` (empty: no filter) lets this advert through.
    fn passes(&self, uuids: &[String]) -> bool {
        uuids.is_empty()
            || uuids
                .iter()
                .any(|u| self.service_uuids.contains(u) || self.service_data.contains_key(u))
    }
}

#[derive(Debug)]
struct State {
    powered: bool,
    /// Unique names of the clients that called StartDiscovery.
    discovery_clients: BTreeSet<String>,
    /// The latest discovery filter's UUIDs (normalised); empty means no filter.
    filter_uuids: Vec<String>,
    adverts: BTreeMap<u64, OnAirAdvert>,
    next_id: u64,
    /// Registered pairing agents: client unique name → agent object path.
    agents: BTreeMap<String, String>,
    /// The client whose agent is the default one.
    default_agent: Option<String>,
}

impl State {
    fn new() -> Self {
        Self {
            powered: true,
            discovery_clients: BTreeSet::new(),
            filter_uuids: Vec::new(),
            adverts: BTreeMap::new(),
            next_id: 1,
            agents: BTreeMap::new(),
            default_agent: None,
        }
    }

    fn discovering(&self) -> bool {
        !self.discovery_clients.is_empty()
    }

    /// Puts an advert on the air under a fresh simulated address; returns its device path.
    fn add(&mut self, make: impl FnOnce(String, String) -> OnAirAdvert) -> String {
        let id = self.next_id;
        self.next_id += 1;
        // Random static addresses have the two top bits set.
        let address = format!("C0:7A:4D:00:{:02X}:{:02X}", (id >> 8) & 0xFF, id & 0xFF);
        let device_path = format!("{ADAPTER_PATH}/dev_{}", address.replace(':', "_"));
        self.adverts.insert(id, make(address, device_path.clone()));
        device_path
    }

    fn registered_count(&self) -> usize {
        self.adverts
            .values()
            .filter(|a| matches!(a.source, AdvertSource::Registered { .. }))
            .count()
    }
}

#[derive(Clone, Debug)]
struct Shared(Arc<Mutex<State>>);

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

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

fn inject(shared: &Shared, uuid128: &str, data: &[u8]) -> Result<String, FakeBluezError> {
    let advert_len = uuid::ad_length(
        std::slice::from_ref(&uuid128.to_owned()),
        [(uuid128, data.len())],
        None,
    );
    if advert_len > uuid::MAX_AD_LENGTH {
        return Err(FakeBluezError::InvalidAdvert(format!(
            "{advert_len} bytes of advertising data, more than {}",
            uuid::MAX_AD_LENGTH
        )));
    }
    Ok(shared.lock().add(|address, device_path| OnAirAdvert {
        source: AdvertSource::Injected,
        address,
        device_path,
        kind: "broadcast".to_owned(),
        service_uuids: vec![uuid128.to_owned()],
        service_data: BTreeMap::from([(uuid128.to_owned(), data.to_vec())]),
        local_name: None,
        include_tx_power: false,
    }))
}

fn remove(shared: &Shared, device_path: &str) -> bool {
    let mut state = shared.lock();
    let before = state.adverts.len();
    state.adverts.retain(|_, a| a.device_path != device_path);
    state.adverts.len() != before
}
