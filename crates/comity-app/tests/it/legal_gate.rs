//! The legal-basis engine in the use cases: approval waits for the mandatory content
//! unless a supervisor overrides it with a recorded justification, and a refusal must cite
//! a ground of the prevailing instrument. One row per attempt, with its outcome.

use comity_app::law::ground_reference;
use comity_wire::api::TransitionInput;

use crate::harness::{Harness, backends, carry, sample_draft};
use crate::lifecycle::outcome;

/// A transition as a row gives it: action, role (none when empty), override
/// justification and grounds (none when empty), and a reason where the action needs one.
fn input(action: &str, role: &str, justification: &str, grounds: &[String]) -> TransitionInput {
    let needs_reason = ["refuse", "return_to_draft"].contains(&action);
    TransitionInput {
        action: action.into(),
        role: (!role.is_empty()).then(|| role.to_string()),
        reason: needs_reason.then(|| "as the table says".to_string()),
        grounds: grounds.to_vec(),
        expected_version: None,
        override_justification: (!justification.is_empty()).then(|| justification.to_string()),
    }
}

#[tokio::test]
async fn approval_waits_for_mandatory_content_unless_a_supervisor_overrides() {
    for backend in backends() {
        let mut harness = Harness::start(backend).await;
        harness
            .spain
            .user(
                "jefa",
                "es-ca",
                &["central_authority_officer", "supervisor"],
            )
            .await;
        let mut incomplete = sample_draft();
        incomplete.summary_of_facts = String::new();
        incomplete.purpose = String::new();
        let id = harness.draft_of("fiscal", &incomplete).await;
        let custody = "Facts follow by secure phone call; custody deadline";
        #[rustfmt::skip]
        let rows: [(&str, &str, &str, &str, &str); 6] = [
            ("fiscal", "submit_for_approval", "",           "",      "pending_approval"),
            ("ana",    "approve",             "",           "",      "legal gate"),
            ("ana",    "approve",             "",           custody, "forbidden"),
            ("jefa",   "approve",             "",           custody, "forbidden"),
            ("jefa",   "approve",             "supervisor", "",      "legal gate"),
            ("jefa",   "approve",             "supervisor", custody, "approved"),
        ];
        for (row, (user, action, role, justification, expected)) in rows.iter().enumerate() {
            let result = harness
                .spain
                .act_with(user, &id, &input(action, role, justification, &[]))
                .await;
            assert_eq!(outcome(&result), *expected, "{backend:?}, row {}", row + 1);
        }
        let details = harness
            .spain
            .app
            .request_details(
                harness.spain.principal("jefa"),
                &comity_domain::RequestId::parse(&id).expect("a request id"),
            )
            .await
            .expect("request");
        let approval = details.history.last().expect("history");
        let recorded = approval.reason.as_deref().unwrap_or_default();
        assert!(
            recorded.contains("supervisor override") && recorded.contains(custody),
            "the override and its justification are recorded: {recorded}"
        );
    }
}

#[tokio::test]
async fn a_refusal_must_cite_a_ground_of_the_prevailing_instrument() {
    for backend in backends() {
        let harness = Harness::start(backend).await;
        let id = harness.dispatched().await;
        for action in ["acknowledge", "start_assessment"] {
            harness
                .morocco
                .act("karim", &id, action, "")
                .await
                .unwrap_or_else(|error| panic!("karim cannot {action}: {error}"));
        }
        let details = harness
            .morocco
            .app
            .request_details(
                harness.morocco.principal("karim"),
                &comity_domain::RequestId::parse(&id).expect("a request id"),
            )
            .await
            .expect("request");
        let assessment = harness.morocco.app.assess(&details.request.content);
        let ground = assessment
            .refusal_grounds
            .first()
            .map(ground_reference)
            .expect("the prevailing instrument lists refusal grounds");
        let made_up = "untoc art. 99".to_string();
        #[rustfmt::skip]
        let rows: [(&str, Vec<String>, &str); 4] = [
            ("karim", vec![],                        "grounds required"),
            ("karim", vec![made_up],                 "invalid grounds[0]"),
            ("karim", vec![ground.clone(), "untoc art. 98".into()], "invalid grounds[1]"),
            ("karim", vec![ground.clone()],          "refused"),
        ];
        for (row, (user, grounds, expected)) in rows.iter().enumerate() {
            let result = harness
                .morocco
                .act_with(user, &id, &input("refuse", "", "", grounds))
                .await;
            assert_eq!(outcome(&result), *expected, "{backend:?}, row {}", row + 1);
        }
        for message in harness.morocco.undelivered().await {
            carry(&harness.morocco, &harness.spain, &message).await;
        }
        assert_eq!(harness.spain.state_seen_by("ana", &id).await, "refused");
    }
}
