//! The languages a letter of request can be rendered in, and how one is chosen.

use std::fmt;
use std::str::FromStr;

use comity_law::Assessment;

/// A language the standard request form is translated into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Language {
    /// English.
    En,
    /// French.
    Fr,
    /// Spanish.
    Es,
    /// Arabic, written right to left.
    Ar,
}

/// The reason a string is not a supported language.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unsupported language `{0}`; expected one of: en, fr, es, ar")]
pub struct UnknownLanguage(pub String);

impl Language {
    /// Every supported language, English first.
    pub const ALL: &'static [Language] = &[Language::En, Language::Fr, Language::Es, Language::Ar];

    /// The ISO 639-1 code, as used in the `lang` attribute and the law catalog.
    pub const fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::Es => "es",
            Language::Ar => "ar",
        }
    }

    /// Whether the script runs right to left.
    pub const fn is_rtl(self) -> bool {
        matches!(self, Language::Ar)
    }

    /// The value of the HTML `dir` attribute.
    pub const fn direction(self) -> &'static str {
        if self.is_rtl() { "rtl" } else { "ltr" }
    }
}

impl FromStr for Language {
    type Err = UnknownLanguage;

    /// Accepts an ISO 639-1 code in either case, with or without a region subtag
    /// (`fr`, `FR`, `fr-MA`, `ar_MA`).
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let primary = input
            .trim()
            .split(['-', '_'])
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase();
        Language::ALL
            .iter()
            .copied()
            .find(|language| language.code() == primary)
            .ok_or_else(|| UnknownLanguage(input.to_string()))
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// The language to write a letter of request in: the first language the requested state
/// accepts (in the order of the assessment's [`LanguageAdvice`](comity_law::LanguageAdvice),
/// which lists declared languages, or failing a verified declaration the state's
/// official languages) that this crate has translations for.
///
/// If the requested state accepts none of them, or nothing is known, the letter is
/// written in English: it is the language most commonly accepted under declarations to
/// UNTOC art. 18(14) and the Council of Europe instruments, and the central authority
/// is then expected to have the letter translated before it is sent.
pub fn choose_language(assessment: &Assessment) -> Language {
    assessment
        .languages
        .languages
        .iter()
        .find_map(|code| code.parse::<Language>().ok())
        .unwrap_or(Language::En)
}
