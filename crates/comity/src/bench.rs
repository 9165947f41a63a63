//! `comity bench exchange`: durable signed and encrypted messages between two real nodes
//! on loopback, each with its own SQLite database.
//!
//! Every message takes the whole path: committed to the sender's outbox, sealed (HPKE +
//! COSE_Sign1), posted over HTTP, verified and opened by the receiver, stored in its inbox
//! and applied (each message dispatches a new request, which the receiver files in a new
//! case), answered by a signed receipt, and the receipt verified and stored by the sender.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use comity_app::SystemClock;
use comity_domain::{Authority, AuthorityKind, Timestamp};
use comity_node::{Node, NodeConfig};
use comity_store::{OutboxMessage, OutboxStatus};
use comity_wire::federation::{FederationBody, request};

/// Options of the exchange benchmark.
#[derive(Debug, clap::Args)]
pub struct ExchangeArgs {
    /// Messages for the throughput run.
    #[arg(long, default_value_t = 5_000)]
    pub messages: usize,
    /// Messages per second for the latency run.
    #[arg(long, default_value_t = 200)]
    pub rate: u64,
    /// Duration of the latency run, in seconds.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// How many concurrent committers (users) commit the throughput run's messages.
    #[arg(long, default_value_t = 16)]
    pub committers: usize,
    /// Run both nodes on PostgreSQL: a server URL on which the benchmark creates two
    /// fresh databases (default: SQLite files in a temporary directory).
    #[arg(long)]
    pub postgres: Option<String>,
}

