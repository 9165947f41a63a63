//! Findings as codes with parameters, and the wording that turns them into sentences.
//!
//! The engine never writes a sentence itself (a warning, why an instrument prevails, a
//! channel, a checklist item...): it records a [`FindingCode`] and named, typed
//! [`FindingParameter`]s (a parameter may itself be a [`Sentence`], where one sentence
//! cites others), and [`render`] turns them into text through one language's [`Wording`]
//! table, replacing each `{name}` of the code's template by the parameter of that name.
//! Only the English table exists ([`ENGLISH`]); a translation is one more `Wording` value,
//! found by [`wording_for`], and needs no new code. A code missing from a translation
//! falls back to English.
//!
//! Countries and measures are written with the domain's English names until the
//! interface's translations carry their own lists.

use comity_domain::{CountryCode, Date, MeasureKind, coded_enum};

use crate::model::{ChannelKind, Trigger};

coded_enum! {
    /// What a finding says: one code per form of sentence. Codes are kebab-case and
    /// stable, as translation tables and API clients key on them.
    pub enum FindingCode ("finding code") {
        /// The instrument applies only if a fact the engine cannot check holds.
        ScopeAssumption = ("scope-assumption", "the instrument's scope depends on a fact to confirm"),
        /// No instrument binds both states: reciprocity and letters rogatory.
        NoInstrument = ("no-instrument", "no instrument binds both states"),
        /// The date from which the prevailing instrument binds a state is not verified.
        PartyDateUnverified = ("party-date-unverified", "a party's date of entry into force is not verified"),
        /// No applicable instrument covers a measure.
        MeasureNotCovered = ("measure-not-covered", "a measure is not covered"),
        /// A coercive measure for which the requested state may insist on dual criminality.
        CoerciveWithoutDualCriminality = ("coercive-without-dual-criminality", "dual criminality may be required for a coercive measure"),
        /// A ground raised by the facts is removed by a supplement binding both states.
        RefusalGroundRemovedBySupplement = ("refusal-ground-removed-by-supplement", "a ground for refusal is removed by a supplement"),
        /// The facts raise a mandatory ground for refusal.
        MandatoryRefusalGroundRaised = ("mandatory-refusal-ground-raised", "a mandatory ground for refusal is raised"),
        /// The facts raise an optional ground for refusal.
        OptionalRefusalGroundRaised = ("optional-refusal-ground-raised", "an optional ground for refusal is raised"),
        /// The instrument excludes refusal on a ground the facts raise.
        RefusalExcluded = ("refusal-excluded", "refusal on this ground is excluded"),
        /// Surrender for an offence that may carry the death penalty, without assurances.
        DeathPenaltyWithoutAssurances = ("death-penalty-without-assurances", "death penalty without assurances"),
        /// Surrender of a refugee to the state of nationality.
        RefugeeSurrenderToNationalState = ("refugee-surrender-to-national-state", "surrender of a refugee to their state"),
        /// A victim of trafficking treated as a suspect or accused.
        TraffickingVictimProsecuted = ("trafficking-victim-prosecuted", "a victim of trafficking is prosecuted"),
        /// A minor treated as a suspect or accused.
        MinorProsecuted = ("minor-prosecuted", "a minor is prosecuted"),
        /// Coercive measures or surrender where a smuggled migrant is named.
        SmuggledMigrantTargeted = ("smuggled-migrant-targeted", "a smuggled migrant may be targeted"),
        /// Information about an asylum seeker would reach their state, which is bound to confidentiality.
        AsylumDisclosureConfidentialityBinds = ("asylum-disclosure-confidentiality-binds", "asylum confidentiality binds the requesting state"),
        /// Information about an asylum seeker would reach their state.
        AsylumDisclosure = ("asylum-disclosure", "information would reach an asylum seeker's state"),
        /// The request cites another instrument than the prevailing one.
        LegalBasisMismatch = ("legal-basis-mismatch", "the request cites another legal basis"),
        /// The prevailing instrument fixes no time limits in days.
        NoFixedDeadlines = ("no-fixed-deadlines", "no fixed time limits"),
        /// Why the prevailing instrument prevails: it is the only one that applies.
        PrevailsAsOnlyInstrument = ("prevails-as-only-instrument", "the only instrument that applies"),
        /// Why the prevailing instrument prevails: rules of precedence say so.
        PrevailsOver = ("prevails-over", "prevails over the others"),
        /// As `prevails-over`, other unbeaten instruments remaining available.
        PrevailsOverOthersAvailable = ("prevails-over-others-available", "prevails over some, others remain available"),
        /// One rule of precedence, cited inside `prevails-over`.
        PrecedenceRule = ("precedence-rule", "a rule of precedence"),
        /// Why the prevailing instrument prevails: no rule decides, the most specific is used.
        PrevailsAsMostSpecific = ("prevails-as-most-specific", "the most specific instrument is used"),
        /// A measure governed by the instrument that is its specific regime.
        MeasureSpecificRegime = ("measure-specific-regime", "the specific regime for the measure"),
        /// A measure covered by the prevailing instrument.
        MeasureCoveredByPrevailing = ("measure-covered-by-prevailing", "covered by the prevailing instrument"),
        /// A measure the prevailing instrument does not cover, covered by another one.
        MeasureCoveredByOther = ("measure-covered-by-other", "covered by another instrument"),
        /// A measure sought by letters rogatory on reciprocity.
        MeasureByReciprocity = ("measure-by-reciprocity", "letters rogatory on reciprocity"),
        /// A measure no applicable instrument covers.
        MeasureUncovered = ("measure-uncovered", "not covered by any applicable instrument"),
        /// A channel the request may take.
        Channel = ("channel", "a channel"),
        /// A channel the request may take, with the catalog's conditions.
        ChannelWithConditions = ("channel-with-conditions", "a channel, with its conditions"),
        /// The languages the requested state declared it accepts.
        LanguagesDeclared = ("languages-declared", "languages declared"),
        /// The official languages of the requested state, no declaration being verified.
        LanguagesOfficial = ("languages-official", "official languages"),
        /// No language information on the requested state.
        LanguagesUnknown = ("languages-unknown", "languages not known"),
        /// The requesting authority (always present).
        ContentRequestingAuthority = ("content-requesting-authority", "the requesting authority"),
        /// The subject matter is stated.
        ContentSubjectMatterStated = ("content-subject-matter-stated", "subject matter stated"),
        /// The subject matter is missing.
        ContentSubjectMatterMissing = ("content-subject-matter-missing", "subject matter missing"),
        /// The conducting authority is named.
        ContentConductingAuthorityNamed = ("content-conducting-authority-named", "conducting authority named"),
        /// The conducting authority is missing.
        ContentConductingAuthorityMissing = ("content-conducting-authority-missing", "conducting authority missing"),
        /// An item not needed when only service of documents is sought.
        ContentNotNeededForService = ("content-not-needed-for-service", "not needed for service of documents"),
        /// The summary of facts is given.
        ContentFactsGiven = ("content-facts-given", "summary of facts given"),
        /// The summary of facts is missing.
        ContentFactsMissing = ("content-facts-missing", "summary of facts missing"),
        /// The offences and provisions are stated.
        ContentOffencesStated = ("content-offences-stated", "offences stated"),
        /// An offence or its provision is missing.
        ContentOffencesMissing = ("content-offences-missing", "offences missing"),
        /// No measure is listed.
        ContentNoMeasure = ("content-no-measure", "no measure listed"),
        /// A measure is not described.
        ContentMeasureUndescribed = ("content-measure-undescribed", "a measure not described"),
        /// Every measure is described.
        ContentMeasuresDescribed = ("content-measures-described", "measures described"),
        /// Every person named is identified.
        ContentPersonsIdentified = ("content-persons-identified", "persons identified"),
        /// Some persons named lack identity, location or nationality.
        ContentPersonsIncomplete = ("content-persons-incomplete", "persons incompletely identified"),
        /// The purpose is stated.
        ContentPurposeStated = ("content-purpose-stated", "purpose stated"),
        /// The purpose is missing.
        ContentPurposeMissing = ("content-purpose-missing", "purpose missing"),
        /// No legal basis is named.
        ContentLegalBasisMissing = ("content-legal-basis-missing", "legal basis missing"),
        /// The legal basis names instruments the catalog does not know.
        ContentLegalBasisUnknown = ("content-legal-basis-unknown", "legal basis unknown"),
        /// The legal basis is named.
        ContentLegalBasisNamed = ("content-legal-basis-named", "legal basis named"),
        /// Appended to a checklist item: another instrument's list of contents is used.
        ContentBaseline = ("content-baseline", "another instrument's list is used"),
        /// The catalog does not record the instrument's rule on dual criminality.
        DualCriminalityNotRecorded = ("dual-criminality-not-recorded", "rule on dual criminality not recorded"),
        /// Dual criminality is not required for this measure.
        DualCriminalityExemptMeasure = ("dual-criminality-exempt-measure", "not required for this measure"),
        /// The instrument does not require dual criminality.
        DualCriminalityNotRequired = ("dual-criminality-not-required", "not required"),
        /// The instrument's rule on dual criminality, for a measure.
        DualCriminalityRuleForMeasure = ("dual-criminality-rule-for-measure", "the rule for the measure"),
        /// An optional ground the requested state is likely to use, the measure being coercive.
        DualCriminalityDiscretionLikely = ("dual-criminality-discretion-likely", "discretion likely used"),
        /// Dual criminality cannot be required for a measure that is not coercive.
        DualCriminalityNotCoercive = ("dual-criminality-not-coercive", "not coercive"),
        /// The list exception applies to every offence.
        DualCriminalityListException = ("dual-criminality-list-exception", "list exception"),
        /// The list exception does not apply, for the reasons given.
        DualCriminalityListExceptionFails = ("dual-criminality-list-exception-fails", "list exception does not apply"),
        /// The list exception does not apply as no offence is stated.
        DualCriminalityListExceptionNoOffence = ("dual-criminality-list-exception-no-offence", "list exception: no offence stated"),
        /// An offence whose category is not listed (a reason inside a sentence).
        OffenceNotListed = ("offence-not-listed", "offence not in a listed category"),
        /// An offence whose maximum penalty is under the threshold (a reason inside a sentence).
        OffenceBelowThreshold = ("offence-below-threshold", "penalty under the threshold"),
        /// An offence whose maximum penalty is not stated (a reason inside a sentence).
        OffencePenaltyNotStated = ("offence-penalty-not-stated", "maximum penalty not stated"),
        /// A time limit of an instrument.
        DeadlineRule = ("deadline-rule", "a time limit"),
        /// A condition the governing instrument sets for a measure.
        MeasureCondition = ("measure-condition", "a condition of the measure"),
        /// A measure needs a person's consent, which the request does not record.
        ConsentRequired = ("consent-required", "a person's consent is needed"),
        /// A measure needs the consent of the person concerned, none being named.
        ConsentRequiredUnnamed = ("consent-required-unnamed", "the person's consent is needed"),
        /// As `measure-condition`, with further grounds for refusal of the measure.
        MeasureConditionWithGrounds = ("measure-condition-with-grounds", "a condition of the measure, with its grounds for refusal"),
        /// A further ground for refusal of one measure (inside a sentence).
        MeasureGround = ("measure-ground", "a ground for refusal of the measure"),
        /// What the requesting state may do with what it receives.
        UseRestriction = ("use-restriction", "limits on the use of what is received"),
        /// A smuggled migrant is named: protection and assistance are owed.
        SmuggledMigrantProtection = ("smuggled-migrant-protection", "a smuggled migrant is owed protection"),
        /// A victim of trafficking is named: protect their privacy and identity.
        TraffickingVictimPrivacy = ("trafficking-victim-privacy", "a victim's privacy and identity"),
        /// The reply would reach an asylum seeker's state, the requesting state, which the requested state's rule forbids.
        AsylumReplyConfidentialityBinds = ("asylum-reply-confidentiality-binds", "asylum confidentiality binds the requested state"),
        /// The reply would reach an asylum seeker's state, the requesting state.
        AsylumReply = ("asylum-reply", "the reply would reach an asylum seeker's state"),
        /// Temporary transfer of a refugee in custody to their state.
        RefugeeTransferToNationalState = ("refugee-transfer-to-national-state", "transfer of a refugee to their state"),
    }
}

