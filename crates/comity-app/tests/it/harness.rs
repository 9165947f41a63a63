//! Two applications over real stores and one manual clock, with no HTTP in between: Spain
//! (`node-es`, hosting `es-ca`) and Morocco (`node-ma`, hosting `ma-ca`), each with users,
//! each trusting the other's authority, and a courier that carries outgoing messages from
//! one to the other sealed, opened and receipted as the nodes' federation does.
//!
//! SQLite always (a file in a temporary directory); PostgreSQL too when
//! `COMITY_TEST_DATABASE_URL` names a server, each harness on a database of its own.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use base64::Engine;
use comity_app::inbound::{InboundOutcome, IncomingMessage};
use comity_app::second_factor::SecondFactorPolicy;
use comity_app::{App, AppError, Clock, Principal};
use comity_crypto::{
    ENVELOPE_VERSION, EnvelopeHeader, MessageId, NodeKeys, Receipt, ReceiptOutcome,
};
use comity_domain::{Authority, AuthorityKind, Timestamp};
use comity_store::{OutboxMessage, Store};
use comity_wire::RequestContentDto;
use comity_wire::api::{CaseInput, TransitionInput, UserInput};

/// Thursday 26 November 2026, 09:00 UTC: the harness's clock starts here.
pub const START_MILLIS: i64 = 1_795_683_600_000;

/// The password of every user; nobody logs in with it (sessions are opened directly).
const PASSWORD: &str = "correct horse battery staple";

/// A clock that moves only when the test moves it.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    /// A clock at [`START_MILLIS`].
    pub fn new() -> ManualClock {
        ManualClock(AtomicI64::new(START_MILLIS))
    }

    /// Moves the clock forward.
    pub fn advance_minutes(&self, minutes: i64) {
        self.0.fetch_add(minutes * 60_000, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp(self.0.load(Ordering::SeqCst))
    }
}

/// Which database a harness runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the PostgreSQL server of `COMITY_TEST_DATABASE_URL`.
    Postgres,
}

/// SQLite, and PostgreSQL when a server is configured (always under CI, where a missing
/// server is an error rather than a skip).
pub fn backends() -> Vec<Backend> {
    let mut backends = vec![Backend::Sqlite];
    if std::env::var_os(comity_store::test_support::POSTGRES_URL_VARIABLE).is_some()
        || std::env::var_os("CI").is_some()
    {
        backends.push(Backend::Postgres);
    }
    backends
}

/// Every backend wrote the same text (then one snapshot checks them all).
pub fn assert_same_on_every_backend(texts: &[(Backend, String)]) {
    let (first_backend, first) = &texts[0];
    for (backend, text) in &texts[1..] {
        assert_eq!(text, first, "{backend:?} differs from {first_backend:?}");
    }
}

/// One node's application, its federation keys and its users' principals.
#[derive(Debug)]
pub struct Node {
    /// The application.
    pub app: App,
    /// The node's signing and sealing keys.
    pub keys: NodeKeys,
    principals: HashMap<String, Principal>,
    _directory: tempfile::TempDir,
}

impl Node {
    async fn start(node_id: &str, backend: Backend, clock: Arc<ManualClock>) -> Node {
        let directory = tempfile::tempdir().expect("temporary directory");
        let url = match backend {
            Backend::Sqlite => Store::sqlite_url(&directory.path().join("comity.db")),
            Backend::Postgres => comity_store::test_support::fresh_postgres_url()
                .await
                .expect("fresh PostgreSQL database")
                .expect("COMITY_TEST_DATABASE_URL is set"),
        };
        let store = Store::open(&url).await.expect("store opens");
        // As the testkit's nodes: no role must enrol a second factor, since these tests
        // open sessions directly and never log in.
        let mut second_factor = SecondFactorPolicy::with_ephemeral_key("Comity test");
        second_factor.required_roles = Vec::new();
        let app = App::new(store, node_id, clock)
            .expect("embedded law catalog")
            .with_second_factor_policy(second_factor);
        Node {
            app,
            keys: NodeKeys::generate(&mut rand::rngs::OsRng),
            principals: HashMap::new(),
            _directory: directory,
        }
    }

