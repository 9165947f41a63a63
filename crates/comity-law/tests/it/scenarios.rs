//! The scenario table: each scenario in `scenarios.toml` names the article that decides
//! it and what the engine must conclude; `check` compares and reports every difference.

use std::collections::BTreeMap;

use comity_domain::{
    MeasureKind, MeasureSought, Offence, OffenceCategory, PersonConcerned, PersonRole, Urgency,
};
use comity_law::{Assessment, Catalog, ChannelUse, LanguageBasis, assess};
use serde::Deserialize;

use crate::sentences::sentence_problems;
use crate::{base_request, date, vulnerability};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Table {
    scenario: Vec<Scenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    decided_by: String,
    date: String,
    from: String,
    to: String,
    #[serde(default)]
    measures: Vec<String>,
    offences: Option<Vec<RawOffence>>,
    persons: Option<Vec<RawPerson>>,
    #[serde(default)]
    urgent: bool,
    #[serde(default)]
    assurances: bool,
    #[serde(default)]
    legal_basis: Vec<String>,
    #[serde(default)]
    blank: Vec<String>,
    // Expectations.
    prevailing: Option<String>,
    prevailing_citation: Option<String>,
    #[serde(default)]
    applicable: Vec<String>,
    #[serde(default)]
    not_applicable: Vec<String>,
    primary_channel: Option<String>,
    #[serde(default)]
    channels: Vec<String>,
    #[serde(default)]
    dual_criminality: BTreeMap<String, String>,
    #[serde(default)]
    measure_basis: BTreeMap<String, String>,
    #[serde(default)]
    warnings: Vec<String>,
    #[serde(default)]
    no_warnings: Vec<String>,
    #[serde(default)]
    warning_citations: Vec<String>,
    #[serde(default)]
    missing: Vec<String>,
    #[serde(default)]
    unsatisfied: Vec<String>,
    #[serde(default)]
    grounds_raised: Vec<String>,
    #[serde(default)]
    grounds_removed: Vec<String>,
    #[serde(default)]
    deadlines: BTreeMap<String, u32>,
    #[serde(default)]
    deadline_hours: BTreeMap<String, String>,
    #[serde(default)]
    grounds_listed: Vec<String>,
    #[serde(default)]
    no_warning_citations: Vec<String>,
    policy: Option<[i64; 3]>,
    languages: Option<Vec<String>>,
    language_basis: Option<String>,
    blocked: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOffence {
    category: String,
    months: Option<u32>,
    #[serde(default)]
    political: bool,
    #[serde(default)]
    fiscal: bool,
    #[serde(default)]
    death: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPerson {
    role: String,
    #[serde(default)]
    nationalities: Vec<String>,
    #[serde(default)]
    vulnerabilities: Vec<String>,
}

fn build(scenario: &Scenario) -> comity_domain::RequestContent {
    let mut request = base_request(&scenario.from, &scenario.to);
    if !scenario.measures.is_empty() {
        request.measures = scenario
            .measures
            .iter()
            .map(|code| MeasureSought {
                kind: code.parse::<MeasureKind>().expect("measure"),
                description: format!("Details of {code}"),
            })
            .collect();
    }
    if let Some(offences) = &scenario.offences {
        request.offences = offences
            .iter()
            .map(|offence| Offence {
                national_provision: format!("provision on {}", offence.category),
                category: offence
                    .category
                    .parse::<OffenceCategory>()
                    .expect("category"),
                maximum_penalty_months: offence.months,
                political: offence.political,
                fiscal: offence.fiscal,
                death_penalty_possible: offence.death,
            })
            .collect();
    }
    if let Some(persons) = &scenario.persons {
        request.persons = persons
            .iter()
            .enumerate()
            .map(|(index, person)| PersonConcerned {
                full_name: format!("Person {index}"),
                date_of_birth: None,
                nationalities: person
                    .nationalities
                    .iter()
                    .map(|code| code.parse().expect("country"))
                    .collect(),
                location: Some("known address".into()),
                role: person.role.parse::<PersonRole>().expect("role"),
                vulnerabilities: person
                    .vulnerabilities
                    .iter()
                    .map(|code| vulnerability(code))
                    .collect(),
            })
            .collect();
    }
    if scenario.urgent {
        request.urgency = Urgency::Urgent {
            reason: "data about to be deleted".into(),
        };
    }
    request.assurances_given = scenario.assurances;
    request.legal_basis = scenario.legal_basis.clone();
    for field in &scenario.blank {
        match field.as_str() {
            "subject_matter" => request.subject_matter.clear(),
            "conducting_authority" => request.conducting_authority.clear(),
            "summary_of_facts" => request.summary_of_facts.clear(),
            "purpose" => request.purpose.clear(),
            "offences" => request.offences.clear(),
            "measure_descriptions" => {
                for measure in &mut request.measures {
                    measure.description.clear();
                }
            }
            "person_nationality" => {
                for person in &mut request.persons {
                    person.nationalities.clear();
                }
            }
            other => panic!("unknown blank field {other}"),
        }
    }
    request
}

fn check(scenario: &Scenario, assessment: &Assessment) -> Vec<String> {
    let mut errors = Vec::new();
    let mut expect = |ok: bool, message: String| {
        if !ok {
            errors.push(message);
        }
    };
    let prevailing = assessment.prevailing_id().unwrap_or("none");
    if let Some(expected) = &scenario.prevailing {
        expect(
            prevailing == expected,
            format!("prevailing: expected {expected}, got {prevailing}"),
        );
    }
    if let Some(expected) = &scenario.prevailing_citation {
        let got = assessment
            .prevailing
            .as_ref()
            .map(|p| format!("{}:{}", p.citation.instrument_id, p.citation.article))
            .unwrap_or_default();
        expect(
            got == *expected,
            format!("prevailing citation: expected {expected}, got {got}"),
        );
    }
    let applicable: Vec<&str> = assessment
        .applicable
        .iter()
        .map(|a| a.instrument_id.as_str())
        .collect();
    for id in &scenario.applicable {
        expect(
            applicable.contains(&id.as_str()),
            format!("applicable: {id} missing from {applicable:?}"),
        );
    }
    for id in &scenario.not_applicable {
        expect(
            !applicable.contains(&id.as_str()),
            format!("not applicable: {id} found in {applicable:?}"),
        );
    }
    if let Some(expected) = &scenario.primary_channel {
        let got = assessment
            .channels
            .iter()
            .find(|channel| channel.use_ == ChannelUse::Primary)
            .map(|channel| channel.kind.code())
            .unwrap_or("none");
        expect(
            got == expected,
            format!("primary channel: expected {expected}, got {got}"),
        );
    }
    let channels: Vec<String> = assessment
        .channels
        .iter()
        .map(|channel| format!("{}:{}", channel.kind.code(), channel.citation.article))
        .collect();
    for expected in &scenario.channels {
        expect(
            channels
                .iter()
                .any(|got| got == expected || got.starts_with(&format!("{expected}:"))),
            format!("channel {expected} missing from {channels:?}"),
        );
    }
    for (measure, expected) in &scenario.dual_criminality {
        let got: Vec<String> = assessment
            .dual_criminality
            .iter()
            .filter(|finding| finding.measure.code() == measure)
            .map(|finding| format!("{}:{}", finding.outcome.code(), finding.citation.article))
            .collect();
        expect(
            got.iter()
                .any(|got| got == expected || got.starts_with(&format!("{expected}:"))),
            format!("dual criminality for {measure}: expected {expected}, got {got:?}"),
        );
    }
    for (measure, expected) in &scenario.measure_basis {
        let got = assessment
            .measure_bases
            .iter()
            .find(|basis| basis.measure.code() == measure)
            .and_then(|basis| basis.instrument_id.clone())
            .unwrap_or_else(|| "none".into());
        expect(
            got == *expected,
            format!("basis of {measure}: expected {expected}, got {got}"),
        );
    }
    let warnings: Vec<String> = assessment
        .warnings
        .iter()
        .map(|finding| format!("{}/{}", finding.kind.code(), finding.severity.code()))
        .collect();
    for expected in &scenario.warnings {
        expect(
            warnings
                .iter()
                .any(|got| got == expected || got.starts_with(&format!("{expected}/"))),
            format!("warning {expected} missing from {warnings:?}"),
        );
    }
    for unexpected in &scenario.no_warnings {
        expect(
            !warnings
                .iter()
                .any(|got| got.starts_with(&format!("{unexpected}/"))),
            format!("unexpected warning {unexpected} in {warnings:?}"),
        );
    }
    let citations: Vec<String> = assessment
        .warnings
        .iter()
        .map(|finding| {
            format!(
                "{}:{}",
                finding.citation.instrument_id, finding.citation.article
            )
        })
        .collect();
    for expected in &scenario.warning_citations {
        expect(
            citations.contains(expected),
            format!("warning citation {expected} missing from {citations:?}"),
        );
    }
    let missing: Vec<&str> = assessment
        .missing_mandatory_content()
        .iter()
        .map(|c| c.item.code())
        .collect();
    let mut expected_missing: Vec<&str> = scenario.missing.iter().map(String::as_str).collect();
    expected_missing.sort_unstable();
    let mut sorted_missing = missing.clone();
    sorted_missing.sort_unstable();
    sorted_missing.dedup();
    expect(
        sorted_missing == expected_missing,
        format!("missing content: expected {expected_missing:?}, got {missing:?}"),
    );
    let unsatisfied: Vec<&str> = assessment
        .checklist
        .iter()
        .filter(|check| !check.satisfied)
        .map(|check| check.item.code())
        .collect();
    for expected in &scenario.unsatisfied {
        expect(
            unsatisfied.contains(&expected.as_str()),
            format!("unsatisfied {expected} missing from {unsatisfied:?}"),
        );
    }
    for code in &scenario.grounds_raised {
        expect(
            assessment
                .refusal_grounds
                .iter()
                .any(|g| g.code == *code && g.raised_by_facts),
            format!("ground {code} not raised"),
        );
    }
    for code in &scenario.grounds_removed {
        expect(
            assessment
                .refusal_grounds
                .iter()
                .any(|g| g.code == *code && g.removed_by.is_some() && !g.raised_by_facts),
            format!("ground {code} not removed"),
        );
    }
    for (kind, days) in &scenario.deadlines {
        let got = assessment
            .deadlines
            .iter()
            .find(|d| d.kind.code() == kind)
            .and_then(|d| d.days);
        expect(
            got == Some(*days)
                || (*days == 0 && assessment.deadlines.iter().any(|d| d.kind.code() == kind)),
            format!("deadline {kind}: expected {days}, got {got:?}"),
        );
    }
    for (kind, expected) in &scenario.deadline_hours {
        let got: Vec<String> = assessment
            .deadlines
            .iter()
            .filter(|d| d.kind.code() == kind)
            .filter_map(|d| {
                d.hours
                    .map(|hours| format!("{hours}:{}", d.citation.article))
            })
            .collect();
        expect(
            got.contains(expected),
            format!("deadline {kind} in hours: expected {expected}, got {got:?}"),
        );
    }
    for code in &scenario.grounds_listed {
        let listed: Vec<String> = assessment
            .refusal_grounds
            .iter()
            .map(|g| {
                format!(
                    "{}@{}:{}",
                    g.code, g.citation.instrument_id, g.citation.article
                )
            })
            .collect();
        expect(
            listed
                .iter()
                .any(|got| got == code || got.starts_with(&format!("{code}@"))),
            format!("ground {code} not listed in {listed:?}"),
        );
    }
    for unexpected in &scenario.no_warning_citations {
        expect(
            !citations.contains(unexpected),
            format!("unexpected warning citation {unexpected} in {citations:?}"),
        );
    }
    if let Some([ack, decision, execution]) = scenario.policy {
        let policy = assessment.deadline_policy();
        expect(
            (
                policy.acknowledgement_days,
                policy.decision_days,
                policy.execution_days,
            ) == (ack, decision, execution),
            format!("policy: expected {ack}/{decision}/{execution}, got {policy:?}"),
        );
    }
    if let Some(expected) = &scenario.languages {
        expect(
            assessment.languages.languages == *expected,
            format!(
                "languages: expected {expected:?}, got {:?}",
                assessment.languages.languages
            ),
        );
    }
    if let Some(expected) = &scenario.language_basis {
        let got = match assessment.languages.basis {
            LanguageBasis::Declared(_) => "declared",
            LanguageBasis::OfficialLanguageNotVerified => "official_language_not_verified",
            LanguageBasis::Unknown => "unknown",
        };
        expect(
            got == expected,
            format!("language basis: expected {expected}, got {got}"),
        );
    }
    if let Some(expected) = scenario.blocked {
        expect(
            assessment.is_blocked() == expected,
            format!("blocked: expected {expected}"),
        );
    }
    errors
}

#[test]
fn scenario_table() {
    let catalog = Catalog::embedded().expect("embedded catalog");
    let table: Table = toml::from_str(include_str!("scenarios.toml")).expect("scenarios.toml");
    assert!(table.scenario.len() >= 40, "at least 40 scenarios");
    let mut failures = Vec::new();
    for scenario in &table.scenario {
        assert!(
            !scenario.decided_by.trim().is_empty(),
            "{}: decided_by",
            scenario.name
        );
        let request = build(scenario);
        let assessment = assess(&catalog, &request, date(&scenario.date));
        let errors = check(scenario, &assessment)
            .into_iter()
            .chain(sentence_problems(&assessment));
        for error in errors {
            failures.push(format!(
                "{} ({}): {error}",
                scenario.name, scenario.decided_by
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
