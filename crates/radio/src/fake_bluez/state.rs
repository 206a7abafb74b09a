//! What the simulated radio hears: the adverts on the air and the discovery sessions, shared by the D-Bus
//! objects and the control handle.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use super::uuid;
use crate::rt::RunError;

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
    pub(super) fn passes(&self, uuids: &[String]) -> bool {
        uuids.is_empty()
            || uuids
                .iter()
                .any(|u| self.service_uuids.contains(u) || self.service_data.contains_key(u))
    }
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) powered: bool,
    /// Unique names of the clients that called StartDiscovery.
    pub(super) discovery_clients: BTreeSet<String>,
    /// The latest discovery filter's UUIDs (normalised); empty means no filter.
    pub(super) filter_uuids: Vec<String>,
    pub(super) adverts: BTreeMap<u64, OnAirAdvert>,
    pub(super) next_id: u64,
    /// Registered pairing agents: client unique name → agent object path.
    pub(super) agents: BTreeMap<String, String>,
    /// The client whose agent is the default one.
    pub(super) default_agent: Option<String>,
}

impl State {
    pub(super) fn new() -> Self {
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

    pub(super) fn discovering(&self) -> bool {
        !self.discovery_clients.is_empty()
    }

    /// Puts an advert on the air under a fresh simulated address; returns its device path.
    pub(super) fn add(&mut self, make: impl FnOnce(String, String) -> OnAirAdvert) -> String {
        let id = self.next_id;
        self.next_id += 1;
        // Random static addresses have the two top bits set.
        let address = format!("C0:7A:4D:00:{:02X}:{:02X}", (id >> 8) & 0xFF, id & 0xFF);
        let device_path = format!("{ADAPTER_PATH}/dev_{}", address.replace(':', "_"));
        self.adverts.insert(id, make(address, device_path.clone()));
        device_path
    }

    pub(super) fn registered_count(&self) -> usize {
        self.adverts
            .values()
            .filter(|a| matches!(a.source, AdvertSource::Registered { .. }))
            .count()
    }
}

#[derive(Clone, Debug)]
pub(super) struct Shared(pub(super) Arc<Mutex<State>>);

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

pub(super) fn inject(shared: &Shared, uuid128: &str, data: &[u8]) -> Result<String, FakeBluezError> {
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

pub(super) fn remove(shared: &Shared, device_path: &str) -> bool {
    let mut state = shared.lock();
    let before = state.adverts.len();
    state.adverts.retain(|_, a| a.device_path != device_path);
    state.adverts.len() != before
}
