//! The sending side of the transport: each peer is reached with its own pinned
//! certificate only, redirects are not followed, and answers are read with a limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::http::StatusCode;
use axum::response::IntoResponse;
use comity_domain::{AuthorityKind, Timestamp};
use comity_node::federation;
use comity_node::identity::{PeerAuthority, PeerEntry, PeerKey};
use comity_store::{OutboxMessage, OutboxStatus};
use comity_testkit::{Backend, TestNode};

fn message_to(recipient: &str) -> OutboxMessage {
    OutboxMessage {
        message_id: uuid_text(),
        recipient_node: recipient.to_string(),
        conversation_id: uuid_text(),
        sequence: 1,
        message_type: comity_wire::federation::request::TYPE_DISPATCHED.into(),
        in_reply_to: None,
        body: "{}".into(),
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at: Timestamp(0),
        created_at: Timestamp(0),
        last_error: None,
        receipt: None,
    }
}

fn uuid_text() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// A peer entry for a node that does not exist: fresh keys, reached at `endpoint`.
fn invented_peer(node_id: &str, endpoint: &str) -> PeerEntry {
    let keys = comity_crypto::NodeKeys::generate(&mut rand::rngs::OsRng);
    PeerEntry {
        node_id: node_id.into(),
        endpoint: endpoint.into(),
        authorities: vec![PeerAuthority {
            id: format!("{node_id}-ca"),
            country: "PT".into(),
            kind: AuthorityKind::CentralAuthority.code().into(),
            name: "Invented".into(),
        }],
        keys: vec![PeerKey {
            public: keys.public_identity().to_text(),
            valid_from_ms: 0,
            valid_until_ms: None,
        }],
        tls_certificate: None,
        recovery_key: None,
        accepts: None,
    }
}

/// Serves `router` on a free loopback port; returns its base URL.
async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, router).await });
    format!("http://{address}")
}

#[tokio::test]
async fn a_peer_is_reached_only_with_its_own_pinned_certificate() {
    let spain = TestNode::spawn_https("es-node").await.expect("node");
    let morocco = TestNode::spawn_https("ma-node").await.expect("node");
    let france = TestNode::spawn_https("fr-node").await.expect("node");
    spain.peer_with(&morocco).await.expect("peer");
    spain.peer_with(&france).await.expect("peer");

    // Morocco's entry now points at the French node, which holds a certificate Spain
    // pinned for France: Spain must not accept it for Morocco.
    let mut moved = morocco.node.peer_entry().await.expect("entry");
    moved.endpoint = france.url();
    spain.node.add_peer(moved).await.expect("update");
    let error = federation::send(spain.node.federation(), &message_to("ma-node"))
        .await
        .expect_err("France's certificate is not Morocco's");
    let text = error.to_string();
    assert!(
        !text.contains("answered"),
        "the TLS handshake must fail, not reach the impostor: {text}"
    );

    // The French node itself is reached with its own certificate: it answers with a
    // signed receipt (rejecting the empty test message), which proves the connection.
    federation::send(spain.node.federation(), &message_to("fr-node"))
        .await
        .expect("France is reached and answers with a receipt");
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let internal_hits = Arc::new(AtomicUsize::new(0));
    let hits = internal_hits.clone();
    let internal = serve(axum::Router::new().fallback(move || {
        hits.fetch_add(1, Ordering::SeqCst);
        async { StatusCode::OK }
    }))
    .await;
    let target = format!("{internal}/internal/admin/purge?all=1");
    let redirecting = serve(axum::Router::new().fallback(move || {
        let target = target.clone();
        async move {
            (
                StatusCode::TEMPORARY_REDIRECT,
                [(axum::http::header::LOCATION, target)],
            )
                .into_response()
        }
    }))
    .await;
    let node = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("node");
    node.node
        .add_peer(invented_peer("zz-node", &redirecting))
        .await
        .expect("peer");
    let error = federation::send(node.node.federation(), &message_to("zz-node"))
        .await
        .expect_err("a redirect is a failure");
    assert!(error.to_string().contains("307"), "{error}");
    let announced = federation::announce_keys(node.node.federation()).await;
    drop(announced);
    assert_eq!(
        internal_hits.load(Ordering::SeqCst),
        0,
        "nothing reached the redirect's target"
    );
}

#[tokio::test]
async fn answers_are_read_with_a_limit() {
    const HUGE: usize = 8 * 1024 * 1024;
    let declared = serve(axum::Router::new().fallback(|| async { vec![b'x'; HUGE] })).await;
    let streamed = serve(axum::Router::new().fallback(|| async {
        let chunks = futures_chunks(HUGE / 65536);
        axum::body::Body::from_stream(chunks)
    }))
    .await;
    let node = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("node");
    for (name, endpoint) in [("yy-node", &declared), ("zz-node", &streamed)] {
        node.node
            .add_peer(invented_peer(name, endpoint))
            .await
            .expect("peer");
        let error = federation::send(node.node.federation(), &message_to(name))
            .await
            .expect_err("a huge receipt is refused");
        assert!(error.to_string().contains("limit"), "{name}: {error}");
    }
}

/// `count` chunks of 64 KiB, sent without a declared length.
fn futures_chunks(count: usize) -> impl futures::Stream<Item = Result<Vec<u8>, std::io::Error>> {
    futures::stream::iter((0..count).map(|_| Ok(vec![b'y'; 65536])))
}

#[tokio::test]
async fn a_slow_peer_does_not_hold_back_other_conversations() {
    let slow_reached = Arc::new(tokio::sync::Notify::new());
    let reached = slow_reached.clone();
    let slow = serve(axum::Router::new().fallback(move || {
        reached.notify_one();
        async {
            tokio::time::sleep(std::time::Duration::from_secs(25)).await;
            StatusCode::SERVICE_UNAVAILABLE
        }
    }))
    .await;
    let fast_hits = Arc::new(tokio::sync::Notify::new());
    let hit = fast_hits.clone();
    let fast = serve(axum::Router::new().fallback(move || {
        hit.notify_one();
        async { StatusCode::SERVICE_UNAVAILABLE }
    }))
    .await;
    let node = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("node");
    for (name, endpoint) in [("slow-node", &slow), ("fast-node", &fast)] {
        node.node
            .add_peer(invented_peer(name, endpoint))
            .await
            .expect("peer");
    }
    let enqueue = |recipient: &'static str| {
        let app = node.app().clone();
        async move {
            let mut message = message_to(recipient);
            message.next_attempt_at = app.now();
            message.created_at = app.now();
            let mut tx = app.store().begin().await.expect("tx");
            tx.enqueue(&message).await.expect("enqueue");
            tx.commit().await.expect("commit");
            app.outbox_signal().notify_one();
        }
    };
    enqueue("slow-node").await;
    tokio::time::timeout(std::time::Duration::from_secs(10), slow_reached.notified())
        .await
        .expect("the slow peer is being sent to");
    enqueue("fast-node").await;
    tokio::time::timeout(std::time::Duration::from_secs(10), fast_hits.notified())
        .await
        .expect("the other peer is sent to while the slow one still holds its delivery");
}
