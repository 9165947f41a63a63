//! The legal-basis engine in the use cases: approval and dispatch wait for every blocking
//! finding (missing mandatory content, a safeguard such as the asylum-disclosure warning)
//! unless a supervisor overrides it with a recorded justification, and a refusal must
//! cite a ground of the prevailing instrument. One row per attempt, with its outcome.

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
        let details = harness.spain.read_as("jefa", &id).await.expect("request");
        let approval = details.history.last().expect("history");
        let recorded = approval.reason.as_deref().unwrap_or_default();
        assert!(
            recorded.contains("supervisor override") && recorded.contains(custody),
            "the override and its justification are recorded: {recorded}"
        );
    }
}

#[tokio::test]
async fn a_blocking_safeguard_stops_approval_and_a_supervisor_override_carries_to_dispatch() {
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
        // Complete content, but the suspect, a national of the requested state, asked
        // for asylum: telling that state would put him at risk.
        let mut draft = sample_draft();
        draft.persons[0].vulnerabilities = vec!["asylum_seeker_or_refugee".into()];
        let id = harness.draft_of("fiscal", &draft).await;
        let content = harness
            .spain
            .read_as("fiscal", &id)
            .await
            .expect("request")
            .request
            .content;
        let blocking = harness.spain.app.assess(&content).blocking_findings();
        assert!(
            !blocking.is_empty()
                && blocking
                    .iter()
                    .all(|finding| finding.key.starts_with("warning:")),
            "only the safeguard blocks: {blocking:?}"
        );
        let reason = "Disclosure agreed with the asylum authority; the person consented";
        #[rustfmt::skip]
        let rows: [(&str, &str, &str, &str, &str); 5] = [
            ("fiscal", "submit_for_approval", "",           "",     "pending_approval"),
            ("ana",    "approve",             "",           "",     "legal gate"),
            ("jefa",   "approve",             "supervisor", "",     "legal gate"),
            ("jefa",   "approve",             "supervisor", reason, "approved"),
            // The approval overrode these very findings: no second override.
            ("ana",    "dispatch",            "",           "",     "dispatched"),
        ];
        for (row, (user, action, role, justification, expected)) in rows.iter().enumerate() {
            let result = harness
                .spain
                .act_with(user, &id, &input(action, role, justification, &[]))
                .await;
            assert_eq!(outcome(&result), *expected, "{backend:?}, row {}", row + 1);
        }
    }
}

#[tokio::test]
async fn dispatch_after_an_approval_that_overrode_nothing_is_checked_again() {
    for backend in backends() {
        let harness = Harness::start(backend).await;
        let id = harness.draft("ana").await;
        let details = harness.spain.read_as("ana", &id).await.expect("request");
        // An officer's approval overrides nothing: whatever blocks the content must
        // stop its dispatch too, and nothing blocking means nothing to stop.
        let officer_approval = comity_domain::TransitionRecord {
            action: comity_domain::Action::Approve,
            from: comity_domain::RequestState::PendingApproval,
            to: comity_domain::RequestState::Approved,
            actor: comity_domain::Actor::User {
                user_id: harness.spain.principal("ana").user_id().clone(),
                role: comity_domain::Role::CentralAuthorityOfficer,
            },
            origin: comity_domain::Origin::Local,
            at: harness.spain.app.now(),
            reason: None,
            grounds: Vec::new(),
        };
        let mut incomplete = details.request.content.clone();
        incomplete.summary_of_facts = String::new();
        let dispatch = comity_domain::Action::Dispatch;
        let app = &harness.spain.app;
        assert!(
            !app.blocking_findings_for(
                &incomplete,
                std::slice::from_ref(&officer_approval),
                dispatch
            )
            .is_empty(),
            "missing content still blocks a dispatch an officer approved"
        );
        let mut supervisor_approval = officer_approval.clone();
        supervisor_approval.actor = comity_domain::Actor::User {
            user_id: harness.spain.principal("ana").user_id().clone(),
            role: comity_domain::Role::Supervisor,
        };
        assert!(
            app.blocking_findings_for(&incomplete, &[supervisor_approval], dispatch)
                .is_empty(),
            "a supervisor's approval of the same content overrode it"
        );
        assert!(
            app.blocking_findings_for(&incomplete, &[], dispatch).len()
                == app.assess(&incomplete).blocking_findings().len(),
            "without an approval on record, everything blocking stops dispatch"
        );
        assert!(
            app.blocking_findings_for(&details.request.content, &[], dispatch)
                .is_empty()
                && app
                    .blocking_findings_for(&incomplete, &[], comity_domain::Action::Acknowledge)
                    .is_empty(),
            "complete content, and actions other than approval and dispatch, are not gated"
        );
    }
}