    /// Registers an authority hosted on `node_id` (this node or a peer).
    async fn authority(&self, id: &str, country: &str, node_id: &str) {
        self.app
            .bootstrap()
            .register_authority(
                Authority {
                    id: id.parse().expect("authority id"),
                    country: country.parse().expect("country"),
                    kind: AuthorityKind::CentralAuthority,
                    name: format!("Authority {id}"),
                },
                node_id,
            )
            .await
            .expect("authority registered");
    }

    /// Creates a user at `authority` with `roles` and opens a session for them.
    pub async fn user(&mut self, username: &str, authority: &str, roles: &[&str]) {
        let user = self
            .app
            .bootstrap()
            .insert_user(&UserInput {
                username: username.into(),
                display_name: format!("User {username}"),
                authority: authority.into(),
                roles: roles.iter().map(|role| role.to_string()).collect(),
                password: PASSWORD.into(),
            })
            .await
            .expect("user created");
        let session = self.app.open_session(&user).await.expect("session");
        let principal = self
            .app
            .authenticate(&session.token)
            .await
            .expect("authenticated");
        self.principals.insert(username.to_string(), principal);
    }

    /// The principal of a user made by the harness.
    pub fn principal(&self, username: &str) -> &Principal {
        self.principals
            .get(username)
            .unwrap_or_else(|| panic!("no user {username} on {}", self.app.node_id()))
    }

    /// Takes an action as `username`; `reason` is left out when empty.
    pub async fn act(
        &self,
        username: &str,
        request_id: &str,
        action: &str,
        reason: &str,
    ) -> Result<comity_app::requests::RequestDetails, AppError> {
        let input = TransitionInput {
            action: action.into(),
            role: None,
            reason: (!reason.is_empty()).then(|| reason.to_string()),
            grounds: Vec::new(),
            expected_version: None,
            override_justification: None,
        };
        self.act_with(username, request_id, &input).await
    }

    /// Takes an action as `username`, with every field of the transition given.
    pub async fn act_with(
        &self,
        username: &str,
        request_id: &str,
        input: &TransitionInput,
    ) -> Result<comity_app::requests::RequestDetails, AppError> {
        let asked = input.to_domain()?;
        self.app
            .transition(
                self.principal(username),
                &comity_domain::RequestId::parse(request_id).expect("a request id"),
                &asked,
            )
            .await
    }

    /// This node's copy of a request, as `username` reads it.
    pub async fn read_as(
        &self,
        username: &str,
        request_id: &str,
    ) -> Result<comity_app::requests::RequestDetails, AppError> {
        self.app
            .request_details(
                self.principal(username),
                &comity_domain::RequestId::parse(request_id).expect("a request id"),
            )
            .await
    }

    /// The state of this node's copy of a request, as `username` sees it, or "none".
    pub async fn state_seen_by(&self, username: &str, request_id: &str) -> String {
        match self.read_as(username, request_id).await {
            Ok(details) => details.request.state.code().to_string(),
            Err(AppError::NotFound(_)) => "none".to_string(),
            Err(error) => panic!("cannot read request {request_id}: {error}"),
        }
    }

    /// Every outgoing message not yet delivered, in conversation order.
    pub async fn undelivered(&self) -> Vec<OutboxMessage> {
        let mut tx = self.app.store().begin().await.expect("transaction");
        let far_future = Timestamp(i64::MAX / 2);
        tx.due_messages(far_future, 10_000).await.expect("outbox")
    }

    /// How the inbox holds a message: `waiting`, `applied`, `rejected`, or `absent`.
    pub async fn inbox_status(&self, message_id: &str) -> String {
        let mut tx = self.app.store().begin().await.expect("transaction");
        match tx.inbox_message(message_id).await.expect("inbox") {
            Some(message) => format!("{:?}", message.status).to_lowercase(),
            None => "absent".to_string(),
        }
    }
}

/// Spain and Morocco, and the clock they share.
#[derive(Debug)]
pub struct Harness {
    /// The requesting node: `es-ca` with a prosecutor `fiscal`, two central authority
    /// officers `ana` and `pablo` (four eyes), an `auditor` and an `admin`.
    pub spain: Node,
    /// The requested node: `ma-ca` with a central authority officer `karim` and an
    /// executing officer `salma`.
    pub morocco: Node,
    /// The clock both use.
    pub clock: Arc<ManualClock>,
}

