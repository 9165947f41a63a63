//! `comity demo`: three nodes on loopback, each with its own SQLite data directory and
//! users, playing a cross-border migrant-smuggling case through the real API, then left
//! running for a person to explore in the browser.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use base64::Engine;
use comity_domain::{Authority, AuthorityKind};
use comity_node::{Node, NodeConfig};
use comity_wire::api::UserInput;
use rand::RngCore;
use serde_json::{Value, json};

use crate::client::Client;

/// Options of the demo.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// First port; the nodes take this one and the next two (0: any free ports).
    #[arg(long, default_value_t = 8080)]
    pub port_base: u16,
    /// Where the nodes keep their data (wiped first). Default: a folder in the temp dir.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Stop after the scenario instead of serving until Ctrl-C (for CI).
    #[arg(long)]
    pub exit_after_scenario: bool,
}

/// One demo node: who it is and who works there.
struct NodeSpec {
    node_id: &'static str,
    authority: (&'static str, &'static str, AuthorityKind, &'static str),
    users: &'static [(&'static str, &'static str, &'static [&'static str])],
}

const NODES: [NodeSpec; 3] = [
    NodeSpec {
        node_id: "es-mjusticia",
        authority: (
            "es-mjusticia-ca",
            "ES",
            AuthorityKind::CentralAuthority,
            "Ministerio de Justicia — Subdirección General de Cooperación Jurídica Internacional",
        ),
        users: &[
            ("lucia", "Lucía Martín (fiscal)", &["requesting_prosecutor"]),
            (
                "ana",
                "Ana García (autoridad central)",
                &["central_authority_officer", "supervisor"],
            ),
            (
                "admin-es",
                "Administrador",
                &["administrator", "node_operator"],
            ),
        ],
    },
    NodeSpec {
        node_id: "ma-justice",
        authority: (
            "ma-justice-ca",
            "MA",
            AuthorityKind::CentralAuthority,
            "Ministère de la Justice — Direction des affaires pénales et des grâces",
        ),
        users: &[
            (
                "karim",
                "Karim Benali (autorité centrale)",
                &["central_authority_officer"],
            ),
            ("salma", "Salma Idrissi (exécution)", &["executing_officer"]),
            (
                "admin-ma",
                "Administrateur",
                &["administrator", "node_operator"],
            ),
        ],
    },
    NodeSpec {
        node_id: "fr-parquet-marseille",
        authority: (
            "fr-parquet-marseille",
            "FR",
            AuthorityKind::Prosecution,
            "Parquet de Marseille — Juridiction interrégionale spécialisée",
        ),
        users: &[
            (
                "camille",
                "Camille Durand (procureure)",
                &["requesting_prosecutor", "central_authority_officer"],
            ),
            (
                "admin-fr",
                "Administrateur",
                &["administrator", "node_operator"],
            ),
        ],
    },
];

/// Runs the demo.
pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let root = args
        .data_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("comity-demo"));
    if root.exists() {
        std::fs::remove_dir_all(&root)
            .with_context(|| format!("cannot clear {}", root.display()))?;
    }
    let mut nodes = Vec::new();
    let mut logins: Vec<(String, String, String, String)> = Vec::new();
    for (index, spec) in NODES.iter().enumerate() {
        let port = if args.port_base == 0 {
            0
        } else {
            args.port_base
                .checked_add(u16::try_from(index)?)
                .context("port out of range")?
        };
        let data_dir = root.join(spec.node_id);
        std::fs::create_dir_all(&data_dir)?;
        let mut config = NodeConfig::new(spec.node_id);
        config.listen = format!("127.0.0.1:{port}").parse()?;
        config.data_dir = Some(data_dir);
        config.federation.allow_plain_http_loopback = true;
        config.outbox.poll_interval_ms = 200;
        config.outbox.initial_backoff_ms = 100;
        config.outbox.max_backoff_ms = 2_000;
        // The demo's accounts are throwaway ones on loopback, logged in by the script.
        config.second_factor.required_roles = Vec::new();
        let node = Node::build(config).await.with_context(|| {
            format!(
                "cannot start node {} on port {port} (is it free? try --port-base)",
                spec.node_id
            )
        })?;
        let (id, country, kind, name) = spec.authority;
        node.app()
            .bootstrap()
            .register_authority(
                Authority {
                    id: id.parse()?,
                    country: country.parse()?,
                    kind,
                    name: name.into(),
                },
                spec.node_id,
            )
            .await?;
        for (username, display_name, roles) in spec.users {
            let password = random_password_for(username);
            node.app()
                .bootstrap()
                .insert_user(&UserInput {
                    username: (*username).into(),
                    display_name: (*display_name).into(),
                    authority: id.into(),
                    roles: roles.iter().map(|role| role.to_string()).collect(),
                    password: password.clone(),
                })
                .await?;
            logins.push((
                node.url().to_string(),
                (*username).into(),
                password,
                roles.join(", "),
            ));
        }
        nodes.push(node);
    }
    // Every node trusts every other.
    for (index, node) in nodes.iter().enumerate() {
        let entry = node.peer_entry().await?;
        for (other_index, other) in nodes.iter().enumerate() {
            if other_index != index {
                other
                    .add_peer(entry.clone())
                    .await
                    .map_err(anyhow::Error::msg)?;
            }
        }
    }
    let password_of = |username: &str| {
        logins
            .iter()
            .find(|(_, user, _, _)| user == username)
            .map(|(url, _, password, _)| (url.clone(), password.clone()))
    };
    let session = |username: &'static str| {
        let (url, password) = password_of(username).unwrap_or_default();
        async move { login(&url, username, &password).await }
    };
    let lucia = session("lucia").await?;
    let ana = session("ana").await?;
    let karim = session("karim").await?;
    let salma = session("salma").await?;
    let camille = session("camille").await?;

    println!("Playing the scenario: a migrant smuggling ring across the Strait of Gibraltar...");
    let case = lucia
        .post("/api/v1/cases", &json!({"reference": "DP 311/2026", "title": "Operación Estrecho — red de tráfico de migrantes"}))
        .await?;
    let case_id = case["id"].as_str().unwrap_or_default().to_string();
    let request = lucia
        .post(
            &format!("/api/v1/cases/{case_id}/requests"),
            &strait_request(),
        )
        .await?;
    let request_id = request["id"].as_str().unwrap_or_default().to_string();
    step(
        &lucia,
        &request_id,
        "submit_for_approval",
        Some("Ready for the central authority"),
    )
    .await?;
    step(&ana, &request_id, "approve", None).await?;
    step(&ana, &request_id, "dispatch", None).await?;
    wait_for(&karim, &request_id, "delivered").await?;
    step(&karim, &request_id, "acknowledge", None).await?;
    step(&karim, &request_id, "start_assessment", None).await?;
    step(
        &karim,
        &request_id,
        "request_additional_information",
        Some("Please give the account numbers or the banks concerned, and the period covered."),
    )
    .await?;
    wait_for(&lucia, &request_id, "additional_information_requested").await?;
    step(
        &lucia,
        &request_id,
        "provide_additional_information",
        Some("Accounts at Attijariwafa bank and Banque Populaire, January 2025 to June 2026."),
    )
    .await?;
    wait_for(&karim, &request_id, "additional_information_provided").await?;
    step(
        &karim,
        &request_id,
        "accept_in_part",
        Some("Travel records accepted; bank records only for the accounts identified by number."),
    )
    .await?;
    step(&salma, &request_id, "start_execution", None).await?;
    step(
        &salma,
        &request_id,
        "send_partial_response",
        Some("Entry and exit records 2025-2026 attached."),
    )
    .await?;
    wait_for(&lucia, &request_id, "partially_executed").await?;

    // A second thread: the French prosecution asks Spain for a hearing by video conference.
    let french_case = camille
        .post("/api/v1/cases", &json!({"reference": "JIRS 2026/118", "title": "Filière de passeurs Marseille–Algésiras"}))
        .await?;
    let french_request = camille
        .post(
            &format!(
                "/api/v1/cases/{}/requests",
                french_case["id"].as_str().unwrap_or_default()
            ),
            &french_request(),
        )
        .await?;
    let french_id = french_request["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    step(&camille, &french_id, "submit_for_approval", None).await?;
    let french_officer =
        login_with_new_user(&nodes[2], "fr-parquet-marseille", &mut logins).await?;
    step(&french_officer, &french_id, "approve", None).await?;
    step(&french_officer, &french_id, "dispatch", None).await?;
    wait_for(&ana, &french_id, "delivered").await?;
    step(&ana, &french_id, "acknowledge", None).await?;

    println!("\nComity demo: three nodes are running.\n");
    for (node, spec) in nodes.iter().zip(NODES.iter()) {
        println!(
            "  {:<22} {}  ({})",
            spec.node_id,
            node.url(),
            spec.authority.3
        );
    }
    println!("\nOpen a node's address in a browser and log in:");
    for (url, username, password, roles) in &logins {
        println!("  {url:<24} {username:<10} {password}   {roles}");
    }
    println!(
        "\nCase DP 311/2026: request {request_id} (Spain → Morocco) is partially executed;\n\
         request {french_id} (France → Spain) is registered in Madrid."
    );
    if args.exit_after_scenario {
        for node in nodes {
            node.stop().await;
        }
        println!("scenario complete");
        return Ok(());
    }
    println!("\nPress Ctrl-C to stop.");
    tokio::signal::ctrl_c().await?;
    for node in nodes {
        node.stop().await;
    }
    Ok(())
}

