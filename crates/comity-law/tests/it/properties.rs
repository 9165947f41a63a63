//! Property tests: on any request and date the engine neither panics nor varies.

use comity_domain::{
    MeasureKind, MeasureSought, Offence, OffenceCategory, PersonConcerned, PersonRole, Urgency,
    Vulnerability,
};
use comity_law::{Catalog, assess};
use proptest::prelude::*;

use crate::base_request;
use crate::sentences::sentence_problems;

const STATES: &[&str] = &[
    "ES", "FR", "DE", "DK", "IE", "PL", "LV", "NL", "GB", "MA", "JP", "BR", "CA", "MX", "AU", "ID",
    "US", "SY", "NG", "AL",
];

fn offence() -> impl Strategy<Value = Offence> {
    (
        0..OffenceCategory::ALL.len(),
        proptest::option::of(0u32..600),
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        "[a-z ]{0,8}",
    )
        .prop_map(
            |(category, months, political, fiscal, death, provision)| Offence {
                national_provision: provision,
                category: OffenceCategory::ALL[category],
                maximum_penalty_months: months,
                political,
                fiscal,
                death_penalty_possible: death,
            },
        )
}

fn person() -> impl Strategy<Value = PersonConcerned> {
    (
        0..PersonRole::ALL.len(),
        proptest::collection::vec(0..STATES.len(), 0..3),
        proptest::collection::vec(0..Vulnerability::ALL.len(), 0..3),
        any::<bool>(),
    )
        .prop_map(
            |(role, nationalities, vulnerabilities, located)| PersonConcerned {
                full_name: "Someone".into(),
                date_of_birth: None,
                nationalities: nationalities
                    .into_iter()
                    .map(|index| STATES[index].parse().expect("country"))
                    .collect(),
                location: located.then(|| "somewhere".to_string()),
                role: PersonRole::ALL[role],
                vulnerabilities: vulnerabilities
                    .into_iter()
                    .map(|index| Vulnerability::ALL[index])
                    .collect(),
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn assess_never_panics_and_is_deterministic(
        from in 0..STATES.len(),
        to in 0..STATES.len(),
        measures in proptest::collection::vec((0..MeasureKind::ALL.len(), any::<bool>()), 0..5),
        offences in proptest::collection::vec(offence(), 0..3),
        persons in proptest::collection::vec(person(), 0..3),
        urgent in any::<bool>(),
        assurances in any::<bool>(),
        blanks in any::<[bool; 4]>(),
        basis in proptest::collection::vec(prop_oneof![Just("eio"), Just("untoc"), Just("bogus")], 0..2),
        year in 1990i32..2035,
        day in 1u32..28,
    ) {
        let catalog = Catalog::embedded().expect("catalog");
        let mut request = base_request(STATES[from], STATES[to]);
        request.measures = measures
            .into_iter()
            .map(|(index, described)| MeasureSought {
                kind: MeasureKind::ALL[index],
                description: if described { "details".into() } else { String::new() },
            })
            .collect();
        request.offences = offences;
        request.persons = persons;
        if urgent {
            request.urgency = Urgency::Urgent { reason: "now".into() };
        }
        request.assurances_given = assurances;
        if blanks[0] { request.subject_matter.clear(); }
        if blanks[1] { request.summary_of_facts.clear(); }
        if blanks[2] { request.purpose.clear(); }
        if blanks[3] { request.conducting_authority.clear(); }
        request.legal_basis = basis.into_iter().map(String::from).collect();
        let date = crate::date(&format!("{year:04}-{:02}-{day:02}", (day % 12) + 1));
        let first = assess(&catalog, &request, date);
        let second = assess(&catalog, &request, date);
        prop_assert_eq!(&first, &second);
        for finding in &first.warnings {
            prop_assert!(!finding.citation.instrument_id.is_empty());
            prop_assert!(!finding.citation.article.is_empty());
            prop_assert!(!finding.explanation.is_empty());
        }
        let problems = sentence_problems(&first);
        prop_assert!(problems.is_empty(), "{}", problems.join("\n"));
        prop_assert_eq!(first.prevailing.is_none(), first.fallback.is_some());
        prop_assert_eq!(first.dual_criminality.len() <= first.measure_bases.len(), true);
    }
}

/// The kinds of warnings that state a conclusion about the law between the two states
/// (rather than a protective rule owed to a person, which may bind one side only: asylum
/// confidentiality, non-refoulement, victims, minors, migrants, the death penalty).
fn concludes_on_the_law_between_the_states(kind: comity_law::FindingKind) -> bool {
    use comity_law::FindingKind::*;
    !matches!(
        kind,
        AsylumDisclosure
            | NonRefoulement
            | VulnerablePersonProsecuted
            | PersonProtection
            | DeathPenaltyWithoutAssurances
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every conclusion (the prevailing instrument, the basis of each measure, channels,
    /// dual criminality, grounds for refusal, time limits, the conditions of each measure,
    /// consent and restrictions on use, the content checklist) cites an instrument that is
    /// in force and binds both states on the date, or the reciprocity route; the checklist
    /// may cite the instrument whose list of contents is the base instrument's baseline.
    #[test]
    fn every_conclusion_cites_an_instrument_binding_both_states_on_the_date(
        from in 0..STATES.len(),
        to in 0..STATES.len(),
        measures in proptest::collection::vec(0..MeasureKind::ALL.len(), 1..4),
        persons in proptest::collection::vec(person(), 0..3),
        urgent in any::<bool>(),
        year in 1995i32..2032,
        month in 1u32..13,
        day in 1u32..29,
    ) {
        let catalog = Catalog::embedded().expect("catalog");
        let mut request = base_request(STATES[from], STATES[to]);
        request.measures = measures
            .into_iter()
            .map(|index| MeasureSought {
                kind: MeasureKind::ALL[index],
                description: "details".into(),
            })
            .collect();
        request.persons = persons;
        if urgent {
            request.urgency = Urgency::Urgent { reason: "now".into() };
        }
        let date = crate::date(&format!("{year:04}-{month:02}-{day:02}"));
        let assessment = assess(&catalog, &request, date);
        let fallback = catalog.fallback().id.clone();
        let binds = |id: &str| {
            id == fallback
                || catalog.instrument(id).is_some_and(|instrument| {
                    instrument.in_force_on(date)
                        && instrument
                            .parties
                            .binds_pair(request.requesting_country, request.requested_country, date)
                            .is_some()
                })
        };
        let base = assessment.prevailing_id().unwrap_or(fallback.as_str()).to_string();
        let baseline = catalog
            .instrument(&base)
            .and_then(|instrument| instrument.content_from.clone());
        let mut cited: Vec<(&str, String)> = Vec::new();
        if let Some(prevailing) = &assessment.prevailing {
            cited.push(("prevailing", prevailing.citation.instrument_id.clone()));
        }
        for basis in &assessment.measure_bases {
            if let Some(id) = &basis.instrument_id {
                cited.push(("measure basis", id.clone()));
            }
        }
        cited.extend(assessment.channels.iter().map(|c| ("channel", c.citation.instrument_id.clone())));
        cited.extend(assessment.dual_criminality.iter().map(|d| ("dual criminality", d.citation.instrument_id.clone())));
        cited.extend(assessment.refusal_grounds.iter().map(|g| ("refusal ground", g.citation.instrument_id.clone())));
        cited.extend(assessment.deadlines.iter().map(|d| ("deadline", d.citation.instrument_id.clone())));
        cited.extend(
            assessment
                .warnings
                .iter()
                .filter(|finding| concludes_on_the_law_between_the_states(finding.kind))
                .map(|finding| ("warning", finding.citation.instrument_id.clone())),
        );
        for (what, id) in &cited {
            prop_assert!(binds(id), "{} cites {} which does not bind {} and {} on {}", what, id,
                request.requesting_country, request.requested_country, date);
        }
        for check in &assessment.checklist {
            let id = check.citation.instrument_id.as_str();
            prop_assert!(binds(id) || baseline.as_deref() == Some(id),
                "checklist cites {} on {}", id, date);
        }
    }
}
