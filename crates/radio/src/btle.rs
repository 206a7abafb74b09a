//! Scanning through btleplug (BlueZ on Linux).
//!
//! Starts an unfiltered scan (BlueZ's UUID filter only matches the service-class UUID list, which iOS
//! adverts lack) and forwards service data under 0xFFF9 and 0xFDE2 as [`SeenAdvert`]s: from every
//! `ServiceDataAdvertisement` event, and from the properties of a newly discovered device (BlueZ
//! announces a new device's first service data only with the device itself).

use std::collections::HashMap;
use std::pin::Pin;
use std::time::Duration;

use btleplug::api::bleuuid::uuid_from_u16;
use btleplug::api::{Central, CentralEvent, Manager as _, Peripheral as _, ScanFilter};
use btleplug::platform::{Adapter, Manager};
use futures_util::{Stream, StreamExt};
use tandem_ble::FIDO_SERVICE_UUID;
use tandem_ble::{AdvertScanner, ScanError, SeenAdvert};
use tokio::sync::mpsc;
use uuid::Uuid;

use crate::frame::GOOGLE_CABLE_UUID;
use crate::rt::{RunError, RuntimeThread};

/// Upper bound on setting up a scan (D-Bus round trips to BlueZ).
const SETUP_LIMIT: Duration = Duration::from_secs(10);

/// Upper bound on reading a discovered device's properties.
const PROPERTIES_LIMIT: Duration = Duration::from_secs(2);

/// Queue depth of a scan's channel; a receiver that falls this far behind misses adverts.
const SCAN_QUEUE: usize = 64;

/// The UUIDs forwarded, in Chromium's reading order.
const UUIDS: [u16; 2] = [GOOGLE_CABLE_UUID, FIDO_SERVICE_UUID];

type Events = Pin<Box<dyn Stream<Item = CentralEvent> + Send>>;

/// An [`AdvertScanner`] on the first Bluetooth adapter btleplug finds.
///
/// Scans run on the scanner's own runtime thread: a scan ends when its receiver is dropped or when
/// the scanner is dropped, whichever comes first.
pub struct BtleplugScanner {
    adapter: Adapter,
    rt: RuntimeThread,
}

fn unavailable(e: impl std::fmt::Display) -> ScanError {
    ScanError::Unavailable(format!("btleplug: {e}"))
}

fn map_run(e: RunError) -> ScanError {
    ScanError::Failed(format!("btleplug scanner: {e}"))
}

impl BtleplugScanner {
    /// Connects to the platform's Bluetooth stack (the system D-Bus on Linux; libdbus honours
    /// `DBUS_SYSTEM_BUS_ADDRESS`) and picks the first adapter.
    pub fn new() -> Result<Self, ScanError> {
        let rt = RuntimeThread::start("btleplug-scanner").map_err(unavailable)?;
        let adapter = rt
            .run(SETUP_LIMIT, async {
                let manager = Manager::new().await.map_err(unavailable)?;
                let adapters = manager.adapters().await.map_err(unavailable)?;
                adapters
                    .into_iter()
                    .next()
                    .ok_or_else(|| unavailable("no Bluetooth adapter"))
            })
            .map_err(map_run)??;
        Ok(Self { adapter, rt })
    }
}

impl AdvertScanner for BtleplugScanner {
    fn scan(&self) -> Result<mpsc::Receiver<SeenAdvert>, ScanError> {
        let adapter = self.adapter.clone();
        let (tx, rx) = mpsc::channel(SCAN_QUEUE);
        let events = self
            .rt
            .run(SETUP_LIMIT, async move {
                // Subscribe before starting, so no early advert is missed.
                let events = adapter.events().await.map_err(unavailable)?;
                adapter
                    .start_scan(ScanFilter::default())
                    .await
                    .map_err(unavailable)?;
                Ok::<_, ScanError>((adapter, events))
            })
            .map_err(map_run)??;
        self.rt.spawn(forward(events.0, events.1, tx));
        Ok(rx)
    }
}

/// Forwards hybrid service data until the receiver is dropped, then stops the scan.
async fn forward(adapter: Adapter, mut events: Events, tx: mpsc::Sender<SeenAdvert>) {
    loop {
        let event = tokio::select! {
            () = tx.closed() => break,
            event = events.next() => event,
        };
        let open = match event {
            None => break,
            Some(CentralEvent::ServiceDataAdvertisement { service_data, .. }) => {
                send_hybrid(&tx, &service_data)
            }
            Some(CentralEvent::DeviceDiscovered(id)) => {
                let properties = tokio::time::timeout(PROPERTIES_LIMIT, async {
                    adapter.peripheral(&id).await?.properties().await
                })
                .await;
                match properties {
                    Ok(Ok(Some(properties))) => send_hybrid(&tx, &properties.service_data),
                    Ok(Ok(None)) => true,
                    Ok(Err(e)) => {
                        tracing::debug!("btleplug: properties of {id:?}: {e}");
                        true
                    }
                    Err(_) => {
                        tracing::debug!("btleplug: properties of {id:?} timed out");
                        true
                    }
                }
            }
            Some(_) => true,
        };
        if !open {
            break;
        }
    }
    match tokio::time::timeout(SETUP_LIMIT, adapter.stop_scan()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::debug!("btleplug: stop scan: {e}"),
        Err(_) => tracing::debug!("btleplug: stop scan timed out"),
    }
}

/// Sends service data under the hybrid UUIDs; false once the receiver is gone.
fn send_hybrid(tx: &mpsc::Sender<SeenAdvert>, service_data: &HashMap<Uuid, Vec<u8>>) -> bool {
    for uuid in UUIDS {
        if let Some(data) = service_data.get(&uuid_from_u16(uuid)) {
            let advert = SeenAdvert {
                uuid,
                data: data.clone(),
            };
            // A full queue drops the copy, as a busy receiver misses a packet; the phone repeats it.
            if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(advert) {
                return false;
            }
        }
    }
    true
}
