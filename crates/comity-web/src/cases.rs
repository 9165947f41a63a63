//! Case pages: the list with the form to open one, and one case with its requests.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use comity_app::AppError;
use comity_app::requests::RequestQuery;
use comity_domain::Case;
use comity_wire::api::CaseInput;
use maud::html;

use super::layout::{self, FormProblem, Section};
use super::requests::{authority_names, requests_table};
use super::{FormFields, WebError, WebUser, path_segment, see_other};
use crate::WebState;

/// `GET /cases`.
pub async fn list(State(state): State<WebState>, user: WebUser) -> Result<Response, WebError> {
    let cases = state.app.list_cases(&user.principal).await?;
    Ok(cases_page(&user, &cases, "", "", None).into_response())
}

/// `POST /cases`: opens a case and shows it, or re-renders the form with the problem.
pub async fn create(
    State(state): State<WebState>,
    user: WebUser,
    fields: FormFields,
) -> Result<Response, WebError> {
    let input = CaseInput {
        reference: fields.get("reference").to_string(),
        title: fields.get("title").to_string(),
    };
    match state.app.create_case(&user.principal, &input).await {
        Ok(case) => Ok(see_other(&format!("/cases/{}", path_segment(&case.id)))),
        Err(AppError::Invalid { field, message }) => {
            let cases = state.app.list_cases(&user.principal).await?;
            let problem = FormProblem::new(field, message);
            Ok((
                StatusCode::UNPROCESSABLE_ENTITY,
                cases_page(
                    &user,
                    &cases,
                    &input.reference,
                    &input.title,
                    Some(&problem),
                ),
            )
                .into_response())
        }
        Err(other) => Err(other.into()),
    }
}

/// `GET /cases/{case_id}`.
pub async fn show(
    State(state): State<WebState>,
    user: WebUser,
    Path(case_id): Path<String>,
) -> Result<Response, WebError> {
    let case_id: comity_domain::CaseId = comity_app::ids::id_in_path(&case_id)?;
    let case = state.app.get_case(&user.principal, &case_id).await?;
    let requests = state
        .app
        .list_requests(
            &user.principal,
            &RequestQuery {
                case_id: Some(case.id.clone()),
                ..RequestQuery::default()
            },
        )
        .await?;
    let names = authority_names(&state).await?;
    let may_draft = user.principal.roles().iter().any(|role| role.may_draft());
    let title = format!("Case {}", case.reference);
    Ok(layout::page(
        &title,
        Some(&user.principal),
        Section::Cases,
        html! {
            h1 dir="auto" { "Case " (case.reference) }
            p dir="auto" { (case.title) }
            p { "Opened " (layout::when(case.created_at)) " by " (case.authority) "." }
            @if may_draft {
                p { a href={ "/cases/" (path_segment(&case.id)) "/requests/new" } { "New request" } }
            }
            h2 { "Requests in this case" }
            @if requests.is_empty() {
                p { "No requests yet." }
            } @else {
                (requests_table(&requests, &names, "Requests in this case"))
            }
        },
    )
    .into_response())
}

fn cases_page(
    user: &WebUser,
    cases: &[Case],
    reference: &str,
    title: &str,
    problem: Option<&FormProblem>,
) -> maud::Markup {
    let may_open = user.principal.roles().iter().any(|role| role.may_draft());
    layout::page(
        "Cases",
        Some(&user.principal),
        Section::Cases,
        html! {
            h1 { "Cases" }
            @if cases.is_empty() {
                p { "Your authority has no cases yet." }
            } @else {
                table {
                    caption.visually-hidden { "Cases of your authority" }
                    thead { tr {
                        th scope="col" { "Reference" }
                        th scope="col" { "Title" }
                        th scope="col" { "Opened" }
                    } }
                    tbody {
                        @for case in cases {
                            tr {
                                th scope="row" {
                                    a href={ "/cases/" (path_segment(&case.id)) } dir="auto" { (case.reference) }
                                }
                                td dir="auto" { (case.title) }
                                td { (layout::when(case.created_at)) }
                            }
                        }
                    }
                }
            }
            @if may_open {
                h2 id="new-case" { "Open a case" }
                (layout::error_summary(problem))
                form method="post" action="/cases" aria-labelledby="new-case" novalidate {
                    (layout::text_input("reference", "Reference", reference,
                        Some("Your authority's own reference, e.g. DP 123/2026"), problem, "text"))
                    (layout::text_input("title", "Title", title, None, problem, "text"))
                    div { button type="submit" { "Open case" } }
                }
            }
        },
    )
}
