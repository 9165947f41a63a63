//! Node operators' pages: alerts (with acknowledgement), the outbox with each receipt's
//! outcome, and the inbox with the reasons for refusals, a page at a time.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use comity_app::alerts::Page;
use maud::{Markup, html};

use super::layout::{self, Section};
use super::{WebError, WebUser, path_segment, see_other};
use crate::WebState;
use comity_http::operator_views::{
    inbox_entry_view, inbox_status, outbox_entry_view, outbox_status,
};

/// The operators' routes.
pub fn routes() -> axum::Router<WebState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/operator/alerts", get(alerts))
        .route("/operator/alerts/{alert_id}/acknowledge", post(acknowledge))
        .route("/operator/outbox", get(outbox))
        .route("/operator/inbox", get(inbox))
}

/// The query of a list page: an optional status, a page number, and for alerts whether
/// acknowledged ones are shown. Unknown keys are ignored; bad values are a 422 page.
fn query_value<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.as_str())
}

fn page_of(params: &[(String, String)]) -> Result<Page, WebError> {
    let number = |name: &str| -> Result<Option<u32>, WebError> {
        query_value(params, name)
            .filter(|value| !value.is_empty())
            .map(|value| {
                value.parse::<u32>().map_err(|_| {
                    WebError::from(comity_app::AppError::invalid(name, "not a page number"))
                })
            })
            .transpose()
    };
    Ok(Page::new(number("page")?, number("per_page")?)?)
}

fn menu() -> Markup {
    html! {
        nav aria-label="Federation" {
            ul {
                li { a href="/operator/alerts" { "Alerts" } }
                li { a href="/operator/outbox" { "Outbox" } }
                li { a href="/operator/inbox" { "Inbox" } }
            }
        }
    }
}

/// Links to the previous and next pages, keeping the other parameters.
fn pager(base: &str, status: Option<&str>, page: Page, shown: usize) -> Markup {
    let link = |number: u32| {
        let mut href = format!("{base}?page={number}&per_page={}", page.per_page);
        if let Some(status) = status {
            href.push_str(&format!("&status={}", path_segment(status)));
        }
        href
    };
    html! {
        nav aria-label="Pages" {
            p {
                @if page.page > 1 { a href=(link(page.page - 1)) rel="prev" { "Previous page" } " " }
                "Page " (page.page)
                @if shown == usize::try_from(page.per_page).unwrap_or(usize::MAX) {
                    " " a href=(link(page.page + 1)) rel="next" { "Next page" }
                }
            }
        }
    }
}

fn optional(text: Option<&str>) -> Markup {
    html! {
        @match text {
            Some(text) => span dir="auto" { (text) },
            None => "—",
        }
    }
}

