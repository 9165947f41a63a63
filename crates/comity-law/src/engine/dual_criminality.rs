//! Dual criminality, measure by measure.

use comity_domain::MeasureKind;

use super::{Engine, cite, short_title};
use crate::assessment::{
    DualCriminalityFinding, DualCriminalityOutcome, Finding, FindingKind, MeasureBasis, Severity,
};
use crate::model::{DualCriminalityMode, Instrument};
use crate::wording::{FindingCode, FindingParameter, ParameterName, ParameterValue, Sentence};

impl<'a> Engine<'a> {
    pub(super) fn dual_criminality(
        &mut self,
        measure_bases: &[MeasureBasis],
    ) -> Vec<DualCriminalityFinding> {
        let mut findings = Vec::new();
        for basis in measure_bases {
            let Some(instrument) = self.governing(basis) else {
                continue;
            };
            let finding = self.dual_criminality_for(instrument, basis.measure);
            if finding.outcome.is_required() && basis.measure.is_coercive() {
                self.warnings.push(Finding::new(
                    FindingKind::CoerciveWithoutDualCriminality,
                    Severity::Warning,
                    FindingCode::CoerciveWithoutDualCriminality,
                    vec![
                        FindingParameter::new(ParameterName::Measure, basis.measure),
                        FindingParameter::new(ParameterName::Instrument, short_title(instrument)),
                        FindingParameter::new(
                            ParameterName::DualCriminality,
                            Sentence::new(finding.code, finding.parameters.clone()),
                        ),
                    ],
                    finding.citation.clone(),
                ));
            }
            findings.push(finding);
        }
        findings
    }

    fn dual_criminality_for(
        &self,
        instrument: &Instrument,
        measure: MeasureKind,
    ) -> DualCriminalityFinding {
        let title = || FindingParameter::new(ParameterName::Instrument, short_title(instrument));
        let for_measure = || FindingParameter::new(ParameterName::Measure, measure);
        let finding = |outcome,
                       severity,
                       code: FindingCode,
                       parameters: Vec<FindingParameter>,
                       article: &str| {
            let (code, parameters, explanation) = Sentence::new(code, parameters).into_parts();
            DualCriminalityFinding {
                measure,
                outcome,
                severity,
                code,
                parameters,
                explanation,
                citation: cite(instrument, article),
            }
        };
        let Some(rule) = &instrument.dual_criminality else {
            return finding(
                DualCriminalityOutcome::OptionalGround,
                Severity::Info,
                FindingCode::DualCriminalityNotRecorded,
                vec![title(), for_measure()],
                &instrument.basis_article,
            );
        };
        let rule_text = || FindingParameter::new(ParameterName::Rule, rule.text.as_str());
        if let Some(exception) = rule
            .measure_exceptions
            .iter()
            .find(|exception| exception.measure == measure)
        {
            return finding(
                DualCriminalityOutcome::ExemptMeasure,
                Severity::Info,
                FindingCode::DualCriminalityExemptMeasure,
                vec![for_measure(), title()],
                &exception.article,
            );
        }
        let coercive = measure.is_coercive();
        let severity_if_coercive = if coercive {
            Severity::Warning
        } else {
            Severity::Info
        };
        match rule.mode {
            DualCriminalityMode::NotRequired => finding(
                DualCriminalityOutcome::NotRequired,
                Severity::Info,
                FindingCode::DualCriminalityNotRequired,
                vec![title(), rule_text()],
                &rule.article,
            ),
            DualCriminalityMode::Required => finding(
                DualCriminalityOutcome::Required,
                severity_if_coercive,
                FindingCode::DualCriminalityRuleForMeasure,
                vec![for_measure(), rule_text()],
                &rule.article,
            ),
            DualCriminalityMode::OptionalGround => finding(
                DualCriminalityOutcome::OptionalGround,
                severity_if_coercive,
                if coercive {
                    FindingCode::DualCriminalityDiscretionLikely
                } else {
                    FindingCode::DualCriminalityRuleForMeasure
                },
                vec![for_measure(), rule_text()],
                &rule.article,
            ),
            DualCriminalityMode::RequiredForCoercive => {
                if !coercive {
                    let article = rule
                        .non_coercive_article
                        .as_deref()
                        .unwrap_or(&rule.article);
                    return finding(
                        DualCriminalityOutcome::ExemptMeasure,
                        Severity::Info,
                        FindingCode::DualCriminalityNotCoercive,
                        vec![for_measure(), title()],
                        article,
                    );
                }
                if let Some(exception) = &rule.list_exception {
                    let offences = &self.request.offences;
                    let threshold = i64::from(exception.min_penalty_months);
                    let threshold_months = || {
                        FindingParameter::new(
                            ParameterName::ThresholdMonths,
                            ParameterValue::Months(threshold),
                        )
                    };
                    let qualifies = |months: Option<u32>, annex_d: bool| {
                        annex_d
                            && months.is_some_and(|months| months >= exception.min_penalty_months)
                    };
                    if !offences.is_empty()
                        && offences.iter().all(|offence| {
                            qualifies(
                                offence.maximum_penalty_months,
                                offence.category.is_annex_d(),
                            )
                        })
                    {
                        return finding(
                            DualCriminalityOutcome::ListException,
                            Severity::Info,
                            FindingCode::DualCriminalityListException,
                            vec![threshold_months(), for_measure()],
                            &exception.article,
                        );
                    }
                    let reasons: Vec<Sentence> = offences
                        .iter()
                        .filter(|offence| {
                            !qualifies(
                                offence.maximum_penalty_months,
                                offence.category.is_annex_d(),
                            )
                        })
                        .map(|offence| {
                            let provision = FindingParameter::new(
                                ParameterName::Provision,
                                offence.national_provision.as_str(),
                            );
                            if !offence.category.is_annex_d() {
                                Sentence::new(FindingCode::OffenceNotListed, vec![provision])
                            } else {
                                match offence.maximum_penalty_months {
                                    Some(months) => Sentence::new(
                                        FindingCode::OffenceBelowThreshold,
                                        vec![
                                            provision,
                                            FindingParameter::new(
                                                ParameterName::Months,
                                                ParameterValue::Months(i64::from(months)),
                                            ),
                                            threshold_months(),
                                        ],
                                    ),
                                    None => Sentence::new(
                                        FindingCode::OffencePenaltyNotStated,
                                        vec![provision],
                                    ),
                                }
                            }
                        })
                        .collect();
                    let (code, mut parameters) = if offences.is_empty() {
                        (
                            FindingCode::DualCriminalityListExceptionNoOffence,
                            Vec::new(),
                        )
                    } else {
                        (
                            FindingCode::DualCriminalityListExceptionFails,
                            vec![FindingParameter::new(
                                ParameterName::Reasons,
                                ParameterValue::Sentences(reasons),
                            )],
                        )
                    };
                    parameters.splice(0..0, [rule_text(), for_measure()]);
                    return finding(
                        DualCriminalityOutcome::Required,
                        Severity::Warning,
                        code,
                        parameters,
                        &exception.article,
                    );
                }
                finding(
                    DualCriminalityOutcome::Required,
                    Severity::Warning,
                    FindingCode::DualCriminalityRuleForMeasure,
                    vec![for_measure(), rule_text()],
                    &rule.article,
                )
            }
        }
    }
}
