//! `comity peer ...` and `comity node rotate-keys|announce-keys` against a running node,
//! through its API (node operators): changes take effect at once, without a restart.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::client::Client;

/// What to do with the trust list.
#[derive(Debug, Subcommand)]
pub enum PeerCommand {
    /// Add (or replace) a peer from the TOML entry its operator printed with `node show`.
    Add {
        /// Edit the trust list of a stopped node in this data directory instead of asking
        /// a running node (the node loads it when it starts).
        #[arg(long)]
        data_dir: Option<PathBuf>,
        /// The entry file.
        file: PathBuf,
        /// Let the peer take over authorities another peer hosts now (each move is
        /// printed: the authority, the node it leaves and the node it joins).
        #[arg(long)]
        move_authorities: bool,
    },
    /// List the peers, with their keys' fingerprints and the keys waiting for
    /// confirmation.
    List {
        /// Read the trust list of a stopped node in this data directory instead.
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
    /// Change a peer's endpoint or pinned TLS certificate.
    Update {
        /// The peer's node id.
        node_id: String,
        /// Its new base URL.
        #[arg(long)]
        endpoint: Option<String>,
        /// A PEM file with its new TLS certificate, to pin.
        #[arg(long)]
        tls_certificate: Option<PathBuf>,
    },
    /// Remove a peer: nothing more is sent to it or accepted from it.
    Remove {
        /// The peer's node id.
        node_id: String,
    },
    /// The keys peers announced that wait for confirmation, with their fingerprints.
    Pending,
    /// Trust a key a peer announced, giving the fingerprint its operator told you out of
    /// band (by telephone, in person). A fingerprint that matches no waiting key is
    /// refused and changes nothing.
    Accept {
        /// The peer's node id.
        node_id: String,
        /// The fingerprint (64 hex digits; `:` between groups is fine).
        fingerprint: String,
    },
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Runs a peer command against the node; returns the node's answer.
pub async fn run(client: &Client, command: PeerCommand) -> anyhow::Result<Value> {
    match command {
        PeerCommand::Add {
            file,
            move_authorities,
            ..
        } => {
            let parsed: comity_node::identity::TrustListFile =
                toml::from_str(&read_text(&file)?)
                    .with_context(|| format!("{} is not a trust-list entry", file.display()))?;
            if parsed.peers.is_empty() {
                anyhow::bail!("{} holds no [[peers]] entry", file.display());
            }
            let mut added = Vec::new();
            for entry in parsed.peers {
                added.push(
                    client
                        .post(
                            "/api/v1/peers",
                            &json!({"entry": entry, "move_authorities": move_authorities}),
                        )
                        .await?,
                );
            }
            Ok(Value::Array(added))
        }
        PeerCommand::List { .. } => client.get("/api/v1/peers").await,
        PeerCommand::Update {
            node_id,
            endpoint,
            tls_certificate,
        } => {
            let certificate = tls_certificate.as_deref().map(read_text).transpose()?;
            client
                .send(
                    reqwest::Method::PATCH,
                    &format!("/api/v1/peers/{}", segment(&node_id)),
                    Some(&json!({"endpoint": endpoint, "tls_certificate": certificate})),
                )
                .await
        }
        PeerCommand::Remove { node_id } => {
            client
                .delete(&format!("/api/v1/peers/{}", segment(&node_id)))
                .await?;
            Ok(json!({"removed": node_id}))
        }
        PeerCommand::Pending => client.get("/api/v1/peers/pending-keys").await,
        PeerCommand::Accept {
            node_id,
            fingerprint,
        } => {
            client
                .post(
                    &format!("/api/v1/peers/{}/keys/accept", segment(&node_id)),
                    &json!({"fingerprint": fingerprint}),
                )
                .await
        }
    }
}

/// Rotates the node's keys; with the recovery key file, a recovery after a leak (peers
/// trust the new key without waiting for their operators).
pub async fn rotate_keys(client: &Client, recovery_key: Option<&Path>) -> anyhow::Result<Value> {
    match recovery_key {
        Some(path) => {
            let secret = zeroize::Zeroizing::new(read_text(path)?);
            client
                .post(
                    "/api/v1/node/keys/recover",
                    &json!({"recovery_key": secret.as_str()}),
                )
                .await
        }
        None => client.post("/api/v1/node/keys/rotate", &json!({})).await,
    }
}

/// A node id as one path segment.
fn segment(node_id: &str) -> String {
    percent_encoding::utf8_percent_encode(node_id, percent_encoding::NON_ALPHANUMERIC).to_string()
}
