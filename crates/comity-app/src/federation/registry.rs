//! The authority registry as one transaction of incoming messages reads it: which
//! authority is hosted where, read once per authority however many messages of a batch
//! name it. Applying messages never changes the registry, so what was read stays true
//! until the commit.

use std::collections::HashMap;

use comity_domain::AuthorityId;
use comity_store::{AuthorityRecord, Tx};

use crate::AppError;

/// Authorities read in this transaction; `None` for an id the registry does not hold.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    read: HashMap<AuthorityId, Option<AuthorityRecord>>,
}

impl Registry {
    /// The records of those of `ids` the registry holds, reading only ids not read yet.
    pub(crate) async fn among(
        &mut self,
        tx: &mut Tx,
        ids: &[AuthorityId],
    ) -> Result<Vec<AuthorityRecord>, AppError> {
        let unread: Vec<AuthorityId> = ids
            .iter()
            .filter(|id| !self.read.contains_key(*id))
            .cloned()
            .collect();
        if !unread.is_empty() {
            let found = tx.authorities_among(&unread).await?;
            for id in unread {
                self.read.insert(id, None);
            }
            for record in found {
                self.read.insert(record.authority.id.clone(), Some(record));
            }
        }
        Ok(ids
            .iter()
            .filter_map(|id| self.read.get(id).cloned().flatten())
            .collect())
    }

    /// One authority's record, if the registry holds it.
    pub(crate) async fn get(
        &mut self,
        tx: &mut Tx,
        id: &AuthorityId,
    ) -> Result<Option<AuthorityRecord>, AppError> {
        Ok(self.among(tx, std::slice::from_ref(id)).await?.pop())
    }
}
