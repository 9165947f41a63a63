//! Command-line arguments and the dispatch to each command.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::client::{ApiFailure, Client};

/// Comity: mutual legal assistance between authorities, node to node.
#[derive(Debug, Parser)]
#[command(name = "comity", version, about, long_about = None)]
pub struct Cli {
    /// Log as JSON lines (for log collectors) instead of text.
    #[arg(long, global = true)]
    pub log_json: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a node's data directory: configuration, keys, database, first administrator.
    Init(Box<crate::local::InitArgs>),
    /// Run a node from its data directory.
    Serve {
        /// The data directory made by `comity init`.
        #[arg(long, env = "COMITY_DATA_DIR")]
        data_dir: PathBuf,
        /// Listen on this address instead of the configured one.
        #[arg(long)]
        listen: Option<std::net::SocketAddr>,
    },
    /// Start three nodes on loopback, play a cross-border case, and keep them running.
    Demo(crate::demo::DemoArgs),
    /// The legal-basis engine, offline.
    Law {
        #[command(subcommand)]
        command: LawCommand,
    },
    /// Measure performance.
    Bench {
        #[command(subcommand)]
        command: BenchCommand,
    },
    /// This node's identity, and its peers.
    Node {
        #[command(subcommand)]
        command: NodeCommand,
    },
    /// The trust list of a running node (node operators): list, add, update, remove,
    /// and the keys peers announced that wait for confirmation.
    Peer {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: crate::peers::PeerCommand,
    },
    /// Log in to a running node and print a bearer token (password from COMITY_PASSWORD).
    Login {
        #[command(flatten)]
        connection: Connection,
        /// The user name.
        #[arg(long)]
        username: String,
        /// The 6-digit code from the authenticator app, for an account with a second factor.
        #[arg(long, env = "COMITY_TOTP_CODE")]
        totp_code: Option<String>,
        /// A one-time recovery code, instead of `--totp-code`.
        #[arg(long, env = "COMITY_RECOVERY_CODE", hide_env_values = true)]
        recovery_code: Option<String>,
    },
    /// The second factor (TOTP) on a running node: status, enrol, confirm, reset.
    Mfa {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: crate::second_factor::MfaCommand,
    },
    /// Cases on a running node.
    Case {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: CaseCommand,
    },
    /// Accounts of your authority on a running node (administrators).
    User {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: crate::users::UserCommand,
    },
    /// Requests on a running node.
    Request {
        #[command(flatten)]
        connection: Connection,
        #[command(subcommand)]
        command: RequestCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum LawCommand {
    /// Assess request content (JSON or TOML, with both countries given) against the
    /// embedded catalog: instruments, channel, languages, content, dual criminality,
    /// grounds for refusal and deadlines, each with its citation.
    Assess {
        /// The request file.
        file: PathBuf,
        /// The date to apply the law at (YYYY-MM-DD); default today.
        #[arg(long)]
        date: Option<String>,
        /// Print the full assessment as JSON.
        #[arg(long)]
        json: bool,
        /// A ground of a proposed refusal (`untoc art. 18(21)(b)` or `untoc:essential_interests`),
        /// repeatable: says whether the prevailing instrument allows each, whether the
        /// requesting side must be consulted first and whether reasons must be given.
        #[arg(long = "refuse", value_name = "GROUND")]
        refuse: Vec<String>,
    },
    /// The states bound by an instrument of the embedded catalog: each with its date of
    /// entry into force, last day where it stopped, reservations, and the list's source.
    Parties {
        /// The instrument id, e.g. `untoc`, `budapest`, `ecmacm_1959`.
        instrument: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Durable signed and encrypted messages between two nodes on loopback.
    Exchange(crate::bench::ExchangeArgs),
    /// `/healthz` latency while many concurrent wrong log-ins are refused.
    LoginFlood(crate::bench_login::LoginFloodArgs),
}

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Print this node's public identity as a trust-list entry for a peer's administrator.
    Show {
        /// The data directory.
        #[arg(long, env = "COMITY_DATA_DIR")]
        data_dir: PathBuf,
    },
    /// Copy a node, running or not, into a new owner-only folder: a consistent copy of
    /// its SQLite database, its configuration, trust list, keys and certificate.
    Backup {
        /// The data directory.
        #[arg(long, env = "COMITY_DATA_DIR")]
        data_dir: PathBuf,
        /// The folder to create for the copy.
        #[arg(long)]
        output: PathBuf,
    },
    /// Rotate a running node's keys and announce the new ones to its peers. Give the
    /// new fingerprint (printed) to each peer's operator out of band: they confirm it
    /// with `comity peer accept`.
    RotateKeys {
        #[command(flatten)]
        connection: Connection,
        /// After the node's key leaked: the recovery key file `comity init` wrote. The
        /// announcement is countersigned with it and peers trust the new key at once.
        #[arg(long)]
        recovery_key: Option<PathBuf>,
    },
    /// Send the last key announcement again to peers that missed it.
    AnnounceKeys {
        #[command(flatten)]
        connection: Connection,
    },
    /// Put a backup's database in place of a stopped node's: when the node next starts it
    /// resynchronises every conversation with its peers and reports what was replayed.
    Restore {
        /// The data directory of the stopped node.
        #[arg(long, env = "COMITY_DATA_DIR")]
        data_dir: PathBuf,
        /// The backup: a folder made by `comity node backup`, or its `comity.db`.
        file: PathBuf,
    },
    /// Resynchronise a running node's conversations with one peer, or with all (node
    /// operators): each side states what it has applied, the node catches up or reports
    /// the conflicts.
    Resync {
        #[command(flatten)]
        connection: Connection,
        /// Only this peer (its node id).
        #[arg(long)]
        peer: Option<String>,
    },
}

/// Where the node is and who is calling.
#[derive(Debug, clap::Args)]
pub struct Connection {
    /// The node's base URL.
    #[arg(
        long,
        env = "COMITY_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    pub url: String,
    /// A bearer token from `comity login`.
    #[arg(
        long,
        env = "COMITY_TOKEN",
        hide_env_values = true,
        global = true,
        allow_hyphen_values = true
    )]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Open a case.
    Create {
        /// The authority's reference.
        #[arg(long)]
        reference: String,
        /// A short title.
        #[arg(long)]
        title: String,
    },
    /// List your authority's cases.
    List,
}

