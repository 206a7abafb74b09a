//! `tandem phone`: a phone on this machine, driven by a scanned QR text (or a wake-up for a linked
//! session). Completes one ceremony and exits 0; any failure exits non-zero with the reason.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tandem_engine::platform::{AccountChooser, UserVerifier};
use tandem_engine::{Authenticator, AuthenticatorConfig};
use tandem_phone::ble::BleAdvertiser;
use tandem_phone::{
    Phone, PhoneConfig, ProgressEvent, ProgressListener, Timeouts, TlsOptions, Tunnel, WakeChannel,
};

use crate::support::{AutoApprove, PrintingAdvertiser, TerminalPrompt, open_store, software_uv_key};

/// Options of `tandem phone`.
#[derive(Debug, clap::Args)]
pub(crate) struct PhoneArgs {
    /// The scanned QR text (`FIDO:/…`). Without it the phone waits for a linked (state-assisted) request.
    #[arg(long)]
    pub qr: Option<String>,
    /// Tunnel service base URL (`wss://host[:port]`; `ws://` is accepted for loopback hosts only).
    #[arg(long)]
    pub tunnel_url: Option<String>,
    /// Domain ID put in the advert (with --tunnel-url), or the service to use (without it): 0/1 assigned,
    /// ≥ 256 hashed.
    #[arg(long, default_value_t = 256)]
    pub domain_id: u16,
    /// PEM file of extra trusted root certificates for a wss:// tunnel (a self-hosted tunnel's private CA,
    /// or a test server's throw-away certificate); the webpki roots stay trusted too.
    #[arg(long)]
    pub tls_root: Option<PathBuf>,
    /// SQLite credential store; the software key protector keeps its data key in `<FILE>.key`.
    #[arg(long)]
    pub store: PathBuf,
    /// User verification: `auto` approves everything, `prompt` asks y/n on the terminal.
    #[arg(long, value_enum, default_value_t = Approve::Prompt)]
    pub approve: Approve,
    /// `hex` prints `advert <40 hex digits>` on stdout when advertising starts.
    #[arg(long, value_enum, default_value_t = AdvertOut::None)]
    pub advert_out: AdvertOut,
    /// Radio to advertise on: `sim` (loopback UDP medium), `bluez` (a real adapter) or `none`.
    #[arg(long, value_enum, default_value_t = PhoneRadio::None)]
    pub radio: PhoneRadio,
    /// Do not offer linking even if the desktop supports it.
    #[arg(long)]
    pub no_linking: bool,
    /// Limit in seconds for each step (connect, handshake, each request, the user).
    #[arg(long)]
    pub timeout: Option<u64>,
}

/// How the user answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Approve {
    /// Approve every request.
    Auto,
    /// Ask on the terminal.
    Prompt,
}

/// Whether to print the advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum AdvertOut {
    /// Print `advert <hex>`.
    Hex,
    /// Print nothing.
    None,
}

/// Phone radios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PhoneRadio {
    /// Loopback UDP simulated radio (port 65529).
    Sim,
    /// BlueZ over D-Bus.
    Bluez,
    /// No radio.
    None,
}

struct Steps;

impl ProgressListener for Steps {
    fn on_event(&self, event: ProgressEvent) {
        eprintln!("phone: {event:?}");
    }
}

fn advertiser(args: &PhoneArgs) -> Result<Arc<dyn BleAdvertiser>, String> {
    let inner: Option<Arc<dyn BleAdvertiser>> = match args.radio {
        PhoneRadio::None => None,
        PhoneRadio::Sim => Some(Arc::new(
            tandem_radio::UdpAdvertiser::new(tandem_radio::SIM_UDP_PORT).map_err(|e| e.to_string())?,
        )),
        PhoneRadio::Bluez => Some(Arc::new(
            tandem_radio::bluez::BluezAdvertiser::new().map_err(|e| e.to_string())?,
        )),
    };
    Ok(match (args.advert_out, inner) {
        (AdvertOut::None, Some(inner)) => inner,
        (_, inner) => Arc::new(PrintingAdvertiser { inner }),
    })
}

