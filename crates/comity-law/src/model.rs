//! The instrument catalog as the engine reads it: validated, typed, and free of spans.
//!
//! Every rule here carries the article it comes from, so that whatever the engine
//! concludes from it can cite instrument and article. The values are built by
//! [`crate::catalog`] from the TOML files; nothing here parses or reads anything.

use comity_domain::{CountryCode, Date, MeasureKind, OffenceCategory};
use serde::Deserialize;

/// What sort of instrument this is; used to break ties between instruments that do
/// not say which of them gives way (the more specific one prevails).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentKind {
    /// A treaty between two states (or a state and the EU).
    Bilateral,
    /// An act of EU law (directive, regulation).
    EuLaw,
    /// A regional convention (Council of Europe...).
    Regional,
    /// A worldwide convention (UN...).
    Multilateral,
    /// Not a treaty: assistance on reciprocity or comity under domestic law.
    Customary,
}

impl InstrumentKind {
    /// The lowercase code used in the catalog.
    pub fn code(self) -> &'static str {
        match self {
            InstrumentKind::Bilateral => "bilateral",
            InstrumentKind::EuLaw => "eu_law",
            InstrumentKind::Regional => "regional",
            InstrumentKind::Multilateral => "multilateral",
            InstrumentKind::Customary => "customary",
        }
    }
}

/// What an instrument does for the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentRole {
    /// A legal basis for a request: a candidate for the prevailing instrument.
    LegalBasis,
    /// Amends or supplements another instrument between the states bound by both
    /// (protocols, the EU-UK Trade and Cooperation Agreement...).
    Supplement,
    /// Not a basis for assistance, but a rule that protects persons (asylum,
    /// non-refoulement, victims); cited by warnings.
    Safeguard,
    /// The route when no instrument applies: letters rogatory on reciprocity.
    Fallback,
}

/// One instrument of the catalog.
#[derive(Debug, Clone)]
pub struct Instrument {
    /// Stable id, e.g. `untoc`; cited in every finding.
    pub id: String,
    /// Full title.
    pub title: String,
    /// Sort of instrument.
    pub kind: InstrumentKind,
    /// What it does for the engine.
    pub role: InstrumentRole,
    /// Where its text can be read.
    pub source_url: String,
    /// The article that makes it a basis for assistance (e.g. UNTOC `18(1)`).
    pub basis_article: String,
    /// The article requiring reasons for any refusal (UNTOC 18(23), ETS 30 art. 19), if
    /// the instrument has one.
    pub refusal_reasons_article: Option<String>,
    /// Where its own list of mandatory content is not in the catalog: the instrument whose
    /// list is used as a baseline.
    pub content_from: Option<String>,
    /// Date of entry into force (or of application), where known.
    pub in_force: Option<Date>,
    /// Last day of application, where it has been replaced.
    pub applies_until: Option<Date>,
    /// For a supplement: the instrument it supplements.
    pub supplements: Option<String>,
    /// The states bound.
    pub parties: Parties,
    /// The offences it covers; `None` means any offence.
    pub scope: Option<Scope>,
    /// Kinds of assistance it covers.
    pub measures: Vec<MeasureKind>,
    /// Measures for which it is the specific regime whatever else applies.
    pub specific_measures: Vec<MeasureKind>,
    /// For a supplement: offence categories it brings into the scope of the supplemented instrument.
    pub adds_scope_categories: Vec<OffenceCategory>,
    /// What a request must contain.
    pub content: Vec<ContentRule>,
    /// How requests travel.
    pub channels: Vec<ChannelRule>,
    /// Grounds on which the requested state must or may refuse.
    pub refusal_grounds: Vec<RefusalGroundRule>,
    /// Facts that are expressly not a ground for refusal.
    pub no_refusal_on: Vec<TriggerRule>,
    /// For a supplement: grounds of the supplemented instrument it removes.
    pub removes_refusal_grounds: Vec<TriggerRule>,
    /// Dual criminality.
    pub dual_criminality: Option<DualCriminalityRule>,
    /// Time limits.
    pub deadlines: Vec<DeadlineRule>,
    /// Declarations by states (languages, central authority).
    pub declarations: Vec<Declaration>,
    /// Instruments this one gives way to.
    pub gives_way_to: Vec<Precedence>,
    /// Instruments this one prevails over.
    pub prevails_over: Vec<Precedence>,
    /// Protective rules for persons.
    pub safeguards: Vec<SafeguardRule>,
    /// Conditions, consent and grounds of the instrument's specific rules for one measure
    /// (hearing by video conference, temporary transfer, interception...).
    pub measure_rules: Vec<MeasureRule>,
    /// Limits on what the requesting state may do with what it receives (the speciality
    /// rule, data protection).
    pub use_rules: Vec<UseRule>,
    /// Editor's note (what is not verified...).
    pub note: Option<String>,
}

