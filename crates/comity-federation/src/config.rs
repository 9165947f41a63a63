//! How the federation behaves: the outbox sender's retries, and how peers are reached.

use std::time::Duration;

use serde::Deserialize;

/// How the outbox sender retries.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxConfig {
    /// How often the sender looks for due messages when nothing wakes it. Default 500 ms.
    #[serde(default = "default_poll_ms")]
    pub poll_interval_ms: u64,
    /// First retry delay. Default 200 ms; doubles each attempt, with jitter.
    #[serde(default = "default_initial_backoff_ms")]
    pub initial_backoff_ms: u64,
    /// Longest retry delay. Default 60 s.
    #[serde(default = "default_max_backoff_ms")]
    pub max_backoff_ms: u64,
    /// After this long undelivered, a message becomes a dead letter and an operator
    /// alert is logged. Default 24 h.
    #[serde(default = "default_dead_letter_secs")]
    pub dead_letter_after_secs: u64,
}

fn default_poll_ms() -> u64 {
    500
}
fn default_initial_backoff_ms() -> u64 {
    200
}
fn default_max_backoff_ms() -> u64 {
    60_000
}
fn default_dead_letter_secs() -> u64 {
    24 * 60 * 60
}

impl Default for OutboxConfig {
    fn default() -> Self {
        OutboxConfig {
            poll_interval_ms: default_poll_ms(),
            initial_backoff_ms: default_initial_backoff_ms(),
            max_backoff_ms: default_max_backoff_ms(),
            dead_letter_after_secs: default_dead_letter_secs(),
        }
    }
}

impl OutboxConfig {
    /// How often the sender looks when nothing wakes it.
    pub fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms.max(10))
    }
}

/// How the node talks to peers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FederationConfig {
    /// Allow plain HTTP to peers on loopback addresses (tests and the demo only).
    /// Default false: peers are reached over HTTPS.
    #[serde(default)]
    pub allow_plain_http_loopback: bool,
    /// Whether a receipt saying a message reused a consumed sequence number starts a
    /// resynchronisation with that peer at once (default true; tests turn it off to
    /// look at the conversation while it is out of step).
    #[serde(default = "default_true")]
    pub resync_on_rejection: bool,
    /// Resynchronise every conversation with every peer when the node starts (set for
    /// one start after a restore from a backup; `comity node restore` arranges it).
    #[serde(default)]
    pub resync_on_start: bool,
}

fn default_true() -> bool {
    true
}

impl Default for FederationConfig {
    fn default() -> Self {
        FederationConfig {
            allow_plain_http_loopback: false,
            resync_on_rejection: true,
            resync_on_start: false,
        }
    }
}
