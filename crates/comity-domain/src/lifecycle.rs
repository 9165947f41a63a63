//! The request lifecycle: states, actions, who may take them, and the pure transition
//! function that both sides of a request run.
//!
//! A request exists twice: once on the requesting side and once on the requested side.
//! Each action belongs to one side (its *owner*). The owner applies it locally
//! ([`Origin::Local`]); the other side applies the same action when the owner's message
//! arrives ([`Origin::Remote`]). Because both sides run the same table, they end in the
//! same state once all messages are applied: that is the invariant the federation keeps
//! and the property tests check.

use crate::coded_enum;
use crate::{DomainError, NodeId, Role, Timestamp, UserId};

coded_enum! {
    /// Where a request stands. Both sides share the list; `Draft`, `PendingApproval`
    /// and `Approved` exist only on the requesting side.
    pub enum RequestState ("request state") {
        Draft = ("draft", "draft"),
        PendingApproval = ("pending_approval", "pending approval"),
        Approved = ("approved", "approved"),
        Dispatched = ("dispatched", "dispatched"),
        Delivered = ("delivered", "delivered"),
        Registered = ("registered", "registered (acknowledged)"),
        UnderAssessment = ("under_assessment", "under assessment"),
        AdditionalInformationRequested = ("additional_information_requested", "additional information requested"),
        AdditionalInformationProvided = ("additional_information_provided", "additional information provided"),
        Accepted = ("accepted", "accepted"),
        AcceptedInPart = ("accepted_in_part", "accepted in part"),
        Postponed = ("postponed", "postponed"),
        Refused = ("refused", "refused"),
        InExecution = ("in_execution", "in execution"),
        PartiallyExecuted = ("partially_executed", "partial response sent"),
        Executed = ("executed", "executed (final response)"),
        Withdrawn = ("withdrawn", "withdrawn"),
        Closed = ("closed", "closed"),
    }
}

coded_enum! {
    /// Which end of the request this node holds.
    pub enum Side ("side") {
        Requesting = ("requesting", "requesting (outgoing)"),
        Requested = ("requested", "requested (incoming)"),
    }
}

impl Side {
    /// The other end of the request.
    pub fn other(self) -> Side {
        match self {
            Side::Requesting => Side::Requested,
            Side::Requested => Side::Requesting,
        }
    }
}

coded_enum! {
    /// Something that moves a request from one state to another.
    pub enum Action ("action") {
        SubmitForApproval = ("submit_for_approval", "submit for approval"),
        ReturnToDraft = ("return_to_draft", "return to draft"),
        Approve = ("approve", "approve"),
        Dispatch = ("dispatch", "dispatch"),
        RecordDelivery = ("record_delivery", "record delivery"),
        Acknowledge = ("acknowledge", "register and acknowledge"),
        StartAssessment = ("start_assessment", "start assessment"),
        RequestAdditionalInformation = ("request_additional_information", "request additional information"),
        ProvideAdditionalInformation = ("provide_additional_information", "provide additional information"),
        ResumeAssessment = ("resume_assessment", "resume assessment"),
        Accept = ("accept", "accept"),
        AcceptInPart = ("accept_in_part", "accept in part"),
        Postpone = ("postpone", "postpone"),
        Refuse = ("refuse", "refuse"),
        StartExecution = ("start_execution", "start execution"),
        SendPartialResponse = ("send_partial_response", "send partial response"),
        SendFinalResponse = ("send_final_response", "send final response"),
        Withdraw = ("withdraw", "withdraw"),
        Close = ("close", "close"),
    }
}

coded_enum! {
    /// Whether an action was taken on this node or reported by the peer.
    pub enum Origin ("origin") {
        Local = ("local", "taken here"),
        Remote = ("remote", "reported by the other side"),
    }
}

