//! Scenarios generated across the catalog's party data: for every pair of states an
//! instrument binds (or both protective rules bind), a request for one measure or naming
//! one person, assessed on a date, must be decided by the article the data says. The
//! expectations are derived from the party lists, not from the engine, so a wrong party
//! date, a lost measure rule or a precedence mistake fails here.

use comity_domain::{
    CountryCode, Date, MeasureKind, MeasureSought, PersonConcerned, PersonRole, Vulnerability,
};
use comity_law::{Assessment, Catalog, FindingKind, Instrument, InstrumentRole, Severity, assess};

use crate::{base_request, date};

/// The states an instrument lists, with their dates of entry into force.
fn parties(instrument: &Instrument) -> Vec<(CountryCode, Option<Date>)> {
    instrument
        .parties
        .entries
        .iter()
        .map(|party| (party.state, party.from))
        .collect()
}

fn request(
    from: CountryCode,
    to: CountryCode,
    measure: MeasureKind,
) -> comity_domain::RequestContent {
    let mut request = base_request(from.as_str(), to.as_str());
    request.measures = vec![MeasureSought {
        kind: measure,
        description: format!("Details of {}", measure.code()),
    }];
    request
}

fn cites(assessment: &Assessment, instrument: &str, article: &str) -> bool {
    assessment.warnings.iter().any(|finding| {
        finding.citation.instrument_id == instrument && finding.citation.article == article
    })
}

fn basis(assessment: &Assessment, measure: MeasureKind) -> String {
    assessment
        .measure_bases
        .iter()
        .find(|basis| basis.measure == measure)
        .and_then(|basis| basis.instrument_id.clone())
        .unwrap_or_else(|| "none".into())
}

fn day_before(date: Date) -> Date {
    date.start().plus_days(-1).date().expect("a date")
}

/// Every ordered pair of states bound by the EIO: after both apply it, a hearing of a
/// suspect by video conference is governed by EIO art. 24(1), with the consent rule of
/// art. 24(2)(a), and a temporary transfer by art. 22(1) with consent under art. 22(2)(a);
/// the day before the later of the two applies it, the EIO does not apply at all.
#[test]
fn every_eio_pair_hears_by_video_under_art_24_and_transfers_under_art_22() {
    let catalog = Catalog::embedded().expect("catalog");
    let eio = catalog.instrument("eio").expect("eio");
    let states = parties(eio);
    assert!(states.len() >= 25, "the EIO binds 25 member states");
    let on = date("2025-03-01");
    let mut cases = 0;
    let mut failures = Vec::new();
    for &(from, from_date) in &states {
        for &(to, to_date) in &states {
            if from == to {
                continue;
            }
            let mut video = request(from, to, MeasureKind::VideoConferenceHearing);
            video.persons[0].role = PersonRole::Suspect;
            let assessment = assess(&catalog, &video, on);
            if basis(&assessment, MeasureKind::VideoConferenceHearing) != "eio"
                || !cites(&assessment, "eio", "24(1)")
                || !cites(&assessment, "eio", "24(2)(a)")
            {
                failures.push(format!("{from}->{to}: video hearing not under EIO art. 24"));
            }
            let transfer = request(from, to, MeasureKind::TemporaryTransferOfPersons);
            let assessment = assess(&catalog, &transfer, on);
            if !cites(&assessment, "eio", "22(1)") || !cites(&assessment, "eio", "22(2)(a)") {
                failures.push(format!("{from}->{to}: transfer not under EIO art. 22"));
            }
            let later = from_date.max(to_date).expect("EIO parties are dated");
            let before = assess(&catalog, &video, day_before(later));
            if before.applicable.iter().any(|a| a.instrument_id == "eio")
                || cites(&before, "eio", "24(1)")
            {
                failures.push(format!("{from}->{to}: EIO applied the day before {later}"));
            }
            cases += 3;
        }
    }
    assert_none_failed(&failures, cases);
    assert!(cases >= 1500, "{cases} cases");
}

