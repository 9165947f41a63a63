//! Commands that work on a data directory on this machine: init, serve, node and peer.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use comity_app::{App, SystemClock};
use comity_domain::{Authority, AuthorityKind};
use comity_node::config::CONFIG_FILE;
use comity_node::identity::{self, PeerEntry, TrustList};
use comity_node::{Node, NodeConfig};
use comity_store::Store;
use comity_wire::api::UserInput;
/// The options of `comity init`: where the node lives and what `comity.toml` says.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// The data directory to create (must not hold a node yet).
    #[arg(long)]
    pub data_dir: PathBuf,
    /// This node's id in the federation, e.g. `es-mjusticia`.
    #[arg(long)]
    pub node_id: String,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// The URL peers and browsers will use (default: http:// + listen).
    #[arg(long)]
    pub public_url: Option<String>,
    /// The authority this node hosts: id, e.g. `es-mjusticia-ca`.
    #[arg(long)]
    pub authority_id: String,
    /// Its state (ISO 3166-1 alpha-2).
    #[arg(long)]
    pub authority_country: String,
    /// Its kind: central_authority, prosecution, court, police, border_immigration.
    #[arg(long, default_value = "central_authority")]
    pub authority_kind: String,
    /// Its official name.
    #[arg(long)]
    pub authority_name: String,
    /// The first administrator's user name.
    #[arg(long, default_value = "admin")]
    pub admin_username: String,
    /// Read the administrator's password from this file (else COMITY_ADMIN_PASSWORD).
    #[arg(long)]
    pub admin_password_file: Option<PathBuf>,
    /// Database URL (default: SQLite in the data directory).
    #[arg(long)]
    pub database_url: Option<String>,
    /// Serve plain HTTP (behind a TLS-terminating proxy) instead of HTTPS with a
    /// self-signed certificate made now.
    #[arg(long, conflicts_with_all = ["tls_cert", "tls_key"])]
    pub no_tls: bool,
    /// Serve HTTPS with this certificate chain (PEM) instead of a self-signed one made
    /// now; with `--tls-key`.
    #[arg(long, requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) of `--tls-cert`.
    #[arg(long, requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Where to write the recovery key's secret half, once, owner-only (default
    /// `keys/recovery.key` in the data directory). Take it offline: it is needed only
    /// to recover after the node's key leaked (`comity node rotate-keys --recovery-key`).
    #[arg(long)]
    pub recovery_key_file: Option<PathBuf>,
    /// Allow plain HTTP to peers on loopback addresses (tests and demos only).
    #[arg(long)]
    pub allow_plain_http_loopback: bool,
    /// Largest request body accepted, in bytes (default 1 MiB).
    #[arg(long)]
    pub max_body_bytes: Option<usize>,
    /// Connections served at once (default 512).
    #[arg(long)]
    pub max_connections: Option<usize>,
    /// Minutes after which an unused log-in session ends (default 30).
    #[arg(long)]
    pub session_idle_minutes: Option<u32>,
    /// Seconds after which an undelivered message becomes a dead letter (default 86400).
    #[arg(long)]
    pub dead_letter_after_secs: Option<u64>,
    /// Role codes that must use a second factor, comma-separated; empty for none
    /// (default: central_authority_officer,supervisor).
    #[arg(long, value_delimiter = ',')]
    pub second_factor_roles: Option<Vec<String>>,
}