#[derive(Debug, Subcommand)]
pub enum RequestCommand {
    /// Draft a request from a JSON or TOML file (the request content).
    Create {
        /// The case to file it in.
        #[arg(long)]
        case: String,
        /// The file (.json or .toml).
        file: PathBuf,
    },
    /// List requests.
    List {
        /// Only overdue requests.
        #[arg(long)]
        overdue: bool,
        /// Only this state.
        #[arg(long)]
        state: Option<String>,
    },
    /// Show one request with its history.
    Show {
        /// The request id.
        id: String,
    },
    /// Write the letter of request (HTML or PDF) to a file.
    Letter {
        /// The request id.
        id: String,
        /// `en`, `fr`, `es` or `ar` (default: the requested state's first accepted one).
        #[arg(long)]
        lang: Option<String>,
        /// `html` or `pdf`.
        #[arg(long, default_value = "html")]
        format: String,
        /// Where to write it.
        #[arg(long)]
        output: PathBuf,
    },
    /// Take a lifecycle action, e.g. `approve`.
    Transition {
        /// The request id.
        id: String,
        /// The action code.
        action: String,
        /// Why.
        #[arg(long)]
        reason: Option<String>,
        /// A ground cited (repeatable), e.g. "UNTOC art. 18(21)(b)".
        #[arg(long = "ground")]
        grounds: Vec<String>,
    },
}

