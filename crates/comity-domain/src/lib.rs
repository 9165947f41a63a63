//! The domain of mutual legal assistance: who asks whom for what, and how a request moves.
//!
//! - [`CountryCode`], [`Authority`] and [`AuthorityId`]: the states and bodies involved.
//! - [`Case`], [`Request`] and [`RequestContent`]: a request and what it must say, with
//!   its [`Offence`]s ([`OffenceCategory`] from EIO Annex D), [`MeasureSought`]s
//!   ([`MeasureKind`]) and [`PersonConcerned`]s ([`PersonRole`], [`Vulnerability`]).
//! - [`lifecycle`]: the [`RequestState`] machine run by both sides, with the [`Action`]s
//!   each [`Role`] may take, as pure functions ([`decide_local`], [`decide_remote`]).
//! - [`deadline`]: deadlines derived from a request's history.
//!
//! This crate knows nothing about HTTP, SQL, serialization formats or clocks: time comes
//! in as [`Timestamp`] values and every function here is pure.

pub mod authority;
pub mod codes;
pub mod country;
pub mod deadline;
pub mod error;
pub mod ids;
pub mod lifecycle;
pub mod measure;
pub mod offence;
pub mod person;
pub mod request;
pub mod role;
pub mod text;
pub mod time;

pub use authority::{Authority, AuthorityId, AuthorityKind};
pub use codes::UnknownCode;
pub use country::{CountryCode, UnknownCountry};
pub use deadline::{Deadline, DeadlineKind, DeadlinePolicy, deadlines};
pub use error::DomainError;
pub use ids::{CaseId, NodeId, RequestId, UserId};
pub use lifecycle::{
    Action, Actor, Origin, RequestState, Side, TransitionCommand, TransitionError,
    TransitionOutcome, TransitionRecord, UserTransition, available_actions, decide_delivery,
    decide_local, decide_remote,
};
pub use measure::{MeasureKind, MeasureSought};
pub use offence::{Offence, OffenceCategory};
pub use person::{PersonConcerned, PersonRole, Vulnerability};
pub use request::{AttachmentRef, Case, Confidentiality, Request, RequestContent, Urgency};
pub use role::Role;
pub use text::TextError;
pub use time::{DAY_MS, Date, InvalidDate, Timestamp};
