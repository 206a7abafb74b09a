//! The D-Bus objects of the simulated BlueZ and its background tasks.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::time::Duration;

use futures_util::StreamExt;
use zbus::Connection;
use zbus::message::Header;
use zbus::names::InterfaceName;
use zbus::object_server::SignalEmitter;
use zbus::zvariant::{Dict, OwnedObjectPath, OwnedValue, Value};

use super::state::{self, ADAPTER_PATH, AdvertSource, MAX_ADVERTS, OnAirAdvert, RSSI, Shared, TICK};
use super::uuid::{self, MAX_AD_LENGTH};

/// How long RegisterAdvertisement waits for the client to hand over its advertisement's properties.
const READ_BACK_LIMIT: Duration = Duration::from_secs(5);

const DEVICE_IFACE: &str = "org.bluez.Device1";
const ADVERTISEMENT_IFACE: &str = "org.bluez.LEAdvertisement1";

/// BlueZ's D-Bus errors (the subset the fake returns).
#[derive(Debug, zbus::DBusError)]
#[zbus(prefix = "org.bluez.Error")]
pub(super) enum BluezError {
    #[zbus(error)]
    ZBus(zbus::Error),
    Failed(String),
    NotReady(String),
    InvalidArguments(String),
    InvalidLength(String),
    AlreadyExists(String),
    DoesNotExist(String),
    NotPermitted(String),
}

fn sender_of(header: &Header<'_>) -> Result<String, BluezError> {
    header
        .sender()
        .map(|s| s.to_string())
        .ok_or_else(|| BluezError::Failed("message has no sender".to_owned()))
}

/// `Value::Value` wrappers removed.
fn peel<'a>(value: &'a Value<'a>) -> &'a Value<'a> {
    match value {
        Value::Value(inner) => peel(inner),
        other => other,
    }
}

fn as_string(value: &Value<'_>) -> Option<String> {
    match peel(value) {
        Value::Str(s) => Some(s.to_string()),
        _ => None,
    }
}

fn as_bool(value: &Value<'_>) -> Option<bool> {
    match peel(value) {
        Value::Bool(b) => Some(*b),
        _ => None,
    }
}

fn as_strings(value: &Value<'_>) -> Option<Vec<String>> {
    match peel(value) {
        Value::Array(items) => items.iter().map(as_string).collect(),
        _ => None,
    }
}

