//! What the node's HTTP surfaces share, so that the API, the web interface and the
//! federation answer alike without depending on one another:
//!
//! - [`error::ApiError`]: the one place where errors become HTTP (status, problem type,
//!   RFC 9457 body); the web pages reuse its status mapping for their error pages.
//! - [`extract`]: JSON, path and query extractors whose rejections are problem details,
//!   the authenticated principal (bearer token or session cookie) and the client's
//!   address. They work with any router state from which an [`comity_app::App`] can be
//!   taken (`App: FromRef<S>`).
//! - [`operator_views`]: the federation's outbox and inbox rows as node operators see
//!   them, in the API and on the operators' pages.

pub mod error;
pub mod extract;
pub mod operator_views;

pub use error::ApiError;