/// The DER certificates in a PEM file (every `CERTIFICATE` block; other blocks are skipped).
fn read_pem_certificates(path: &std::path::Path) -> Result<Vec<Vec<u8>>, String> {
    use base64::Engine as _;
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut certificates = Vec::new();
    let mut body: Option<String> = None;
    for line in text.lines().map(str::trim) {
        match (&mut body, line) {
            (None, "-----BEGIN CERTIFICATE-----") => body = Some(String::new()),
            (Some(b64), "-----END CERTIFICATE-----") => {
                let der = base64::engine::general_purpose::STANDARD
                    .decode(b64.as_bytes())
                    .map_err(|e| format!("{}: bad PEM: {e}", path.display()))?;
                certificates.push(der);
                body = None;
            }
            (Some(b64), line) => b64.push_str(line),
            (None, _) => {}
        }
    }
    if certificates.is_empty() {
        return Err(format!("{}: no PEM certificate", path.display()));
    }
    Ok(certificates)
}

/// Runs `tandem phone`.
pub(crate) async fn run(args: PhoneArgs) -> Result<(), String> {
    let store = open_store(&args.store)?;
    let key = software_uv_key(&store)?;
    let user: (Arc<dyn UserVerifier>, Arc<dyn AccountChooser>) = match args.approve {
        Approve::Auto => {
            let auto = Arc::new(AutoApprove(key.clone()));
            (auto.clone(), auto)
        }
        Approve::Prompt => {
            let prompt = Arc::new(TerminalPrompt(key.clone()));
            (prompt.clone(), prompt)
        }
    };
    let engine = Authenticator::new(AuthenticatorConfig::hybrid(), store.clone(), user.0, user.1);
    let tunnel = match &args.tunnel_url {
        Some(url) => Tunnel::Url {
            base_url: url.clone(),
            domain_id: args.domain_id,
        },
        None if args.domain_id >= 256 => Tunnel::Hashed { id: args.domain_id },
        None => Tunnel::Assigned {
            id: args.domain_id,
            fallback: 256,
        },
    };
    let mut config = PhoneConfig::new(tunnel);
    // A ws:// URL typed on the command line is the explicit permission; the driver still refuses
    // anything but loopback hosts.
    config.tls = TlsOptions {
        allow_insecure_loopback: true,
        extra_roots_der: match &args.tls_root {
            Some(path) => read_pem_certificates(path)?,
            None => Vec::new(),
        },
    };
    config.linking = !args.no_linking;
    if let Some(secs) = args.timeout {
        config.timeouts = Timeouts::all(Duration::from_secs(secs));
    }
    // Linked sessions start only after the same "user" accepts them.
    let approver: Arc<dyn tandem_phone::LinkedSessionApprover> = match args.approve {
        Approve::Auto => Arc::new(AutoApprove(key)),
        Approve::Prompt => Arc::new(TerminalPrompt(key)),
    };
    let phone = Phone::new(
        config,
        Arc::new(engine),
        store,
        advertiser(&args)?,
        Arc::new(Steps),
    )
    .with_linked_session_approver(approver);
    let outcome = match &args.qr {
        Some(qr) => phone.run_qr(qr).await,
        None => {
            let mut wake = WakeChannel::open(&phone).await.map_err(|e| e.to_string())?;
            eprintln!("phone: waiting for a linked request on the wake channel");
            let limit = Duration::from_secs(args.timeout.unwrap_or(3600));
            let request = wake.next(limit).await.map_err(|e| e.to_string())?;
            phone.run_linked(request).await
        }
    }
    .map_err(|e| e.to_string())?;
    eprintln!(
        "phone: done ({} request(s), last status {:?}, linked: {})",
        outcome.requests_served, outcome.last_status, outcome.linked
    );
    Ok(())
}
