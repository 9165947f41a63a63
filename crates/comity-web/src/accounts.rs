//! Account pages: administrators' user list, creation and editing (roles, display name,
//! enable or disable, password reset, sessions), and "change my password" for everyone.

use axum::extract::{FromRequestParts, Path, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use comity_app::auth::UserPatch;
use comity_app::{AppError, Principal};
use comity_domain::Role;
use comity_store::{SessionRecord, UserRecord};
use comity_wire::api::UserInput;
use maud::{Markup, html};

use super::layout::{self, FormProblem, Section};
use super::{FormFields, WebError, WebUser, path_segment, see_other};
use crate::WebState;

/// The logged-in user, also when their password was reset and must be changed (the
/// password page is the one page such a user may open).
#[derive(Debug, Clone)]
pub struct WebUserMustChange {
    /// Who is logged in.
    pub principal: Principal,
}

impl FromRequestParts<WebState> for WebUserMustChange {
    type Rejection = WebError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &WebState,
    ) -> Result<Self, Self::Rejection> {
        let token = super::session_token(parts)?;
        let principal = state.app.authenticate_for_password_change(&token).await?;
        Ok(WebUserMustChange { principal })
    }
}

/// The form field an error names: role errors (`roles[2]`) point at the roles fieldset.
fn form_problem(field: String, message: String) -> FormProblem {
    let field = if field.starts_with("roles") {
        "roles".to_string()
    } else {
        field
    };
    FormProblem::new(field, message)
}

fn roles_of(fields: &FormFields) -> Vec<String> {
    fields.all("roles")
}

fn user_path(user_id: &str) -> String {
    format!("/users/{}", path_segment(user_id))
}

/// `GET /users`: the users of the administrator's authority.
pub async fn list(State(state): State<WebState>, user: WebUser) -> Result<Response, WebError> {
    let users = state.app.list_users(&user.principal).await?;
    Ok(layout::page(
        "Users",
        Some(&user.principal),
        Section::Users,
        html! {
            h1 { "Users of " (user.principal.authority()) }
            p { a href="/users/new" id="new-user" { "Create a user" } }
            table {
                caption.visually-hidden { "Users of your authority" }
                thead { tr {
                    th scope="col" { "User name" }
                    th scope="col" { "Name" }
                    th scope="col" { "Roles" }
                    th scope="col" { "Status" }
                } }
                tbody {
                    @for account in &users {
                        tr {
                            th scope="row" { a href=(user_path(&account.id)) { (account.username) } }
                            td dir="auto" { (account.display_name) }
                            td { (role_list(&account.roles)) }
                            td { (status(account)) }
                        }
                    }
                }
            }
        },
    )
    .into_response())
}

fn role_list(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|role| role.code())
        .collect::<Vec<_>>()
        .join(", ")
}

fn status(user: &UserRecord) -> &'static str {
    match (user.active, user.must_change_password) {
        (false, _) => "Disabled",
        (true, true) => "Active, must change password",
        (true, false) => "Active",
    }
}

/// `GET /users/new`.
pub async fn new_page(user: WebUser) -> Result<Response, WebError> {
    user.principal
        .require_any(&[Role::Administrator], "create users")?;
    Ok(new_user_form(&user.principal, &FormFields::default(), None).into_response())
}

