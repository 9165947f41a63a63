//! Choosing the letter's language from the assessment, and parsing language codes.

use comity_forms::{Language, choose_language};

use crate::{assessment, sample_request};

fn chosen(from: &str, to: &str) -> Language {
    choose_language(&assessment(&sample_request(from, to)))
}

#[test]
fn the_requested_states_language_is_chosen() {
    assert_eq!(chosen("ES", "FR"), Language::Fr);
    assert_eq!(chosen("FR", "ES"), Language::Es);
    // Morocco: no verified declaration, official languages ar and zgh in the catalog.
    assert_eq!(chosen("ES", "MA"), Language::Ar);
    // No supported language accepted (German only): English.
    assert_eq!(chosen("ES", "DE"), Language::En);
}

#[test]
fn language_codes_parse_in_any_case_and_with_a_region() {
    for (input, language) in [
        ("en", Language::En),
        ("FR", Language::Fr),
        ("es-MX", Language::Es),
        ("ar_MA", Language::Ar),
    ] {
        assert_eq!(input.parse::<Language>(), Ok(language), "{input}");
    }
    assert!("de".parse::<Language>().is_err());
    assert!("".parse::<Language>().is_err());
    assert!(Language::Ar.is_rtl());
    assert!(Language::ALL.iter().filter(|l| l.is_rtl()).count() == 1);
    for language in Language::ALL {
        assert_eq!(language.code().parse::<Language>(), Ok(*language));
    }
}