impl Harness {
    /// Both nodes on `backend`, each knowing the other's authority.
    pub async fn start(backend: Backend) -> Harness {
        let clock = Arc::new(ManualClock::new());
        let mut spain = Node::start("node-es", backend, clock.clone()).await;
        let mut morocco = Node::start("node-ma", backend, clock.clone()).await;
        for node in [&spain, &morocco] {
            node.authority("es-ca", "ES", "node-es").await;
            node.authority("ma-ca", "MA", "node-ma").await;
        }
        spain
            .user("fiscal", "es-ca", &["requesting_prosecutor"])
            .await;
        spain
            .user("ana", "es-ca", &["central_authority_officer"])
            .await;
        spain
            .user("pablo", "es-ca", &["central_authority_officer"])
            .await;
        spain.user("auditor", "es-ca", &["auditor"]).await;
        spain.user("admin", "es-ca", &["administrator"]).await;
        morocco
            .user("karim", "ma-ca", &["central_authority_officer"])
            .await;
        morocco.user("salma", "ma-ca", &["executing_officer"]).await;
        Harness {
            spain,
            morocco,
            clock,
        }
    }

    /// A draft from `es-ca` to `ma-ca` in a new case, written by `username` in Spain.
    pub async fn draft(&self, username: &str) -> String {
        self.draft_of(username, &sample_draft()).await
    }

    /// A draft of `content` in a new case, written by `username` in Spain.
    pub async fn draft_of(&self, username: &str, content: &RequestContentDto) -> String {
        let principal = self.spain.principal(username);
        let case = self
            .spain
            .app
            .create_case(
                principal,
                &CaseInput {
                    reference: "DP 12/2026".into(),
                    title: "Estrecho ring".into(),
                },
            )
            .await
            .expect("case opened");
        let draft = self
            .spain
            .app
            .create_request(principal, &case.id, content)
            .await
            .expect("draft written");
        draft.request.id.to_string()
    }

    /// A request drafted by `ana`, approved by `pablo`, dispatched by `pablo`, and
    /// carried to Morocco (with the receipt back).
    pub async fn dispatched(&self) -> String {
        let id = self.draft("ana").await;
        for (username, action) in [
            ("ana", "submit_for_approval"),
            ("pablo", "approve"),
            ("pablo", "dispatch"),
        ] {
            self.spain
                .act(username, &id, action, "")
                .await
                .unwrap_or_else(|error| panic!("{username} cannot {action}: {error}"));
        }
        for message in self.spain.undelivered().await {
            carry(&self.spain, &self.morocco, &message).await;
        }
        id
    }
}

/// A sealed envelope on its way, and the outbox message it was sealed from.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The outbox message it was sealed from (a reissued envelope carries another id).
    pub message: OutboxMessage,
    /// The envelope's bytes.
    pub bytes: Vec<u8>,
}

/// Seals an outbox message of `from` for `to`, as the sender does before posting it.
pub fn seal(from: &Node, to: &Node, message: &OutboxMessage) -> Envelope {
    assert_eq!(message.recipient_node, to.app.node_id(), "{message:?}");
    let header = EnvelopeHeader {
        version: ENVELOPE_VERSION,
        message_id: message.message_id.parse::<MessageId>().expect("message id"),
        sender: from.app.node_id().to_string(),
        recipient: message.recipient_node.clone(),
        message_type: message.message_type.clone(),
        conversation_id: message.conversation_id.clone(),
        sequence: u64::try_from(message.sequence).expect("sequence"),
        sent_at_ms: from.app.now().millis(),
        in_reply_to: None,
    };
    let bytes = comity_crypto::seal(
        &from.keys,
        &to.keys.public_identity(),
        &header,
        message.body.as_bytes(),
        &mut rand::rngs::OsRng,
    )
    .expect("sealed");
    Envelope {
        message: message.clone(),
        bytes,
    }
}

/// The same message sealed again under a new message id (a replay or a reissue: same
/// conversation, same sequence, same body).
pub fn reissue(from: &Node, to: &Node, message: &OutboxMessage) -> Envelope {
    let mut reissued = message.clone();
    reissued.message_id = uuid::Uuid::now_v7().to_string();
    Envelope {
        message: message.clone(),
        bytes: seal(from, to, &reissued).bytes,
    }
}