/// `POST /users`: creates the user in the administrator's authority.
pub async fn create(
    State(state): State<WebState>,
    user: WebUser,
    fields: FormFields,
) -> Result<Response, WebError> {
    let input = UserInput {
        username: fields.get("username").trim().to_string(),
        display_name: fields.get("display_name").to_string(),
        authority: user.principal.authority().to_string(),
        roles: roles_of(&fields),
        password: fields.get("password").to_string(),
    };
    match state.app.create_user(&user.principal, &input).await {
        Ok(created) => Ok(see_other(&user_path(&created.id))),
        Err(AppError::Invalid { field, message }) => {
            let problem = form_problem(field, message);
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                new_user_form(&user.principal, &fields, Some(&problem)),
            )
                .into_response())
        }
        Err(AppError::Conflict(message)) => {
            let problem = FormProblem::new("username", message);
            Ok((
                StatusCode::CONFLICT,
                new_user_form(&user.principal, &fields, Some(&problem)),
            )
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

fn roles_fieldset(
    principal: &Principal,
    checked: &[String],
    problem: Option<&FormProblem>,
) -> Markup {
    let error = FormProblem::for_field(problem, "roles");
    html! {
        fieldset id="roles" aria-describedby=[layout::described_by("roles", false, error.is_some())] {
            legend { "Roles" }
            (layout::field_error("roles", error.as_deref()))
            @for role in Role::ALL {
                @if *role != Role::NodeOperator || principal.has(Role::NodeOperator) {
                    div {
                        input type="checkbox" id={ "role-" (role.code()) } name="roles" value=(role.code())
                            checked[checked.iter().any(|code| code == role.code())];
                        label.inline for={ "role-" (role.code()) } { (layout::sentence_case(role.label())) }
                    }
                }
            }
        }
    }
}

fn new_user_form(
    principal: &Principal,
    fields: &FormFields,
    problem: Option<&FormProblem>,
) -> Markup {
    let password_error = FormProblem::for_field(problem, "password");
    layout::page(
        "Create a user",
        Some(principal),
        Section::Users,
        html! {
            h1 { "Create a user in " (principal.authority()) }
            (layout::error_summary(problem))
            form method="post" action="/users" novalidate {
                (layout::text_input("username", "User name", fields.get("username"),
                    Some("3 to 64 letters, digits, dots, hyphens or underscores"), problem, "text"))
                (layout::text_input("display_name", "Full name", fields.get("display_name"), None, problem, "text"))
                (roles_fieldset(principal, &roles_of(fields), problem))
                label for="password" { "Initial password" }
                p.hint id="password-hint" { "At least 12 characters; a phrase of several words is best. Common passwords and passwords containing the user name are refused." }
                (layout::field_error("password", password_error.as_deref()))
                input type="password" id="password" name="password" autocomplete="new-password"
                    aria-invalid=[password_error.is_some().then_some("true")]
                    aria-describedby=[layout::described_by("password", true, password_error.is_some())];
                div { button type="submit" id="create-user" { "Create user" } }
            }
        },
    )
}

/// `GET /users/{user_id}`: edit a user, reset their password, see their sessions.
pub async fn show(
    State(state): State<WebState>,
    user: WebUser,
    Path(user_id): Path<String>,
) -> Result<Response, WebError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    user_page(&state, &user, &user_id, None, None, StatusCode::OK).await
}

async fn user_page(
    state: &WebState,
    user: &WebUser,
    user_id: &comity_domain::UserId,
    problem: Option<&FormProblem>,
    notice: Option<&str>,
    status: StatusCode,
) -> Result<Response, WebError> {
    let account = state.app.managed_user(&user.principal, user_id).await?;
    let sessions = state.app.user_sessions(&user.principal, user_id).await?;
    let roles: Vec<String> = account
        .roles
        .iter()
        .map(|role| role.code().to_string())
        .collect();
    let path = user_path(&account.id);
    let reset_error = FormProblem::for_field(problem, "password");
    let page = layout::page(
        &format!("User {}", account.username),
        Some(&user.principal),
        Section::Users,
        html! {
            h1 { "User " (account.username) }
            p { "Status: " strong { (status_text(&account)) } }
            @if let Some(notice) = notice {
                div.notice role="status" { p { (notice) } }
            }
            (layout::error_summary(problem))
            h2 id="edit-heading" { "Name, roles and access" }
            form method="post" action=(path) aria-labelledby="edit-heading" novalidate {
                (layout::text_input("display_name", "Full name", &account.display_name, None, problem, "text"))
                (roles_fieldset(&user.principal, &roles, problem))
                (layout::select("active", "Access", if account.active { "yes" } else { "no" },
                    &[("yes".to_string(), "Enabled: may log in".to_string()),
                      ("no".to_string(), "Disabled: may not log in (ends every session)".to_string())], problem))
                div { button type="submit" id="save-user" { "Save changes" } }
            }
            h2 id="reset-heading" { "Reset the password" }
            p { "The user's sessions end, and they must choose a new password when they next log in." }
            form method="post" action={ (path) "/password-reset" } aria-labelledby="reset-heading" novalidate {
                label for="password" { "Temporary password" }
                p.hint id="password-hint" { "At least 12 characters. Give it to the user in person or by another safe channel." }
                (layout::field_error("password", reset_error.as_deref()))
                input type="password" id="password" name="password" autocomplete="new-password"
                    aria-invalid=[reset_error.is_some().then_some("true")]
                    aria-describedby=[layout::described_by("password", true, reset_error.is_some())];
                div { button type="submit" id="reset-password" { "Reset password" } }
            }
            h2 id="sessions-heading" { "Sessions" }
            (sessions_table(&path, &sessions, user.principal.session_id()))
        },
    );
    Ok((status, page).into_response())
}

fn status_text(user: &UserRecord) -> &'static str {
    status(user)
}

