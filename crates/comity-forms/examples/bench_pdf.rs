//! Measures the PDF letter on long unbroken words: one word of N characters in the
//! summary of facts, for growing N, and a request at the node's PDF size budget (300,000
//! characters of text: the summary and 14 persons' locations and measures, all unbroken).
//! Each case is rendered 3 times; the best time is printed.
//!
//! Run: `cargo run --release -p comity-forms --example bench_pdf`

use std::time::{Duration, Instant};

use comity_domain::{
    AuthorityId, Confidentiality, Date, MeasureKind, MeasureSought, PersonConcerned, PersonRole,
    RequestContent, Urgency,
};
use comity_forms::{Language, LetterInput, render_letter_pdf};
use comity_law::{Catalog, assess};

fn request(
    summary: String,
    persons: usize,
    location: &str,
) -> Result<RequestContent, Box<dyn std::error::Error>> {
    Ok(RequestContent {
        requesting_authority: "es-fiscalia".parse::<AuthorityId>()?,
        requesting_country: "ES".parse()?,
        requested_authority: "ma-central".parse::<AuthorityId>()?,
        requested_country: "MA".parse()?,
        legal_basis: vec!["untoc".into()],
        subject_matter: "Smuggling of migrants".into(),
        conducting_authority: "Juzgado Central de Instrucción 3".into(),
        offences: Vec::new(),
        summary_of_facts: summary,
        measures: (0..persons)
            .map(|_| MeasureSought {
                kind: MeasureKind::BankRecords,
                description: location.to_string(),
            })
            .collect(),
        persons: (0..persons)
            .map(|index| PersonConcerned {
                full_name: format!("Person {index}"),
                date_of_birth: None,
                nationalities: Vec::new(),
                location: Some(location.to_string()),
                role: PersonRole::Witness,
                vulnerabilities: Vec::new(),
            })
            .collect(),
        purpose: "Evidence".into(),
        urgency: Urgency::Normal,
        confidentiality: Confidentiality::Standard,
        requested_deadline: None,
        assurances_given: false,
        attachments: Vec::new(),
    })
}

fn best_of_three(
    content: &RequestContent,
    catalog: &Catalog,
) -> Result<(Duration, usize), Box<dyn std::error::Error>> {
    let date = Date::parse("2026-11-26")?;
    let assessment = assess(catalog, content, date);
    let input = LetterInput {
        content,
        assessment: &assessment,
        case_reference: "DP 1/2026",
        request_id: "0190a4c2-7b1e-7000-8000-000000000001",
        date,
        requesting_authority_name: None,
        requested_authority_name: None,
        contact_officer: None,
    };
    let mut best = Duration::MAX;
    let mut size = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let pdf = render_letter_pdf(&input, Language::En)?;
        best = best.min(start.elapsed());
        size = pdf.len();
    }
    Ok((best, size))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let catalog = Catalog::embedded()?;
    println!("| case | text characters | PDF time (best of 3) | PDF bytes |");
    println!("|---|---|---|---|");
    for n in [2_000, 4_000, 8_000, 20_000] {
        let content = request("x".repeat(n), 0, "")?;
        let (time, size) = best_of_three(&content, &catalog)?;
        println!(
            "| one word of {n} characters | {n} | {:.3} s | {size} |",
            time.as_secs_f64()
        );
    }
    let arabic = request("م".repeat(20_000), 0, "")?;
    let (time, size) = best_of_three(&arabic, &catalog)?;
    println!(
        "| one Arabic word of 20000 characters | 20000 | {:.3} s | {size} |",
        time.as_secs_f64()
    );
    let budget = request("x".repeat(20_000), 14, &"y".repeat(10_000))?;
    let (time, size) = best_of_three(&budget, &catalog)?;
    println!(
        "| at the PDF budget: 20000 + 14 persons x (10000 location + 10000 measure), all unbroken | 300000 | {:.3} s | {size} |",
        time.as_secs_f64()
    );
    Ok(())
}
