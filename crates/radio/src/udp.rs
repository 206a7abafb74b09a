//! The simulated radio across processes: service-data frames over loopback UDP.
//!
//! The advertiser sends its frame (`uuid LE ‖ data`, see [`crate::frame`]) to `127.0.0.1:<port>` once
//! when started and then every [`REPEAT_INTERVAL`] until stopped; the scanner binds that port on
//! loopback. Nothing ever leaves the host: the destination address is fixed to 127.0.0.1 and datagrams
//! from other addresses are ignored. One scanner per port (UDP unicast has a single receiver).

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use tandem_ble::{AdvertScanner, ScanError, SeenAdvert};
use tandem_ble::{AdvertiseError, BleAdvertiser, FIDO_SERVICE_UUID};
use tokio::sync::mpsc;

use crate::frame::{self, is_hybrid_uuid};
pub use crate::sim::REPEAT_INTERVAL;

/// The default loopback port of the UDP medium: 65529, i.e. 0xFFF9.
pub const SIM_UDP_PORT: u16 = 0xFFF9;

/// How long a scan's receive thread blocks before checking whether its receiver was dropped.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// Queue depth of a scan's channel.
const SCAN_QUEUE: usize = 64;

/// Sends one advert at a time to the loopback UDP medium. Dropping it stops sending.
pub struct UdpAdvertiser {
    shared: Arc<TxShared>,
    uuid: u16,
    worker: Option<JoinHandle<()>>,
}

struct TxShared {
    state: Mutex<TxState>,
    wake: Condvar,
}

#[derive(Default)]
struct TxState {
    frame: Option<Vec<u8>>,
    closed: bool,
}

impl TxShared {
    fn lock(&self) -> MutexGuard<'_, TxState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl UdpAdvertiser {
    /// An advertiser sending under 0xFFF9 to `127.0.0.1:port`.
    pub fn new(port: u16) -> Result<Self, AdvertiseError> {
        Self::with_uuid(port, FIDO_SERVICE_UUID)
    }

    /// An advertiser sending under any 16-bit UUID to `127.0.0.1:port`.
    pub fn with_uuid(port: u16, uuid: u16) -> Result<Self, AdvertiseError> {
        let unavailable = |e: std::io::Error| AdvertiseError::Unavailable(format!("UDP sim radio: {e}"));
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)).map_err(unavailable)?;
        let dest = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let shared = Arc::new(TxShared {
            state: Mutex::new(TxState::default()),
            wake: Condvar::new(),
        });
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("sim-radio-udp-tx".into())
            .spawn(move || send_loop(&worker_shared, &socket, dest))
            .map_err(unavailable)?;
        Ok(Self {
            shared,
            uuid,
            worker: Some(worker),
        })
    }
}

/// Sends the current frame, then sleeps one interval or until woken by start/stop/drop.
fn send_loop(shared: &TxShared, socket: &UdpSocket, dest: SocketAddr) {
    let mut state = shared.lock();
    while !state.closed {
        if let Some(frame) = &state.frame {
            // Sent under the lock so that nothing goes out once stop() has returned. Nobody
            // listening is normal for a radio, so send errors are not interesting.
            if let Err(e) = socket.send_to(frame, dest) {
                tracing::trace!("UDP sim radio send: {e}");
            }
        }
        state = match shared.wake.wait_timeout(state, REPEAT_INTERVAL) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
    }
}

impl BleAdvertiser for UdpAdvertiser {
    fn start(&self, advert: &[u8; 20]) -> Result<(), AdvertiseError> {
        let frame = frame::encode(self.uuid, advert)
            .map_err(|e| AdvertiseError::Failed(format!("UDP sim radio: {e}")))?;
        self.shared.lock().frame = Some(frame);
        self.shared.wake.notify_all();
        Ok(())
    }

    fn stop(&self) {
        self.shared.lock().frame = None;
    }
}

impl Drop for UdpAdvertiser {
    fn drop(&mut self) {
        {
            let mut state = self.shared.lock();
            state.frame = None;
            state.closed = true;
        }
        self.shared.wake.notify_all();
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

/// Receives hybrid adverts (0xFFF9, 0xFDE2) from the loopback UDP medium.
pub struct UdpScanner {
    socket: UdpSocket,
}

impl UdpScanner {
    /// Binds `127.0.0.1:port` (0 picks a free port; see [`UdpScanner::port`]).
    pub fn bind(port: u16) -> std::io::Result<Self> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, port))?;
        socket.set_read_timeout(Some(POLL_INTERVAL))?;
        Ok(Self { socket })
    }

    /// The bound port, for the advertiser to send to.
    pub fn port(&self) -> std::io::Result<u16> {
        Ok(self.socket.local_addr()?.port())
    }
}

impl AdvertScanner for UdpScanner {
    /// Scans on the bound socket. Run one scan at a time: concurrent scans would split the datagrams.
    fn scan(&self) -> Result<mpsc::Receiver<SeenAdvert>, ScanError> {
        let failed = |e: std::io::Error| ScanError::Unavailable(format!("UDP sim radio: {e}"));
        let socket = self.socket.try_clone().map_err(failed)?;
        let (tx, rx) = mpsc::channel(SCAN_QUEUE);
        std::thread::Builder::new()
            .name("sim-radio-udp-rx".into())
            .spawn(move || receive_loop(&socket, &tx))
            .map_err(failed)?;
        Ok(rx)
    }
}

fn receive_loop(socket: &UdpSocket, tx: &mpsc::Sender<SeenAdvert>) {
    // One byte more than the largest valid frame, so that oversized datagrams are detected.
    let mut buf = [0u8; 2 + frame::MAX_SERVICE_DATA + 1];
    while !tx.is_closed() {
        match socket.recv_from(&mut buf) {
            Ok((len, from)) => {
                if !from.ip().is_loopback() {
                    continue;
                }
                let Some(datagram) = buf.get(..len) else { continue };
                match frame::decode(datagram) {
                    Ok(advert) if is_hybrid_uuid(advert.uuid) => {
                        if let Err(mpsc::error::TrySendError::Closed(_)) = tx.try_send(advert) {
                            break;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => tracing::debug!("UDP sim radio: dropped datagram: {e}"),
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(e) => {
                tracing::warn!("UDP sim radio: receive failed, scan ends: {e}");
                break;
            }
        }
    }
}
