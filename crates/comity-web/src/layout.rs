//! The page shell (skip link, header, navigation, main landmark, stylesheet) and the
//! small pieces every page uses: error summaries, field messages, times, labels.

use axum::http::StatusCode;
use comity_app::Principal;
use comity_domain::Timestamp;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Which navigation entry a page belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    /// Requests.
    Requests,
    /// Overdue requests.
    Overdue,
    /// Cases.
    Cases,
    /// Users (administrators).
    Users,
    /// The user's own account.
    Account,
    /// None (login, errors).
    None,
}

/// One small stylesheet: readable type, visible focus, high-contrast states.
pub const STYLESHEET: &str = r#"
*{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Noto Sans","Noto Sans Arabic",sans-serif;margin:0;color:#1a1a1a;background:#fff;line-height:1.5}
a{color:#0b4fa8}
a:hover{color:#06306a}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px;box-shadow:0 0 0 5px #1a1a1a}
.skip{position:absolute;left:-9999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}
.skip:focus{left:1rem;top:1rem}
header{background:#12324f;color:#fff;padding:.5rem 1.5rem;display:flex;flex-wrap:wrap;gap:1rem;align-items:center;justify-content:space-between}
header a{color:#fff}
header .brand{font-weight:700;font-size:1.25rem;text-decoration:none}
nav ul{list-style:none;display:flex;gap:1rem;margin:0;padding:0}
nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.who{display:flex;gap:.75rem;align-items:center}
main{padding:1rem 1.5rem;max-width:72rem}
main:focus{outline:none}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border-bottom:1px solid #c8c8c8;padding:.4rem .6rem;text-align:start;vertical-align:top}
th{background:#f1f3f5}
label{display:block;font-weight:600;margin-top:.75rem}
fieldset{border:1px solid #c8c8c8;margin:1rem 0;padding:.5rem 1rem 1rem}
legend{font-weight:700;padding:0 .25rem}
fieldset label.inline,label.inline{display:inline;font-weight:400;margin:0 .25rem}
.checks{list-style:none;padding:0;margin:.5rem 0}
.checks li{margin:.35rem 0}
input[type=text],input[type=password],input[type=number],input[type=date],select,textarea{font:inherit;padding:.35rem;border:2px solid #555;border-radius:3px;width:100%;max-width:40rem}
textarea{min-height:5rem}
input[aria-invalid=true],select[aria-invalid=true],textarea[aria-invalid=true]{border-color:#b00020}
button{font:inherit;padding:.45rem 1rem;border:2px solid #12324f;background:#12324f;color:#fff;border-radius:3px;cursor:pointer;margin-top:.75rem}
button.secondary{background:#fff;color:#12324f}
header button{margin:0;background:#fff;color:#12324f;padding:.2rem .6rem}
.hint{color:#444;font-size:.9rem;margin:.1rem 0}
.field-error{color:#b00020;font-weight:600;margin:.2rem 0}
.error-summary{border:3px solid #b00020;padding:.5rem 1rem;margin:1rem 0}
.error-summary h2{margin-top:0;font-size:1.1rem}
.flash{border:3px solid #1e6b34;padding:.5rem 1rem;margin:1rem 0}
.badge{display:inline-block;padding:0 .4rem;border-radius:3px;font-size:.85rem;font-weight:700}
.overdue{background:#b00020;color:#fff}
.urgent{background:#8a4b00;color:#fff}
.actions{display:flex;flex-wrap:wrap;gap:1rem}
.actions form{border:1px solid #c8c8c8;padding:.5rem 1rem;min-width:16rem}
dl.content{display:grid;grid-template-columns:minmax(10rem,16rem) 1fr;gap:.3rem 1rem}
dl.content dt{font-weight:600}
dl.content dd{margin:0;white-space:pre-wrap}
.legal{border:2px solid #12324f;padding:.25rem 1rem 1rem;margin:1rem 0}
.legal h3{margin-bottom:.25rem}
.checklist{list-style:none;padding:0}
.checklist li{margin:.3rem 0;padding-left:.4rem;border-left:6px solid #c8c8c8}
.checklist li.check-ok{border-left-color:#1e6b34}
.checklist li.check-missing{border-left-color:#b00020}
.checklist li.check-possible{border-left-color:#8a4b00;border-left-style:dashed}
.mark{display:inline-block;min-width:1.2rem;text-align:center;font-weight:700}
.sev-blocking{background:#b00020;color:#fff}
.sev-warning{background:#8a4b00;color:#fff}
.sev-info{background:#e6eef7;color:#12324f;border:1px solid #12324f}
cite.citation{font-style:normal;font-size:.9rem}
.raised{font-weight:700}
.notice{border-left:4px solid #0b4fa8;background:#eef4fb;padding:.25em 1em;margin:1em 0}
.visually-hidden{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
"#;

/// `text` without the characters that change the direction or visibility of what
/// follows them. The window title cannot isolate a value as an element with
/// `dir="auto"` does, so a name with a right-to-left override must not reverse the rest
/// of the title.
fn without_direction_controls(text: &str) -> String {
    text.chars()
        .filter(|&c| !comity_domain::text::is_invisible_formatting(c))
        .collect()
}

/// A whole page: the shell around `body`.
pub fn page(title: &str, user: Option<&Principal>, section: Section, body: Markup) -> Markup {
    let nav_link = |href: &str, text: &str, this: Section| {
        html! {
            li { a href=(href) aria-current=[(section == this).then_some("page")] { (text) } }
        }
    };
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (without_direction_controls(title)) " · Comity" }
                style { (PreEscaped(STYLESHEET)) }
            }
            body {
                a.skip href="#main" { "Skip to main content" }
                header {
                    a.brand href="/" { "Comity" }
                    @if let Some(user) = user {
                        nav aria-label="Main" {
                            ul {
                                @if user.roles().iter().any(|role| role.may_read_requests()) {
                                    (nav_link("/requests", "Requests", Section::Requests))
                                    (nav_link("/requests?overdue=true", "Overdue", Section::Overdue))
                                    (nav_link("/cases", "Cases", Section::Cases))
                                }
                                @if user.has(comity_domain::Role::Administrator) {
                                    (nav_link("/users", "Users", Section::Users))
                                }
                                @if user.has(comity_domain::Role::NodeOperator) {
                                    (nav_link("/operator/alerts", "Federation", Section::None))
                                }
                                (nav_link("/account/password", "My password", Section::Account))
                            }
                        }
                        div.who {
                            span {
                                "Signed in as "
                                strong dir="auto" { (user.display_name()) }
                                " (" (user.authority()) ")"
                            }
                            form method="post" action="/logout" {
                                button type="submit" id="logout" { "Log out" }
                            }
                        }
                    }
                }
                main id="main" tabindex="-1" {
                    (body)
                }
            }
        }
    }
}

/// The HTML error page.
pub fn error_page(status: StatusCode, title: &str, detail: &str) -> Markup {
    page(
        title,
        None,
        Section::None,
        html! {
            h1 { (title) }
            div.error-summary role="alert" {
                p { (detail) }
            }
            p { "Status " (status.as_u16()) ". " a href="/requests" { "Go to your requests" } " or " a href="/login" { "log in" } "." }
        },
    )
}

/// A problem with one form field (`field` is the id of the element at fault, or "").
#[derive(Debug, Clone, Default)]
pub struct FormProblem {
    /// The id of the input, select or fieldset at fault ("" for the whole form).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FormProblem {
    /// A problem with `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        FormProblem {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The message if it concerns `field`.
    pub fn for_field(problem: Option<&FormProblem>, field: &str) -> Option<String> {
        problem
            .filter(|problem| !problem.field.is_empty() && problem.field == field)
            .map(|problem| problem.message.clone())
    }
}

/// The error summary at the top of a form, announced at once (`role="alert"`); it links
/// to the field at fault.
pub fn error_summary(problem: Option<&FormProblem>) -> Markup {
    html! {
        @if let Some(problem) = problem {
            div.error-summary role="alert" aria-labelledby="error-summary-title" {
                h2 id="error-summary-title" { "There is a problem" }
                ul {
                    li {
                        @if problem.field.is_empty() {
                            (problem.message)
                        } @else {
                            a href={ "#" (problem.field) } { (problem.message) }
                        }
                    }
                }
            }
        }
    }
}

/// The message shown under a field at fault.
pub fn field_error(field: &str, message: Option<&str>) -> Markup {
    html! {
        @if let Some(message) = message {
            p.field-error id={ (field) "-error" } { "Error: " (message) }
        }
    }
}

/// `aria-describedby` for a field: its hint and its error, when present.
pub fn described_by(field: &str, has_hint: bool, has_error: bool) -> Option<String> {
    let mut ids = Vec::new();
    if has_hint {
        ids.push(format!("{field}-hint"));
    }
    if has_error {
        ids.push(format!("{field}-error"));
    }
    (!ids.is_empty()).then(|| ids.join(" "))
}

/// A one-line text input with its label, hint and error.
pub fn text_input(
    field: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
    problem: Option<&FormProblem>,
    input_type: &str,
) -> Markup {
    let error = FormProblem::for_field(problem, field);
    html! {
        label for=(field) { (label) }
        @if let Some(hint) = hint { p.hint id={ (field) "-hint" } { (hint) } }
        (field_error(field, error.as_deref()))
        input type=(input_type) id=(field) name=(field) value=(value) dir="auto"
            aria-invalid=[error.is_some().then_some("true")]
            aria-describedby=[described_by(field, hint.is_some(), error.is_some())];
    }
}

/// A multi-line text area with its label, hint and error.
pub fn text_area(
    field: &str,
    label: &str,
    value: &str,
    hint: Option<&str>,
    problem: Option<&FormProblem>,
) -> Markup {
    let error = FormProblem::for_field(problem, field);
    html! {
        label for=(field) { (label) }
        @if let Some(hint) = hint { p.hint id={ (field) "-hint" } { (hint) } }
        (field_error(field, error.as_deref()))
        textarea id=(field) name=(field) dir="auto" rows="4"
            aria-invalid=[error.is_some().then_some("true")]
            aria-describedby=[described_by(field, hint.is_some(), error.is_some())] { (value) }
    }
}

/// A select with its label and error; `options` are (value, text).
pub fn select(
    field: &str,
    label: &str,
    selected: &str,
    options: &[(String, String)],
    problem: Option<&FormProblem>,
) -> Markup {
    let error = FormProblem::for_field(problem, field);
    html! {
        label for=(field) { (label) }
        (field_error(field, error.as_deref()))
        select id=(field) name=(field)
            aria-invalid=[error.is_some().then_some("true")]
            aria-describedby=[described_by(field, false, error.is_some())] {
            @for (value, text) in options {
                option value=(value) selected[value == selected] { (text) }
            }
        }
    }
}

/// A point in time, readable and machine-readable: `2026-05-01 09:30 UTC`.
pub fn when(at: Timestamp) -> Markup {
    let machine = at.to_rfc3339();
    let human = machine
        .get(..16)
        .map(|prefix| format!("{} UTC", prefix.replace('T', " ")))
        .unwrap_or_else(|| machine.clone());
    html! { time datetime=(machine) { (human) } }
}

/// The overdue marker: a word, not only a colour.
pub fn overdue_badge() -> Markup {
    html! { span.badge.overdue { "Overdue" } }
}

/// The urgent marker.
pub fn urgent_badge() -> Markup {
    html! { span.badge.urgent { "Urgent" } }
}

/// "submit for approval" → "Submit for approval".
pub fn sentence_case(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}
