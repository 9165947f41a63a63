//! [`Bootstrap`]: the few writes made with no logged-in caller (`comity init`, the demo,
//! the trust list loader, test and bench set-up). Every other use case takes a
//! [`crate::Principal`]; going through [`App::bootstrap`] makes the exception visible
//! where it is used.

use comity_domain::Authority;
use comity_store::UserRecord;
use comity_wire::api::UserInput;

use crate::{App, AppError};

/// Writes that need no principal. Obtained from [`App::bootstrap`].
#[derive(Debug, Clone, Copy)]
pub struct Bootstrap<'a> {
    app: &'a App,
}

impl App {
    /// The principal-free writes, for set-up code only (see [`Bootstrap`]).
    pub fn bootstrap(&self) -> Bootstrap<'_> {
        Bootstrap { app: self }
    }
}

impl Bootstrap<'_> {
    /// Creates a user (the first administrator at `init`, the demo's users), checking the
    /// input as [`App::create_user`] does but not who asks.
    pub async fn insert_user(&self, input: &UserInput) -> Result<UserRecord, AppError> {
        self.app.insert_user(input).await
    }

    /// Adds or updates an authority hosted on `node_id` (this node's own at `init`, the
    /// peers' from the trust list).
    pub async fn register_authority(
        &self,
        authority: Authority,
        node_id: &str,
    ) -> Result<(), AppError> {
        self.app.register_authority(authority, node_id).await
    }
}
