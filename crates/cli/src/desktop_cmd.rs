//! `tandem desktop register|login`: the browser's role from a terminal. Prints the QR code, waits for the
//! phone's advert, runs the ceremony and prints the `PublicKeyCredential` JSON, verified by webauthn-rs.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tandem_desktop::ble::AdvertScanner;
use tandem_desktop::{DesktopConfig, DesktopTimeouts, GetRequest, QrSession, StoredLink, WebAuthnRequest};
use webauthn_rs::prelude::Passkey;

use crate::support::RelyingParty;

/// Options shared by register and login.
#[derive(Debug, clap::Args)]
pub(crate) struct Common {
    /// Tunnel service base URL overriding the advert's domain (`ws://` only for loopback).
    #[arg(long)]
    pub tunnel_url: Option<String>,
    /// Where adverts come from: `sim` (loopback UDP medium, port 65529) or `bluez` (btleplug).
    #[arg(long, value_enum, default_value_t = DesktopRadio::Sim)]
    pub radio: DesktopRadio,
    /// Relying party ID.
    #[arg(long, default_value = "tandem.example")]
    pub rp_id: String,
    /// Origin of the calling page.
    #[arg(long, default_value = "https://tandem.example")]
    pub origin: String,
    /// Limit in seconds for each step (scanning waits this long for the phone).
    #[arg(long, default_value_t = 180)]
    pub timeout: u64,
}

/// Desktop radios.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DesktopRadio {
    /// Loopback UDP simulated radio.
    Sim,
    /// btleplug through BlueZ.
    Bluez,
}

/// `tandem desktop …`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum DesktopCommand {
    /// Register a passkey on the phone.
    Register {
        #[command(flatten)]
        common: Common,
        /// Account name.
        #[arg(long, default_value = "tandem-user")]
        user: String,
        /// Write the verified passkey (webauthn-rs JSON) here, for `login --passkey`.
        #[arg(long)]
        passkey_out: Option<PathBuf>,
        /// Write the link the phone offers here, for `login --linked`.
        #[arg(long)]
        link_out: Option<PathBuf>,
        /// Do not ask the phone for linking (QR key 4 = false).
        #[arg(long)]
        no_linking: bool,
    },
    /// Sign in with a passkey on the phone.
    Login {
        #[command(flatten)]
        common: Common,
        /// The passkey from `register --passkey-out` (the assertion is then verified); without it the
        /// request is for any discoverable credential and the JSON is printed unverified.
        #[arg(long)]
        passkey: Option<PathBuf>,
        /// Sign in through a stored link (state-assisted, no QR code) from `register --link-out`.
        #[arg(long)]
        linked: Option<PathBuf>,
    },
}

fn scanner(radio: DesktopRadio) -> Result<Arc<dyn AdvertScanner>, String> {
    Ok(match radio {
        DesktopRadio::Sim => Arc::new(
            tandem_radio::UdpScanner::bind(tandem_radio::SIM_UDP_PORT)
                .map_err(|e| format!("UDP sim radio: {e}"))?,
        ),
        DesktopRadio::Bluez => {
            Arc::new(tandem_radio::btle::BtleplugScanner::new().map_err(|e| e.to_string())?)
        }
    })
}

fn config(common: &Common) -> DesktopConfig {
    DesktopConfig {
        tunnel_url: common.tunnel_url.clone(),
        // A ws:// URL given on the command line is the explicit permission (loopback only).
        tls: tandem_desktop::TlsOptions {
            allow_insecure_loopback: true,
            ..Default::default()
        },
        timeouts: DesktopTimeouts::all(Duration::from_secs(common.timeout)),
    }
}

fn show_qr(qr: &QrSession) {
    println!("qr {}", qr.url());
    println!("{}", qr.render_terminal());
}

fn write_json(path: &PathBuf, value: &impl serde::Serialize) -> Result<(), String> {
    let text = serde_json::to_string_pretty(value).map_err(|e| e.to_string())?;
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))
}

fn read_json<T: serde::de::DeserializeOwned>(path: &PathBuf) -> Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}

/// Runs `tandem desktop …`.
pub(crate) async fn run(command: DesktopCommand) -> Result<(), String> {
    match command {
        DesktopCommand::Register {
            common,
            user,
            passkey_out,
            link_out,
            no_linking,
        } => {
            let rp = RelyingParty::new(&common.rp_id, &common.origin)?;
            let (request, state) = rp.start_registration(&user)?;
            let qr = QrSession::new(request.hint(), !no_linking).map_err(|e| e.to_string())?;
            show_qr(&qr);
            let scanner = scanner(common.radio)?;
            let result = qr
                .run(scanner.as_ref(), &request, &config(&common))
                .await
                .map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string_pretty(&result.credential).map_err(|e| e.to_string())?
            );
            let passkey = rp
                .finish_registration(&result.credential, &state)
                .map_err(|e| format!("NOT verified: {e}"))?;
            eprintln!(
                "desktop: registration verified by webauthn-rs (credential {})",
                hex::encode(passkey.cred_id().as_slice())
            );
            if let Some(path) = passkey_out {
                write_json(&path, &passkey)?;
            }
            match (link_out, result.link) {
                (Some(path), Some(link)) => write_json(&path, &link)?,
                (Some(_), None) => eprintln!("desktop: the phone offered no link"),
                _ => {}
            }
            Ok(())
        }
        DesktopCommand::Login {
            common,
            passkey,
            linked,
        } => {
            let rp = RelyingParty::new(&common.rp_id, &common.origin)?;
            let passkey: Option<Passkey> = passkey.as_ref().map(read_json).transpose()?;
            let (request, state) = match &passkey {
                Some(pk) => {
                    let (request, state) = rp.start_authentication(std::slice::from_ref(pk))?;
                    (request, Some(state))
                }
                None => {
                    let mut challenge = vec![0u8; 32];
                    getrandom_fill(&mut challenge)?;
                    let request = WebAuthnRequest::Get(GetRequest {
                        origin: common.origin.clone(),
                        rp_id: common.rp_id.clone(),
                        challenge,
                        allow: Vec::new(),
                    });
                    (request, None)
                }
            };
            let scanner = scanner(common.radio)?;
            let config = config(&common);
            let result = match &linked {
                Some(path) => {
                    let link: StoredLink = read_json(path)?;
                    tandem_desktop::run_linked(&link, scanner.as_ref(), &request, &config).await
                }
                None => {
                    let qr = QrSession::new(request.hint(), false).map_err(|e| e.to_string())?;
                    show_qr(&qr);
                    qr.run(scanner.as_ref(), &request, &config).await
                }
            }
            .map_err(|e| e.to_string())?;
            println!(
                "{}",
                serde_json::to_string_pretty(&result.credential).map_err(|e| e.to_string())?
            );
            if let Some(state) = state {
                let auth = rp
                    .finish_authentication(&result.credential, &state)
                    .map_err(|e| format!("NOT verified: {e}"))?;
                eprintln!(
                    "desktop: sign-in verified by webauthn-rs (user verified: {})",
                    auth.user_verified()
                );
            }
            Ok(())
        }
    }
}

fn getrandom_fill(buf: &mut [u8]) -> Result<(), String> {
    use std::io::Read;
    std::fs::File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .map_err(|e| format!("randomness: {e}"))
}
