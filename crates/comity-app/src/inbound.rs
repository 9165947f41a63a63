//! The earlier path of the inbox's types, kept so callers written against it still
//! compile; new code uses [`crate::federation`].

pub use crate::federation::{InboundOutcome, IncomingMessage};
