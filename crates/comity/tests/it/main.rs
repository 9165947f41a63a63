//! The `comity` binary as an operator uses it: one-line errors, non-zero exits, files
//! created owner-only.

mod peers;
mod users;

use std::path::Path;
use std::process::{Command, Output};

fn comity(arguments: &[&str], environment: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_comity"));
    command.args(arguments).env_remove("COMITY_ADMIN_PASSWORD");
    for (name, value) in environment {
        command.env(name, value);
    }
    command.output().expect("run comity")
}

fn init(directory: &Path, node_id: &str, authority: &str, country: &str) -> Output {
    comity(
        &[
            "init",
            "--data-dir",
            directory.to_str().expect("utf-8 path"),
            "--node-id",
            node_id,
            "--authority-id",
            authority,
            "--authority-country",
            country,
            "--authority-name",
            "Ministry of Justice",
            "--listen",
            "127.0.0.1:0",
        ],
        &[("COMITY_ADMIN_PASSWORD", "a long enough first passphrase")],
    )
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn init_creates_a_private_node_and_refuses_to_do_it_twice() {
    let root = tempfile::tempdir().expect("temp dir");
    let directory = root.path().join("node");
    let output = init(&directory, "es-node", "es-ca", "ES");
    assert!(output.status.success(), "{}", stderr(&output));
    for file in [
        "comity.toml",
        "keys/node.key",
        "tls/cert.pem",
        "tls/key.pem",
        "comity.db",
    ] {
        assert!(directory.join(file).exists(), "{file} created");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for secret in ["keys/node.key", "tls/key.pem"] {
            let mode = std::fs::metadata(directory.join(secret))
                .expect("stat")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "{secret} is owner-only ({mode:o})");
        }
        let mode = std::fs::metadata(&directory)
            .expect("stat")
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o077,
            0,
            "the data directory is owner-only ({mode:o})"
        );
    }
    let again = init(&directory, "es-node", "es-ca", "ES");
    assert!(!again.status.success());
    let message = stderr(&again);
    assert!(
        message.starts_with("error: ") && message.contains("already holds a node"),
        "{message}"
    );
    assert_eq!(message.trim().lines().count(), 1, "one line: {message}");

    // The node's identity is printed for a peer, and a peer can add it.
    let shown = comity(
        &[
            "node",
            "show",
            "--data-dir",
            directory.to_str().expect("path"),
        ],
        &[],
    );
    assert!(shown.status.success(), "{}", stderr(&shown));
    let entry = String::from_utf8_lossy(&shown.stdout).to_string();
    assert!(
        entry.contains("[[peers]]")
            && entry.contains("es-ca")
            && entry.contains("BEGIN CERTIFICATE"),
        "{entry}"
    );
    let peer_directory = root.path().join("peer");
    assert!(
        init(&peer_directory, "ma-node", "ma-ca", "MA")
            .status
            .success()
    );
    let entry_file = root.path().join("es-node.toml");
    std::fs::write(&entry_file, &entry).expect("write entry");
    let added = comity(
        &[
            "peer",
            "add",
            "--data-dir",
            peer_directory.to_str().expect("path"),
            entry_file.to_str().expect("path"),
        ],
        &[],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let listed = comity(
        &[
            "peer",
            "list",
            "--data-dir",
            peer_directory.to_str().expect("path"),
        ],
        &[],
    );
    assert!(String::from_utf8_lossy(&listed.stdout).contains("es-node"));
}

#[test]
fn bad_input_gets_one_line_and_a_non_zero_exit() {
    let root = tempfile::tempdir().expect("temp dir");
    let no_password = comity(
        &[
            "init",
            "--data-dir",
            root.path().join("x").to_str().expect("path"),
            "--node-id",
            "n",
            "--authority-id",
            "xx-ca",
            "--authority-country",
            "ES",
            "--authority-name",
            "N",
        ],
        &[],
    );
    assert!(!no_password.status.success());
    assert!(
        stderr(&no_password).contains("COMITY_ADMIN_PASSWORD"),
        "{}",
        stderr(&no_password)
    );

    let bad_country = comity(
        &[
            "init",
            "--data-dir",
            root.path().join("y").to_str().expect("path"),
            "--node-id",
            "n",
            "--authority-id",
            "xx-ca",
            "--authority-country",
            "Atlantis",
            "--authority-name",
            "N",
        ],
        &[("COMITY_ADMIN_PASSWORD", "a long enough first passphrase")],
    );
    assert!(!bad_country.status.success());
    assert!(
        stderr(&bad_country).contains("unknown country code"),
        "{}",
        stderr(&bad_country)
    );
    assert!(
        !root.path().join("y").join("comity.toml").exists(),
        "nothing written"
    );

    let garbage = root.path().join("request.json");
    std::fs::write(&garbage, "{\"requesting_authority\": 3}").expect("write");
    let assessed = comity(&["law", "assess", garbage.to_str().expect("path")], &[]);
    assert!(!assessed.status.success());
    assert_eq!(
        stderr(&assessed).trim().lines().count(),
        1,
        "{}",
        stderr(&assessed)
    );

    let unreachable = comity(
        &[
            "request",
            "list",
            "--url",
            "http://127.0.0.1:9",
            "--token",
            "t",
        ],
        &[],
    );
    assert!(!unreachable.status.success());
    assert!(
        stderr(&unreachable).contains("cannot reach"),
        "{}",
        stderr(&unreachable)
    );
}