/// `comity init`.
pub async fn init(args: InitArgs) -> anyhow::Result<()> {
    let config_path = args.data_dir.join(CONFIG_FILE);
    if config_path.exists() {
        bail!(
            "{} already holds a node (found {CONFIG_FILE})",
            args.data_dir.display()
        );
    }
    let password = match &args.admin_password_file {
        Some(file) => std::fs::read_to_string(file)
            .with_context(|| format!("cannot read {}", file.display()))?
            .trim_end_matches(['\r', '\n'])
            .to_string(),
        None => std::env::var("COMITY_ADMIN_PASSWORD").map_err(|_| {
            anyhow::anyhow!("give the administrator's password in COMITY_ADMIN_PASSWORD or --admin-password-file")
        })?,
    };
    let authority = Authority {
        id: args.authority_id.parse().context("--authority-id")?,
        country: args
            .authority_country
            .parse()
            .context("--authority-country")?,
        kind: args
            .authority_kind
            .parse::<AuthorityKind>()
            .context("--authority-kind")?,
        name: args.authority_name.clone(),
    };
    if args.node_id.trim().is_empty() || args.node_id.len() > 64 {
        bail!("--node-id: 1-64 characters");
    }
    // The whole configuration is checked before anything is written.
    let toml_text = config_text(&args)?;
    create_private_dir(&args.data_dir)?;
    let mut config = NodeConfig::new(&args.node_id);
    config.listen = args.listen;
    config.public_url = args.public_url.clone();
    config.database_url = args.database_url.clone();
    config.data_dir = Some(args.data_dir.clone());
    let keys = identity::load_or_create_keys(&args.data_dir)?;
    let recovery_path = args
        .recovery_key_file
        .clone()
        .unwrap_or_else(|| args.data_dir.join(RECOVERY_KEY_FILE));
    let recovery = identity::create_recovery_key(&args.data_dir, &recovery_path)?;
    let database_url = config.database_url().context("no database")?;
    let store = Store::open(&database_url).await?;
    let app = App::new(store, args.node_id.clone(), Arc::new(SystemClock))?;
    app.bootstrap()
        .register_authority(authority.clone(), &args.node_id)
        .await?;
    app.bootstrap()
        .insert_user(&UserInput {
            username: args.admin_username.clone(),
            display_name: "Administrator".into(),
            authority: authority.id.to_string(),
            roles: vec!["administrator".into(), "node_operator".into()],
            password,
        })
        .await?;
    if args.tls_cert.is_none() && !args.no_tls {
        let mut hosts = vec!["localhost".to_string(), args.listen.ip().to_string()];
        if let Some(host) = args
            .public_url
            .as_deref()
            .and_then(|url| url.split("://").nth(1))
            .and_then(|rest| rest.split(['/', ':']).next())
            .filter(|host| !host.is_empty())
        {
            hosts.push(host.to_string());
        }
        hosts.sort();
        hosts.dedup();
        comity_node::tls::generate_certificate(&args.data_dir, &hosts)?;
    }
    std::fs::write(&config_path, toml_text)
        .with_context(|| format!("cannot write {}", config_path.display()))?;
    println!(
        "initialised node {} in {} (key id {}, fingerprint {}); start it with: comity serve --data-dir {}",
        args.node_id,
        args.data_dir.display(),
        keys.key_id(),
        identity::key_fingerprint(&keys.public_identity()),
        args.data_dir.display()
    );
    println!(
        "recovery key {} written to {}: take this file OFFLINE now (it is needed only to recover after the node's key leaked: comity node rotate-keys --recovery-key FILE) and delete it here",
        recovery.key_id(),
        recovery_path.display()
    );
    Ok(())
}

/// Where `init` writes the recovery key's secret half unless told otherwise.
const RECOVERY_KEY_FILE: &str = "keys/recovery.key";

