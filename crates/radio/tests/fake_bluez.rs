//! The simulated BlueZ's own behaviour, through plain D-Bus calls: discovery filter, BlueZ error
//! names, the control interface, and clean-up when a client leaves the bus.
#![cfg(all(target_os = "linux", feature = "bluez"))]

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use tandem_radio::fake_bluez::{
    ADAPTER_PATH, BLUEZ_NAME, CONTROL_IFACE, FakeBluezError, MANAGER_PATH, SimBluez,
};
use zbus::zvariant::{ObjectPath, OwnedObjectPath, OwnedValue, Value};

const LIMIT: Duration = Duration::from_secs(10);

type Objects = HashMap<OwnedObjectPath, HashMap<String, HashMap<String, OwnedValue>>>;

fn start() -> Option<SimBluez> {
    match SimBluez::start() {
        Ok(sim) => Some(sim),
        Err(FakeBluezError::DaemonNotInstalled) => {
            assert!(
                std::env::var_os("TANDEM_REQUIRE_DBUS").is_none(),
                "dbus-daemon missing, TANDEM_REQUIRE_DBUS set"
            );
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED fake_bluez: dbus-daemon is not installed"
            );
            None
        }
        Err(e) => panic!("simulated BlueZ: {e}"),
    }
}

fn error_name(e: zbus::Error) -> String {
    match e {
        zbus::Error::MethodError(name, _, _) => name.to_string(),
        other => panic!("not a D-Bus error reply: {other}"),
    }
}

async fn proxy<'a>(conn: &zbus::Connection, iface: &'static str) -> zbus::Proxy<'a> {
    zbus::Proxy::new(conn, BLUEZ_NAME, ADAPTER_PATH, iface)
        .await
        .expect("proxy")
}

async fn managed_objects(conn: &zbus::Connection) -> Objects {
    let root = zbus::Proxy::new(conn, BLUEZ_NAME, "/", "org.freedesktop.DBus.ObjectManager")
        .await
        .expect("proxy");
    root.call("GetManagedObjects", &())
        .await
        .expect("GetManagedObjects")
}

