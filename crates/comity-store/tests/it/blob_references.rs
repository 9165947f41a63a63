//! Finding the outgoing messages that mention a blob, for the holder's rule: a blob is
//! served only to a peer that was sent a message referencing it.

use comity_domain::Timestamp;
use comity_store::{OutboxMessage, OutboxStatus};

use crate::for_each_backend;

fn message(id: &str, recipient: &str, body: &str) -> OutboxMessage {
    OutboxMessage {
        message_id: id.into(),
        recipient_node: recipient.into(),
        conversation_id: "request:c".into(),
        sequence: 1,
        message_type: "t".into(),
        in_reply_to: None,
        body: body.into(),
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at: Timestamp(0),
        created_at: Timestamp(1),
        last_error: None,
        receipt: None,
    }
}

#[tokio::test]
async fn outbox_bodies_mentioning_a_text_are_found_per_recipient() {
    for_each_backend(|store| async move {
        let hash = "ab".repeat(32);
        let mut tx = store.begin().await.expect("begin");
        for (id, recipient, body) in [
            ("m1", "node-b", format!(r#"{{"sha256": "{hash}"}}"#)),
            ("m2", "node-c", r#"{"sha256": "00"}"#.to_string()),
            ("m3", "node-b", r#"{"note": "100% of a_b"}"#.to_string()),
        ] {
            tx.enqueue(&message(id, recipient, &body))
                .await
                .expect("enqueue");
        }
        tx.commit().await.expect("commit");
        let mut tx = store.begin().await.expect("begin");
        let found = tx
            .outbox_bodies_mentioning("node-b", &hash, 10)
            .await
            .expect("query");
        assert_eq!(found.len(), 1);
        assert!(found[0].contains(&hash));
        assert!(
            tx.outbox_bodies_mentioning("node-c", &hash, 10)
                .await
                .expect("query")
                .is_empty(),
            "another recipient was not sent it"
        );
        // `%` and `_` are matched as themselves, not as wildcards.
        assert_eq!(
            tx.outbox_bodies_mentioning("node-b", "0% of a_b", 10)
                .await
                .expect("query")
                .len(),
            1
        );
        assert!(
            tx.outbox_bodies_mentioning("node-b", "1_0%", 10)
                .await
                .expect("query")
                .is_empty()
        );
    })
    .await;
}
