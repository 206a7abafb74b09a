//! webauthn-authenticator-rs (the initiator, as a desktop browser would be) registers and signs in with
//! Tandem's phone (`tandem phone`) over the hybrid transport; webauthn-rs verifies both as the RP.
//!
//! The library scans BLE through btleplug → BlueZ on the D-Bus *system* bus; the harness points
//! DBUS_SYSTEM_BUS_ADDRESS at a private dbus-daemon served by tandem-radio's `fake-bluez`, and when the phone
//! prints its advert this program injects it there as 0xFFF9 service data (InjectAdvert), so the library
//! sees exactly the 20 bytes Tandem would put on the air. The tunnel is overridden with the library's
//! `cable-override-tunnel` feature (plain ws:// on loopback; Tandem's or webauthn-rs' tunnel server).
//!
//! usage: tandem-cable-initiator --tandem BIN --tunnel-url ws://127.0.0.1:PORT --store FILE
//! Exits 0 only if registration and sign-in both verify.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Mutex;

use webauthn_authenticator_rs::cable::connect_cable_authenticator_with_tunnel_uri;
use webauthn_authenticator_rs::prelude::Url;
use webauthn_authenticator_rs::types::{CableRequestType, CableState, EnrollSampleStatus};
use webauthn_authenticator_rs::ui::UiCallback;
use webauthn_authenticator_rs::WebauthnAuthenticator;
use webauthn_rs::prelude::*;

const FIDO_CABLE_UUID: &str = "0000fff9-0000-1000-8000-00805f9b34fb";

struct Args {
    tandem: String,
    tunnel_url: String,
    store: String,
}

fn args() -> Args {
    let mut tandem = None;
    let mut tunnel_url = None;
    let mut store = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--tandem" => tandem = it.next(),
            "--tunnel-url" => tunnel_url = it.next(),
            "--store" => store = it.next(),
            other => fail(&format!("unknown argument {other}")),
        }
    }
    Args {
        tandem: tandem.unwrap_or_else(|| fail("--tandem BIN required")),
        tunnel_url: tunnel_url.unwrap_or_else(|| fail("--tunnel-url URL required")),
        store: store.unwrap_or_else(|| fail("--store FILE required")),
    }
}

fn fail(msg: &str) -> ! {
    eprintln!("cable-initiator: FAIL: {msg}");
    std::process::exit(1)
}

/// The "user with a phone": when the library shows the QR code, run `tandem phone` on it, and relay the
/// advert it prints into the fake BlueZ.
struct PhoneUser {
    args: Args,
    phone: Mutex<Option<std::thread::JoinHandle<Result<(), String>>>>,
}

impl std::fmt::Debug for PhoneUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PhoneUser")
    }
}

fn run_phone(tandem: &str, qr: &str, tunnel_url: &str, store: &str) -> Result<(), String> {
    let mut child = Command::new(tandem)
        .args(["phone", "--qr", qr, "--tunnel-url", tunnel_url, "--store", store])
        .args(["--approve", "auto", "--advert-out", "hex"])
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawn {tandem}: {e}"))?;
    let stdout = child.stdout.take().ok_or("no phone stdout")?;
    for line in BufReader::new(stdout).lines() {
        let line = line.map_err(|e| e.to_string())?;
        eprintln!("phone: {line}");
        if let Some(hex) = line.strip_prefix("advert ") {
            inject(hex.trim())?;
        }
    }
    let status = child.wait().map_err(|e| e.to_string())?;
    status.success().then_some(()).ok_or_else(|| format!("tandem phone exited with {status}"))
}

/// InjectAdvert(s uuid, ay data) on the fake BlueZ adapter, through dbus-send on the private system bus.
fn inject(hex: &str) -> Result<(), String> {
    if hex.len() != 40 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("phone printed a malformed advert {hex:?}"));
    }
    let bus = std::env::var("DBUS_SYSTEM_BUS_ADDRESS").map_err(|_| "DBUS_SYSTEM_BUS_ADDRESS not set")?;
    let bytes: Vec<String> = (0..20).map(|i| format!("0x{}", &hex[2 * i..2 * i + 2])).collect();
    let out = Command::new("dbus-send")
        .arg(format!("--bus={bus}"))
        .args(["--print-reply", "--dest=org.bluez", "/org/bluez/hci0", "org.tandem.FakeBluez1.InjectAdvert"])
        .arg(format!("string:{FIDO_CABLE_UUID}"))
        .arg(format!("array:byte:{}", bytes.join(",")))
        .output()
        .map_err(|e| format!("dbus-send: {e}"))?;
    if !out.status.success() {
        return Err(format!("InjectAdvert failed: {}", String::from_utf8_lossy(&out.stderr)));
    }
    Ok(())
}

