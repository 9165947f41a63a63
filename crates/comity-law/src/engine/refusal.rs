//! The facts that raise grounds for refusal, and the grounds of the prevailing instrument.

use super::{Engine, cite, short_title};
use crate::assessment::{DualCriminalityFinding, Finding, FindingKind, RefusalGround, Severity};
use crate::model::{GroundKind, Instrument, Trigger};
use crate::wording::{FindingCode, FindingParameter, ParameterName, ParameterValue};

/// The facts that raise grounds for refusal.
pub(super) struct Facts {
    triggers: Vec<Trigger>,
}

impl<'a> Engine<'a> {
    pub(super) fn facts(&self, dual_criminality: &[DualCriminalityFinding]) -> Facts {
        let offences = &self.request.offences;
        let mut triggers = Vec::new();
        if offences.iter().any(|offence| offence.political) {
            triggers.push(Trigger::PoliticalOffence);
        }
        if offences.iter().any(|offence| offence.fiscal) {
            triggers.push(Trigger::FiscalOffence);
        }
        if dual_criminality
            .iter()
            .any(|finding| finding.outcome.is_required() && finding.measure.is_coercive())
        {
            triggers.push(Trigger::NoDualCriminality);
        }
        if self.death_penalty_without_assurances() {
            triggers.push(Trigger::DeathPenalty);
        }
        Facts { triggers }
    }

    pub(super) fn surrender_sought(&self) -> bool {
        self.measures.iter().any(|measure| measure.is_surrender())
    }

    pub(super) fn death_penalty_without_assurances(&self) -> bool {
        self.surrender_sought()
            && !self.request.assurances_given
            && self
                .request
                .offences
                .iter()
                .any(|offence| offence.death_penalty_possible)
    }

    pub(super) fn refusal_grounds(
        &mut self,
        base: &Instrument,
        supplements: &[&Instrument],
        facts: &Facts,
    ) -> Vec<RefusalGround> {
        let mut grounds = Vec::new();
        for rule in &base.refusal_grounds {
            let mut removed_by = None;
            let mut triggers = Vec::new();
            for &trigger in &rule.raised_by {
                let removal = supplements.iter().find_map(|supplement| {
                    supplement
                        .removes_refusal_grounds
                        .iter()
                        .find(|removal| removal.trigger == trigger)
                        .map(|removal| (*supplement, removal))
                });
                match removal {
                    Some((supplement, removal)) => {
                        removed_by = Some(cite(supplement, &removal.article));
                        if facts.triggers.contains(&trigger) {
                            self.warnings.push(Finding::new(
                                FindingKind::RefusalGroundExcluded,
                                Severity::Info,
                                FindingCode::RefusalGroundRemovedBySupplement,
                                vec![
                                    FindingParameter::new(
                                        ParameterName::Triggers,
                                        ParameterValue::Triggers(vec![trigger]),
                                    ),
                                    FindingParameter::new(
                                        ParameterName::Instrument,
                                        short_title(supplement),
                                    ),
                                    FindingParameter::new(
                                        ParameterName::Rule,
                                        removal.text.as_str(),
                                    ),
                                ],
                                cite(supplement, &removal.article),
                            ));
                        }
                    }
                    None if facts.triggers.contains(&trigger) => triggers.push(trigger),
                    None => {}
                }
            }
            let raised = !triggers.is_empty();
            if raised {
                let mandatory = rule.kind == GroundKind::Mandatory;
                self.warnings.push(Finding::new(
                    FindingKind::RefusalGroundRaised,
                    if mandatory || triggers.contains(&Trigger::DeathPenalty) {
                        Severity::Blocking
                    } else {
                        Severity::Warning
                    },
                    if mandatory {
                        FindingCode::MandatoryRefusalGroundRaised
                    } else {
                        FindingCode::OptionalRefusalGroundRaised
                    },
                    vec![
                        FindingParameter::new(
                            ParameterName::Triggers,
                            ParameterValue::Triggers(triggers.clone()),
                        ),
                        FindingParameter::new(ParameterName::Instrument, short_title(base)),
                        FindingParameter::new(ParameterName::Article, rule.article.as_str()),
                        FindingParameter::new(ParameterName::Rule, rule.text.as_str()),
                    ],
                    cite(base, &rule.article),
                ));
            }
            grounds.push(RefusalGround {
                code: rule.code.clone(),
                kind: rule.kind,
                description: rule.text.clone(),
                raised_by_facts: raised,
                triggers,
                removed_by,
                citation: cite(base, &rule.article),
                consult_first: rule
                    .consult_first
                    .as_ref()
                    .map(|article| cite(base, article)),
            });
        }
        for rule in &base.no_refusal_on {
            if facts.triggers.contains(&rule.trigger) {
                self.warnings.push(Finding::new(
                    FindingKind::RefusalGroundExcluded,
                    Severity::Info,
                    FindingCode::RefusalExcluded,
                    vec![
                        FindingParameter::new(
                            ParameterName::Triggers,
                            ParameterValue::Triggers(vec![rule.trigger]),
                        ),
                        FindingParameter::new(ParameterName::Rule, rule.text.as_str()),
                        FindingParameter::new(ParameterName::Instrument, short_title(base)),
                        FindingParameter::new(ParameterName::Article, rule.article.as_str()),
                    ],
                    cite(base, &rule.article),
                ));
            }
        }
        grounds
    }
}
