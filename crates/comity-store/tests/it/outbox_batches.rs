//! The batching sender's reads (which peers have due messages, and one peer's due
//! messages only, in conversation order) and the statements a batch shares: receipts
//! recorded together, sequences claimed, waiting conversations read once, applied
//! messages marked together.

use comity_domain::Timestamp;
use comity_store::{InboxMessage, InboxStatus, OutboxMessage, OutboxStatus, SequenceClaim};

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

#[tokio::test]
async fn receipts_of_a_batch_are_recorded_in_one_statement() {
    for_each_backend(|store| async move {
        let mut tx = store.begin().await.expect("begin");
        for queued in [
            message("m1", "node-b", "conv-1", 1, 10),
            message("m2", "node-b", "conv-1", 2, 10),
            message("m3", "node-b", "conv-2", 1, 10),
        ] {
            tx.enqueue(&queued).await.expect("enqueue");
        }
        tx.mark_delivered("m3", "earlier receipt", Timestamp(11))
            .await
            .expect("deliver");
        let receipts: Vec<(String, String)> =
            [("m1", "r1"), ("m2", "r2"), ("m3", "r3"), ("zz", "r4")]
                .iter()
                .map(|(id, receipt)| (id.to_string(), receipt.to_string()))
                .collect();
        let mut delivered = tx
            .mark_all_delivered(&receipts, Timestamp(20))
            .await
            .expect("deliver all");
        delivered.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            delivered
                .iter()
                .map(|(id, message)| (id.as_str(), message.conversation_id.as_str()))
                .collect::<Vec<_>>(),
            [("m1", "conv-1"), ("m2", "conv-1")],
            "delivered before, and unknown, are left out"
        );
        for (id, receipt) in [("m1", "r1"), ("m2", "r2"), ("m3", "earlier receipt")] {
            let stored = tx.outbox_message(id).await.expect("read").expect("stored");
            assert_eq!(stored.status, OutboxStatus::Delivered);
            assert_eq!(stored.receipt.as_deref(), Some(receipt), "{id}");
        }
        assert!(
            tx.mark_all_delivered(&[], Timestamp(21))
                .await
                .expect("nothing")
                .is_empty()
        );
        tx.commit().await.expect("commit");
    })
    .await;
}

fn incoming(id: &str, conversation: &str, sequence: i64) -> InboxMessage {
    InboxMessage {
        message_id: id.into(),
        sender_node: "node-b".into(),
        conversation_id: conversation.into(),
        sequence,
        message_type: "t".into(),
        body: "{}".into(),
        envelope: "AAAA".into(),
        status: InboxStatus::Waiting,
        received_at: Timestamp(20),
        outcome: None,
    }
}

#[tokio::test]
async fn an_incoming_sequence_is_claimed_only_when_it_is_the_one_expected() {
    for_each_backend(|store| async move {
        let mut tx = store.begin().await.expect("begin");
        // A new conversation: 1 is taken at once, anything else leaves 1 expected.
        assert_eq!(
            tx.claim_incoming_sequence("conv-new", "node-b", 3)
                .await
                .expect("claim"),
            SequenceClaim::Expected(1)
        );
        assert_eq!(
            tx.claim_incoming_sequence("conv", "node-b", 1)
                .await
                .expect("claim"),
            SequenceClaim::Claimed
        );
        assert_eq!(
            tx.claim_incoming_sequence("conv", "node-b", 2)
                .await
                .expect("claim"),
            SequenceClaim::Claimed
        );
        // Taken before (a replay), ahead (waits), never valid: nothing changes.
        for (sequence, what) in [(2, "replay"), (5, "ahead"), (0, "zero"), (-4, "negative")] {
            assert_eq!(
                tx.claim_incoming_sequence("conv", "node-b", sequence)
                    .await
                    .expect("claim"),
                SequenceClaim::Expected(3),
                "{what}"
            );
        }
        assert_eq!(
            tx.claim_incoming_sequence("conv", "node-b", i64::MAX)
                .await
                .expect("claim"),
            SequenceClaim::Expected(3)
        );
        assert_eq!(
            tx.expected_incoming_sequence("conv", "node-b")
                .await
                .expect("expected"),
            3
        );
        // Another peer's conversation of the same id counts apart.
        assert_eq!(
            tx.claim_incoming_sequence("conv", "node-c", 1)
                .await
                .expect("claim"),
            SequenceClaim::Claimed
        );
        tx.commit().await.expect("commit");
    })
    .await;
}

#[tokio::test]
async fn waiting_conversations_are_read_per_sender_and_applied_messages_marked_together() {
    for_each_backend(|store| async move {
        let mut tx = store.begin().await.expect("begin");
        for stored in [
            incoming("in-1", "conv-1", 1),
            incoming("in-2", "conv-1", 3),
            incoming("in-3", "conv-2", 1),
        ] {
            assert!(tx.insert_inbox(&stored).await.expect("insert"));
        }
        let mut other = incoming("in-4", "conv-3", 2);
        other.sender_node = "node-c".into();
        assert!(tx.insert_inbox(&other).await.expect("insert"));
        tx.finish_inbox_applied(&["in-1".to_string(), "in-3".to_string()], Timestamp(30))
            .await
            .expect("applied");
        assert_eq!(
            tx.conversations_waiting("node-b").await.expect("waiting"),
            ["conv-1"],
            "in-2 still waits; node-c's message is not node-b's"
        );
        for (id, status) in [
            ("in-1", InboxStatus::Applied),
            ("in-2", InboxStatus::Waiting),
            ("in-3", InboxStatus::Applied),
        ] {
            let stored = tx.inbox_message(id).await.expect("read").expect("stored");
            assert_eq!(stored.status, status, "{id}");
        }
        tx.finish_inbox_applied(&[], Timestamp(31))
            .await
            .expect("nothing to mark");
        tx.commit().await.expect("commit");
    })
    .await;
}
