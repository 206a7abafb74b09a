//! LE advertising through BlueZ's D-Bus API (`org.bluez.LEAdvertisingManager1`).
//!
//! The advertiser exports an `org.bluez.LEAdvertisement1` object of type "broadcast" (non-connectable)
//! listing 0xFFF9 in its service UUIDs and carrying the 20-byte advert as service data under 0xFFF9, with no
//! local name and no TX power (docs/hybrid-protocol.md#advert-radio), and registers it on the adapter. The
//! system bus is used unless an address is given; zbus honours `DBUS_SYSTEM_BUS_ADDRESS`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tandem_ble::{AdvertiseError, BleAdvertiser};
use zbus::Connection;
use zbus::zvariant::{ObjectPath, OwnedObjectPath, Value};

use crate::rt::{RunError, RuntimeThread};

/// 0xFFF9 in the 128-bit form BlueZ uses on D-Bus.
pub const FIDO_SERVICE_UUID_128: &str = "0000fff9-0000-1000-8000-00805f9b34fb";

/// The object path of the exported advertisement (one per connection).
pub const ADVERT_PATH: &str = "/org/tandem/radio/advert0";

/// The BlueZ advertising-manager interface.
pub const ADVERTISING_MANAGER_IFACE: &str = "org.bluez.LEAdvertisingManager1";

/// Upper bound on any D-Bus round trip made by the advertiser.
const CALL_LIMIT: Duration = Duration::from_secs(10);

/// Where to find BlueZ.
#[derive(Debug, Clone, Default)]
pub struct BluezOptions {
    /// A D-Bus address (e.g. `unix:path=/run/dbus/system_bus_socket`); `None` means the system bus.
    pub bus_address: Option<String>,
    /// The adapter object path (e.g. `/org/bluez/hci0`); `None` picks the first with advertising.
    pub adapter: Option<String>,
}

/// A [`BleAdvertiser`] backed by BlueZ. Dropping it unregisters the advertisement.
pub struct BluezAdvertiser {
    session: Arc<tokio::sync::Mutex<Option<Session>>>,
    adapter: String,
    rt: RuntimeThread,
}

struct Session {
    conn: Connection,
    adapter: OwnedObjectPath,
    registered: bool,
}

/// The exported `org.bluez.LEAdvertisement1` object.
struct Advertisement {
    service_data: Vec<u8>,
}

#[zbus::interface(name = "org.bluez.LEAdvertisement1")]
impl Advertisement {
    /// BlueZ calls this when it drops the advertisement on its own (e.g. adapter removed).
    fn release(&self) {
        tracing::info!("BlueZ released the advertisement");
    }

    #[zbus(property, name = "Type")]
    fn kind(&self) -> String {
        "broadcast".to_owned()
    }

    #[zbus(property, name = "ServiceUUIDs")]
    fn service_uuids(&self) -> Vec<String> {
        vec![FIDO_SERVICE_UUID_128.to_owned()]
    }

    #[zbus(property, name = "ServiceData")]
    fn service_data(&self) -> HashMap<String, Value<'static>> {
        HashMap::from([(
            FIDO_SERVICE_UUID_128.to_owned(),
            Value::from(self.service_data.clone()),
        )])
    }
}

#[zbus::proxy(interface = "org.bluez.LEAdvertisingManager1", default_service = "org.bluez")]
trait AdvertisingManager {
    fn register_advertisement(
        &self,
        advertisement: &ObjectPath<'_>,
        options: HashMap<&str, Value<'_>>,
    ) -> zbus::Result<()>;

    fn unregister_advertisement(&self, service: &ObjectPath<'_>) -> zbus::Result<()>;
}

fn advert_path() -> ObjectPath<'static> {
    ObjectPath::from_static_str_unchecked(ADVERT_PATH)
}

/// Maps a D-Bus failure: no BlueZ, no adapter or no permission means unavailable.
fn map_error(e: zbus::Error) -> AdvertiseError {
    match &e {
        zbus::Error::MethodError(name, _, _)
            if matches!(
                name.as_str(),
                "org.freedesktop.DBus.Error.ServiceUnknown"
                    | "org.freedesktop.DBus.Error.UnknownObject"
                    | "org.freedesktop.DBus.Error.UnknownMethod"
                    | "org.freedesktop.DBus.Error.AccessDenied"
                    | "org.bluez.Error.NotPermitted"
                    | "org.bluez.Error.NotReady"
            ) =>
        {
            AdvertiseError::Unavailable(format!("BlueZ: {e}"))
        }
        zbus::Error::Address(_) | zbus::Error::InputOutput(_) | zbus::Error::Handshake(_) => {
            AdvertiseError::Unavailable(format!("D-Bus: {e}"))
        }
        _ => AdvertiseError::Failed(format!("BlueZ: {e}")),
    }
}

fn map_run(e: RunError) -> AdvertiseError {
    AdvertiseError::Failed(format!("BlueZ advertiser: {e}"))
}

