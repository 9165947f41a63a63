//! Typed identifiers: a request id cannot be passed where a case id is expected, and
//! every id that arrives from outside has been checked once, where it was parsed.
//!
//! Ids are opaque text: node-local ids are UUIDs made by the application layer, node
//! ids are chosen by operators. What they may contain is the same for all of them: 1 to
//! 128 characters, no control character, no white space (they appear in paths, logs,
//! envelope headers and conversation ids).

use std::fmt;
use std::str::FromStr;

use crate::DomainError;

/// The longest id accepted, in bytes.
pub const MAX_ID_BYTES: usize = 128;

/// Checks the text of an id, naming `what` in the error.
fn check_id(what: &str, text: &str) -> Result<(), DomainError> {
    let refused = |reason: &str| DomainError::InvalidField {
        field: what.to_string(),
        reason: format!("{text:?} is not a {what}: {reason}"),
    };
    if text.is_empty() {
        return Err(refused("it is empty"));
    }
    if text.len() > MAX_ID_BYTES {
        return Err(refused(&format!("it is longer than {MAX_ID_BYTES} bytes")));
    }
    if text.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return Err(refused("it holds white space or a control character"));
    }
    Ok(())
}

macro_rules! typed_id {
    ($(#[$doc:meta])* $name:ident, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// Checks `text` and makes the id from it.
            pub fn parse(text: &str) -> Result<Self, DomainError> {
                check_id($what, text)?;
                Ok($name(text.to_string()))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The id as owned text.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl From<uuid::Uuid> for $name {
            /// A fresh node-local id: a UUID is always a valid id.
            fn from(uuid: uuid::Uuid) -> Self {
                $name(uuid.to_string())
            }
        }

        impl FromStr for $name {
            type Err = DomainError;

            fn from_str(text: &str) -> Result<Self, Self::Err> {
                $name::parse(text)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str(&self.0)
            }
        }

        // Read-only access to the text (an id is made only by `parse`), so that the
        // store and the wire take `&id` where they take `&str`.
        impl std::ops::Deref for $name {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }
    };
}

typed_id! {
    /// A request: federation-wide (the same on both sides), made by the requesting node.
    RequestId, "request id"
}

typed_id! {
    /// A case: node-local.
    CaseId, "case id"
}

typed_id! {
    /// A user account: node-local.
    UserId, "user id"
}

typed_id! {
    /// A node of the federation, as its operators named it (`es-node`).
    NodeId, "node id"
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn ids_refuse_empty_long_spaced_and_control_text() {
        for refused in ["", " ", "a b", "a\u{0}", "a\nb", "\u{202e}x\u{85}"] {
            assert!(RequestId::parse(refused).is_err(), "{refused:?}");
        }
        assert!(CaseId::parse(&"c".repeat(MAX_ID_BYTES)).is_ok());
        assert!(CaseId::parse(&"c".repeat(MAX_ID_BYTES + 1)).is_err());
        let error = NodeId::parse("es node").expect_err("space refused");
        assert!(error.to_string().contains("node id"), "{error}");
    }

    proptest! {
        #[test]
        fn an_accepted_id_reads_back_as_written(text in "[!-~]{1,128}") {
            let id = UserId::parse(&text).expect("printable ASCII without spaces is an id");
            prop_assert_eq!(id.as_str(), text.as_str());
            prop_assert_eq!(id.to_string(), text.clone());
            prop_assert_eq!(text.parse::<UserId>().expect("parses"), id);
        }
    }
}
