//! The storage suite, run against every backend: SQLite on disk, and PostgreSQL when
//! `COMITY_TEST_DATABASE_URL` names a server.

mod outbox_batches;

use comity_domain::{
    Action, Actor, Authority, AuthorityKind, Case, Confidentiality, Origin, Request,
    RequestContent, RequestState, Role, Side, Timestamp, TransitionRecord, Urgency,
};
mod blob_references;
mod migrations;
mod rows;

use comity_store::{
    AuthorityRecord, InboxMessage, InboxStatus, OutboxMessage, OutboxStatus, RequestFilter,
    SessionRecord, Store, StoreError, UserRecord,
};

/// Runs `check` once per backend, each with a fresh database.
async fn for_each_backend<F, Fut>(check: F)
where
    F: Fn(Store) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let directory = tempfile::tempdir().expect("temp dir");
    let sqlite = Store::open(&Store::sqlite_url(&directory.path().join("comity.db")))
        .await
        .expect("open sqlite");
    check(sqlite).await;
    let postgres_url = comity_store::test_support::fresh_postgres_url()
        .await
        .expect("create postgres database");
    if let Some(url) = postgres_url {
        let postgres = Store::open(&url).await.expect("open postgres");
        check(postgres).await;
    }
}

fn authority(id: &str, country: &str) -> AuthorityRecord {
    AuthorityRecord {
        authority: Authority {
            id: id.parse().expect("id"),
            country: country.parse().expect("country"),
            kind: AuthorityKind::CentralAuthority,
            name: format!("Authority {id}"),
        },
        node_id: "node-a".into(),
        is_local: true,
    }
}

fn content() -> RequestContent {
    RequestContent {
        requesting_authority: "es-ca".parse().expect("id"),
        requesting_country: "ES".parse().expect("ES"),
        requested_authority: "ma-ca".parse().expect("id"),
        requested_country: "MA".parse().expect("MA"),
        legal_basis: vec!["untoc".into()],
        subject_matter: "smuggling ring".into(),
        conducting_authority: "Juzgado Central de Instrucción n.º 3".into(),
        offences: vec![],
        summary_of_facts: "Facts".into(),
        measures: vec![],
        persons: vec![],
        purpose: "evidence".into(),
        urgency: Urgency::Urgent {
            reason: "custody".into(),
        },
        confidentiality: Confidentiality::Confidential,
        requested_deadline: None,
        assurances_given: false,
        attachments: vec![],
    }
}

async fn seed(store: &Store) -> Request {
    let mut tx = store.begin().await.expect("begin");
    tx.upsert_authority(&authority("es-ca", "ES"))
        .await
        .expect("authority");
    tx.upsert_authority(&authority("ma-ca", "MA"))
        .await
        .expect("authority");
    let case = Case {
        id: comity_domain::CaseId::parse("case-1").expect("id"),
        authority: "es-ca".parse().expect("id"),
        reference: "DP 1/2026".into(),
        title: "Ring".into(),
        created_at: Timestamp(1),
    };
    tx.insert_case(&case).await.expect("case");
    let request = Request {
        id: comity_domain::RequestId::parse("req-1").expect("id"),
        case_id: case.id.clone(),
        side: Side::Requesting,
        state: RequestState::Draft,
        content: content(),
        created_at: Timestamp(2),
        updated_at: Timestamp(2),
        version: 1,
    };
    tx.insert_request(&request).await.expect("request");
    tx.commit().await.expect("commit");
    request
}