fn sessions_table(path: &str, sessions: &[SessionRecord], current: &str) -> Markup {
    html! {
        @if sessions.is_empty() {
            p { "No open sessions." }
        } @else {
            table aria-labelledby="sessions-heading" {
                thead { tr {
                    th scope="col" { "Opened" }
                    th scope="col" { "Last used" }
                    th scope="col" { "Ends at the latest" }
                    th scope="col" { "Action" }
                } }
                tbody {
                    @for session in sessions {
                        tr {
                            td { (layout::when(session.created_at)) @if session.id == current { " (this session)" } }
                            td { (layout::when(session.last_seen_at)) }
                            td { (layout::when(session.expires_at)) }
                            td {
                                form method="post" action={ (path) "/sessions/" (path_segment(&session.id)) "/revoke" } {
                                    button.secondary type="submit" aria-label={ "End the session opened " (session.created_at.to_rfc3339()) } { "End session" }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action={ (path) "/sessions/revoke" } {
                button type="submit" id="revoke-all" { "End all sessions" }
            }
        }
    }
}

/// `POST /users/{user_id}`: display name, roles and access.
pub async fn update(
    State(state): State<WebState>,
    user: WebUser,
    Path(user_id): Path<String>,
    fields: FormFields,
) -> Result<Response, WebError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    let active = match fields.get("active") {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let mut roles = roles_of(&fields);
    // The form shows node_operator only to node operators: for anyone else, it stays
    // as it was.
    if !user.principal.has(Role::NodeOperator) {
        let account = state.app.managed_user(&user.principal, &user_id).await?;
        if account.roles.contains(&Role::NodeOperator) {
            roles.push(Role::NodeOperator.code().to_string());
        }
    }
    let patch = UserPatch {
        display_name: Some(fields.get("display_name").to_string()),
        roles: Some(roles),
        active,
    };
    let outcome = state
        .app
        .update_user(&user.principal, &user_id, &patch)
        .await
        .map(|_| ());
    page_after_change(&state, &user, &user_id, outcome, "Changes saved.").await
}

/// `POST /users/{user_id}/password-reset`.
pub async fn reset_password(
    State(state): State<WebState>,
    user: WebUser,
    Path(user_id): Path<String>,
    fields: FormFields,
) -> Result<Response, WebError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    let outcome = state
        .app
        .reset_password(&user.principal, &user_id, fields.get("password"))
        .await;
    let notice = "Password reset. The user must choose a new one at their next log-in.";
    page_after_change(&state, &user, &user_id, outcome, notice).await
}

/// The user's page after a change: with `notice` when it was made, with the form's
/// problem (422) when a field was refused.
async fn page_after_change(
    state: &WebState,
    user: &WebUser,
    user_id: &comity_domain::UserId,
    outcome: Result<(), AppError>,
    notice: &str,
) -> Result<Response, WebError> {
    match outcome {
        Ok(()) => user_page(state, user, user_id, None, Some(notice), StatusCode::OK).await,
        Err(AppError::Invalid { field, message }) => {
            let problem = form_problem(field, message);
            user_page(
                state,
                user,
                user_id,
                Some(&problem),
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}

/// `POST /users/{user_id}/sessions/revoke`: ends every session of the user.
pub async fn revoke_sessions(
    State(state): State<WebState>,
    user: WebUser,
    Path(user_id): Path<String>,
) -> Result<Response, WebError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    state.app.revoke_sessions(&user.principal, &user_id).await?;
    Ok(see_other(&user_path(&user_id)))
}

/// `POST /users/{user_id}/sessions/{session_id}/revoke`.
pub async fn revoke_session(
    State(state): State<WebState>,
    user: WebUser,
    Path((user_id, session_id)): Path<(String, String)>,
) -> Result<Response, WebError> {
    let user_id: comity_domain::UserId = comity_app::ids::id_in_path(&user_id)?;
    state
        .app
        .revoke_session(&user.principal, &user_id, &session_id)
        .await?;
    Ok(see_other(&user_path(&user_id)))
}

/// `GET /account/password`: change my password.
pub async fn password_page(user: WebUserMustChange) -> Markup {
    password_form(
        &user.principal,
        user.principal.must_change_password(),
        None,
        None,
    )
}

/// `POST /account/password`.
pub async fn change_password(
    State(state): State<WebState>,
    user: WebUserMustChange,
    fields: FormFields,
) -> Result<Response, WebError> {
    let new_password = fields.get("new_password");
    if new_password != fields.get("confirm_password") {
        let problem = FormProblem::new("confirm_password", "the two new passwords differ");
        return Ok((
            StatusCode::UNPROCESSABLE_ENTITY,
            password_form(
                &user.principal,
                user.principal.must_change_password(),
                Some(&problem),
                None,
            ),
        )
            .into_response());
    }
    match state
        .app
        .change_own_password(
            &user.principal,
            fields.get("current_password"),
            new_password,
        )
        .await
    {
        Ok(()) => Ok(password_form(
            &user.principal,
            false,
            None,
            Some("Your password was changed. Your other sessions have ended."),
        )
        .into_response()),
        Err(AppError::Invalid { field, message }) => {
            let problem = FormProblem::new(field, message);
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                password_form(
                    &user.principal,
                    user.principal.must_change_password(),
                    Some(&problem),
                    None,
                ),
            )
                .into_response())
        }
        Err(AppError::Throttled { message, .. }) => {
            let problem = FormProblem::new("current_password", message);
            Ok((
                StatusCode::TOO_MANY_REQUESTS,
                password_form(
                    &user.principal,
                    user.principal.must_change_password(),
                    Some(&problem),
                    None,
                ),
            )
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

fn password_input(
    field: &str,
    label: &str,
    hint: Option<&str>,
    autocomplete: &str,
    problem: Option<&FormProblem>,
) -> Markup {
    let error = FormProblem::for_field(problem, field);
    html! {
        label for=(field) { (label) }
        @if let Some(hint) = hint { p.hint id={ (field) "-hint" } { (hint) } }
        (layout::field_error(field, error.as_deref()))
        input type="password" id=(field) name=(field) autocomplete=(autocomplete)
            aria-invalid=[error.is_some().then_some("true")]
            aria-describedby=[layout::described_by(field, hint.is_some(), error.is_some())];
    }
}

/// `must_change`: the password still has to be changed (it was reset), so the page shows
/// no navigation.
fn password_form(
    principal: &Principal,
    must_change: bool,
    problem: Option<&FormProblem>,
    notice: Option<&str>,
) -> Markup {
    layout::page(
        "Change my password",
        (!must_change).then_some(principal),
        Section::Account,
        html! {
            h1 { "Change my password" }
            @if must_change {
                div.notice role="status" {
                    p { "An administrator reset your password. Choose a new one to continue." }
                }
            }
            @if let Some(notice) = notice {
                div.notice role="status" { p { (notice) } }
            }
            (layout::error_summary(problem))
            form method="post" action="/account/password" novalidate {
                (password_input("current_password", "Current password", None, "current-password", problem))
                (password_input("new_password", "New password",
                    Some("At least 12 characters; a phrase of several words is best. Common passwords and passwords containing your user name are refused."),
                    "new-password", problem))
                (password_input("confirm_password", "New password again", None, "new-password", problem))
                div { button type="submit" id="change-password" { "Change password" } }
            }
            @if must_change {
                form method="post" action="/logout" {
                    button.secondary type="submit" { "Log out" }
                }
            }
        },
    )
}
