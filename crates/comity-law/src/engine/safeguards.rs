//! Safeguards for the persons concerned: the death penalty, asylum, non-refoulement,
//! victims, minors and smuggled migrants.

use comity_domain::{CountryCode, MeasureKind, PersonRole, Vulnerability};

use super::{Engine, cite, short_title};
use crate::assessment::{Finding, FindingKind, Severity};
use crate::model::{Instrument, SafeguardKind, SafeguardRule};
use crate::wording::{CitedRule, FindingCode, FindingParameter, ParameterName, ParameterValue};

impl<'a> Engine<'a> {
    /// The first safeguard rule of this kind in the catalog, preferring one in force.
    fn safeguard(&self, kind: SafeguardKind) -> Option<(&'a Instrument, &'a SafeguardRule)> {
        let catalog = self.catalog;
        let mut fallback = None;
        for instrument in catalog.instruments() {
            for rule in &instrument.safeguards {
                if rule.kind != kind {
                    continue;
                }
                if instrument.in_force_on(self.today) {
                    return Some((instrument, rule));
                }
                fallback.get_or_insert((instrument, rule));
            }
        }
        fallback
    }

    /// Records a finding whose sentence states the facts and then cites the catalog's
    /// safeguard rule of `kind` (cited to `base` where the catalog has none).
    fn push_safeguard(
        &mut self,
        kind: SafeguardKind,
        finding_kind: FindingKind,
        severity: Severity,
        code: FindingCode,
        mut parameters: Vec<FindingParameter>,
        base: &Instrument,
    ) {
        let (citation, cited_rule) = match self.safeguard(kind) {
            Some((instrument, rule)) => (
                cite(instrument, &rule.article),
                Some(CitedRule {
                    instrument: short_title(instrument).to_string(),
                    article: rule.article.clone(),
                    text: rule.text.clone(),
                }),
            ),
            None => (cite(base, &base.basis_article), None),
        };
        parameters.push(FindingParameter::new(
            ParameterName::Safeguard,
            ParameterValue::CitedRule(cited_rule),
        ));
        self.warnings.push(Finding::new(
            finding_kind,
            severity,
            code,
            parameters,
            citation,
        ));
    }

    pub(super) fn safeguards(&mut self, base: &Instrument) {
        let request = self.request;
        let requesting = request.requesting_country;
        let requested = request.requested_country;
        if self.death_penalty_without_assurances() {
            self.push_safeguard(
                SafeguardKind::DeathPenaltyAssurances,
                FindingKind::DeathPenaltyWithoutAssurances,
                Severity::Blocking,
                FindingCode::DeathPenaltyWithoutAssurances,
                Vec::new(),
                base,
            );
        }
        let surrender = self.surrender_sought();
        let transfer = self
            .measures
            .contains(&MeasureKind::TemporaryTransferOfPersons);
        let coercive = self.measures.iter().any(|measure| measure.is_coercive());
        for person in &request.persons {
            let name = || {
                vec![FindingParameter::new(
                    ParameterName::Person,
                    person.full_name.as_str(),
                )]
            };
            if person.has(Vulnerability::AsylumSeekerOrRefugee) {
                // Whichever side is the person's state: the request tells the requested
                // state about them, or the reply tells the requesting state.
                if person.nationalities.contains(&requested) {
                    self.asylum_disclosure(&person.full_name, requesting, requested, base);
                }
                if person.nationalities.contains(&requesting) && requesting != requested {
                    self.asylum_disclosure(&person.full_name, requested, requesting, base);
                }
                if surrender && person.nationalities.contains(&requesting) {
                    self.push_safeguard(
                        SafeguardKind::NonRefoulement,
                        FindingKind::NonRefoulement,
                        Severity::Blocking,
                        FindingCode::RefugeeSurrenderToNationalState,
                        name(),
                        base,
                    );
                }
                if transfer && person.nationalities.contains(&requesting) {
                    self.push_safeguard(
                        SafeguardKind::NonRefoulement,
                        FindingKind::NonRefoulement,
                        Severity::Blocking,
                        FindingCode::RefugeeTransferToNationalState,
                        name(),
                        base,
                    );
                }
            }
            if person.has(Vulnerability::TraffickingVictim) {
                self.push_safeguard(
                    SafeguardKind::TraffickingVictimPrivacy,
                    FindingKind::PersonProtection,
                    Severity::Warning,
                    FindingCode::TraffickingVictimPrivacy,
                    name(),
                    base,
                );
            }
            if person.role == PersonRole::SmuggledMigrant {
                self.push_safeguard(
                    SafeguardKind::SmuggledMigrantProtection,
                    FindingKind::PersonProtection,
                    Severity::Info,
                    FindingCode::SmuggledMigrantProtection,
                    name(),
                    base,
                );
            }
            if person.role.is_prosecuted() {
                if person.has(Vulnerability::TraffickingVictim) {
                    self.push_safeguard(
                        SafeguardKind::TraffickingVictimProtection,
                        FindingKind::VulnerablePersonProsecuted,
                        Severity::Warning,
                        FindingCode::TraffickingVictimProsecuted,
                        name(),
                        base,
                    );
                }
                if person.has(Vulnerability::Minor) {
                    self.push_safeguard(
                        SafeguardKind::ChildProtection,
                        FindingKind::VulnerablePersonProsecuted,
                        Severity::Warning,
                        FindingCode::MinorProsecuted,
                        name(),
                        base,
                    );
                }
            }
            if person.role == PersonRole::SmuggledMigrant && (surrender || coercive) {
                self.push_safeguard(
                    SafeguardKind::SmuggledMigrantNonLiability,
                    FindingKind::VulnerablePersonProsecuted,
                    Severity::Warning,
                    FindingCode::SmuggledMigrantTargeted,
                    name(),
                    base,
                );
            }
        }
    }