coded_enum! {
    /// The name of a finding's parameter, as written in templates (`{instrument}`) and in
    /// the API's `parameters` object.
    pub enum ParameterName ("parameter name") {
        /// The title of the instrument concerned.
        Instrument = ("instrument", "instrument"),
        /// The article of the rule.
        Article = ("article", "article"),
        /// The text of a catalog rule or note, as written in the catalog.
        Rule = ("rule", "rule"),
        /// Where the catalog's information comes from.
        Source = ("source", "source"),
        /// The requesting state.
        RequestingCountry = ("requesting_country", "requesting state"),
        /// The requested state.
        RequestedCountry = ("requested_country", "requested state"),
        /// The date the law was applied at.
        Date = ("date", "date"),
        /// A measure of the request.
        Measure = ("measure", "measure"),
        /// The name of a person concerned, as written in the request.
        Person = ("person", "person"),
        /// The facts that raise a ground for refusal.
        Triggers = ("triggers", "facts"),
        /// The instrument ids the request relies on.
        LegalBasis = ("legal_basis", "legal basis"),
        /// A safeguard rule of the catalog, cited after the facts (absent when none is known).
        Safeguard = ("safeguard", "safeguard"),
        /// The dual-criminality finding for the measure, as a sentence of its own.
        DualCriminality = ("dual_criminality", "dual criminality"),
        /// Days to acknowledge receipt.
        AcknowledgementDays = ("acknowledgement_days", "days to acknowledge"),
        /// Days to decide.
        DecisionDays = ("decision_days", "days to decide"),
        /// Days to execute.
        ExecutionDays = ("execution_days", "days to execute"),
        /// The instrument that prevails, where another is also named.
        PrevailingInstrument = ("prevailing_instrument", "prevailing instrument"),
        /// The catalog id of an instrument.
        InstrumentId = ("instrument_id", "instrument id"),
        /// The kind of an instrument, as its catalog code.
        InstrumentKind = ("instrument_kind", "instrument kind"),
        /// The rules of precedence by which the instrument prevails.
        Others = ("others", "rules of precedence"),
        /// A channel.
        Channel = ("channel", "channel"),
        /// ISO 639-1 language codes.
        Languages = ("languages", "languages"),
        /// An authority, by its id.
        Authority = ("authority", "authority"),
        /// The names of persons concerned.
        Persons = ("persons", "persons"),
        /// A note on the instrument whose list of contents is used (absent when none is).
        Baseline = ("baseline", "baseline"),
        /// The instrument whose list of contents is used as a baseline.
        BaselineInstrument = ("baseline_instrument", "baseline instrument"),
        /// The national provision of an offence.
        Provision = ("provision", "provision"),
        /// A maximum penalty in months.
        Months = ("months", "months"),
        /// The threshold of the list exception, in months.
        ThresholdMonths = ("threshold_months", "threshold in months"),
        /// Why the list exception does not apply, offence by offence.
        Reasons = ("reasons", "reasons"),
        /// Further grounds for refusal of a measure, as sentences.
        Grounds = ("grounds", "grounds for refusal"),
    }
}