#[tokio::test]
async fn requests_round_trip_with_history() {
    for_each_backend(|store| async move {
        let request = seed(&store).await;
        let mut tx = store.begin().await.expect("begin");
        let loaded = tx
            .request("req-1", Side::Requesting)
            .await
            .expect("load")
            .expect("found");
        assert_eq!(loaded, request);
        let mut moved = loaded.clone();
        moved.state = RequestState::PendingApproval;
        moved.updated_at = Timestamp(3);
        tx.update_request(&moved, 1).await.expect("update");
        let record = TransitionRecord {
            action: Action::SubmitForApproval,
            from: RequestState::Draft,
            to: RequestState::PendingApproval,
            actor: Actor::User {
                user_id: comity_domain::UserId::parse("u1").expect("id"),
                role: Role::RequestingProsecutor,
            },
            origin: Origin::Local,
            at: Timestamp(3),
            reason: Some("ready".into()),
            grounds: vec!["UNTOC art. 18".into()],
        };
        tx.append_history("req-1", Side::Requesting, &record)
            .await
            .expect("history");
        tx.commit().await.expect("commit");

        let mut tx = store.begin().await.expect("begin");
        let loaded = tx
            .request("req-1", Side::Requesting)
            .await
            .expect("load")
            .expect("found");
        assert_eq!(loaded.state, RequestState::PendingApproval);
        assert_eq!(loaded.version, 2);
        assert_eq!(
            tx.history("req-1", Side::Requesting)
                .await
                .expect("history"),
            vec![record]
        );
        let listed = tx
            .requests(&RequestFilter {
                holders: vec!["es-ca".parse().expect("id")],
                ..Default::default()
            })
            .await
            .expect("list");
        assert_eq!(listed.len(), 1);
        let other = tx
            .requests(&RequestFilter {
                holders: vec!["ma-ca".parse().expect("id")],
                ..Default::default()
            })
            .await
            .expect("list");
        assert!(
            other.is_empty(),
            "another authority's requests are not listed"
        );
    })
    .await;
}

#[tokio::test]
async fn stale_versions_conflict_and_rollback_leaves_nothing() {
    for_each_backend(|store| async move {
        let request = seed(&store).await;
        let mut tx = store.begin().await.expect("begin");
        let mut moved = request.clone();
        moved.state = RequestState::PendingApproval;
        let error = tx
            .update_request(&moved, 7)
            .await
            .expect_err("stale version");
        assert!(matches!(error, StoreError::Conflict(_)), "{error}");
        drop(tx);

        // A transaction dropped half-way leaves no trace.
        let mut tx = store.begin().await.expect("begin");
        tx.update_request(&moved, 1).await.expect("update");
        tx.append_history(
            "req-1",
            Side::Requesting,
            &TransitionRecord {
                action: Action::SubmitForApproval,
                from: RequestState::Draft,
                to: RequestState::PendingApproval,
                actor: Actor::System,
                origin: Origin::Local,
                at: Timestamp(3),
                reason: None,
                grounds: vec![],
            },
        )
        .await
        .expect("history");
        drop(tx);
        let mut tx = store.begin().await.expect("begin");
        let loaded = tx
            .request("req-1", Side::Requesting)
            .await
            .expect("load")
            .expect("found");
        assert_eq!(loaded.state, RequestState::Draft);
        assert!(
            tx.history("req-1", Side::Requesting)
                .await
                .expect("history")
                .is_empty()
        );
    })
    .await;
}

#[tokio::test]
async fn users_are_unique_by_name() {
    for_each_backend(|store| async move {
        seed(&store).await;
        let user = UserRecord {
            id: comity_domain::UserId::parse("u1").expect("id"),
            username: "ana".into(),
            display_name: "Ana García".into(),
            authority: "es-ca".parse().expect("id"),
            roles: vec![Role::CentralAuthorityOfficer, Role::Supervisor],
            password_hash: "$argon2id$...".into(),
            active: true,
            must_change_password: false,
            created_at: Timestamp(5),
        };
        let mut tx = store.begin().await.expect("begin");
        tx.insert_user(&user).await.expect("insert");
        let duplicate = UserRecord {
            id: comity_domain::UserId::parse("u2").expect("id"),
            ..user.clone()
        };
        let error = tx.insert_user(&duplicate).await.expect_err("duplicate");
        assert!(matches!(error, StoreError::Conflict(_)), "{error}");
        tx.commit().await.expect("commit");
        let mut tx = store.begin().await.expect("begin");
        assert_eq!(tx.user_by_username("ana").await.expect("find"), Some(user));
    })
    .await;
}

fn user(id: &str, username: &str, authority: &str) -> UserRecord {
    UserRecord {
        id: comity_domain::UserId::parse(id).expect("id"),
        username: username.into(),
        display_name: format!("User {username}"),
        authority: authority.parse().expect("id"),
        roles: vec![Role::Administrator],
        password_hash: "$argon2id$...".into(),
        active: true,
        must_change_password: false,
        created_at: Timestamp(5),
    }
}