/// `GET /operator/alerts`: open alerts (or all with `?all=true`), newest first.
pub async fn alerts(
    State(state): State<WebState>,
    user: WebUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let page = page_of(&params)?;
    let all = query_value(&params, "all") == Some("true");
    let alerts = state.app.alerts(&user.principal, all, page).await?;
    Ok(layout::page(
        "Operator alerts",
        Some(&user.principal),
        Section::None,
        html! {
            h1 { "Operator alerts" }
            (menu())
            p {
                @if all { a href="/operator/alerts" { "Show open alerts only" } }
                @else { a href="/operator/alerts?all=true" { "Show acknowledged alerts too" } }
            }
            @if alerts.is_empty() {
                p { "No alerts." }
            } @else {
                table {
                    caption.visually-hidden { "Alerts, newest first" }
                    thead { tr {
                        th scope="col" { "Raised" }
                        th scope="col" { "Kind" }
                        th scope="col" { "Peer" }
                        th scope="col" { "Request" }
                        th scope="col" { "What happened" }
                        th scope="col" { "Acknowledged" }
                    } }
                    tbody {
                        @for alert in &alerts {
                            tr {
                                td { (layout::when(alert.raised_at)) }
                                td { (alert.kind) }
                                td { (optional(alert.peer_node.as_deref())) }
                                td { (optional(alert.conversation_id.as_deref())) }
                                td dir="auto" { (alert.message) }
                                td {
                                    @match alert.acknowledged_at {
                                        Some(at) => (layout::when(at)),
                                        None => form method="post" action={ "/operator/alerts/" (path_segment(&alert.id)) "/acknowledge" } {
                                            button type="submit" { "Acknowledge" }
                                        },
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (pager("/operator/alerts", None, page, alerts.len()))
        },
    )
    .into_response())
}

/// `POST /operator/alerts/{id}/acknowledge`.
pub async fn acknowledge(
    State(state): State<WebState>,
    user: WebUser,
    Path(alert_id): Path<String>,
) -> Result<Response, WebError> {
    state
        .app
        .acknowledge_alert(&user.principal, &alert_id)
        .await?;
    Ok(see_other("/operator/alerts"))
}

/// `GET /operator/outbox`: outgoing messages with their receipts' outcomes.
pub async fn outbox(
    State(state): State<WebState>,
    user: WebUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let page = page_of(&params)?;
    let status_code = query_value(&params, "status").filter(|code| !code.is_empty());
    let status = outbox_status(status_code)?;
    let entries = state.app.outbox_view(&user.principal, status, page).await?;
    let rows: Vec<_> = entries.iter().map(outbox_entry_view).collect();
    Ok(layout::page(
        "Outbox",
        Some(&user.principal),
        Section::None,
        html! {
            h1 { "Outbox" }
            (menu())
            (status_filter("/operator/outbox", &["pending", "delivered", "rejected", "dead"], status_code))
            table {
                caption.visually-hidden { "Outgoing messages, newest first" }
                thead { tr {
                    th scope="col" { "Created" }
                    th scope="col" { "To" }
                    th scope="col" { "Request" }
                    th scope="col" { "Sequence" }
                    th scope="col" { "Type" }
                    th scope="col" { "Status" }
                    th scope="col" { "Attempts" }
                    th scope="col" { "Receipt" }
                    th scope="col" { "Last error or reason" }
                } }
                tbody {
                    @for row in &rows {
                        tr {
                            td { (row.created_at) }
                            td { (row.recipient_node) }
                            td { (row.conversation_id) }
                            td { (row.sequence) }
                            td { (row.message_type) }
                            td { (row.status) }
                            td { (row.attempts) }
                            td { (optional(row.receipt_outcome.as_deref())) }
                            td { (optional(row.rejection_reason.as_deref().or(row.last_error.as_deref()))) }
                        }
                    }
                }
            }
            (pager("/operator/outbox", status_code, page, rows.len()))
        },
    )
    .into_response())
}

/// `GET /operator/inbox`: received messages, waiting, applied or rejected with reasons.
pub async fn inbox(
    State(state): State<WebState>,
    user: WebUser,
    Query(params): Query<Vec<(String, String)>>,
) -> Result<Response, WebError> {
    let page = page_of(&params)?;
    let status_code = query_value(&params, "status").filter(|code| !code.is_empty());
    let status = inbox_status(status_code)?;
    let messages = state.app.inbox_view(&user.principal, status, page).await?;
    let rows: Vec<_> = messages.iter().map(inbox_entry_view).collect();
    Ok(layout::page(
        "Inbox",
        Some(&user.principal),
        Section::None,
        html! {
            h1 { "Inbox" }
            (menu())
            (status_filter("/operator/inbox", &["waiting", "applied", "rejected"], status_code))
            table {
                caption.visually-hidden { "Received messages, newest first" }
                thead { tr {
                    th scope="col" { "Received" }
                    th scope="col" { "From" }
                    th scope="col" { "Request" }
                    th scope="col" { "Sequence" }
                    th scope="col" { "Type" }
                    th scope="col" { "Status" }
                    th scope="col" { "Reason or note" }
                } }
                tbody {
                    @for row in &rows {
                        tr {
                            td { (row.received_at) }
                            td { (row.sender_node) }
                            td { (row.conversation_id) }
                            td { (row.sequence) }
                            td { (row.message_type) }
                            td { (row.status) }
                            td { (optional(row.outcome.as_deref())) }
                        }
                    }
                }
            }
            (pager("/operator/inbox", status_code, page, rows.len()))
        },
    )
    .into_response())
}

fn status_filter(base: &str, codes: &[&str], current: Option<&str>) -> Markup {
    html! {
        form method="get" action=(base) {
            label for="status" { "Status" }
            select id="status" name="status" {
                option value="" selected[current.is_none()] { "Any" }
                @for code in codes {
                    option value=(code) selected[current == Some(*code)] { (code) }
                }
            }
            button type="submit" { "Show" }
        }
    }
}