fn as_bytes(value: &Value<'_>) -> Option<Vec<u8>> {
    match peel(value) {
        Value::Array(items) => items
            .iter()
            .map(|item| match peel(item) {
                Value::U8(b) => Some(*b),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

fn as_uuids(value: &Value<'_>) -> Option<Vec<String>> {
    as_strings(value)?.iter().map(|u| uuid::normalize(u)).collect()
}

fn as_service_data(value: &Value<'_>) -> Option<BTreeMap<String, Vec<u8>>> {
    match peel(value) {
        Value::Dict(dict) => dict
            .iter()
            .map(|(key, data)| Some((uuid::normalize(&as_string(key)?)?, as_bytes(data)?)))
            .collect(),
        _ => None,
    }
}

/// `ServiceData` as BlueZ sends it: `a{sv}` of byte arrays.
fn service_data_value(service_data: &BTreeMap<String, Vec<u8>>) -> Value<'static> {
    let map: HashMap<String, Value<'static>> = service_data
        .iter()
        .map(|(uuid, data)| (uuid.clone(), Value::from(data.clone())))
        .collect();
    Value::from(Dict::from(map))
}

/// `org.bluez.Adapter1`.
pub(super) struct Adapter {
    shared: Shared,
}

impl Adapter {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

#[zbus::interface(name = "org.bluez.Adapter1")]
impl Adapter {
    async fn start_discovery(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<(), BluezError> {
        let client = sender_of(&header)?;
        let started = {
            let mut state = self.shared.lock();
            if !state.powered {
                return Err(BluezError::NotReady("Resource Not Ready".to_owned()));
            }
            let was = state.discovering();
            state.discovery_clients.insert(client);
            !was
        };
        if started {
            self.discovering_changed(&emitter).await?;
        }
        Ok(())
    }

    async fn stop_discovery(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(signal_emitter)] emitter: SignalEmitter<'_>,
    ) -> Result<(), BluezError> {
        let client = sender_of(&header)?;
        let stopped = {
            let mut state = self.shared.lock();
            if !state.discovery_clients.remove(&client) {
                return Err(BluezError::Failed("No discovery started".to_owned()));
            }
            !state.discovering()
        };
        if stopped {
            self.discovering_changed(&emitter).await?;
        }
        Ok(())
    }

    fn set_discovery_filter(&self, filter: HashMap<String, OwnedValue>) -> Result<(), BluezError> {
        let invalid = |what: &str| BluezError::InvalidArguments(format!("Invalid discovery filter: {what}"));
        let mut uuids = Vec::new();
        for (key, value) in &filter {
            match key.as_str() {
                "UUIDs" => uuids = as_uuids(value).ok_or_else(|| invalid("UUIDs"))?,
                "Transport" => {
                    let transport = as_string(value).ok_or_else(|| invalid("Transport"))?;
                    if !matches!(transport.as_str(), "auto" | "le" | "bredr") {
                        return Err(invalid("Transport"));
                    }
                }
                "DuplicateData" | "Discoverable" => {
                    as_bool(value).ok_or_else(|| invalid(key))?;
                }
                "RSSI" | "Pathloss" | "Pattern" => {}
                _ => return Err(invalid(key)),
            }
        }
        self.shared.lock().filter_uuids = uuids;
        Ok(())
    }

    #[zbus(property)]
    fn address(&self) -> String {
        "0A:7A:4D:00:00:01".to_owned()
    }

    #[zbus(property)]
    fn address_type(&self) -> String {
        "public".to_owned()
    }

    #[zbus(property)]
    fn name(&self) -> String {
        "tandem-fake-bluez".to_owned()
    }

    #[zbus(property)]
    fn alias(&self) -> String {
        "tandem-fake-bluez".to_owned()
    }

    /// The Linux Foundation's USB vendor id and a BlueZ-like product/version, as BlueZ reports it.
    #[zbus(property)]
    fn modalias(&self) -> String {
        "usb:v1D6Bp0246d0548".to_owned()
    }

    #[zbus(property)]
    fn class(&self) -> u32 {
        0
    }

    #[zbus(property)]
    fn powered(&self) -> bool {
        self.shared.lock().powered
    }

    #[zbus(property)]
    fn set_powered(&mut self, powered: bool) {
        self.shared.lock().powered = powered;
    }

    #[zbus(property)]
    fn discovering(&self) -> bool {
        self.shared.lock().discovering()
    }

    #[zbus(property)]
    fn discoverable(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn pairable(&self) -> bool {
        false
    }

    #[zbus(property, name = "UUIDs")]
    fn uuids(&self) -> Vec<String> {
        Vec::new()
    }

    #[zbus(property)]
    fn roles(&self) -> Vec<String> {
        vec!["central".to_owned(), "peripheral".to_owned()]
    }
}

/// `org.bluez.LEAdvertisingManager1`.
pub(super) struct AdvertisingManager {
    shared: Shared,
}

impl AdvertisingManager {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

/// An advertisement's properties as read back from its owner.
struct AdvertProperties {
    kind: String,
    service_uuids: Vec<String>,
    service_data: BTreeMap<String, Vec<u8>>,
    local_name: Option<String>,
    include_tx_power: bool,
}

fn parse_advertisement(properties: &HashMap<String, OwnedValue>) -> Result<AdvertProperties, BluezError> {
    let invalid = |what: &str| BluezError::InvalidArguments(format!("Failed to parse advertisement: {what}"));
    let kind = properties
        .get("Type")
        .and_then(|v| as_string(v))
        .ok_or_else(|| invalid("Type"))?;
    if !matches!(kind.as_str(), "broadcast" | "peripheral") {
        return Err(invalid("Type"));
    }
    let service_uuids = match properties.get("ServiceUUIDs") {
        Some(v) => as_uuids(v).ok_or_else(|| invalid("ServiceUUIDs"))?,
        None => Vec::new(),
    };
    let service_data = match properties.get("ServiceData") {
        Some(v) => as_service_data(v).ok_or_else(|| invalid("ServiceData"))?,
        None => BTreeMap::new(),
    };
    let local_name = match properties.get("LocalName") {
        Some(v) => Some(as_string(v).ok_or_else(|| invalid("LocalName"))?),
        None => None,
    };
    let includes = match properties.get("Includes") {
        Some(v) => as_strings(v).ok_or_else(|| invalid("Includes"))?,
        None => Vec::new(),
    };
    let include_tx_power = includes.iter().any(|i| i == "tx-power")
        || properties
            .get("IncludeTxPower")
            .and_then(|v| as_bool(v))
            .unwrap_or(false);
    Ok(AdvertProperties {
        kind,
        service_uuids,
        service_data,
        local_name,
        include_tx_power,
    })
}

#[zbus::interface(name = "org.bluez.LEAdvertisingManager1")]
impl AdvertisingManager {
    async fn register_advertisement(
        &self,
        #[zbus(header)] header: Header<'_>,
        #[zbus(connection)] conn: &Connection,
        advertisement: OwnedObjectPath,
        _options: HashMap<String, OwnedValue>,
    ) -> Result<(), BluezError> {
        let owner = sender_of(&header)?;
        let path = advertisement.to_string();
        let is_this = |a: &OnAirAdvert| matches!(&a.source, AdvertSource::Registered { owner: o, path: p } if *o == owner && *p == path);
        {
            let state = self.shared.lock();
            if state.adverts.values().any(is_this) {
                return Err(BluezError::AlreadyExists("Already Exists".to_owned()));
            }
            if state.registered_count() >= MAX_ADVERTS {
                return Err(BluezError::NotPermitted(
                    "Maximum advertisements reached".to_owned(),
                ));
            }
        }
        // Like BlueZ, read the advertisement back from its owner before replying.
        let read_back = async {
            zbus::fdo::PropertiesProxy::builder(conn)
                .destination(owner.as_str())?
                .path(advertisement.as_ref())?
                .build()
                .await?
                .get_all(InterfaceName::from_static_str_unchecked(ADVERTISEMENT_IFACE))
                .await
                .map_err(zbus::Error::from)
        };
        let properties = tokio::time::timeout(READ_BACK_LIMIT, read_back)
            .await
            .map_err(|_| BluezError::Failed("Failed to read advertisement properties".to_owned()))??;
        let parsed = parse_advertisement(&properties)?;
        let mut length = uuid::ad_length(
            &parsed.service_uuids,
            parsed.service_data.iter().map(|(u, d)| (u.as_str(), d.len())),
            parsed.local_name.as_deref(),
        );
        if parsed.kind == "peripheral" {
            length += 3; // Flags AD
        }
        if parsed.include_tx_power {
            length += 3;
        }
        if length > MAX_AD_LENGTH {
            return Err(BluezError::InvalidLength("Advertising data too long".to_owned()));
        }
        let mut state = self.shared.lock();
        if state.adverts.values().any(is_this) {
            return Err(BluezError::AlreadyExists("Already Exists".to_owned()));
        }
        state.add(|address, device_path| OnAirAdvert {
            source: AdvertSource::Registered {
                owner: owner.clone(),
                path: path.clone(),
            },
            address,
            device_path,
            kind: parsed.kind,
            service_uuids: parsed.service_uuids,
            service_data: parsed.service_data,
            local_name: parsed.local_name,
            include_tx_power: parsed.include_tx_power,
        });
        Ok(())
    }

    fn unregister_advertisement(
        &self,
        #[zbus(header)] header: Header<'_>,
        advertisement: OwnedObjectPath,
    ) -> Result<(), BluezError> {
        let owner = sender_of(&header)?;
        let path = advertisement.to_string();
        let mut state = self.shared.lock();
        let before = state.adverts.len();
        state.adverts.retain(|_, a| {
            !matches!(&a.source, AdvertSource::Registered { owner: o, path: p } if *o == owner && *p == path)
        });
        if state.adverts.len() == before {
            return Err(BluezError::DoesNotExist("Does Not Exist".to_owned()));
        }
        Ok(())
    }

    #[zbus(property)]
    fn active_instances(&self) -> u8 {
        u8::try_from(self.shared.lock().registered_count()).unwrap_or(u8::MAX)
    }

    #[zbus(property)]
    fn supported_instances(&self) -> u8 {
        let free = MAX_ADVERTS.saturating_sub(self.shared.lock().registered_count());
        u8::try_from(free).unwrap_or(u8::MAX)
    }

    #[zbus(property)]
    fn supported_includes(&self) -> Vec<String> {
        vec![
            "tx-power".to_owned(),
            "appearance".to_owned(),
            "local-name".to_owned(),
        ]
    }
}

/// `org.bluez.AgentManager1` on `/org/bluez`: clients register pairing agents here (Chromium registers
/// one when it starts using the adapter and unregisters it when done). Nothing ever pairs with a
/// simulated advertiser, so the agents are only recorded, one per client and object path, as BlueZ
/// keeps them; agents of clients that leave the bus are dropped.
pub(super) struct AgentManager {
    shared: Shared,
}

impl AgentManager {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

/// The IO capabilities BlueZ accepts ("" means the default, KeyboardDisplay).
const AGENT_CAPABILITIES: [&str; 6] = [
    "",
    "DisplayOnly",
    "DisplayYesNo",
    "KeyboardOnly",
    "NoInputNoOutput",
    "KeyboardDisplay",
];

/// BlueZ answers DoesNotExist when a client names an agent it did not register.
fn require_own_agent(
    agents: &std::collections::BTreeMap<String, String>,
    owner: &str,
    agent: &OwnedObjectPath,
) -> Result<(), BluezError> {
    if agents.get(owner).map(String::as_str) == Some(agent.as_str()) {
        Ok(())
    } else {
        Err(BluezError::DoesNotExist("No such Agent".to_owned()))
    }
}

#[zbus::interface(name = "org.bluez.AgentManager1")]
impl AgentManager {
    fn register_agent(
        &self,
        #[zbus(header)] header: Header<'_>,
        agent: OwnedObjectPath,
        capability: String,
    ) -> Result<(), BluezError> {
        let owner = sender_of(&header)?;
        if !AGENT_CAPABILITIES.contains(&capability.as_str()) {
            return Err(BluezError::InvalidArguments(
                "Invalid Arguments in method call".to_owned(),
            ));
        }
        let mut state = self.shared.lock();
        if state.agents.contains_key(&owner) {
            return Err(BluezError::AlreadyExists("Already Exists".to_owned()));
        }
        state.agents.insert(owner, agent.to_string());
        Ok(())
    }

    fn unregister_agent(
        &self,
        #[zbus(header)] header: Header<'_>,
        agent: OwnedObjectPath,
    ) -> Result<(), BluezError> {
        let owner = sender_of(&header)?;
        let mut state = self.shared.lock();
        require_own_agent(&state.agents, &owner, &agent)?;
        state.agents.remove(&owner);
        state.default_agent.take_if(|o| *o == owner);
        Ok(())
    }

    fn request_default_agent(
        &self,
        #[zbus(header)] header: Header<'_>,
        agent: OwnedObjectPath,
    ) -> Result<(), BluezError> {
        let owner = sender_of(&header)?;
        let mut state = self.shared.lock();
        require_own_agent(&state.agents, &owner, &agent)?;
        state.default_agent = Some(owner);
        Ok(())
    }
}

/// `org.tandem.FakeBluez1`: lets tests put arbitrary service data on the air.
pub(super) struct Control {
    shared: Shared,
}

impl Control {
    pub(super) fn new(shared: Shared) -> Self {
        Self { shared }
    }
}

#[zbus::interface(name = "org.tandem.FakeBluez1")]
impl Control {
    /// Puts `data` under `uuid` (any BlueZ UUID form) on the air; returns the device path.
    fn inject_advert(&self, uuid: String, data: Vec<u8>) -> Result<OwnedObjectPath, BluezError> {
        let uuid128 = uuid::normalize(&uuid)
            .ok_or_else(|| BluezError::InvalidArguments(format!("bad UUID {uuid:?}")))?;
        let path = state::inject(&self.shared, &uuid128, &data)
            .map_err(|e| BluezError::InvalidLength(e.to_string()))?;
        OwnedObjectPath::try_from(path).map_err(|e| BluezError::Failed(e.to_string()))
    }

    /// Takes an advert off the air by its device path.
    fn remove_advert(&self, device: OwnedObjectPath) -> Result<(), BluezError> {
        if state::remove(&self.shared, device.as_str()) {
            Ok(())
        } else {
            Err(BluezError::DoesNotExist("Does Not Exist".to_owned()))
        }
    }
}

/// `org.bluez.Device1` for one advert heard on the air.
struct Device {
    advert: OnAirAdvert,
}

#[zbus::interface(name = "org.bluez.Device1")]
impl Device {
    #[zbus(property)]
    fn address(&self) -> String {
        self.advert.address.clone()
    }

    #[zbus(property)]
    fn address_type(&self) -> String {
        "random".to_owned()
    }

    #[zbus(property)]
    fn alias(&self) -> String {
        self.advert.address.replace(':', "-")
    }

    #[zbus(property)]
    fn adapter(&self) -> OwnedObjectPath {
        OwnedObjectPath::from(zbus::zvariant::ObjectPath::from_static_str_unchecked(
            ADAPTER_PATH,
        ))
    }

    #[zbus(property)]
    fn paired(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn bonded(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn trusted(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn blocked(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn legacy_pairing(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn connected(&self) -> bool {
        false
    }

    #[zbus(property)]
    fn services_resolved(&self) -> bool {
        false
    }

    #[zbus(property, name = "RSSI")]
    fn rssi(&self) -> i16 {
        RSSI
    }

    #[zbus(property, name = "UUIDs")]
    fn uuids(&self) -> Vec<String> {
        self.advert.service_uuids.clone()
    }

    #[zbus(property)]
    fn service_data(&self) -> HashMap<String, Value<'static>> {
        self.advert
            .service_data
            .iter()
            .map(|(u, d)| (u.clone(), Value::from(d.clone())))
            .collect()
    }
}

/// Every [`TICK`]: drops device objects of adverts gone from the air; while discovering, shows a
/// device for each advert passing the filter (`InterfacesAdded`) and re-announces its RSSI and
/// service data (`PropertiesChanged`).
pub(super) async fn announce_loop(conn: Connection, shared: Shared) {
    let server = conn.object_server();
    let mut exported: BTreeSet<String> = BTreeSet::new();
    let mut ticker = tokio::time::interval(TICK);
    loop {
        ticker.tick().await;
        let (on_air, visible, discovering) = {
            let state = shared.lock();
            let on_air: BTreeSet<String> = state.adverts.values().map(|a| a.device_path.clone()).collect();
            let visible: Vec<OnAirAdvert> = state
                .adverts
                .values()
                .filter(|a| a.passes(&state.filter_uuids))
                .cloned()
                .collect();
            (on_air, visible, state.discovering())
        };
        let gone: Vec<String> = exported.difference(&on_air).cloned().collect();
        for path in gone {
            if let Err(e) = server.remove::<Device, _>(path.as_str()).await {
                tracing::warn!("fake BlueZ: removing {path}: {e}");
            }
            exported.remove(&path);
        }
        if !discovering {
            continue;
        }
        for advert in visible {
            let path = advert.device_path.clone();
            if !exported.contains(&path) {
                let service_data = advert.service_data.clone();
                match server.at(path.as_str(), Device { advert }).await {
                    Ok(_) => {
                        exported.insert(path.clone());
                    }
                    Err(e) => {
                        tracing::warn!("fake BlueZ: exporting {path}: {e}");
                        continue;
                    }
                }
                announce(&conn, &path, &service_data).await;
            } else {
                announce(&conn, &path, &advert.service_data).await;
            }
        }
    }
}

async fn announce(conn: &Connection, path: &str, service_data: &BTreeMap<String, Vec<u8>>) {
    let result = async {
        let emitter = SignalEmitter::new(conn, path)?;
        let changed = HashMap::from([
            ("RSSI", Value::from(RSSI)),
            ("ServiceData", service_data_value(service_data)),
        ]);
        zbus::fdo::Properties::properties_changed(
            &emitter,
            InterfaceName::from_static_str_unchecked(DEVICE_IFACE),
            changed,
            Cow::Borrowed(&[]),
        )
        .await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!("fake BlueZ: announcing {path}: {e}");
    }
}

/// Subscribes to `NameOwnerChanged`; the returned task drops the adverts and discovery sessions of
/// clients that leave the bus, as BlueZ does.
pub(super) async fn departure_watcher(
    conn: Connection,
    shared: Shared,
) -> Result<impl Future<Output = ()> + Send + 'static, zbus::Error> {
    let proxy = zbus::fdo::DBusProxy::new(&conn).await?;
    let mut changes = proxy.receive_name_owner_changed().await?;
    Ok(async move {
        let _proxy = proxy;
        while let Some(change) = changes.next().await {
            let Ok(args) = change.args() else { continue };
            let name = args.name().as_str();
            if !name.starts_with(':') || args.new_owner().is_some() {
                continue;
            }
            let stopped = {
                let mut state = shared.lock();
                state.adverts.retain(
                    |_, a| !matches!(&a.source, AdvertSource::Registered { owner, .. } if owner == name),
                );
                let was = state.discovering();
                state.discovery_clients.remove(name);
                state.agents.remove(name);
                state.default_agent.take_if(|o| o.as_str() == name);
                was && !state.discovering()
            };
            if stopped {
                let result = async {
                    let adapter = conn.object_server().interface::<_, Adapter>(ADAPTER_PATH).await?;
                    adapter
                        .get()
                        .await
                        .discovering_changed(adapter.signal_emitter())
                        .await
                }
                .await;
                if let Err(e) = result {
                    tracing::warn!("fake BlueZ: announcing the end of discovery: {e}");
                }
            }
        }
    })
}