/// The `comity.toml` that `init`'s flags describe, checked by reading it back as the
/// node will.
fn config_text(args: &InitArgs) -> anyhow::Result<String> {
    use toml::{Table, Value};
    let mut root = Table::new();
    root.insert("node_id".into(), Value::String(args.node_id.clone()));
    root.insert("listen".into(), Value::String(args.listen.to_string()));
    if let Some(url) = &args.public_url {
        root.insert("public_url".into(), Value::String(url.clone()));
    }
    if let Some(url) = &args.database_url {
        root.insert("database_url".into(), Value::String(url.clone()));
    }
    if let Some(bytes) = args.max_body_bytes {
        root.insert(
            "max_body_bytes".into(),
            Value::Integer(to_toml_int(bytes as u64, "--max-body-bytes")?),
        );
    }
    let path_text = |path: &Path| -> anyhow::Result<String> {
        path.to_str()
            .map(str::to_string)
            .with_context(|| format!("{} is not UTF-8", path.display()))
    };
    if !args.no_tls {
        let (cert, key) = match (&args.tls_cert, &args.tls_key) {
            (Some(cert), Some(key)) => (path_text(cert)?, path_text(key)?),
            _ => (
                comity_node::tls::CERT_FILE.to_string(),
                comity_node::tls::KEY_FILE.to_string(),
            ),
        };
        let mut tls = Table::new();
        tls.insert("cert_path".into(), Value::String(cert));
        tls.insert("key_path".into(), Value::String(key));
        root.insert("tls".into(), Value::Table(tls));
    }
    if args.allow_plain_http_loopback {
        let mut federation = Table::new();
        federation.insert("allow_plain_http_loopback".into(), Value::Boolean(true));
        root.insert("federation".into(), Value::Table(federation));
    }
    if let Some(connections) = args.max_connections {
        let mut server = Table::new();
        server.insert(
            "max_connections".into(),
            Value::Integer(to_toml_int(connections as u64, "--max-connections")?),
        );
        root.insert("server".into(), Value::Table(server));
    }
    if let Some(minutes) = args.session_idle_minutes {
        if minutes == 0 {
            bail!("--session-idle-minutes: at least 1");
        }
        let mut sessions = Table::new();
        sessions.insert(
            "idle_timeout_minutes".into(),
            Value::Integer(minutes.into()),
        );
        root.insert("sessions".into(), Value::Table(sessions));
    }
    if let Some(seconds) = args.dead_letter_after_secs {
        let mut outbox = Table::new();
        outbox.insert(
            "dead_letter_after_secs".into(),
            Value::Integer(to_toml_int(seconds, "--dead-letter-after-secs")?),
        );
        root.insert("outbox".into(), Value::Table(outbox));
    }
    if let Some(roles) = &args.second_factor_roles {
        let roles: Vec<String> = roles
            .iter()
            .map(|role| role.trim().to_string())
            .filter(|role| !role.is_empty())
            .collect();
        for role in &roles {
            role.parse::<comity_domain::Role>()
                .map_err(|error| anyhow::anyhow!("--second-factor-roles: {error}"))?;
        }
        let mut second_factor = Table::new();
        second_factor.insert(
            "required_roles".into(),
            Value::Array(roles.into_iter().map(Value::String).collect()),
        );
        root.insert("second_factor".into(), Value::Table(second_factor));
    }
    let text = format!(
        "# Comity node configuration (see NodeConfig in comity-node for every field).\n{}",
        toml::to_string_pretty(&root)?
    );
    toml::from_str::<NodeConfig>(&text).context("the configuration made from the flags")?;
    Ok(text)
}

fn to_toml_int(value: u64, flag: &str) -> anyhow::Result<i64> {
    i64::try_from(value).map_err(|_| anyhow::anyhow!("{flag}: too large"))
}

/// Creates the data directory owner-only; an existing one is made owner-only too.
fn create_private_dir(path: &Path) -> anyhow::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o700))
            .with_context(|| format!("cannot make {} owner-only", path.display()))?;
    }
    Ok(())
}

/// What must be readable by the node's owner only: the data directory, the database
/// with its WAL files, and the private keys.
const PRIVATE_PATHS: &[&str] = &[
    "",
    "comity.db",
    "comity.db-wal",
    "comity.db-shm",
    "keys",
    "keys/node.key",
    "tls/key.pem",
];

/// Refuses a data directory whose private files other users could read.
fn check_private_files(data_dir: &Path) -> anyhow::Result<()> {
    #[cfg(unix)]
    for relative in PRIVATE_PATHS {
        use std::os::unix::fs::PermissionsExt;
        let path = data_dir.join(relative);
        let Ok(metadata) = std::fs::metadata(&path) else {
            continue;
        };
        let mode = metadata.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            bail!(
                "{} is open to other users (mode {mode:o}); make it owner-only (chmod {} {}) and start again",
                path.display(),
                if metadata.is_dir() { "700" } else { "600" },
                path.display()
            );
        }
    }
    Ok(())
}

