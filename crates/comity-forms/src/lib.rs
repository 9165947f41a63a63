//! Standard request forms: a mutual legal assistance request rendered as a formal letter
//! of request in the requested state's language, from coded fields, so that only free
//! text needs a translator (PRODUCT.md 4.9).
//!
//! - [`Language`] (English, French, Spanish, Arabic) and [`choose_language`], which picks
//!   the first language the requested state accepts according to the legal-basis
//!   engine's [`Assessment`](comity_law::Assessment).
//! - [`Translations`]: the labels, section headings, measure names, offence categories,
//!   roles, vulnerabilities, confidentiality levels and instrument titles of each
//!   language, kept as data in `i18n/<code>.toml` and embedded in the crate.
//! - [`LetterInput`] and [`render_letter_html`]: a standalone, printable HTML5 letter
//!   (heading, legal basis with the assessment's citations, urgency and confidentiality
//!   notices, the content of UNTOC art. 18(15), attachments, the speciality rule).
//!   Free text (subject matter, facts, descriptions, purpose, names, reasons) is left as
//!   written and marked `class="for-translation" lang="und" dir="auto"`; a note at the
//!   top lists the sections that await translation.
//! - [`render_letter_pdf`]: the same letter as a PDF, in every language, with an embedded
//!   font covering the Latin and Arabic scripts, shaped text and bidirectional layout
//!   (Arabic right to left, Arabic names inside a letter in French); a character the
//!   font cannot show is refused with [`FormError::UnsupportedCharacter`].
//!
//! Internally the letter is built once as a document model (`letter`) that both
//! renderers walk, so the HTML and the PDF cannot say different things. The crate is
//! pure: no I/O, no clock (the letter's date is an input).

mod error;
mod html;
pub mod i18n;
mod language;
mod letter;
mod pdf;

pub use error::FormError;
pub use html::render_letter_html;
pub use i18n::Translations;
pub use language::{Language, UnknownLanguage, choose_language};
pub use letter::LetterInput;
pub use pdf::render_letter_pdf;
