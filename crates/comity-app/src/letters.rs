//! The letter of request: the request rendered as a formal letter in the requested
//! state's language (comity-forms), for the web page, the API and the CLI alike.

use comity_domain::Date;
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
        request_id: &str,
        language: Option<Language>,
        format: LetterFormat,
    ) -> Result<Letter, AppError> {
        let details = self.request_details(principal, request_id).await?;
        let request = &details.request;
        let assessment = self.assess(&request.content);
        let language = language.unwrap_or_else(|| comity_forms::choose_language(&assessment));
        let case_reference = {
            let mut tx = self.store().begin().await?;
            tx.case(&request.case_id)
                .await?
                .map(|case| case.reference)
                .unwrap_or_default()
        };
        let input = LetterInput {
            content: &request.content,
            assessment: &assessment,
            case_reference: &case_reference,
            request_id: &request.id,
            date: self.now().date().unwrap_or(Date::UNIX_EPOCH),
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
    }
}
