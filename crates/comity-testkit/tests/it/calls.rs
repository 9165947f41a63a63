//! Calls and blobs between real nodes (`docs/protocol.md`, section 10): a sealed question
//! answered in the response, refused by name when unknown, never answered twice, only
//! from peers on the trust list; blobs fetched in chunks by the peer they were sent to,
//! and by nobody else, and checked against their name.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use comity_crypto::{ENVELOPE_VERSION, EnvelopeHeader, MessageId};
use comity_domain::AuthorityKind;
use comity_node::federation::blobs::{self, BlobError, BlobRef};
use comity_node::federation::calls::{self, CallContext, CallError, CallRefusal};
use comity_testkit::{Backend, TestNode, sample_draft};
use serde_json::json;

const ECHO: &str = "comity.test.echo.v1";

/// Registers on `node` a call that answers with the caller and the question, counting
/// the questions it answers.
fn register_echo(node: &TestNode) -> Arc<AtomicUsize> {
    let answered = Arc::new(AtomicUsize::new(0));
    let counter = answered.clone();
    node.node
        .federation()
        .calls
        .register(ECHO, move |context: CallContext, body| {
            let counter = counter.clone();
            Box::pin(async move {
                counter.fetch_add(1, Ordering::SeqCst);
                if body.get("refuse").is_some() {
                    return Err(CallRefusal::Refused("asked to refuse".into()));
                }
                Ok(json!({"caller": context.caller, "question": body}))
            })
        })
        .expect("register");
    answered
}

async fn two_nodes() -> (TestNode, TestNode) {
    let spain = TestNode::spawn("es-node", Backend::Sqlite)
        .await
        .expect("spain");
    let morocco = TestNode::spawn("ma-node", Backend::Sqlite)
        .await
        .expect("morocco");
    spain.peer_with(&morocco).await.expect("trust");
    (spain, morocco)
}

#[tokio::test]
async fn a_registered_call_answers_and_an_unknown_one_is_refused_by_name() {
    let (spain, morocco) = two_nodes().await;
    let answered = register_echo(&morocco);

    let answer = calls::call(spain.node.federation(), "ma-node", ECHO, &json!({"n": 7}))
        .await
        .expect("answer");
    assert_eq!(answer, json!({"caller": "es-node", "question": {"n": 7}}));
    assert_eq!(answered.load(Ordering::SeqCst), 1);

    let refused = calls::call(
        spain.node.federation(),
        "ma-node",
        ECHO,
        &json!({"refuse": true}),
    )
    .await
    .expect_err("the handler refuses");
    assert_eq!(refused, CallError::Refused("asked to refuse".into()));

    let unknown = calls::call(
        spain.node.federation(),
        "ma-node",
        "comity.test.unknown.v1",
        &json!({}),
    )
    .await
    .expect_err("nobody answers this type");
    match unknown {
        CallError::Refused(reason) => assert!(
            reason.contains("unknown call type `comity.test.unknown.v1`"),
            "{reason}"
        ),
        other => panic!("expected a refusal by name, got {other:?}"),
    }
    // Spain registered nothing: the same call the other way is refused by name too.
    let reverse = calls::call(morocco.node.federation(), "es-node", ECHO, &json!({}))
        .await
        .expect_err("Spain has no echo");
    assert!(matches!(reverse, CallError::Refused(reason) if reason.contains(ECHO)));
    assert_eq!(
        answered.load(Ordering::SeqCst),
        2,
        "one echo refused, one answered"
    );
}

/// Seals a question from `caller` to `callee` as [`calls::call`] would, sent at
/// `sent_at_ms`.
fn question(caller: &TestNode, callee: &TestNode, sent_at_ms: i64) -> (Vec<u8>, MessageId) {
    let message_id = MessageId::random(&mut rand::rngs::OsRng);
    let header = EnvelopeHeader {
        version: ENVELOPE_VERSION,
        message_id,
        sender: caller.app().node_id().into(),
        recipient: callee.app().node_id().into(),
        message_type: ECHO.into(),
        conversation_id: format!("test:{}", MessageId::random(&mut rand::rngs::OsRng)),
        sequence: 0,
        sent_at_ms,
        in_reply_to: None,
    };
    let sealed = comity_crypto::seal(
        &caller.node.federation().federation.keys(),
        &callee.node.federation().federation.keys().public_identity(),
        &header,
        br#"{"n": 1}"#,
        &mut rand::rngs::OsRng,
    )
    .expect("seal");
    (sealed, message_id)
}

async fn post_call(node: &TestNode, bytes: Vec<u8>) -> (u16, Vec<u8>) {
    let response = reqwest::Client::new()
        .post(format!("{}{}", node.url(), calls::CALLS_PATH))
        .header("content-type", "application/cose")
        .body(bytes)
        .send()
        .await
        .expect("post");
    let status = response.status().as_u16();
    (status, response.bytes().await.expect("bytes").to_vec())
}

