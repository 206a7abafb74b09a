//! The `tandem` command: `demo`, `tunnel`, `desktop register|login` and `phone`.

mod demo;
mod desktop_cmd;
mod phone_cmd;
mod support;
mod tunnel_cmd;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tandem: the phone side of FIDO hybrid (caBLE v2), with a tunnel server and a desktop peer for testing.
#[derive(Debug, Parser)]
#[command(name = "tandem", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Whole ceremony on this machine: tunnel on loopback, desktop peer, phone with the simulated radio;
    /// registers, then signs in; both verified by webauthn-rs. Exits 0 only if both verify.
    Demo {
        /// SQLite store for the phone (default: a temporary file).
        #[arg(long)]
        store: Option<PathBuf>,
        /// Also print the QR codes and the credential JSON.
        #[arg(long)]
        verbose: bool,
    },
    /// Serve the tunnel service.
    Tunnel(tunnel_cmd::TunnelArgs),
    /// The desktop (browser) side.
    #[command(subcommand)]
    Desktop(desktop_cmd::DesktopCommand),
    /// The phone side: one ceremony from a QR text, or a linked request from the wake channel.
    Phone(phone_cmd::PhoneArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .try_init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tandem: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo { store, verbose } => demo::run(store, verbose).await,
            Command::Tunnel(args) => tunnel_cmd::run(args).await,
            Command::Desktop(cmd) => desktop_cmd::run(cmd).await,
            Command::Phone(args) => phone_cmd::run(args).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tandem: error: {e}");
            ExitCode::FAILURE
        }
    }
}
