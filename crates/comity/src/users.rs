//! `comity user ...`: account administration on a running node, over its API, as the
//! administrator whose token is given (`COMITY_TOKEN`). Passwords never come from the
//! command line: from `COMITY_NEW_PASSWORD`, or from the first line of standard input
//! with `--password-stdin`.

use std::io::BufRead;

use clap::Subcommand;
use serde_json::{Value, json};

use crate::client::Client;

/// The environment variable a new password is read from.
pub const NEW_PASSWORD_VARIABLE: &str = "COMITY_NEW_PASSWORD";

/// Account commands. A user is named by user name or id.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user in your authority (password from COMITY_NEW_PASSWORD or stdin).
    Add {
        /// The login name.
        #[arg(long)]
        username: String,
        /// The full name.
        #[arg(long)]
        display_name: String,
        /// A role code (repeatable), e.g. `requesting_prosecutor`.
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the users of your authority.
    List,
    /// Change a user's display name or roles.
    Edit {
        /// User name or id.
        user: String,
        /// A new full name.
        #[arg(long)]
        display_name: Option<String>,
        /// The complete new set of roles (repeatable).
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Disable an account: it can no longer log in, and its sessions end.
    Disable {
        /// User name or id.
        user: String,
    },
    /// Enable a disabled account again.
    Enable {
        /// User name or id.
        user: String,
    },
    /// Set a temporary password (COMITY_NEW_PASSWORD or stdin); the user must change it
    /// at their next log-in, and their sessions end.
    ResetPassword {
        /// User name or id.
        user: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List a user's open sessions.
    Sessions {
        /// User name or id.
        user: String,
    },
    /// End a user's sessions: one with `--session`, else all.
    Revoke {
        /// User name or id.
        user: String,
        /// The session id (from `comity user sessions`).
        #[arg(long)]
        session: Option<String>,
    },
}

/// Runs one account command and prints the node's answer.
pub async fn run(client: &Client, command: UserCommand) -> anyhow::Result<Value> {
    match command {
        UserCommand::Add {
            username,
            display_name,
            roles,
            password_stdin,
        } => {
            let password = new_password(password_stdin)?;
            let me = client.get("/api/v1/me").await?;
            let authority = me["authority"].as_str().unwrap_or_default();
            client
                .post(
                    "/api/v1/users",
                    &json!({"username": username, "display_name": display_name,
                            "authority": authority, "roles": roles, "password": password}),
                )
                .await
        }
        UserCommand::List => client.get("/api/v1/users").await,
        UserCommand::Edit {
            user,
            display_name,
            roles,
        } => {
            let id = user_id(client, &user).await?;
            let mut patch = serde_json::Map::new();
            if let Some(name) = display_name {
                patch.insert("display_name".into(), Value::from(name));
            }
            if !roles.is_empty() {
                patch.insert("roles".into(), Value::from(roles));
            }
            anyhow::ensure!(!patch.is_empty(), "give --display-name or --role to change");
            client
                .send(
                    reqwest::Method::PATCH,
                    &format!("/api/v1/users/{id}"),
                    Some(&Value::Object(patch)),
                )
                .await
        }
        UserCommand::Disable { user } => set_active(client, &user, false).await,
        UserCommand::Enable { user } => set_active(client, &user, true).await,
        UserCommand::ResetPassword {
            user,
            password_stdin,
        } => {
            let password = new_password(password_stdin)?;
            let id = user_id(client, &user).await?;
            client
                .post(
                    &format!("/api/v1/users/{id}/password-reset"),
                    &json!({"password": password}),
                )
                .await?;
            Ok(json!({"reset": user, "must_change_password": true}))
        }
        UserCommand::Sessions { user } => {
            let id = user_id(client, &user).await?;
            client.get(&format!("/api/v1/users/{id}/sessions")).await
        }
        UserCommand::Revoke { user, session } => {
            let id = user_id(client, &user).await?;
            match session {
                Some(session) => {
                    client
                        .send(
                            reqwest::Method::DELETE,
                            &format!("/api/v1/users/{id}/sessions/{session}"),
                            None,
                        )
                        .await?;
                    Ok(json!({"revoked": 1}))
                }
                None => {
                    client
                        .send(
                            reqwest::Method::DELETE,
                            &format!("/api/v1/users/{id}/sessions"),
                            None,
                        )
                        .await
                }
            }
        }
    }
}

async fn set_active(client: &Client, user: &str, active: bool) -> anyhow::Result<Value> {
    let id = user_id(client, user).await?;
    client
        .send(
            reqwest::Method::PATCH,
            &format!("/api/v1/users/{id}"),
            Some(&json!({"active": active})),
        )
        .await
}

/// The id of the user named `user` (a user name or an id) in the caller's authority.
async fn user_id(client: &Client, user: &str) -> anyhow::Result<String> {
    let users = client.get("/api/v1/users").await?;
    users
        .as_array()
        .into_iter()
        .flatten()
        .find(|candidate| candidate["username"] == user || candidate["id"] == user)
        .and_then(|candidate| candidate["id"].as_str())
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("no user `{user}` in your authority"))
}

/// The new password: from `COMITY_NEW_PASSWORD`, else (with `--password-stdin`) the
/// first line of standard input, without its line ending.
fn new_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|error| anyhow::anyhow!("cannot read the password from stdin: {error}"))?;
        let password = line.trim_end_matches(['\n', '\r']).to_string();
        anyhow::ensure!(!password.is_empty(), "no password on standard input");
        return Ok(password);
    }
    std::env::var(NEW_PASSWORD_VARIABLE).map_err(|_| {
        anyhow::anyhow!(
            "give the password in {NEW_PASSWORD_VARIABLE} or on standard input with --password-stdin"
        )
    })
}
