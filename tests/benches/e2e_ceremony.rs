//! Full hybrid ceremony over loopback: wall-clock latency (median, p90 of many) and CPU time per ceremony
//! (the process CPU clock of the whole process: tunnel server, desktop peer and phone together, so it is an upper
//! bound for the phone's share). Target: ≤ 2 ms CPU per ceremony. Run with
//! `cargo bench -p tandem-tests --bench e2e_ceremony` (release profile).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tandem_desktop::{QrSession, WebAuthnRequest};
use tandem_radio::SimRadio;
use tandem_tests::*;

fn cpu_time() -> Duration {
    // CLOCK_PROCESS_CPUTIME_ID: user + system time of every thread of this process.
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ProcessCPUTime);
    Duration::new(
        u64::try_from(t.tv_sec).unwrap_or(0),
        u32::try_from(t.tv_nsec).unwrap_or(0),
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn main() {
    let iterations: usize = std::env::var("TANDEM_BENCH_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let server = start_tunnel().await;
        let url = server.ws_url();
        let dir = tempfile::tempdir().expect("tempdir");
        let store = open_store(&dir.path().join("bench.sqlite"));
        let radio = SimRadio::new();
        let (pt, dt) = test_timeouts();
        let phone = make_phone(phone_config(&url, pt), store, &radio, Arc::new(AutoApprove), Arc::new(Recorder::default()));
        let desktop = desktop_config(&url, dt);
        let rp = RelyingParty::new();

        let (create, reg_state) = rp.start_registration("bench");
        let passkey = {
            let qr = QrSession::new("mc", false).expect("qr");
            let p = phone.clone();
            let text = qr.url().to_string();
            let task = tokio::spawn(async move { p.run_qr(&text).await });
            let result = qr.run(&radio.scanner(), &create, &desktop).await.expect("registration");
            task.await.expect("join").expect("phone");
            rp.finish_registration(&result.credential, &reg_state).expect("verified")
        };

        for (label, kind) in [("makeCredential", "mc"), ("getAssertion", "ga")] {
            let mut wall = Vec::with_capacity(iterations);
            let cpu_start = cpu_time();
            for _ in 0..iterations {
                let request: WebAuthnRequest = if kind == "mc" {
                    rp.start_registration("bench").0
                } else {
                    rp.start_authentication(std::slice::from_ref(&passkey)).0
                };
                let start = Instant::now();
                let qr = QrSession::new(kind, false).expect("qr");
                let p = phone.clone();
                let text = qr.url().to_string();
                let task = tokio::spawn(async move { p.run_qr(&text).await });
                qr.run(&radio.scanner(), &request, &desktop).await.expect("ceremony");
                task.await.expect("join").expect("phone");
                wall.push(start.elapsed());
            }
            let cpu = cpu_time().saturating_sub(cpu_start);
            wall.sort();
            println!(
                "{label:<15} n={iterations} latency median {:?} p90 {:?}; CPU per ceremony (whole process) {:?}",
                percentile(&wall, 0.5),
                percentile(&wall, 0.9),
                cpu / iterations as u32,
            );
        }
        server.shutdown().await;
    });
}