/// Runs the command.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Init(args) => crate::local::init(*args).await,
        Command::Serve { data_dir, listen } => crate::local::serve(&data_dir, listen).await,
        Command::Demo(args) => crate::demo::run(args).await,
        Command::Law {
            command:
                LawCommand::Assess {
                    file,
                    date,
                    json,
                    refuse,
                },
        } => crate::local::law_assess(&file, date.as_deref(), json, &refuse),
        Command::Law {
            command: LawCommand::Parties { instrument },
        } => crate::local::law_parties(&instrument),
        Command::Bench {
            command: BenchCommand::Exchange(args),
        } => crate::bench::exchange(args).await,
        Command::Bench {
            command: BenchCommand::LoginFlood(args),
        } => crate::bench_login::login_flood(args).await,
        Command::Node {
            command: NodeCommand::Show { data_dir },
        } => crate::local::node_show(&data_dir).await,
        Command::Node {
            command: NodeCommand::Backup { data_dir, output },
        } => crate::local::backup(&data_dir, &output).await,
        Command::Node {
            command: NodeCommand::Restore { data_dir, file },
        } => crate::local::restore(&data_dir, &file).await,
        Command::Node {
            command: NodeCommand::Resync { connection, peer },
        } => {
            let client = Client::new(&connection.url, connection.token);
            let reply = client
                .post(
                    "/api/v1/federation/resync",
                    &serde_json::json!({"peer": peer}),
                )
                .await?;
            print_json(&reply)
        }
        Command::Node {
            command:
                NodeCommand::RotateKeys {
                    connection,
                    recovery_key,
                },
        } => {
            let client = Client::new(&connection.url, connection.token);
            print_json(&crate::peers::rotate_keys(&client, recovery_key.as_deref()).await?)
        }
        Command::Node {
            command: NodeCommand::AnnounceKeys { connection },
        } => {
            let client = Client::new(&connection.url, connection.token);
            print_json(
                &client
                    .post("/api/v1/node/keys/announce", &serde_json::json!({}))
                    .await?,
            )
        }
        Command::Peer {
            command:
                crate::peers::PeerCommand::Add {
                    data_dir: Some(data_dir),
                    file,
                    move_authorities,
                },
            ..
        } => crate::local::peer_add(&data_dir, &file, move_authorities).await,
        Command::Peer {
            command:
                crate::peers::PeerCommand::List {
                    data_dir: Some(data_dir),
                },
            ..
        } => crate::local::peer_list(&data_dir),
        Command::Peer {
            connection,
            command,
        } => {
            let client = Client::new(&connection.url, connection.token);
            print_json(&crate::peers::run(&client, command).await?)
        }
        Command::Login {
            connection,
            username,
            totp_code,
            recovery_code,
        } => {
            let password = std::env::var("COMITY_PASSWORD")
                .map_err(|_| anyhow::anyhow!("set COMITY_PASSWORD to the password"))?;
            let client = Client::new(&connection.url, None);
            let session = client
                .post(
                    "/api/v1/sessions",
                    &serde_json::json!({"username": username, "password": password,
                        "totp_code": totp_code, "recovery_code": recovery_code}),
                )
                .await?;
            println!("{}", session["token"].as_str().unwrap_or_default());
            Ok(())
        }
        Command::Mfa {
            connection,
            command,
        } => crate::second_factor::run(&connection, command).await,
        Command::User {
            connection,
            command,
        } => {
            let client = Client::new(&connection.url, connection.token);
            let reply = crate::users::run(&client, command).await?;
            print_json(&reply)
        }
        Command::Case {
            connection,
            command,
        } => {
            let client = Client::new(&connection.url, connection.token);
            let reply = match command {
                CaseCommand::Create { reference, title } => {
                    client
                        .post(
                            "/api/v1/cases",
                            &serde_json::json!({"reference": reference, "title": title}),
                        )
                        .await?
                }
                CaseCommand::List => client.get("/api/v1/cases").await?,
            };
            print_json(&reply)
        }
        Command::Request {
            connection,
            command,
        } => {
            let client = Client::new(&connection.url, connection.token);
            let reply = match command {
                RequestCommand::Create { case, file } => {
                    let content = crate::local::read_request_file(&file)?;
                    client
                        .post(&format!("/api/v1/cases/{case}/requests"), &content)
                        .await?
                }
                RequestCommand::List { overdue, state } => {
                    let mut path = format!("/api/v1/requests?overdue={overdue}");
                    if let Some(state) = state {
                        path.push_str(&format!("&state={state}"));
                    }
                    client.get(&path).await?
                }
                RequestCommand::Show { id } => client.get(&format!("/api/v1/requests/{id}")).await?,
                RequestCommand::Letter {
                    id,
                    lang,
                    format,
                    output,
                } => {
                    let mut path = format!("/api/v1/requests/{id}/letter?format={format}");
                    if let Some(lang) = lang {
                        path.push_str(&format!("&lang={lang}"));
                    }
                    let bytes = client.get_bytes(&path).await?;
                    std::fs::write(&output, &bytes).map_err(|error| {
                        anyhow::anyhow!("cannot write {}: {error}", output.display())
                    })?;
                    println!("wrote {} ({} bytes)", output.display(), bytes.len());
                    return Ok(());
                }
                RequestCommand::Transition {
                    id,
                    action,
                    reason,
                    grounds,
                } => {
                    client
                        .post(
                            &format!("/api/v1/requests/{id}/transitions"),
                            &serde_json::json!({"action": action, "reason": reason, "grounds": grounds}),
                        )
                        .await?
                }
            };
            print_json(&reply)
        }
    }
}

fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// 2 for an error the node reported (bad input, refused), 1 for anything else.
pub fn exit_code(error: &anyhow::Error) -> u8 {
    if error.downcast_ref::<ApiFailure>().is_some() {
        2
    } else {
        1
    }
}