/// `comity serve`.
pub async fn serve(data_dir: &Path, listen: Option<SocketAddr>) -> anyhow::Result<()> {
    check_private_files(data_dir)?;
    let mut config = NodeConfig::load(data_dir)?;
    if let Some(listen) = listen {
        config.listen = listen;
    }
    // Listening for the signals before saying the node is up: a service manager (or a
    // test) that stops the node as soon as it reads that line must not kill it mid-start.
    let shutdown = ShutdownSignal::install()?;
    let node = Node::build(config).await?;
    println!(
        "comity node {} listening on {}",
        node.app().node_id(),
        node.url()
    );
    shutdown.wait().await?;
    tracing::info!("stopping: finishing work in progress");
    node.stop().await;
    Ok(())
}

/// Ctrl-C or, on Unix, SIGTERM (what service managers send to stop a node), listened for
/// from the moment it is installed.
struct ShutdownSignal {
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl ShutdownSignal {
    fn install() -> anyhow::Result<ShutdownSignal> {
        Ok(ShutdownSignal {
            #[cfg(unix)]
            terminate: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?,
        })
    }

    /// Waits for either signal.
    async fn wait(mut self) -> anyhow::Result<()> {
        #[cfg(unix)]
        {
            tokio::select! {
                result = tokio::signal::ctrl_c() => result?,
                _ = self.terminate.recv() => {}
            }
            Ok(())
        }
        #[cfg(not(unix))]
        {
            tokio::signal::ctrl_c().await?;
            Ok(())
        }
    }
}

/// `comity node show`.
pub async fn node_show(data_dir: &Path) -> anyhow::Result<()> {
    let config = NodeConfig::load(data_dir)?;
    let keyring = identity::load_keyring(data_dir)?;
    let store = Store::open(&config.database_url().context("no database")?).await?;
    let app = App::new(store, config.node_id.clone(), Arc::new(SystemClock))?;
    let scheme = if config.tls_files().is_some() {
        "https"
    } else {
        "http"
    };
    let endpoint = config
        .public_url
        .clone()
        .unwrap_or_else(|| format!("{scheme}://{}", config.listen));
    let certificate = match config.tls_files() {
        Some((cert, _)) => Some(
            std::fs::read_to_string(&cert)
                .with_context(|| format!("cannot read {}", cert.display()))?,
        ),
        None => None,
    };
    let entry = comity_node::federation::own_entry(
        &app,
        &keyring.current,
        keyring.since_ms,
        &endpoint,
        certificate,
        identity::load_recovery_public(data_dir)?.as_ref(),
    )
    .await?;
    let file = identity::TrustListFile { peers: vec![entry] };
    println!(
        "# key {} fingerprint {}",
        keyring.current.key_id(),
        identity::key_fingerprint(&keyring.current.public_identity())
    );
    print!("{}", toml::to_string_pretty(&file)?);
    Ok(())
}

/// What a backup copies besides the database, relative to the data directory.
const BACKED_UP_FILES: &[&str] = &[
    CONFIG_FILE,
    identity::TRUST_FILE,
    identity::KEY_FILE,
    identity::KEY_SINCE_FILE,
    identity::ANNOUNCEMENT_FILE,
    identity::RECOVERY_SIGNATURE_FILE,
    identity::RECOVERY_PUBLIC_FILE,
    identity::PENDING_KEYS_FILE,
    comity_node::tls::CERT_FILE,
    comity_node::tls::KEY_FILE,
];

/// `comity node backup`: a copy that `comity serve --data-dir OUTPUT` runs as it is.
pub async fn backup(data_dir: &Path, output: &Path) -> anyhow::Result<()> {
    if output.exists() {
        bail!("{} already exists; name a new folder", output.display());
    }
    let config = NodeConfig::load(data_dir)?;
    let database_url = config.database_url().context("no database")?;
    create_private_dir(output)?;
    let store = Store::open(&database_url).await?;
    let copied = store.backup_sqlite_to(&output.join("comity.db")).await;
    store.close().await;
    copied?;
    let mut files: Vec<PathBuf> = BACKED_UP_FILES.iter().map(PathBuf::from).collect();
    let retired = data_dir.join(identity::RETIRED_KEYS_DIR);
    if retired.exists() {
        for entry in std::fs::read_dir(&retired)? {
            let name = entry?.file_name();
            files.push(Path::new(identity::RETIRED_KEYS_DIR).join(name));
        }
    }
    for relative in files {
        let source = data_dir.join(&relative);
        if !source.exists() {
            continue;
        }
        let bytes =
            std::fs::read(&source).with_context(|| format!("cannot read {}", source.display()))?;
        identity::write_secret_file(&output.join(&relative), &bytes)?;
    }
    println!(
        "backed up node {} to {}; start the copy with: comity serve --data-dir {}",
        config.node_id,
        output.display(),
        output.display()
    );
    Ok(())
}

/// `comity node restore`: copies a backup's database over a stopped node's (SQLite),
/// and records that the node must resynchronise every conversation when it next starts.
pub async fn restore(data_dir: &Path, backup: &Path) -> anyhow::Result<()> {
    let config = NodeConfig::load(data_dir)?;
    let source = if backup.is_dir() {
        backup.join("comity.db")
    } else {
        backup.to_path_buf()
    };
    if !source.is_file() {
        bail!("{} is not a backup database", source.display());
    }
    if config.database_url.is_some() {
        bail!(
            "this node's database is not the SQLite file in its data directory; restore it with the database's own tools, then start the node with federation.resync_on_start = true"
        );
    }
    let target = data_dir.join("comity.db");
    let bytes =
        std::fs::read(&source).with_context(|| format!("cannot read {}", source.display()))?;
    if !bytes.starts_with(b"SQLite format 3\0") {
        bail!("{} is not an SQLite database", source.display());
    }
    for suffix in ["-wal", "-shm"] {
        let stale = data_dir.join(format!("comity.db{suffix}"));
        if stale.exists() {
            std::fs::remove_file(&stale)
                .with_context(|| format!("cannot remove {}", stale.display()))?;
        }
    }
    if target.exists() {
        // Kept, not deleted: the restore can be undone.
        let kept = data_dir.join(format!(
            "comity.db.before-restore-{}",
            comity_app::Clock::now(&SystemClock).millis()
        ));
        std::fs::rename(&target, &kept)
            .with_context(|| format!("cannot move {} aside", target.display()))?;
        println!("the database it replaces is kept as {}", kept.display());
    }
    identity::write_secret_file(&target, &bytes)?;
    let store = Store::open(&Store::sqlite_url(&target)).await?;
    let app = App::new(store, config.node_id.clone(), Arc::new(SystemClock))?;
    app.mark_restore_pending().await?;
    app.store().close().await;
    println!(
        "restored node {} from {}; stop it first if it runs. When it starts it resynchronises every conversation with its peers and reports what was replayed (operator alerts, log)",
        config.node_id,
        source.display()
    );
    Ok(())
}

/// `comity peer add`: refuses an entry that claims this node's identity or one of its
/// authorities, and one that takes an authority from another peer unless
/// `move_authorities` says so.
pub async fn peer_add(data_dir: &Path, file: &Path, move_authorities: bool) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let parsed: identity::TrustListFile = toml::from_str(&text)
        .with_context(|| format!("{} is not a trust-list entry", file.display()))?;
    let mut trust = TrustList::load(data_dir)?;
    let entries: Vec<PeerEntry> = parsed.peers;
    if entries.is_empty() {
        bail!("{} holds no [[peers]] entry", file.display());
    }
    let config = NodeConfig::load(data_dir)?;
    let store = Store::open(&config.database_url().context("no database")?).await?;
    let app = App::new(store, config.node_id.clone(), Arc::new(SystemClock))?;
    let local_authorities = comity_node::federation::local_authority_ids(&app)
        .await
        .map_err(anyhow::Error::msg)?;
    app.store().close().await;
    for entry in entries {
        let node_id = entry.node_id.clone();
        let refused = |message: String| anyhow::anyhow!("{}: {message}", file.display());
        identity::check_claims(&entry, &config.node_id, &local_authorities).map_err(refused)?;
        if move_authorities {
            for change in trust.insert_moving(entry).map_err(refused)? {
                println!("{change}");
            }
        } else {
            trust.insert(entry).map_err(refused)?;
        }
        println!("trusted peer {node_id} (restart the node to load it)");
    }
    trust.save(data_dir)?;
    Ok(())
}