/// A catalog rule cited inside a sentence: instrument, article and text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitedRule {
    /// The instrument's short title.
    pub instrument: String,
    /// The article.
    pub article: String,
    /// The rule as the catalog words it.
    pub text: String,
}

/// The value of a finding's parameter, typed so that each language can write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParameterValue {
    /// Text written as it is: a title, an article, a catalog rule, a person's name.
    Text(String),
    /// Several texts, written as a list.
    Texts(Vec<String>),
    /// A state.
    Country(CountryCode),
    /// A date.
    Date(Date),
    /// A measure.
    Measure(MeasureKind),
    /// A number of days.
    Days(i64),
    /// Facts that raise grounds for refusal.
    Triggers(Vec<Trigger>),
    /// A catalog rule cited after a sentence, or `None` where the catalog has none.
    CitedRule(Option<CitedRule>),
    /// A number of months.
    Months(i64),
    /// A channel.
    Channel(ChannelKind),
    /// A sentence inside a sentence, or `None` where there is nothing to add.
    Sentence(Option<Box<Sentence>>),
    /// Several sentences inside a sentence, written as clauses of one list.
    Sentences(Vec<Sentence>),
}

/// A form of sentence with its parameters, not yet written in any language: what every
/// finding of an assessment holds, and the value of a parameter that nests one sentence in
/// another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sentence {
    /// The form of the sentence.
    pub code: FindingCode,
    /// The values it refers to.
    pub parameters: Vec<FindingParameter>,
}

