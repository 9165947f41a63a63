//! Integration tests of the legal-basis engine: a data-driven scenario table
//! (`scenarios.toml`), catalog-loading errors, and property tests on random requests.

mod catalog_errors;
mod generated;
mod parties;
mod properties;
mod scenarios;
mod sentences;

use comity_domain::{
    AuthorityId, Confidentiality, CountryCode, Date, MeasureKind, MeasureSought, Offence,
    OffenceCategory, PersonConcerned, PersonRole, RequestContent, Urgency, Vulnerability,
};

/// A complete, well-formed request from `from` to `to`, which tests then alter.
pub fn base_request(from: &str, to: &str) -> RequestContent {
    let from_country: CountryCode = from.parse().expect("country");
    let to_country: CountryCode = to.parse().expect("country");
    RequestContent {
        requesting_authority: format!("{}-requesting", from.to_lowercase())
            .parse::<AuthorityId>()
            .expect("authority"),
        requesting_country: from_country,
        requested_authority: format!("{}-requested", to.to_lowercase())
            .parse::<AuthorityId>()
            .expect("authority"),
        requested_country: to_country,
        legal_basis: Vec::new(),
        subject_matter: "Criminal investigation into the offences described".into(),
        conducting_authority: "Investigating judge no. 3, who directs the investigation".into(),
        offences: vec![Offence {
            national_provision: "art. 368 Penal Code".into(),
            category: OffenceCategory::DrugTrafficking,
            maximum_penalty_months: Some(120),
            political: false,
            fiscal: false,
            death_penalty_possible: false,
        }],
        summary_of_facts: "Between January and March the suspects shipped consignments.".into(),
        measures: vec![MeasureSought {
            kind: MeasureKind::ProductionOfRecords,
            description: "Copies of the shipping records of company X for 2025".into(),
        }],
        persons: vec![PersonConcerned {
            full_name: "Person A".into(),
            date_of_birth: Some("1990".into()),
            nationalities: vec![from_country],
            location: Some("Capital city".into()),
            role: PersonRole::Suspect,
            vulnerabilities: Vec::new(),
        }],
        purpose: "To prove the shipments and identify the organisers".into(),
        urgency: Urgency::Normal,
        confidentiality: Confidentiality::Standard,
        requested_deadline: None,
        assurances_given: false,
        attachments: Vec::new(),
    }
}

pub fn date(text: &str) -> Date {
    Date::parse(text).expect("date")
}

pub fn vulnerability(code: &str) -> Vulnerability {
    code.parse().expect("vulnerability")
}