/// Who made a transition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A user of this node, acting in one of their roles.
    User {
        /// The user's id on this node.
        user_id: UserId,
        /// The role the user acted in.
        role: Role,
    },
    /// The other side's node, reporting an action its user took.
    Peer {
        /// The peer node's id.
        node_id: NodeId,
        /// Who acted there, as the peer described them ("Name (role)"); empty when the
        /// peer names no one (a dispatch).
        display: String,
    },
    /// This node itself (for example on a delivery receipt).
    System,
}

/// Between a peer's node id and who acted there, in [`Actor::peer_line`]. A node id holds
/// no white space, so the first occurrence is where the two parts meet.
const PEER_LINE_SEPARATOR: &str = " — ";

impl Actor {
    /// A peer actor as one line, as pages, letters and the history show it and as the
    /// store keeps it: the node id, then who acted there when the peer said
    /// (`es-node — Ana (supervisor)`). `None` for other actors.
    pub fn peer_line(&self) -> Option<String> {
        match self {
            Actor::Peer { node_id, display } if display.is_empty() => Some(node_id.to_string()),
            Actor::Peer { node_id, display } => {
                Some(format!("{node_id}{PEER_LINE_SEPARATOR}{display}"))
            }
            _ => None,
        }
    }

    /// Reads back a line made by [`Actor::peer_line`].
    pub fn peer_from_line(line: &str) -> Result<Actor, DomainError> {
        let (node_id, display) = line.split_once(PEER_LINE_SEPARATOR).unwrap_or((line, ""));
        Ok(Actor::Peer {
            node_id: NodeId::parse(node_id)?,
            display: display.to_string(),
        })
    }
}

/// What a user asks to do to a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionCommand {
    /// The action.
    pub action: Action,
    /// Why; required for the actions listed in [`Action::requires_reason`].
    pub reason: Option<String>,
    /// Grounds cited (instrument and article), required to refuse.
    pub grounds: Vec<String>,
}

/// What a user asks for when they act on a request: the command, the role they act in,
/// the version they saw and, for an approval despite blocking findings, the
/// supervisor's justification. Parsed once at the edge (API, web form, command line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserTransition {
    /// The action, its reason and its grounds (blank ones already dropped).
    pub command: TransitionCommand,
    /// The role to act in; `None`: the first the user holds that may take the action.
    pub role: Option<Role>,
    /// The version the caller saw; the transition fails if the request changed since.
    pub expected_version: Option<i64>,
    /// A supervisor's recorded justification for approving despite blocking findings.
    pub override_justification: Option<String>,
}

/// A transition that happened, as kept in the request's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransitionRecord {
    /// The action taken.
    pub action: Action,
    /// The state before.
    pub from: RequestState,
    /// The state after (equal to `from` when a remote action was superseded).
    pub to: RequestState,
    /// Who took it.
    pub actor: Actor,
    /// Taken here or reported by the peer.
    pub origin: Origin,
    /// When it was recorded here.
    pub at: Timestamp,
    /// The reason given, if any.
    pub reason: Option<String>,
    /// Grounds cited, if any.
    pub grounds: Vec<String>,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The action does not exist from this state on this side.
    #[error("cannot {action} a request that is {state} on the {side} side", action = .action.label(), state = .state.label(), side = .side.code())]
    IllegalTransition {
        /// The side holding the request.
        side: Side,
        /// The current state.
        state: RequestState,
        /// The action asked for.
        action: Action,
    },
    /// The action belongs to the other side.
    #[error("only the {owner} side may {action}", owner = .owner.code(), action = .action.label())]
    WrongSide {
        /// The side that owns the action.
        owner: Side,
        /// The action asked for.
        action: Action,
    },
    /// The actor's role may not take this action.
    #[error("the role {role} may not {action}", role = .role.label(), action = .action.label())]
    RoleNotAllowed {
        /// The role the actor used.
        role: Role,
        /// The action asked for.
        action: Action,
    },
    /// This action is only taken by the node itself.
    #[error("{action} is recorded by the system, not by a user", action = .action.label())]
    SystemOnly {
        /// The action asked for.
        action: Action,
    },
    /// A reason is mandatory for this action.
    #[error("a reason is required to {action}", action = .action.label())]
    ReasonRequired {
        /// The action asked for.
        action: Action,
    },
    /// A refusal must cite grounds (UNTOC art. 18(23): reasons shall be given).
    #[error("a refusal must cite at least one ground (UNTOC art. 18(23))")]
    GroundsRequired,
    /// The same person submitted and tries to approve (four-eyes principle).
    #[error("four-eyes principle: the approver must not be the person who submitted the request")]
    FourEyesViolation,
}