impl UiCallback for PhoneUser {
    fn request_pin(&self) -> Option<String> {
        None
    }
    fn request_touch(&self) {}
    fn processing(&self) {}
    fn fingerprint_enrollment_feedback(&self, _: u32, _: Option<EnrollSampleStatus>) {}
    fn cable_qr_code(&self, request_type: CableRequestType, url: String) {
        eprintln!("initiator: QR for {request_type:?}: {url}");
        let (tandem, tunnel, store) = (self.args.tandem.clone(), self.args.tunnel_url.clone(), self.args.store.clone());
        let handle = std::thread::spawn(move || run_phone(&tandem, &url, &tunnel, &store));
        *self.phone.lock().unwrap_or_else(|p| p.into_inner()) = Some(handle);
    }
    fn dismiss_qr_code(&self) {}
    fn cable_status_update(&self, state: CableState) {
        eprintln!("initiator: {state:?}");
    }
}

impl PhoneUser {
    fn join_phone(&self) -> Result<(), String> {
        let handle = self.phone.lock().unwrap_or_else(|p| p.into_inner()).take().ok_or("phone never started")?;
        handle.join().map_err(|_| "phone thread panicked".to_string())?
    }
}

/// Scheme and authority of the tunnel override (the library appends /cable/connect/...).
fn tunnel_builder(url: &str) -> http::uri::Builder {
    let uri: http::Uri = url.parse().unwrap_or_else(|e| fail(&format!("bad --tunnel-url: {e}")));
    let parts = uri.into_parts();
    let (Some(scheme), Some(authority)) = (parts.scheme, parts.authority) else {
        fail("--tunnel-url needs a scheme and a host")
    };
    http::uri::Builder::new().scheme(scheme).authority(authority)
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let args = args();
    let tunnel_url = args.tunnel_url.clone();
    let builder = || tunnel_builder(&tunnel_url);
    let origin = Url::parse("https://example.com").expect("static URL");
    let rp = WebauthnBuilder::new("example.com", &origin)
        .and_then(|b| b.rp_name("Example").build())
        .unwrap_or_else(|e| fail(&format!("webauthn-rs: {e}")));
    let user = PhoneUser { args, phone: Mutex::new(None) };

    // Registration.
    let user_id = Uuid::new_v4();
    let (ccr, reg_state) = rp
        .start_passkey_registration(user_id, "alice@example.com", "Alice", None)
        .unwrap_or_else(|e| fail(&format!("start registration: {e}")));
    let mut ctap = connect_cable_authenticator_with_tunnel_uri(CableRequestType::DiscoverableMakeCredential, &user, builder())
        .await
        .unwrap_or_else(|e| fail(&format!("caBLE connect (register): {e:?}")));
    let reg = ctap.do_registration(origin.clone(), ccr).unwrap_or_else(|e| fail(&format!("register: {e:?}")));
    drop(ctap);
    let passkey = rp
        .finish_passkey_registration(&reg, &reg_state)
        .unwrap_or_else(|e| fail(&format!("webauthn-rs rejected the registration: {e}")));
    user.join_phone().unwrap_or_else(|e| fail(&e));
    println!("registration verified by webauthn-rs: credential {:?}", passkey.cred_id());

    // Sign-in with the new passkey.
    let (rcr, auth_state) = rp
        .start_passkey_authentication(std::slice::from_ref(&passkey))
        .unwrap_or_else(|e| fail(&format!("start authentication: {e}")));
    let mut ctap = connect_cable_authenticator_with_tunnel_uri(CableRequestType::GetAssertion, &user, builder())
        .await
        .unwrap_or_else(|e| fail(&format!("caBLE connect (sign in): {e:?}")));
    let assertion =
        ctap.do_authentication(origin.clone(), rcr).unwrap_or_else(|e| fail(&format!("sign in: {e:?}")));
    drop(ctap);
    let result = rp
        .finish_passkey_authentication(&assertion, &auth_state)
        .unwrap_or_else(|e| fail(&format!("webauthn-rs rejected the assertion: {e}")));
    user.join_phone().unwrap_or_else(|e| fail(&e));
    if !result.user_verified() {
        fail("assertion not user-verified");
    }
    println!("sign-in verified by webauthn-rs (user verified, counter {})", result.counter());
    println!("cable-initiator: 2 passed, 0 failed");
}
