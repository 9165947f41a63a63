//! `comity login` and `comity mfa` against a node started with `comity serve` and the
//! default configuration, under which a supervisor must set up a second factor.

use std::process::{Child, Command, Stdio};

use super::{comity, stderr};

/// The `comity serve` process, stopped when dropped.
struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn stdout(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[test]
fn a_supervisor_enrols_and_logs_in_with_the_cli_and_an_administrator_resets() {
    let root = tempfile::tempdir().expect("temp dir");
    let directory = root.path().join("node");
    let output = comity(
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
            "--no-tls",
        ],
        &[("COMITY_ADMIN_PASSWORD", "a long enough first passphrase")],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("free port")
        .port();
    let listen = format!("127.0.0.1:{port}");
    let _serving = Serving(
        Command::new(env!("CARGO_BIN_EXE_comity"))
            .args([
                "serve",
                "--data-dir",
                directory.to_str().expect("path"),
                "--listen",
                &listen,
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let url = format!("http://{listen}");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let http = reqwest::Client::new();
    runtime.block_on(async {
        for _ in 0..100 {
            if http.get(format!("{url}/healthz")).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the node did not start");
    });
    let cli = |arguments: &[&str], environment: &[(&str, &str)]| {
        let mut all = arguments.to_vec();
        all.extend(["--url", url.as_str()]);
        comity(&all, environment)
    };
    let admin = cli(
        &["login", "--username", "admin"],
        &[("COMITY_PASSWORD", "a long enough first passphrase")],
    );
    assert!(admin.status.success(), "{}", stderr(&admin));
    let admin_token = stdout(&admin).trim().to_string();
    let created = runtime.block_on(async {
        http.post(format!("{url}/api/v1/users"))
            .bearer_auth(&admin_token)
            .json(&serde_json::json!({
                "username": "sam", "display_name": "Sam Supervisor", "authority": "es-ca",
                "roles": ["supervisor"], "password": "violet harbour lantern at dusk"
            }))
            .send()
            .await
            .expect("create user")
            .status()
    });
    assert_eq!(created.as_u16(), 201);

    let password = [("COMITY_PASSWORD", "violet harbour lantern at dusk")];
    let login = cli(&["login", "--username", "sam"], &password);
    assert!(login.status.success(), "{}", stderr(&login));
    let restricted = stdout(&login).trim().to_string();
    let status = cli(&["mfa", "status", "--token", &restricted], &[]);
    assert!(status.status.success(), "{}", stderr(&status));
    assert!(
        stdout(&status).contains("required: true"),
        "{}",
        stdout(&status)
    );
    assert!(
        stdout(&status).contains("enrolled: false"),
        "{}",
        stdout(&status)
    );
    let cases = cli(&["case", "list", "--token", &restricted], &[]);
    assert_eq!(cases.status.code(), Some(2), "only enrolment is open");

    let enrol = cli(&["mfa", "enrol", "--token", &restricted], &[]);
    assert!(enrol.status.success(), "{}", stderr(&enrol));
    let printed = stdout(&enrol);
    assert!(printed.contains("otpauth://totp/"), "{printed}");
    let secret = printed
        .lines()
        .find_map(|line| line.strip_prefix("secret: "))
        .expect("the secret is printed");
    let secret = comity_app::second_factor::base32_decode(secret).expect("base32");

    let malformed = cli(
        &["mfa", "confirm", "--code", "12ab", "--token", &restricted],
        &[],
    );
    assert_eq!(malformed.status.code(), Some(2));
    assert_eq!(
        stderr(&malformed).trim().lines().count(),
        1,
        "{}",
        stderr(&malformed)
    );
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("time")
        .as_secs() as i64;
    let code = comity_app::second_factor::totp(&secret, now, 6);
    let confirm = cli(
        &["mfa", "confirm", "--code", &code, "--token", &restricted],
        &[],
    );
    assert!(confirm.status.success(), "{}", stderr(&confirm));
    let recovery: Vec<String> = stdout(&confirm)
        .lines()
        .filter(|line| line.len() == 19 && line.matches('-').count() == 3)
        .map(str::to_string)
        .collect();
    assert_eq!(recovery.len(), 10, "{}", stdout(&confirm));

    let without = cli(&["login", "--username", "sam"], &password);
    assert_eq!(without.status.code(), Some(2));
    assert!(
        stderr(&without).contains("second factor"),
        "{}",
        stderr(&without)
    );
    let with_recovery = cli(
        &[
            "login",
            "--username",
            "sam",
            "--recovery-code",
            &recovery[0],
        ],
        &password,
    );
    assert!(with_recovery.status.success(), "{}", stderr(&with_recovery));
    let sam = stdout(&with_recovery).trim().to_string();

    let not_admin = cli(&["mfa", "reset", "--username", "sam", "--token", &sam], &[]);
    assert_eq!(not_admin.status.code(), Some(2));
    let reset = cli(
        &["mfa", "reset", "--username", "sam", "--token", &admin_token],
        &[],
    );
    assert!(reset.status.success(), "{}", stderr(&reset));
    let ended = cli(&["mfa", "status", "--token", &sam], &[]);
    assert_eq!(
        ended.status.code(),
        Some(2),
        "the reset ended sam's sessions"
    );
    let again = cli(&["login", "--username", "sam"], &password);
    assert!(
        again.status.success(),
        "a password alone opens an enrol-only session again"
    );
}
