//! The request lifecycle through the use cases, as tables: each row is one user's action
//! on one node (or the courier carrying what is waiting), with the state the request
//! reaches or the refusal the use case answers. The histories both nodes keep are then
//! compared whole with the expected text.

use comity_app::AppError;
use comity_app::requests::RequestDetails;
use comity_domain::{Actor, TransitionError};
use expect_test::{Expect, expect};

use crate::harness::{Harness, Node, assert_same_on_every_backend, backends, carry};
use At::{Es, Ma};

/// Which node a row happens on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// Spain, the requesting node.
    Es,
    /// Morocco, the requested node.
    Ma,
}

/// One row of a lifecycle table.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// `user` on a node takes `action` (with `reason`, none when empty); `expected` is the
    /// state reached, or the refusal as [`refusal`] words it.
    Act {
        at: At,
        user: &'static str,
        action: &'static str,
        reason: &'static str,
        expected: &'static str,
    },
    /// Every waiting message of `from` is carried to the other node; `expected` is then
    /// "<Spain's state> / <Morocco's state>".
    Carry { from: At, expected: &'static str },
}

fn act(
    at: At,
    user: &'static str,
    action: &'static str,
    reason: &'static str,
    expected: &'static str,
) -> Step {
    Step::Act {
        at,
        user,
        action,
        reason,
        expected,
    }
}

fn carry_all(from: At, expected: &'static str) -> Step {
    Step::Carry { from, expected }
}

/// A refused use case in a few words: the kind of refusal, not its wording.
fn refusal(error: &AppError) -> String {
    match error {
        AppError::Forbidden(_) => "forbidden".into(),
        AppError::NotFound(_) => "not found".into(),
        AppError::Conflict(_) => "conflict".into(),
        AppError::LegalGate(_) => "legal gate".into(),
        AppError::Invalid { field, .. } => format!("invalid {field}"),
        AppError::Transition(error) => match error {
            TransitionError::IllegalTransition { .. } => "illegal in this state".into(),
            TransitionError::WrongSide { .. } => "other side's action".into(),
            TransitionError::RoleNotAllowed { .. } => "role not allowed".into(),
            TransitionError::SystemOnly { .. } => "system only".into(),
            TransitionError::ReasonRequired { .. } => "reason required".into(),
            TransitionError::GroundsRequired => "grounds required".into(),
            TransitionError::FourEyesViolation => "four eyes".into(),
        },
        other => format!("unexpected: {other}"),
    }
}

/// The state reached, or the refusal in a few words.
pub fn outcome(result: &Result<RequestDetails, AppError>) -> String {
    match result {
        Ok(details) => details.request.state.code().to_string(),
        Err(error) => refusal(error),
    }
}

/// The node a row happens on.
fn node(harness: &Harness, at: At) -> &Node {
    match at {
        At::Es => &harness.spain,
        At::Ma => &harness.morocco,
    }
}

/// Who reads each node's copy in the tables.
fn reader(at: At) -> &'static str {
    match at {
        At::Es => "ana",
        At::Ma => "karim",
    }
}

/// Runs `steps` on a request `ana` drafted in Spain, on every backend, and compares each
/// node's history with `histories`.
async fn run(steps: &[Step], histories: Expect) {
    let mut texts = Vec::new();
    for backend in backends() {
        let harness = Harness::start(backend).await;
        let id = harness.draft("ana").await;
        for (row, step) in steps.iter().enumerate() {
            harness.clock.advance_minutes(1);
            let (got, expected) = match *step {
                Step::Act {
                    at,
                    user,
                    action,
                    reason,
                    expected,
                } => {
                    let result = node(&harness, at).act(user, &id, action, reason).await;
                    (outcome(&result), expected)
                }
                Step::Carry { from, expected } => {
                    let to = if from == At::Es { At::Ma } else { At::Es };
                    for message in node(&harness, from).undelivered().await {
                        carry(node(&harness, from), node(&harness, to), &message).await;
                    }
                    let states = format!(
                        "{} / {}",
                        harness.spain.state_seen_by(reader(At::Es), &id).await,
                        harness.morocco.state_seen_by(reader(At::Ma), &id).await
                    );
                    (states, expected)
                }
            };
            assert_eq!(got, expected, "{backend:?}, row {}: {step:?}", row + 1);
        }
        let mut text = String::new();
        for (at, name) in [(At::Es, "Spain"), (At::Ma, "Morocco")] {
            text.push_str(&format!("{name}:\n"));
            text.push_str(&history(node(&harness, at), reader(at), &id).await);
        }
        texts.push((backend, text));
    }
    assert_same_on_every_backend(&texts);
    histories.assert_eq(&texts[0].1);
}

/// A node's history of the request, one line per transition: origin, action, states, and
/// who (a local user by name, the peer, or the node itself).
async fn history(node: &Node, reader: &str, request_id: &str) -> String {
    let Ok(details) = node.read_as(reader, request_id).await else {
        return "  (no copy)\n".into();
    };
    let mut lines = String::new();
    for record in &details.history {
        let actor = match &record.actor {
            Actor::User { user_id, role } => format!(
                "{} as {}",
                details.actor_names.get(user_id).map_or("?", String::as_str),
                role.code()
            ),
            Actor::Peer { .. } => "the peer".into(),
            Actor::System => "this node".into(),
        };
        lines.push_str(&format!(
            "  {:<6} {:<20} {} -> {}, by {actor}\n",
            record.origin.code(),
            record.action.code(),
            record.from.code(),
            record.to.code(),
        ));
    }
    lines
}

