//! The `comity` binary as an operator uses it: one-line errors, non-zero exits, files
//! created owner-only.

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
}
