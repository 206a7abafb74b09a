//! The `fake-bluez` binary: serves a private bus, injects adverts from the command line, and
//! shuts down (with its dbus-daemon) on SIGTERM.
#![cfg(all(target_os = "linux", feature = "bluez"))]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tandem_ble::BleAdvertiser;
use tandem_radio::bluez::{BluezAdvertiser, BluezOptions};

const LIMIT: Duration = Duration::from_secs(10);

#[test]
fn fake_bluez_binary_serves_org_bluez_and_stops_on_sigterm() {
    if Command::new("dbus-daemon").arg("--version").output().is_err() {
        assert!(
            std::env::var_os("TANDEM_REQUIRE_DBUS").is_none(),
            "dbus-daemon missing, TANDEM_REQUIRE_DBUS set"
        );
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED fake_bluez_bin: dbus-daemon is not installed"
        );
        return;
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_fake-bluez"))
        .args(["--private-bus", "--inject", &format!("fde2:{}", "ab".repeat(20))])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn fake-bluez");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = match rx.recv_timeout(LIMIT) {
        Ok(line) => line,
        Err(_) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("fake-bluez did not get ready");
        }
    };
    let result = std::panic::catch_unwind(|| {
        let address = line
            .trim()
            .strip_prefix("FAKE_BLUEZ_READY ")
            .expect("ready line")
            .to_owned();
        let advertiser = BluezAdvertiser::with_options(BluezOptions {
            bus_address: Some(address),
            adapter: None,
        })
        .expect("advertiser on the binary's bus");
        assert_eq!(advertiser.adapter(), "/org/bluez/hci0");
        advertiser.start(&[7; 20]).expect("register");
        advertiser.stop();
    });
    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let deadline = Instant::now() + LIMIT;
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    assert!(killed, "could not send SIGTERM");
    assert!(status.expect("fake-bluez ignored SIGTERM").success());
}
