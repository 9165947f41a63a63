//! The translation tables: every key in every language, every coded value of the domain
//! translated, and nothing left in English by mistake.

use comity_domain::{Confidentiality, MeasureKind, OffenceCategory, PersonRole, Vulnerability};
use comity_forms::i18n::{SECTIONS, parse_table};
use comity_forms::{Language, Translations};

#[test]
fn every_table_parses_and_has_the_english_keys() {
    let english = parse_table(Language::En).expect("English table");
    for language in Language::ALL {
        let table = parse_table(*language).unwrap_or_else(|error| panic!("{error}"));
        for section in SECTIONS {
            assert_eq!(
                table.keys(section),
                english.keys(section),
                "{language}: keys of [{section}] differ from English"
            );
            for key in table.keys(section) {
                let text = table.lookup(section, key).expect("listed key");
                assert!(
                    !text.trim().is_empty(),
                    "{language}: [{section}] {key} is empty"
                );
            }
        }
    }
}

#[test]
fn every_coded_value_of_the_domain_is_translated() {
    for language in Language::ALL {
        let table = Translations::get(*language);
        let mut missing = Vec::new();
        let mut check = |section: &str, code: &str| {
            if table.lookup(section, code).is_none() {
                missing.push(format!("[{section}] {code}"));
            }
        };
        for value in MeasureKind::ALL {
            check("measure", value.code());
        }
        for value in OffenceCategory::ALL {
            check("offence", value.code());
        }
        for value in PersonRole::ALL {
            check("role", value.code());
        }
        for value in Vulnerability::ALL {
            check("vulnerability", value.code());
        }
        for value in Confidentiality::ALL {
            check("confidentiality", value.code());
        }
        for month in 1..=12 {
            check("month", &month.to_string());
        }
        assert!(missing.is_empty(), "{language} lacks: {missing:?}");
    }
}

#[test]
fn translations_are_not_left_in_english() {
    let english = Translations::get(Language::En);
    for language in [Language::Fr, Language::Es, Language::Ar] {
        let table = Translations::get(language);
        let same: Vec<_> = MeasureKind::ALL
            .iter()
            .filter(|measure| table.measure(**measure) == english.measure(**measure))
            .collect();
        assert!(
            same.is_empty(),
            "{language}: measures still in English: {same:?}"
        );
        assert_ne!(table.text("document_title"), english.text("document_title"));
    }
    // Terms and scripts that must hold.
    let arabic = Translations::get(Language::Ar);
    assert!(
        arabic
            .offence(OffenceCategory::TraffickingInHumanBeings)
            .chars()
            .all(|c| !c.is_ascii_alphabetic())
    );
    assert_eq!(
        Translations::get(Language::Fr).measure(MeasureKind::SearchAndSeizure),
        "perquisition et saisie"
    );
    assert_eq!(
        Translations::get(Language::Es).role(PersonRole::Witness),
        "testigo"
    );
}

#[test]
fn dates_are_written_out_in_each_language() {
    let cases = [
        (Language::En, "23 November 2026"),
        (Language::Fr, "23 novembre 2026"),
        (Language::Es, "23 de noviembre de 2026"),
        (Language::Ar, "23 نوفمبر 2026"),
    ];
    for (language, expected) in cases {
        assert_eq!(Translations::get(language).date("2026-11-23"), expected);
    }
    // Partial dates of birth are shown as written.
    assert_eq!(Translations::get(Language::Fr).date("1990-04"), "1990-04");
}