impl Sentence {
    /// A sentence from its code and parameters.
    pub fn new(code: FindingCode, parameters: Vec<FindingParameter>) -> Self {
        Sentence { code, parameters }
    }

    /// The sentence in the language of `wording`.
    pub fn text(&self, wording: &Wording) -> String {
        render(self.code, &self.parameters, wording)
    }

    /// Its code, its parameters and its English text, for the fields of a finding.
    pub fn into_parts(self) -> (FindingCode, Vec<FindingParameter>, String) {
        let english = self.text(&ENGLISH);
        (self.code, self.parameters, english)
    }
}

impl From<&str> for ParameterValue {
    fn from(text: &str) -> Self {
        ParameterValue::Text(text.to_string())
    }
}

impl From<String> for ParameterValue {
    fn from(text: String) -> Self {
        ParameterValue::Text(text)
    }
}

impl From<CountryCode> for ParameterValue {
    fn from(country: CountryCode) -> Self {
        ParameterValue::Country(country)
    }
}

impl From<Date> for ParameterValue {
    fn from(date: Date) -> Self {
        ParameterValue::Date(date)
    }
}

impl From<Sentence> for ParameterValue {
    fn from(sentence: Sentence) -> Self {
        ParameterValue::Sentence(Some(Box::new(sentence)))
    }
}

impl From<ChannelKind> for ParameterValue {
    fn from(channel: ChannelKind) -> Self {
        ParameterValue::Channel(channel)
    }
}

impl From<MeasureKind> for ParameterValue {
    fn from(measure: MeasureKind) -> Self {
        ParameterValue::Measure(measure)
    }
}

/// One named parameter of a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FindingParameter {
    /// Its name in templates.
    pub name: ParameterName,
    /// Its value.
    pub value: ParameterValue,
}

impl FindingParameter {
    /// A parameter from a name and anything that converts to a value.
    pub fn new(name: ParameterName, value: impl Into<ParameterValue>) -> Self {
        FindingParameter {
            name,
            value: value.into(),
        }
    }
}

/// One language's wording of the findings.
#[derive(Debug)]
pub struct Wording {
    /// ISO 639-1 code of the language.
    pub language: &'static str,
    /// A template per finding code; `{name}` stands for the parameter of that name.
    pub templates: &'static [(FindingCode, &'static str)],
    /// How a cited rule is written after a sentence, with its leading space; `{instrument}`,
    /// `{article}` and `{rule}` stand for its parts.
    pub cited_rule: &'static str,
    /// The name of each fact that raises a ground for refusal.
    pub triggers: &'static [(Trigger, &'static str)],
    /// The name of each channel, as it opens a sentence.
    pub channels: &'static [(ChannelKind, &'static str)],
    /// Between the items of a list.
    pub list_separator: &'static str,
    /// Between clauses written as one list (the sentences of [`ParameterValue::Sentences`]).
    pub clause_separator: &'static str,
}

