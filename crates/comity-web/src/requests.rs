//! Request pages: the list, one request in full (legal basis, content, deadlines,
//! timeline) with a form per available action, and the POST that takes an action.
//!
//! The action forms follow the legal-basis engine: a supervisor may approve or dispatch
//! despite blocking findings (missing mandatory content, a death-penalty or
//! asylum-disclosure risk) with a justification recorded in the history, and a refusal
//! offers the prevailing instrument's grounds, those the facts raise first.
//! The letter of request (`comity-forms`) is one link away, in each language it has.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use comity_app::letters::LetterFormat;
use comity_app::requests::{RequestDetails, RequestQuery};
use comity_app::{AppError, Principal};
use comity_domain::{Action, Actor, RequestContent, RequestState, Role, Side, Urgency};
use comity_forms::Language;
use comity_law::Assessment;
use comity_wire::api::TransitionInput;
use maud::{Markup, html};

use super::layout::{self, FormProblem, Section, sentence_case};
use super::legal;
use super::{FormFields, WebError, WebUser, path_segment, see_other};
use crate::WebState;
use comity_http::ApiError;

/// `GET /requests` (`?overdue=true` for the overdue ones only).
pub async fn list(
    State(state): State<WebState>,
    user: WebUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let overdue_only = params
        .iter()
        .any(|(key, value)| key == "overdue" && matches!(value.as_str(), "true" | "1" | "on"));
    let listed = state
        .app
        .list_requests(
            &user.principal,
            &RequestQuery {
                overdue_only,
                ..RequestQuery::default()
            },
        )
        .await?;
    let names = authority_names(&state).await?;
    let (title, section) = if overdue_only {
        ("Overdue requests", Section::Overdue)
    } else {
        ("Requests", Section::Requests)
    };
    Ok(layout::page(
        title,
        Some(&user.principal),
        section,
        html! {
            h1 { (title) }
            p { "Outgoing and incoming requests of " (user.principal.authority()) ", newest first." }
            @if listed.is_empty() {
                p { @if overdue_only { "No request is overdue." } @else { "No requests yet. Open a case to draft one." } }
            } @else {
                (requests_table(&listed, &names, title))
            }
        },
    )
    .into_response())
}

/// Authority ids to names, for people.
pub async fn authority_names(state: &WebState) -> Result<HashMap<String, String>, AppError> {
    Ok(state
        .app
        .list_authorities()
        .await?
        .into_iter()
        .map(|record| (record.authority.id.to_string(), record.authority.name))
        .collect())
}

/// The table of requests: subject (a link), side, counterpart, state, urgency, overdue.
pub fn requests_table(
    listed: &[RequestDetails],
    names: &HashMap<String, String>,
    caption: &str,
) -> Markup {
    html! {
        table {
            caption.visually-hidden { (caption) }
            thead { tr {
                th scope="col" { "Subject" }
                th scope="col" { "Side" }
                th scope="col" { "Counterpart" }
                th scope="col" { "State" }
                th scope="col" { "Urgent" }
                th scope="col" { "Deadlines" }
                th scope="col" { "Updated" }
            } }
            tbody {
                @for details in listed {
                    @let request = &details.request;
                    @let counterpart = request.counterpart();
                    tr {
                        th scope="row" {
                            a href={ "/requests/" (path_segment(&request.id)) } dir="auto" {
                                (subject_text(&request.content))
                            }
                        }
                        td { (request.side.label()) }
                        td { (authority_text(names, &counterpart.to_string())) }
                        td { (request.state.label()) }
                        td { @if request.content.urgency.is_urgent() { (layout::urgent_badge()) } @else { "no" } }
                        td { @if details.overdue { (layout::overdue_badge()) } @else { "on time" } }
                        td { (layout::when(request.updated_at)) }
                    }
                }
            }
        }
    }
}

