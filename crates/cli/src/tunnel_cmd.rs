//! `tandem tunnel`: serve the tunnel service.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tandem_tunnel::{Limits, ProxyNet, ServerConfig, TlsConfig, TunnelServer};

/// Options of `tandem tunnel`.
#[derive(Debug, clap::Args)]
pub(crate) struct TunnelArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// PEM certificate chain (leaf first); with --tls-key serves wss://.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Routing-ID instance byte of this server.
    #[arg(long, default_value_t = 0)]
    pub instance_id: u8,
    /// Largest relayed message in bytes.
    #[arg(long)]
    pub max_message_size: Option<usize>,
    /// Most tunnels at once.
    #[arg(long)]
    pub max_tunnels: Option<usize>,
    /// Close a tunnel idle for this many seconds.
    #[arg(long)]
    pub idle_timeout: Option<u64>,
    /// Close a tunnel this many seconds after it was created.
    #[arg(long)]
    pub tunnel_lifetime: Option<u64>,
    /// New connections one client address (IPv4, or IPv6 /64) may open per second; its burst is three
    /// times this. Behind a reverse proxy every connection comes from the proxy: raise it there.
    #[arg(long)]
    pub client_accept_rate: Option<u32>,
    /// Most tunnels one client address may hold at once.
    #[arg(long)]
    pub client_max_tunnels: Option<usize>,
    /// Most wake listeners one client address may hold at once.
    #[arg(long)]
    pub client_max_wake_listeners: Option<usize>,
    /// A reverse proxy (address or network, e.g. `127.0.0.1` or `10.0.0.0/8`) whose `X-Forwarded-For` /
    /// `X-Real-IP` headers name the client. Repeat for several.
    #[arg(long = "trusted-proxy")]
    pub trusted_proxies: Vec<ProxyNet>,
}

/// Runs the server until Ctrl-C.
pub(crate) async fn run(args: TunnelArgs) -> Result<(), String> {
    let mut limits = Limits::default();
    if let Some(v) = args.max_message_size {
        limits.max_message_size = v;
    }
    if let Some(v) = args.max_tunnels {
        limits.max_tunnels = v;
    }
    if let Some(v) = args.idle_timeout {
        limits.idle_timeout = Duration::from_secs(v);
    }
    if let Some(v) = args.tunnel_lifetime {
        limits.tunnel_lifetime = Duration::from_secs(v);
    }
    if let Some(v) = args.client_accept_rate {
        limits.per_client.accept_rate = v;
        limits.per_client.accept_burst = v.saturating_mul(3);
    }
    if let Some(v) = args.client_max_tunnels {
        limits.per_client.max_tunnels = v;
    }
    if let Some(v) = args.client_max_wake_listeners {
        limits.per_client.max_wake_listeners = v;
    }
    let mut config = ServerConfig::plain(args.listen);
    config.instance_id = args.instance_id;
    config.limits = limits;
    config.trusted_proxies = args.trusted_proxies;
    if let (Some(cert), Some(key)) = (args.tls_cert, args.tls_key) {
        config.tls = Some(TlsConfig::PemFiles {
            cert_chain: cert,
            private_key: key,
        });
    }
    let server = TunnelServer::bind(config)
        .await
        .map_err(|e| format!("tunnel server: {e}"))?;
    println!("listening {}", server.ws_url());
    tokio::signal::ctrl_c().await.map_err(|e| e.to_string())?;
    server.shutdown().await;
    Ok(())
}