/// Runs the benchmark and prints the figures.
pub async fn exchange(args: ExchangeArgs) -> anyhow::Result<()> {
    let root = tempfile::tempdir()?;
    let (sender, sender_database) = start(
        root.path(),
        "bench-a",
        "aa-ca",
        "ES",
        args.postgres.as_deref(),
    )
    .await?;
    let (receiver, receiver_database) = start(
        root.path(),
        "bench-b",
        "bb-ca",
        "MA",
        args.postgres.as_deref(),
    )
    .await?;
    sender
        .add_peer(receiver.peer_entry().await?)
        .await
        .map_err(anyhow::Error::msg)?;
    receiver
        .add_peer(sender.peer_entry().await?)
        .await
        .map_err(anyhow::Error::msg)?;

    // Throughput: many users commit messages at once (each in its own transaction), then
    // wait for every receipt.
    let started = Instant::now();
    let sender = Arc::new(sender);
    let committers = args.committers.max(1);
    let mut tasks = Vec::with_capacity(committers);
    for committer in 0..committers {
        let share =
            args.messages / committers + usize::from(committer < args.messages % committers);
        let node = sender.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                enqueue(&node).await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let committed = started.elapsed();
    wait_until_delivered(&sender, args.messages, Duration::from_secs(600)).await?;
    let elapsed = started.elapsed();
    let throughput = args.messages as f64 / elapsed.as_secs_f64();
    println!(
        "throughput: {} messages committed by {committers} concurrent committers in {:.2} s, all receipts stored after {:.2} s: {:.0} messages/s",
        args.messages,
        committed.as_secs_f64(),
        elapsed.as_secs_f64(),
        throughput
    );

    // Latency: a steady rate, commit to stored receipt per message.
    let total = usize::try_from(args.rate.saturating_mul(args.seconds))?;
    let interval = Duration::from_micros(1_000_000 / args.rate.max(1));
    let mut ticker = tokio::time::interval(interval);
    let mut ids = Vec::with_capacity(total);
    for _ in 0..total {
        ticker.tick().await;
        ids.push(enqueue(&sender).await?);
    }
    wait_until_delivered(&sender, args.messages + total, Duration::from_secs(600)).await?;
    let mut latencies = Vec::with_capacity(total);
    let mut tx = sender.app().store().begin().await?;
    for id in &ids {
        let (created_at, finished_at) = tx
            .outbox_timing(id)
            .await?
            .with_context(|| format!("message {id} has no receipt time"))?;
        latencies.push(finished_at - created_at);
    }
    drop(tx);
    latencies.sort_unstable();
    let percentile = |p: f64| latencies[((latencies.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "latency at {} messages/s for {} s ({} messages), commit to stored receipt: p50 {} ms, p99 {} ms, max {} ms",
        args.rate,
        args.seconds,
        total,
        percentile(0.50),
        percentile(0.99),
        latencies.last().copied().unwrap_or_default()
    );
    if let Ok(sender) = Arc::try_unwrap(sender) {
        sender.stop().await;
    }
    receiver.stop().await;
    if let Some(server) = args.postgres.as_deref() {
        for database in [&sender_database, &receiver_database].into_iter().flatten() {
            comity_store::Store::drop_database(server, database).await?;
        }
    }
    Ok(())
}

async fn start(
    root: &std::path::Path,
    node_id: &str,
    authority: &str,
    country: &str,
    postgres: Option<&str>,
) -> anyhow::Result<(Node, Option<String>)> {
    let data_dir = root.join(node_id);
    std::fs::create_dir_all(&data_dir)?;
    let mut config = NodeConfig::new(node_id);
    config.listen = "127.0.0.1:0".parse()?;
    config.data_dir = Some(data_dir);
    config.federation.allow_plain_http_loopback = true;
    config.outbox.poll_interval_ms = 100;
    // The benchmark's accounts are throwaway ones on loopback, logged in by the script.
    config.second_factor.required_roles = Vec::new();
    let database = match postgres {
        Some(server) => Some(
            comity_store::Store::create_database(server, &format!("comity_bench_{node_id}"))
                .await?,
        ),
        None => None,
    };
    config.database_url = database.clone();
    let node = Node::build_with_clock(config, Arc::new(SystemClock)).await?;
    node.app()
        .bootstrap()
        .register_authority(
            Authority {
                id: authority.parse()?,
                country: country.parse()?,
                kind: AuthorityKind::CentralAuthority,
                name: format!("Benchmark authority {authority}"),
            },
            node_id,
        )
        .await?;
    Ok((node, database))
}

/// Commits one dispatch message to the outbox, as a dispatch transition would.
async fn enqueue(sender: &Node) -> anyhow::Result<String> {
    let request_id = uuid::Uuid::now_v7();
    let content: comity_wire::RequestContentDto = serde_json::from_value(serde_json::json!({
        "requesting_authority": "aa-ca", "requesting_country": "ES",
        "requested_authority": "bb-ca", "requested_country": "MA",
        "subject_matter": "Benchmark request", "summary_of_facts": "Facts of the case.",
        "measures": [{"kind": "bank_records", "description": "Statements"}],
        "purpose": "Evidence"
    }))?;
    let body = FederationBody::from(request::Message::Dispatched(request::Dispatched {
        request_id,
        content: Box::new(content),
        case_reference: "BENCH".into(),
    }));
    let now = sender.app().now();
    let message_id = uuid::Uuid::now_v7().to_string();
    let mut tx = sender.app().store().begin().await?;
    tx.enqueue(&OutboxMessage {
        message_id: message_id.clone(),
        recipient_node: "bench-b".into(),
        conversation_id: body.conversation().to_string(),
        sequence: 1,
        message_type: body.message_type().into(),
        in_reply_to: None,
        body: serde_json::to_string(&body)?,
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at: now,
        created_at: Timestamp(now.millis()),
        last_error: None,
        receipt: None,
    })
    .await?;
    tx.commit().await?;
    sender.app().outbox_signal().notify_one();
    Ok(message_id)
}

async fn wait_until_delivered(
    sender: &Node,
    expected: usize,
    limit: Duration,
) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let delivered = {
            let mut tx = sender.app().store().read().await?;
            tx.count_outbox(OutboxStatus::Delivered).await?
        };
        if usize::try_from(delivered)? >= expected {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < limit,
            "only {delivered} of {expected} delivered in time"
        );
        tokio::time::sleep(RECEIPT_POLL).await;
    }
}

/// How often the throughput run counts stored receipts. The count is a query on the
/// sender's database, which the exchange itself is using: every 5 ms it took a tenth of
/// a core from the nodes on PostgreSQL. The end of the run is known to within this.
const RECEIPT_POLL: Duration = Duration::from_millis(25);