/// The states bound by an instrument, with the source of the list.
#[derive(Debug, Clone)]
pub struct Parties {
    /// Where the list was checked.
    pub source: String,
    /// The date the source describes.
    pub as_of: Option<Date>,
    /// What was left out and why.
    pub note: Option<String>,
    /// Why some parties have no date of entry into force, where the list keeps them anyway
    /// (the catalog refuses an undated party without this reason).
    pub undated: Option<String>,
    /// Every state (the fallback route).
    pub all_states: bool,
    /// For an agreement between one state and a group (EU-Japan, EU-UK): one of the two
    /// states must be in this list; empty for ordinary instruments.
    pub one_side: Vec<CountryCode>,
    /// The states, each with its dates where verified.
    pub entries: Vec<Party>,
}

/// One state bound by an instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Party {
    /// The state.
    pub state: CountryCode,
    /// Entry into force for this state, where verified.
    pub from: Option<Date>,
    /// Last day bound (denunciation, withdrawal), where relevant.
    pub until: Option<Date>,
    /// This state's reservations and declarations that matter for a request (languages,
    /// channels, fiscal offences, dual criminality), in plain words with their article.
    pub reservations: Vec<String>,
}

/// The offences an instrument covers.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Categories always in scope.
    pub offence_categories: Vec<OffenceCategory>,
    /// Any offence punishable by at least this many months (UNTOC art. 2(b): four years).
    pub min_penalty_months: Option<u32>,
    /// Measures that bring a request into scope whatever the offence (Budapest art. 25(1)).
    pub measures: Vec<MeasureKind>,
    /// The article defining the scope.
    pub article: String,
    /// What the engine cannot check (transnational nature, organised group...).
    pub note: Option<String>,
}

/// Items of mandatory content the engine can check against a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentItem {
    /// The identity of the requesting authority.
    RequestingAuthority,
    /// Subject matter and nature of the proceedings.
    SubjectMatter,
    /// Name and functions of the authority conducting the proceedings.
    ConductingAuthority,
    /// A summary of the relevant facts (not needed for service of documents only).
    SummaryOfFacts,
    /// The offence and the provisions of law that apply.
    OffenceDescription,
    /// A description of each measure sought.
    MeasuresDescribed,
    /// Identity, location and nationality of the persons concerned.
    PersonsIdentity,
    /// The purpose of the request.
    Purpose,
    /// The legal basis relied on.
    LegalBasis,
}

impl ContentItem {
    /// The code used in the catalog and on the wire.
    pub fn code(self) -> &'static str {
        match self {
            ContentItem::RequestingAuthority => "requesting_authority",
            ContentItem::SubjectMatter => "subject_matter",
            ContentItem::ConductingAuthority => "conducting_authority",
            ContentItem::SummaryOfFacts => "summary_of_facts",
            ContentItem::OffenceDescription => "offence_description",
            ContentItem::MeasuresDescribed => "measures_described",
            ContentItem::PersonsIdentity => "persons_identity",
            ContentItem::Purpose => "purpose",
            ContentItem::LegalBasis => "legal_basis",
        }
    }
}