/// Every pair of UNTOC parties outside the EU and the Council of Europe that no other
/// instrument of the catalog binds: a hearing by video conference is governed by UNTOC
/// art. 18(18), the speciality rule of art. 18(19) applies, and a temporary transfer needs
/// the consent of art. 18(10)(a); the day before the later party is bound, only
/// reciprocity remains.
#[test]
fn every_untoc_pair_outside_europe_hears_by_video_under_18_18() {
    let catalog = Catalog::embedded().expect("catalog");
    let untoc = catalog.instrument("untoc").expect("untoc");
    let eio = catalog.instrument("eio").expect("eio");
    let coe = catalog.instrument("ecmacm_1959").expect("1959");
    let european = |state: CountryCode| {
        eio.parties.entries.iter().any(|party| party.state == state)
            || coe.parties.entries.iter().any(|party| party.state == state)
            || ["DK", "IE"].contains(&state.as_str())
    };
    let on = date("2025-03-01");
    // Another legal basis binding both states that covers the measure would prevail.
    let other_basis = |from: CountryCode, to: CountryCode, measure: MeasureKind| {
        catalog.instruments().iter().any(|instrument| {
            instrument.id != "untoc"
                && instrument.role == InstrumentRole::LegalBasis
                && instrument.in_force_on(on)
                && instrument.covers(measure)
                && instrument.parties.binds_pair(from, to, on).is_some()
        })
    };
    let states: Vec<(CountryCode, Option<Date>)> = parties(untoc)
        .into_iter()
        .filter(|(state, _)| !european(*state))
        .collect();
    let mut cases = 0;
    let mut failures = Vec::new();
    for (index, &(from, from_date)) in states.iter().enumerate() {
        for &(to, to_date) in &states[index + 1..] {
            if other_basis(from, to, MeasureKind::VideoConferenceHearing) {
                continue;
            }
            let video = request(from, to, MeasureKind::VideoConferenceHearing);
            let assessment = assess(&catalog, &video, on);
            if assessment.prevailing_id() != Some("untoc")
                || !cites(&assessment, "untoc", "18(18)")
                || !cites(&assessment, "untoc", "18(19)")
            {
                failures.push(format!(
                    "{from}->{to}: prevailing {:?}, video hearing not under UNTOC 18(18)",
                    assessment.prevailing_id()
                ));
            }
            // A bilateral treaty covering transfers (Canada-Mexico) governs them instead.
            let transfer = request(to, from, MeasureKind::TemporaryTransferOfPersons);
            let assessment = assess(&catalog, &transfer, on);
            let bilateral = other_basis(to, from, MeasureKind::TemporaryTransferOfPersons);
            if cites(&assessment, "untoc", "18(10)(a)") == bilateral {
                failures.push(format!(
                    "{to}->{from}: UNTOC 18(10)(a) cited: {}, another treaty binds: {bilateral}",
                    !bilateral
                ));
            }
            let later = from_date.max(to_date).expect("UNTOC parties are dated");
            let before = assess(&catalog, &video, day_before(later));
            if before.prevailing_id() == Some("untoc") || cites(&before, "untoc", "18(18)") {
                failures.push(format!(
                    "{from}->{to}: UNTOC applied the day before {later}"
                ));
            }
            cases += 3;
        }
    }
    assert_none_failed(&failures, cases);
    assert!(cases >= 300, "{cases} cases");
}

/// Every pair of EU member states, Denmark and Ireland included: a joint investigation
/// team is governed by Framework Decision 2002/465/JHA art. 1(1), which the EIO does not
/// displace (it does not cover joint teams).
#[test]
fn every_eu_pair_sets_up_joint_teams_under_the_framework_decision() {
    let catalog = Catalog::embedded().expect("catalog");
    let decision = catalog
        .instrument("eu_jit_framework_decision")
        .expect("framework decision");
    let states = parties(decision);
    assert_eq!(states.len(), 27);
    let on = date("2025-03-01");
    let mut cases = 0;
    let mut failures = Vec::new();
    for (index, &(from, _)) in states.iter().enumerate() {
        for &(to, _) in &states[index + 1..] {
            let assessment = assess(
                &catalog,
                &request(from, to, MeasureKind::JointInvestigationTeam),
                on,
            );
            if basis(&assessment, MeasureKind::JointInvestigationTeam)
                != "eu_jit_framework_decision"
                || !cites(&assessment, "eu_jit_framework_decision", "1(1)")
            {
                failures.push(format!(
                    "{from}->{to}: joint team not under the Framework Decision"
                ));
            }
            cases += 1;
        }
    }
    assert_none_failed(&failures, cases);
    assert_eq!(cases, 351);
}

