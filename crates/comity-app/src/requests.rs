//! Requests: drafting, reading, listing and moving them through the lifecycle.

use std::collections::HashMap;

use comity_domain::lifecycle::peer_holds_request;
use comity_domain::{
    Action, Actor, AuthorityId, CaseId, CountryCode, Deadline, Origin, Request, RequestId,
    RequestState, Role, Side, TransitionCommand, TransitionError, TransitionRecord, UserId,
    UserTransition, available_actions, deadlines, decide_local,
};
use comity_store::{OutboxMessage, OutboxStatus, RequestFilter, Tx};
use comity_wire::RequestContentDto;
use comity_wire::federation::{FederationBody, request};

use crate::{App, AppError, Principal};

/// A request with everything a reader needs to act on it.
#[derive(Debug, Clone)]
pub struct RequestDetails {
    /// The request.
    pub request: Request,
    /// Its history, oldest first.
    pub history: Vec<TransitionRecord>,
    /// Its deadlines.
    pub deadlines: Vec<Deadline>,
    /// The actions the principal may take now.
    pub available_actions: Vec<Action>,
    /// Whether a deadline has passed unmet.
    pub overdue: bool,
    /// Display names of this node's users who appear in the history, by user id.
    pub actor_names: HashMap<UserId, String>,
    /// Why this copy is out of step with the other side's, when it is.
    pub out_of_step: Option<String>,
}

/// Which requests to list.
#[derive(Debug, Clone, Default)]
pub struct RequestQuery {
    /// Only this case.
    pub case_id: Option<CaseId>,
    /// Only this side.
    pub side: Option<Side>,
    /// Only this state.
    pub state: Option<RequestState>,
    /// Only requests with an unmet deadline that has passed.
    pub overdue_only: bool,
}

impl App {
    /// Drafts a new outgoing request in one of the principal's cases.
    pub async fn create_request(
        &self,
        principal: &Principal,
        case_id: &CaseId,
        input: &RequestContentDto,
    ) -> Result<RequestDetails, AppError> {
        require_drafter(principal)?;
        let case = self.get_case(principal, case_id).await?;
        let mut tx = self.store().begin().await?;
        let content = parse_content(self, &mut tx, principal, input).await?;
        let now = self.now();
        let request = Request {
            id: self.new_typed_id(),
            case_id: case.id,
            side: Side::Requesting,
            state: RequestState::Draft,
            content,
            created_at: now,
            updated_at: now,
            version: 1,
        };
        tx.insert_request(&request).await?;
        tx.commit().await?;
        self.request_details(principal, &request.id).await
    }

    /// Replaces the content of a draft. Only drafts can be edited.
    pub async fn update_draft(
        &self,
        principal: &Principal,
        request_id: &RequestId,
        input: &RequestContentDto,
        expected_version: Option<i64>,
    ) -> Result<RequestDetails, AppError> {
        require_drafter(principal)?;
        let mut tx = self.store().begin().await?;
        let mut request = visible_request(&mut tx, principal, request_id).await?;
        check_version(&request, expected_version)?;
        if request.side != Side::Requesting || request.state != RequestState::Draft {
            return Err(AppError::Conflict(format!(
                "only drafts can be edited; this request is {}",
                request.state.label()
            )));
        }
        let previous_version = request.version;
        request.content = parse_content(self, &mut tx, principal, input).await?;
        request.updated_at = self.now();
        request.version += 1;
        tx.update_request(&request, previous_version).await?;
        tx.commit().await?;
        self.request_details(principal, request_id).await
    }

    /// One request as the principal's authority holds it.
    pub async fn request_details(
        &self,
        principal: &Principal,
        request_id: &RequestId,
    ) -> Result<RequestDetails, AppError> {
        principal.require_case_reader()?;
        let mut tx = self.store().begin().await?;
        let request = visible_request(&mut tx, principal, request_id).await?;
        let history = tx.history(&request.id, request.side).await?;
        let mut details = self.details(principal, request, history);
        details.actor_names = actor_names(&mut tx, &details.history).await?;
        details.out_of_step = self.out_of_step_note(&mut tx, &details.request.id).await?;
        Ok(details)
    }

    /// The requests the principal's authority holds, newest first.
    pub async fn list_requests(
        &self,
        principal: &Principal,
        query: &RequestQuery,
    ) -> Result<Vec<RequestDetails>, AppError> {
        principal.require_case_reader()?;
        let mut tx = self.store().begin().await?;
        let requests = tx
            .requests(&RequestFilter {
                holders: vec![principal.authority().clone()],
                case_id: query.case_id.clone(),
                side: query.side,
                states: query.state.into_iter().collect(),
                limit: 500,
            })
            .await?;
        let mut listed = Vec::with_capacity(requests.len());
        for request in requests {
            let history = tx.history(&request.id, request.side).await?;
            let details = self.details(principal, request, history);
            if !query.overdue_only || details.overdue {
                listed.push(details);
            }
        }
        Ok(listed)
    }

