//! Measures one assessment with the whole embedded catalog loaded: p50, p99 and max over
//! 10,000 runs of a request that exercises most rules (EIO pair, Budapest preservation,
//! vulnerable persons, an asylum seeker, a fiscal offence).
//!
//! Run: `cargo run --release -p comity-law --example bench_assess`

use std::time::Instant;

use comity_domain::{
    AuthorityId, Confidentiality, Date, MeasureKind, MeasureSought, Offence, OffenceCategory,
    PersonConcerned, PersonRole, RequestContent, Urgency, Vulnerability,
};
use comity_law::{Catalog, assess};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Catalog::embedded()?;
    let request = RequestContent {
        requesting_authority: "es-fiscalia".parse::<AuthorityId>()?,
        requesting_country: "ES".parse()?,
        requested_authority: "fr-parquet".parse::<AuthorityId>()?,
        requested_country: "FR".parse()?,
        legal_basis: vec!["eio".into()],
        subject_matter: "Investigation of an organised smuggling network".into(),
        conducting_authority: "Juzgado Central de Instrucción 1".into(),
        offences: vec![
            Offence {
                national_provision: "art. 318 bis CP".into(),
                category: OffenceCategory::FacilitationOfUnauthorisedEntry,
                maximum_penalty_months: Some(96),
                political: false,
                fiscal: false,
                death_penalty_possible: false,
            },
            Offence {
                national_provision: "art. 305 CP".into(),
                category: OffenceCategory::Fraud,
                maximum_penalty_months: Some(60),
                political: false,
                fiscal: true,
                death_penalty_possible: false,
            },
        ],
        summary_of_facts: "Boats organised from the coast between 2024 and 2025.".into(),
        measures: [
            MeasureKind::SearchAndSeizure,
            MeasureKind::ExpeditedPreservationOfData,
            MeasureKind::BankRecords,
            MeasureKind::TakingStatements,
        ]
        .into_iter()
        .map(|kind| MeasureSought {
            kind,
            description: "as described in the annex".into(),
        })
        .collect(),
        persons: vec![
            PersonConcerned {
                full_name: "A".into(),
                date_of_birth: None,
                nationalities: vec!["MA".parse()?],
                location: Some("Marseille".into()),
                role: PersonRole::Suspect,
                vulnerabilities: vec![Vulnerability::Minor],
            },
            PersonConcerned {
                full_name: "B".into(),
                date_of_birth: None,
                nationalities: vec!["FR".parse()?],
                location: None,
                role: PersonRole::Witness,
                vulnerabilities: vec![Vulnerability::AsylumSeekerOrRefugee],
            },
        ],
        purpose: "Identify the organisers".into(),
        urgency: Urgency::Urgent {
            reason: "logs are deleted after 30 days".into(),
        },
        confidentiality: Confidentiality::Confidential,
        requested_deadline: None,
        assurances_given: false,
        attachments: Vec::new(),
    };
    let today = Date::parse("2026-07-01")?;
    for _ in 0..1_000 {
        std::hint::black_box(assess(&catalog, &request, today));
    }
    let runs = 10_000;
    let mut nanos: Vec<u128> = Vec::with_capacity(runs);
    for _ in 0..runs {
        let start = Instant::now();
        std::hint::black_box(assess(&catalog, std::hint::black_box(&request), today));
        nanos.push(start.elapsed().as_nanos());
    }
    nanos.sort_unstable();
    let at = |quantile: f64| nanos[((runs as f64 * quantile) as usize).min(runs - 1)];
    println!(
        "assess over {runs} runs, {} instruments: p50 {:.1} µs, p99 {:.1} µs, max {:.1} µs",
        catalog.instruments().len(),
        at(0.50) as f64 / 1000.0,
        at(0.99) as f64 / 1000.0,
        nanos[runs - 1] as f64 / 1000.0
    );
    Ok(())
}