/// One item of mandatory content.
#[derive(Debug, Clone)]
pub struct ContentRule {
    /// What must be there.
    pub item: ContentItem,
    /// Required only "where possible": a gap is a warning, not a block.
    pub where_possible: bool,
    /// The article.
    pub article: String,
}

/// The channels requests may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelKind {
    /// Between central authorities (ministries of justice...).
    CentralAuthority,
    /// Directly between judicial authorities.
    DirectJudicial,
    /// Through INTERPOL.
    Interpol,
    /// The 24/7 network of contact points (Budapest art. 35).
    Network247,
    /// Through diplomatic channels (letters rogatory).
    Diplomatic,
}

impl ChannelKind {
    /// The code used in the catalog and on the wire.
    pub fn code(self) -> &'static str {
        match self {
            ChannelKind::CentralAuthority => "central_authority",
            ChannelKind::DirectJudicial => "direct_judicial",
            ChannelKind::Interpol => "interpol",
            ChannelKind::Network247 => "network247",
            ChannelKind::Diplomatic => "diplomatic",
        }
    }
}

/// When a channel is available.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChannelWhen {
    /// For any request.
    Always,
    /// Only for urgent requests (and, where the rule says so, where the states agree).
    Urgent,
    /// For the measures listed in the rule.
    ForMeasures,
}

/// One channel rule.
#[derive(Debug, Clone)]
pub struct ChannelRule {
    /// The channel.
    pub kind: ChannelKind,
    /// When it is open.
    pub when: ChannelWhen,
    /// For [`ChannelWhen::ForMeasures`]: which measures.
    pub measures: Vec<MeasureKind>,
    /// The article.
    pub article: String,
    /// Conditions in plain words ("where the states agree").
    pub text: String,
}

/// Facts the engine can recognise in a request, which raise grounds for refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    /// An offence the requested state may see as political.
    PoliticalOffence,
    /// A fiscal offence (tax, customs, exchange).
    FiscalOffence,
    /// A measure for which dual criminality is required and no exception applies.
    NoDualCriminality,
    /// Surrender to face a possible death penalty without assurances.
    DeathPenalty,
}

impl Trigger {
    /// The code used in the catalog and on the wire.
    pub fn code(self) -> &'static str {
        match self {
            Trigger::PoliticalOffence => "political_offence",
            Trigger::FiscalOffence => "fiscal_offence",
            Trigger::NoDualCriminality => "no_dual_criminality",
            Trigger::DeathPenalty => "death_penalty",
        }
    }
}

/// Whether a ground obliges or allows refusal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroundKind {
    /// The requested state must refuse.
    Mandatory,
    /// The requested state may refuse.
    Optional,
}

/// A ground for refusal.
#[derive(Debug, Clone)]
pub struct RefusalGroundRule {
    /// Short stable code within the instrument, e.g. `political_or_fiscal`.
    pub code: String,
    /// Mandatory or optional.
    pub kind: GroundKind,
    /// The article.
    pub article: String,
    /// The ground in plain words.
    pub text: String,
    /// Facts that raise it, if the engine can recognise any.
    pub raised_by: Vec<Trigger>,
    /// The article obliging the requested side to consult the requesting side before
    /// refusing on this ground (EIO 11(4), UNTOC 18(26)), if any.
    pub consult_first: Option<String>,
}

/// A rule keyed on a trigger: "not refused on the sole ground that..." or "removes the ground".
#[derive(Debug, Clone)]
pub struct TriggerRule {
    /// The fact.
    pub trigger: Trigger,
    /// The article.
    pub article: String,
    /// The rule in plain words.
    pub text: String,
}

