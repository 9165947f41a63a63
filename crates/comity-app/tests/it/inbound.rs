//! The inbox: messages of one conversation take effect in their sequence whatever order
//! they arrive in; the same envelope received again is a duplicate that changes nothing;
//! a sequence already consumed, sent again under a new message id, is rejected.
//!
//! Each check starts two fresh nodes, has the sender's users act so that real messages
//! wait in its outbox, then delivers those (sealed, opened, receipted) in the order the
//! table gives. The transcript shows, per delivery, what the inbox answered and the state
//! of the receiver's copy, then where each message ended in the inbox.

use std::collections::HashMap;

use comity_app::inbound::InboundOutcome;
use expect_test::{Expect, expect};

use crate::harness::{
    Envelope, Harness, Node, assert_same_on_every_backend, backends, outcome_word, receive,
    reissue, seal,
};

/// Which conversation a check delivers.
#[derive(Debug, Clone, Copy)]
enum Conversation {
    /// Spain dispatches, then withdraws before anything was delivered: two messages to
    /// Morocco, 1 = dispatch, 2 = withdraw.
    DispatchThenWithdraw,
    /// After the dispatch reached Morocco, Morocco acknowledges, starts the assessment,
    /// accepts, starts execution and sends the final response: five messages to Spain.
    RequestedSideWorks,
}

/// One arrival at the receiver.
#[derive(Debug, Clone, Copy)]
enum Arrival {
    /// The message with this sequence, sealed and sent for the first time.
    Send(i64),
    /// The envelope already sent for this sequence, received once more.
    Again(i64),
    /// The message with this sequence sealed anew under a fresh message id.
    Reissued(i64),
}

use Arrival::{Again, Reissued, Send};

/// Sets up `conversation` on fresh nodes (every backend), delivers `arrivals` and compares
/// the transcript with `expected`.
async fn check(conversation: Conversation, arrivals: &[Arrival], expected: Expect) {
    let mut transcripts = Vec::new();
    for backend in backends() {
        let harness = Harness::start(backend).await;
        let (sender, receiver, reader, request_id, actions) = prepare(&harness, conversation).await;
        let waiting = sender.undelivered().await;
        assert_eq!(
            waiting.len(),
            actions.len(),
            "one message per action: {waiting:?}"
        );
        let by_sequence: HashMap<i64, (&str, &comity_store::OutboxMessage)> = waiting
            .iter()
            .zip(&actions)
            .map(|(message, action)| (message.sequence, (*action, message)))
            .collect();
        let mut sent: HashMap<i64, Envelope> = HashMap::new();
        // The inbox rows to report at the end, in order of first arrival.
        let mut received: Vec<(String, String)> = Vec::new();
        let mut transcript = String::new();
        for arrival in arrivals {
            harness.clock.advance_minutes(1);
            let (sequence, how) = match *arrival {
                Send(sequence) => (sequence, "send   "),
                Again(sequence) => (sequence, "again  "),
                Reissued(sequence) => (sequence, "reissue"),
            };
            let (action, message) = by_sequence
                .get(&sequence)
                .unwrap_or_else(|| panic!("no message {sequence} in {waiting:?}"));
            let envelope = match *arrival {
                Send(_) => seal(sender, receiver, message),
                Again(_) => sent
                    .get(&sequence)
                    .unwrap_or_else(|| panic!("{arrival:?} before it was sent"))
                    .clone(),
                Reissued(_) => reissue(sender, receiver, message),
            };
            let opened_id = comity_crypto::peek_header(&envelope.bytes)
                .expect("header")
                .message_id
                .to_string();
            if !received.iter().any(|(_, id)| id == &opened_id) {
                let label = match *arrival {
                    Reissued(_) => format!("{sequence} (reissued)"),
                    _ => sequence.to_string(),
                };
                received.push((label, opened_id));
            }
            let outcome = receive(sender, receiver, &envelope).await;
            if let InboundOutcome::Rejected(reason) = &outcome {
                assert!(
                    reason.contains(&format!("sequence {sequence}")),
                    "a rejection names the sequence: {reason}"
                );
            }
            sent.entry(sequence).or_insert(envelope);
            let state = receiver.state_seen_by(reader, &request_id).await;
            transcript.push_str(&format!(
                "{how} {sequence} {action:<20} {:<10} -> {state}\n",
                outcome_word(&outcome)
            ));
        }
        let mut inbox = Vec::new();
        for (label, message_id) in &received {
            inbox.push(format!(
                "{label} {}",
                receiver.inbox_status(message_id).await
            ));
        }
        transcript.push_str(&format!("inbox: {}\n", inbox.join(", ")));
        transcripts.push((backend, transcript));
    }
    assert_same_on_every_backend(&transcripts);
    expected.assert_eq(&transcripts[0].1);
}