fn subject_text(content: &RequestContent) -> String {
    if content.subject_matter.trim().is_empty() {
        "(no subject yet)".to_string()
    } else {
        content.subject_matter.clone()
    }
}

fn authority_text(names: &HashMap<String, String>, id: &str) -> String {
    match names.get(id) {
        Some(name) => format!("{name} ({id})"),
        None => id.to_string(),
    }
}

/// `GET /requests/{request_id}` (`?done=<action>` after an action was taken).
pub async fn show(
    State(state): State<WebState>,
    user: WebUser,
    Path(request_id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    let details = state
        .app
        .request_details(&user.principal, &request_id)
        .await?;
    let done = params
        .iter()
        .find(|(key, _)| key == "done")
        .and_then(|(_, code)| code.parse::<Action>().ok());
    let flash = done.map(|action| {
        format!(
            "Done: {}. The request is now {}.",
            action.label(),
            details.request.state.label()
        )
    });
    let saved = params.iter().any(|(key, _)| key == "saved");
    let flash = flash.or_else(|| saved.then(|| "The draft was saved.".to_string()));
    let page = request_page(
        &state,
        &user.principal,
        &details,
        flash.as_deref(),
        None,
        &FormState::default(),
    )
    .await?;
    Ok(page.into_response())
}

/// What the user typed into an action form, to show it again after an error.
#[derive(Debug, Clone, Default)]
struct FormState {
    action: String,
    reason: String,
    /// The free-text grounds, one per line.
    grounds: String,
    /// The grounds ticked among those the instrument offers.
    grounds_checked: Vec<String>,
    override_justification: String,
}

/// `POST /requests/{request_id}/transitions`: takes the action and goes back to the
/// request (303), or shows the request again with the error.
pub async fn transition(
    State(state): State<WebState>,
    user: WebUser,
    Path(request_id): Path<String>,
    fields: FormFields,
) -> Result<Response, WebError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    let action = fields.get("action").to_string();
    let reason = fields.get("reason").to_string();
    let grounds_text = fields.get("grounds").to_string();
    let grounds_checked = fields.all("ground");
    let override_justification = fields.get("override_justification").to_string();
    let overriding = !override_justification.trim().is_empty();
    let expected_version = match fields.get("expected_version").trim() {
        "" => None,
        text => Some(text.parse::<i64>().map_err(|_| {
            WebError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "Bad form",
                "expected_version must be a number",
            )
        })?),
    };
    let input = TransitionInput {
        action: action.clone(),
        // Only a supervisor may override; acting as one is what the justification asks.
        role: overriding.then(|| Role::Supervisor.code().to_string()),
        reason: (!reason.trim().is_empty()).then(|| reason.clone()),
        grounds: grounds_checked
            .iter()
            .map(String::as_str)
            .chain(grounds_text.lines())
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(str::to_string)
            .collect(),
        expected_version,
        override_justification: overriding.then(|| override_justification.clone()),
    };
    let outcome = match input.to_domain() {
        Ok(asked) => {
            state
                .app
                .transition(&user.principal, &request_id, &asked)
                .await
        }
        Err(error) => Err(AppError::from(error)),
    };
    match outcome {
        Ok(_) => Ok(see_other(&format!(
            "/requests/{}?done={}",
            path_segment(&request_id),
            path_segment(&action)
        ))),
        Err(error @ (AppError::Unauthenticated(_) | AppError::Store(_))) => Err(error.into()),
        Err(error) => {
            let api = ApiError::from(error);
            let problem = api.problem();
            // Show the request as it is now, with the problem next to the action.
            let details = state
                .app
                .request_details(&user.principal, &request_id)
                .await?;
            let legal_gate = problem.problem_type.ends_with("/legal-requirements-unmet");
            let field = match problem.field.as_deref() {
                Some("reason") => format!("reason-{action}"),
                Some(field) if field.starts_with("grounds") => format!("grounds-{action}"),
                _ if legal_gate && overriding => format!("override-{action}"),
                _ => String::new(),
            };
            let message = problem.detail.clone();
            let form_problem = FormProblem::new(field, message);
            let page = request_page(
                &state,
                &user.principal,
                &details,
                None,
                Some(&form_problem),
                &FormState {
                    action,
                    reason,
                    grounds: grounds_text,
                    grounds_checked,
                    override_justification,
                },
            )
            .await?;
            Ok((api.status(), page).into_response())
        }
    }
}