    /// Takes a lifecycle action on a request. The new state, its history row and, when
    /// the other side must know, the outgoing message commit together.
    pub async fn transition(
        &self,
        principal: &Principal,
        request_id: &RequestId,
        asked: &UserTransition,
    ) -> Result<RequestDetails, AppError> {
        let command = &asked.command;
        let action = command.action;
        let role = acting_role(principal, action, asked.role)?;
        // Authority and role before anything about the request: a caller who may not
        // read it or take this action learns neither its state nor its version.
        principal.require_case_reader()?;
        if action == Action::RecordDelivery {
            return Err(TransitionError::SystemOnly { action }.into());
        }
        if !action.allowed_roles().contains(&role) {
            return Err(TransitionError::RoleNotAllowed { role, action }.into());
        }
        let mut tx = self.store().begin().await?;
        let request = visible_request(&mut tx, principal, request_id).await?;
        check_version(&request, asked.expected_version)?;
        let history = tx.history(&request.id, request.side).await?;
        let to = decide_local(
            request.side,
            request.state,
            command,
            principal.user_id(),
            role,
            &history,
        )?;
        let recorded_reason = self.legal_gate(
            &request.content,
            &history,
            command,
            role,
            asked.override_justification.as_deref(),
        )?;
        let now = self.now();
        let record = TransitionRecord {
            action,
            from: request.state,
            to,
            actor: Actor::User {
                user_id: principal.user_id().clone(),
                role,
            },
            origin: Origin::Local,
            at: now,
            reason: recorded_reason,
            grounds: command.grounds.clone(),
        };
        let mut updated = request.clone();
        updated.state = to;
        updated.updated_at = now;
        updated.version += 1;
        tx.update_request(&updated, request.version).await?;
        tx.append_history(&request.id, request.side, &record)
            .await?;
        let mut history_after = history;
        history_after.push(record);
        let queued = if action.crosses_to_peer(peer_holds_request(request.side, &history_after)) {
            let body = self
                .outgoing_body(&mut tx, principal, role, &updated, command)
                .await?;
            self.enqueue_for_counterpart(&mut tx, &updated, &body)
                .await?;
            true
        } else {
            false
        };
        tx.commit().await?;
        if queued {
            self.outbox_signal().notify_one();
        }
        self.request_details(principal, &updated.id).await
    }

    async fn outgoing_body(
        &self,
        tx: &mut Tx,
        principal: &Principal,
        role: Role,
        request: &Request,
        command: &TransitionCommand,
    ) -> Result<FederationBody, AppError> {
        let request_id = uuid::Uuid::try_parse(&request.id).map_err(|_| {
            AppError::invalid(
                "request_id",
                format!(
                    "request id `{}` is not a UUID; it cannot travel",
                    request.id
                ),
            )
        })?;
        if command.action == Action::Dispatch {
            let case = tx
                .case(&request.case_id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("case {}", request.case_id)))?;
            return Ok(request::Message::Dispatched(request::Dispatched {
                request_id,
                content: Box::new(RequestContentDto::from(&request.content)),
                case_reference: case.reference,
            })
            .into());
        }
        Ok(request::Message::ActionTaken(request::ActionTaken {
            request_id,
            from_side: request.side,
            action: command.action,
            actor: principal.display(role),
            reason: command.reason.clone(),
            grounds: command.grounds.clone(),
            taken_at_ms: self.now().millis(),
        })
        .into())
    }

    /// Queues `body` for the node that hosts the request's other authority.
    pub(crate) async fn enqueue_for_counterpart(
        &self,
        tx: &mut Tx,
        request: &Request,
        body: &FederationBody,
    ) -> Result<(), AppError> {
        let counterpart = request.counterpart();
        let record = tx.authority(counterpart).await?.ok_or_else(|| {
            AppError::invalid(
                "requested_authority",
                format!(
                    "`{counterpart}` is not on this node's trust list; it cannot receive requests"
                ),
            )
        })?;
        let conversation = body.conversation().to_string();
        let sequence = tx
            .take_outgoing_sequence(&conversation, &record.node_id)
            .await?;
        let now = self.now();
        let body_json = body
            .to_json()
            .map_err(|error| AppError::invalid("body", error.to_string()))?;
        tx.enqueue(&OutboxMessage {
            message_id: self.new_id(),
            recipient_node: record.node_id,
            conversation_id: conversation,
            sequence,
            message_type: body.message_type().to_string(),
            in_reply_to: None,
            body: body_json,
            status: OutboxStatus::Pending,
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            last_error: None,
            receipt: None,
        })
        .await?;
        Ok(())
    }

    pub(crate) fn details(
        &self,
        principal: &Principal,
        request: Request,
        history: Vec<TransitionRecord>,
    ) -> RequestDetails {
        let policy = self.assess(&request.content).deadline_policy();
        let deadlines = deadlines(
            request.side,
            request.state,
            &history,
            request.content.requested_deadline,
            &policy,
        );
        let now = self.now();
        let overdue = request.state.is_open() && deadlines.iter().any(|d| d.is_overdue(now));
        let mut actions: Vec<Action> = Vec::new();
        if principal.authority() == request.holder() {
            for role in principal.roles() {
                for action in available_actions(request.side, request.state, *role) {
                    if !actions.contains(&action) {
                        actions.push(action);
                    }
                }
            }
        }
        actions.sort();
        RequestDetails {
            request,
            history,
            deadlines,
            available_actions: actions,
            overdue,
            actor_names: HashMap::new(),
            out_of_step: None,
        }
    }
}