/// Opens `envelope` at `to` and hands it to the inbox, as the receiving endpoint does;
/// signs a receipt, which `from` verifies and records. Returns what the inbox did.
pub async fn receive(from: &Node, to: &Node, envelope: &Envelope) -> InboundOutcome {
    let opened = comity_crypto::open(
        &to.keys,
        &envelope.bytes,
        from.keys.public_identity().signing_key_bytes(),
    )
    .expect("envelope opens");
    let outcome = to
        .app
        .accept_incoming(&IncomingMessage {
            message_id: opened.header.message_id.to_string(),
            sender_node: opened.header.sender.clone(),
            conversation_id: opened.header.conversation_id.clone(),
            sequence: i64::try_from(opened.header.sequence).expect("sequence"),
            message_type: opened.header.message_type.clone(),
            body: String::from_utf8(opened.body.clone()).expect("UTF-8 body"),
            envelope: base64::engine::general_purpose::STANDARD.encode(&envelope.bytes),
        })
        .await
        .expect("inbox stores the message");
    let receipt = Receipt {
        message_id: opened.header.message_id,
        recipient: to.app.node_id().to_string(),
        sender: opened.header.sender.clone(),
        body_commitment: Some(opened.body_commitment),
        envelope_hash: opened.envelope_hash,
        received_at_ms: to.app.now().millis(),
        outcome: match &outcome {
            InboundOutcome::Applied | InboundOutcome::Queued => ReceiptOutcome::Accepted,
            InboundOutcome::Duplicate => ReceiptOutcome::Duplicate,
            InboundOutcome::Rejected(reason) => {
                ReceiptOutcome::Rejected(reason.chars().take(200).collect())
            }
        },
    };
    let signed = comity_crypto::sign_receipt(&to.keys, &receipt).expect("receipt signed");
    comity_crypto::verify_receipt(&signed, to.keys.public_identity().signing_key_bytes())
        .expect("receipt verifies");
    // A reissued message has no outbox row at the sender: nothing to record there.
    if opened.header.message_id.to_string() == envelope.message.message_id {
        from.app
            .record_receipt(
                &envelope.message.message_id,
                &base64::engine::general_purpose::STANDARD.encode(&signed),
            )
            .await
            .expect("receipt recorded");
    }
    outcome
}

/// Seals, delivers and receipts one message.
pub async fn carry(from: &Node, to: &Node, message: &OutboxMessage) -> InboundOutcome {
    receive(from, to, &seal(from, to, message)).await
}

/// What the inbox did, in a word.
pub fn outcome_word(outcome: &InboundOutcome) -> String {
    match outcome {
        InboundOutcome::Applied => "applied".into(),
        InboundOutcome::Queued => "queued".into(),
        InboundOutcome::Duplicate => "duplicate".into(),
        InboundOutcome::Rejected(_) => "rejected".into(),
    }
}

/// A complete, valid draft from `es-ca` to `ma-ca` (the testkit's sample).
pub fn sample_draft() -> RequestContentDto {
    serde_json::from_value(serde_json::json!({
        "requesting_authority": "es-ca",
        "requested_authority": "ma-ca",
        "legal_basis": ["untoc"],
        "subject_matter": "Investigation of a migrant smuggling network operating across the Strait of Gibraltar",
        "conducting_authority": "Juzgado Central de Instrucción n.º 3, Audiencia Nacional (investigating judge)",
        "offences": [{
            "national_provision": "art. 318 bis Código Penal",
            "category": "facilitation_of_unauthorised_entry",
            "maximum_penalty_months": 96
        }],
        "summary_of_facts": "Between March and June 2026 the suspects organised at least twelve crossings in inflatable boats.",
        "measures": [
            {"kind": "travel_history_information", "description": "Entries and exits of the suspect, 2025-2026"},
            {"kind": "bank_records", "description": "Statements of accounts held by the suspect at Moroccan banks"}
        ],
        "persons": [
            {"full_name": "Youssef El Amrani", "date_of_birth": "1988-02-11", "nationalities": ["MA"], "role": "suspect"},
            {"full_name": "Awa Diallo", "date_of_birth": "2010", "nationalities": ["GN"], "role": "smuggled_migrant", "vulnerabilities": ["minor"]}
        ],
        "purpose": "To establish the financial flows of the network and the suspect's presence in Tangier",
        "confidentiality": "confidential",
        "requested_deadline": "2027-03-01"
    }))
    .expect("the sample draft is valid")
}
