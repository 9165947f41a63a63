//! The legal-basis engine: from a catalog, a request and a date to an [`Assessment`].
//!
//! Pure and deterministic: the same inputs give the same assessment, in the same order.
//! The engine knows no state and no instrument by name; everything it concludes comes
//! from the catalog's data and is cited to an instrument and article.

use comity_domain::{Date, DeadlinePolicy, MeasureKind, PersonRole, RequestContent, Vulnerability};

use crate::assessment::*;
use crate::catalog::Catalog;
use crate::model::*;

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

struct Engine<'a> {
    catalog: &'a Catalog,
    request: &'a RequestContent,
    today: Date,
    measures: Vec<MeasureKind>,
    warnings: Vec<Finding>,
}

/// The facts that raise grounds for refusal.
struct Facts {
    triggers: Vec<Trigger>,
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

    fn binds_both(&self, instrument: &Instrument) -> Option<bool> {
        instrument.parties.binds_pair(
            self.request.requesting_country,
            self.request.requested_country,
            self.today,
        )
    }

    fn supplements_of(&self, base: &Instrument) -> Vec<&'a Instrument> {
        self.catalog
            .instruments()
            .iter()
            .filter(|instrument| {
                instrument.role == InstrumentRole::Supplement
                    && instrument.supplements.as_deref() == Some(base.id.as_str())
                    && instrument.in_force_on(self.today)
                    && self.binds_both(instrument).is_some()
            })
            .collect()
    }

    fn in_scope(&mut self, instrument: &Instrument, supplements: &[&Instrument]) -> bool {
        let Some(scope) = &instrument.scope else {
            return true;
        };
        let by_measure = self
            .measures
            .iter()
            .any(|measure| scope.measures.contains(measure));
        let mut by_offence = false;
        for offence in &self.request.offences {
            let listed = scope.offence_categories.contains(&offence.category)
                || supplements
                    .iter()
                    .any(|supplement| supplement.adds_scope_categories.contains(&offence.category));
            let serious = scope.min_penalty_months.is_some_and(|threshold| {
                offence
                    .maximum_penalty_months
                    .is_some_and(|months| months >= threshold)
            });
            by_offence |= listed || serious;
        }
        if by_offence
            && !by_measure
            && let Some(note) = &scope.note
        {
            self.warnings.push(Finding {
                kind: FindingKind::ScopeAssumption,
                severity: Severity::Info,
                explanation: format!("{} applies only if: {note}", instrument.title),
                citation: cite(instrument, &scope.article),
            });
        }
        by_offence || by_measure
    }

    fn candidates(&mut self) -> Vec<Candidate<'a>> {
        let mut candidates = Vec::new();
        let catalog = self.catalog;
        for instrument in catalog.instruments() {
            if instrument.role != InstrumentRole::LegalBasis || !instrument.in_force_on(self.today)
            {
                continue;
            }
            let Some(dates_verified) = self.binds_both(instrument) else {
                continue;
            };
            let supplements = self.supplements_of(instrument);
            let covered: Vec<MeasureKind> = self
                .measures
                .iter()
                .copied()
                .filter(|&measure| {
                    instrument.covers(measure)
                        || supplements
                            .iter()
                            .any(|supplement| supplement.covers(measure))
                })
                .collect();
            if !self.measures.is_empty() && covered.is_empty() {
                continue;
            }
            // Scope notes are only worth raising for instruments that otherwise apply.
            let warnings_before = self.warnings.len();
            if !self.in_scope(instrument, &supplements) {
                self.warnings.truncate(warnings_before);
                continue;
            }
            candidates.push(Candidate {
                instrument,
                supplements,
                covered,
                dates_verified,
            });
        }
        candidates
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
            Prevailing {
                instrument_id: candidate.instrument.id.clone(),
                title: candidate.instrument.title.clone(),
                reason: decision.reason,
                citation: decision.citation,
            }
        });
        let fallback_finding = match prevailing_index {
            Some(_) => None,
            None => Some(Finding {
                kind: FindingKind::NoInstrument,
                severity: Severity::Warning,
                explanation: format!(
                    "No instrument in the catalog binds both {} and {} and covers this request on {}: \
                     send letters rogatory through the diplomatic channel and rely on reciprocity under \
                     the requested state's domestic law.",
                    self.request.requesting_country.english_name(),
                    self.request.requested_country.english_name(),
                    self.today
                ),
                citation: cite(fallback, &fallback.basis_article),
            }),
        };
        if let Some(finding) = &fallback_finding {
            self.warnings.push(finding.clone());
        }
        if let Some(index) = prevailing_index
            && !candidates[index].dates_verified
        {
            let instrument = candidates[index].instrument;
            self.warnings.push(Finding {
                kind: FindingKind::PartyDateUnverified,
                severity: Severity::Info,
                explanation: format!(
                    "The date from which {} binds one of the two states is not verified in the \
                     catalog ({}); confirm it before relying on it.",
                    instrument.title, instrument.parties.source
                ),
                citation: cite(instrument, &instrument.basis_article),
            });
        }
        let measure_bases = self.measure_bases(&candidates, prevailing_index);
        let channels = self.channels(base, &base_supplements, &candidates, &measure_bases);
        let languages = self.languages(base, &base_supplements);
        let checklist = self.checklist(base);
        let dual_criminality = self.dual_criminality(&measure_bases);
        let facts = self.facts(&dual_criminality);
        let refusal_grounds = self.refusal_grounds(base, &base_supplements, &facts);
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
            deadlines,
            policy,
        }
    }

    fn measure_bases(
        &mut self,
        candidates: &[Candidate<'a>],
        prevailing: Option<usize>,
    ) -> Vec<MeasureBasis> {
        let fallback = self.catalog.fallback();
        let mut bases = Vec::new();
        for &measure in &self.measures {
            let specific = candidates.iter().find(|candidate| {
                candidate.instrument.specific_measures.contains(&measure)
                    && candidate.covers(measure)
            });
            let basis = if let Some(candidate) = specific {
                Some((
                    candidate.instrument,
                    format!(
                        "{} is the specific regime for {}.",
                        candidate.instrument.title,
                        measure.label()
                    ),
                ))
            } else if let Some(index) = prevailing {
                if candidates[index].covers(measure) {
                    Some((
                        candidates[index].instrument,
                        format!(
                            "Covered by the prevailing {}.",
                            candidates[index].instrument.title
                        ),
                    ))
                } else {
                    let mut others: Vec<&Candidate<'_>> = candidates
                        .iter()
                        .filter(|candidate| candidate.covers(measure))
                        .collect();
                    others.sort_by(|left, right| {
                        (left.instrument.kind, &left.instrument.id)
                            .cmp(&(right.instrument.kind, &right.instrument.id))
                    });
                    others.first().map(|candidate| {
                        (
                            candidate.instrument,
                            format!(
                                "Not covered by the prevailing {}; {} covers it between the two states.",
                                candidates[index].instrument.title, candidate.instrument.title
                            ),
                        )
                    })
                }
            } else if fallback.covers(measure) {
                Some((
                    fallback,
                    "No instrument applies: letters rogatory on reciprocity.".to_string(),
                ))
            } else {
                None
            };
            match basis {
                Some((instrument, explanation)) => bases.push(MeasureBasis {
                    measure,
                    instrument_id: Some(instrument.id.clone()),
                    explanation,
                }),
                None => {
                    let citing = prevailing.map_or(fallback, |index| candidates[index].instrument);
                    self.warnings.push(Finding {
                        kind: FindingKind::MeasureNotCovered,
                        severity: Severity::Warning,
                        explanation: format!(
                            "No applicable instrument in the catalog covers {} between these states; \
                             it needs another basis (for surrender, an extradition treaty or arrangement).",
                            measure.label()
                        ),
                        citation: cite(citing, &citing.basis_article),
                    });
                    bases.push(MeasureBasis {
                        measure,
                        instrument_id: None,
                        explanation: "Not covered by any applicable instrument.".to_string(),
                    });
                }
            }
        }
        bases
    }

    fn governing(&self, basis: &MeasureBasis) -> Option<&'a Instrument> {
        basis
            .instrument_id
            .as_deref()
            .and_then(|id| self.catalog.instrument(id))
    }

    fn channels(
        &self,
        base: &Instrument,
        supplements: &[&Instrument],
        candidates: &[Candidate<'a>],
        measure_bases: &[MeasureBasis],
    ) -> Vec<ChannelFinding> {
        let urgent = self.request.urgency.is_urgent();
        let mut channels: Vec<ChannelFinding> = Vec::new();
        let mut push = |finding: ChannelFinding| {
            let duplicate = channels
                .iter()
                .any(|existing| existing.kind == finding.kind && existing.use_ == finding.use_);
            if !duplicate {
                channels.push(finding);
            }
        };
        let describe = |instrument: &Instrument, rule: &ChannelRule| {
            let mut text = format!(
                "{} under {}",
                channel_label(rule.kind),
                short_title(instrument)
            );
            if !rule.text.is_empty() {
                text.push_str(": ");
                text.push_str(&rule.text);
            }
            text
        };
        let mut primary_taken = false;
        for instrument in std::iter::once(base).chain(supplements.iter().copied()) {
            for rule in &instrument.channels {
                let use_ = match rule.when {
                    ChannelWhen::Always if !primary_taken => {
                        primary_taken = true;
                        ChannelUse::Primary
                    }
                    ChannelWhen::Always => ChannelUse::Alternative,
                    ChannelWhen::Urgent if urgent => ChannelUse::Urgent,
                    ChannelWhen::Urgent => continue,
                    ChannelWhen::ForMeasures => {
                        for &measure in &self.measures {
                            if rule.measures.contains(&measure) {
                                push(ChannelFinding {
                                    kind: rule.kind,
                                    use_: ChannelUse::ForMeasure(measure),
                                    explanation: describe(instrument, rule),
                                    citation: cite(instrument, &rule.article),
                                });
                            }
                        }
                        continue;
                    }
                };
                push(ChannelFinding {
                    kind: rule.kind,
                    use_,
                    explanation: describe(instrument, rule),
                    citation: cite(instrument, &rule.article),
                });
            }
        }
        // Channels of instruments that govern single measures (the 24/7 network...).
        for basis in measure_bases {
            let Some(instrument) = self.governing(basis) else {
                continue;
            };
            if instrument.id == base.id
                || !candidates
                    .iter()
                    .any(|candidate| candidate.instrument.id == instrument.id)
            {
                continue;
            }
            for rule in &instrument.channels {
                let applies = match rule.when {
                    ChannelWhen::ForMeasures => rule.measures.contains(&basis.measure),
                    ChannelWhen::Urgent => urgent,
                    ChannelWhen::Always => false,
                };
                if applies {
                    push(ChannelFinding {
                        kind: rule.kind,
                        use_: ChannelUse::ForMeasure(basis.measure),
                        explanation: describe(instrument, rule),
                        citation: cite(instrument, &rule.article),
                    });
                }
            }
        }
        channels
    }

    fn languages(&self, base: &Instrument, supplements: &[&Instrument]) -> LanguageAdvice {
        let requested = self.request.requested_country;
        for instrument in std::iter::once(base).chain(supplements.iter().copied()) {
            for declaration in &instrument.declarations {
                if declaration.state == requested && !declaration.languages.is_empty() {
                    return LanguageAdvice {
                        languages: declaration.languages.clone(),
                        basis: LanguageBasis::Declared(cite(instrument, &declaration.article)),
                        explanation: format!(
                            "{} declared under {} art. {} that it accepts requests in: {} (source: {}).",
                            requested.english_name(),
                            short_title(instrument),
                            declaration.article,
                            declaration.languages.join(", "),
                            declaration.source
                        ),
                    };
                }
            }
        }
        match self.catalog.official_languages(requested) {
            Some(languages) => LanguageAdvice {
                languages: languages.to_vec(),
                basis: LanguageBasis::OfficialLanguageNotVerified,
                explanation: format!(
                    "Official language(s) of {}: {}. No declaration on accepted languages is verified \
                     in the catalog; confirm with the central authority.",
                    requested.english_name(),
                    languages.join(", ")
                ),
            },
            None => LanguageAdvice {
                languages: Vec::new(),
                basis: LanguageBasis::Unknown,
                explanation: format!(
                    "The catalog holds no language information for {}; ask its central authority.",
                    requested.english_name()
                ),
            },
        }
    }

    fn checklist(&self, base: &Instrument) -> Vec<ContentCheck> {
        let (source, baseline_note) = match base.content.is_empty() {
            false => (base, None),
            true => match base
                .content_from
                .as_deref()
                .and_then(|id| self.catalog.instrument(id))
            {
                Some(baseline) => (
                    baseline,
                    Some(format!(
                        " ({}'s own list of contents is not in the catalog; {} is used as a baseline.)",
                        short_title(base),
                        short_title(baseline)
                    )),
                ),
                None => (base, None),
            },
        };
        source
            .content
            .iter()
            .map(|rule| {
                let (satisfied, mut explanation) = self.check_item(rule.item);
                if let Some(note) = &baseline_note {
                    explanation.push_str(note);
                }
                ContentCheck {
                    item: rule.item,
                    satisfied,
                    where_possible: rule.where_possible,
                    explanation,
                    citation: cite(source, &rule.article),
                }
            })
            .collect()
    }

    fn service_only(&self) -> bool {
        !self.measures.is_empty()
            && self
                .measures
                .iter()
                .all(|&measure| measure == MeasureKind::ServiceOfDocuments)
    }

    fn check_item(&self, item: ContentItem) -> (bool, String) {
        let request = self.request;
        let filled = |text: &str| !text.trim().is_empty();
        match item {
            ContentItem::RequestingAuthority => (
                true,
                format!("The requesting authority is {}.", request.requesting_authority),
            ),
            ContentItem::SubjectMatter => match filled(&request.subject_matter) {
                true => (true, "The subject matter and nature of the proceedings are stated.".into()),
                false => (false, "State the subject matter and nature of the investigation, prosecution or proceeding.".into()),
            },
            ContentItem::ConductingAuthority => match filled(&request.conducting_authority) {
                true => (true, "The authority conducting the proceedings is named.".into()),
                false => (false, "Name the authority conducting the proceedings and its functions.".into()),
            },
            ContentItem::SummaryOfFacts => {
                if self.service_only() {
                    (true, "Not needed: the request seeks only service of documents.".into())
                } else if filled(&request.summary_of_facts) {
                    (true, "A summary of the relevant facts is given.".into())
                } else {
                    (false, "Give a summary of the relevant facts.".into())
                }
            }
            ContentItem::OffenceDescription => {
                if self.service_only() {
                    (true, "Not needed: the request seeks only service of documents.".into())
                } else if !request.offences.is_empty()
                    && request
                        .offences
                        .iter()
                        .all(|offence| filled(&offence.national_provision))
                {
                    (true, "The offences and the provisions of law are stated.".into())
                } else {
                    (false, "State each offence and the provision of law that defines and punishes it.".into())
                }
            }
            ContentItem::MeasuresDescribed => {
                if request.measures.is_empty() {
                    (false, "Describe the assistance sought: no measure is listed.".into())
                } else if let Some(measure) = request
                    .measures
                    .iter()
                    .find(|measure| !filled(&measure.description))
                {
                    (
                        false,
                        format!(
                            "Describe what exactly is sought for \"{}\" and any procedure to follow.",
                            measure.kind.label()
                        ),
                    )
                } else {
                    (true, "Each measure sought is described.".into())
                }
            }
            ContentItem::PersonsIdentity => {
                let incomplete: Vec<&str> = request
                    .persons
                    .iter()
                    .filter(|person| {
                        person.nationalities.is_empty()
                            || person.full_name.trim().eq_ignore_ascii_case("unknown")
                            || person.location.as_deref().is_none_or(|place| place.trim().is_empty())
                    })
                    .map(|person| person.full_name.as_str())
                    .collect();
                if incomplete.is_empty() {
                    (true, "Identity, location and nationality are given for every person named.".into())
                } else {
                    (
                        false,
                        format!(
                            "Where possible, give identity, location and nationality of: {}.",
                            incomplete.join(", ")
                        ),
                    )
                }
            }
            ContentItem::Purpose => match filled(&request.purpose) {
                true => (true, "The purpose of the request is stated.".into()),
                false => (false, "State the purpose for which the evidence or information is sought.".into()),
            },
            ContentItem::LegalBasis => {
                let unknown: Vec<&str> = request
                    .legal_basis
                    .iter()
                    .filter(|id| self.catalog.instrument(id).is_none())
                    .map(String::as_str)
                    .collect();
                if request.legal_basis.is_empty() {
                    (false, "Name the instrument the request relies on.".into())
                } else if !unknown.is_empty() {
                    (false, format!("Unknown legal basis: {}.", unknown.join(", ")))
                } else {
                    (true, "The legal basis is named.".into())
                }
            }
        }
    }

    fn dual_criminality(&mut self, measure_bases: &[MeasureBasis]) -> Vec<DualCriminalityFinding> {
        let mut findings = Vec::new();
        for basis in measure_bases {
            let Some(instrument) = self.governing(basis) else {
                continue;
            };
            let finding = self.dual_criminality_for(instrument, basis.measure);
            if finding.outcome.is_required() && basis.measure.is_coercive() {
                self.warnings.push(Finding {
                    kind: FindingKind::CoerciveWithoutDualCriminality,
                    severity: Severity::Warning,
                    explanation: format!(
                        "{} is coercive and {} lets the requested state insist on dual criminality: \
                         unless the conduct is also an offence there, expect a refusal. {}",
                        basis.measure.label(),
                        short_title(instrument),
                        finding.explanation
                    ),
                    citation: finding.citation.clone(),
                });
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
        let label = measure.label();
        let finding =
            |outcome, severity, explanation: String, article: &str| DualCriminalityFinding {
                measure,
                outcome,
                severity,
                explanation,
                citation: cite(instrument, article),
            };
        let Some(rule) = &instrument.dual_criminality else {
            return finding(
                DualCriminalityOutcome::OptionalGround,
                Severity::Info,
                format!(
                    "The catalog does not record {}'s rule on dual criminality; check the treaty before \
                     relying on it for {label}.",
                    short_title(instrument)
                ),
                &instrument.basis_article,
            );
        };
        if let Some(exception) = rule
            .measure_exceptions
            .iter()
            .find(|exception| exception.measure == measure)
        {
            return finding(
                DualCriminalityOutcome::ExemptMeasure,
                Severity::Info,
                format!(
                    "Dual criminality is not required for {label} under {}.",
                    short_title(instrument)
                ),
                &exception.article,
            );
        }
        let coercive = measure.is_coercive();
        match rule.mode {
            DualCriminalityMode::NotRequired => finding(
                DualCriminalityOutcome::NotRequired,
                Severity::Info,
                format!("{} {}", short_title(instrument), rule.text),
                &rule.article,
            ),
            DualCriminalityMode::Required => finding(
                DualCriminalityOutcome::Required,
                if coercive {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                format!("For {label}: {}", rule.text),
                &rule.article,
            ),
            DualCriminalityMode::OptionalGround => finding(
                DualCriminalityOutcome::OptionalGround,
                if coercive {
                    Severity::Warning
                } else {
                    Severity::Info
                },
                format!(
                    "For {label}: {}{}",
                    rule.text,
                    if coercive {
                        " As the measure is coercive, the requested state is likely to use that discretion."
                    } else {
                        ""
                    }
                ),
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
                        format!(
                            "{label} is not coercive: dual criminality cannot be required for it under {}.",
                            short_title(instrument)
                        ),
                        article,
                    );
                }
                if let Some(exception) = &rule.list_exception {
                    let offences = &self.request.offences;
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
                            format!(
                                "Every offence is in a listed category and punishable in the requesting \
                                 state by at least {} months: dual criminality cannot be required for {label}.",
                                exception.min_penalty_months
                            ),
                            &exception.article,
                        );
                    }
                    let reasons: Vec<String> = offences
                        .iter()
                        .filter(|offence| {
                            !qualifies(
                                offence.maximum_penalty_months,
                                offence.category.is_annex_d(),
                            )
                        })
                        .map(|offence| {
                            if !offence.category.is_annex_d() {
                                format!("{} is not a listed category", offence.national_provision)
                            } else {
                                match offence.maximum_penalty_months {
                                    Some(months) => format!(
                                        "{} carries at most {months} months (threshold {})",
                                        offence.national_provision, exception.min_penalty_months
                                    ),
                                    None => format!(
                                        "{}: maximum penalty not stated",
                                        offence.national_provision
                                    ),
                                }
                            }
                        })
                        .collect();
                    let why = if offences.is_empty() {
                        "no offence is stated".to_string()
                    } else {
                        reasons.join("; ")
                    };
                    return finding(
                        DualCriminalityOutcome::Required,
                        Severity::Warning,
                        format!(
                            "{} The list exception does not apply to {label}: {why}.",
                            rule.text
                        ),
                        &exception.article,
                    );
                }
                finding(
                    DualCriminalityOutcome::Required,
                    Severity::Warning,
                    format!("For {label}: {}", rule.text),
                    &rule.article,
                )
            }
        }
    }

    fn facts(&self, dual_criminality: &[DualCriminalityFinding]) -> Facts {
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

    fn surrender_sought(&self) -> bool {
        self.measures.iter().any(|measure| measure.is_surrender())
    }

    fn death_penalty_without_assurances(&self) -> bool {
        self.surrender_sought()
            && !self.request.assurances_given
            && self
                .request
                .offences
                .iter()
                .any(|offence| offence.death_penalty_possible)
    }

    fn refusal_grounds(
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
                            self.warnings.push(Finding {
                                kind: FindingKind::RefusalGroundExcluded,
                                severity: Severity::Info,
                                explanation: format!(
                                    "{} is raised by the facts, but {} binds both states: {}",
                                    trigger_label(trigger),
                                    short_title(supplement),
                                    removal.text
                                ),
                                citation: cite(supplement, &removal.article),
                            });
                        }
                    }
                    None if facts.triggers.contains(&trigger) => triggers.push(trigger),
                    None => {}
                }
            }
            let raised = !triggers.is_empty();
            if raised {
                self.warnings.push(Finding {
                    kind: FindingKind::RefusalGroundRaised,
                    severity: if rule.kind == GroundKind::Mandatory
                        || triggers.contains(&Trigger::DeathPenalty)
                    {
                        Severity::Blocking
                    } else {
                        Severity::Warning
                    },
                    explanation: format!(
                        "{}: the requested state {} refuse under {} art. {}: {}",
                        triggers
                            .iter()
                            .map(|trigger| trigger_label(*trigger))
                            .collect::<Vec<_>>()
                            .join(", "),
                        if rule.kind == GroundKind::Mandatory {
                            "must"
                        } else {
                            "may"
                        },
                        short_title(base),
                        rule.article,
                        rule.text
                    ),
                    citation: cite(base, &rule.article),
                });
            }
            grounds.push(RefusalGround {
                code: rule.code.clone(),
                kind: rule.kind,
                description: rule.text.clone(),
                raised_by_facts: raised,
                triggers,
                removed_by,
                citation: cite(base, &rule.article),
            });
        }
        for rule in &base.no_refusal_on {
            if facts.triggers.contains(&rule.trigger) {
                self.warnings.push(Finding {
                    kind: FindingKind::RefusalGroundExcluded,
                    severity: Severity::Info,
                    explanation: format!(
                        "{}: {} ({} art. {}).",
                        trigger_label(rule.trigger),
                        rule.text,
                        short_title(base),
                        rule.article
                    ),
                    citation: cite(base, &rule.article),
                });
            }
        }
        grounds
    }

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

    fn push_safeguard(
        &mut self,
        kind: SafeguardKind,
        finding_kind: FindingKind,
        severity: Severity,
        facts: String,
        base: &Instrument,
    ) {
        let (citation, rule_text) = match self.safeguard(kind) {
            Some((instrument, rule)) => (
                cite(instrument, &rule.article),
                format!(
                    "{} art. {}: {}",
                    short_title(instrument),
                    rule.article,
                    rule.text
                ),
            ),
            None => (cite(base, &base.basis_article), String::new()),
        };
        self.warnings.push(Finding {
            kind: finding_kind,
            severity,
            explanation: format!("{facts} {rule_text}").trim().to_string(),
            citation,
        });
    }

    fn safeguards(&mut self, base: &Instrument) {
        let request = self.request;
        let requesting = request.requesting_country;
        let requested = request.requested_country;
        if self.death_penalty_without_assurances() {
            self.push_safeguard(
                SafeguardKind::DeathPenaltyAssurances,
                FindingKind::DeathPenaltyWithoutAssurances,
                Severity::Blocking,
                "Surrender is sought for an offence that may carry the death penalty in the requesting \
                 state, and no assurances are given."
                    .to_string(),
                base,
            );
        }
        let surrender = self.surrender_sought();
        let coercive = self.measures.iter().any(|measure| measure.is_coercive());
        for person in &request.persons {
            let name = person.full_name.as_str();
            if person.has(Vulnerability::AsylumSeekerOrRefugee) {
                if person.nationalities.contains(&requested) {
                    self.asylum_disclosure(name, base);
                }
                if surrender && person.nationalities.contains(&requesting) {
                    self.push_safeguard(
                        SafeguardKind::NonRefoulement,
                        FindingKind::NonRefoulement,
                        Severity::Blocking,
                        format!(
                            "{name} is an asylum seeker or refugee and a national of the requesting state, \
                             which seeks their surrender."
                        ),
                        base,
                    );
                }
            }
            if person.role.is_prosecuted() {
                if person.has(Vulnerability::TraffickingVictim) {
                    self.push_safeguard(
                        SafeguardKind::TraffickingVictimProtection,
                        FindingKind::VulnerablePersonProsecuted,
                        Severity::Warning,
                        format!("{name} is flagged as a victim of trafficking but treated as a suspect or accused."),
                        base,
                    );
                }
                if person.has(Vulnerability::Minor) {
                    self.push_safeguard(
                        SafeguardKind::ChildProtection,
                        FindingKind::VulnerablePersonProsecuted,
                        Severity::Warning,
                        format!("{name} is a minor treated as a suspect or accused: juvenile safeguards apply."),
                        base,
                    );
                }
            }
            if person.role == PersonRole::SmuggledMigrant && (surrender || coercive) {
                self.push_safeguard(
                    SafeguardKind::SmuggledMigrantNonLiability,
                    FindingKind::VulnerablePersonProsecuted,
                    Severity::Warning,
                    format!(
                        "{name} is a smuggled migrant and the request seeks coercive measures or surrender: \
                         make sure none is aimed at the migrant for having been smuggled."
                    ),
                    base,
                );
            }
        }
    }

    fn asylum_disclosure(&mut self, name: &str, base: &Instrument) {
        let requesting = self.request.requesting_country;
        let requested = self.request.requested_country;
        let catalog = self.catalog;
        let binding = catalog.instruments().iter().find_map(|instrument| {
            if !instrument.in_force_on(self.today) {
                return None;
            }
            instrument
                .safeguards
                .iter()
                .find(|rule| rule.kind == SafeguardKind::AsylumConfidentiality)
                .filter(|_| instrument.parties.binds(requesting, self.today).is_some())
                .map(|rule| (instrument, rule))
        });
        let facts = format!(
            "{name} is an asylum seeker or refugee and a national of {}, the requested state: the \
             request would tell the alleged actor of persecution about them.",
            requested.english_name()
        );
        match binding {
            Some((instrument, rule)) => self.warnings.push(Finding {
                kind: FindingKind::AsylumDisclosure,
                severity: Severity::Blocking,
                explanation: format!(
                    "{facts} {} binds {} on {}: {}",
                    short_title(instrument),
                    requesting.english_name(),
                    self.today,
                    rule.text
                ),
                citation: cite(instrument, &rule.article),
            }),
            None => self.push_safeguard(
                SafeguardKind::NonRefoulement,
                FindingKind::AsylumDisclosure,
                Severity::Warning,
                facts,
                base,
            ),
        }
    }

    fn legal_basis_mismatch(&mut self, prevailing: Option<&Prevailing>) {
        let Some(prevailing) = prevailing else {
            return;
        };
        let basis = &self.request.legal_basis;
        if basis.is_empty() || basis.contains(&prevailing.instrument_id) {
            return;
        }
        self.warnings.push(Finding {
            kind: FindingKind::LegalBasisMismatch,
            severity: Severity::Warning,
            explanation: format!(
                "The request relies on {}, but {} prevails between these states: cite it instead.",
                basis.join(", "),
                prevailing.title
            ),
            citation: prevailing.citation.clone(),
        });
    }

    fn deadlines(
        &mut self,
        base: &Instrument,
        candidates: &[Candidate<'a>],
        measure_bases: &[MeasureBasis],
    ) -> (Vec<DeadlineFinding>, DeadlinePolicy) {
        let urgent = self.request.urgency.is_urgent();
        let mut findings: Vec<DeadlineFinding> = Vec::new();
        let mut push_rules = |instrument: &Instrument, only: Option<MeasureKind>| {
            for rule in &instrument.deadlines {
                if rule.kind == DeadlineRuleKind::Urgent && !urgent {
                    continue;
                }
                let measure_ok = match (only, rule.measures.is_empty()) {
                    (_, true) => only.is_none(),
                    (Some(measure), false) => rule.measures.contains(&measure),
                    (None, false) => self.measures.iter().any(|m| rule.measures.contains(m)),
                };
                if !measure_ok {
                    continue;
                }
                let duplicate = findings.iter().any(|existing| {
                    existing.kind == rule.kind && existing.citation.instrument_id == instrument.id
                });
                if duplicate {
                    continue;
                }
                findings.push(DeadlineFinding {
                    kind: rule.kind,
                    days: rule.days,
                    explanation: format!(
                        "{} ({} art. {})",
                        rule.text,
                        short_title(instrument),
                        rule.article
                    ),
                    citation: cite(instrument, &rule.article),
                });
            }
        };
        push_rules(base, None);
        for basis in measure_bases {
            if let Some(instrument) = self.governing(basis)
                && instrument.id != base.id
                && candidates
                    .iter()
                    .any(|candidate| candidate.instrument.id == instrument.id)
            {
                push_rules(instrument, Some(basis.measure));
            }
        }
        let days = |kind: DeadlineRuleKind| {
            base.deadlines
                .iter()
                .find(|rule| rule.kind == kind)
                .and_then(|rule| rule.days)
                .map(i64::from)
        };
        let defaults = DeadlinePolicy::default();
        let acknowledgement = days(DeadlineRuleKind::Acknowledgement);
        let decision = days(DeadlineRuleKind::Decision);
        let execution = days(DeadlineRuleKind::Execution);
        if acknowledgement.is_none() && decision.is_none() && execution.is_none() {
            self.warnings.push(Finding {
                kind: FindingKind::NoFixedDeadlines,
                severity: Severity::Info,
                explanation: format!(
                    "{} fixes no time limits in days; the deadlines tracked ({} days to acknowledge, {} to \
                     decide, {} to execute) are internal targets, not legal obligations.",
                    short_title(base),
                    defaults.acknowledgement_days,
                    defaults.decision_days,
                    defaults.execution_days
                ),
                citation: cite(
                    base,
                    base.deadlines
                        .first()
                        .map_or(base.basis_article.as_str(), |rule| rule.article.as_str()),
                ),
            });
        }
        let policy = DeadlinePolicy {
            acknowledgement_days: acknowledgement.unwrap_or(defaults.acknowledgement_days),
            decision_days: decision.unwrap_or(defaults.decision_days),
            execution_days: execution.unwrap_or(defaults.execution_days),
        };
        (findings, policy)
    }
}

