//! The letter of request: the request rendered as a formal letter in the requested
//! state's language (comity-forms), for the web page, the API and the CLI alike.

use comity_domain::{Date, RequestId};
use comity_forms::{Language, LetterInput};

use crate::{App, AppError, Principal};

/// The format of a rendered letter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LetterFormat {
    /// A standalone, printable HTML page (every language).
    Html,
    /// A PDF with an embedded font (Latin and Arabic scripts; other scripts are refused).
    Pdf,
}

/// A rendered letter.
#[derive(Debug, Clone)]
pub struct Letter {
    /// The language it is in.
    pub language: Language,
    /// `text/html; charset=utf-8` or `application/pdf`.
    pub media_type: &'static str,
    /// The document.
    pub bytes: Vec<u8>,
}

impl App {
    /// Renders the letter of request for a request the principal's authority holds, in
    /// `language` or, when `None`, the first language the requested state accepts that
    /// the forms support.
    pub async fn letter(
        &self,
        principal: &Principal,
        request_id: &RequestId,
        language: Option<Language>,
        format: LetterFormat,
    ) -> Result<Letter, AppError> {
        let details = self.request_details(principal, request_id).await?;
        let request = &details.request;
        let assessment = self.assess(&request.content);
        let language = language.unwrap_or_else(|| comity_forms::choose_language(&assessment));
        let (case_reference, requesting_name, requested_name) = {
            let mut tx = self.store().begin().await?;
            let reference = tx
                .case(&request.case_id)
                .await?
                .map(|case| case.reference)
                .unwrap_or_default();
            let requesting = tx.authority(&request.content.requesting_authority).await?;
            let requested = tx.authority(&request.content.requested_authority).await?;
            (
                reference,
                requesting.map(|record| record.authority.name),
                requested.map(|record| record.authority.name),
            )
        };
        let contact_officer = contact_officer(&details);
        let date = self.now().date().unwrap_or(Date::UNIX_EPOCH);
        let text_chars = letter_text_chars(&request.content);
        if format == LetterFormat::Pdf && text_chars > MAX_PDF_TEXT_CHARS {
            return Err(AppError::invalid(
                "format",
                format!(
                    "the request holds {text_chars} characters of text, more than the {MAX_PDF_TEXT_CHARS} a PDF letter is rendered for; ask for format=html"
                ),
            ));
        }
        let case_reference = case_reference.to_string();
        let request = request.clone();
        // Rendering is CPU work: it runs on the blocking pool, never on the executor that
        // serves other requests and the outbox, and within a time budget.
        let render = tokio::task::spawn_blocking(move || {
            let input = LetterInput {
                content: &request.content,
                assessment: &assessment,
                case_reference: &case_reference,
                request_id: &request.id,
                date,
                requesting_authority_name: requesting_name.as_deref(),
                requested_authority_name: requested_name.as_deref(),
                contact_officer: contact_officer.as_deref(),
            };
            match format {
                LetterFormat::Html => Ok(Letter {
                    language,
                    media_type: "text/html; charset=utf-8",
                    bytes: comity_forms::render_letter_html(&input, language).into_bytes(),
                }),
                LetterFormat::Pdf => {
                    let bytes = comity_forms::render_letter_pdf(&input, language)
                        .map_err(|error| AppError::invalid("format", error.to_string()))?;
                    Ok(Letter {
                        language,
                        media_type: "application/pdf",
                        bytes,
                    })
                }
            }
        });
        match tokio::time::timeout(LETTER_RENDER_BUDGET, render).await {
            Ok(Ok(letter)) => letter,
            Ok(Err(join_error)) => {
                tracing::error!(error = %join_error, "letter rendering failed");
                Err(AppError::OverBudget(
                    "the letter could not be rendered; the operator has been told".into(),
                ))
            }
            Err(_elapsed) => Err(AppError::OverBudget(format!(
                "the letter was not rendered within {} s; try format=html",
                LETTER_RENDER_BUDGET.as_secs()
            ))),
        }
    }
}

/// The most text a request may hold for its letter to be rendered as a PDF. Rendering
/// is linear in the text; at this size it takes well under a second (`BENCHMARKS.md`).
pub const MAX_PDF_TEXT_CHARS: usize = 300_000;

/// How long a letter may take to render before the caller gets a 503.
pub const LETTER_RENDER_BUDGET: std::time::Duration = std::time::Duration::from_secs(20);

/// The characters of free text and names a request holds: what a letter must lay out.
pub fn letter_text_chars(content: &comity_domain::RequestContent) -> usize {
    let chars = |text: &str| text.chars().count();
    let urgency = match &content.urgency {
        comity_domain::Urgency::Urgent { reason } => chars(reason),
        comity_domain::Urgency::Normal => 0,
    };
    chars(&content.subject_matter)
        + chars(&content.conducting_authority)
        + chars(&content.summary_of_facts)
        + chars(&content.purpose)
        + urgency
        + content
            .legal_basis
            .iter()
            .map(|id| chars(id))
            .sum::<usize>()
        + content
            .offences
            .iter()
            .map(|offence| chars(&offence.national_provision))
            .sum::<usize>()
        + content
            .measures
            .iter()
            .map(|measure| chars(&measure.description))
            .sum::<usize>()
        + content
            .persons
            .iter()
            .map(|person| chars(&person.full_name) + person.location.as_deref().map_or(0, chars))
            .sum::<usize>()
        + content
            .attachments
            .iter()
            .map(|attachment| chars(&attachment.file_name) + chars(&attachment.media_type))
            .sum::<usize>()
}

/// Who at the requesting authority answers for the request: the user of this node who
/// acted on it last (name and role). Only the requesting side's copy knows its officers.
fn contact_officer(details: &crate::requests::RequestDetails) -> Option<String> {
    if details.request.side != comity_domain::Side::Requesting {
        return None;
    }
    details
        .history
        .iter()
        .rev()
        .find_map(|record| match &record.actor {
            comity_domain::Actor::User { user_id, role } => details
                .actor_names
                .get(user_id)
                .map(|name| format!("{name} ({})", role.code().replace('_', " "))),
            _ => None,
        })
}
