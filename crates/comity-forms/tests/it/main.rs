//! Integration tests of the standard request form: the letter rendered in each language
//! from a real assessment (checked piece by piece, and whole against snapshots),
//! translation-table completeness, and the choice of language.

mod html;
mod language;
mod letter_snapshots;
mod pdf;
mod tables;

use comity_domain::{
    AttachmentRef, AuthorityId, Confidentiality, CountryCode, Date, MeasureKind, MeasureSought,
    Offence, OffenceCategory, PersonConcerned, PersonRole, RequestContent, Urgency, Vulnerability,
};
use comity_forms::{Language, LetterInput, render_letter_html};
use comity_law::{Assessment, Catalog};

/// Free text used in the sample request, which must come out unchanged and marked.
pub const SUBJECT: &str =
    "Investigación penal por tráfico ilícito de migrantes (Diligencias Previas 123/2026)";
pub const FACTS: &str =
    "Entre enero y marzo de 2026 una red organizó travesías en embarcaciones neumáticas.";
pub const PURPOSE: &str = "Identificar a los organizadores y acreditar los pagos";
pub const NAME: &str = "Karim EL AMRANI";
/// Free text with HTML special characters, which must be escaped.
pub const HOSTILE: &str = "Copies of <script>alert('x')</script> & \"records\"";

pub fn date(text: &str) -> Date {
    Date::parse(text).expect("valid date")
}

/// A complete request from `from` to `to`.
pub fn sample_request(from: &str, to: &str) -> RequestContent {
    let from_country: CountryCode = from.parse().expect("country");
    let to_country: CountryCode = to.parse().expect("country");
    RequestContent {
        requesting_authority: format!("{}-fiscalia", from.to_lowercase())
            .parse::<AuthorityId>()
            .expect("authority id"),
        requesting_country: from_country,
        requested_authority: format!("{}-central", to.to_lowercase())
            .parse::<AuthorityId>()
            .expect("authority id"),
        requested_country: to_country,
        legal_basis: Vec::new(),
        subject_matter: SUBJECT.into(),
        conducting_authority: "Juzgado de Instrucción n.º 3 de Algeciras".into(),
        offences: vec![Offence {
            national_provision: "art. 318 bis Código Penal".into(),
            category: OffenceCategory::FacilitationOfUnauthorisedEntry,
            maximum_penalty_months: Some(96),
            political: false,
            fiscal: false,
            death_penalty_possible: false,
        }],
        summary_of_facts: FACTS.into(),
        measures: vec![
            MeasureSought {
                kind: MeasureKind::BankRecords,
                description: HOSTILE.into(),
            },
            MeasureSought {
                kind: MeasureKind::TakingStatements,
                description: "Declaración del testigo sobre los pagos".into(),
            },
        ],
        persons: vec![PersonConcerned {
            full_name: NAME.into(),
            date_of_birth: Some("1990-04-17".into()),
            nationalities: vec![to_country],
            location: Some("Tánger".into()),
            role: PersonRole::Suspect,
            vulnerabilities: vec![Vulnerability::Minor],
        }],
        purpose: PURPOSE.into(),
        urgency: Urgency::Urgent {
            reason: "Persona detenida".into(),
        },
        confidentiality: Confidentiality::Confidential,
        requested_deadline: Some(date("2026-11-23")),
        assurances_given: false,
        attachments: vec![AttachmentRef {
            file_name: "auto_judicial.pdf".into(),
            media_type: "application/pdf".into(),
            size_bytes: 48_213,
            sha256_hex: "ab".repeat(32),
        }],
    }
}

pub fn assessment(request: &RequestContent) -> Assessment {
    let catalog = Catalog::embedded().expect("embedded catalog");
    comity_law::assess(&catalog, request, date("2026-06-01"))
}

/// The HTML letter for the sample request from `from` to `to`, in `language`, with a
/// fixed case reference, request id and date.
pub fn render(from: &str, to: &str, language: Language) -> String {
    let request = sample_request(from, to);
    let assessment = assessment(&request);
    let input = LetterInput {
        content: &request,
        assessment: &assessment,
        case_reference: "DP 123/2026",
        request_id: "0190a4c2-7b1e-7000-8000-000000000001",
        date: date("2026-06-01"),
        requesting_authority_name: Some("Central authority <of> the requesting state"),
        requested_authority_name: None,
        contact_officer: Some("Ana García (central authority officer)"),
    };
    render_letter_html(&input, language)
}

/// Renders the sample request from `from` to `to` in `language` and checks that every
/// expected string is in the HTML, and none of the forbidden ones.
pub fn check(
    from: &str,
    to: &str,
    language: Language,
    expected: &[&str],
    forbidden: &[&str],
) -> String {
    let html = render(from, to, language);
    for needle in expected {
        assert!(
            html.contains(needle),
            "{language}: `{needle}` missing from:\n{html}"
        );
    }
    for needle in forbidden {
        assert!(
            !html.contains(needle),
            "{language}: `{needle}` present in:\n{html}"
        );
    }
    html
}
