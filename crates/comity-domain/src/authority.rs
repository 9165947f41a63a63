//! Authorities: the bodies that send, receive and execute requests.

use std::fmt;
use std::str::FromStr;

use crate::coded_enum;
use crate::{CountryCode, DomainError};

coded_enum! {
    /// What kind of body an authority is.
    pub enum AuthorityKind ("authority kind") {
        CentralAuthority = ("central_authority", "central authority"),
        Prosecution = ("prosecution", "prosecution service"),
        Court = ("court", "court"),
        Police = ("police", "police"),
        BorderImmigration = ("border_immigration", "border or immigration authority"),
    }
}

/// A stable identifier of an authority, unique across the federation: lower-case ASCII
/// letters, digits, `-` and `.`, 3 to 64 characters, starting with the country code,
/// e.g. `es-mjusticia-ca`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AuthorityId(String);

impl AuthorityId {
    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for AuthorityId {
    type Err = DomainError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let valid_chars = input
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
        let starts_well = input.chars().next().is_some_and(|c| c.is_ascii_lowercase());
        if (3..=64).contains(&input.len()) && valid_chars && starts_well {
            Ok(AuthorityId(input.to_string()))
        } else {
            Err(DomainError::InvalidField {
                field: "authority_id".to_string(),
                reason: format!(
                    "`{input}` is not an authority id (3-64 characters: a-z, 0-9, '-', '.', starting with a letter)"
                ),
            })
        }
    }
}

impl fmt::Display for AuthorityId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An authority known to this node: its own, or a peer's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authority {
    /// Stable identifier.
    pub id: AuthorityId,
    /// The state it belongs to.
    pub country: CountryCode,
    /// What kind of body it is.
    pub kind: AuthorityKind,
    /// Its official name, in its own language.
    pub name: String,
}
