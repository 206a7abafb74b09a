//! Tunnel server benchmarks (custom harness; `cargo bench -p tandem-tunnel`).
//!
//! 1. Memory: N concurrent idle paired tunnels (phone `/cable/new` + desktop `/cable/connect`), server
//!    measured in a child process (this binary re-executed with `TANDEM_TUNNEL_BENCH_ROLE=server`) so the
//!    client sockets of the load generator do not pollute the number: VmRSS delta / N.
//! 2. Relay latency: round trips (desktop → phone → desktop, two relay hops) of an 81-byte message over
//!    loopback while the N idle tunnels are open; p50/p99/max.
//!
//! Environment: `TANDEM_TUNNEL_BENCH_N` (default 1000; target 10 000, clamped to what RLIMIT_NOFILE
//! allows: each tunnel needs two sockets in the server and two in the load generator),
//! `TANDEM_TUNNEL_BENCH_ROUNDS` (default 2000).
//!
//! Measured on the 2-core dev machine (bench profile, RLIMIT_NOFILE hard limit 20 000 ⇒ N = 9 968):
//! server VmRSS delta 148 992 KiB = 14.9 KiB per paired idle tunnel (≈ 146 MB for 10 000, target ≤ 200 MB);
//! relay round trip (two hops, 81 B) p50 18 µs, p99 30 µs, max 87 µs with the 9 968 idle tunnels open.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tandem_tunnel::{ClientLimits, Limits, ServerConfig, TunnelServer};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Bytes, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

const ROLE_ENV: &str = "TANDEM_TUNNEL_BENCH_ROLE";

/// Raises the soft open-files limit to the hard limit; returns the resulting soft limit.
fn raise_nofile() -> u64 {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let lim = getrlimit(Resource::Nofile);
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: lim.maximum,
            maximum: lim.maximum,
        },
    );
    // `None` is unlimited.
    getrlimit(Resource::Nofile).current.unwrap_or(u64::MAX)
}

fn vm_rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Child mode: run the server, print its port, answer `stats` lines, exit on stdin EOF.
fn server_main(max_tunnels: usize) {
    raise_nofile();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut config = ServerConfig::plain("127.0.0.1:0".parse().expect("addr"));
        config.limits = Limits {
            max_tunnels: max_tunnels + 16,
            max_pending_handshakes: 1024,
            idle_timeout: Duration::from_secs(3600),
            join_timeout: Duration::from_secs(3600),
            tunnel_lifetime: Duration::from_secs(3600),
            max_messages_per_direction: u32::MAX,
            // One loopback address plays every client: the bench measures the relay, not admission.
            per_client: ClientLimits {
                max_pending_handshakes: 1024,
                max_tunnels: usize::MAX,
                max_wake_listeners: usize::MAX,
                accept_rate: u32::MAX,
                accept_burst: u32::MAX,
            },
            ..Limits::default()
        };
        let server = TunnelServer::bind(config).await.expect("bind");
        println!("{}", server.local_addr().port());
        let _ = std::io::stdout().flush();
        let server = Arc::new(server);
        let s2 = Arc::clone(&server);
        let _ = tokio::task::spawn_blocking(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if line.trim() == "stats" {
                    let st = s2.stats();
                    println!("{} {}", st.tunnels, st.waiting_tunnels);
                    let _ = std::io::stdout().flush();
                }
            }
        })
        .await;
        if let Ok(server) = Arc::try_unwrap(server) {
            server.shutdown().await;
        }
    });
}

fn client_config() -> WebSocketConfig {
    // Small client buffers so the load generator itself fits in memory at 10 000 tunnels.
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
}

async fn open(port: u16, path: &str) -> (Client, Option<String>) {
    let mut req = format!("ws://127.0.0.1:{port}{path}")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("Sec-WebSocket-Protocol", "fido.cable".parse().expect("header"));
    let tcp = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    let _ = tcp.set_nodelay(true);
    let (ws, resp) =
        tokio_tungstenite::client_async_with_config(req, MaybeTlsStream::Plain(tcp), Some(client_config()))
            .await
            .expect("handshake");
    let routing = resp
        .headers()
        .get("x-cable-routing-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    (ws, routing)
}

async fn open_pair(port: u16) -> (Client, Client) {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id).expect("rng");
    let tid = hex::encode_upper(id);
    let (phone, routing) = open(port, &format!("/cable/new/{tid}")).await;
    let routing = routing.expect("routing id");
    let (desktop, _) = open(port, &format!("/cable/connect/{routing}/{tid}")).await;
    (phone, desktop)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(idx).copied().unwrap_or_default()
}

