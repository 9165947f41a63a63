//! Errors of form rendering.

use crate::Language;

/// Why a form could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormError {
    /// An embedded translation table does not parse (a bug, caught by the tests).
    #[error("the {language} translation table is invalid: {reason}")]
    Table {
        /// The table's language.
        language: Language,
        /// What is wrong.
        reason: String,
    },
    /// The embedded PDF font does not parse (a bug, caught by the tests).
    #[error("the embedded PDF font is invalid: {reason}")]
    Font {
        /// What is wrong.
        reason: String,
    },
    /// Text contains a character the embedded PDF font has no glyph for (it covers the
    /// Latin and Arabic scripts; a name in Cyrillic or Chinese script, for example, is
    /// refused).
    #[error(
        "the PDF renderer cannot write the character {character:?} (U+{code_point:04X}) in {field}; render the letter as HTML instead"
    )]
    UnsupportedCharacter {
        /// The character.
        character: char,
        /// Its code point.
        code_point: u32,
        /// Where it occurs, e.g. "summary of facts".
        field: String,
    },
}