/// For every member state bound by Regulation (EU) 2024/1348 and a non-European UNTOC
/// party as the asylum seeker's state, whichever side that state takes: information about
/// the applicant would reach it (through the request, or through the reply), and the
/// confidentiality rule of art. 7(2) binds the member state, so the request is blocked.
/// Denmark, bound by no such rule, gets the non-refoulement warning instead.
#[test]
fn asylum_confidentiality_applies_whichever_side_is_the_state_of_origin() {
    let catalog = Catalog::embedded().expect("catalog");
    let regulation = catalog
        .instrument("eu_asylum_procedure_regulation")
        .expect("regulation");
    let members: Vec<CountryCode> = [
        "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT",
        "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE",
    ]
    .iter()
    .map(|code| code.parse().expect("country"))
    .collect();
    let origins: Vec<CountryCode> = ["SY", "AF", "ER", "IR", "MA", "NG", "CN", "BY"]
        .iter()
        .map(|code| code.parse().expect("country"))
        .collect();
    let on = date("2027-01-01");
    let mut cases = 0;
    let mut failures = Vec::new();
    for &member in &members {
        let bound = regulation.parties.binds(member, on).is_some();
        for &origin in &origins {
            for (from, to) in [(member, origin), (origin, member)] {
                let mut request = base_request(from.as_str(), to.as_str());
                request.persons = vec![PersonConcerned {
                    full_name: "Applicant".into(),
                    date_of_birth: None,
                    nationalities: vec![origin],
                    location: Some("reception centre".into()),
                    role: PersonRole::Witness,
                    vulnerabilities: vec![Vulnerability::AsylumSeekerOrRefugee],
                }];
                let assessment = assess(&catalog, &request, on);
                let finding = assessment
                    .warnings
                    .iter()
                    .find(|finding| finding.kind == FindingKind::AsylumDisclosure);
                let ok = match finding {
                    None => false,
                    Some(finding) if bound => {
                        finding.severity == Severity::Blocking
                            && finding.citation.instrument_id == "eu_asylum_procedure_regulation"
                            && finding.citation.article == "7(2)"
                    }
                    Some(finding) => {
                        finding.severity == Severity::Warning
                            && finding.citation.instrument_id == "refugee_convention_1951"
                    }
                };
                if !ok {
                    failures.push(format!("{from}->{to} ({origin} national): {finding:?}"));
                }
                cases += 1;
            }
        }
    }
    assert_none_failed(&failures, cases);
    assert_eq!(cases, 27 * 8 * 2);
}

/// A proposed refusal on a measure's own ground (EIO art. 24(2)(a) and (b): the suspect
/// does not consent, fundamental principles) is allowed where the request seeks that
/// measure, and not where it does not; so is the 1959 Convention's art. 11(1)(a) for a
/// transfer, for every pair of its dated parties that no other instrument binds first.
#[test]
fn a_refusal_on_a_measures_own_ground_is_allowed_only_for_that_measure() {
    let catalog = Catalog::embedded().expect("catalog");
    let on = date("2025-03-01");
    let es: CountryCode = "ES".parse().expect("country");
    let fr: CountryCode = "FR".parse().expect("country");
    let video = assess(
        &catalog,
        &request(es, fr, MeasureKind::VideoConferenceHearing),
        on,
    );
    let records = assess(
        &catalog,
        &request(es, fr, MeasureKind::ProductionOfRecords),
        on,
    );
    for cited in ["eio art. 24(2)(a)", "eio art. 24(2)(b)"] {
        let allowed = |assessment: &Assessment| {
            assessment
                .proposed_refusal(&[cited.to_string()])
                .iter()
                .all(|ground| ground.is_allowed())
        };
        assert!(allowed(&video), "{cited} for a video hearing");
        assert!(!allowed(&records), "{cited} for production of records");
    }
    let transfer = assess(
        &catalog,
        &request(es, fr, MeasureKind::TemporaryTransferOfPersons),
        on,
    );
    assert!(
        transfer
            .proposed_refusal(&[
                "eio art. 22(2)(a)".to_string(),
                "eio art. 22(2)(b)".to_string()
            ])
            .iter()
            .all(|ground| ground.is_allowed())
    );
    // Between parties to the 1959 Convention outside the EIO (Switzerland and the United Kingdom),
    // the transfer's grounds are art. 11(1)(a)-(d).
    let ch: CountryCode = "CH".parse().expect("country");
    let gb: CountryCode = "GB".parse().expect("country");
    let transfer = assess(
        &catalog,
        &request(ch, gb, MeasureKind::TemporaryTransferOfPersons),
        on,
    );
    assert_eq!(transfer.prevailing_id(), Some("ecmacm_1959"));
    for article in ["11(1)(a)", "11(1)(b)", "11(1)(c)", "11(1)(d)"] {
        let cited = format!("ecmacm_1959 art. {article}");
        assert!(
            transfer.proposed_refusal(std::slice::from_ref(&cited))[0].is_allowed(),
            "{cited}"
        );
    }
}

/// Fails with every generated case that went wrong, one per line, out of `cases`.
fn assert_none_failed(failures: &[String], cases: usize) {
    assert!(
        failures.is_empty(),
        "{} of {cases}:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