fn main() {
    if std::env::var(ROLE_ENV).as_deref() == Ok("server") {
        server_main(env_usize("TANDEM_TUNNEL_BENCH_N", 1000));
        return;
    }
    if !std::env::args().any(|a| a == "--bench") {
        // `cargo test --all-targets` runs bench binaries without `--bench`: nothing to do then.
        return;
    }
    let nofile = raise_nofile();
    let wanted = env_usize("TANDEM_TUNNEL_BENCH_N", 1000);
    // Two sockets per tunnel in each process, plus headroom for the runtime and stdio.
    let cap = usize::try_from(nofile.saturating_sub(64) / 2).unwrap_or(usize::MAX);
    let n = wanted.min(cap);
    let rounds = env_usize("TANDEM_TUNNEL_BENCH_ROUNDS", 2000);
    if n < wanted {
        println!("RLIMIT_NOFILE is {nofile}: N clamped from {wanted} to {n}");
    }

    let exe = std::env::current_exe().expect("current exe");
    let mut child = Command::new(exe)
        .env(ROLE_ENV, "server")
        .env("TANDEM_TUNNEL_BENCH_N", n.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn server");
    let pid = child.id().to_string();
    let mut child_out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut child_in = child.stdin.take().expect("stdin");
    let mut line = String::new();
    child_out.read_line(&mut line).expect("port");
    let port: u16 = line.trim().parse().expect("port number");
    let mut ask_stats = move || {
        let _ = writeln!(child_in, "stats");
        let mut l = String::new();
        let _ = child_out.read_line(&mut l);
        l.trim().to_string()
    };

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        // Warm up the server's allocator and runtime with one tunnel, then take the baseline.
        let warm = open_pair(port).await;
        drop(warm);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let base_server = vm_rss_kib(&pid);
        let base_client = vm_rss_kib("self");

        let started = Instant::now();
        let limit = Arc::new(Semaphore::new(256));
        let mut tasks = Vec::with_capacity(n);
        for _ in 0..n {
            let permit = Arc::clone(&limit).acquire_owned().await.expect("semaphore");
            tasks.push(tokio::spawn(async move {
                let pair = open_pair(port).await;
                drop(permit);
                pair
            }));
        }
        let mut tunnels = Vec::with_capacity(n);
        for t in tasks {
            tunnels.push(t.await.expect("open task"));
        }
        let open_time = started.elapsed();
        tokio::time::sleep(Duration::from_millis(500)).await;
        let server_stats = tokio::task::block_in_place(&mut ask_stats);
        let rss_server = vm_rss_kib(&pid);
        let rss_client = vm_rss_kib("self");
        let delta = rss_server.saturating_sub(base_server);
        println!("idle tunnels: N = {n} paired tunnels opened in {open_time:.2?} (server reports tunnels/waiting: {server_stats})");
        println!(
            "server VmRSS: base {base_server} KiB, with N tunnels {rss_server} KiB, delta {delta} KiB = {:.1} KiB per tunnel ({:.1} MB for 10 000 at this rate)",
            delta as f64 / n.max(1) as f64,
            delta as f64 / n.max(1) as f64 * 10_000.0 / 1024.0
        );
        println!(
            "load generator VmRSS delta (both client sockets per tunnel, for reference): {} KiB",
            rss_client.saturating_sub(base_client)
        );

        // Latency with the idle tunnels still open.
        let (mut phone, mut desktop) = open_pair(port).await;
        let msg = Bytes::from(vec![0x42u8; 81]);
        let mut samples = Vec::with_capacity(rounds);
        for i in 0..rounds + 100 {
            let t0 = Instant::now();
            desktop.send(Message::Binary(msg.clone())).await.expect("send");
            let Some(Ok(Message::Binary(got))) = phone.next().await else { panic!("relay failed") };
            phone.send(Message::Binary(got)).await.expect("echo");
            let Some(Ok(Message::Binary(back))) = desktop.next().await else { panic!("relay failed") };
            assert_eq!(back.len(), 81);
            if i >= 100 {
                samples.push(t0.elapsed()); // first 100 rounds are warm-up
            }
        }
        samples.sort();
        println!(
            "relay round trip (2 hops, 81 B, {rounds} rounds, {n} idle tunnels open): p50 {:?}  p99 {:?}  max {:?}",
            percentile(&samples, 0.50),
            percentile(&samples, 0.99),
            samples.last().copied().unwrap_or_default()
        );
        drop(tunnels);
    });
    // Closing stdin makes the server shut down.
    drop(ask_stats);
    let _ = child.wait();
}
