//! A private `dbus-daemon` for tests, and the simulated BlueZ served on it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{FakeBluez, FakeBluezError};

/// How long the daemon may take to print its address.
const DAEMON_START_LIMIT: Duration = Duration::from_secs(10);

/// A `dbus-daemon` on a Unix socket in a fresh temporary directory, allowing anyone to own any
/// name. Dropping it kills the daemon and removes the directory.
pub struct PrivateBus {
    child: Child,
    dir: PathBuf,
    /// Whether the directory is ours to remove.
    owns_dir: bool,
    address: String,
    // Held open so the daemon never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
}

impl std::fmt::Debug for PrivateBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateBus")
            .field("address", &self.address)
            .field("pid", &self.child.id())
            .finish()
    }
}

const SOCKET_NAME: &str = "bus";
const CONFIG_NAME: &str = "bus.conf";

fn config(socket: &Path) -> String {
    format!(
        r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        socket.display()
    )
}

fn fresh_dir() -> std::io::Result<PathBuf> {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = std::env::temp_dir().join(format!(
        "tandem-dbus-{}-{}-{nanos}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir(&dir)?;
    Ok(dir)
}

impl PrivateBus {
    /// Starts `dbus-daemon` (found on `PATH`). [`FakeBluezError::DaemonNotInstalled`] if it is not.
    pub fn start() -> Result<Self, FakeBluezError> {
        let dir = fresh_dir()?;
        match Self::spawn(&dir) {
            Ok((child, address, stdout)) => Ok(Self {
                child,
                dir,
                owns_dir: true,
                address,
                _stdout: stdout,
            }),
            Err(e) => {
                let _ = std::fs::remove_dir_all(&dir);
                Err(e)
            }
        }
    }

    /// Starts the daemon with its socket and config in the existing directory `dir` (left in place
    /// on drop), so the address is known before the daemon runs: see [`PrivateBus::address_in`].
    pub fn start_in(dir: &Path) -> Result<Self, FakeBluezError> {
        let (child, address, stdout) = Self::spawn(dir)?;
        Ok(Self {
            child,
            dir: dir.to_owned(),
            owns_dir: false,
            address,
            _stdout: stdout,
        })
    }

    /// The address a bus started with [`PrivateBus::start_in`]`(dir)` listens on.
    pub fn address_in(dir: &Path) -> String {
        format!("unix:path={}", dir.join(SOCKET_NAME).display())
    }

    fn spawn(dir: &Path) -> Result<(Child, String, BufReader<ChildStdout>), FakeBluezError> {
        let config_path = dir.join(CONFIG_NAME);
        std::fs::write(&config_path, config(&dir.join(SOCKET_NAME)))?;
        let mut child = Command::new("dbus-daemon")
            .arg(format!("--config-file={}", config_path.display()))
            .args(["--nofork", "--nopidfile", "--print-address"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => FakeBluezError::DaemonNotInstalled,
                _ => FakeBluezError::Io(e),
            })?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            let _ = child.wait();
            return Err(FakeBluezError::Daemon("no stdout".to_owned()));
        };
        // Read the address on a helper thread so a silent daemon cannot hang the caller.
        let (tx, rx) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("dbus-daemon-address".into())
            .spawn(move || {
                let mut reader = BufReader::new(stdout);
                let mut line = String::new();
                let result = reader.read_line(&mut line).map(|_| line);
                let _ = tx.send((result, reader));
            })?;
        let outcome = match rx.recv_timeout(DAEMON_START_LIMIT) {
            Ok((Ok(line), reader)) if !line.trim().is_empty() => Ok((line.trim().to_owned(), reader)),
            Ok((Ok(_), _)) => Err(FakeBluezError::Daemon(
                "exited without printing its address".to_owned(),
            )),
            Ok((Err(e), _)) => Err(FakeBluezError::Io(e)),
            Err(_) => Err(FakeBluezError::Daemon(
                "did not print its address in time".to_owned(),
            )),
        };
        match outcome {
            Ok((address, reader)) => Ok((child, address, reader)),
            Err(e) => {
                // Killing the daemon also unblocks the reader thread.
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }

    /// The bus address, for `DBUS_SYSTEM_BUS_ADDRESS` or [`crate::bluez::BluezOptions::bus_address`].
    pub fn address(&self) -> &str {
        &self.address
    }
}

impl Drop for PrivateBus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if self.owns_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            let _ = std::fs::remove_file(self.dir.join(SOCKET_NAME));
            let _ = std::fs::remove_file(self.dir.join(CONFIG_NAME));
        }
    }
}

/// A private bus with the simulated BlueZ on it: the whole BlueZ side of a BLE test.
///
/// Clients find it through its [`address`](SimBluez::address): pass it explicitly where possible
/// ([`crate::bluez::BluezOptions`]); btleplug only reads `DBUS_SYSTEM_BUS_ADDRESS`, so a test scanning
/// through btleplug must set that variable (or run the scanner in a child process with it set).
pub struct SimBluez {
    // Field order matters: leave the bus before the daemon goes away.
    bluez: FakeBluez,
    bus: PrivateBus,
}

impl SimBluez {
    /// Starts a private `dbus-daemon` and the simulated BlueZ on it.
    pub fn start() -> Result<Self, FakeBluezError> {
        Self::on(PrivateBus::start()?)
    }

    /// Like [`SimBluez::start`], with the bus socket in `dir` (see [`PrivateBus::start_in`]).
    pub fn start_in(dir: &Path) -> Result<Self, FakeBluezError> {
        Self::on(PrivateBus::start_in(dir)?)
    }

    fn on(bus: PrivateBus) -> Result<Self, FakeBluezError> {
        let bluez = FakeBluez::start(bus.address())?;
        Ok(Self { bluez, bus })
    }

    /// The private bus's address.
    pub fn address(&self) -> &str {
        self.bus.address()
    }

    /// The simulated BlueZ, to inspect or inject adverts.
    pub fn bluez(&self) -> &FakeBluez {
        &self.bluez
    }
}
