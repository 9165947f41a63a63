//! Property tests of the request lifecycle: random sequences of actions taken by random
//! users on both sides, with messages between the sides delivered late and in bursts.

use std::collections::VecDeque;

use comity_domain::{
    Action, Actor, Origin, RequestState, Role, Side, Timestamp, TransitionCommand, TransitionError,
    TransitionOutcome, TransitionRecord, available_actions, decide_delivery, decide_local,
    decide_remote,
};
use proptest::prelude::*;

/// One end of a request, as a node would keep it.
#[derive(Debug, Clone)]
struct Holder {
    side: Side,
    state: RequestState,
    history: Vec<TransitionRecord>,
}

impl Holder {
    fn record(&mut self, action: Action, to: RequestState, actor: Actor, origin: Origin) {
        self.history.push(TransitionRecord {
            action,
            from: self.state,
            to,
            actor,
            origin,
            at: Timestamp(self.history.len() as i64),
            reason: None,
            grounds: Vec::new(),
        });
        self.state = to;
    }
}

/// A step the test takes.
#[derive(Debug, Clone)]
enum Step {
    /// A user on one side tries an action.
    Try {
        side: Side,
        action: Action,
        user: u8,
        role: Role,
        with_reason: bool,
        with_grounds: bool,
    },
    /// A user on one side takes one of the actions open to some role, so that random
    /// runs reach deep into the lifecycle rather than bouncing off illegal actions.
    Pick { side: Side, pick: usize, user: u8 },
    /// The network delivers the oldest message in flight towards `to`.
    Deliver { to: Side },
}

fn side_strategy() -> impl Strategy<Value = Side> {
    prop_oneof![Just(Side::Requesting), Just(Side::Requested)]
}

