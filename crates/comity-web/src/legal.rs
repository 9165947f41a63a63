//! The "Legal basis" panel: what the legal-basis engine concludes about a request or a
//! draft, every item with its citation ("instrument art. article", linking the text).
//! States are written out in words and marked with a symbol, never shown by colour alone.
//! Every sentence of the engine (warnings, why an instrument prevails, measure bases,
//! channels, languages, checklist, dual criminality, time limits) is written from its code
//! and parameters in the reader's language ([`finding_text`] for warnings); English is the
//! only wording the law crate has so far.

use comity_domain::Action;
use comity_law::{
    Assessment, BlockingFinding, ChannelUse, Citation, ContentCheck, DualCriminalityOutcome,
    Finding, GroundKind, LanguageBasis, RefusalGround, Severity, wording_for,
};
use maud::{Markup, html};

use super::layout::sentence_case;

/// `snake_case` code → "Snake case" for people.
pub fn humanize(code: &str) -> String {
    sentence_case(&code.replace('_', " "))
}

/// The citation as a link to the text of the instrument (plain text without a URL).
pub fn citation(citation: &Citation) -> Markup {
    let text = citation.reference();
    html! {
        " "
        cite.citation {
            "("
            @if citation.source_url.is_empty() {
                (text)
            } @else {
                a href=(citation.source_url) rel="noopener noreferrer" { (text) }
            }
            ")"
        }
    }
}

/// A severity as a word in a badge.
pub fn severity_badge(severity: Severity) -> Markup {
    let (class, text) = match severity {
        Severity::Blocking => ("badge sev-blocking", "Blocking"),
        Severity::Warning => ("badge sev-warning", "Warning"),
        Severity::Info => ("badge sev-info", "Info"),
    };
    html! { span class=(class) { (text) } }
}

/// How a content item stands: (class, symbol, words).
fn content_status(check: &ContentCheck) -> (&'static str, &'static str, &'static str) {
    match (check.satisfied, check.where_possible) {
        (true, _) => ("check-ok", "✓", "Present"),
        (false, false) => ("check-missing", "✗", "Missing"),
        (false, true) => ("check-possible", "!", "Missing (required where possible)"),
    }
}

fn channel_use(use_: ChannelUse) -> String {
    match use_ {
        ChannelUse::Primary => "Primary channel".to_string(),
        ChannelUse::Alternative => "Alternative channel".to_string(),
        ChannelUse::Urgent => "If urgent".to_string(),
        ChannelUse::ForMeasure(measure) => format!("For {}", measure.label()),
    }
}

fn dual_outcome(outcome: DualCriminalityOutcome) -> &'static str {
    match outcome {
        DualCriminalityOutcome::NotRequired => "not required",
        DualCriminalityOutcome::ListException => "not required (list exception)",
        DualCriminalityOutcome::ExemptMeasure => "not required for this measure",
        DualCriminalityOutcome::OptionalGround => "its absence is only an optional ground",
        DualCriminalityOutcome::Required => "required",
    }
}

/// "mandatory" or "optional".
pub fn ground_kind(kind: GroundKind) -> &'static str {
    match kind {
        GroundKind::Mandatory => "mandatory",
        GroundKind::Optional => "optional",
    }
}

/// The refusal grounds to offer: those raised by the facts first, grounds removed by a
/// supplement left out.
pub fn offered_grounds(assessment: &Assessment) -> Vec<&RefusalGround> {
    let mut grounds: Vec<&RefusalGround> = assessment
        .refusal_grounds
        .iter()
        .filter(|ground| ground.removed_by.is_none())
        .collect();
    grounds.sort_by_key(|ground| !ground.raised_by_facts);
    grounds
}

/// A finding's sentence in `language` (ISO 639-1), in English where the law crate has no
/// wording for it.
pub fn finding_text(finding: &Finding, language: &str) -> String {
    finding.text(wording_for(language))
}

/// What the panel's verdict speaks of: the step the request waits for on this node, or
/// that it is past the steps the findings can stop.
#[derive(Debug, Clone, Copy)]
pub enum Verdict<'a> {
    /// A draft or a request awaiting approval, or an approved one awaiting dispatch:
    /// `blocking` holds what stops `action` now.
    Gate {
        /// Approve or dispatch.
        action: Action,
        /// The findings that stop it.
        blocking: &'a [BlockingFinding],
    },
    /// Sent to the requested side: nothing here can be stopped any more.
    Sent,
    /// Received from the requesting side.
    Received,
}

/// The whole panel, a `<section>` titled "Legal basis", in English.
pub fn panel(assessment: &Assessment, verdict: Verdict<'_>) -> Markup {
    panel_in(assessment, verdict, "en")
}