fn session(id: &str, user_id: &str, created: i64, last_seen: i64, expires: i64) -> SessionRecord {
    SessionRecord {
        id: id.into(),
        token_hash: format!("hash-{id}"),
        user_id: comity_domain::UserId::parse(user_id).expect("id"),
        created_at: Timestamp(created),
        last_seen_at: Timestamp(last_seen),
        expires_at: Timestamp(expires),
    }
}

#[tokio::test]
async fn users_are_updated_and_listed_per_authority() {
    for_each_backend(|store| async move {
        seed(&store).await;
        let mut tx = store.begin().await.expect("begin");
        tx.insert_user(&user("u1", "ana", "es-ca"))
            .await
            .expect("insert");
        tx.insert_user(&user("u2", "karim", "ma-ca"))
            .await
            .expect("insert");
        let mut changed = user("u1", "ana", "es-ca");
        changed.display_name = "Ana G.".into();
        changed.roles = vec![Role::Administrator, Role::NodeOperator];
        changed.active = false;
        changed.must_change_password = true;
        changed.password_hash = "$argon2id$new".into();
        assert!(tx.update_user(&changed).await.expect("update"));
        assert!(
            !tx.update_user(&user("nobody", "x", "es-ca"))
                .await
                .expect("update")
        );
        tx.commit().await.expect("commit");
        let mut tx = store.begin().await.expect("begin");
        assert_eq!(tx.user("u1").await.expect("user"), Some(changed));
        let es: Vec<String> = tx
            .users_of(&"es-ca".parse().expect("id"))
            .await
            .expect("users")
            .into_iter()
            .map(|user| user.username)
            .collect();
        assert_eq!(es, ["ana"]);
    })
    .await;
}

#[tokio::test]
async fn sessions_end_by_expiry_idleness_or_revocation_and_are_purged() {
    for_each_backend(|store| async move {
        seed(&store).await;
        let mut tx = store.begin().await.expect("begin");
        tx.insert_user(&user("u1", "ana", "es-ca"))
            .await
            .expect("insert");
        tx.insert_user(&user("u2", "karim", "ma-ca"))
            .await
            .expect("insert");
        // now = 1000, idle since = 500: s-live is live, s-idle idle, s-old expired.
        tx.insert_session(&session("s-live", "u1", 100, 900, 5_000))
            .await
            .expect("s");
        tx.insert_session(&session("s-idle", "u1", 200, 400, 5_000))
            .await
            .expect("s");
        tx.insert_session(&session("s-old", "u1", 300, 950, 1_000))
            .await
            .expect("s");
        tx.insert_session(&session("s-other", "u2", 100, 900, 5_000))
            .await
            .expect("s");
        let (now, idle_since) = (Timestamp(1_000), Timestamp(500));
        let found = tx
            .live_session("hash-s-live", now, idle_since)
            .await
            .expect("live");
        assert_eq!(found.map(|s| s.id).as_deref(), Some("s-live"));
        for gone in ["hash-s-idle", "hash-s-old"] {
            assert_eq!(
                tx.live_session(gone, now, idle_since).await.expect("live"),
                None
            );
        }
        let live: Vec<String> = tx
            .sessions_of("u1", now, idle_since)
            .await
            .expect("sessions")
            .into_iter()
            .map(|s| s.id)
            .collect();
        assert_eq!(live, ["s-live"]);
        tx.touch_session("s-live", Timestamp(990))
            .await
            .expect("touch");
        assert_eq!(tx.purge_sessions(now, idle_since).await.expect("purge"), 2);
        assert_eq!(
            tx.live_session("hash-s-live", Timestamp(1_400), Timestamp(950))
                .await
                .expect("live")
                .map(|s| s.last_seen_at),
            Some(Timestamp(990))
        );
        assert!(
            !tx.delete_session_of("u2", "s-live")
                .await
                .expect("not hers")
        );
        assert!(tx.delete_session_of("u1", "s-live").await.expect("revoke"));
        tx.insert_session(&session("s-a", "u1", 1, 990, 5_000))
            .await
            .expect("s");
        tx.insert_session(&session("s-b", "u1", 2, 990, 5_000))
            .await
            .expect("s");
        assert_eq!(
            tx.delete_sessions_of("u1", Some("s-b"))
                .await
                .expect("others"),
            1
        );
        assert_eq!(tx.delete_sessions_of("u1", None).await.expect("all"), 1);
        assert_eq!(
            tx.sessions_of("u2", now, idle_since)
                .await
                .expect("u2")
                .len(),
            1
        );
        tx.commit().await.expect("commit");
    })
    .await;
}