/// How an instrument treats dual criminality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DualCriminalityMode {
    /// Not required for any measure.
    NotRequired,
    /// Its absence is an optional ground for refusal (UNTOC art. 18(9)).
    OptionalGround,
    /// Required for coercive measures only (EIO art. 11(1)(g) with 11(2); 1959 art. 5 reservations).
    RequiredForCoercive,
    /// Required for every measure (assistance on reciprocity under many domestic laws).
    Required,
}

/// Dual criminality under one instrument.
#[derive(Debug, Clone)]
pub struct DualCriminalityRule {
    /// The general rule.
    pub mode: DualCriminalityMode,
    /// The article.
    pub article: String,
    /// The rule in plain words.
    pub text: String,
    /// The list exception (EIO Annex D with a penalty threshold), if any.
    pub list_exception: Option<ListException>,
    /// The article excluding non-coercive measures, if the rule is limited to coercive ones.
    pub non_coercive_article: Option<String>,
    /// Measures for which dual criminality is never required under this instrument.
    pub measure_exceptions: Vec<MeasureException>,
}

/// The exception for listed offence categories punishable above a threshold.
#[derive(Debug, Clone)]
pub struct ListException {
    /// The article (EIO art. 11(1)(g)).
    pub article: String,
    /// Minimum maximum custodial penalty in the issuing state, in months (36).
    pub min_penalty_months: u32,
}

/// A measure exempt from dual criminality.
#[derive(Debug, Clone)]
pub struct MeasureException {
    /// The measure.
    pub measure: MeasureKind,
    /// The article.
    pub article: String,
}

/// What a deadline rule governs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineRuleKind {
    /// Acknowledge receipt.
    Acknowledgement,
    /// Decide on recognition or execution.
    Decision,
    /// The longest extension of the decision time limit.
    DecisionExtension,
    /// Carry out the measure after the decision.
    Execution,
    /// No fixed days: execute as soon as possible.
    AsSoonAsPossible,
    /// Urgent requests: a shorter deadline set by the requesting side.
    Urgent,
    /// Data preserved for at least this many days.
    PreservationMinimum,
}

impl DeadlineRuleKind {
    /// The code used in the catalog and on the wire.
    pub fn code(self) -> &'static str {
        match self {
            DeadlineRuleKind::Acknowledgement => "acknowledgement",
            DeadlineRuleKind::Decision => "decision",
            DeadlineRuleKind::DecisionExtension => "decision_extension",
            DeadlineRuleKind::Execution => "execution",
            DeadlineRuleKind::AsSoonAsPossible => "as_soon_as_possible",
            DeadlineRuleKind::Urgent => "urgent",
            DeadlineRuleKind::PreservationMinimum => "preservation_minimum",
        }
    }
}

/// One time limit.
#[derive(Debug, Clone)]
pub struct DeadlineRule {
    /// What it governs.
    pub kind: DeadlineRuleKind,
    /// Days, where the instrument fixes them.
    pub days: Option<u32>,
    /// Hours, where the instrument counts the time limit in hours (EIO art. 31(3): 96 hours).
    pub hours: Option<u32>,
    /// For rules tied to measures: which.
    pub measures: Vec<MeasureKind>,
    /// The article.
    pub article: String,
    /// The rule in plain words.
    pub text: String,
}

/// A state's declaration under an instrument.
#[derive(Debug, Clone)]
pub struct Declaration {
    /// The declaring state.
    pub state: CountryCode,
    /// Languages in which requests are accepted (ISO 639-1), if declared.
    pub languages: Vec<String>,
    /// The central or competent authority, if declared.
    pub central_authority: Option<String>,
    /// The article under which it was made.
    pub article: String,
    /// Where it was read.
    pub source: String,
}

/// The other side of a precedence rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrecedenceTarget {
    /// A named instrument of the catalog.
    Instrument(String),
    /// Any other MLA treaty binding both states (UNTOC art. 18(7)).
    AnyMlaTreaty,
}