/// The whole panel, its findings written in `language` (ISO 639-1).
pub fn panel_in(assessment: &Assessment, verdict: Verdict<'_>, language: &str) -> Markup {
    let wording = wording_for(language);
    let mut warnings: Vec<_> = assessment.warnings.iter().collect();
    warnings.sort_by_key(|finding| std::cmp::Reverse(finding.severity));
    html! {
        section.legal id="legal-basis" aria-labelledby="legal-basis-title" {
            h2 id="legal-basis-title" { "Legal basis" }
            p.hint {
                "Between " (assessment.requesting_country) " and " (assessment.requested_country)
                ", the law as of " (assessment.date.to_string()) ". "
                "Each conclusion cites its rule; follow a citation to read the text."
            }
            (verdict_text(verdict))

            h3 { "Governing instrument" }
            @if let Some(prevailing) = &assessment.prevailing {
                p id="legal-prevailing" {
                    strong { (prevailing.title) } " (" code { (prevailing.instrument_id) } ")"
                }
                p { (prevailing.reason_text(wording)) (citation(&prevailing.citation)) }
            } @else if let Some(fallback) = &assessment.fallback {
                p id="legal-prevailing" { strong { "No instrument binds both states: reciprocity" } }
                p { (finding_text(fallback, language)) (citation(&fallback.citation)) }
            } @else {
                p id="legal-prevailing" { "No instrument found." }
            }
            @if assessment.applicable.len() > 1 {
                p { "Also applicable:" }
                ul {
                    @for instrument in &assessment.applicable {
                        li { (instrument.title) " (" code { (instrument.instrument_id) } ")" }
                    }
                }
            }
            @if !assessment.measure_bases.is_empty() {
                h4 { "Measure by measure" }
                ul {
                    @for basis in &assessment.measure_bases {
                        li {
                            strong { (sentence_case(basis.measure.label())) } ": "
                            @match &basis.instrument_id {
                                Some(id) => { code { (id) } },
                                None => { "no instrument covers it" },
                            }
                            " — " (basis.text(wording))
                        }
                    }
                }
            }

            h3 { "Channels" }
            @if assessment.channels.is_empty() {
                p { "No channel is known." }
            } @else {
                ul {
                    @for channel in &assessment.channels {
                        li {
                            strong { (channel_use(channel.use_)) ": " (humanize(channel.kind.code())) }
                            " — " (channel.text(wording)) (citation(&channel.citation))
                        }
                    }
                }
            }

            h3 { "Languages accepted" }
            p {
                @if assessment.languages.languages.is_empty() {
                    "Not known. "
                } @else {
                    strong { (assessment.languages.languages.iter().map(|code| code.to_uppercase()).collect::<Vec<_>>().join(", ")) }
                    ". "
                }
                (assessment.languages.text(wording))
                @if let LanguageBasis::Declared(declared) = &assessment.languages.basis {
                    (citation(declared))
                }
            }

            h3 { "Mandatory content" }
            @if assessment.checklist.is_empty() {
                p { "The instrument lists no mandatory content." }
            } @else {
                ul.checklist id="legal-checklist" {
                    @for check in &assessment.checklist {
                        @let (class, symbol, words) = content_status(check);
                        li class=(class) {
                            span.mark aria-hidden="true" { (symbol) }
                            " "
                            strong { (words) ": " (humanize(check.item.code())) }
                            " — " (check.text(wording)) (citation(&check.citation))
                        }
                    }
                }
            }

            h3 { "Dual criminality" }
            @if assessment.dual_criminality.is_empty() {
                p { "No measure is sought yet." }
            } @else {
                ul {
                    @for finding in &assessment.dual_criminality {
                        li {
                            (severity_badge(finding.severity)) " "
                            strong { (sentence_case(finding.measure.label())) ": " (dual_outcome(finding.outcome)) }
                            " — " (finding.text(wording)) (citation(&finding.citation))
                        }
                    }
                }
            }

            h3 { "Warnings" }
            @if warnings.is_empty() {
                p { "None." }
            } @else {
                ul id="legal-warnings" {
                    @for finding in &warnings {
                        li {
                            (severity_badge(finding.severity)) " "
                            (finding_text(finding, language)) (citation(&finding.citation))
                        }
                    }
                }
            }

            h3 { "Time limits" }
            @if assessment.deadlines.is_empty() {
                p { "The instrument fixes none." }
            } @else {
                ul {
                    @for deadline in &assessment.deadlines {
                        li {
                            strong {
                                (humanize(deadline.kind.code()))
                                @if let Some(days) = deadline.days { ": " (days) " days" }
                            }
                            " — " (deadline.text(wording)) (citation(&deadline.citation))
                        }
                    }
                }
            }
        }
    }
}

/// The step blocking findings stop, in words: "approval" or "dispatch".
pub fn gated_step(action: Action) -> &'static str {
    if action == Action::Dispatch {
        "dispatch"
    } else {
        "approval"
    }
}

fn verdict_text(verdict: Verdict<'_>) -> Markup {
    match verdict {
        Verdict::Gate { action, blocking } => {
            let step = gated_step(action);
            html! {
                @if blocking.is_empty() {
                    p id="legal-verdict" { "Nothing blocks " (step) "." }
                } @else {
                    p id="legal-verdict" {
                        (severity_badge(Severity::Blocking)) " "
                        (sentence_case(step)) " is blocked by " (blocking.len())
                        @if blocking.len() == 1 { " finding" } @else { " findings" }
                        ", until resolved or overridden by a supervisor with a justification:"
                    }
                    ul id="legal-blocking" {
                        @for finding in blocking {
                            li { (finding.explanation) (citation(&finding.citation)) }
                        }
                    }
                }
            }
        }
        Verdict::Sent => html! {
            p id="legal-verdict" { "Sent to the requested side: the findings below are for reference." }
        },
        Verdict::Received => html! {
            p id="legal-verdict" { "Received from the requesting side: the findings below are the law between the two states, for the assessment." }
        },
    }
}