#[test]
fn law_assess_cites_the_articles() {
    let root = tempfile::tempdir().expect("temp dir");
    let file = root.path().join("request.toml");
    std::fs::write(
        &file,
        r#"
requesting_authority = "es-ca"
requesting_country = "ES"
requested_authority = "fr-ca"
requested_country = "FR"
subject_matter = "Fraud ring"
conducting_authority = "Juzgado de Instrucción n.º 1"
summary_of_facts = "Invoices were forged."
purpose = "Evidence"
[[measures]]
kind = "bank_records"
description = "Statements of account 1234"
"#,
    )
    .expect("write");
    let output = comity(
        &[
            "law",
            "assess",
            file.to_str().expect("path"),
            "--date",
            "2026-11-23",
        ],
        &[],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.contains("ES → FR"), "{text}");
    assert!(text.contains("art. "), "cites articles: {text}");
    let json = comity(
        &[
            "law",
            "assess",
            file.to_str().expect("path"),
            "--json",
            "--date",
            "2026-11-23",
        ],
        &[],
    );
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    assert_eq!(value["requested_country"], "FR");
    // A proposed refusal between EIO states: 11(1)(b) needs consultation first (11(4)),
    // 11(1)(g) does not, and a made-up ground is not allowed.
    let refusal = comity(
        &[
            "law",
            "assess",
            file.to_str().expect("path"),
            "--date",
            "2026-11-23",
            "--refuse",
            "eio art. 11(1)(b)",
            "--refuse",
            "eio:dual_criminality",
            "--refuse",
            "eio art. 99",
        ],
        &[],
    );
    assert!(refusal.status.success(), "{}", stderr(&refusal));
    let text = String::from_utf8_lossy(&refusal.stdout);
    let lines: Vec<&str> = text.lines().collect();
    let about = |ground: &str| {
        let at = lines
            .iter()
            .position(|line| line.starts_with(&format!("refusal on `{ground}`")))
            .unwrap_or_else(|| panic!("no line for {ground}: {text}"));
        (lines[at], lines.get(at + 1).copied().unwrap_or_default())
    };
    let (security, next) = about("eio art. 11(1)(b)");
    assert!(
        security.contains("allowed") && next.contains("[eio art. 11(4)]"),
        "{text}"
    );
    let (dual, next) = about("eio:dual_criminality");
    assert!(
        dual.contains("allowed") && !next.contains("consult"),
        "{text}"
    );
    let (made_up, _) = about("eio art. 99");
    assert!(made_up.contains("NOT a ground"), "{text}");
}

#[test]
fn law_assess_json_gives_warnings_as_codes_with_parameters() {
    let root = tempfile::tempdir().expect("temp dir");
    let file = root.path().join("request.toml");
    std::fs::write(
        &file,
        r#"
requesting_authority = "es-ca"
requesting_country = "ES"
requested_authority = "fr-ca"
requested_country = "FR"
legal_basis = ["untoc"]
subject_matter = "Fraud ring"
conducting_authority = "Juzgado de Instrucción n.º 1"
summary_of_facts = "Invoices were forged."
purpose = "Evidence"
[[measures]]
kind = "bank_records"
description = "Statements of account 1234"
"#,
    )
    .expect("write");
    let json = comity(
        &[
            "law",
            "assess",
            file.to_str().expect("path"),
            "--json",
            "--date",
            "2026-11-23",
        ],
        &[],
    );
    assert!(json.status.success(), "{}", stderr(&json));
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).expect("json");
    let warnings = value["warnings"].as_array().expect("warnings");
    let mismatch = warnings
        .iter()
        .find(|warning| warning["code"] == "legal-basis-mismatch")
        .expect("untoc does not prevail between two EU states");
    assert_eq!(mismatch["kind"], "legal_basis_mismatch");
    assert_eq!(
        mismatch["parameters"]["legal_basis"],
        serde_json::json!(["untoc"])
    );
    let instrument = mismatch["parameters"]["instrument"]
        .as_str()
        .expect("instrument");
    assert!(
        mismatch["explanation"].as_str().is_some_and(
            |text| text.contains(instrument) && text.starts_with("The request relies on untoc")
        ),
        "{mismatch}"
    );
}