    /// Information about an asylum seeker reaches `persecutor`, their state, from
    /// `discloser`: through the request (the requested state is theirs) or through the
    /// reply (the requesting state is theirs). The confidentiality rule cited is one that
    /// binds the discloser on the date.
    fn asylum_disclosure(
        &mut self,
        name: &str,
        discloser: CountryCode,
        persecutor: CountryCode,
        base: &Instrument,
    ) {
        let requesting = self.request.requesting_country;
        let requested = self.request.requested_country;
        let by_request = persecutor == requested;
        let catalog = self.catalog;
        let binding = catalog.instruments().iter().find_map(|instrument| {
            if !instrument.in_force_on(self.today) {
                return None;
            }
            instrument
                .safeguards
                .iter()
                .find(|rule| rule.kind == SafeguardKind::AsylumConfidentiality)
                .filter(|_| instrument.parties.binds(discloser, self.today).is_some())
                .map(|rule| (instrument, rule))
        });
        let mut parameters = vec![
            FindingParameter::new(ParameterName::Person, name),
            if by_request {
                FindingParameter::new(ParameterName::RequestedCountry, requested)
            } else {
                FindingParameter::new(ParameterName::RequestingCountry, requesting)
            },
        ];
        match binding {
            Some((instrument, rule)) => {
                parameters.extend([
                    FindingParameter::new(ParameterName::Instrument, short_title(instrument)),
                    if by_request {
                        FindingParameter::new(ParameterName::RequestingCountry, requesting)
                    } else {
                        FindingParameter::new(ParameterName::RequestedCountry, requested)
                    },
                    FindingParameter::new(ParameterName::Date, self.today),
                    FindingParameter::new(ParameterName::Rule, rule.text.as_str()),
                ]);
                self.warnings.push(Finding::new(
                    FindingKind::AsylumDisclosure,
                    Severity::Blocking,
                    if by_request {
                        FindingCode::AsylumDisclosureConfidentialityBinds
                    } else {
                        FindingCode::AsylumReplyConfidentialityBinds
                    },
                    parameters,
                    cite(instrument, &rule.article),
                ));
            }
            None => self.push_safeguard(
                SafeguardKind::NonRefoulement,
                FindingKind::AsylumDisclosure,
                Severity::Warning,
                if by_request {
                    FindingCode::AsylumDisclosure
                } else {
                    FindingCode::AsylumReply
                },
                parameters,
                base,
            ),
        }
    }
}