#[tokio::test]
async fn a_replayed_or_stale_question_is_refused() {
    let (spain, morocco) = two_nodes().await;
    let answered = register_echo(&morocco);
    let now = morocco.app().now().millis();

    let (sealed, message_id) = question(&spain, &morocco, now);
    let (status, answer) = post_call(&morocco, sealed.clone()).await;
    assert_eq!(status, 200);
    let opened = comity_crypto::open(
        &spain.node.federation().federation.keys(),
        &answer,
        morocco
            .node
            .federation()
            .federation
            .keys()
            .public_identity()
            .signing_key_bytes(),
    )
    .expect("the answer opens for Spain under Morocco's key");
    assert_eq!(opened.header.in_reply_to, Some(message_id));
    assert_eq!(opened.header.message_type, "comity.test.echo.answer.v1");
    assert_eq!(opened.header.sequence, 0);

    let (status, problem) = post_call(&morocco, sealed).await;
    assert_eq!(status, 409, "{}", String::from_utf8_lossy(&problem));
    assert!(String::from_utf8_lossy(&problem).contains("already answered"));

    for skewed in [now - 6 * 60 * 1000, now + 6 * 60 * 1000] {
        let (stale, _) = question(&spain, &morocco, skewed);
        let (status, _) = post_call(&morocco, stale).await;
        assert_eq!(status, 400, "sent {} ms from now", skewed - now);
    }
    assert_eq!(answered.load(Ordering::SeqCst), 1, "answered once only");
}

#[tokio::test]
async fn a_call_from_a_node_not_on_the_trust_list_is_refused() {
    let (spain, morocco) = two_nodes().await;
    let answered = register_echo(&morocco);
    let france = TestNode::spawn("fr-node", Backend::Sqlite)
        .await
        .expect("france");
    // France knows Morocco; Morocco does not know France.
    france
        .node
        .add_peer(morocco.node.peer_entry().await.expect("entry"))
        .await
        .expect("add");
    let refused = calls::call(france.node.federation(), "ma-node", ECHO, &json!({}))
        .await
        .expect_err("a stranger's call");
    assert!(
        matches!(refused, CallError::Status { status: 403, .. }),
        "{refused:?}"
    );
    // A node this node does not know is not called at all.
    let not_called = calls::call(spain.node.federation(), "fr-node", ECHO, &json!({}))
        .await
        .expect_err("France is not on Spain's list");
    assert!(
        matches!(not_called, CallError::Unavailable(_)),
        "{not_called:?}"
    );
    assert_eq!(answered.load(Ordering::SeqCst), 0);
}

const CHUNK: usize = 1024 * 1024;

/// Spain, Morocco and France, Spain trusting both; every node cuts blobs in 1 MiB
/// chunks. Spain dispatches to Morocco a request whose attachment is a blob of 3.5 MiB
/// that Spain holds.
async fn blob_sent_to_morocco() -> (TestNode, TestNode, TestNode, BlobRef, Vec<u8>) {
    let (spain, morocco) = two_nodes().await;
    let france = TestNode::spawn("fr-node", Backend::Sqlite)
        .await
        .expect("france");
    spain.peer_with(&france).await.expect("trust");
    for node in [&spain, &morocco, &france] {
        node.node.federation().blobs.set_chunk_bytes(CHUNK);
    }
    let bytes: Vec<u8> = (0..CHUNK * 7 / 2)
        .map(|index| (index % 251) as u8)
        .collect();
    let blob = spain
        .node
        .federation()
        .blobs
        .put(&bytes)
        .await
        .expect("put");
    assert_eq!(blob.size, bytes.len() as u64);

    spain
        .local_authority("es-ca", "ES", AuthorityKind::CentralAuthority)
        .await
        .expect("es");
    morocco
        .local_authority("ma-ca", "MA", AuthorityKind::CentralAuthority)
        .await
        .expect("ma");
    // The authorities are known on each side once peered again.
    spain.peer_with(&morocco).await.expect("trust");
    morocco
        .user("karim", "ma-ca", &["central_authority_officer"])
        .await
        .expect("user");
    let prosecutor = spain
        .user("fiscal", "es-ca", &["requesting_prosecutor"])
        .await
        .expect("user");
    let officer = spain
        .user("ana", "es-ca", &["central_authority_officer"])
        .await
        .expect("user");
    let case = prosecutor
        .post(
            "/api/v1/cases",
            &json!({"reference": "DP 9/2026", "title": "Evidence"}),
        )
        .await
        .expect("case");
    let mut draft = sample_draft("es-ca", "ma-ca");
    draft["attachments"] = json!([{
        "file_name": "ledger.pdf",
        "media_type": "application/pdf",
        "size_bytes": blob.size,
        "sha256": blob.name.hex(),
    }]);
    let created = prosecutor
        .post(
            &format!("/api/v1/cases/{}/requests", case.text("id")),
            &draft,
        )
        .await
        .expect("draft");
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.text("id");
    for (client, action) in [
        (&prosecutor, "submit_for_approval"),
        (&officer, "approve"),
        (&officer, "dispatch"),
    ] {
        let reply = client.act(&id, action, None).await.expect("act");
        assert_eq!(reply.status, 200, "{action}: {}", reply.body);
    }
    let karim =
        comity_testkit::ApiClient::login(&morocco.url(), "karim", comity_testkit::TEST_PASSWORD)
            .await
            .expect("login");
    let arrived = karim
        .wait_for_state(&id, "delivered", 15)
        .await
        .expect("delivered");
    assert!(
        arrived.body.to_string().contains(&blob.name.hex()),
        "Morocco holds the reference: {}",
        arrived.body
    );
    (spain, morocco, france, blob, bytes)
}