/// Takes the actions of `conversation`; returns sender, receiver, the receiver's reading
/// user, the request, and the actions whose messages now wait in the sender's outbox.
async fn prepare(
    harness: &Harness,
    conversation: Conversation,
) -> (&Node, &Node, &'static str, String, Vec<&'static str>) {
    match conversation {
        Conversation::DispatchThenWithdraw => {
            let id = harness.draft("ana").await;
            for (user, action, reason) in [
                ("ana", "submit_for_approval", ""),
                ("pablo", "approve", ""),
                ("pablo", "dispatch", ""),
                ("ana", "withdraw", "the suspect was arrested in Spain"),
            ] {
                harness
                    .spain
                    .act(user, &id, action, reason)
                    .await
                    .unwrap_or_else(|error| panic!("{user} cannot {action}: {error}"));
            }
            (
                &harness.spain,
                &harness.morocco,
                "karim",
                id,
                vec!["dispatch", "withdraw"],
            )
        }
        Conversation::RequestedSideWorks => {
            let id = harness.dispatched().await;
            let actions = [
                ("karim", "acknowledge"),
                ("karim", "start_assessment"),
                ("karim", "accept"),
                ("salma", "start_execution"),
                ("salma", "send_final_response"),
            ];
            for (user, action) in actions {
                harness
                    .morocco
                    .act(user, &id, action, "")
                    .await
                    .unwrap_or_else(|error| panic!("{user} cannot {action}: {error}"));
            }
            (
                &harness.morocco,
                &harness.spain,
                "ana",
                id,
                actions.iter().map(|(_, action)| *action).collect(),
            )
        }
    }
}

#[tokio::test]
async fn a_withdrawal_that_overtakes_its_dispatch_waits_for_it() {
    check(
        Conversation::DispatchThenWithdraw,
        &[Send(2), Send(1), Again(2)],
        expect![[r#"
            send    2 withdraw             queued     -> none
            send    1 dispatch             applied    -> withdrawn
            again   2 withdraw             duplicate  -> withdrawn
            inbox: 2 applied, 1 applied
        "#]],
    )
    .await;
}

#[tokio::test]
async fn messages_apply_in_sequence_whatever_the_arrival_order() {
    check(
        Conversation::RequestedSideWorks,
        &[Send(3), Send(2), Send(5), Send(1), Send(4)],
        expect![[r#"
            send    3 accept               queued     -> delivered
            send    2 start_assessment     queued     -> delivered
            send    5 send_final_response  queued     -> delivered
            send    1 acknowledge          applied    -> accepted
            send    4 start_execution      applied    -> executed
            inbox: 3 applied, 2 applied, 5 applied, 1 applied, 4 applied
        "#]],
    )
    .await;
}

#[tokio::test]
async fn an_envelope_received_again_is_a_duplicate_and_changes_nothing() {
    check(
        Conversation::RequestedSideWorks,
        &[Send(1), Again(1), Send(2), Again(2), Again(1), Send(3)],
        expect![[r#"
            send    1 acknowledge          applied    -> registered
            again   1 acknowledge          duplicate  -> registered
            send    2 start_assessment     applied    -> under_assessment
            again   2 start_assessment     duplicate  -> under_assessment
            again   1 acknowledge          duplicate  -> under_assessment
            send    3 accept               applied    -> accepted
            inbox: 1 applied, 2 applied, 3 applied
        "#]],
    )
    .await;
}

#[tokio::test]
async fn a_waiting_message_received_again_waits_once() {
    check(
        Conversation::RequestedSideWorks,
        &[Send(2), Again(2), Send(1), Again(2)],
        expect![[r#"
            send    2 start_assessment     queued     -> delivered
            again   2 start_assessment     duplicate  -> delivered
            send    1 acknowledge          applied    -> under_assessment
            again   2 start_assessment     duplicate  -> under_assessment
            inbox: 2 applied, 1 applied
        "#]],
    )
    .await;
}

#[tokio::test]
async fn a_consumed_sequence_under_a_new_message_id_is_rejected() {
    check(
        Conversation::RequestedSideWorks,
        &[Send(1), Reissued(1), Send(2), Reissued(1), Send(3)],
        expect![[r#"
            send    1 acknowledge          applied    -> registered
            reissue 1 acknowledge          rejected   -> registered
            send    2 start_assessment     applied    -> under_assessment
            reissue 1 acknowledge          rejected   -> under_assessment
            send    3 accept               applied    -> accepted
            inbox: 1 applied, 1 (reissued) rejected, 2 applied, 1 (reissued) rejected, 3 applied
        "#]],
    )
    .await;
}
