//! `comity user ...` against a node started with `comity serve`.

use std::io::Write;
use std::process::{Child, Command, Stdio};

use super::{comity, stderr};

const ADMIN_PASSWORD: &str = "a long enough first passphrase";

/// A node made by `comity init --no-tls` and run by `comity serve`, killed on drop.
struct ServedNode {
    child: Child,
    url: String,
    _root: tempfile::TempDir,
}

impl Drop for ServedNode {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn served_node() -> ServedNode {
    let root = tempfile::tempdir().expect("temp dir");
    let directory = root.path().join("node");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let made = comity(
        &[
            "init",
            "--data-dir",
            directory.to_str().expect("utf-8 path"),
            "--node-id",
            "es-node",
            "--authority-id",
            "es-ca",
            "--authority-country",
            "ES",
            "--authority-name",
            "Ministry of Justice",
            "--listen",
            &listen,
            "--no-tls",
        ],
        &[("COMITY_ADMIN_PASSWORD", ADMIN_PASSWORD)],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let child = Command::new(env!("CARGO_BIN_EXE_comity"))
        .args(["serve", "--data-dir", directory.to_str().expect("path")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    ServedNode {
        child,
        url: format!("http://{listen}"),
        _root: root,
    }
}

/// Logs in with the CLI, retrying while the node starts; returns the token.
fn log_in(url: &str, username: &str, password: &str) -> Result<String, String> {
    let mut last = String::new();
    for _ in 0..100 {
        let output = comity(
            &["login", "--url", url, "--username", username],
            &[("COMITY_PASSWORD", password)],
        );
        if output.status.success() {
            return Ok(String::from_utf8_lossy(&output.stdout).trim().to_string());
        }
        last = stderr(&output);
        if !last.contains("cannot reach") {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(last)
}

fn user(
    url: &str,
    token: &str,
    arguments: &[&str],
    new_password: Option<&str>,
) -> std::process::Output {
    let mut all = vec!["user", "--url", url, "--token", token];
    all.extend_from_slice(arguments);
    let mut environment = Vec::new();
    if let Some(password) = new_password {
        environment.push(("COMITY_NEW_PASSWORD", password));
    }
    comity(&all, &environment)
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn user_commands_run_the_accounts_of_an_authority() {
    let node = served_node();
    let url = node.url.as_str();
    let token = log_in(url, "admin", ADMIN_PASSWORD).expect("admin logs in");
    // `init` made the first account administrator and node operator.
    let listed = user(url, &token, &["list"], None);
    assert!(listed.status.success(), "{}", stderr(&listed));
    assert!(
        stdout(&listed).contains("node_operator"),
        "{}",
        stdout(&listed)
    );

    // Bad input: one line, exit 2 (the node refused), nothing created.
    let bad_role = user(
        url,
        &token,
        &[
            "add",
            "--username",
            "bea",
            "--display-name",
            "Bea",
            "--role",
            "wizard",
        ],
        Some("a fine long passphrase"),
    );
    assert_eq!(bad_role.status.code(), Some(2), "{}", stderr(&bad_role));
    assert_eq!(
        stderr(&bad_role).trim().lines().count(),
        1,
        "{}",
        stderr(&bad_role)
    );
    assert!(
        stderr(&bad_role).contains("roles[0]"),
        "{}",
        stderr(&bad_role)
    );
    let common = user(
        url,
        &token,
        &[
            "add",
            "--username",
            "bea",
            "--display-name",
            "Bea",
            "--role",
            "analyst",
        ],
        Some("1234567890qwerty"),
    );
    assert_eq!(common.status.code(), Some(2), "{}", stderr(&common));
    let no_password = user(
        url,
        &token,
        &[
            "add",
            "--username",
            "bea",
            "--display-name",
            "Bea",
            "--role",
            "analyst",
        ],
        None,
    );
    assert_eq!(no_password.status.code(), Some(1));
    assert!(
        stderr(&no_password).contains("COMITY_NEW_PASSWORD"),
        "{}",
        stderr(&no_password)
    );
    assert!(!stdout(&user(url, &token, &["list"], None)).contains("\"bea\""));

    let added = user(
        url,
        &token,
        &[
            "add",
            "--username",
            "bea",
            "--display-name",
            "Bea",
            "--role",
            "analyst",
        ],
        Some("a fine long passphrase"),
    );
    assert!(added.status.success(), "{}", stderr(&added));
    log_in(url, "bea", "a fine long passphrase").expect("bea logs in");
    let sessions = user(url, &token, &["sessions", "bea"], None);
    assert!(sessions.status.success(), "{}", stderr(&sessions));
    assert!(
        stdout(&sessions).contains("\"current\": false"),
        "{}",
        stdout(&sessions)
    );

    let disabled = user(url, &token, &["disable", "bea"], None);
    assert!(disabled.status.success(), "{}", stderr(&disabled));
    assert!(log_in(url, "bea", "a fine long passphrase").is_err());
    let enabled = user(url, &token, &["enable", "bea"], None);
    assert!(enabled.status.success(), "{}", stderr(&enabled));
    let bea_token = log_in(url, "bea", "a fine long passphrase").expect("bea again");

    let revoked = user(url, &token, &["revoke", "bea"], None);
    assert!(revoked.status.success(), "{}", stderr(&revoked));
    assert!(
        stdout(&revoked).contains("\"revoked\": 1"),
        "{}",
        stdout(&revoked)
    );
    let me = comity(&["case", "list", "--url", url, "--token", &bea_token], &[]);
    assert_eq!(me.status.code(), Some(2), "the revoked token is refused");

    // The reset password comes from standard input, never from the command line.
    let mut reset = Command::new(env!("CARGO_BIN_EXE_comity"))
        .args([
            "user",
            "--url",
            url,
            "--token",
            &token,
            "reset-password",
            "bea",
            "--password-stdin",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("reset");
    reset
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"temporary phrase 4821\n")
        .expect("write");
    let reset = reset.wait_with_output().expect("reset output");
    assert!(reset.status.success(), "{}", stderr(&reset));
    assert!(log_in(url, "bea", "a fine long passphrase").is_err());
    log_in(url, "bea", "temporary phrase 4821").expect("temporary password works");
    let unknown = user(url, &token, &["disable", "nobody"], None);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        stderr(&unknown).contains("no user `nobody`"),
        "{}",
        stderr(&unknown)
    );
}