/// The outcome of applying an action.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TransitionOutcome {
    /// The request moves to this state.
    Moved(RequestState),
    /// A remote action arrived after the request was withdrawn or closed here; it is
    /// recorded, and the state stays.
    Superseded,
}

impl Action {
    /// The side whose users take this action; `None` for actions either side may take.
    pub fn owner(self) -> Option<Side> {
        use Action::*;
        match self {
            SubmitForApproval
            | ReturnToDraft
            | Approve
            | Dispatch
            | RecordDelivery
            | ProvideAdditionalInformation
            | Withdraw => Some(Side::Requesting),
            Acknowledge
            | StartAssessment
            | RequestAdditionalInformation
            | ResumeAssessment
            | Accept
            | AcceptInPart
            | Postpone
            | Refuse
            | StartExecution
            | SendPartialResponse
            | SendFinalResponse => Some(Side::Requested),
            Close => None,
        }
    }

    /// Whether the other side must be told: the action crosses the federation.
    pub fn is_shared(self) -> bool {
        use Action::*;
        !matches!(
            self,
            SubmitForApproval | ReturnToDraft | Approve | RecordDelivery
        )
    }

    /// Whether taking this action sends a message to the other side: dispatch does, and
    /// shared actions do once the other side holds the request (`peer_holds_request`:
    /// always on the requested side, after dispatch on the requesting side; see
    /// [`peer_holds_request`]).
    pub fn crosses_to_peer(self, peer_holds_request: bool) -> bool {
        self == Action::Dispatch || (self.is_shared() && peer_holds_request)
    }

    /// Whether a user must give a reason.
    pub fn requires_reason(self) -> bool {
        use Action::*;
        matches!(
            self,
            ReturnToDraft
                | RequestAdditionalInformation
                | ProvideAdditionalInformation
                | AcceptInPart
                | Postpone
                | Refuse
                | Withdraw
        )
    }

