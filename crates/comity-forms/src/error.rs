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
    /// The output format cannot write this script properly (PDF and Arabic: the built-in
    /// PDF fonts have no Arabic glyphs, and there is no shaping or bidi layout here).
    #[error(
        "the PDF renderer cannot write {language} text (no font, shaping or bidirectional layout for its script); render the letter as HTML instead"
    )]
    UnsupportedScript {
        /// The letter's language.
        language: Language,
    },
    /// Text contains a character the PDF fonts cannot show (for example a name in
    /// Arabic or Cyrillic script in a letter in French).
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