async fn login_with_new_user(
    node: &Node,
    authority: &str,
    logins: &mut Vec<(String, String, String, String)>,
) -> anyhow::Result<Client> {
    let password = random_password_for("hugo");
    node.app()
        .bootstrap()
        .insert_user(&UserInput {
            username: "hugo".into(),
            display_name: "Hugo Lefèvre (bureau de l'entraide pénale)".into(),
            authority: authority.into(),
            roles: vec!["central_authority_officer".into()],
            password: password.clone(),
        })
        .await?;
    logins.push((
        node.url().to_string(),
        "hugo".into(),
        password.clone(),
        "central_authority_officer".into(),
    ));
    login(node.url(), "hugo", &password).await
}

/// A random password that does not contain `username` (the policy refuses those).
fn random_password_for(username: &str) -> String {
    loop {
        let password = random_password();
        if !password.to_lowercase().contains(&username.to_lowercase()) {
            return password;
        }
    }
}

fn random_password() -> String {
    let mut bytes = [0u8; 12];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

async fn login(url: &str, username: &str, password: &str) -> anyhow::Result<Client> {
    let anonymous = Client::new(url, None);
    let session = anonymous
        .post(
            "/api/v1/sessions",
            &json!({"username": username, "password": password}),
        )
        .await
        .with_context(|| format!("login of {username}"))?;
    let token = session["token"].as_str().unwrap_or_default().to_string();
    Ok(Client::new(url, Some(token)))
}

async fn step(
    client: &Client,
    request_id: &str,
    action: &str,
    reason: Option<&str>,
) -> anyhow::Result<()> {
    let reply = client
        .post(
            &format!("/api/v1/requests/{request_id}/transitions"),
            &json!({"action": action, "reason": reason}),
        )
        .await
        .with_context(|| format!("demo step `{action}`"))?;
    println!(
        "  {action:<32} → {}",
        reply["state"].as_str().unwrap_or_default()
    );
    Ok(())
}

async fn wait_for(client: &Client, request_id: &str, state: &str) -> anyhow::Result<()> {
    for _ in 0..200 {
        let reply: Value = client
            .get(&format!("/api/v1/requests/{request_id}"))
            .await
            .unwrap_or(Value::Null);
        if reply["state"] == state {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("request {request_id} did not reach {state} in time")
}

fn strait_request() -> Value {
    json!({
        "requesting_authority": "es-mjusticia-ca",
        "requested_authority": "ma-justice-ca",
        "legal_basis": ["untoc", "smuggling_protocol"],
        "subject_matter": "Criminal investigation of an organised network smuggling migrants by sea from Tangier to Tarifa",
        "conducting_authority": "Juzgado Central de Instrucción n.º 3, Audiencia Nacional, Madrid (investigating judge)",
        "offences": [
            {"national_provision": "art. 318 bis Código Penal (favorecimiento de la inmigración clandestina)",
             "category": "facilitation_of_unauthorised_entry", "maximum_penalty_months": 96},
            {"national_provision": "art. 570 bis Código Penal (organización criminal)",
             "category": "participation_in_criminal_organisation", "maximum_penalty_months": 72}
        ],
        "summary_of_facts": "Between March and June 2026 the network organised at least twelve crossings in inflatable boats carrying 340 people, among them 41 unaccompanied minors. Payments of 2,000 to 4,000 euros per person were collected in Tangier.",
        "measures": [
            {"kind": "travel_history_information", "description": "Entries into and exits from Morocco of the suspect, January 2025 to June 2026"},
            {"kind": "bank_records", "description": "Statements of accounts held by the suspect at Moroccan banks, January 2025 to June 2026"}
        ],
        "persons": [
            {"full_name": "Youssef El Amrani", "date_of_birth": "1988-02-11", "nationalities": ["MA"], "location": "Tangier", "role": "suspect"},
            {"full_name": "يوسف العمراني", "nationalities": ["MA"], "role": "suspect"},
            {"full_name": "Awa Diallo", "date_of_birth": "2010", "nationalities": ["GN"], "role": "smuggled_migrant", "vulnerabilities": ["minor"]}
        ],
        "purpose": "To establish the financial flows of the network and the suspect's presence in Tangier on the dates of the crossings",
        "confidentiality": "confidential",
        "requested_deadline": "2027-03-01"
    })
}

fn french_request() -> Value {
    json!({
        "requesting_authority": "fr-parquet-marseille",
        "requested_authority": "es-mjusticia-ca",
        "legal_basis": ["eio"],
        "subject_matter": "Preliminary investigation into a smuggling route from Algeciras to Marseille by lorry",
        "conducting_authority": "Parquet de Marseille, JIRS (public prosecutor)",
        "offences": [{"national_provision": "art. L823-1 CESEDA", "category": "facilitation_of_unauthorised_entry", "maximum_penalty_months": 60}],
        "summary_of_facts": "Migrants found in a refrigerated lorry at Marseille on 3 September 2026 said they boarded it in Algeciras.",
        "measures": [{"kind": "video_conference_hearing", "description": "Hearing of the lorry driver, a witness residing in Algeciras"}],
        "persons": [{"full_name": "Miguel Ortega Ruiz", "nationalities": ["ES"], "location": "Algeciras", "role": "witness"}],
        "purpose": "To hear the driver as a witness on the loading of the lorry",
        "urgent_reason": "The witness leaves Spain for a long-haul contract at the end of the month"
    })
}