/// The English wording.
pub const ENGLISH: Wording = Wording {
    language: "en",
    templates: &[
        (
            FindingCode::ScopeAssumption,
            "{instrument} applies only if: {rule}",
        ),
        (
            FindingCode::NoInstrument,
            "No instrument in the catalog binds both {requesting_country} and {requested_country} and \
             covers this request on {date}: send letters rogatory through the diplomatic channel and \
             rely on reciprocity under the requested state's domestic law.",
        ),
        (
            FindingCode::PartyDateUnverified,
            "The date from which {instrument} binds one of the two states is not verified in the \
             catalog ({source}); confirm it before relying on it.",
        ),
        (
            FindingCode::MeasureNotCovered,
            "No applicable instrument in the catalog covers {measure} between these states; it needs \
             another basis (for surrender, an extradition treaty or arrangement).",
        ),
        (
            FindingCode::CoerciveWithoutDualCriminality,
            "{measure} is coercive and {instrument} lets the requested state insist on dual \
             criminality: unless the conduct is also an offence there, expect a refusal. \
             {dual_criminality}",
        ),
        (
            FindingCode::RefusalGroundRemovedBySupplement,
            "{triggers} is raised by the facts, but {instrument} binds both states: {rule}",
        ),
        (
            FindingCode::MandatoryRefusalGroundRaised,
            "{triggers}: the requested state must refuse under {instrument} art. {article}: {rule}",
        ),
        (
            FindingCode::OptionalRefusalGroundRaised,
            "{triggers}: the requested state may refuse under {instrument} art. {article}: {rule}",
        ),
        (
            FindingCode::RefusalExcluded,
            "{triggers}: {rule} ({instrument} art. {article}).",
        ),
        (
            FindingCode::DeathPenaltyWithoutAssurances,
            "Surrender is sought for an offence that may carry the death penalty in the requesting \
             state, and no assurances are given.{safeguard}",
        ),
        (
            FindingCode::RefugeeSurrenderToNationalState,
            "{person} is an asylum seeker or refugee and a national of the requesting state, which \
             seeks their surrender.{safeguard}",
        ),
        (
            FindingCode::TraffickingVictimProsecuted,
            "{person} is flagged as a victim of trafficking but treated as a suspect or \
             accused.{safeguard}",
        ),
        (
            FindingCode::MinorProsecuted,
            "{person} is a minor treated as a suspect or accused: juvenile safeguards \
             apply.{safeguard}",
        ),
        (
            FindingCode::SmuggledMigrantTargeted,
            "{person} is a smuggled migrant and the request seeks coercive measures or surrender: \
             make sure none is aimed at the migrant for having been smuggled.{safeguard}",
        ),
        (
            FindingCode::AsylumDisclosureConfidentialityBinds,
            "{person} is an asylum seeker or refugee and a national of {requested_country}, the \
             requested state: the request would tell the alleged actor of persecution about them. \
             {instrument} binds {requesting_country} on {date}: {rule}",
        ),
        (
            FindingCode::AsylumDisclosure,
            "{person} is an asylum seeker or refugee and a national of {requested_country}, the \
             requested state: the request would tell the alleged actor of persecution about \
             them.{safeguard}",
        ),
        (
            FindingCode::LegalBasisMismatch,
            "The request relies on {legal_basis}, but {instrument} prevails between these states: \
             cite it instead.",
        ),
        (
            FindingCode::NoFixedDeadlines,
            "{instrument} fixes no time limits in days; the deadlines tracked \
             ({acknowledgement_days} days to acknowledge, {decision_days} to decide, \
             {execution_days} to execute) are internal targets, not legal obligations.",
        ),
        (
            FindingCode::PrevailsAsOnlyInstrument,
            "{instrument} is the only instrument in the catalog that binds both states, is in force \
             and covers the request.",
        ),
        (
            FindingCode::PrevailsOver,
            "{instrument} prevails over {others}.",
        ),
        (
            FindingCode::PrevailsOverOthersAvailable,
            "{instrument} prevails over {others}. Other instruments remain available; the most \
             specific one is used.",
        ),
        (
            FindingCode::PrecedenceRule,
            "{instrument} (art. {article} of {instrument_id}: {rule})",
        ),
        (
            FindingCode::PrevailsAsMostSpecific,
            "{instrument} and the other applicable instruments do not say which gives way; the most \
             specific ({instrument_kind}) is used and the others remain available.",
        ),
        (
            FindingCode::MeasureSpecificRegime,
            "{instrument} is the specific regime for {measure}.",
        ),
        (
            FindingCode::MeasureCoveredByPrevailing,
            "Covered by the prevailing {instrument}.",
        ),
        (
            FindingCode::MeasureCoveredByOther,
            "Not covered by the prevailing {prevailing_instrument}; {instrument} covers it between \
             the two states.",
        ),
        (
            FindingCode::MeasureByReciprocity,
            "No instrument applies: letters rogatory on reciprocity.",
        ),
        (
            FindingCode::MeasureUncovered,
            "Not covered by any applicable instrument.",
        ),
        (FindingCode::Channel, "{channel} under {instrument}"),
        (
            FindingCode::ChannelWithConditions,
            "{channel} under {instrument}: {rule}",
        ),
        (
            FindingCode::LanguagesDeclared,
            "{requested_country} declared under {instrument} art. {article} that it accepts requests \
             in: {languages} (source: {source}).",
        ),
        (
            FindingCode::LanguagesOfficial,
            "Official language(s) of {requested_country}: {languages}. No declaration on accepted \
             languages is verified in the catalog; confirm with the central authority.",
        ),
        (
            FindingCode::LanguagesUnknown,
            "The catalog holds no language information for {requested_country}; ask its central \
             authority.",
        ),
        (
            FindingCode::ContentRequestingAuthority,
            "The requesting authority is {authority}.{baseline}",
        ),
        (
            FindingCode::ContentSubjectMatterStated,
            "The subject matter and nature of the proceedings are stated.{baseline}",
        ),
        (
            FindingCode::ContentSubjectMatterMissing,
            "State the subject matter and nature of the investigation, prosecution or \
             proceeding.{baseline}",
        ),
        (
            FindingCode::ContentConductingAuthorityNamed,
            "The authority conducting the proceedings is named.{baseline}",
        ),
        (
            FindingCode::ContentConductingAuthorityMissing,
            "Name the authority conducting the proceedings and its functions.{baseline}",
        ),
        (
            FindingCode::ContentNotNeededForService,
            "Not needed: the request seeks only service of documents.{baseline}",
        ),
        (
            FindingCode::ContentFactsGiven,
            "A summary of the relevant facts is given.{baseline}",
        ),
        (
            FindingCode::ContentFactsMissing,
            "Give a summary of the relevant facts.{baseline}",
        ),
        (
            FindingCode::ContentOffencesStated,
            "The offences and the provisions of law are stated.{baseline}",
        ),
        (
            FindingCode::ContentOffencesMissing,
            "State each offence and the provision of law that defines and punishes it.{baseline}",
        ),
        (
            FindingCode::ContentNoMeasure,
            "Describe the assistance sought: no measure is listed.{baseline}",
        ),
        (
            FindingCode::ContentMeasureUndescribed,
            "Describe what exactly is sought for \"{measure}\" and any procedure to \
             follow.{baseline}",
        ),
        (
            FindingCode::ContentMeasuresDescribed,
            "Each measure sought is described.{baseline}",
        ),
        (
            FindingCode::ContentPersonsIdentified,
            "Identity, location and nationality are given for every person named.{baseline}",
        ),
        (
            FindingCode::ContentPersonsIncomplete,
            "Where possible, give identity, location and nationality of: {persons}.{baseline}",
        ),
        (
            FindingCode::ContentPurposeStated,
            "The purpose of the request is stated.{baseline}",
        ),
        (
            FindingCode::ContentPurposeMissing,
            "State the purpose for which the evidence or information is sought.{baseline}",
        ),
        (
            FindingCode::ContentLegalBasisMissing,
            "Name the instrument the request relies on.{baseline}",
        ),
        (
            FindingCode::ContentLegalBasisUnknown,
            "Unknown legal basis: {legal_basis}.{baseline}",
        ),
        (
            FindingCode::ContentLegalBasisNamed,
            "The legal basis is named.{baseline}",
        ),
        (
            FindingCode::ContentBaseline,
            " ({instrument}'s own list of contents is not in the catalog; {baseline_instrument} is \
             used as a baseline.)",
        ),
        (
            FindingCode::DualCriminalityNotRecorded,
            "The catalog does not record {instrument}'s rule on dual criminality; check the treaty \
             before relying on it for {measure}.",
        ),
        (
            FindingCode::DualCriminalityExemptMeasure,
            "Dual criminality is not required for {measure} under {instrument}.",
        ),
        (
            FindingCode::DualCriminalityNotRequired,
            "{instrument} {rule}",
        ),
        (
            FindingCode::DualCriminalityRuleForMeasure,
            "For {measure}: {rule}",
        ),
        (
            FindingCode::DualCriminalityDiscretionLikely,
            "For {measure}: {rule} As the measure is coercive, the requested state is likely to use \
             that discretion.",
        ),
        (
            FindingCode::DualCriminalityNotCoercive,
            "{measure} is not coercive: dual criminality cannot be required for it under \
             {instrument}.",
        ),
        (
            FindingCode::DualCriminalityListException,
            "Every offence is in a listed category and punishable in the requesting state by at \
             least {threshold_months} months: dual criminality cannot be required for {measure}.",
        ),
        (
            FindingCode::DualCriminalityListExceptionFails,
            "{rule} The list exception does not apply to {measure}: {reasons}.",
        ),
        (
            FindingCode::DualCriminalityListExceptionNoOffence,
            "{rule} The list exception does not apply to {measure}: no offence is stated.",
        ),
        (
            FindingCode::OffenceNotListed,
            "{provision} is not a listed category",
        ),
        (
            FindingCode::OffenceBelowThreshold,
            "{provision} carries at most {months} months (threshold {threshold_months})",
        ),
        (
            FindingCode::OffencePenaltyNotStated,
            "{provision}: maximum penalty not stated",
        ),
        (
            FindingCode::DeadlineRule,
            "{rule} ({instrument} art. {article})",
        ),
        (
            FindingCode::MeasureCondition,
            "{measure}: {instrument} art. {article}: {rule}",
        ),
        (
            FindingCode::MeasureConditionWithGrounds,
            "{measure}: {instrument} art. {article}: {rule} Besides the general grounds, it may \
             be refused where: {grounds}.",
        ),
        (
            FindingCode::ConsentRequired,
            "{measure} needs the consent of {persons}, which the request does not record: obtain \
             and record it before sending ({instrument} art. {article}: {rule}).",
        ),
        (
            FindingCode::ConsentRequiredUnnamed,
            "{measure} needs the consent of the person concerned, which the request does not \
             record: obtain and record it before sending ({instrument} art. {article}: {rule}).",
        ),
        (FindingCode::MeasureGround, "{rule} (art. {article})"),
        (
            FindingCode::UseRestriction,
            "What is received under {instrument} may be used only within its limits (art. \
             {article}): {rule}",
        ),
        (
            FindingCode::SmuggledMigrantProtection,
            "{person} is a smuggled migrant: their rights are to be preserved and protected, and \
             assistance given where their life or safety is endangered.{safeguard}",
        ),
        (
            FindingCode::TraffickingVictimPrivacy,
            "{person} is flagged as a victim of trafficking: protect their privacy and identity in \
             the request and its execution.{safeguard}",
        ),
        (
            FindingCode::AsylumReplyConfidentialityBinds,
            "{person} is an asylum seeker or refugee and a national of {requesting_country}, the \
             requesting state: the reply would tell the alleged actor of persecution about them. \
             {instrument} binds {requested_country} on {date}: {rule}",
        ),
        (
            FindingCode::AsylumReply,
            "{person} is an asylum seeker or refugee and a national of {requesting_country}, the \
             requesting state: the reply would tell the alleged actor of persecution about \
             them.{safeguard}",
        ),
        (
            FindingCode::RefugeeTransferToNationalState,
            "{person} is an asylum seeker or refugee and a national of the requesting state, to \
             which the request seeks their temporary transfer.{safeguard}",
        ),
    ],
    cited_rule: " {instrument} art. {article}: {rule}",
    triggers: &[
        (Trigger::PoliticalOffence, "Political offence"),
        (Trigger::FiscalOffence, "Fiscal offence"),
        (
            Trigger::NoDualCriminality,
            "Dual criminality required for a coercive measure",
        ),
        (Trigger::DeathPenalty, "Death penalty without assurances"),
    ],
    channels: &[
        (ChannelKind::CentralAuthority, "Between central authorities"),
        (
            ChannelKind::DirectJudicial,
            "Directly between judicial authorities",
        ),
        (ChannelKind::Interpol, "Through INTERPOL"),
        (
            ChannelKind::Network247,
            "Through the 24/7 network of contact points",
        ),
        (ChannelKind::Diplomatic, "Through the diplomatic channel"),
    ],
    list_separator: ", ",
    clause_separator: "; ",
};

