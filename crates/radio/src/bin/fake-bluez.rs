//! `fake-bluez`: the simulated BlueZ as a stand-alone service, for manual runs and cross-process tests.
//!
//! ```text
//! fake-bluez --private-bus [--inject UUID:HEX]...   start a private dbus-daemon too
//! fake-bluez --address ADDR [--inject UUID:HEX]...  serve on an existing bus
//! fake-bluez [--inject UUID:HEX]...                 serve on $DBUS_SYSTEM_BUS_ADDRESS (must be set)
//! ```
//!
//! Prints `FAKE_BLUEZ_READY <bus address>` on stdout once `org.bluez` is served, then runs until
//! SIGINT or SIGTERM. `--inject fff9:<40 hex digits>` puts that service data on the air; more can be
//! injected at run time through `org.tandem.FakeBluez1.InjectAdvert` on `/org/bluez/hci0`. It never
//! falls back to the real system bus: impersonating the real BlueZ is not its job.

use std::process::ExitCode;

use tandem_radio::fake_bluez::{FakeBluez, PrivateBus, uuid};

struct Args {
    address: Option<String>,
    private_bus: bool,
    inject: Vec<(String, Vec<u8>)>,
}

fn usage() -> String {
    "usage: fake-bluez [--private-bus | --address ADDR] [--inject UUID:HEX]...".to_owned()
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        address: None,
        private_bus: false,
        inject: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--private-bus" => args.private_bus = true,
            "--address" => args.address = Some(it.next().ok_or_else(usage)?),
            "--inject" => {
                let spec = it.next().ok_or_else(usage)?;
                let (uuid, data) = spec
                    .split_once(':')
                    .ok_or_else(|| format!("bad --inject {spec:?}"))?;
                let uuid = uuid::normalize(uuid).ok_or_else(|| format!("bad UUID in --inject {spec:?}"))?;
                let data = hex::decode(data).map_err(|e| format!("bad hex in --inject {spec:?}: {e}"))?;
                args.inject.push((uuid, data));
            }
            "-h" | "--help" => return Err(usage()),
            other => return Err(format!("unknown argument {other:?}\n{}", usage())),
        }
    }
    if args.private_bus && args.address.is_some() {
        return Err(format!(
            "--private-bus and --address exclude each other\n{}",
            usage()
        ));
    }
    Ok(args)
}

async fn wait_for_signal() -> std::io::Result<()> {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    tokio::select! {
        result = tokio::signal::ctrl_c() => result,
        _ = term.recv() => Ok(()),
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let bus = if args.private_bus {
        match PrivateBus::start() {
            Ok(bus) => Some(bus),
            Err(e) => {
                eprintln!("fake-bluez: {e}");
                return ExitCode::FAILURE;
            }
        }
    } else {
        None
    };
    let address = match (&bus, args.address, std::env::var("DBUS_SYSTEM_BUS_ADDRESS")) {
        (Some(bus), _, _) => bus.address().to_owned(),
        (None, Some(address), _) => address,
        (None, None, Ok(address)) => address,
        (None, None, Err(_)) => {
            eprintln!(
                "fake-bluez: give --private-bus, --address or DBUS_SYSTEM_BUS_ADDRESS\n{}",
                usage()
            );
            return ExitCode::from(2);
        }
    };
    let bluez = match FakeBluez::start(&address) {
        Ok(bluez) => bluez,
        Err(e) => {
            eprintln!("fake-bluez: {e}");
            return ExitCode::FAILURE;
        }
    };
    for (uuid, data) in &args.inject {
        match bluez.inject_uuid(uuid, data) {
            Ok(path) => eprintln!("fake-bluez: injected {uuid} at {path}"),
            Err(e) => {
                eprintln!("fake-bluez: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!("FAKE_BLUEZ_READY {address}");
    let result = wait_for_signal().await;
    drop(bluez);
    drop(bus);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fake-bluez: {e}");
            ExitCode::FAILURE
        }
    }
}
