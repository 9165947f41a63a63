//! `comity init` with its configuration flags and recovery key, and `comity peer ...` /
//! `comity node rotate-keys` against two nodes started with `comity serve`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use super::{comity, stderr};

const PASSWORD: &str = "a long enough first passphrase";

/// A node made by `comity init` and run by `comity serve`, killed on drop.
struct Served {
    child: Child,
    url: String,
    directory: PathBuf,
    recovery_key: PathBuf,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port()
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn serve(root: &Path, node_id: &str, authority: &str, country: &str) -> Served {
    let directory = root.join(node_id);
    let recovery_key = root.join(format!("{node_id}-recovery.key"));
    let listen = format!("127.0.0.1:{}", free_port());
    let made = comity(
        &[
            "init",
            "--data-dir",
            path(&directory),
            "--node-id",
            node_id,
            "--authority-id",
            authority,
            "--authority-country",
            country,
            "--authority-name",
            "Ministry of Justice",
            "--listen",
            &listen,
            "--no-tls",
            "--allow-plain-http-loopback",
            "--session-idle-minutes",
            "45",
            "--second-factor-roles",
            "",
            "--recovery-key-file",
            path(&recovery_key),
        ],
        &[("COMITY_ADMIN_PASSWORD", PASSWORD)],
    );
    assert!(made.status.success(), "{}", stderr(&made));
    let printed = String::from_utf8_lossy(&made.stdout).to_string();
    assert!(
        printed.contains("OFFLINE") && printed.contains(path(&recovery_key)),
        "{printed}"
    );
    let child = Command::new(env!("CARGO_BIN_EXE_comity"))
        .args(["serve", "--data-dir", path(&directory)])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    Served {
        child,
        url: format!("http://{listen}"),
        directory,
        recovery_key,
    }
}

fn log_in(url: &str) -> String {
    let mut last = String::new();
    for _ in 0..200 {
        let output = comity(
            &["login", "--url", url, "--username", "admin"],
            &[("COMITY_PASSWORD", PASSWORD)],
        );
        if output.status.success() {
            return String::from_utf8_lossy(&output.stdout).trim().to_string();
        }
        last = stderr(&output);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("cannot log in: {last}");
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("json output")
}

fn peer(node: &Served, token: &str, arguments: &[&str]) -> Output {
    let mut all = vec!["peer", "--url", node.url.as_str(), "--token", token];
    all.extend_from_slice(arguments);
    comity(&all, &[])
}

fn refused_on_one_line(output: &Output, needle: &str) {
    assert_eq!(output.status.code(), Some(2), "{}", stderr(output));
    let message = stderr(output);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(message.contains(needle), "{message}");
}

#[test]
fn init_writes_the_configuration_its_flags_say_and_a_recovery_key() {
    let root = tempfile::tempdir().expect("temp dir");
    let node = serve(root.path(), "es-node", "es-ca", "ES");
    let config = std::fs::read_to_string(node.directory.join("comity.toml")).expect("config");
    assert!(
        config.contains("allow_plain_http_loopback = true"),
        "{config}"
    );
    assert!(config.contains("idle_timeout_minutes = 45"), "{config}");
    assert!(config.contains("required_roles = []"), "{config}");
    assert!(!config.contains("[tls]"), "{config}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&node.recovery_key)
            .expect("recovery key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "owner-only ({mode:o})");
    }
    let shown = comity(&["node", "show", "--data-dir", path(&node.directory)], &[]);
    assert!(shown.status.success(), "{}", stderr(&shown));
    let entry = stdout(&shown);
    assert!(
        entry.contains("recovery_key = \"comity-public-keys-v1:"),
        "{entry}"
    );
    assert!(entry.contains("fingerprint"), "{entry}");
    let secret = std::fs::read_to_string(&node.recovery_key).expect("secret");
    assert!(!entry.contains(secret.lines().nth(2).unwrap_or("missing")));

    // A bad value is refused before anything is written.
    let refused = comity(
        &[
            "init",
            "--data-dir",
            path(&root.path().join("bad")),
            "--node-id",
            "xx-node",
            "--authority-id",
            "xx-ca",
            "--authority-country",
            "ES",
            "--authority-name",
            "N",
            "--second-factor-roles",
            "wizard",
        ],
        &[("COMITY_ADMIN_PASSWORD", PASSWORD)],
    );
    assert!(!refused.status.success());
    assert_eq!(
        stderr(&refused).trim().lines().count(),
        1,
        "{}",
        stderr(&refused)
    );
    assert!(!root.path().join("bad").exists(), "nothing written");
}

#[test]
fn peer_commands_change_a_running_nodes_trust_list_and_confirm_keys() {
    let root = tempfile::tempdir().expect("temp dir");
    let spain = serve(root.path(), "es-node", "es-ca", "ES");
    let morocco = serve(root.path(), "ma-node", "ma-ca", "MA");
    let es_token = log_in(&spain.url);
    let ma_token = log_in(&morocco.url);
    let entry_of = |node: &Served| {
        let shown = comity(&["node", "show", "--data-dir", path(&node.directory)], &[]);
        assert!(shown.status.success(), "{}", stderr(&shown));
        let node_id = node
            .directory
            .file_name()
            .and_then(|name| name.to_str())
            .expect("node id");
        let file = root.path().join(format!("entry-{node_id}.toml"));
        std::fs::write(&file, stdout(&shown)).expect("write");
        file
    };
    let morocco_entry = entry_of(&morocco);
    let spain_entry = entry_of(&spain);

    let added = peer(&spain, &es_token, &["add", path(&morocco_entry)]);
    assert!(added.status.success(), "{}", stderr(&added));
    let added = peer(&morocco, &ma_token, &["add", path(&spain_entry)]);
    assert!(added.status.success(), "{}", stderr(&added));
    let listed = json(&peer(&spain, &es_token, &["list"]));
    assert_eq!(listed[0]["node_id"], "ma-node", "{listed}");
    assert!(
        listed[0]["recovery_key_fingerprint"].is_string(),
        "{listed}"
    );

    // Bad input: one line, exit 2, nothing changed.
    let refused = peer(
        &spain,
        &es_token,
        &["update", "ma-node", "--endpoint", "ftp://x/"],
    );
    refused_on_one_line(&refused, "endpoint");
    let refused = peer(&spain, &es_token, &["remove", "zz-node"]);
    refused_on_one_line(&refused, "not found");

    // Morocco rotates; Spain keeps the key until its operator confirms the fingerprint.
    let rotated = comity(
        &[
            "node",
            "rotate-keys",
            "--url",
            &morocco.url,
            "--token",
            &ma_token,
        ],
        &[],
    );
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let rotated = json(&rotated);
    assert_eq!(
        rotated["awaiting_confirmation"],
        serde_json::json!(["es-node"]),
        "{rotated}"
    );
    let fingerprint = rotated["fingerprint"]
        .as_str()
        .expect("fingerprint")
        .to_string();
    let pending = json(&peer(&spain, &es_token, &["pending"]));
    assert_eq!(pending[0]["fingerprint"], fingerprint.as_str(), "{pending}");
    let wrong = format!("{}0", &fingerprint[..fingerprint.len() - 1]);
    let wrong = if wrong == fingerprint {
        format!("{}1", &fingerprint[..fingerprint.len() - 1])
    } else {
        wrong
    };
    refused_on_one_line(
        &peer(&spain, &es_token, &["accept", "ma-node", &wrong]),
        "fingerprint",
    );
    let accepted = peer(&spain, &es_token, &["accept", "ma-node", &fingerprint]);
    assert!(accepted.status.success(), "{}", stderr(&accepted));
    assert_eq!(
        json(&peer(&spain, &es_token, &["pending"])),
        serde_json::json!([])
    );
    let listed = json(&peer(&spain, &es_token, &["list"]));
    let fingerprints: Vec<&str> = listed[0]["keys"]
        .as_array()
        .map(|keys| {
            keys.iter()
                .filter_map(|key| key["fingerprint"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(fingerprints.contains(&fingerprint.as_str()), "{listed}");

    // Morocco recovers with its recovery key: Spain applies it without confirmation.
    let recovered = comity(
        &[
            "node",
            "rotate-keys",
            "--url",
            &morocco.url,
            "--token",
            &ma_token,
            "--recovery-key",
            path(&morocco.recovery_key),
        ],
        &[],
    );
    assert!(recovered.status.success(), "{}", stderr(&recovered));
    let recovered = json(&recovered);
    assert_eq!(
        recovered["announced_to"],
        serde_json::json!(["es-node"]),
        "{recovered}"
    );
    assert_eq!(
        recovered["awaiting_confirmation"],
        serde_json::json!([]),
        "{recovered}"
    );

    // Update and remove, at once.
    let moved = peer(
        &spain,
        &es_token,
        &["update", "ma-node", "--endpoint", "http://127.0.0.1:9"],
    );
    assert!(moved.status.success(), "{}", stderr(&moved));
    assert_eq!(json(&moved)["endpoint"], "http://127.0.0.1:9");
    let removed = peer(&spain, &es_token, &["remove", "ma-node"]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(
        json(&peer(&spain, &es_token, &["list"])),
        serde_json::json!([])
    );
}
