//! The batching sender's reads: which peers have due messages, and one peer's due
//! messages only, in conversation order.

use comity_domain::Timestamp;
use comity_store::{OutboxMessage, OutboxStatus};

use crate::for_each_backend;

fn message(id: &str, peer: &str, conversation: &str, sequence: i64, due: i64) -> OutboxMessage {
    OutboxMessage {
        message_id: id.into(),
        recipient_node: peer.into(),
        conversation_id: conversation.into(),
        sequence,
        message_type: "t".into(),
        in_reply_to: None,
        body: "{}".into(),
        status: OutboxStatus::Pending,
        attempts: 0,
        next_attempt_at: Timestamp(due),
        created_at: Timestamp(sequence),
        last_error: None,
        receipt: None,
    }
}

#[tokio::test]
async fn due_messages_are_read_per_peer() {
    for_each_backend(|store| async move {
        let mut tx = store.begin().await.expect("begin");
        for queued in [
            message("b2", "node-b", "conv-1", 2, 10),
            message("b1", "node-b", "conv-1", 1, 10),
            message("b3", "node-b", "conv-2", 1, 10),
            message("c1", "node-c", "conv-3", 1, 10),
            message("d1", "node-d", "conv-4", 1, 99),
        ] {
            tx.enqueue(&queued).await.expect("enqueue");
        }
        tx.mark_delivered("b3", "receipt", Timestamp(11))
            .await
            .expect("deliver");
        tx.commit().await.expect("commit");

        let mut tx = store.begin().await.expect("begin");
        let mut peers = tx
            .peers_with_due_messages(Timestamp(50))
            .await
            .expect("peers");
        peers.sort();
        assert_eq!(peers, ["node-b", "node-c"], "node-d is not due yet");
        let to_b = tx
            .due_messages_to("node-b", Timestamp(50), 10)
            .await
            .expect("due");
        assert_eq!(
            to_b.iter()
                .map(|m| m.message_id.as_str())
                .collect::<Vec<_>>(),
            ["b1", "b2"],
            "pending only, in sequence order"
        );
        let first = tx
            .due_messages_to("node-b", Timestamp(50), 1)
            .await
            .expect("due");
        assert_eq!(first.len(), 1);
        assert!(
            tx.due_messages_to("node-d", Timestamp(50), 10)
                .await
                .expect("due")
                .is_empty()
        );
    })
    .await;
}