#[tokio::test]
async fn a_request_goes_from_draft_to_closed_with_every_wrong_move_refused() {
    #[rustfmt::skip]
    let steps = [
        act(Es, "admin",   "submit_for_approval", "", "forbidden"),
        act(Es, "auditor", "submit_for_approval", "", "role not allowed"),
        act(Es, "ana",     "teleport",            "", "invalid action"),
        act(Es, "ana",     "return_to_draft",     "", "illegal in this state"),
        act(Es, "ana",     "submit_for_approval", "", "pending_approval"),
        act(Es, "ana",     "approve",             "", "four eyes"),
        act(Es, "fiscal",  "approve",             "", "role not allowed"),
        act(Es, "pablo",   "return_to_draft",     "", "reason required"),
        act(Es, "pablo",   "approve",             "", "approved"),
        act(Es, "fiscal",  "dispatch",            "", "role not allowed"),
        act(Es, "pablo",   "record_delivery",     "", "system only"),
        act(Es, "pablo",   "acknowledge",         "", "other side's action"),
        act(Es, "pablo",   "dispatch",            "", "dispatched"),
        act(Es, "pablo",   "dispatch",            "", "illegal in this state"),
        carry_all(Es, "delivered / delivered"),
        act(Ma, "salma",   "acknowledge",         "", "role not allowed"),
        act(Ma, "karim",   "start_assessment",    "", "illegal in this state"),
        act(Ma, "karim",   "withdraw",   "no longer needed", "other side's action"),
        act(Ma, "karim",   "acknowledge",         "", "registered"),
        act(Ma, "karim",   "start_assessment",    "", "under_assessment"),
        act(Ma, "karim",   "refuse",   "not a criminal offence here", "grounds required"),
        act(Ma, "karim",   "accept",              "", "accepted"),
        carry_all(Ma, "accepted / accepted"),
        act(Ma, "salma",   "start_execution",     "", "in_execution"),
        act(Ma, "salma",   "send_final_response", "", "executed"),
        act(Es, "ana",     "close",               "", "illegal in this state"),
        carry_all(Ma, "executed / executed"),
        act(Es, "ana",     "withdraw",  "no longer needed", "illegal in this state"),
        act(Es, "ana",     "close",               "", "closed"),
        carry_all(Es, "closed / closed"),
        act(Ma, "karim",   "close",               "", "illegal in this state"),
    ];
    run(&steps, expect![[r#"
        Spain:
          local  submit_for_approval  draft -> pending_approval, by User ana as central_authority_officer
          local  approve              pending_approval -> approved, by User pablo as central_authority_officer
          local  dispatch             approved -> dispatched, by User pablo as central_authority_officer
          local  record_delivery      dispatched -> delivered, by this node
          remote acknowledge          delivered -> registered, by the peer
          remote start_assessment     registered -> under_assessment, by the peer
          remote accept               under_assessment -> accepted, by the peer
          remote start_execution      accepted -> in_execution, by the peer
          remote send_final_response  in_execution -> executed, by the peer
          local  close                executed -> closed, by User ana as central_authority_officer
        Morocco:
          remote dispatch             delivered -> delivered, by the peer
          local  acknowledge          delivered -> registered, by User karim as central_authority_officer
          local  start_assessment     registered -> under_assessment, by User karim as central_authority_officer
          local  accept               under_assessment -> accepted, by User karim as central_authority_officer
          local  start_execution      accepted -> in_execution, by User salma as executing_officer
          local  send_final_response  in_execution -> executed, by User salma as executing_officer
          remote close                executed -> closed, by the peer
    "#]]).await;
}

#[tokio::test]
async fn a_withdrawal_reaches_the_requested_side_and_ends_its_work() {
    #[rustfmt::skip]
    let steps = [
        act(Es, "ana",     "submit_for_approval", "", "pending_approval"),
        act(Es, "pablo",   "approve",             "", "approved"),
        act(Es, "pablo",   "dispatch",            "", "dispatched"),
        carry_all(Es, "delivered / delivered"),
        act(Ma, "karim",   "acknowledge",         "", "registered"),
        act(Es, "fiscal",  "withdraw",            "", "reason required"),
        act(Es, "fiscal",  "withdraw",  "the suspect was arrested in Spain", "withdrawn"),
        act(Ma, "karim",   "start_assessment",    "", "under_assessment"),
        carry_all(Es, "withdrawn / withdrawn"),
        act(Ma, "karim",   "accept",              "", "illegal in this state"),
        carry_all(Ma, "withdrawn / withdrawn"),
        act(Ma, "karim",   "close",               "", "closed"),
        carry_all(Ma, "closed / closed"),
    ];
    run(&steps, expect![[r#"
        Spain:
          local  submit_for_approval  draft -> pending_approval, by User ana as central_authority_officer
          local  approve              pending_approval -> approved, by User pablo as central_authority_officer
          local  dispatch             approved -> dispatched, by User pablo as central_authority_officer
          local  record_delivery      dispatched -> delivered, by this node
          local  withdraw             delivered -> withdrawn, by User fiscal as requesting_prosecutor
          remote acknowledge          withdrawn -> withdrawn, by the peer
          remote start_assessment     withdrawn -> withdrawn, by the peer
          remote close                withdrawn -> closed, by the peer
        Morocco:
          remote dispatch             delivered -> delivered, by the peer
          local  acknowledge          delivered -> registered, by User karim as central_authority_officer
          local  start_assessment     registered -> under_assessment, by User karim as central_authority_officer
          remote withdraw             under_assessment -> withdrawn, by the peer
          local  close                withdrawn -> closed, by User karim as central_authority_officer
    "#]]).await;
}
