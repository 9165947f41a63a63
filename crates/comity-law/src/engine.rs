//! The legal-basis engine: from a catalog, a request and a date to an [`Assessment`].
//!
//! Pure and deterministic: the same inputs give the same assessment, in the same order.
//! The engine knows no state and no instrument by name; everything it concludes comes
//! from the catalog's data and is cited to an instrument and article.
//!
//! [`assess`] runs the steps in order, each in its own file under `engine/`:
//! `candidates` (instruments that apply), `precedence` (which prevails, which governs each
//! measure), `channels` (and languages), `checklist`, `dual_criminality`, `refusal`,
//! `measures` (each measure's own rules), `safeguards` and `deadlines`. Each adds its warnings to the `Engine`'s list.

use comity_domain::{Date, MeasureKind, RequestContent};

use crate::assessment::{
    ApplicableInstrument, Assessment, Citation, Finding, FindingKind, MeasureBasis, Prevailing,
    RefusalGround, Severity,
};
use crate::catalog::Catalog;
use crate::model::Instrument;
use crate::wording::{FindingCode, FindingParameter, ParameterName};

mod candidates;
mod channels;
mod checklist;
mod deadlines;
mod dual_criminality;
mod measures;
mod precedence;
mod refusal;
mod safeguards;

use precedence::choose_prevailing;

/// Assesses `request` against `catalog` as the law stands on `today`.
pub fn assess(catalog: &Catalog, request: &RequestContent, today: Date) -> Assessment {
    Engine::new(catalog, request, today).run()
}

/// The grounds for refusal of the prevailing instrument (or of the reciprocity route),
/// each flagged where the facts of the request raise it.
pub fn refusal_grounds(
    catalog: &Catalog,
    request: &RequestContent,
    today: Date,
) -> Vec<RefusalGround> {
    assess(catalog, request, today).refusal_grounds
}

fn cite(instrument: &Instrument, article: &str) -> Citation {
    Citation {
        instrument_id: instrument.id.clone(),
        article: article.to_string(),
        source_url: instrument.source_url.clone(),
    }
}

/// An instrument found to bind both states, with what it brings.
struct Candidate<'a> {
    instrument: &'a Instrument,
    supplements: Vec<&'a Instrument>,
    covered: Vec<MeasureKind>,
    dates_verified: bool,
}

impl Candidate<'_> {
    fn covers(&self, measure: MeasureKind) -> bool {
        self.covered.contains(&measure)
    }
}

/// One assessment under way: its inputs, the distinct measures sought and the warnings
/// raised so far.
struct Engine<'a> {
    catalog: &'a Catalog,
    request: &'a RequestContent,
    today: Date,
    measures: Vec<MeasureKind>,
    warnings: Vec<Finding>,
}

impl<'a> Engine<'a> {
    fn new(catalog: &'a Catalog, request: &'a RequestContent, today: Date) -> Self {
        let mut measures: Vec<MeasureKind> = Vec::new();
        for measure in &request.measures {
            if !measures.contains(&measure.kind) {
                measures.push(measure.kind);
            }
        }
        Engine {
            catalog,
            request,
            today,
            measures,
            warnings: Vec::new(),
        }
    }

    fn run(mut self) -> Assessment {
        let candidates = self.candidates();
        let chosen = choose_prevailing(&candidates);
        let prevailing_index = chosen.as_ref().map(|(index, _)| *index);
        let fallback = self.catalog.fallback();
        let (base, base_supplements): (&Instrument, Vec<&Instrument>) = match prevailing_index {
            Some(index) => (
                candidates[index].instrument,
                candidates[index].supplements.clone(),
            ),
            None => (fallback, Vec::new()),
        };
        let prevailing = chosen.map(|(index, decision)| {
            let candidate = &candidates[index];
            let (reason_code, reason_parameters, reason) = decision.reason.into_parts();
            Prevailing {
                instrument_id: candidate.instrument.id.clone(),
                title: candidate.instrument.title.clone(),
                reason,
                reason_code,
                reason_parameters,
                citation: decision.citation,
            }
        });
        let fallback_finding = match prevailing_index {
            Some(_) => None,
            None => Some(Finding::new(
                FindingKind::NoInstrument,
                Severity::Warning,
                FindingCode::NoInstrument,
                vec![
                    FindingParameter::new(
                        ParameterName::RequestingCountry,
                        self.request.requesting_country,
                    ),
                    FindingParameter::new(
                        ParameterName::RequestedCountry,
                        self.request.requested_country,
                    ),
                    FindingParameter::new(ParameterName::Date, self.today),
                ],
                cite(fallback, &fallback.basis_article),
            )),
        };
        if let Some(finding) = &fallback_finding {
            self.warnings.push(finding.clone());
        }
        if let Some(index) = prevailing_index
            && !candidates[index].dates_verified
        {
            let instrument = candidates[index].instrument;
            self.warnings.push(Finding::new(
                FindingKind::PartyDateUnverified,
                Severity::Info,
                FindingCode::PartyDateUnverified,
                vec![
                    FindingParameter::new(ParameterName::Instrument, instrument.title.as_str()),
                    FindingParameter::new(
                        ParameterName::Source,
                        instrument.parties.source.as_str(),
                    ),
                ],
                cite(instrument, &instrument.basis_article),
            ));
        }
        let measure_bases = self.measure_bases(&candidates, prevailing_index);
        let channels = self.channels(base, &base_supplements, &candidates, &measure_bases);
        let languages = self.languages(base, &base_supplements);
        let checklist = self.checklist(base);
        let dual_criminality = self.dual_criminality(&measure_bases);
        let facts = self.facts(&dual_criminality);
        let mut refusal_grounds = self.refusal_grounds(base, &base_supplements, &facts);
        refusal_grounds.extend(self.measure_rules(&candidates, &measure_bases));
        self.use_rules(base, &base_supplements);
        self.safeguards(base);
        self.legal_basis_mismatch(prevailing.as_ref());
        let (deadlines, policy) = self.deadlines(base, &candidates, &measure_bases);
        let applicable = candidates
            .iter()
            .map(|candidate| ApplicableInstrument {
                instrument_id: candidate.instrument.id.clone(),
                title: candidate.instrument.title.clone(),
                covered_measures: candidate.covered.clone(),
                supplements: candidate
                    .supplements
                    .iter()
                    .map(|supplement| supplement.id.clone())
                    .collect(),
            })
            .collect();
        Assessment {
            requesting_country: self.request.requesting_country,
            requested_country: self.request.requested_country,
            date: self.today,
            applicable,
            prevailing,
            fallback: fallback_finding,
            measure_bases,
            channels,
            languages,
            checklist,
            dual_criminality,
            warnings: self.warnings,
            refusal_grounds,
            refusal_reasons: base
                .refusal_reasons_article
                .as_ref()
                .map(|article| cite(base, article)),
            deadlines,
            policy,
        }
    }

    fn governing(&self, basis: &MeasureBasis) -> Option<&'a Instrument> {
        basis
            .instrument_id
            .as_deref()
            .and_then(|id| self.catalog.instrument(id))
    }
}

fn short_title(instrument: &Instrument) -> &str {
    instrument
        .title
        .split_once(" (")
        .map_or(instrument.title.as_str(), |(short, _)| short)
}