fn step_strategy() -> impl Strategy<Value = Step> {
    let try_step = (
        side_strategy(),
        proptest::sample::select(Action::ALL),
        0u8..3,
        proptest::sample::select(Role::ALL),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(
            |(side, action, user, role, with_reason, with_grounds)| Step::Try {
                side,
                action,
                user,
                role,
                with_reason,
                with_grounds,
            },
        );
    let pick_step = (side_strategy(), any::<usize>(), 0u8..3)
        .prop_map(|(side, pick, user)| Step::Pick { side, pick, user });
    prop_oneof![
        2 => try_step,
        3 => pick_step,
        2 => side_strategy().prop_map(|to| Step::Deliver { to }),
    ]
}

/// The two sides and the messages in flight between them.
struct World {
    requesting: Holder,
    requested: Option<Holder>,
    to_requested: VecDeque<Action>,
    to_requesting: VecDeque<Action>,
    /// Whether the requested side has acknowledged the dispatch with a receipt.
    receipt_in_flight: bool,
}

impl World {
    fn new() -> Self {
        World {
            requesting: Holder {
                side: Side::Requesting,
                state: RequestState::Draft,
                history: Vec::new(),
            },
            requested: None,
            to_requested: VecDeque::new(),
            to_requesting: VecDeque::new(),
            receipt_in_flight: false,
        }
    }

    fn holder(&mut self, side: Side) -> Option<&mut Holder> {
        match side {
            Side::Requesting => Some(&mut self.requesting),
            Side::Requested => self.requested.as_mut(),
        }
    }

    fn step(&mut self, step: &Step) {
        match step {
            Step::Pick { side, pick, user } => {
                let Some(holder) = self.holder(*side) else {
                    return;
                };
                let open: Vec<(Action, Role)> = Role::ALL
                    .iter()
                    .flat_map(|role| {
                        available_actions(holder.side, holder.state, *role)
                            .into_iter()
                            .map(|action| (action, *role))
                    })
                    .collect();
                if open.is_empty() {
                    return;
                }
                let (action, role) = open[pick % open.len()];
                self.step(&Step::Try {
                    side: *side,
                    action,
                    user: *user,
                    role,
                    with_reason: true,
                    with_grounds: true,
                });
            }
            Step::Try {
                side,
                action,
                user,
                role,
                with_reason,
                with_grounds,
            } => {
                let command = TransitionCommand {
                    action: *action,
                    reason: with_reason.then(|| "because".to_string()),
                    grounds: if *with_grounds {
                        vec!["UNTOC art. 18(21)(b)".to_string()]
                    } else {
                        Vec::new()
                    },
                };
                let user_id =
                    comity_domain::UserId::parse(&format!("user-{user}")).expect("a valid user id");
                let Some(holder) = self.holder(*side) else {
                    return;
                };
                let from = holder.state;
                let history = holder.history.clone();
                match decide_local(holder.side, from, &command, &user_id, *role, &history) {
                    Ok(to) => {
                        check_local_rules(&command, *role, &user_id, &history);
                        // Only actions offered to the role are ever accepted.
                        assert!(available_actions(holder.side, from, *role).contains(action));
                        holder.record(
                            *action,
                            to,
                            Actor::User {
                                user_id,
                                role: *role,
                            },
                            Origin::Local,
                        );
                        let peer_holds = comity_domain::lifecycle::peer_holds_request(
                            holder.side,
                            &holder.history,
                        );
                        if action.crosses_to_peer(peer_holds) {
                            match side {
                                Side::Requesting => self.to_requested.push_back(*action),
                                Side::Requested => self.to_requesting.push_back(*action),
                            }
                        }
                    }
                    Err(error) => check_refusal_is_justified(&error, holder, &command, *role),
                }
            }
            Step::Deliver {
                to: Side::Requested,
            } => {
                let Some(action) = self.to_requested.pop_front() else {
                    return;
                };
                if action == Action::Dispatch {
                    assert!(self.requested.is_none(), "dispatched twice");
                    let mut holder = Holder {
                        side: Side::Requested,
                        state: RequestState::Delivered,
                        history: Vec::new(),
                    };
                    holder.history.push(TransitionRecord {
                        action,
                        from: RequestState::Delivered,
                        to: RequestState::Delivered,
                        actor: Actor::Peer {
                            node_id: comity_domain::NodeId::parse("a").expect("node id"),
                            display: String::new(),
                        },
                        origin: Origin::Remote,
                        at: Timestamp(0),
                        reason: None,
                        grounds: Vec::new(),
                    });
                    self.requested = Some(holder);
                    self.receipt_in_flight = true;
                    return;
                }
                let holder = self
                    .requested
                    .as_mut()
                    .expect("dispatch is delivered first");
                apply_remote(holder, action);
            }
            Step::Deliver {
                to: Side::Requesting,
            } => {
                if self.receipt_in_flight {
                    self.receipt_in_flight = false;
                    if let Some(to) = decide_delivery(self.requesting.state) {
                        self.requesting.record(
                            Action::RecordDelivery,
                            to,
                            Actor::System,
                            Origin::Local,
                        );
                    }
                    return;
                }
                let Some(action) = self.to_requesting.pop_front() else {
                    return;
                };
                apply_remote(&mut self.requesting, action);
            }
        }
    }

    fn drain(&mut self) {
        while !self.to_requested.is_empty()
            || !self.to_requesting.is_empty()
            || self.receipt_in_flight
        {
            self.step(&Step::Deliver {
                to: Side::Requested,
            });
            self.step(&Step::Deliver {
                to: Side::Requesting,
            });
        }
    }
}

fn apply_remote(holder: &mut Holder, action: Action) {
    let outcome = decide_remote(holder.side, holder.state, action).unwrap_or_else(|error| {
        panic!(
            "a message the peer sent must apply: {error} ({:?})",
            holder.history
        )
    });
    let to = match outcome {
        TransitionOutcome::Moved(to) => to,
        TransitionOutcome::Superseded => holder.state,
    };
    holder.record(
        action,
        to,
        Actor::Peer {
            node_id: comity_domain::NodeId::parse("peer").expect("node id"),
            display: String::new(),
        },
        Origin::Remote,
    );
}

/// Every accepted local transition respects the rules it claims to.
fn check_local_rules(
    command: &TransitionCommand,
    role: Role,
    user_id: &str,
    history: &[TransitionRecord],
) {
    let action = command.action;
    assert!(action.allowed_roles().contains(&role));
    if action.requires_reason() {
        assert!(command.reason.is_some());
    }
    if action == Action::Refuse {
        assert!(!command.grounds.is_empty());
    }
    if action == Action::Approve {
        assert_ne!(
            comity_domain::lifecycle::submitted_by(history),
            Some(user_id)
        );
    }
}

/// Every refusal is for a reason that really holds.
fn check_refusal_is_justified(
    error: &TransitionError,
    holder: &Holder,
    command: &TransitionCommand,
    role: Role,
) {
    let action = command.action;
    match error {
        TransitionError::IllegalTransition { state, .. } => {
            assert_eq!(*state, holder.state);
            assert!(action.target(holder.state).is_none());
        }
        TransitionError::WrongSide { owner, .. } => assert_ne!(*owner, holder.side),
        TransitionError::RoleNotAllowed { .. } => {
            assert!(!action.allowed_roles().contains(&role))
        }
        TransitionError::SystemOnly { .. } => assert_eq!(action, Action::RecordDelivery),
        TransitionError::ReasonRequired { .. } => {
            assert!(action.requires_reason() && command.reason.is_none())
        }
        TransitionError::GroundsRequired => assert!(command.grounds.is_empty()),
        TransitionError::FourEyesViolation => assert_eq!(action, Action::Approve),
    }
}

/// The states a side can reach only before dispatch.
fn only_before_dispatch(state: RequestState) -> bool {
    !state.is_dispatched()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn both_sides_end_in_the_same_state(steps in proptest::collection::vec(step_strategy(), 0..120)) {
        let mut world = World::new();
        for step in &steps {
            world.step(step);
        }
        world.drain();
        if let Some(requested) = &world.requested {
            // Once every message is applied the two views agree, except that the
            // requesting side may still wait for the receipt it already got.
            prop_assert_eq!(world.requesting.state, requested.state,
                "requesting history {:?}\nrequested history {:?}",
                world.requesting.history, requested.history);
        } else {
            prop_assert!(only_before_dispatch(world.requesting.state)
                || matches!(world.requesting.state, RequestState::Withdrawn | RequestState::Closed),
                "state {:?} without a peer", world.requesting.state);
        }
    }

    #[test]
    fn history_is_a_chain_and_closed_is_final(steps in proptest::collection::vec(step_strategy(), 0..120)) {
        let mut world = World::new();
        for step in &steps {
            world.step(step);
        }
        for holder in std::iter::once(&world.requesting).chain(world.requested.as_ref()) {
            let mut state = holder.history.first().map(|record| record.from);
            let mut closed = false;
            for record in &holder.history {
                prop_assert_eq!(Some(record.from), state);
                prop_assert!(!closed || record.from == record.to, "left closed: {:?}", record);
                closed |= record.to == RequestState::Closed;
                state = Some(record.to);
            }
            if let Some(state) = state {
                prop_assert_eq!(state, holder.state);
            }
        }
    }

    #[test]
    fn approval_always_has_four_eyes(steps in proptest::collection::vec(step_strategy(), 0..120)) {
        let mut world = World::new();
        for step in &steps {
            world.step(step);
        }
        let history = &world.requesting.history;
        for (index, record) in history.iter().enumerate() {
            if record.action == Action::Approve {
                let submitter = comity_domain::lifecycle::submitted_by(&history[..index]);
                let Actor::User { user_id, .. } = &record.actor else {
                    panic!("approval by a non-user");
                };
                prop_assert!(submitter.is_some());
                prop_assert_ne!(submitter, Some(user_id.as_str()));
            }
        }
    }
}

#[test]
fn a_full_lifecycle_runs_on_both_sides() {
    let mut world = World::new();
    let steps = [
        (
            Side::Requesting,
            Action::SubmitForApproval,
            0,
            Role::RequestingProsecutor,
        ),
        (
            Side::Requesting,
            Action::Approve,
            1,
            Role::CentralAuthorityOfficer,
        ),
        (
            Side::Requesting,
            Action::Dispatch,
            1,
            Role::CentralAuthorityOfficer,
        ),
    ];
    for (side, action, user, role) in steps {
        world.step(&Step::Try {
            side,
            action,
            user,
            role,
            with_reason: true,
            with_grounds: false,
        });
    }
    world.drain();
    assert_eq!(world.requesting.state, RequestState::Delivered);
    let incoming = [
        (
            Side::Requested,
            Action::Acknowledge,
            Role::CentralAuthorityOfficer,
        ),
        (
            Side::Requested,
            Action::StartAssessment,
            Role::CentralAuthorityOfficer,
        ),
        (
            Side::Requested,
            Action::RequestAdditionalInformation,
            Role::CentralAuthorityOfficer,
        ),
        (
            Side::Requesting,
            Action::ProvideAdditionalInformation,
            Role::RequestingProsecutor,
        ),
        (
            Side::Requested,
            Action::AcceptInPart,
            Role::CentralAuthorityOfficer,
        ),
        (
            Side::Requested,
            Action::StartExecution,
            Role::ExecutingOfficer,
        ),
        (
            Side::Requested,
            Action::SendPartialResponse,
            Role::ExecutingOfficer,
        ),
        (
            Side::Requested,
            Action::SendFinalResponse,
            Role::ExecutingOfficer,
        ),
        (Side::Requesting, Action::Close, Role::RequestingProsecutor),
    ];
    for (side, action, role) in incoming {
        world.step(&Step::Try {
            side,
            action,
            user: 2,
            role,
            with_reason: true,
            with_grounds: false,
        });
        world.drain();
        let requested = world.requested.as_ref().expect("delivered");
        assert_eq!(world.requesting.state, requested.state, "after {action}");
    }
    assert_eq!(world.requesting.state, RequestState::Closed);
}

#[test]
fn the_submitter_cannot_approve() {
    let mut world = World::new();
    for (action, role) in [
        (Action::SubmitForApproval, Role::CentralAuthorityOfficer),
        (Action::Approve, Role::CentralAuthorityOfficer),
    ] {
        world.step(&Step::Try {
            side: Side::Requesting,
            action,
            user: 0,
            role,
            with_reason: false,
            with_grounds: false,
        });
    }
    assert_eq!(world.requesting.state, RequestState::PendingApproval);
}