#[tokio::test]
async fn a_refusal_must_cite_a_ground_of_the_prevailing_instrument() {
    for backend in backends() {
        let mut harness = Harness::start(backend).await;
        harness
            .morocco
            .user(
                "nadia",
                "ma-ca",
                &["central_authority_officer", "supervisor"],
            )
            .await;
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
            .read_as("karim", &id)
            .await
            .expect("request");
        let assessment = harness.morocco.app.assess(&details.request.content);
        let ground = assessment
            .refusal_grounds
            .first()
            .map(ground_reference)
            .expect("the prevailing instrument lists refusal grounds");
        let made_up = "untoc art. 99".to_string();
        // UNTOC 18(26): consult the requesting side before refusing under 18(21).
        let consulted = "Consulted the Spanish central authority by telephone on 3 March";
        #[rustfmt::skip]
        let rows: [(&str, &str, &str, Vec<String>, &str); 6] = [
            ("karim",  "",           "",        vec![],                        "grounds required"),
            ("karim",  "",           "",        vec![made_up],                 "invalid grounds[0]"),
            ("karim",  "",           "",        vec![ground.clone(), "untoc art. 98".into()], "invalid grounds[1]"),
            ("karim",  "",           "",        vec![ground.clone()],          "legal gate"),
            ("karim",  "",           consulted, vec![ground.clone()],          "forbidden"),
            ("nadia",  "supervisor", consulted, vec![ground.clone()],          "refused"),
        ];
        for (row, (user, role, justification, grounds, expected)) in rows.iter().enumerate() {
            let result = harness
                .morocco
                .act_with(user, &id, &input("refuse", role, justification, grounds))
                .await;
            assert_eq!(outcome(&result), *expected, "{backend:?}, row {}", row + 1);
        }
        let refused = harness
            .morocco
            .read_as("karim", &id)
            .await
            .expect("request");
        let recorded = refused
            .history
            .last()
            .and_then(|record| record.reason.clone())
            .unwrap_or_default();
        assert!(
            recorded.contains(consulted) && recorded.contains("untoc art. 18(26)"),
            "the consultation is recorded with the refusal: {recorded}"
        );
        for message in harness.morocco.undelivered().await {
            carry(&harness.morocco, &harness.spain, &message).await;
        }
        assert_eq!(harness.spain.state_seen_by("ana", &id).await, "refused");
    }
}

#[tokio::test]
async fn asking_the_requesting_side_for_information_is_the_consultation_a_refusal_needs() {
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
            .read_as("karim", &id)
            .await
            .expect("request");
        let assessment = harness.morocco.app.assess(&details.request.content);
        assert!(
            assessment.refusal_reasons.is_some(),
            "UNTOC requires reasons for any refusal"
        );
        let consult = assessment
            .refusal_grounds
            .iter()
            .find(|ground| ground.consult_first.is_some())
            .expect("a ground that needs consultation first");
        let ground = vec![ground_reference(consult)];
        assert_eq!(
            outcome(
                &harness
                    .morocco
                    .act_with("karim", &id, &input("refuse", "", "", &ground))
                    .await
            ),
            "legal gate"
        );
        harness
            .morocco
            .act(
                "karim",
                &id,
                "request_additional_information",
                "Which accounts, and for which period?",
            )
            .await
            .expect("ask");
        for message in harness.morocco.undelivered().await {
            carry(&harness.morocco, &harness.spain, &message).await;
        }
        harness
            .spain
            .act(
                "ana",
                &id,
                "provide_additional_information",
                "Accounts at two banks in Tangier, January 2025 to June 2026",
            )
            .await
            .expect("answer");
        for message in harness.spain.undelivered().await {
            carry(&harness.spain, &harness.morocco, &message).await;
        }
        harness
            .morocco
            .act("karim", &id, "resume_assessment", "")
            .await
            .expect("resume");
        assert_eq!(
            outcome(
                &harness
                    .morocco
                    .act_with("karim", &id, &input("refuse", "", "", &ground))
                    .await
            ),
            "refused",
            "{backend:?}"
        );
    }
}
