//! Serialized forms of Comity's data: the REST API's JSON, the federation payloads and
//! the documents kept in storage, each converted by hand to and from the domain types.
//!
//! - [`api`]: request and response bodies of `/api/v1`, described in OpenAPI
//!   through `utoipa`.
//! - [`accounts`]: bodies of the account administration endpoints (users, passwords,
//!   sessions).
//! - [`content`]: [`content::RequestContentDto`], the serialized request content shared
//!   by the API, the federation and storage; its conversion to the domain is where outside
//!   input is parsed and every error names its field.
//! - [`federation`]: the versioned bodies carried inside sealed envelopes between nodes.
//! - [`problem`]: RFC 9457 problem details.
//! - [`second_factor`]: enrolment, confirmation and status of a TOTP second factor.
//! - [`transition`]: [`api::TransitionInput`] parsed into the domain's transition command.
//! - [`schema`]: OpenAPI schemas of the API's strings, from the domain's code lists and limits.
//!
//! The domain can change without breaking peers or stored data: only this crate decides
//! what goes on the wire, and every stored or federated document carries a version.

pub mod accounts;
pub mod api;
pub mod content;
pub mod federation;
pub mod problem;
pub mod schema;
pub mod second_factor;
pub mod transition;

pub use content::{FieldError, RequestContentDto};
pub use problem::Problem;
