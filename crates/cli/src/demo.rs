//! `tandem demo`: a tunnel server on loopback, the desktop peer and a phone with the simulated radio and a
//! SQLite store, in one process. Registers a passkey, signs in with it, and has webauthn-rs (a real relying
//! party library) verify both results.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tandem_desktop::{DesktopConfig, QrSession, WebAuthnRequest};
use tandem_engine::{Authenticator, AuthenticatorConfig};
use tandem_phone::{Phone, PhoneConfig, ProgressEvent, ProgressListener, TlsOptions, Tunnel};
use tandem_radio::SimRadio;
use tandem_tunnel::{ServerConfig, TunnelServer};

use crate::support::{AutoApprove, RelyingParty, open_store, software_uv_key};

/// Relying party of the demo.
const RP_ID: &str = "tandem.example";
const ORIGIN: &str = "https://tandem.example";

/// Prints lines prefixed with the time since the demo started.
#[derive(Clone)]
struct Clock(Instant);

impl Clock {
    fn say(&self, who: &str, what: impl std::fmt::Display) {
        println!("[{:>8.3} s] {who:<8} {what}", self.0.elapsed().as_secs_f64());
    }
}

struct PhoneSteps(Clock);

impl ProgressListener for PhoneSteps {
    fn on_event(&self, event: ProgressEvent) {
        let text = match event {
            ProgressEvent::QrParsed => "QR code parsed".to_string(),
            ProgressEvent::WaitingForDesktop => "waiting for a linked desktop".to_string(),
            ProgressEvent::TunnelConnected { routing_id } => format!("tunnel open, routing ID {routing_id}"),
            ProgressEvent::Advertising => "advertising over BLE (simulated radio)".to_string(),
            ProgressEvent::HandshakeDone => "Noise handshake done, advert stopped".to_string(),
            ProgressEvent::RequestReceived { command } => {
                format!("CTAP request {:#04x} received", command.code())
            }
            ProgressEvent::AwaitingUser => "user verification (auto-approve)".to_string(),
            ProgressEvent::Responded { status } => format!("responded, CTAP status {:#04x}", status.code()),
            ProgressEvent::Finished => "session finished".to_string(),
            ProgressEvent::Failed { reason } => format!("session FAILED: {reason}"),
        };
        self.0.say("phone", text);
    }
}

/// Runs the demo; `Ok(())` only if both results verify.
pub(crate) async fn run(store_path: Option<PathBuf>, verbose: bool) -> Result<(), String> {
    let clock = Clock(Instant::now());
    let server = TunnelServer::bind(ServerConfig::plain(([127, 0, 0, 1], 0).into()))
        .await
        .map_err(|e| format!("tunnel server: {e}"))?;
    let url = server.ws_url();
    clock.say("tunnel", format!("listening on {url}"));

    let temp = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
    let path = store_path.unwrap_or_else(|| temp.path().join("phone.sqlite"));
    let store = open_store(&path)?;
    clock.say("phone", format!("credential store {}", path.display()));

    let radio = SimRadio::new();
    let user = Arc::new(AutoApprove(software_uv_key(&store)?));
    let engine = Authenticator::new(
        AuthenticatorConfig::hybrid(),
        store.clone(),
        user.clone(),
        user.clone(),
    );
    let mut config = PhoneConfig::new(Tunnel::Url {
        base_url: url.clone(),
        domain_id: 256,
    });
    config.tls = TlsOptions {
        allow_insecure_loopback: true,
        ..Default::default()
    };
    let phone = Arc::new(Phone::new(
        config,
        Arc::new(engine),
        store,
        Arc::new(radio.advertiser()),
        Arc::new(PhoneSteps(clock.clone())),
    ));
    let desktop = DesktopConfig {
        tunnel_url: Some(url),
        tls: tandem_desktop::TlsOptions {
            allow_insecure_loopback: true,
            ..Default::default()
        },
        ..Default::default()
    };
    let rp = RelyingParty::new(RP_ID, ORIGIN)?;

    println!("== register ==");
    let (request, reg_state) = rp.start_registration("demo-user")?;
    clock.say("rp", format!("registration options for {RP_ID} (user demo-user)"));
    let credential = ceremony(&clock, &phone, &radio, &desktop, &request, verbose).await?;
    let passkey = rp
        .finish_registration(&credential, &reg_state)
        .map_err(|e| format!("registration NOT verified: {e}"))?;
    clock.say(
        "rp",
        format!(
            "registration verified by webauthn-rs: credential {}",
            hex::encode(passkey.cred_id().as_slice())
        ),
    );

    println!("== sign in ==");
    let (request, auth_state) = rp.start_authentication(std::slice::from_ref(&passkey))?;
    clock.say("rp", "sign-in options (allow list: the new passkey)");
    let credential = ceremony(&clock, &phone, &radio, &desktop, &request, verbose).await?;
    let auth = rp
        .finish_authentication(&credential, &auth_state)
        .map_err(|e| format!("sign-in NOT verified: {e}"))?;
    clock.say(
        "rp",
        format!(
            "sign-in verified by webauthn-rs: user verified {}, counter {}",
            auth.user_verified(),
            auth.counter()
        ),
    );
    server.shutdown().await;
    clock.say("demo", "OK: registered and signed in, both verified");
    Ok(())
}

async fn ceremony(
    clock: &Clock,
    phone: &Arc<Phone>,
    radio: &SimRadio,
    desktop: &DesktopConfig,
    request: &WebAuthnRequest,
    verbose: bool,
) -> Result<serde_json::Value, String> {
    let qr = QrSession::new(request.hint(), false).map_err(|e| e.to_string())?;
    clock.say("desktop", format!("QR code {}", qr.url()));
    if verbose {
        println!("{}", qr.render_terminal());
    }
    let phone_task = {
        let phone = Arc::clone(phone);
        let text = qr.url().to_string();
        tokio::spawn(async move { phone.run_qr(&text).await })
    };
    let result = qr.run(&radio.scanner(), request, desktop).await;
    let phone_result = phone_task.await.map_err(|e| format!("phone task: {e}"))?;
    let result = result.map_err(|e| format!("desktop: {e}"))?;
    phone_result.map_err(|e| format!("phone: {e}"))?;
    clock.say("desktop", "PublicKeyCredential received");
    if verbose {
        println!(
            "{}",
            serde_json::to_string_pretty(&result.credential).unwrap_or_default()
        );
    }
    Ok(result.credential)
}