#[cfg(unix)]
#[test]
fn a_data_directory_that_existed_is_made_private_and_serve_refuses_one_that_is_not() {
    use std::os::unix::fs::PermissionsExt;
    let mode_of = |path: &Path| std::fs::metadata(path).expect("stat").permissions().mode() & 0o777;
    let root = tempfile::tempdir().expect("temp dir");
    let directory = root.path().join("node");
    std::fs::create_dir(&directory).expect("mkdir");
    std::fs::set_permissions(&directory, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let output = init(&directory, "es-node", "es-ca", "ES");
    assert!(output.status.success(), "{}", stderr(&output));
    assert_eq!(mode_of(&directory), 0o700, "the existing directory");
    for file in ["comity.db", "comity.db-wal", "comity.db-shm"] {
        let path = directory.join(file);
        if path.exists() {
            assert_eq!(mode_of(&path), 0o600, "{file}");
        }
    }

    let serve = |directory: &Path| {
        comity(
            &[
                "serve",
                "--data-dir",
                directory.to_str().expect("path"),
                "--listen",
                "127.0.0.1:0",
            ],
            &[],
        )
    };
    for (path, mode) in [
        (directory.clone(), 0o750),
        (directory.join("comity.db"), 0o644),
    ] {
        let private = if path == directory { 0o700 } else { 0o600 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).expect("chmod");
        let refused = serve(&directory);
        assert!(!refused.status.success(), "serve refuses mode {mode:o}");
        let message = stderr(&refused);
        assert!(
            message.contains("open to other users") && message.contains(&format!("{mode:o}")),
            "{message}"
        );
        assert_eq!(message.trim().lines().count(), 1, "one line: {message}");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(private)).expect("chmod");
    }
}

#[cfg(unix)]
#[test]
fn serve_stops_cleanly_on_sigterm_and_logs_without_colour_codes() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;
    let root = tempfile::tempdir().expect("temp dir");
    let directory = root.path().join("node");
    assert!(init(&directory, "es-node", "es-ca", "ES").status.success());
    let mut child = Command::new(env!("CARGO_BIN_EXE_comity"))
        .args([
            "serve",
            "--data-dir",
            directory.to_str().expect("path"),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut first_line = String::new();
    BufReader::new(stdout)
        .read_line(&mut first_line)
        .expect("read");
    assert!(first_line.contains("listening on"), "{first_line}");
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not stop on SIGTERM");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    assert!(status.success(), "a clean exit: {status}");
    let mut log = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut log)
        .expect("log");
    assert!(log.contains("node listening"), "{log}");
    assert!(
        !log.contains('\u{1b}'),
        "no colour codes in a log that is not a terminal: {log:?}"
    );
}

#[test]
fn peer_add_refuses_claims_on_this_node_and_moves_authorities_only_when_told() {
    let root = tempfile::tempdir().expect("temp dir");
    let node_show = |directory: &Path| {
        let shown = comity(
            &[
                "node",
                "show",
                "--data-dir",
                directory.to_str().expect("path"),
            ],
            &[],
        );
        assert!(shown.status.success(), "{}", stderr(&shown));
        String::from_utf8_lossy(&shown.stdout).to_string()
    };
    let peer_add = |directory: &Path, entry: &str, extra: &[&str]| {
        let file = root.path().join(format!("entry-{}.toml", entry.len()));
        std::fs::write(&file, entry).expect("write");
        let mut arguments = vec![
            "peer",
            "add",
            "--data-dir",
            directory.to_str().expect("path"),
        ];
        arguments.extend_from_slice(extra);
        arguments.push(file.to_str().expect("path"));
        comity(&arguments, &[])
    };
    let spain = root.path().join("es");
    let morocco = root.path().join("ma");
    let evil = root.path().join("zz");
    assert!(init(&spain, "es-node", "es-ca", "ES").status.success());
    assert!(init(&morocco, "ma-node", "ma-ca", "MA").status.success());
    assert!(init(&evil, "zz-node", "zz-ca", "MA").status.success());
    let morocco_entry = node_show(&morocco);
    let evil_entry = node_show(&evil);

    let claims_spain = evil_entry.replace("\"zz-ca\"", "\"es-ca\"");
    let refused = peer_add(&spain, &claims_spain, &["--move-authorities"]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("which this node hosts"),
        "{}",
        stderr(&refused)
    );

    let claims_identity = evil_entry.replace("\"zz-node\"", "\"es-node\"");
    let refused = peer_add(&spain, &claims_identity, &[]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("which is this node"),
        "{}",
        stderr(&refused)
    );

    assert!(peer_add(&spain, &morocco_entry, &[]).status.success());
    let takes_morocco = evil_entry.replace("\"zz-ca\"", "\"ma-ca\"");
    let refused = peer_add(&spain, &takes_morocco, &[]);
    assert!(!refused.status.success());
    assert!(
        stderr(&refused).contains("hosted by peer ma-node"),
        "{}",
        stderr(&refused)
    );
    let moved = peer_add(&spain, &takes_morocco, &["--move-authorities"]);
    assert!(moved.status.success(), "{}", stderr(&moved));
    let printed = String::from_utf8_lossy(&moved.stdout);
    assert!(
        printed.contains("authority ma-ca moves from ma-node") && printed.contains("to zz-node"),
        "{printed}"
    );
    let listed = comity(
        &["peer", "list", "--data-dir", spain.to_str().expect("path")],
        &[],
    );
    let listed = String::from_utf8_lossy(&listed.stdout).to_string();
    let host_of_ma_ca: Vec<&str> = listed
        .lines()
        .filter(|line| {
            line.split('\t')
                .nth(2)
                .is_some_and(|a| a.split(',').any(|a| a == "ma-ca"))
        })
        .filter_map(|line| line.split('\t').next())
        .collect();
    assert_eq!(host_of_ma_ca, vec!["zz-node"], "{listed}");
}

