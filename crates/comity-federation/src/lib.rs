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
//! - [`calls`]: sealed questions answered in the response (`POST /federation/v1/calls`),
//!   the registry of call handlers and [`calls::call`].
//! - [`blobs`]: content-addressed blobs on disk, fetched in chunks with a call.
//!
//! The order of use is outbox → transport → identity, never back. What messages mean is
//! decided in `comity_app` (the inbox and the use cases); this crate moves bytes and
//! keeps keys.

pub mod api;
pub mod batch;
pub mod blobs;
pub mod calls;
pub mod config;
pub mod identity;
mod intake;
mod locks;
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
    /// The call types this node answers, and the questions it answered recently.
    pub calls: Arc<calls::Calls>,
    /// The blobs this node holds.
    pub blobs: Arc<blobs::BlobStore>,
}

impl FederationState {
    /// The federation's state for these use cases, keys and settings; blobs are kept
    /// under the federation's data directory (in memory without one), and only the
    /// built-in calls are answered until capabilities register theirs.
    pub fn new(
        app: App,
        federation: Arc<Federation>,
        outbox: OutboxConfig,
        config: FederationConfig,
    ) -> FederationState {
        let blobs = blobs::BlobStore::new(federation.data_dir.as_deref());
        FederationState {
            app,
            federation,
            outbox: Arc::new(outbox),
            config: Arc::new(config),
            calls: Arc::new(calls::Calls::new()),
            blobs: Arc::new(blobs),
        }
    }
}

impl axum::extract::FromRef<FederationState> for App {
    fn from_ref(state: &FederationState) -> App {
        state.app.clone()
    }
}
