//! The federation: how a node knows itself and its peers, and how messages travel
//! between nodes.
//!
//! - [`identity`]: the node's keys on disk (owner-only), its [`identity::Keyring`], and the
//!   trust list of peers (TOML) with the claims a peer may make.
//! - [`transport`]: the receiving routes (`POST /federation/v1/messages`, key
//!   announcements), [`transport::send`] (seal, post, verify the receipt), peer
//!   management and key rotation. Their bodies are read by `intake`: streamed, with the
//!   size limit enforced while reading, and a stranger refused once the first bytes name
//!   the signer.
//! - [`batch`]: several envelopes in one request (`POST /federation/v1/batches`), accepted
//!   in one transaction and answered by one receipt each.
//! - [`outbox`]: the background sender that delivers committed outbox messages in batches
//!   per peer, conversations independent, with retries and dead letters.
//!
//! The order of use is outbox → transport → identity, never back. What messages mean is
//! decided in `comity_app` (the inbox and the use cases); this crate moves bytes and
//! keeps keys.

pub mod api;
pub mod batch;
pub mod config;
pub mod identity;
mod intake;
pub mod outbox;
pub mod resync;
pub mod transport;

use std::sync::Arc;

use comity_app::App;

pub use config::{FederationConfig, OutboxConfig};
pub use transport::{
    AnnouncementReport, DeliveryError, Federation, KeyAnnouncementAlert, PeerError, RotationReport,
    accept_pending_key, add_peer, add_peer_checked, alert_key_announcement, announce,
    announce_keys, local_authority_ids, own_entry, recover_keys, remove_peer, rotate_keys, routes,
    send, trust_snapshot, update_peer,
};

/// What the federation's routes and workers reach.
#[derive(Clone, Debug)]
pub struct FederationState {
    /// The use cases (the inbox, the outbox, the authority registry).
    pub app: App,
    /// Keys, trust list and the per-peer HTTP clients.
    pub federation: Arc<Federation>,
    /// How the outbox sender retries.
    pub outbox: Arc<OutboxConfig>,
    /// How the node talks to peers.
    pub config: Arc<FederationConfig>,
}

impl axum::extract::FromRef<FederationState> for App {
    fn from_ref(state: &FederationState) -> App {
        state.app.clone()
    }
}