#[tokio::test]
async fn outbox_and_inbox_keep_order_and_drop_duplicates() {
    for_each_backend(|store| async move {
        let mut tx = store.begin().await.expect("begin");
        for expected in 1..=3 {
            let sequence = tx
                .take_outgoing_sequence("conv", "node-b")
                .await
                .expect("seq");
            assert_eq!(sequence, expected);
            tx.enqueue(&OutboxMessage {
                message_id: format!("m{sequence}"),
                recipient_node: "node-b".into(),
                conversation_id: "conv".into(),
                sequence,
                message_type: "t".into(),
                in_reply_to: None,
                body: "{}".into(),
                status: OutboxStatus::Pending,
                attempts: 0,
                next_attempt_at: Timestamp(10),
                created_at: Timestamp(sequence),
                last_error: None,
                receipt: None,
            })
            .await
            .expect("enqueue");
        }
        tx.commit().await.expect("commit");
        let mut tx = store.begin().await.expect("begin");
        assert!(
            tx.due_messages(Timestamp(9), 10)
                .await
                .expect("due")
                .is_empty()
        );
        let due = tx.due_messages(Timestamp(10), 10).await.expect("due");
        assert_eq!(
            due.iter().map(|m| m.sequence).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        let delivered = tx
            .mark_delivered("m1", "receipt", Timestamp(11))
            .await
            .expect("deliver")
            .expect("newly delivered");
        assert_eq!(delivered.conversation_id, "conv");
        assert_eq!(delivered.recipient_node, "node-b");
        assert!(
            tx.mark_delivered("m1", "receipt", Timestamp(12))
                .await
                .expect("again")
                .is_none()
        );
        tx.reschedule("m2", Timestamp(100), "peer down")
            .await
            .expect("reschedule");
        tx.mark_dead("m3", Timestamp(12), "gave up")
            .await
            .expect("dead");
        let due = tx.due_messages(Timestamp(50), 10).await.expect("due");
        assert!(due.is_empty());
        let dead = tx
            .outbox_in_status(OutboxStatus::Dead, 10)
            .await
            .expect("dead");
        assert_eq!(dead.len(), 1);

        let message = InboxMessage {
            message_id: "in-1".into(),
            sender_node: "node-b".into(),
            conversation_id: "conv".into(),
            sequence: 2,
            message_type: "t".into(),
            body: "{}".into(),
            envelope: "AAAA".into(),
            status: InboxStatus::Waiting,
            received_at: Timestamp(20),
            outcome: None,
        };
        assert!(tx.insert_inbox(&message).await.expect("insert"));
        assert!(!tx.insert_inbox(&message).await.expect("duplicate dropped"));
        assert_eq!(
            tx.expected_incoming_sequence("conv", "node-b")
                .await
                .expect("seq"),
            1
        );
        assert!(
            tx.waiting_message("conv", "node-b", 1)
                .await
                .expect("wait")
                .is_none()
        );
        tx.advance_incoming_sequence("conv", "node-b")
            .await
            .expect("advance");
        let next = tx.waiting_message("conv", "node-b", 2).await.expect("wait");
        assert_eq!(next.map(|m| m.message_id), Some("in-1".to_string()));
        tx.finish_inbox("in-1", InboxStatus::Applied, None, Timestamp(21))
            .await
            .expect("finish");
        assert!(
            tx.waiting_message("conv", "node-b", 2)
                .await
                .expect("wait")
                .is_none()
        );
        tx.commit().await.expect("commit");
    })
    .await;
}

#[tokio::test]
async fn sqlite_runs_in_wal_mode_on_disk() {
    let directory = tempfile::tempdir().expect("temp dir");
    let path = directory.path().join("wal.db");
    let store = Store::open(&Store::sqlite_url(&path)).await.expect("open");
    seed(&store).await;
    assert!(path.exists());
    assert!(
        directory.path().join("wal.db-wal").exists(),
        "WAL file next to the database"
    );
}

#[tokio::test]
async fn unsupported_urls_are_refused() {
    let error = Store::open("mysql://localhost/x")
        .await
        .expect_err("unsupported");
    assert!(error.to_string().contains("unsupported database url"));
}