/// `comity peer list`.
pub fn peer_list(data_dir: &Path) -> anyhow::Result<()> {
    let trust = TrustList::load(data_dir)?;
    for peer in trust.peers() {
        let authorities: Vec<String> = peer.authorities.iter().map(|a| a.id.to_string()).collect();
        println!(
            "{}\t{}\t{}",
            peer.node_id,
            peer.endpoint,
            authorities.join(",")
        );
    }
    Ok(())
}

/// Reads request content from a `.json` or `.toml` file.
pub fn read_request_file(path: &Path) -> anyhow::Result<serde_json::Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let is_toml = path
        .extension()
        .is_some_and(|extension| extension == "toml");
    let value = if is_toml {
        let content: comity_wire::RequestContentDto = toml::from_str(&text)
            .with_context(|| format!("{} is not valid request content", path.display()))?;
        serde_json::to_value(content)?
    } else {
        let content: comity_wire::RequestContentDto = serde_json::from_str(&text)
            .with_context(|| format!("{} is not valid request content", path.display()))?;
        serde_json::to_value(content)?
    };
    Ok(value)
}

/// `comity law parties`.
pub fn law_parties(instrument: &str) -> anyhow::Result<()> {
    let catalog = comity_law::Catalog::embedded()?;
    let Some(found) = catalog.instrument(instrument) else {
        let known: Vec<&str> = catalog
            .instruments()
            .iter()
            .map(|instrument| instrument.id.as_str())
            .collect();
        anyhow::bail!(
            "unknown instrument `{instrument}` (known: {})",
            known.join(", ")
        );
    };
    print!("{}", parties_table(found));
    Ok(())
}

