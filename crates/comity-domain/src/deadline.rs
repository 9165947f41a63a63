//! Deadlines that follow from a request's history, and which of them are overdue.

use crate::{Action, RequestState, Side, Timestamp, TransitionRecord};
use crate::{Date, coded_enum};

coded_enum! {
    /// What must happen by a deadline.
    pub enum DeadlineKind ("deadline kind") {
        Acknowledgement = ("acknowledgement", "acknowledge receipt"),
        Decision = ("decision", "decide on recognition or execution"),
        Execution = ("execution", "carry out the measures"),
        RequestedByIssuer = ("requested_by_issuer", "date asked for by the requesting authority"),
    }
}

/// How many days each step may take. The defaults are the EIO's (Directive 2014/41/EU
/// art. 12 and Annex B); the legal engine supplies other figures per instrument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeadlinePolicy {
    /// Days from delivery to acknowledgement (EIO art. 16(1), Annex B: one week).
    pub acknowledgement_days: i64,
    /// Days from delivery to the decision (EIO art. 12(3): 30 days).
    pub decision_days: i64,
    /// Days from the decision to execution (EIO art. 12(4): 90 days).
    pub execution_days: i64,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy {
            acknowledgement_days: 7,
            decision_days: 30,
            execution_days: 90,
        }
    }
}

/// A deadline of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// What must happen.
    pub kind: DeadlineKind,
    /// By when.
    pub due: Timestamp,
    /// When it was met, if it was.
    pub met_at: Option<Timestamp>,
}

impl Deadline {
    /// Whether the deadline has passed without being met.
    pub fn is_overdue(&self, now: Timestamp) -> bool {
        self.met_at.is_none() && now > self.due
    }
}

/// Computes the deadlines of a request from its history. Pure: `now` is not needed,
/// overdue-ness is asked of each deadline.
pub fn deadlines(
    side: Side,
    state: RequestState,
    history: &[TransitionRecord],
    requested_deadline: Option<Date>,
    policy: &DeadlinePolicy,
) -> Vec<Deadline> {
    let first = |actions: &[Action]| {
        history
            .iter()
            .find(|record| actions.contains(&record.action) && record.from != record.to)
            .map(|record| record.at)
    };
    let mut result = Vec::new();
    // Delivery: the requested side's first record, or the receipt on the requesting side.
    let delivered_at = match side {
        Side::Requested => history.first().map(|record| record.at),
        Side::Requesting => first(&[Action::RecordDelivery, Action::Acknowledge]),
    };
    let finished_at = first(&[Action::Withdraw, Action::Close]);
    let decided_at = first(&[
        Action::Accept,
        Action::AcceptInPart,
        Action::Postpone,
        Action::Refuse,
    ]);
    if let Some(delivered_at) = delivered_at {
        result.push(Deadline {
            kind: DeadlineKind::Acknowledgement,
            due: delivered_at.plus_days(policy.acknowledgement_days),
            met_at: first(&[Action::Acknowledge]).or(finished_at),
        });
        result.push(Deadline {
            kind: DeadlineKind::Decision,
            due: delivered_at.plus_days(policy.decision_days),
            met_at: decided_at.or(finished_at),
        });
    }
    if let Some(decided_at) = decided_at
        && state != RequestState::Refused
    {
        result.push(Deadline {
            kind: DeadlineKind::Execution,
            due: decided_at.plus_days(policy.execution_days),
            met_at: first(&[Action::SendFinalResponse]).or(finished_at),
        });
    }
    if let Some(date) = requested_deadline
        && state.is_dispatched()
    {
        result.push(Deadline {
            kind: DeadlineKind::RequestedByIssuer,
            due: date.end(),
            met_at: first(&[Action::SendFinalResponse, Action::Refuse]).or(finished_at),
        });
    }
    result
}
