//! Comity's use cases: what a user or a peer can do, over the store, with the rules of
//! the domain applied and every change made in one transaction.
//!
//! - [`App`] holds the store, the node's identity and a [`Clock`]; the HTTP handlers, the
//!   web pages, the CLI and the federation workers all call its methods.
//! - [`auth`]: local accounts (Argon2id), sessions and bearer tokens, and the
//!   [`Principal`] every other use case takes as its first argument.
//! - [`ids`]: typed ids from the text of a path or a form field.
//! - [`cases`] and [`requests`]: cases, drafts and lifecycle transitions.
//! - [`federation`]: applying what peers send, exactly once and in order (a generic
//!   inbox and a dispatcher by topic), and receipts for what this node sent;
//!   `request_messages` is the request topic's part.
//! - [`resync`]: bringing two copies of a request back in step; [`alerts`]: operator
//!   alerts and the operators' inbox and outbox views.
//! - [`batches`]: several incoming messages or receipts in one transaction.
//! - [`second_factor`]: TOTP and recovery codes; [`sso`]: OpenID Connect log-in.
//!
//! Deny by default: every use case that reads or writes checks the principal's
//! authority and roles before it touches anything. The exceptions, writes made before
//! anyone can log in, go through [`Bootstrap`] ([`App::bootstrap`]).

pub mod alerts;
pub mod auth;
pub mod batches;
pub mod bootstrap;
pub mod cases;
pub mod error;
pub mod federation;
pub mod ids;
pub mod inbound;
pub mod law;
pub mod letters;
pub mod operations;
pub mod request_messages;
pub mod requests;
pub mod resync;
pub mod second_factor;
pub mod sso;

use std::sync::Arc;

use comity_domain::Timestamp;
use comity_store::Store;

pub use auth::Principal;
pub use bootstrap::Bootstrap;
pub use error::AppError;

/// Where the current time comes from: the system clock in production, a fixed or
/// stepping clock in tests.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let millis = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis())
            .unwrap_or(0);
        Timestamp(i64::try_from(millis).unwrap_or(i64::MAX))
    }
}

/// The application: the store, who this node is, and the clock.
#[derive(Clone, Debug)]
pub struct App {
    store: Store,
    catalog: Arc<comity_law::Catalog>,
    node_id: String,
    clock: Arc<dyn Clock>,
    outbox_signal: Arc<tokio::sync::Notify>,
    second_factor: Arc<second_factor::SecondFactorPolicy>,
    accounts: Arc<auth::AccountState>,
}

impl App {
    /// An application over `store` for the node `node_id`, with the embedded law catalog.
    pub fn new(
        store: Store,
        node_id: impl Into<String>,
        clock: Arc<dyn Clock>,
    ) -> Result<App, AppError> {
        Ok(App::with_catalog(
            store,
            node_id,
            clock,
            law::embedded_catalog()?,
        ))
    }

    /// An application with a given law catalog.
    pub fn with_catalog(
        store: Store,
        node_id: impl Into<String>,
        clock: Arc<dyn Clock>,
        catalog: Arc<comity_law::Catalog>,
    ) -> App {
        App {
            store,
            catalog,
            node_id: node_id.into(),
            clock,
            outbox_signal: Arc::new(tokio::sync::Notify::new()),
            second_factor: Arc::new(second_factor::SecondFactorPolicy::with_ephemeral_key(
                "Comity",
            )),
            accounts: Arc::new(auth::AccountState::new(auth::DEFAULT_IDLE_MINUTES)),
        }
    }

    /// This application with another second-factor policy (roles, key, issuer).
    pub fn with_second_factor_policy(mut self, policy: second_factor::SecondFactorPolicy) -> App {
        self.second_factor = Arc::new(policy);
        self
    }

    /// The second-factor policy in effect.
    pub fn second_factor_policy(&self) -> &second_factor::SecondFactorPolicy {
        &self.second_factor
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The law catalog the engine uses.
    pub fn catalog(&self) -> &comity_law::Catalog {
        &self.catalog
    }

    /// This node's id.
    pub fn node_id(&self) -> &str {
        &self.node_id
    }

    /// Now, by this application's clock.
    pub fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// Woken whenever a transaction that queued outgoing messages commits, so the
    /// sender does not wait for its next poll.
    pub fn outbox_signal(&self) -> Arc<tokio::sync::Notify> {
        self.outbox_signal.clone()
    }

    pub(crate) fn new_id(&self) -> String {
        uuid::Uuid::now_v7().to_string()
    }

    /// A fresh typed id ([`comity_domain::RequestId`], [`comity_domain::CaseId`], …).
    pub(crate) fn new_typed_id<T: From<uuid::Uuid>>(&self) -> T {
        uuid::Uuid::now_v7().into()
    }
}