/// A rule on which instrument gives way.
#[derive(Debug, Clone)]
pub struct Precedence {
    /// The other instrument.
    pub target: PrecedenceTarget,
    /// The article.
    pub article: String,
    /// The rule in plain words.
    pub text: String,
}

/// Protective rules the engine can apply to the facts of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafeguardKind {
    /// No disclosure of an asylum application to the alleged actor of persecution.
    AsylumConfidentiality,
    /// No return of a refugee to a state where they face persecution.
    NonRefoulement,
    /// Assistance to and protection of victims of trafficking.
    TraffickingVictimProtection,
    /// Migrants are not liable to prosecution for having been smuggled.
    SmuggledMigrantNonLiability,
    /// No surrender to face the death penalty without assurances.
    DeathPenaltyAssurances,
    /// Special needs of children.
    ChildProtection,
    /// Protection and assistance owed to smuggled migrants.
    SmuggledMigrantProtection,
    /// The privacy and identity of victims of trafficking.
    TraffickingVictimPrivacy,
}

/// One protective rule.
#[derive(Debug, Clone)]
pub struct SafeguardRule {
    /// What it protects against.
    pub kind: SafeguardKind,
    /// The article.
    pub article: String,
    /// The rule in plain words.
    pub text: String,
}

/// An instrument's specific rule for one measure: its conditions, the consent it needs
/// and the grounds for refusal it adds to the instrument's general ones.
#[derive(Debug, Clone)]
pub struct MeasureRule {
    /// The measure.
    pub measure: MeasureKind,
    /// The article that provides for it.
    pub article: String,
    /// Its conditions in plain words.
    pub text: String,
    /// The consent it needs from a person concerned, if any.
    pub consent: Option<ConsentRule>,
    /// Grounds for refusal that apply to this measure besides the instrument's own.
    pub grounds: Vec<RefusalGroundRule>,
}

/// A person's consent that a measure needs.
#[derive(Debug, Clone)]
pub struct ConsentRule {
    /// Whose consent: the roles concerned; empty for any person named (the person in custody).
    pub of: Vec<comity_domain::PersonRole>,
    /// The article.
    pub article: String,
    /// The rule in plain words.
    pub text: String,
}

/// A limit on the use of what the requesting state receives.
#[derive(Debug, Clone)]
pub struct UseRule {
    /// The article.
    pub article: String,
    /// The rule in plain words.
    pub text: String,
}

impl Parties {
    /// Whether `state` is bound on `date`; the second value says whether the date of
    /// entry into force for that state was verified.
    pub fn binds(&self, state: CountryCode, date: Date) -> Option<bool> {
        if self.all_states {
            return Some(true);
        }
        let party = self.entries.iter().find(|party| party.state == state)?;
        if let Some(from) = party.from
            && date < from
        {
            return None;
        }
        if let Some(until) = party.until
            && date > until
        {
            return None;
        }
        Some(party.from.is_some())
    }
}

impl Parties {
    /// Whether the instrument binds both states to each other on `date`; the value says
    /// whether both dates of entry into force were verified.
    pub fn binds_pair(&self, first: CountryCode, second: CountryCode, date: Date) -> Option<bool> {
        if !self.one_side.is_empty()
            && !self.one_side.contains(&first)
            && !self.one_side.contains(&second)
        {
            return None;
        }
        let first_verified = self.binds(first, date)?;
        let second_verified = self.binds(second, date)?;
        Some(first_verified && second_verified)
    }
}

impl Instrument {
    /// Whether the instrument itself is in force (or applies) on `date`.
    pub fn in_force_on(&self, date: Date) -> bool {
        let started = self.in_force.is_none_or(|from| date >= from);
        let not_ended = self.applies_until.is_none_or(|until| date <= until);
        started && not_ended
    }

    /// Whether it covers `measure` by itself.
    pub fn covers(&self, measure: MeasureKind) -> bool {
        self.measures.contains(&measure)
    }
}