    /// The roles whose holders may take this action locally.
    pub fn allowed_roles(self) -> &'static [Role] {
        use Action::*;
        use Role::*;
        match self {
            SubmitForApproval | ProvideAdditionalInformation | Withdraw => {
                &[RequestingProsecutor, CentralAuthorityOfficer, Supervisor]
            }
            ReturnToDraft | Approve => &[CentralAuthorityOfficer, Supervisor],
            Dispatch => &[CentralAuthorityOfficer, Supervisor],
            RecordDelivery => &[],
            Acknowledge
            | StartAssessment
            | RequestAdditionalInformation
            | ResumeAssessment
            | Accept
            | AcceptInPart
            | Postpone
            | Refuse => &[CentralAuthorityOfficer, Supervisor],
            StartExecution | SendPartialResponse | SendFinalResponse => {
                &[CentralAuthorityOfficer, ExecutingOfficer, Supervisor]
            }
            Close => &[CentralAuthorityOfficer, RequestingProsecutor, Supervisor],
        }
    }

    /// The state this action leads to from `from`, if the table has such an edge.
    /// The table is the same on both sides; who may take it is checked separately.
    pub fn target(self, from: RequestState) -> Option<RequestState> {
        use Action::*;
        use RequestState::*;
        let to = match (self, from) {
            (SubmitForApproval, Draft) => PendingApproval,
            (ReturnToDraft, PendingApproval | Approved) => Draft,
            (Approve, PendingApproval) => Approved,
            (Dispatch, Approved) => Dispatched,
            (RecordDelivery, Dispatched) => Delivered,
            // A peer's acknowledgement also proves delivery when its receipt was lost.
            (Acknowledge, Delivered | Dispatched) => Registered,
            (StartAssessment, Registered) => UnderAssessment,
            (RequestAdditionalInformation, UnderAssessment) => AdditionalInformationRequested,
            (ProvideAdditionalInformation, AdditionalInformationRequested) => {
                AdditionalInformationProvided
            }
            (ResumeAssessment, AdditionalInformationProvided | Postponed) => UnderAssessment,
            (Accept, UnderAssessment | AdditionalInformationProvided) => Accepted,
            (AcceptInPart, UnderAssessment | AdditionalInformationProvided) => AcceptedInPart,
            (
                Postpone,
                UnderAssessment | AdditionalInformationProvided | Accepted | AcceptedInPart,
            ) => Postponed,
            (
                Refuse,
                UnderAssessment
                | AdditionalInformationRequested
                | AdditionalInformationProvided
                | Postponed,
            ) => Refused,
            (StartExecution, Accepted | AcceptedInPart | Postponed) => InExecution,
            (SendPartialResponse, InExecution | PartiallyExecuted) => PartiallyExecuted,
            (SendFinalResponse, InExecution | PartiallyExecuted) => Executed,
            (Withdraw, state) if state.is_withdrawable() => Withdrawn,
            (Close, Executed | Refused | Withdrawn) => Closed,
            _ => return None,
        };
        Some(to)
    }
}

impl RequestState {
    /// No action leaves a closed request.
    pub fn is_terminal(self) -> bool {
        self == RequestState::Closed
    }

    /// Whether the requesting side may still withdraw the request.
    pub fn is_withdrawable(self) -> bool {
        use RequestState::*;
        !matches!(self, Draft | Executed | Refused | Withdrawn | Closed)
    }

    /// Whether the request has left the requesting authority (it exists on both sides).
    pub fn is_dispatched(self) -> bool {
        use RequestState::*;
        !matches!(self, Draft | PendingApproval | Approved)
    }

    /// Whether the request is still being worked on (not finished, refused or withdrawn).
    pub fn is_open(self) -> bool {
        use RequestState::*;
        !matches!(self, Executed | Refused | Withdrawn | Closed)
    }
}

/// Decides a transition a user of this node asks for. Pure: the caller loads the state
/// and history and stores the result.
pub fn decide_local(
    side: Side,
    state: RequestState,
    command: &TransitionCommand,
    actor_user_id: &UserId,
    actor_role: Role,
    history: &[TransitionRecord],
) -> Result<RequestState, TransitionError> {
    let action = command.action;
    if action == Action::RecordDelivery {
        return Err(TransitionError::SystemOnly { action });
    }
    if let Some(owner) = action.owner()
        && owner != side
    {
        return Err(TransitionError::WrongSide { owner, action });
    }
    let Some(to) = action.target(state) else {
        return Err(TransitionError::IllegalTransition {
            side,
            state,
            action,
        });
    };
    if !action.allowed_roles().contains(&actor_role) {
        return Err(TransitionError::RoleNotAllowed {
            role: actor_role,
            action,
        });
    }
    let has_reason = command
        .reason
        .as_deref()
        .is_some_and(|reason| !reason.trim().is_empty());
    if action.requires_reason() && !has_reason {
        return Err(TransitionError::ReasonRequired { action });
    }
    if action == Action::Refuse && command.grounds.iter().all(|g| g.trim().is_empty()) {
        return Err(TransitionError::GroundsRequired);
    }
    if action == Action::Approve && submitted_by(history) == Some(actor_user_id.as_str()) {
        return Err(TransitionError::FourEyesViolation);
    }
    Ok(to)
}