/// The table `comity law parties` prints: one row per state (state, in force from, until,
/// reservations), then the source of the list and what it leaves out.
pub fn parties_table(instrument: &comity_law::Instrument) -> String {
    use std::fmt::Write as _;
    let parties = &instrument.parties;
    let mut out = String::new();
    let _ = writeln!(out, "{} ({})", instrument.title, instrument.id);
    if parties.all_states {
        let _ = writeln!(out, "every state");
    } else {
        let mut entries: Vec<&comity_law::Party> = parties.entries.iter().collect();
        entries.sort_by(|a, b| a.state.as_str().cmp(b.state.as_str()));
        let _ = writeln!(
            out,
            "{:<5} {:<10} {:<10} reservations",
            "state", "from", "until"
        );
        for party in entries {
            let date = |date: Option<comity_domain::Date>, missing: &str| {
                date.map_or_else(|| missing.to_string(), |date| date.to_string())
            };
            let _ = writeln!(
                out,
                "{:<5} {:<10} {:<10} {}",
                party.state.as_str(),
                date(party.from, "undated"),
                date(party.until, "-"),
                party.reservations.join("; ")
            );
        }
        let _ = writeln!(out, "{} parties", parties.entries.len());
    }
    let _ = writeln!(out, "source: {}", parties.source);
    if let Some(as_of) = parties.as_of {
        let _ = writeln!(out, "as of: {as_of}");
    }
    if let Some(undated) = &parties.undated {
        let _ = writeln!(out, "undated: {undated}");
    }
    if let Some(note) = &parties.note {
        let _ = writeln!(out, "note: {note}");
    }
    for declaration in &instrument.declarations {
        let mut parts = Vec::new();
        if !declaration.languages.is_empty() {
            parts.push(format!("languages {}", declaration.languages.join(", ")));
        }
        if let Some(authority) = &declaration.central_authority {
            parts.push(format!("authority {authority}"));
        }
        let _ = writeln!(
            out,
            "declaration: {} art. {}: {} ({})",
            declaration.state.as_str(),
            declaration.article,
            parts.join("; "),
            declaration.source
        );
    }
    out
}