mod second_factor;

#[cfg(unix)]
#[test]
fn a_running_node_is_backed_up_into_a_copy_that_runs() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::fs::PermissionsExt;
    use std::process::Stdio;
    let root = tempfile::tempdir().expect("temp dir");
    let directory = root.path().join("node");
    let copy = root.path().join("backup");
    assert!(init(&directory, "es-node", "es-ca", "ES").status.success());
    let path = |p: &Path| p.to_str().expect("path").to_string();
    let mut running = Command::new(env!("CARGO_BIN_EXE_comity"))
        .args([
            "serve",
            "--data-dir",
            &path(&directory),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let mut first_line = String::new();
    BufReader::new(running.stdout.take().expect("stdout"))
        .read_line(&mut first_line)
        .expect("read");
    assert!(first_line.contains("listening on"), "{first_line}");

    let backup = comity(
        &[
            "node",
            "backup",
            "--data-dir",
            &path(&directory),
            "--output",
            &path(&copy),
        ],
        &[],
    );
    let _ = running.kill();
    let _ = running.wait();
    assert!(backup.status.success(), "{}", stderr(&backup));
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(&copy), 0o700);
    for file in ["comity.db", "keys/node.key", "tls/key.pem"] {
        assert_eq!(mode(&copy.join(file)), 0o600, "{file}");
    }
    let show = |d: &Path| {
        let shown = comity(&["node", "show", "--data-dir", &path(d)], &[]);
        assert!(shown.status.success(), "{}", stderr(&shown));
        String::from_utf8_lossy(&shown.stdout).to_string()
    };
    assert_eq!(show(&copy), show(&directory), "the copy is the same node");

    let again = comity(
        &[
            "node",
            "backup",
            "--data-dir",
            &path(&directory),
            "--output",
            &path(&copy),
        ],
        &[],
    );
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
}

#[test]
fn law_parties_prints_each_state_with_its_date_and_the_source() {
    let output = comity(&["law", "parties", "budapest"], &[]);
    assert!(output.status.success(), "{}", stderr(&output));
    let text = String::from_utf8_lossy(&output.stdout);
    let catalog = comity_law::Catalog::embedded().expect("catalog");
    let budapest = catalog.instrument("budapest").expect("budapest");
    for party in &budapest.parties.entries {
        let from = party.from.map(|date| date.to_string());
        let row = text
            .lines()
            .find(|line| line.starts_with(party.state.as_str()))
            .unwrap_or_else(|| panic!("a row for {}: {text}", party.state));
        if let Some(from) = from {
            assert!(row.contains(&from), "{row}");
        }
    }
    assert!(
        text.contains(&format!("source: {}", budapest.parties.source)),
        "{text}"
    );

    let unknown = comity(&["law", "parties", "no_such_treaty"], &[]);
    assert!(!unknown.status.success());
    assert_eq!(
        stderr(&unknown).trim().lines().count(),
        1,
        "{}",
        stderr(&unknown)
    );
    assert!(
        stderr(&unknown).contains("no_such_treaty"),
        "{}",
        stderr(&unknown)
    );
}