impl Session {
    async fn open(options: BluezOptions) -> Result<Self, AdvertiseError> {
        let builder = match &options.bus_address {
            Some(address) => zbus::connection::Builder::address(address.as_str()),
            None => zbus::connection::Builder::system(),
        }
        .map_err(map_error)?;
        let conn = builder.build().await.map_err(map_error)?;
        let adapter = match options.adapter {
            Some(path) => OwnedObjectPath::try_from(path)
                .map_err(|e| AdvertiseError::Unavailable(format!("bad adapter path: {e}")))?,
            None => find_adapter(&conn).await?,
        };
        Ok(Self {
            conn,
            adapter,
            registered: false,
        })
    }

    async fn manager(&self) -> Result<AdvertisingManagerProxy<'static>, AdvertiseError> {
        AdvertisingManagerProxy::builder(&self.conn)
            .path(self.adapter.clone())
            .map_err(map_error)?
            .build()
            .await
            .map_err(map_error)
    }

    async fn register(&mut self, service_data: Vec<u8>) -> Result<(), AdvertiseError> {
        // BlueZ reads an advertisement's properties once, at registration: replacing means re-registering.
        self.unregister().await;
        let server = self.conn.object_server();
        server
            .at(ADVERT_PATH, Advertisement { service_data })
            .await
            .map_err(map_error)?;
        let manager = self.manager().await?;
        match manager
            .register_advertisement(&advert_path(), HashMap::new())
            .await
        {
            Ok(()) => {
                self.registered = true;
                Ok(())
            }
            Err(e) => {
                let _ = server.remove::<Advertisement, _>(ADVERT_PATH).await;
                Err(map_error(e))
            }
        }
    }

    async fn unregister(&mut self) {
        if self.registered {
            self.registered = false;
            let result = match self.manager().await {
                Ok(manager) => manager
                    .unregister_advertisement(&advert_path())
                    .await
                    .map_err(map_error),
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                tracing::warn!("BlueZ UnregisterAdvertisement: {e}");
            }
        }
        let _ = self
            .conn
            .object_server()
            .remove::<Advertisement, _>(ADVERT_PATH)
            .await;
    }
}

/// The first adapter (by path) that offers LE advertising.
async fn find_adapter(conn: &Connection) -> Result<OwnedObjectPath, AdvertiseError> {
    let objects = zbus::fdo::ObjectManagerProxy::builder(conn)
        .destination("org.bluez")
        .map_err(map_error)?
        .path("/")
        .map_err(map_error)?
        .build()
        .await
        .map_err(map_error)?
        .get_managed_objects()
        .await
        .map_err(|e| map_error(e.into()))?;
    objects
        .into_iter()
        .filter(|(_, interfaces)| {
            interfaces
                .keys()
                .any(|name| name.as_str() == ADVERTISING_MANAGER_IFACE)
        })
        .map(|(path, _)| path)
        .min_by(|a, b| a.as_str().cmp(b.as_str()))
        .ok_or_else(|| AdvertiseError::Unavailable("no Bluetooth adapter with LE advertising".to_owned()))
}

impl BluezAdvertiser {
    /// Connects to BlueZ on the system bus and picks the first adapter that can advertise.
    pub fn new() -> Result<Self, AdvertiseError> {
        Self::with_options(BluezOptions::default())
    }

    /// Connects to BlueZ as described by `options`.
    pub fn with_options(options: BluezOptions) -> Result<Self, AdvertiseError> {
        let rt = RuntimeThread::start("bluez-advertiser")
            .map_err(|e| AdvertiseError::Unavailable(format!("cannot start the D-Bus thread: {e}")))?;
        let session = rt.run(CALL_LIMIT, Session::open(options)).map_err(map_run)??;
        let adapter = session.adapter.to_string();
        Ok(Self {
            session: Arc::new(tokio::sync::Mutex::new(Some(session))),
            adapter,
            rt,
        })
    }

    /// The adapter object path advertising happens on.
    pub fn adapter(&self) -> &str {
        &self.adapter
    }
}

impl BleAdvertiser for BluezAdvertiser {
    fn start(&self, advert: &[u8; 20]) -> Result<(), AdvertiseError> {
        let session = Arc::clone(&self.session);
        let service_data = advert.to_vec();
        self.rt
            .run(CALL_LIMIT, async move {
                match session.lock().await.as_mut() {
                    Some(session) => session.register(service_data).await,
                    None => Err(AdvertiseError::Failed("advertiser closed".to_owned())),
                }
            })
            .map_err(map_run)?
    }

    fn stop(&self) {
        let session = Arc::clone(&self.session);
        let result = self.rt.run(CALL_LIMIT, async move {
            if let Some(session) = session.lock().await.as_mut() {
                session.unregister().await;
            }
        });
        if let Err(e) = result {
            tracing::warn!("BlueZ advertiser stop: {e}");
        }
    }
}

impl Drop for BluezAdvertiser {
    fn drop(&mut self) {
        let session = Arc::clone(&self.session);
        // Unregister and close the connection on the runtime that owns its tasks.
        let result = self.rt.run(CALL_LIMIT, async move {
            if let Some(mut session) = session.lock().await.take() {
                session.unregister().await;
            }
        });
        if let Err(e) = result {
            tracing::warn!("BlueZ advertiser drop: {e}");
        }
    }
}