/// `comity law assess`.
pub fn law_assess(
    file: &Path,
    date: Option<&str>,
    json: bool,
    refuse: &[String],
) -> anyhow::Result<()> {
    let value = read_request_file(file)?;
    let content: comity_wire::RequestContentDto = serde_json::from_value(value)?;
    let content = content
        .to_domain(|_| None)
        .map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
    let today = match date {
        Some(date) => {
            comity_domain::Date::parse(date).map_err(|error| anyhow::anyhow!("--date: {error}"))?
        }
        None => comity_domain::Timestamp(
            i64::try_from(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|elapsed| elapsed.as_millis())
                    .unwrap_or(0),
            )
            .unwrap_or(0),
        )
        .date()
        .unwrap_or(comity_domain::Date::UNIX_EPOCH),
    };
    let catalog = comity_law::Catalog::embedded()?;
    let assessment = comity_law::assess(&catalog, &content, today);
    let dto = comity_node::api::assessment::AssessmentDto::from(&assessment);
    if json {
        println!("{}", serde_json::to_string_pretty(&dto)?);
        return Ok(());
    }
    let cite = |citation: &comity_law::Citation| {
        format!("[{} art. {}]", citation.instrument_id, citation.article)
    };
    if !refuse.is_empty() {
        for proposed in assessment.proposed_refusal(refuse) {
            match &proposed.ground {
                None => println!(
                    "refusal on `{}`: NOT a ground of the prevailing instrument",
                    proposed.cited
                ),
                Some(ground) => {
                    println!(
                        "refusal on `{}`: allowed, {} {}",
                        proposed.cited,
                        ground.description,
                        cite(&ground.citation)
                    );
                    if let Some(rule) = proposed.consult_first() {
                        println!("  consult the requesting side first {}", cite(rule));
                    }
                }
            }
        }
        match &assessment.refusal_reasons {
            Some(rule) => println!("reasons must be given for the refusal {}", cite(rule)),
            None => println!("the prevailing instrument sets no duty to give reasons"),
        }
        return Ok(());
    }
    println!(
        "{} → {} on {today}",
        content.requesting_country, content.requested_country
    );
    match &assessment.prevailing {
        Some(prevailing) => println!("prevailing: {}", prevailing_text(prevailing)),
        None => println!("no instrument binds both states"),
    }
    if let Some(fallback) = &assessment.fallback {
        println!("  {} {}", fallback.explanation, cite(&fallback.citation));
    }
    for channel in &assessment.channels {
        println!(
            "channel: {} {}",
            channel.explanation,
            cite(&channel.citation)
        );
    }
    println!("languages: {}", assessment.languages.languages.join(", "));
    for check in &assessment.checklist {
        let mark = if check.satisfied {
            "ok     "
        } else if check.where_possible {
            "missing (where possible)"
        } else {
            "MISSING"
        };
        println!(
            "content {mark} {} {}",
            check.explanation,
            cite(&check.citation)
        );
    }
    for finding in &assessment.dual_criminality {
        println!(
            "dual criminality: {} {}",
            finding.explanation,
            cite(&finding.citation)
        );
    }
    for warning in &assessment.warnings {
        println!(
            "{:?}: {} {}",
            warning.severity,
            warning.explanation,
            cite(&warning.citation)
        );
    }
    for deadline in &assessment.deadlines {
        println!(
            "deadline: {} {}",
            deadline.explanation,
            cite(&deadline.citation)
        );
    }
    let missing = assessment.missing_mandatory_content();
    if !missing.is_empty() {
        println!(
            "{} mandatory item(s) missing: the request cannot be approved yet",
            missing.len()
        );
    }
    Ok(())
}

fn prevailing_text(prevailing: &comity_law::Prevailing) -> String {
    format!(
        "{} — {} [{} art. {}]",
        prevailing.instrument_id,
        prevailing.reason,
        prevailing.citation.instrument_id,
        prevailing.citation.article
    )
}