async fn request_page(
    state: &WebState,
    principal: &Principal,
    details: &RequestDetails,
    flash: Option<&str>,
    problem: Option<&FormProblem>,
    typed: &FormState,
) -> Result<Markup, WebError> {
    let names = authority_names(state).await?;
    let request = &details.request;
    let content = &request.content;
    let now = state.app.now();
    let editable = request.side == Side::Requesting
        && request.state == RequestState::Draft
        && principal.roles().iter().any(|role| role.may_draft());
    let title = subject_text(content);
    // The same assessment `App::request_assessment` gives, on the content just read.
    let assessment = state.app.assess(content);
    let supervisor = principal.roles().contains(&Role::Supervisor);
    let gate_blocking = gate_action(request)
        .map(|action| {
            state
                .app
                .blocking_findings_for(content, &details.history, action)
        })
        .unwrap_or_default();
    Ok(layout::page(
        &title,
        Some(principal),
        Section::Requests,
        html! {
            h1 dir="auto" { (title) }
            @if let Some(note) = &details.out_of_step {
                div.error-summary role="alert" id="out-of-step" {
                    p { strong { "Out of step with the other side." } " " (note) }
                }
            }
            @if let Some(flash) = flash {
                div.flash role="status" { p { (flash) } }
            }
            (layout::error_summary(problem))
            p {
                "State: " strong id="request-state" { (request.state.label()) }
                " · " (request.side.label())
                " · version " (request.version)
                @if content.urgency.is_urgent() { " " (layout::urgent_badge()) }
                @if details.overdue { " " (layout::overdue_badge()) }
            }
            p {
                a href={ "/cases/" (path_segment(&request.case_id)) } { "Back to the case" }
                @if editable {
                    " · " a href={ "/requests/" (path_segment(&request.id)) "/edit" } { "Edit draft" }
                }
            }
            @if !details.available_actions.is_empty() {
                h2 { "Actions" }
                div.actions {
                    @for action in &details.available_actions {
                        (action_form(
                            request,
                            *action,
                            &ActionContext { problem, typed, assessment: &assessment, supervisor },
                            // Only the step the request waits for can be blocked.
                            if gate_action(request) == Some(*action) { &gate_blocking } else { &[] },
                        ))
                    }
                }
            }
            (legal::panel(&assessment, verdict(request, &gate_blocking)))
            (letter_links(&request.id, &assessment))
            h2 { "Content" }
            (content_list(content, &names))
            h2 { "Deadlines" }
            @if details.deadlines.is_empty() {
                p { "No deadlines run yet." }
            } @else {
                table {
                    caption.visually-hidden { "Deadlines" }
                    thead { tr {
                        th scope="col" { "Deadline" }
                        th scope="col" { "Due" }
                        th scope="col" { "Status" }
                    } }
                    tbody {
                        @for deadline in &details.deadlines {
                            tr {
                                th scope="row" { (deadline.kind.label()) }
                                td { (layout::when(deadline.due)) }
                                td {
                                    @if let Some(met_at) = deadline.met_at {
                                        "met " (layout::when(met_at))
                                    } @else if deadline.is_overdue(now) {
                                        (layout::overdue_badge())
                                    } @else {
                                        "running"
                                    }
                                }
                            }
                        }
                    }
                }
            }
            h2 id="timeline" { "Timeline" }
            @if details.history.is_empty() {
                p { "Nothing has happened yet: the request is a new draft." }
            } @else {
                table id="timeline-table" {
                    caption.visually-hidden { "Timeline, oldest first" }
                    thead { tr {
                        th scope="col" { "Time" }
                        th scope="col" { "Action" }
                        th scope="col" { "From → to" }
                        th scope="col" { "By" }
                        th scope="col" { "Reason" }
                        th scope="col" { "Grounds" }
                    } }
                    tbody {
                        @for record in &details.history {
                            tr {
                                td { (layout::when(record.at)) }
                                th scope="row" { (record.action.label()) }
                                td { (record.from.label()) " → " (record.to.label()) }
                                td dir="auto" { (actor_text(principal, details, &record.actor)) ", " (record.origin.label()) }
                                td dir="auto" { (record.reason.clone().unwrap_or_default()) }
                                td dir="auto" {
                                    @if !record.grounds.is_empty() {
                                        ul { @for ground in &record.grounds { li { (ground) } } }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        },
    ))
}

/// Who took an action: "Name (role)" for this node's users, "you" added for the reader.
fn actor_text(principal: &Principal, details: &RequestDetails, actor: &Actor) -> String {
    match actor {
        Actor::User { user_id, role } if user_id == principal.user_id() => {
            format!("{} ({}) — you", principal.display_name(), role_text(*role))
        }
        Actor::User { user_id, role } if details.actor_names.contains_key(user_id) => {
            let name = details
                .actor_names
                .get(user_id)
                .map(String::as_str)
                .unwrap_or_default();
            format!("{name} ({})", role_text(*role))
        }
        Actor::User { user_id, role } => {
            let short: String = user_id
                .chars()
                .rev()
                .take(8)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("a {} (user …{short})", role_text(*role))
        }
        Actor::Peer { .. } => format!(
            "the other side (node {})",
            actor.peer_line().unwrap_or_default()
        ),
        Actor::System => "this node".to_string(),
    }
}

/// `GET /requests/{request_id}/letter?lang=fr`: the letter of request as a standalone,
/// printable HTML document, in the language asked for or, without one, the first the
/// requested state accepts.
pub async fn letter(
    State(state): State<WebState>,
    user: WebUser,
    Path(request_id): Path<String>,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let request_id: comity_domain::RequestId = comity_app::ids::id_in_path(&request_id)?;
    let language = match params.iter().find(|(key, _)| key == "lang") {
        Some((_, code)) => Some(code.parse::<Language>().map_err(|error| {
            WebError::new(
                StatusCode::BAD_REQUEST,
                "Unknown language",
                error.to_string(),
            )
        })?),
        None => None,
    };
    let letter = state
        .app
        .letter(&user.principal, &request_id, language, LetterFormat::Html)
        .await?;
    Ok(Html(String::from_utf8_lossy(&letter.bytes).into_owned()).into_response())
}

/// The name of a language in that language.
fn language_name(language: Language) -> &'static str {
    match language {
        Language::En => "English",
        Language::Fr => "Français",
        Language::Es => "Español",
        Language::Ar => "العربية",
    }
}

/// Links to the letter of request, one per language, the suggested one first and marked.
fn letter_links(request_id: &str, assessment: &Assessment) -> Markup {
    let suggested = comity_forms::choose_language(assessment);
    let accepted = assessment
        .languages
        .languages
        .iter()
        .any(|code| code.eq_ignore_ascii_case(suggested.code()));
    let mut languages = vec![suggested];
    languages.extend(
        Language::ALL
            .iter()
            .copied()
            .filter(|language| *language != suggested),
    );
    html! {
        section id="letter" aria-labelledby="letter-title" {
            h2 id="letter-title" { "Letter of request" }
            p.hint { "The request as a formal, printable letter. Free text stays as written, marked for translation." }
            ul {
                @for language in languages {
                    li {
                        a href={ "/requests/" (path_segment(request_id)) "/letter?lang=" (language.code()) }
                            hreflang=(language.code()) {
                            "Letter of request in "
                            span lang=(language.code()) dir=(language.direction()) { (language_name(language)) }
                        }
                        @if language == suggested {
                            @if accepted { " — suggested: accepted by the requested state" }
                            @else { " — suggested: no accepted language is available, have it translated" }
                        }
                    }
                }
            }
        }
    }
}

/// A role in a few words: "central authority officer".
fn role_text(role: Role) -> String {
    role.code().replace('_', " ")
}

/// The step of this node's lifecycle that blocking findings can stop next, if any.
fn gate_action(request: &comity_domain::Request) -> Option<Action> {
    match (request.side, request.state) {
        (Side::Requesting, RequestState::Draft | RequestState::PendingApproval) => {
            Some(Action::Approve)
        }
        (Side::Requesting, RequestState::Approved) => Some(Action::Dispatch),
        _ => None,
    }
}

/// What the legal panel's verdict speaks of, for this request on this node.
fn verdict<'a>(
    request: &comity_domain::Request,
    blocking: &'a [comity_law::BlockingFinding],
) -> legal::Verdict<'a> {
    match (gate_action(request), request.side) {
        (Some(action), _) => legal::Verdict::Gate { action, blocking },
        (None, Side::Requesting) => legal::Verdict::Sent,
        (None, Side::Requested) => legal::Verdict::Received,
    }
}

/// What every action form on a page shares.
struct ActionContext<'a> {
    problem: Option<&'a FormProblem>,
    typed: &'a FormState,
    assessment: &'a Assessment,
    supervisor: bool,
}

fn action_form(
    request: &comity_domain::Request,
    action: Action,
    context: &ActionContext<'_>,
    blocking: &[comity_law::BlockingFinding],
) -> Markup {
    let ActionContext {
        problem,
        typed,
        assessment,
        supervisor,
    } = *context;
    let code = action.code();
    let mine = typed.action == code;
    let reason_id = format!("reason-{code}");
    let grounds_id = format!("grounds-{code}");
    let reason_error = FormProblem::for_field(problem, &reason_id);
    let grounds_error = FormProblem::for_field(problem, &grounds_id);
    let needs_grounds = action == Action::Refuse;
    html! {
        form id={ "action-" (code) } method="post"
            action={ "/requests/" (path_segment(&request.id)) "/transitions" } {
            input type="hidden" name="action" value=(code);
            input type="hidden" name="expected_version" value=(request.version);
            @if action.requires_reason() {
                label for=(reason_id) { "Reason to " (action.label()) }
                (layout::field_error(&reason_id, reason_error.as_deref()))
                textarea id=(reason_id) name="reason" rows="3" required dir="auto"
                    aria-invalid=[reason_error.is_some().then_some("true")]
                    aria-describedby=[layout::described_by(&reason_id, false, reason_error.is_some())] {
                    @if mine { (typed.reason) }
                }
            }
            @if !blocking.is_empty() {
                (blocking_gate(action, blocking, supervisor, problem, typed, mine))
            }
            @if needs_grounds {
                (refusal_grounds(code, assessment, grounds_error.as_deref(), typed, mine))
                @if supervisor {
                    (consultation_field(code, problem, typed, mine))
                }
            }
            button type="submit" { (sentence_case(action.label())) }
        }
    }
}

/// On the approve or dispatch form when findings block it: what blocks it, and for a
/// supervisor the justification that lets it go ahead.
fn blocking_gate(
    action: Action,
    blocking: &[comity_law::BlockingFinding],
    supervisor: bool,
    problem: Option<&FormProblem>,
    typed: &FormState,
    mine: bool,
) -> Markup {
    let code = action.code();
    let override_id = format!("override-{code}");
    let blocking_id = format!("blocking-{code}");
    let override_error = FormProblem::for_field(problem, &override_id);
    let step = legal::gated_step(action);
    html! {
        div id=(blocking_id) {
            p { (legal::severity_badge(comity_law::Severity::Blocking)) " " (sentence_case(step)) " is blocked by:" }
            ul {
                @for finding in blocking {
                    li { (finding.explanation) (legal::citation(&finding.citation)) }
                }
            }
        }
        @if supervisor {
            label for=(override_id) { "Justification for going ahead anyway (supervisor)" }
            p.hint id={ (override_id) "-hint" } {
                "As a supervisor you may override these findings: say why. "
                "The justification and the findings are recorded in the history."
            }
            (layout::field_error(&override_id, override_error.as_deref()))
            textarea id=(override_id) name="override_justification" rows="3" dir="auto"
                aria-invalid=[override_error.is_some().then_some("true")]
                aria-describedby=[layout::described_by(&override_id, true, override_error.is_some())] {
                @if mine { (typed.override_justification) }
            }
        } @else {
            p.hint { "This is refused until the findings are resolved, or a supervisor goes ahead with a justification." }
        }
    }
}

/// For a supervisor on the refusal form: how the requesting side was consulted outside
/// Comity, which stands in for asking it for additional information here.
fn consultation_field(
    code: &str,
    problem: Option<&FormProblem>,
    typed: &FormState,
    mine: bool,
) -> Markup {
    let override_id = format!("override-{code}");
    let override_error = FormProblem::for_field(problem, &override_id);
    html! {
        label for=(override_id) { "How and when the requesting side was consulted (supervisor)" }
        p.hint id={ (override_id) "-hint" } {
            "Some grounds require consulting the requesting side first. If that was done outside Comity "
            "(a call, a meeting), say how and when; it is recorded with the refusal."
        }
        (layout::field_error(&override_id, override_error.as_deref()))
        textarea id=(override_id) name="override_justification" rows="2" dir="auto"
            aria-invalid=[override_error.is_some().then_some("true")]
            aria-describedby=[layout::described_by(&override_id, true, override_error.is_some())] {
            @if mine { (typed.override_justification) }
        }
    }
}

/// The refusal grounds: the prevailing instrument's as checkboxes (those the facts
/// raise first), and a free-text field for others.
fn refusal_grounds(
    code: &str,
    assessment: &Assessment,
    error: Option<&str>,
    typed: &FormState,
    mine: bool,
) -> Markup {
    let grounds_id = format!("grounds-{code}");
    let other_id = format!("grounds-{code}-other");
    let offered = legal::offered_grounds(assessment);
    let other_label = if offered.is_empty() {
        "Grounds for refusal"
    } else {
        "Other grounds"
    };
    html! {
        fieldset id=(grounds_id)
            aria-describedby=[layout::described_by(&grounds_id, true, error.is_some())] {
            legend { "Grounds for refusal" }
            p.hint id={ (grounds_id) "-hint" } {
                @if let Some(prevailing) = &assessment.prevailing {
                    "Tick the grounds of " (prevailing.title) " you rely on."
                    @if let Some(rule) = &assessment.refusal_reasons {
                        " Reasons must be given for any refusal" (legal::citation(rule)) "."
                    }
                } @else {
                    "No instrument binds both states: cite the grounds of your law."
                }
            }
            (layout::field_error(&grounds_id, error))
            @if !offered.is_empty() {
                ul.checks {
                    @for (index, ground) in offered.iter().enumerate() {
                        @let value = comity_app::law::ground_reference(ground);
                        @let checkbox = format!("{grounds_id}-{index}");
                        li {
                            input type="checkbox" id=(checkbox) name="ground" value=(value)
                                checked[mine && typed.grounds_checked.contains(&value)];
                            label.inline for=(checkbox) {
                                (ground.description) " — " (legal::ground_kind(ground.kind))
                                (legal::citation(&ground.citation))
                                @if ground.raised_by_facts {
                                    " " span.raised { "— raised by the facts of this request" }
                                }
                                @if let Some(rule) = &ground.consult_first {
                                    " " span.consult { "— consult the requesting side before refusing on it" }
                                    (legal::citation(rule))
                                }
                            }
                        }
                    }
                }
            }
            label for=(other_id) { (other_label) }
            p.hint id={ (other_id) "-hint" } { "One per line: instrument and article, e.g. untoc art. 18(21)(b)." }
            textarea id=(other_id) name="grounds" rows="2" dir="auto"
                aria-describedby={ (other_id) "-hint" } {
                @if mine { (typed.grounds) }
            }
        }
    }
}

fn content_list(content: &RequestContent, names: &HashMap<String, String>) -> Markup {
    let dash = || html! { "—" };
    html! {
        dl.content {
            dt { "Requesting authority" }
            dd { (authority_text(names, content.requesting_authority.as_str())) " · " (content.requesting_country) }
            dt { "Requested authority" }
            dd { (authority_text(names, content.requested_authority.as_str())) " · " (content.requested_country) }
            dt { "Legal basis" }
            dd { @if content.legal_basis.is_empty() { (dash()) } @else { (content.legal_basis.join(", ")) } }
            dt { "Subject matter" }
            dd dir="auto" { (content.subject_matter) }
            dt { "Conducting authority" }
            dd dir="auto" { (content.conducting_authority) }
            dt { "Offences" }
            dd {
                @if content.offences.is_empty() { (dash()) }
                ul {
                    @for offence in &content.offences {
                        li {
                            span dir="auto" { (offence.national_provision) }
                            " — " (offence.category.label())
                            @if let Some(months) = offence.maximum_penalty_months {
                                " — up to " (months) " months"
                            }
                            @if offence.political { " — may be seen as political" }
                            @if offence.fiscal { " — fiscal" }
                            @if offence.death_penalty_possible { " — death penalty possible" }
                        }
                    }
                }
            }
            dt { "Summary of facts" }
            dd dir="auto" { (content.summary_of_facts) }
            dt { "Measures sought" }
            dd {
                @if content.measures.is_empty() { (dash()) }
                ul {
                    @for measure in &content.measures {
                        li {
                            (sentence_case(measure.kind.label()))
                            @if !measure.description.is_empty() {
                                ": " span dir="auto" { (measure.description) }
                            }
                        }
                    }
                }
            }
            dt { "Persons concerned" }
            dd {
                @if content.persons.is_empty() { (dash()) }
                ul {
                    @for person in &content.persons {
                        li {
                            strong dir="auto" class="person-name" { (person.full_name) }
                            " — " (person.role.label())
                            @if let Some(born) = &person.date_of_birth { " — born " (born) }
                            @if !person.nationalities.is_empty() {
                                " — nationality "
                                (person.nationalities.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "))
                            }
                            @if let Some(location) = &person.location { " — believed in " span dir="auto" { (location) } }
                            @for vulnerability in &person.vulnerabilities {
                                " " span.badge.urgent { (vulnerability.label()) }
                            }
                        }
                    }
                }
            }
            dt { "Purpose" }
            dd dir="auto" { (content.purpose) }
            dt { "Urgency" }
            dd dir="auto" {
                @match &content.urgency {
                    Urgency::Urgent { reason } => { "Urgent: " (reason) }
                    Urgency::Normal => { "Normal" }
                }
            }
            dt { "Confidentiality" }
            dd { (sentence_case(content.confidentiality.label())) }
            dt { "Deadline asked for" }
            dd { @match content.requested_deadline { Some(date) => { (date.to_string()) }, None => { (dash()) } } }
            dt { "Assurances given" }
            dd { @if content.assurances_given { "yes" } @else { "no" } }
            @if !content.attachments.is_empty() {
                dt { "Attachments" }
                dd { ul { @for attachment in &content.attachments {
                    li dir="auto" { (attachment.file_name) " (" (attachment.media_type) ", " (attachment.size_bytes) " bytes)" }
                } } }
            }
        }
    }
}