/// Every wording there is, English first.
pub const WORDINGS: &[&Wording] = &[&ENGLISH];

/// The wording for an ISO 639-1 language code, English where there is none.
pub fn wording_for(language: &str) -> &'static Wording {
    WORDINGS
        .iter()
        .copied()
        .find(|wording| wording.language == language)
        .unwrap_or(&ENGLISH)
}

impl Wording {
    fn template(&self, code: FindingCode) -> &'static str {
        let find = |wording: &Wording| {
            wording
                .templates
                .iter()
                .find(|(candidate, _)| *candidate == code)
                .map(|(_, template)| *template)
        };
        find(self).or_else(|| find(&ENGLISH)).unwrap_or_default()
    }

    fn trigger(&self, trigger: Trigger) -> &'static str {
        self.triggers
            .iter()
            .chain(ENGLISH.triggers)
            .find(|(candidate, _)| *candidate == trigger)
            .map_or(trigger.code(), |(_, name)| *name)
    }

    fn channel(&self, channel: ChannelKind) -> &'static str {
        self.channels
            .iter()
            .chain(ENGLISH.channels)
            .find(|(candidate, _)| *candidate == channel)
            .map_or(channel.code(), |(_, name)| *name)
    }

    fn value(&self, value: &ParameterValue) -> String {
        match value {
            ParameterValue::Text(text) => text.clone(),
            ParameterValue::Texts(texts) => texts.join(self.list_separator),
            ParameterValue::Country(country) => country.english_name().to_string(),
            ParameterValue::Date(date) => date.to_string(),
            ParameterValue::Measure(measure) => measure.label().to_string(),
            ParameterValue::Days(days) => days.to_string(),
            ParameterValue::Triggers(triggers) => triggers
                .iter()
                .map(|trigger| self.trigger(*trigger))
                .collect::<Vec<_>>()
                .join(self.list_separator),
            ParameterValue::CitedRule(None) => String::new(),
            ParameterValue::CitedRule(Some(rule)) => fill(self.cited_rule, |name| match name {
                "instrument" => Some(rule.instrument.clone()),
                "article" => Some(rule.article.clone()),
                "rule" => Some(rule.text.clone()),
                _ => None,
            }),
            ParameterValue::Months(months) => months.to_string(),
            ParameterValue::Channel(channel) => self.channel(*channel).to_string(),
            ParameterValue::Sentence(None) => String::new(),
            ParameterValue::Sentence(Some(sentence)) => sentence.text(self),
            ParameterValue::Sentences(sentences) => sentences
                .iter()
                .map(|sentence| sentence.text(self))
                .collect::<Vec<_>>()
                .join(self.clause_separator),
        }
    }
}

