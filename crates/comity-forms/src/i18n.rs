//! The translation tables: one TOML file per language under `i18n/`, embedded in the
//! crate, with a lookup that never fails (a missing entry falls back to English, then to
//! the key itself, and the tests make sure neither happens).

use std::collections::BTreeMap;
use std::sync::OnceLock;

use comity_domain::{Confidentiality, MeasureKind, OffenceCategory, PersonRole, Vulnerability};
use serde::Deserialize;

use crate::{FormError, Language};

/// The sections of a translation table. Each maps a key (for coded values, the domain
/// code) to the text in one language.
pub const SECTIONS: &[&str] = &[
    "text",
    "measure",
    "offence",
    "role",
    "vulnerability",
    "confidentiality",
    "month",
    "instrument",
];

/// The labels of one language.
#[derive(Debug)]
pub struct Translations {
    language: Language,
    sections: BTreeMap<String, BTreeMap<String, String>>,
}

fn source(language: Language) -> &'static str {
    match language {
        Language::En => include_str!("../i18n/en.toml"),
        Language::Fr => include_str!("../i18n/fr.toml"),
        Language::Es => include_str!("../i18n/es.toml"),
        Language::Ar => include_str!("../i18n/ar.toml"),
    }
}

#[derive(Deserialize)]
#[serde(transparent)]
struct Table(BTreeMap<String, BTreeMap<String, String>>);

/// Parses the embedded table of a language. [`Translations::get`] uses this once per
/// language; call it directly to see the parse error of a broken table.
pub fn parse_table(language: Language) -> Result<Translations, FormError> {
    let table: Table = toml::from_str(source(language)).map_err(|error| FormError::Table {
        language,
        reason: error.to_string(),
    })?;
    if let Some(unknown) = table
        .0
        .keys()
        .find(|name| !SECTIONS.contains(&name.as_str()))
    {
        return Err(FormError::Table {
            language,
            reason: format!("unknown section [{unknown}]"),
        });
    }
    Ok(Translations {
        language,
        sections: table.0,
    })
}

impl Translations {
    /// The table of a language, parsed on first use. A table that does not parse (which
    /// the tests rule out) behaves as an empty one, so every lookup falls back.
    pub fn get(language: Language) -> &'static Translations {
        static TABLES: OnceLock<Vec<Translations>> = OnceLock::new();
        let tables = TABLES.get_or_init(|| {
            Language::ALL
                .iter()
                .map(|&language| {
                    parse_table(language).unwrap_or_else(|_| Translations {
                        language,
                        sections: BTreeMap::new(),
                    })
                })
                .collect()
        });
        let index = Language::ALL
            .iter()
            .position(|&candidate| candidate == language)
            .unwrap_or(0);
        &tables[index]
    }

    /// The language of this table.
    pub fn language(&self) -> Language {
        self.language
    }

    /// The entry in this table, if present.
    pub fn lookup(&self, section: &str, key: &str) -> Option<&str> {
        self.sections
            .get(section)
            .and_then(|entries| entries.get(key))
            .map(String::as_str)
    }

    /// The keys of one section, sorted.
    pub fn keys(&self, section: &str) -> Vec<&str> {
        self.sections
            .get(section)
            .map(|entries| entries.keys().map(String::as_str).collect())
            .unwrap_or_default()
    }

    fn entry<'a>(&'a self, section: &str, key: &'a str) -> &'a str {
        if let Some(text) = self.lookup(section, key) {
            return text;
        }
        if self.language != Language::En
            && let Some(text) = Translations::get(Language::En).lookup(section, key)
        {
            return text;
        }
        key
    }

    /// A label or sentence of the form, by key (section `text`).
    pub fn text<'a>(&'a self, key: &'a str) -> &'a str {
        self.entry("text", key)
    }

    /// The name of a measure.
    pub fn measure(&self, measure: MeasureKind) -> &str {
        self.lookup("measure", measure.code())
            .unwrap_or(measure.label())
    }

    /// The name of an offence category.
    pub fn offence(&self, category: OffenceCategory) -> &str {
        self.lookup("offence", category.code())
            .unwrap_or(category.label())
    }

    /// The name of a person's role.
    pub fn role(&self, role: PersonRole) -> &str {
        self.lookup("role", role.code()).unwrap_or(role.label())
    }

    /// The name of a vulnerability.
    pub fn vulnerability(&self, vulnerability: Vulnerability) -> &str {
        self.lookup("vulnerability", vulnerability.code())
            .unwrap_or(vulnerability.label())
    }

    /// The name of a confidentiality level.
    pub fn confidentiality(&self, confidentiality: Confidentiality) -> &str {
        self.lookup("confidentiality", confidentiality.code())
            .unwrap_or(confidentiality.label())
    }

    /// The title of a catalog instrument, falling back to the given (English) title.
    pub fn instrument<'a>(&'a self, instrument_id: &str, fallback: &'a str) -> &'a str {
        self.lookup("instrument", instrument_id).unwrap_or(fallback)
    }

    /// A `YYYY-MM-DD` date written out with the month's name, e.g. "23 novembre 2026";
    /// anything else is returned as it is.
    pub fn date(&self, iso_date: &str) -> String {
        let mut parts = iso_date.splitn(3, '-');
        let (Some(year), Some(month), Some(day)) = (parts.next(), parts.next(), parts.next())
        else {
            return iso_date.to_string();
        };
        let (Ok(month), Ok(day)) = (month.parse::<u8>(), day.parse::<u8>()) else {
            return iso_date.to_string();
        };
        let Some(month_name) = self.lookup("month", &month.to_string()) else {
            return iso_date.to_string();
        };
        self.text("date_format")
            .replace("{day}", &day.to_string())
            .replace("{month}", month_name)
            .replace("{year}", year)
    }
}