#[tokio::test]
async fn a_blob_is_fetched_in_chunks_by_the_peer_it_was_sent_to_and_nobody_else() {
    let (spain, morocco, france, blob, bytes) = blob_sent_to_morocco().await;
    let fetcher = morocco.node.federation();
    assert!(!fetcher.blobs.contains(&blob.name).expect("contains"));

    blobs::fetch(fetcher, "es-node", &blob)
        .await
        .expect("Morocco fetches the blob it was sent");
    assert_eq!(
        fetcher.blobs.get(&blob.name).expect("get").as_deref(),
        Some(&bytes[..])
    );
    let stored = morocco
        .directory
        .path()
        .join("blobs/sha256")
        .join(blob.name.hex());
    assert!(stored.is_file(), "kept as a file named by its hash");

    // Idempotent: held already, not fetched again (Spain no longer trusts Morocco, so
    // a second fetch over the network would fail).
    spain
        .node
        .federation()
        .federation
        .trust
        .write()
        .expect("trust")
        .remove("ma-node");
    blobs::fetch(fetcher, "es-node", &blob)
        .await
        .expect("already held");

    // France was never sent the reference: knowing the hash gives no access.
    let refused = blobs::fetch(france.node.federation(), "es-node", &blob)
        .await
        .expect_err("France was not sent the blob");
    match refused {
        BlobError::Call(CallError::Refused(reason)) => {
            assert!(reason.contains("was not sent to fr-node"), "{reason}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(
        !france
            .node
            .federation()
            .blobs
            .contains(&blob.name)
            .expect("contains")
    );
}

#[tokio::test]
async fn a_corrupted_or_truncated_chunk_is_detected_and_nothing_is_stored() {
    let (spain, morocco, _france, blob, bytes) = blob_sent_to_morocco().await;
    let held = spain
        .directory
        .path()
        .join("blobs/sha256")
        .join(blob.name.hex());
    let fetcher = morocco.node.federation();

    // One byte of the second chunk changes on the holder's disk.
    let mut corrupted = bytes.clone();
    corrupted[CHUNK + 10] ^= 0x01;
    std::fs::write(&held, &corrupted).expect("corrupt");
    let error = blobs::fetch(fetcher, "es-node", &blob)
        .await
        .expect_err("the bytes are not the blob");
    assert!(matches!(error, BlobError::Corrupt { .. }), "{error:?}");
    assert!(!fetcher.blobs.contains(&blob.name).expect("contains"));

    // The holder's copy lost its end: the last chunk is short, refused at once.
    std::fs::write(&held, &bytes[..bytes.len() - 5]).expect("truncate");
    let error = blobs::fetch(fetcher, "es-node", &blob)
        .await
        .expect_err("a short chunk");
    match &error {
        BlobError::Corrupt { reason, .. } => assert!(reason.contains("chunk 3 has"), "{reason}"),
        other => panic!("expected a short chunk, got {other:?}"),
    }
    assert!(!fetcher.blobs.contains(&blob.name).expect("contains"));
    let leftovers = std::fs::read_dir(morocco.directory.path().join("blobs/tmp"))
        .map(|entries| entries.count())
        .unwrap_or(0);
    assert_eq!(leftovers, 0, "no partial blob left behind");

    // Repaired, the same fetch succeeds.
    std::fs::write(&held, &bytes).expect("repair");
    blobs::fetch(fetcher, "es-node", &blob)
        .await
        .expect("fetch");
    assert_eq!(
        fetcher.blobs.get(&blob.name).expect("get").as_deref(),
        Some(&bytes[..])
    );
}