/// How the prevailing instrument was chosen.
struct Decision {
    reason: String,
    citation: Citation,
}

/// Why `winner` beats `loser`, if a rule of either says so.
fn beats(winner: &Instrument, loser: &Instrument) -> Option<Citation> {
    if let Some(rule) = winner
        .prevails_over
        .iter()
        .find(|rule| rule.target == PrecedenceTarget::Instrument(loser.id.clone()))
    {
        return Some(cite(winner, &rule.article));
    }
    let winner_defers_generally = winner
        .gives_way_to
        .iter()
        .any(|rule| rule.target == PrecedenceTarget::AnyMlaTreaty);
    loser
        .gives_way_to
        .iter()
        .find(|rule| match &rule.target {
            PrecedenceTarget::Instrument(id) => *id == winner.id,
            PrecedenceTarget::AnyMlaTreaty => !winner_defers_generally,
        })
        .map(|rule| cite(loser, &rule.article))
}

fn choose_prevailing(candidates: &[Candidate<'_>]) -> Option<(usize, Decision)> {
    if candidates.is_empty() {
        return None;
    }
    let beaten = |index: usize| {
        candidates.iter().enumerate().any(|(other, candidate)| {
            other != index && beats(candidate.instrument, candidates[index].instrument).is_some()
        })
    };
    let mut unbeaten: Vec<usize> = (0..candidates.len()).filter(|&i| !beaten(i)).collect();
    if unbeaten.is_empty() {
        unbeaten = (0..candidates.len()).collect();
    }
    unbeaten.sort_by(|&left, &right| {
        let key = |i: usize| (candidates[i].instrument.kind, &candidates[i].instrument.id);
        key(left).cmp(&key(right))
    });
    let winner_index = unbeaten[0];
    let winner = candidates[winner_index].instrument;
    let mut rules: Vec<(String, Citation)> = Vec::new();
    for candidate in candidates {
        if candidate.instrument.id == winner.id {
            continue;
        }
        if let Some(citation) = beats(winner, candidate.instrument) {
            rules.push((short_title(candidate.instrument).to_string(), citation));
        }
    }
    let decision = if candidates.len() == 1 {
        Decision {
            reason: format!(
                "{} is the only instrument in the catalog that binds both states, is in force and covers \
                 the request.",
                winner.title
            ),
            citation: cite(winner, &winner.basis_article),
        }
    } else if let Some((_, citation)) = rules.first() {
        let others: Vec<String> = rules
            .iter()
            .map(|(title, citation)| {
                let rule = precedence_text(candidates, citation);
                format!(
                    "{title} (art. {} of {}: {rule})",
                    citation.article, citation.instrument_id
                )
            })
            .collect();
        let mut reason = format!("{} prevails over {}.", winner.title, others.join("; "));
        if unbeaten.len() > 1 {
            reason.push_str(" Other instruments remain available; the most specific one is used.");
        }
        Decision {
            reason,
            citation: citation.clone(),
        }
    } else {
        Decision {
            reason: format!(
                "{} and the other applicable instruments do not say which gives way; the most specific \
                 ({}) is used and the others remain available.",
                winner.title,
                winner.kind.code()
            ),
            citation: cite(winner, &winner.basis_article),
        }
    };
    Some((winner_index, decision))
}

fn precedence_text(candidates: &[Candidate<'_>], citation: &Citation) -> String {
    candidates
        .iter()
        .filter(|candidate| candidate.instrument.id == citation.instrument_id)
        .flat_map(|candidate| {
            candidate
                .instrument
                .prevails_over
                .iter()
                .chain(candidate.instrument.gives_way_to.iter())
        })
        .find(|rule| rule.article == citation.article)
        .map(|rule| rule.text.clone())
        .unwrap_or_default()
}

fn short_title(instrument: &Instrument) -> &str {
    instrument
        .title
        .split_once(" (")
        .map_or(instrument.title.as_str(), |(short, _)| short)
}

fn channel_label(kind: ChannelKind) -> &'static str {
    match kind {
        ChannelKind::CentralAuthority => "Between central authorities",
        ChannelKind::DirectJudicial => "Directly between judicial authorities",
        ChannelKind::Interpol => "Through INTERPOL",
        ChannelKind::Network247 => "Through the 24/7 network of contact points",
        ChannelKind::Diplomatic => "Through the diplomatic channel",
    }
}

fn trigger_label(trigger: Trigger) -> &'static str {
    match trigger {
        Trigger::PoliticalOffence => "Political offence",
        Trigger::FiscalOffence => "Fiscal offence",
        Trigger::NoDualCriminality => "Dual criminality required for a coercive measure",
        Trigger::DeathPenalty => "Death penalty without assurances",
    }
}
