//! `comity mfa`: the second factor (TOTP) over the node's API, for the caller
//! (`status`, `enrol`, `confirm`) and for administrators (`reset`).

use clap::Subcommand;

use crate::cli::Connection;
use crate::client::Client;

#[derive(Debug, Subcommand)]
pub enum MfaCommand {
    /// Whether your role requires a second factor, whether one is set up, and how many
    /// recovery codes are left.
    Status,
    /// Start setting up an authenticator app: prints the secret as an otpauth:// URI and
    /// as base32 text. It takes effect after `confirm`.
    Enrol,
    /// Confirm the enrolment with the code the app shows now; prints the recovery codes
    /// (shown this once).
    Confirm {
        /// The 6-digit code.
        #[arg(long)]
        code: String,
    },
    /// Reset a user's second factor (administrators): the user sets up a new one at the
    /// next log-in, and their sessions end.
    Reset {
        /// The user's log-in name.
        #[arg(long)]
        username: String,
    },
}

/// Runs one `comity mfa` command.
pub async fn run(connection: &Connection, command: MfaCommand) -> anyhow::Result<()> {
    let client = Client::new(&connection.url, connection.token.clone());
    match command {
        MfaCommand::Status => {
            let status = client.get("/api/v1/me/second-factor").await?;
            println!(
                "required: {}\nenrolled: {}\npending: {}\nrecovery codes left: {}",
                status["required"],
                status["enrolled"],
                status["pending"],
                status["recovery_codes_left"]
            );
        }
        MfaCommand::Enrol => {
            let enrolment = client
                .post("/api/v1/me/second-factor", &serde_json::json!({}))
                .await?;
            println!(
                "Add this to your authenticator app, then run `comity mfa confirm --code <6 digits>`.\nuri: {}\nsecret: {}",
                enrolment["otpauth_uri"].as_str().unwrap_or_default(),
                enrolment["secret"].as_str().unwrap_or_default()
            );
        }
        MfaCommand::Confirm { code } => {
            let reply = client
                .post(
                    "/api/v1/me/second-factor/confirm",
                    &serde_json::json!({ "code": code }),
                )
                .await?;
            println!("Second factor set up. Recovery codes (each works once; keep them safe):");
            for code in reply["recovery_codes"].as_array().into_iter().flatten() {
                println!("{}", code.as_str().unwrap_or_default());
            }
        }
        MfaCommand::Reset { username } => {
            client
                .delete(&format!(
                    "/api/v1/users/{}/second-factor",
                    path_segment(&username)
                ))
                .await?;
            println!(
                "The second factor of {username} was reset; they set up a new one at their next log-in."
            );
        }
    }
    Ok(())
}

/// Percent-encodes a path segment.
fn path_segment(value: &str) -> String {
    let mut encoded = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}
