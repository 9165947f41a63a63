//! What text a person may type into Comity: length limits, and the characters refused
//! because they corrupt storage, terminals or logs (control characters, NUL) or make one
//! name look like another (bidirectional overrides, invisible characters).
//!
//! Three kinds of text, three rules:
//! - **free text** (a summary of facts, a reason): any printable character, line breaks
//!   and tabs, and bidirectional marks (a sentence may mix Arabic and Latin; the pages
//!   isolate free text when they show it);
//! - **names** (a display name, a person's name, a case reference, a file name): one
//!   line, no control characters, no bidirectional controls and no invisible characters
//!   that could reorder or hide what a reader sees;
//! - **identifiers** that reach the database from a URL or a login form: no control
//!   characters at all.

use std::fmt;

/// Longest free text accepted in any one field, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Longest short text (a place, a provision, a reason for a transition's ground).
pub const MAX_SHORT_TEXT_CHARS: usize = 1_000;
/// Longest name accepted (a person's or a user's display name, a reference, a file name).
pub const MAX_NAME_CHARS: usize = 300;

/// Why a piece of text is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    /// Longer than the field allows.
    TooLong {
        /// The limit, in characters.
        max_chars: usize,
        /// The length given.
        chars: usize,
    },
    /// Empty or only white space where something is required.
    Blank,
    /// A control character (NUL, escape, bell...).
    ControlCharacter {
        /// Its code point.
        code_point: u32,
    },
    /// A bidirectional control or an invisible character, refused in names.
    InvisibleFormatting {
        /// Its code point.
        code_point: u32,
    },
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::TooLong { max_chars, chars } => write!(
                f,
                "at most {max_chars} characters are accepted, got {chars}"
            ),
            TextError::Blank => f.write_str("must not be empty or only white space"),
            TextError::ControlCharacter { code_point } => write!(
                f,
                "control characters are not accepted (U+{code_point:04X})"
            ),
            TextError::InvisibleFormatting { code_point } => write!(
                f,
                "bidirectional controls and invisible characters are not accepted in names (U+{code_point:04X})"
            ),
        }
    }
}

impl std::error::Error for TextError {}

/// Whether `character` is a control character other than the line break, carriage
/// return and tab that free text may hold.
pub fn is_refused_control(character: char) -> bool {
    character.is_control() && !matches!(character, '\n' | '\r' | '\t')
}

/// Whether `character` changes the order or visibility of the text around it: the
/// bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069), the
/// directional marks (U+200E, U+200F, U+061C), and invisible spaces and joiners that
/// have no place in a name (U+200B, U+2060, U+FEFF, U+180E). The zero-width joiner and
/// non-joiner (U+200C, U+200D) stay: Persian and Indic names need them.
pub fn is_invisible_formatting(character: char) -> bool {
    matches!(
        character,
        '\u{202A}'..='\u{202E}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200E}'
            | '\u{200F}'
            | '\u{061C}'
            | '\u{200B}'
            | '\u{2060}'
            | '\u{FEFF}'
            | '\u{180E}'
    )
}

/// Checks free text: at most `max_chars` characters, no control characters but line
/// breaks and tabs. Empty text passes.
pub fn check_free_text(text: &str, max_chars: usize) -> Result<(), TextError> {
    check_length(text, max_chars)?;
    match text.chars().find(|&c| is_refused_control(c)) {
        Some(character) => Err(TextError::ControlCharacter {
            code_point: u32::from(character),
        }),
        None => Ok(()),
    }
}

/// Checks a name: not blank, at most `max_chars` characters, one line, no control
/// characters, no bidirectional controls or invisible characters.
pub fn check_name(text: &str, max_chars: usize) -> Result<(), TextError> {
    check_length(text, max_chars)?;
    if let Some(character) = text.chars().find(|c| c.is_control()) {
        return Err(TextError::ControlCharacter {
            code_point: u32::from(character),
        });
    }
    if let Some(character) = text.chars().find(|&c| is_invisible_formatting(c)) {
        return Err(TextError::InvisibleFormatting {
            code_point: u32::from(character),
        });
    }
    if text.trim().is_empty() {
        return Err(TextError::Blank);
    }
    Ok(())
}

/// Checks an identifier that arrived from outside (a path segment, a query value, a
/// login name): no control characters at all. Its shape is the caller's business.
pub fn check_identifier(text: &str) -> Result<(), TextError> {
    match text.chars().find(|c| c.is_control()) {
        Some(character) => Err(TextError::ControlCharacter {
            code_point: u32::from(character),
        }),
        None => Ok(()),
    }
}

/// Checks a secret such as a password: not only white space.
pub fn check_secret(text: &str) -> Result<(), TextError> {
    if text.trim().is_empty() {
        return Err(TextError::Blank);
    }
    Ok(())
}

fn check_length(text: &str, max_chars: usize) -> Result<(), TextError> {
    // Bytes bound characters from above: most text never needs counting.
    if text.len() <= max_chars {
        return Ok(());
    }
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(TextError::TooLong { max_chars, chars });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn names_refuse_what_spoofs_or_corrupts() {
        let check = |text: &str| check_name(text, 20).map_err(|error| error.to_string());
        assert_eq!(check("Youssef El Amrani"), Ok(()));
        assert_eq!(check("محمد بن علي"), Ok(()));
        assert_eq!(check("می\u{200C}خواهم"), Ok(()));
        assert!(check("Evil\u{1b}[2JName").is_err_and(|e| e.contains("U+001B")));
        assert!(check("a\u{0}b").is_err_and(|e| e.contains("U+0000")));
        assert!(check("abc\u{202E}gpj.exe").is_err_and(|e| e.contains("U+202E")));
        assert!(check("x\u{2067}y").is_err_and(|e| e.contains("U+2067")));
        assert!(check("line\nbreak").is_err());
        assert!(check("   ").is_err_and(|e| e.contains("white space")));
        assert!(check(&"n".repeat(21)).is_err_and(|e| e.contains("at most 20")));
    }

    #[test]
    fn free_text_keeps_line_breaks_and_bidi_marks() {
        assert_eq!(check_free_text("one\ntwo\tthree\r\n", 100), Ok(()));
        assert_eq!(check_free_text("سفينة \u{2067}MV Sea\u{2069}", 100), Ok(()));
        assert_eq!(
            check_free_text("bell\u{7}", 100),
            Err(TextError::ControlCharacter { code_point: 7 })
        );
        assert_eq!(
            check_free_text(&"é".repeat(11), 10),
            Err(TextError::TooLong {
                max_chars: 10,
                chars: 11
            })
        );
        assert_eq!(check_free_text(&"é".repeat(10), 10), Ok(()));
    }

    proptest! {
        #[test]
        fn a_name_that_passes_has_none_of_the_refused_characters(text in "\\PC{0,12}|[\\x00-\\x1f\\u{202a}-\\u{202e}a-z ]{0,12}") {
            if check_name(&text, 12).is_ok() {
                prop_assert!(!text.chars().any(|c| c.is_control() || is_invisible_formatting(c)));
                prop_assert!(!text.trim().is_empty());
                prop_assert!(text.chars().count() <= 12);
            }
        }

        #[test]
        fn free_text_passes_exactly_when_it_has_no_refused_control(text in "[\\x00-\\x7f\\u{80}-\\u{9f}é\\u{202e}]{0,40}") {
            let refused = text.chars().any(is_refused_control);
            prop_assert_eq!(check_free_text(&text, 40).is_ok(), !refused);
        }
    }
}
