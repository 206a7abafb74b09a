//! The in-process simulated radio: advertisers and scanners sharing one broadcast medium.
//!
//! Every advert being broadcast is delivered to every scanning receiver once when either side starts,
//! then again every [`REPEAT_INTERVAL`], like a real advertiser repeating its advert until stopped.
//! Delivery happens under the medium's lock, so once [`BleAdvertiser::stop`] returns no further copy
//! of that advert is queued.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::Duration;

use tandem_ble::{AdvertScanner, ScanError, SeenAdvert};
use tandem_ble::{AdvertiseError, BleAdvertiser, FIDO_SERVICE_UUID};
use tokio::sync::mpsc;

use crate::frame::is_hybrid_uuid;

/// How often the medium repeats every advert on the air (Android's low-latency advertising interval).
pub const REPEAT_INTERVAL: Duration = Duration::from_millis(100);

/// Queue depth of a scan's channel; a receiver that falls this far behind misses adverts, as on air.
const SCAN_QUEUE: usize = 64;

/// An in-process broadcast medium. Cheap to clone; clones share the medium.
#[derive(Clone, Default)]
pub struct SimRadio {
    medium: Arc<Medium>,
}

#[derive(Default)]
struct Medium {
    state: Mutex<MediumState>,
}

#[derive(Default)]
struct MediumState {
    /// Adverts on the air, by advertiser id.
    on_air: BTreeMap<u64, SeenAdvert>,
    next_id: u64,
    listeners: Vec<mpsc::Sender<SeenAdvert>>,
    repeater_started: bool,
}

impl MediumState {
    fn deliver(&mut self, advert: &SeenAdvert) {
        if !is_hybrid_uuid(advert.uuid) {
            return;
        }
        self.listeners.retain(|tx| !tx.is_closed());
        for tx in &self.listeners {
            // A full queue drops the copy, like a busy receiver missing a packet.
            let _ = tx.try_send(advert.clone());
        }
    }

    fn deliver_all(&mut self) {
        let adverts: Vec<SeenAdvert> = self.on_air.values().cloned().collect();
        for advert in &adverts {
            self.deliver(advert);
        }
        self.listeners.retain(|tx| !tx.is_closed());
    }
}

impl Medium {
    fn lock(&self) -> MutexGuard<'_, MediumState> {
        // A panic while holding the lock cannot leave the state half-updated in a harmful way.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts the repeater thread once; it exits after the last handle to the medium is dropped.
    fn ensure_repeater(self: &Arc<Self>, state: &mut MediumState) -> std::io::Result<()> {
        if state.repeater_started {
            return Ok(());
        }
        let weak: Weak<Medium> = Arc::downgrade(self);
        std::thread::Builder::new()
            .name("sim-radio".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(REPEAT_INTERVAL);
                    let Some(medium) = weak.upgrade() else { break };
                    medium.lock().deliver_all();
                }
            })?;
        state.repeater_started = true;
        Ok(())
    }
}

impl SimRadio {
    /// Creates an empty medium.
    pub fn new() -> Self {
        Self::default()
    }

    /// An advertiser sending under the FIDO UUID 0xFFF9.
    pub fn advertiser(&self) -> SimAdvertiser {
        self.advertiser_with_uuid(FIDO_SERVICE_UUID)
    }

    /// An advertiser sending under any 16-bit UUID (e.g. the legacy 0xFDE2, or an unrelated one).
    pub fn advertiser_with_uuid(&self, uuid: u16) -> SimAdvertiser {
        let mut state = self.medium.lock();
        let id = state.next_id;
        state.next_id += 1;
        SimAdvertiser {
            medium: Arc::clone(&self.medium),
            id,
            uuid,
        }
    }

    /// A scanner receiving every hybrid advert (0xFFF9, 0xFDE2) on this medium.
    pub fn scanner(&self) -> SimScanner {
        SimScanner {
            medium: Arc::clone(&self.medium),
        }
    }

    /// Everything on the air right now, whatever its UUID, in advertiser creation order.
    pub fn on_air(&self) -> Vec<SeenAdvert> {
        self.medium.lock().on_air.values().cloned().collect()
    }
}

/// A [`BleAdvertiser`] on a [`SimRadio`]. Dropping it stops its advert.
pub struct SimAdvertiser {
    medium: Arc<Medium>,
    id: u64,
    uuid: u16,
}

impl BleAdvertiser for SimAdvertiser {
    fn start(&self, advert: &[u8; 20]) -> Result<(), AdvertiseError> {
        let mut state = self.medium.lock();
        self.medium
            .ensure_repeater(&mut state)
            .map_err(|e| AdvertiseError::Unavailable(format!("cannot start the simulated radio: {e}")))?;
        let seen = SeenAdvert {
            uuid: self.uuid,
            data: advert.to_vec(),
        };
        state.deliver(&seen);
        state.on_air.insert(self.id, seen);
        Ok(())
    }

    fn stop(&self) {
        self.medium.lock().on_air.remove(&self.id);
    }
}

impl Drop for SimAdvertiser {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An [`AdvertScanner`] on a [`SimRadio`].
pub struct SimScanner {
    medium: Arc<Medium>,
}

impl AdvertScanner for SimScanner {
    fn scan(&self) -> Result<mpsc::Receiver<SeenAdvert>, ScanError> {
        let (tx, rx) = mpsc::channel(SCAN_QUEUE);
        let mut state = self.medium.lock();
        self.medium
            .ensure_repeater(&mut state)
            .map_err(|e| ScanError::Unavailable(format!("cannot start the simulated radio: {e}")))?;
        // Whatever is already on the air is heard at once, not only at the next repeat.
        for advert in state.on_air.values().filter(|a| is_hybrid_uuid(a.uuid)) {
            let _ = tx.try_send(advert.clone());
        }
        state.listeners.push(tx);
        Ok(rx)
    }
}
