//! Accounts: administrators manage the users of their own authority (create, edit,
//! disable, reset a password, list and revoke sessions); every user changes their own
//! password. Granting or withdrawing `node_operator` takes a node operator.

use comity_domain::{AuthorityId, Role, UserId};
use comity_store::{SessionRecord, Tx, UserRecord};
use comity_wire::api::UserInput;

use super::password::check_policy;
use crate::{App, AppError, Principal};

/// What an administrator may change about a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserPatch {
    /// A new display name.
    pub display_name: Option<String>,
    /// The new set of role codes.
    pub roles: Option<Vec<String>>,
    /// Enable (true) or disable (false) the account. Disabling ends its sessions.
    pub active: Option<bool>,
}

pub(crate) fn valid_username(username: &str) -> bool {
    (3..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
}

/// Longest display name, in characters (as the API's schema says).
pub const MAX_DISPLAY_NAME_CHARS: usize = comity_wire::schema::MAX_DISPLAY_NAME_CHARS;

/// A display name: no control or direction-changing characters, not blank, bounded.
fn display_name(text: &str) -> Result<String, AppError> {
    let trimmed = text.trim();
    comity_domain::text::check_name(trimmed, MAX_DISPLAY_NAME_CHARS)
        .map_err(|error| AppError::invalid("display_name", error.to_string()))?;
    Ok(trimmed.to_string())
}

fn parse_roles(codes: &[String]) -> Result<Vec<Role>, AppError> {
    let mut roles = Vec::new();
    for (index, code) in codes.iter().enumerate() {
        let role: Role = code.parse().map_err(|error: comity_domain::UnknownCode| {
            AppError::invalid(format!("roles[{index}]"), error.to_string())
        })?;
        if roles.contains(&role) {
            return Err(AppError::invalid(
                format!("roles[{index}]"),
                format!("{} is listed twice", role.code()),
            ));
        }
        roles.push(role);
    }
    if roles.is_empty() {
        return Err(AppError::invalid("roles", "a user needs at least one role"));
    }
    Ok(roles)
}

/// Only a node operator may give or take away the node operator role.
fn check_node_operator_grant(
    principal: &Principal,
    before: &[Role],
    after: &[Role],
) -> Result<(), AppError> {
    let changes = before.contains(&Role::NodeOperator) != after.contains(&Role::NodeOperator);
    if changes && !principal.has(Role::NodeOperator) {
        return Err(AppError::Forbidden(
            "only a node operator may give or take away the node_operator role".into(),
        ));
    }
    Ok(())
}

impl App {
    /// Creates a user in the administrator's own authority.
    pub async fn create_user(
        &self,
        principal: &Principal,
        input: &UserInput,
    ) -> Result<UserRecord, AppError> {
        principal.require_any(&[Role::Administrator], "create users")?;
        if input.authority != principal.authority().as_str() {
            return Err(AppError::Forbidden(format!(
                "administrators create users in their own authority only (`{}`)",
                principal.authority()
            )));
        }
        let roles = parse_roles(&input.roles)?;
        check_node_operator_grant(principal, &[], &roles)?;
        self.insert_user(input).await
    }

    /// Creates a user without a principal: reached through [`crate::Bootstrap`], and by
    /// [`App::create_user`] once it checked the caller.
    pub(crate) async fn insert_user(&self, input: &UserInput) -> Result<UserRecord, AppError> {
        if !valid_username(&input.username) {
            return Err(AppError::invalid(
                "username",
                "3-64 characters: letters, digits, '.', '-', '_'",
            ));
        }
        let display_name = display_name(&input.display_name)?;
        let authority: AuthorityId =
            input
                .authority
                .parse()
                .map_err(|error: comity_domain::DomainError| {
                    AppError::invalid("authority", error.to_string())
                })?;
        let roles = parse_roles(&input.roles)?;
        check_policy(&input.password, &input.username, "password")?;
        let password_hash = self.accounts.hasher.hash(&input.password).await?;
        let mut tx = self.store().begin().await?;
        let hosted_here = tx
            .authority(&authority)
            .await?
            .is_some_and(|record| record.is_local);
        if !hosted_here {
            return Err(AppError::invalid(
                "authority",
                format!("`{authority}` is not an authority hosted on this node"),
            ));
        }
        let user = UserRecord {
            id: self.new_typed_id(),
            username: input.username.clone(),
            display_name,
            authority,
            roles,
            password_hash,
            active: true,
            must_change_password: false,
            created_at: self.now(),
        };
        tx.insert_user(&user).await?;
        tx.commit().await?;
        tracing::info!(user = %user.username, authority = %user.authority, "user created");
        Ok(user)
    }

    /// The users of the administrator's own authority.
    pub async fn list_users(&self, principal: &Principal) -> Result<Vec<UserRecord>, AppError> {
        principal.require_any(&[Role::Administrator], "list users")?;
        let mut tx = self.store().begin().await?;
        Ok(tx.users_of(principal.authority()).await?)
    }

    /// One user of the administrator's own authority.
    pub async fn managed_user(
        &self,
        principal: &Principal,
        user_id: &UserId,
    ) -> Result<UserRecord, AppError> {
        let mut tx = self.store().begin().await?;
        managed(&mut tx, principal, user_id).await
    }

    /// Changes a user's display name, roles or whether the account is active.
    /// Disabling ends the user's sessions; administrators cannot disable themselves or
    /// drop their own administrator role (someone must remain to undo it).
    pub async fn update_user(
        &self,
        principal: &Principal,
        user_id: &UserId,
        patch: &UserPatch,
    ) -> Result<UserRecord, AppError> {
        let mut tx = self.store().begin().await?;
        let mut user = managed(&mut tx, principal, user_id).await?;
        let own = user.id == *principal.user_id();
        if let Some(name) = &patch.display_name {
            user.display_name = display_name(name)?;
        }
        if let Some(codes) = &patch.roles {
            let roles = parse_roles(codes)?;
            check_node_operator_grant(principal, &user.roles, &roles)?;
            if own && !roles.contains(&Role::Administrator) {
                return Err(AppError::invalid(
                    "roles",
                    "you cannot remove your own administrator role",
                ));
            }
            user.roles = roles;
        }
        let disabling = patch.active == Some(false) && user.active;
        if let Some(active) = patch.active {
            if own && !active {
                return Err(AppError::invalid(
                    "active",
                    "you cannot disable your own account",
                ));
            }
            user.active = active;
        }
        tx.update_user(&user).await?;
        if disabling {
            tx.delete_sessions_of(&user.id, None).await?;
        }
        tx.commit().await?;
        tracing::info!(user = %user.username, by = %principal.username(), active = user.active, "user updated");
        Ok(user)
    }

    /// Sets a new password for a user of the administrator's authority, ends their
    /// sessions, and makes them choose their own password at their next log-in.
    pub async fn reset_password(
        &self,
        principal: &Principal,
        user_id: &UserId,
        password: &str,
    ) -> Result<(), AppError> {
        let user = self.managed_user(principal, user_id).await?;
        check_policy(password, &user.username, "password")?;
        let password_hash = self.accounts.hasher.hash(password).await?;
        let mut tx = self.store().begin().await?;
        let mut user = managed(&mut tx, principal, user_id).await?;
        user.password_hash = password_hash;
        user.must_change_password = true;
        tx.update_user(&user).await?;
        tx.delete_sessions_of(&user.id, None).await?;
        tx.commit().await?;
        tracing::info!(user = %user.username, by = %principal.username(), "password reset");
        Ok(())
    }

    /// Changes the caller's own password (the current one is required, and counted by
    /// the log-in throttle when wrong); ends the caller's other sessions.
    pub async fn change_own_password(
        &self,
        principal: &Principal,
        current_password: &str,
        new_password: &str,
    ) -> Result<(), AppError> {
        let username = &principal.username();
        let account = super::account_key(username);
        let now = self.now();
        if let Err(retry) = self.accounts.by_account.check(&account, now) {
            return Err(super::throttled(retry.0));
        }
        check_policy(new_password, username, "new_password")?;
        if new_password == current_password {
            return Err(AppError::invalid(
                "new_password",
                "must differ from the current password",
            ));
        }
        let stored = {
            let mut tx = self.store().begin().await?;
            tx.user(principal.user_id())
                .await?
                .ok_or_else(|| AppError::Unauthenticated("the account is gone".into()))?
        };
        self.accounts.by_account.record_failure(&account, now);
        let matches = self
            .accounts
            .hasher
            .verify(Some(&stored.password_hash), current_password)
            .await?;
        if !matches {
            tracing::warn!(username = ?username, "password change refused: wrong current password");
            return Err(AppError::invalid(
                "current_password",
                "is not your current password",
            ));
        }
        self.accounts.by_account.clear(&account);
        let password_hash = self.accounts.hasher.hash(new_password).await?;
        let mut tx = self.store().begin().await?;
        let mut user = tx
            .user(principal.user_id())
            .await?
            .ok_or_else(|| AppError::Unauthenticated("the account is gone".into()))?;
        user.password_hash = password_hash;
        user.must_change_password = false;
        tx.update_user(&user).await?;
        tx.delete_sessions_of(&user.id, Some(&principal.session_id))
            .await?;
        tx.commit().await?;
        tracing::info!(user = %user.username, "password changed");
        Ok(())
    }

    /// The live sessions of a user: an administrator's for a user of their authority,
    /// anyone's for themselves.
    pub async fn user_sessions(
        &self,
        principal: &Principal,
        user_id: &UserId,
    ) -> Result<Vec<SessionRecord>, AppError> {
        let now = self.now();
        let mut tx = self.store().begin().await?;
        if principal.user_id() != user_id {
            managed(&mut tx, principal, user_id).await?;
        }
        Ok(tx.sessions_of(user_id, now, self.idle_since(now)).await?)
    }

    /// Ends one session of a user (rules as [`App::user_sessions`]).
    pub async fn revoke_session(
        &self,
        principal: &Principal,
        user_id: &UserId,
        session_id: &str,
    ) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        if principal.user_id() != user_id {
            managed(&mut tx, principal, user_id).await?;
        }
        if !tx.delete_session_of(user_id, session_id).await? {
            return Err(AppError::NotFound(format!("session {session_id}")));
        }
        tx.commit().await?;
        Ok(())
    }

    /// Ends every session of a user (rules as [`App::user_sessions`]); returns how many.
    pub async fn revoke_sessions(
        &self,
        principal: &Principal,
        user_id: &UserId,
    ) -> Result<u64, AppError> {
        let mut tx = self.store().begin().await?;
        if principal.user_id() != user_id {
            managed(&mut tx, principal, user_id).await?;
        }
        let ended = tx.delete_sessions_of(user_id, None).await?;
        tx.commit().await?;
        Ok(ended)
    }
}

/// The user `user_id` if the principal administers their authority. A user of another
/// authority is "not found", as if it did not exist.
async fn managed(
    tx: &mut Tx,
    principal: &Principal,
    user_id: &UserId,
) -> Result<UserRecord, AppError> {
    principal.require_any(&[Role::Administrator], "manage users")?;
    tx.user(user_id)
        .await?
        .filter(|user| &user.authority == principal.authority())
        .ok_or_else(|| AppError::NotFound(format!("user {user_id}")))
}