async fn until(what: &str, mut condition: impl AsyncFnMut() -> bool) {
    tokio::time::timeout(LIMIT, async {
        while !condition().await {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("timed out waiting for: {what}"));
}

#[tokio::test]
async fn filter_errors_control_and_departure() {
    let Some(sim) = start() else { return };
    let conn = zbus::connection::Builder::address(sim.address())
        .expect("address")
        .build()
        .await
        .expect("connect");
    let adapter = proxy(&conn, "org.bluez.Adapter1").await;
    let manager = proxy(&conn, "org.bluez.LEAdvertisingManager1").await;
    let control = proxy(&conn, CONTROL_IFACE).await;

    let objects = managed_objects(&conn).await;
    let hci0 = objects
        .get(&OwnedObjectPath::try_from(ADAPTER_PATH).expect("path"))
        .expect("adapter object");
    for iface in ["org.bluez.Adapter1", "org.bluez.LEAdvertisingManager1"] {
        assert!(hci0.contains_key(iface), "{iface} missing");
    }

    // BlueZ's error names for misuse.
    let e = adapter
        .call::<_, _, ()>("StopDiscovery", &())
        .await
        .expect_err("stop before start");
    assert_eq!(error_name(e), "org.bluez.Error.Failed");
    let nobody = ObjectPath::try_from("/nobody").expect("path");
    let e = manager
        .call::<_, _, ()>("UnregisterAdvertisement", &(nobody,))
        .await
        .expect_err("unknown advert");
    assert_eq!(error_name(e), "org.bluez.Error.DoesNotExist");
    let e = control
        .call::<_, _, OwnedObjectPath>("InjectAdvert", &("xyz", vec![1u8]))
        .await
        .expect_err("bad uuid");
    assert_eq!(error_name(e), "org.bluez.Error.InvalidArguments");
    let e = control
        .call::<_, _, OwnedObjectPath>("InjectAdvert", &("fff9", vec![0u8; 28]))
        .await
        .expect_err("too long");
    assert_eq!(error_name(e), "org.bluez.Error.InvalidLength");
    let bad_filter = HashMap::from([("Transport", Value::from("carrier-pigeon"))]);
    let e = adapter
        .call::<_, _, ()>("SetDiscoveryFilter", &(bad_filter,))
        .await
        .expect_err("bad filter");
    assert_eq!(error_name(e), "org.bluez.Error.InvalidArguments");

    // Injected over D-Bus; a UUID filter hides the battery advert.
    let battery: OwnedObjectPath = control
        .call("InjectAdvert", &("180f", vec![0x64u8]))
        .await
        .expect("inject");
    let fido: OwnedObjectPath = control
        .call(
            "InjectAdvert",
            &("0000FFF9-0000-1000-8000-00805F9B34FB", vec![5u8; 20]),
        )
        .await
        .expect("inject");
    let filter = HashMap::from([
        ("UUIDs", Value::from(vec!["fff9"])),
        ("DuplicateData", Value::from(true)),
    ]);
    adapter
        .call::<_, _, ()>("SetDiscoveryFilter", &(filter,))
        .await
        .expect("filter");
    adapter
        .call::<_, _, ()>("StartDiscovery", &())
        .await
        .expect("start discovery");
    assert!(sim.bluez().is_discovering());
    until("the FIDO device to appear", async || {
        managed_objects(&conn).await.contains_key(&fido)
    })
    .await;
    let objects = managed_objects(&conn).await;
    assert!(!objects.contains_key(&battery), "filtered-out device was shown");
    let device = objects
        .get(&fido)
        .and_then(|o| o.get("org.bluez.Device1"))
        .expect("Device1");
    let rssi =
        i16::try_from(device.get("RSSI").expect("RSSI").try_clone().expect("clone")).expect("RSSI is n");
    assert_eq!(rssi, tandem_radio::fake_bluez::RSSI);
    assert!(device.contains_key("ServiceData"));

    // Removing the advert removes its device.
    control
        .call::<_, _, ()>("RemoveAdvert", &(fido.clone(),))
        .await
        .expect("remove");
    until("the FIDO device to go", async || {
        !managed_objects(&conn).await.contains_key(&fido)
    })
    .await;
    let e = control
        .call::<_, _, ()>("RemoveAdvert", &(fido,))
        .await
        .expect_err("removed twice");
    assert_eq!(error_name(e), "org.bluez.Error.DoesNotExist");

    // A client that leaves without StopDiscovery no longer holds discovery open.
    drop((adapter, manager, control));
    conn.close().await.expect("close");
    until("discovery to end with its client", async || {
        !sim.bluez().is_discovering()
    })
    .await;
}

/// Pairing agents (Chromium registers one on `org.bluez.AgentManager1` when it starts using the
/// adapter and unregisters it when done): BlueZ's errors, and clean-up when the client leaves.
#[tokio::test]
async fn agent_manager_records_agents_like_bluez() {
    let Some(sim) = start() else { return };
    let conn = zbus::connection::Builder::address(sim.address())
        .expect("address")
        .build()
        .await
        .expect("connect");
    let manager = zbus::Proxy::new(&conn, BLUEZ_NAME, MANAGER_PATH, "org.bluez.AgentManager1")
        .await
        .expect("proxy");
    let agent = ObjectPath::try_from("/org/chromium/bluetooth_agent").expect("path");
    let other = ObjectPath::try_from("/other_agent").expect("path");

    let e = manager
        .call::<_, _, ()>("RegisterAgent", &(&agent, "Telepathic"))
        .await
        .expect_err("bad capability");
    assert_eq!(error_name(e), "org.bluez.Error.InvalidArguments");
    manager
        .call::<_, _, ()>("RegisterAgent", &(&agent, "KeyboardDisplay"))
        .await
        .expect("register");
    let me = conn.unique_name().expect("unique name").to_string();
    assert_eq!(
        sim.bluez().agents().get(&me).map(String::as_str),
        Some(agent.as_str())
    );
    let e = manager
        .call::<_, _, ()>("RegisterAgent", &(&agent, ""))
        .await
        .expect_err("registered twice");
    assert_eq!(error_name(e), "org.bluez.Error.AlreadyExists");
    let e = manager
        .call::<_, _, ()>("RequestDefaultAgent", &(&other,))
        .await
        .expect_err("not this client's agent");
    assert_eq!(error_name(e), "org.bluez.Error.DoesNotExist");
    manager
        .call::<_, _, ()>("RequestDefaultAgent", &(&agent,))
        .await
        .expect("default agent");
    let e = manager
        .call::<_, _, ()>("UnregisterAgent", &(&other,))
        .await
        .expect_err("unknown agent");
    assert_eq!(error_name(e), "org.bluez.Error.DoesNotExist");
    manager
        .call::<_, _, ()>("UnregisterAgent", &(&agent,))
        .await
        .expect("unregister");
    assert!(sim.bluez().agents().is_empty());

    // An agent whose client leaves the bus is dropped.
    manager
        .call::<_, _, ()>("RegisterAgent", &(&agent, "NoInputNoOutput"))
        .await
        .expect("register again");
    assert_eq!(sim.bluez().agents().len(), 1);
    drop(manager);
    conn.close().await.expect("close");
    until("the agent to go with its client", async || {
        sim.bluez().agents().is_empty()
    })
    .await;
}
