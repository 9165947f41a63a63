//! Conversions from the use cases' results to the API's response bodies.

use comity_app::requests::RequestDetails;
use comity_domain::{Actor, Case, Timestamp};
use comity_store::{AuthorityRecord, UserRecord};
use comity_wire::RequestContentDto;
use comity_wire::api::{
    AuthorityView, CaseView, DeadlineView, RequestSummaryView, RequestView, TransitionView,
    UserView,
};

/// A user.
pub fn user_view(user: &UserRecord) -> UserView {
    UserView {
        id: user.id.to_string(),
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        authority: user.authority.to_string(),
        roles: user
            .roles
            .iter()
            .map(|role| role.code().to_string())
            .collect(),
        active: user.active,
        must_change_password: user.must_change_password,
    }
}

/// The caller's own account, as its session shows it (an authenticated user is active).
pub fn principal_view(principal: &comity_app::Principal) -> UserView {
    UserView {
        id: principal.user_id().to_string(),
        username: principal.username().to_string(),
        display_name: principal.display_name().to_string(),
        authority: principal.authority().to_string(),
        roles: principal
            .roles()
            .iter()
            .map(|role| role.code().to_string())
            .collect(),
        active: true,
        must_change_password: principal.must_change_password(),
    }
}

/// A session, marked `current` when it is the caller's own.
pub fn session_info_view(
    session: &comity_store::SessionRecord,
    current_session_id: &str,
) -> comity_wire::accounts::SessionInfoView {
    comity_wire::accounts::SessionInfoView {
        id: session.id.clone(),
        created_at: session.created_at.to_rfc3339(),
        last_seen_at: session.last_seen_at.to_rfc3339(),
        expires_at: session.expires_at.to_rfc3339(),
        current: session.id == current_session_id,
    }
}

/// An authority.
pub fn authority_view(record: &AuthorityRecord) -> AuthorityView {
    AuthorityView {
        id: record.authority.id.to_string(),
        country: record.authority.country.to_string(),
        kind: record.authority.kind.code().to_string(),
        name: record.authority.name.clone(),
        local: record.is_local,
    }
}

/// A case with its requests.
pub fn case_view(case: &Case, requests: &[RequestDetails]) -> CaseView {
    CaseView {
        id: case.id.to_string(),
        authority: case.authority.to_string(),
        reference: case.reference.clone(),
        title: case.title.clone(),
        created_at: case.created_at.to_rfc3339(),
        requests: requests.iter().map(request_summary).collect(),
    }
}

/// A request in a list.
pub fn request_summary(details: &RequestDetails) -> RequestSummaryView {
    let request = &details.request;
    let counterpart = request.counterpart();
    RequestSummaryView {
        id: request.id.to_string(),
        case_id: request.case_id.to_string(),
        side: request.side.code().to_string(),
        state: request.state.code().to_string(),
        counterpart: counterpart.to_string(),
        subject_matter: request.content.subject_matter.clone(),
        urgent: request.content.urgency.is_urgent(),
        overdue: details.overdue,
        updated_at: request.updated_at.to_rfc3339(),
    }
}

/// A request in full.
pub fn request_view(details: &RequestDetails, now: Timestamp) -> RequestView {
    let request = &details.request;
    RequestView {
        id: request.id.to_string(),
        case_id: request.case_id.to_string(),
        side: request.side.code().to_string(),
        state: request.state.code().to_string(),
        version: request.version,
        content: RequestContentDto::from(&request.content),
        available_actions: details
            .available_actions
            .iter()
            .map(|action| action.code().to_string())
            .collect(),
        deadlines: details
            .deadlines
            .iter()
            .map(|deadline| DeadlineView {
                kind: deadline.kind.code().to_string(),
                label: deadline.kind.label().to_string(),
                due: deadline.due.to_rfc3339(),
                met_at: deadline.met_at.map(Timestamp::to_rfc3339),
                overdue: deadline.is_overdue(now),
            })
            .collect(),
        history: details
            .history
            .iter()
            .map(|record| TransitionView {
                action: record.action.code().to_string(),
                from: record.from.code().to_string(),
                to: record.to.code().to_string(),
                actor: actor_text(&record.actor, &details.actor_names),
                origin: record.origin.code().to_string(),
                at: record.at.to_rfc3339(),
                reason: record.reason.clone(),
                grounds: record.grounds.clone(),
            })
            .collect(),
        created_at: request.created_at.to_rfc3339(),
        updated_at: request.updated_at.to_rfc3339(),
        out_of_step: details.out_of_step.clone(),
    }
}

/// Who made a transition, for people.
pub fn actor_text(
    actor: &Actor,
    names: &std::collections::HashMap<comity_domain::UserId, String>,
) -> String {
    match actor {
        Actor::User { user_id, role } => match names.get(user_id) {
            Some(name) => format!("{name} ({})", role.label()),
            None => format!("user {user_id} ({})", role.label()),
        },
        Actor::Peer { .. } => format!("peer {}", actor.peer_line().unwrap_or_default()),
        Actor::System => "system".to_string(),
    }
}