/// The sentence for `code` with `parameters`, in `wording`'s language.
pub fn render(code: FindingCode, parameters: &[FindingParameter], wording: &Wording) -> String {
    fill(wording.template(code), |name| {
        parameters
            .iter()
            .find(|parameter| parameter.name.code() == name)
            .map(|parameter| wording.value(&parameter.value))
    })
}

/// Replaces each `{name}` of `template` by `value(name)`; a name without a value is left
/// as written, so a mistake shows instead of vanishing.
fn fill(template: &str, value: impl Fn(&str) -> Option<String>) -> String {
    let mut text = String::with_capacity(template.len() + 64);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        text.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        match after.find('}') {
            Some(close) => {
                let name = &after[..close];
                match value(name) {
                    Some(filled) => text.push_str(&filled),
                    None => {
                        text.push('{');
                        text.push_str(name);
                        text.push('}');
                    }
                }
                rest = &after[close + 1..];
            }
            None => {
                text.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    text.push_str(rest);
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_exactly_one_english_template() {
        for code in FindingCode::ALL {
            let count = ENGLISH
                .templates
                .iter()
                .filter(|(candidate, _)| candidate == code)
                .count();
            assert_eq!(count, 1, "{code}");
        }
    }

    #[test]
    fn every_placeholder_names_a_parameter() {
        let names: Vec<&str> = ParameterName::ALL.iter().map(|name| name.code()).collect();
        for (code, template) in ENGLISH.templates {
            let mut rest = *template;
            while let Some(open) = rest.find('{') {
                let close = rest[open..].find('}').expect("closed placeholder") + open;
                let name = &rest[open + 1..close];
                assert!(names.contains(&name), "{code}: {{{name}}}");
                rest = &rest[close + 1..];
            }
        }
    }

    #[test]
    fn parameters_fill_their_placeholders_and_unknown_ones_stay_visible() {
        let parameters = [
            FindingParameter::new(ParameterName::Instrument, "UNTOC"),
            FindingParameter::new(ParameterName::Rule, "the offence is transnational"),
        ];
        assert_eq!(
            render(FindingCode::ScopeAssumption, &parameters, &ENGLISH),
            "UNTOC applies only if: the offence is transnational"
        );
        assert_eq!(
            render(FindingCode::ScopeAssumption, &parameters[..1], &ENGLISH),
            "UNTOC applies only if: {rule}"
        );
    }

    #[test]
    fn an_absent_safeguard_rule_adds_nothing_and_a_present_one_is_cited() {
        let person = FindingParameter::new(ParameterName::Person, "A. B.");
        let without = [
            person.clone(),
            FindingParameter::new(ParameterName::Safeguard, ParameterValue::CitedRule(None)),
        ];
        assert_eq!(
            render(FindingCode::MinorProsecuted, &without, &ENGLISH),
            "A. B. is a minor treated as a suspect or accused: juvenile safeguards apply."
        );
        let rule = CitedRule {
            instrument: "CRC".into(),
            article: "40".into(),
            text: "treat the child fairly".into(),
        };
        let with = [
            person,
            FindingParameter::new(
                ParameterName::Safeguard,
                ParameterValue::CitedRule(Some(rule)),
            ),
        ];
        assert!(
            render(FindingCode::MinorProsecuted, &with, &ENGLISH)
                .ends_with("apply. CRC art. 40: treat the child fairly")
        );
    }

    #[test]
    fn every_channel_and_fact_has_an_english_name() {
        for channel in [
            ChannelKind::CentralAuthority,
            ChannelKind::DirectJudicial,
            ChannelKind::Interpol,
            ChannelKind::Network247,
            ChannelKind::Diplomatic,
        ] {
            assert!(
                ENGLISH.channels.iter().any(|(named, _)| *named == channel),
                "{}",
                channel.code()
            );
        }
        for trigger in [
            Trigger::PoliticalOffence,
            Trigger::FiscalOffence,
            Trigger::NoDualCriminality,
            Trigger::DeathPenalty,
        ] {
            assert!(
                ENGLISH.triggers.iter().any(|(named, _)| *named == trigger),
                "{}",
                trigger.code()
            );
        }
    }

    #[test]
    fn nested_sentences_are_written_in_the_same_wording() {
        let reason = |provision: &str| {
            Sentence::new(
                FindingCode::OffenceNotListed,
                vec![FindingParameter::new(ParameterName::Provision, provision)],
            )
        };
        let dual = Sentence::new(
            FindingCode::DualCriminalityListExceptionFails,
            vec![
                FindingParameter::new(ParameterName::Rule, "Required."),
                FindingParameter::new(ParameterName::Measure, MeasureKind::SearchAndSeizure),
                FindingParameter::new(
                    ParameterName::Reasons,
                    ParameterValue::Sentences(vec![reason("art. 1"), reason("art. 2")]),
                ),
            ],
        );
        let expected_dual = format!(
            "Required. The list exception does not apply to {}: art. 1 is not a listed \
             category; art. 2 is not a listed category.",
            MeasureKind::SearchAndSeizure.label()
        );
        assert_eq!(dual.text(&ENGLISH), expected_dual);
        let warning = Sentence::new(
            FindingCode::CoerciveWithoutDualCriminality,
            vec![
                FindingParameter::new(ParameterName::Measure, MeasureKind::SearchAndSeizure),
                FindingParameter::new(ParameterName::Instrument, "MLAT"),
                FindingParameter::new(ParameterName::DualCriminality, dual.clone()),
            ],
        );
        assert!(warning.text(&ENGLISH).ends_with(&expected_dual));
        let (code, parameters, english) = warning.clone().into_parts();
        assert_eq!(code, FindingCode::CoerciveWithoutDualCriminality);
        assert_eq!(parameters, warning.parameters);
        assert_eq!(english, warning.text(&ENGLISH));
    }

    #[test]
    fn an_absent_nested_sentence_adds_nothing() {
        let parameters = [FindingParameter::new(
            ParameterName::Baseline,
            ParameterValue::Sentence(None),
        )];
        assert_eq!(
            render(FindingCode::ContentFactsGiven, &parameters, &ENGLISH),
            "A summary of the relevant facts is given."
        );
        let baseline = Sentence::new(
            FindingCode::ContentBaseline,
            vec![
                FindingParameter::new(ParameterName::Instrument, "MLAT"),
                FindingParameter::new(ParameterName::BaselineInstrument, "UNTOC"),
            ],
        );
        let parameters = [FindingParameter::new(ParameterName::Baseline, baseline)];
        assert_eq!(
            render(FindingCode::ContentFactsGiven, &parameters, &ENGLISH),
            "A summary of the relevant facts is given. (MLAT's own list of contents is not in \
             the catalog; UNTOC is used as a baseline.)"
        );
    }

    #[test]
    fn an_unknown_language_gets_english() {
        assert_eq!(wording_for("xx").language, "en");
        assert_eq!(wording_for("en").language, "en");
    }
}
