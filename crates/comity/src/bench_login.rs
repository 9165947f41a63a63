//! `comity bench login-flood`: how a node answers `/healthz` while a crowd of wrong
//! log-ins arrives at once. One real node on loopback (SQLite in a temporary directory)
//! with one account; `--attempts` concurrent `POST /api/v1/sessions` with wrong
//! passwords (half for that account, half for made-up names), while `/healthz` is asked
//! every 10 ms, one request at a time, by a monitor with its own connection. Prints the
//! refusals by status and the `/healthz` latencies, before (idle) and during the flood.
//! `--spread-addresses` sends each attempt from its own loopback address, so that nearly
//! every attempt costs an Argon2 check.

use std::sync::Arc;
use std::time::{Duration, Instant};

use comity_app::SystemClock;
use comity_domain::{Authority, AuthorityKind};
use comity_node::{Node, NodeConfig};
use comity_wire::api::UserInput;

/// Options of the log-in flood benchmark.
#[derive(Debug, clap::Args)]
pub struct LoginFloodArgs {
    /// Concurrent wrong log-ins.
    #[arg(long, default_value_t = 200)]
    pub attempts: usize,
    /// `/healthz` probes while idle, before the flood.
    #[arg(long, default_value_t = 50)]
    pub idle_probes: usize,
    /// Send each attempt from its own loopback address (127.0.0.2, 127.0.0.3...), as a
    /// distributed attacker would: the per-address throttle then does not apply and
    /// every made-up name costs one Argon2 verification.
    #[arg(long)]
    pub spread_addresses: bool,
}

/// Runs the benchmark and prints the figures.
pub async fn login_flood(args: LoginFloodArgs) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let mut config = NodeConfig::new("bench-login");
    config.listen = "127.0.0.1:0".parse()?;
    config.data_dir = Some(root.path().to_path_buf());
    let node = Node::build_with_clock(config, Arc::new(SystemClock)).await?;
    node.app()
        .bootstrap()
        .register_authority(
            Authority {
                id: "aa-ca".parse()?,
                country: "ES".parse()?,
                kind: AuthorityKind::CentralAuthority,
                name: "Benchmark authority".into(),
            },
            "bench-login",
        )
        .await?;
    node.app()
        .bootstrap()
        .insert_user(&UserInput {
            username: "ana".into(),
            display_name: "Ana".into(),
            authority: "aa-ca".into(),
            roles: vec!["analyst".into()],
            password: "correct horse battery staple".into(),
        })
        .await?;
    let url = node.url().to_string();
    // The monitor has its own client (its own kept-alive connection), as a separate
    // health checker would; the flood's clients open their own connections.
    let monitor = reqwest::Client::new();
    let http = reqwest::Client::new();
    let idle = probe(&monitor, &url, ProbeUntil::Count(args.idle_probes)).await?;
    let started = Instant::now();
    let attempts: Vec<_> = (0..args.attempts)
        .map(|n| {
            let http = if args.spread_addresses {
                let last = u8::try_from(n % 250 + 2).unwrap_or(2);
                let source = std::net::IpAddr::from([127, 0, (n / 250) as u8, last]);
                reqwest::Client::builder()
                    .local_address(source)
                    .build()
                    .unwrap_or_else(|_| http.clone())
            } else {
                http.clone()
            };
            let url = url.clone();
            tokio::spawn(async move {
                let username = if n % 2 == 0 {
                    "ana".to_string()
                } else {
                    format!("made-up-{n}")
                };
                http.post(format!("{url}/api/v1/sessions"))
                    .json(
                        &serde_json::json!({"username": username, "password": "a wrong password"}),
                    )
                    .send()
                    .await
                    .map(|response| response.status().as_u16())
            })
        })
        .collect();
    let flood_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let probing = tokio::spawn({
        let monitor = monitor.clone();
        let url = url.clone();
        let flood_done = flood_done.clone();
        async move { probe(&monitor, &url, ProbeUntil::Flag(flood_done)).await }
    });
    let mut statuses = std::collections::BTreeMap::new();
    for attempt in attempts {
        let status = attempt.await??;
        *statuses.entry(status).or_insert(0_usize) += 1;
    }
    let flood_time = started.elapsed();
    flood_done.store(true, std::sync::atomic::Ordering::SeqCst);
    let during = probing.await??;
    println!(
        "{} concurrent wrong log-ins answered in {:.2} s: {statuses:?}",
        args.attempts,
        flood_time.as_secs_f64()
    );
    report("healthz idle  ", &idle);
    report("healthz flood ", &during);
    node.stop().await;
    Ok(())
}

enum ProbeUntil {
    Count(usize),
    Flag(Arc<std::sync::atomic::AtomicBool>),
}

async fn probe(
    http: &reqwest::Client,
    url: &str,
    until: ProbeUntil,
) -> anyhow::Result<Vec<Duration>> {
    let mut latencies = Vec::new();
    loop {
        match &until {
            ProbeUntil::Count(count) if latencies.len() >= *count => break,
            ProbeUntil::Flag(done) if done.load(std::sync::atomic::Ordering::SeqCst) => break,
            _ => {}
        }
        let started = Instant::now();
        let response = http.get(format!("{url}/healthz")).send().await?;
        anyhow::ensure!(
            response.status().is_success(),
            "/healthz answered {}",
            response.status()
        );
        latencies.push(started.elapsed());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(latencies)
}

fn report(label: &str, latencies: &[Duration]) {
    let slowest = latencies
        .iter()
        .enumerate()
        .max_by_key(|(_, latency)| **latency)
        .map_or(0, |(index, _)| index + 1);
    let mut sorted = latencies.to_vec();
    sorted.sort();
    let at = |fraction: f64| {
        let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
        sorted
            .get(index)
            .map_or(0.0, |latency| latency.as_secs_f64() * 1_000.0)
    };
    println!(
        "{label} n={:<4} p50 {:.1} ms  p99 {:.1} ms  max {:.1} ms (probe #{slowest})",
        sorted.len(),
        at(0.5),
        at(0.99),
        at(1.0)
    );
}