/// Decides an action reported by the other side's node. Only actions the other side owns
/// (or shared ones like `Close`) are accepted; an action that arrives after this side
/// withdrew or closed the request is `Superseded`.
pub fn decide_remote(
    side: Side,
    state: RequestState,
    action: Action,
) -> Result<TransitionOutcome, TransitionError> {
    if let Some(owner) = action.owner()
        && owner == side
    {
        return Err(TransitionError::WrongSide { owner, action });
    }
    if !action.is_shared() {
        return Err(TransitionError::SystemOnly { action });
    }
    // The requesting side may call a request off whatever the requested side has done
    // meanwhile (UNTOC art. 18(24): it says promptly when assistance is no longer
    // required), so a withdrawal that crosses a final response or a refusal still wins.
    if action == Action::Withdraw
        && !matches!(state, RequestState::Withdrawn | RequestState::Closed)
    {
        return Ok(TransitionOutcome::Moved(RequestState::Withdrawn));
    }
    match action.target(state) {
        Some(to) => Ok(TransitionOutcome::Moved(to)),
        // This side ended the request while the peer's message was in flight.
        None if matches!(
            state,
            RequestState::Withdrawn | RequestState::Closed | RequestState::Refused
        ) =>
        {
            Ok(TransitionOutcome::Superseded)
        }
        None => Err(TransitionError::IllegalTransition {
            side,
            state,
            action,
        }),
    }
}

/// Decides the transition recorded when the peer's receipt for the dispatched request
/// arrives: `Dispatched` becomes `Delivered`; in any later state nothing changes.
pub fn decide_delivery(state: RequestState) -> Option<RequestState> {
    Action::RecordDelivery.target(state)
}

/// The user who last submitted the request for approval, if any.
pub fn submitted_by(history: &[TransitionRecord]) -> Option<&str> {
    history
        .iter()
        .rev()
        .find(|record| record.action == Action::SubmitForApproval)
        .and_then(|record| match &record.actor {
            Actor::User { user_id, .. } => Some(user_id.as_str()),
            _ => None,
        })
}

/// Whether the other side holds a copy of the request: it always does for the requested
/// side, and for the requesting side once the request has been dispatched.
pub fn peer_holds_request(side: Side, history: &[TransitionRecord]) -> bool {
    side == Side::Requested
        || history
            .iter()
            .any(|record| record.action == Action::Dispatch && record.origin == Origin::Local)
}

/// The actions a user in `role` could take now on this side, for menus and the API.
pub fn available_actions(side: Side, state: RequestState, role: Role) -> Vec<Action> {
    Action::ALL
        .iter()
        .copied()
        .filter(|action| *action != Action::RecordDelivery)
        .filter(|action| action.owner().is_none_or(|owner| owner == side))
        .filter(|action| action.target(state).is_some())
        .filter(|action| action.allowed_roles().contains(&role))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_actor_reads_back_from_its_line() {
        let named = Actor::Peer {
            node_id: NodeId::parse("ma-node").expect("node id"),
            display: "Karim — chef (central authority officer)".into(),
        };
        let line = named.peer_line().expect("a peer has a line");
        assert_eq!(line, "ma-node — Karim — chef (central authority officer)");
        assert_eq!(Actor::peer_from_line(&line).expect("reads back"), named);

        let unnamed = Actor::Peer {
            node_id: NodeId::parse("ma-node").expect("node id"),
            display: String::new(),
        };
        let line = unnamed.peer_line().expect("a peer has a line");
        assert_eq!(line, "ma-node");
        assert_eq!(Actor::peer_from_line(&line).expect("reads back"), unnamed);

        assert_eq!(Actor::System.peer_line(), None);
        assert!(Actor::peer_from_line("").is_err());
    }
}