/// The display names of the users who took the actions in `history`.
async fn actor_names(
    tx: &mut Tx,
    history: &[TransitionRecord],
) -> Result<HashMap<UserId, String>, AppError> {
    let mut names = HashMap::new();
    for record in history {
        if let Actor::User { user_id, .. } = &record.actor
            && !names.contains_key(user_id)
            && let Some(user) = tx.user(user_id).await?
        {
            names.insert(user_id.clone(), user.display_name);
        }
    }
    Ok(names)
}

fn require_drafter(principal: &Principal) -> Result<(), AppError> {
    let drafters: Vec<Role> = Role::ALL
        .iter()
        .copied()
        .filter(|role| role.may_draft())
        .collect();
    principal.require_any(&drafters, "draft requests")
}

pub use comity_wire::schema::{MAX_GROUNDS, MAX_REASON_CHARS};

fn check_version(request: &Request, expected: Option<i64>) -> Result<(), AppError> {
    match expected {
        Some(expected) if expected != request.version => Err(AppError::Conflict(format!(
            "the request changed (version {} now, {expected} expected); reload it",
            request.version
        ))),
        _ => Ok(()),
    }
}

/// The role the principal acts in: the one asked for, or the first they hold that may
/// take the action.
fn acting_role(
    principal: &Principal,
    action: Action,
    asked: Option<Role>,
) -> Result<Role, AppError> {
    if let Some(role) = asked {
        if !principal.has(role) {
            return Err(AppError::Forbidden(format!(
                "you do not hold the role {}",
                role.code()
            )));
        }
        return Ok(role);
    }
    let allowed = action.allowed_roles();
    principal
        .roles()
        .iter()
        .copied()
        .find(|role| allowed.contains(role))
        .or_else(|| principal.roles().first().copied())
        .ok_or_else(|| AppError::Forbidden("the account holds no role".into()))
}

/// The request with this id held by the principal's authority.
async fn visible_request(
    tx: &mut Tx,
    principal: &Principal,
    request_id: &RequestId,
) -> Result<Request, AppError> {
    let sides = tx.request_sides(request_id).await?;
    if sides.is_empty() {
        return Err(AppError::NotFound(format!("request {request_id}")));
    }
    sides
        .into_iter()
        .find(|request| request.holder() == principal.authority())
        .ok_or_else(|| {
            AppError::Forbidden("a user sees only the requests of their own authority".into())
        })
}

/// Parses draft content; the requesting authority must be the principal's own.
pub(crate) async fn parse_content(
    app: &App,
    tx: &mut Tx,
    principal: &Principal,
    input: &RequestContentDto,
) -> Result<comity_domain::RequestContent, AppError> {
    let countries: HashMap<AuthorityId, CountryCode> = tx
        .authorities()
        .await?
        .into_iter()
        .map(|record| (record.authority.id, record.authority.country))
        .collect();
    let content = input.to_domain(|id| countries.get(id).copied())?;
    if &content.requesting_authority != principal.authority() {
        return Err(AppError::invalid(
            "requesting_authority",
            format!("must be your own authority `{}`", principal.authority()),
        ));
    }
    for (index, instrument) in content.legal_basis.iter().enumerate() {
        if app.catalog().instrument(instrument).is_none() {
            return Err(AppError::invalid(
                format!("legal_basis[{index}]"),
                format!("`{instrument}` is not an instrument of the law catalog"),
            ));
        }
    }
    // The domain has no clock: a date of birth in the future is refused here.
    // Partial dates (`YYYY`, `YYYY-MM`) compare with today's date cut to their length.
    let today = app
        .now()
        .date()
        .unwrap_or(comity_domain::Date::UNIX_EPOCH)
        .to_string();
    for (index, person) in content.persons.iter().enumerate() {
        let born_after_today = person.date_of_birth.as_deref().is_some_and(|born| {
            today
                .get(..born.len())
                .is_some_and(|today_cut| born > today_cut)
        });
        if born_after_today {
            return Err(AppError::invalid(
                format!("persons[{index}].date_of_birth"),
                "a date of birth cannot be in the future",
            ));
        }
    }
    Ok(content)
}
