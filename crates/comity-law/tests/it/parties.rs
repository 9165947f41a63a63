//! Party data of the embedded catalog: every list has its source, every party its date of
//! entry into force (or the list says why not), and a handful of sourced facts hold through
//! the public engine API.

use comity_domain::{CountryCode, MeasureKind, MeasureSought, PersonRole};
use comity_law::{Catalog, InstrumentRole, assess};

use crate::{base_request, date, vulnerability};

fn country(code: &str) -> CountryCode {
    code.parse().expect("country")
}

#[test]
fn every_party_list_has_a_source_and_every_party_a_date() {
    let catalog = Catalog::embedded().expect("embedded");
    let mut problems = Vec::new();
    for instrument in catalog.instruments() {
        let parties = &instrument.parties;
        if parties.source.trim().is_empty() {
            problems.push(format!("{}: the party list has no source", instrument.id));
        }
        let needs_parties = matches!(
            instrument.role,
            InstrumentRole::LegalBasis | InstrumentRole::Supplement
        );
        if needs_parties && !parties.all_states && parties.entries.is_empty() {
            problems.push(format!("{}: no party recorded", instrument.id));
        }
        for party in &parties.entries {
            match party.from {
                None if parties.undated.as_deref().is_none_or(str::is_empty) => {
                    problems.push(format!(
                        "{}: {} has no date of entry into force",
                        instrument.id, party.state
                    ));
                }
                None => {}
                Some(from) => {
                    if let Some(in_force) = instrument.in_force
                        && from < in_force
                    {
                        problems.push(format!(
                            "{}: {} bound from {from}, before the instrument's own {in_force}",
                            instrument.id, party.state
                        ));
                    }
                    if let Some(until) = party.until
                        && until < from
                    {
                        problems.push(format!(
                            "{}: {} bound until {until}, before {from}",
                            instrument.id, party.state
                        ));
                    }
                }
            }
        }
        for state in &parties.one_side {
            if !parties.entries.iter().any(|party| party.state == *state) {
                problems.push(format!(
                    "{}: {state} is a required side but not a party",
                    instrument.id
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_party_is_bound_from_its_date_and_not_the_day_before() {
    let catalog = Catalog::embedded().expect("embedded");
    for instrument in catalog.instruments() {
        for party in &instrument.parties.entries {
            let Some(from) = party.from else { continue };
            assert!(
                instrument.parties.binds(party.state, from).is_some(),
                "{} binds {} on {from}",
                instrument.id,
                party.state
            );
            let day_before = from.start().plus_days(-1).date().expect("a date");
            assert!(
                instrument.parties.binds(party.state, day_before).is_none(),
                "{} does not bind {} on {day_before}",
                instrument.id,
                party.state
            );
        }
    }
}

/// UNTOC binds the United States from 3 December 2005 (30 days after its deposit of
/// 3 November 2005) and France from 29 September 2003: a US request to France for an
/// offence punishable by ten years goes under UNTOC afterwards, on reciprocity before.
#[test]
fn a_us_request_to_france_is_under_untoc_once_the_united_states_is_bound() {
    let catalog = Catalog::embedded().expect("embedded");
    let request = base_request("US", "FR");
    let after = assess(&catalog, &request, date("2025-03-01"));
    let prevailing = after.prevailing.as_ref().map(|p| p.instrument_id.as_str());
    assert_eq!(prevailing, Some("untoc"), "{:?}", after.applicable);
    assert!(after.fallback.is_none());
    let before = assess(&catalog, &request, date("2005-12-02"));
    assert!(
        before
            .applicable
            .iter()
            .all(|instrument| instrument.instrument_id != "untoc"),
        "UNTOC does not bind the United States on 2 December 2005: {:?}",
        before.applicable
    );
    let on_the_day = assess(&catalog, &request, date("2005-12-03"));
    assert!(
        on_the_day
            .applicable
            .iter()
            .any(|instrument| instrument.instrument_id == "untoc"),
        "{:?}",
        on_the_day.applicable
    );
}

/// The Budapest Convention binds the United States from 1 January 2007 and the
/// Netherlands from 1 March 2007: access to stored data between them is under it only
/// from March 2007.
#[test]
fn budapest_binds_the_united_states_and_the_netherlands_from_march_2007() {
    let catalog = Catalog::embedded().expect("embedded");
    let mut request = base_request("US", "NL");
    request.measures = vec![MeasureSought {
        kind: MeasureKind::AccessToStoredData,
        description: "The mailbox of account x@example.org".into(),
    }];
    let has_budapest = |on: &str| {
        assess(&catalog, &request, date(on))
            .applicable
            .iter()
            .any(|instrument| instrument.instrument_id == "budapest")
    };
    assert!(has_budapest("2025-03-01"));
    assert!(has_budapest("2007-03-01"));
    assert!(!has_budapest("2007-02-28"));
}

/// Ireland is bound by Directive 2005/85/EC (art. 22) until Regulation (EU) 2024/1348
/// applies to it on 12 June 2026 (art. 7(2)): an Irish request naming an asylum seeker is
/// blocked under the one, then the other.
#[test]
fn an_irish_request_naming_an_asylum_seeker_is_blocked_before_and_after_june_2026() {
    let catalog = Catalog::embedded().expect("embedded");
    let mut request = base_request("IE", "MA");
    request.persons[0].role = PersonRole::Witness;
    request.persons[0].nationalities = vec![country("MA")];
    request.persons[0].vulnerabilities = vec![vulnerability("asylum_seeker_or_refugee")];
    let cited = |on: &str| {
        assess(&catalog, &request, date(on))
            .warnings
            .iter()
            .map(|warning| {
                format!(
                    "{}:{}",
                    warning.citation.instrument_id, warning.citation.article
                )
            })
            .collect::<Vec<_>>()
    };
    let before = cited("2025-03-01");
    assert!(
        before.contains(&"eu_asylum_procedures_directive_2005:22".to_string()),
        "{before:?}"
    );
    let after = cited("2026-06-12");
    assert!(
        after.contains(&"eu_asylum_procedure_regulation:7(2)".to_string()),
        "{after:?}"
    );
}

/// Council Decision 2010/616/EU: Ireland takes part in the EU-Japan Agreement, Denmark
/// does not.
#[test]
fn the_eu_japan_agreement_binds_ireland_but_not_denmark() {
    let catalog = Catalog::embedded().expect("embedded");
    let prevailing = |from: &str| {
        assess(&catalog, &base_request(from, "JP"), date("2025-03-01"))
            .prevailing
            .map(|p| p.instrument_id)
    };
    assert_eq!(prevailing("IE").as_deref(), Some("eu_japan_mla"));
    assert_ne!(prevailing("DK").as_deref(), Some("eu_japan_mla"));
}
