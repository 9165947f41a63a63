//! What the engine concludes about a request: the [`Assessment`] and its findings,
//! each with a [`Citation`], and each sentence both as a [`FindingCode`] with parameters,
//! for any language, and in English (`explanation`, `reason`).

use comity_domain::{CountryCode, Date, DeadlinePolicy, MeasureKind, coded_enum};

use crate::model::{ChannelKind, ContentItem, DeadlineRuleKind, GroundKind, Trigger};
use crate::wording::{ENGLISH, FindingCode, FindingParameter, Wording, render};

/// The `text` of an item that holds a `code` and `parameters`: its sentence in a language.
macro_rules! worded {
    ($($item:ty),* $(,)?) => {
        $(
            impl $item {
                /// What it says, in the language of `wording`.
                pub fn text(&self, wording: &Wording) -> String {
                    render(self.code, &self.parameters, wording)
                }
            }
        )*
    };
}

worded!(
    MeasureBasis,
    ChannelFinding,
    LanguageAdvice,
    ContentCheck,
    DualCriminalityFinding,
    DeadlineFinding,
);

impl Prevailing {
    /// Why it prevails, in the language of `wording`.
    pub fn reason_text(&self, wording: &Wording) -> String {
        render(self.reason_code, &self.reason_parameters, wording)
    }
}

coded_enum! {
    /// How much a finding matters.
    pub enum Severity ("severity") {
        /// For the record.
        Info = ("info", "info"),
        /// The request risks refusal or needs care; it may still be sent.
        Warning = ("warning", "warning"),
        /// The request must not be approved as it stands.
        Blocking = ("blocking", "blocking"),
    }
}

/// Where a conclusion comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Citation {
    /// The catalog id of the instrument.
    pub instrument_id: String,
    /// The article, e.g. `18(15)(c)`.
    pub article: String,
    /// Where the text can be read.
    pub source_url: String,
}

coded_enum! {
    /// The kinds of warnings and notes the engine raises (several forms of sentence, each
    /// a [`FindingCode`], may share a kind).
    pub enum FindingKind ("finding kind") {
        /// No instrument binds both states: reciprocity and letters rogatory.
        NoInstrument = ("no_instrument", "no instrument"),
        /// A party's date of entry into force was not verified.
        PartyDateUnverified = ("party_date_unverified", "party date unverified"),
        /// The scope of an instrument depends on facts the engine cannot check.
        ScopeAssumption = ("scope_assumption", "scope assumption"),
        /// A measure is not covered by any applicable instrument.
        MeasureNotCovered = ("measure_not_covered", "measure not covered"),
        /// The request names a legal basis other than the prevailing instrument.
        LegalBasisMismatch = ("legal_basis_mismatch", "legal basis mismatch"),
        /// A ground for refusal of the prevailing instrument is raised by the facts.
        RefusalGroundRaised = ("refusal_ground_raised", "ground for refusal raised"),
        /// A ground for refusal is removed by a supplement, or excluded by the instrument.
        RefusalGroundExcluded = ("refusal_ground_excluded", "ground for refusal excluded"),
        /// A coercive measure for which dual criminality is required.
        CoerciveWithoutDualCriminality = ("coercive_without_dual_criminality", "coercive measure without dual criminality"),
        /// Surrender to face the death penalty without assurances.
        DeathPenaltyWithoutAssurances = ("death_penalty_without_assurances", "death penalty without assurances"),
        /// Information about an asylum seeker would reach the state of origin.
        AsylumDisclosure = ("asylum_disclosure", "asylum disclosure"),
        /// Surrender of a refugee to the state of nationality.
        NonRefoulement = ("non_refoulement", "non-refoulement"),
        /// A victim, a minor or a smuggled migrant treated as a suspect or accused.
        VulnerablePersonProsecuted = ("vulnerable_person_prosecuted", "vulnerable person prosecuted"),
        /// The prevailing instrument fixes no time limits in days.
        NoFixedDeadlines = ("no_fixed_deadlines", "no fixed deadlines"),
        /// A condition the governing instrument sets for one measure.
        MeasureCondition = ("measure_condition", "condition of a measure"),
        /// A measure needs the consent of a person concerned, which the request does not record.
        ConsentRequired = ("consent_required", "consent required"),
        /// A limit on the use of what the requesting state receives (speciality, data protection).
        UseRestriction = ("use_restriction", "restriction on use"),
        /// A person the request names is owed protection (a smuggled migrant, a victim).
        PersonProtection = ("person_protection", "protection of a person"),
    }
}

/// A warning or note about the request: what it says as a [`FindingCode`] with typed
/// parameters, and the same in English for logs, the CLI and the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// What kind of finding.
    pub kind: FindingKind,
    /// How much it matters.
    pub severity: Severity,
    /// The form of its sentence.
    pub code: FindingCode,
    /// The values its sentence refers to.
    pub parameters: Vec<FindingParameter>,
    /// In plain English: `code` and `parameters` through the English wording.
    pub explanation: String,
    /// Where it comes from.
    pub citation: Citation,
}

impl Finding {
    /// A finding, its English explanation rendered from `code` and `parameters`.
    pub fn new(
        kind: FindingKind,
        severity: Severity,
        code: FindingCode,
        parameters: Vec<FindingParameter>,
        citation: Citation,
    ) -> Self {
        let explanation = render(code, &parameters, &ENGLISH);
        Finding {
            kind,
            severity,
            code,
            parameters,
            explanation,
            citation,
        }
    }

    /// What the finding says, in the language of `wording`.
    pub fn text(&self, wording: &Wording) -> String {
        render(self.code, &self.parameters, wording)
    }
}

/// An instrument that binds both states, is in force and covers at least one measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicableInstrument {
    /// Catalog id.
    pub instrument_id: String,
    /// Title.
    pub title: String,
    /// The measures of the request it covers (with its applicable supplements).
    pub covered_measures: Vec<MeasureKind>,
    /// Supplements in force between the two states.
    pub supplements: Vec<String>,
}

/// The instrument that governs the request, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prevailing {
    /// Catalog id.
    pub instrument_id: String,
    /// Title.
    pub title: String,
    /// Why it prevails, in plain English: `reason_code` and `reason_parameters` through
    /// the English wording.
    pub reason: String,
    /// The form of the sentence saying why it prevails.
    pub reason_code: FindingCode,
    /// The values that sentence refers to.
    pub reason_parameters: Vec<FindingParameter>,
    /// The rule that decides it.
    pub citation: Citation,
}

/// Which instrument governs one measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureBasis {
    /// The measure.
    pub measure: MeasureKind,
    /// The governing instrument, or `None` if none covers it.
    pub instrument_id: Option<String>,
    /// The form of the sentence saying why.
    pub code: FindingCode,
    /// The values it refers to.
    pub parameters: Vec<FindingParameter>,
    /// Why, in plain English: `code` and `parameters` through the English wording.
    pub explanation: String,
}

/// When a channel is to be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ChannelUse {
    /// The ordinary channel.
    Primary,
    /// Another channel open for any request.
    Alternative,
    /// Open because the request is urgent.
    Urgent,
    /// Open for one measure of the request.
    ForMeasure(MeasureKind),
}

/// A channel the request may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelFinding {
    /// The channel.
    pub kind: ChannelKind,
    /// When.
    pub use_: ChannelUse,
    /// The form of the sentence describing it.
    pub code: FindingCode,
    /// The values it refers to.
    pub parameters: Vec<FindingParameter>,
    /// In plain English, with its conditions: `code` and `parameters` through the English
    /// wording.
    pub explanation: String,
    /// The rule.
    pub citation: Citation,
}

/// How the accepted languages are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LanguageBasis {
    /// Declared by the requested state under the instrument.
    Declared(Citation),
    /// The official languages of the requested state; no declaration was verified.
    OfficialLanguageNotVerified,
    /// Nothing known.
    Unknown,
}

/// The languages in which the requested state accepts requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LanguageAdvice {
    /// ISO 639-1 codes.
    pub languages: Vec<String>,
    /// How they are known.
    pub basis: LanguageBasis,
    /// The form of the sentence saying so.
    pub code: FindingCode,
    /// The values it refers to.
    pub parameters: Vec<FindingParameter>,
    /// In plain English: `code` and `parameters` through the English wording.
    pub explanation: String,
}

/// One item of mandatory content, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentCheck {
    /// The item.
    pub item: ContentItem,
    /// Whether the request has it (or does not need it).
    pub satisfied: bool,
    /// Required only where possible: a gap does not block approval.
    pub where_possible: bool,
    /// The form of the sentence saying how it stands.
    pub code: FindingCode,
    /// The values it refers to.
    pub parameters: Vec<FindingParameter>,
    /// In plain English: `code` and `parameters` through the English wording.
    pub explanation: String,
    /// The rule.
    pub citation: Citation,
}

coded_enum! {
    /// What the engine concludes on dual criminality for one measure.
    pub enum DualCriminalityOutcome ("dual criminality outcome") {
        /// Not required under the governing instrument.
        NotRequired = ("not_required", "not required"),
        /// Not required because of the list exception (EIO Annex D, 36 months).
        ListException = ("list_exception", "not required (list exception)"),
        /// Not required for this (non-coercive or specific) measure.
        ExemptMeasure = ("exempt_measure", "not required for this measure"),
        /// Its absence is only an optional ground for refusal.
        OptionalGround = ("optional_ground", "its absence is only an optional ground"),
        /// Required: the conduct must be an offence in the requested state too.
        Required = ("required", "required"),
    }
}

impl DualCriminalityOutcome {
    /// Whether the requested state may insist on dual criminality.
    pub fn is_required(self) -> bool {
        self == DualCriminalityOutcome::Required
    }
}

/// Dual criminality for one measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DualCriminalityFinding {
    /// The measure.
    pub measure: MeasureKind,
    /// The outcome.
    pub outcome: DualCriminalityOutcome,
    /// How much it matters.
    pub severity: Severity,
    /// The form of the sentence explaining it.
    pub code: FindingCode,
    /// The values it refers to.
    pub parameters: Vec<FindingParameter>,
    /// In plain English: `code` and `parameters` through the English wording.
    pub explanation: String,
    /// The rule.
    pub citation: Citation,
}

/// A ground for refusal of the prevailing instrument, for the requested side to consider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalGround {
    /// Code within the instrument.
    pub code: String,
    /// Mandatory or optional.
    pub kind: GroundKind,
    /// The ground in plain English.
    pub description: String,
    /// Whether the facts of the request raise it.
    pub raised_by_facts: bool,
    /// The facts that raise it.
    pub triggers: Vec<Trigger>,
    /// Set where a supplement binding both states removes it.
    pub removed_by: Option<Citation>,
    /// The rule.
    pub citation: Citation,
    /// Set where the requested side must consult the requesting side before refusing
    /// on this ground (EIO 11(4), UNTOC 18(26)): the rule that says so.
    pub consult_first: Option<Citation>,
}

impl Citation {
    /// The rule in a few words: `instrument art. article`, e.g. `untoc art. 18(21)(b)`.
    pub fn reference(&self) -> String {
        format!("{} art. {}", self.instrument_id, self.article)
    }
}

impl RefusalGround {
    /// How a refusal cites it: its rule's reference, e.g. `untoc art. 18(21)(b)`.
    pub fn reference(&self) -> String {
        self.citation.reference()
    }

    /// Whether `cited` names this ground, by its reference or as `instrument:code`,
    /// ignoring case and surrounding spaces.
    pub fn is_cited_by(&self, cited: &str) -> bool {
        let cited = cited.trim().to_lowercase();
        self.reference().to_lowercase() == cited
            || format!("{}:{}", self.citation.instrument_id, self.code).to_lowercase() == cited
    }
}

/// One ground of a proposed refusal, checked against the prevailing instrument.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposedGround {
    /// The ground as the refusal cites it.
    pub cited: String,
    /// The instrument's ground it names; `None` when the instrument has no such ground.
    pub ground: Option<RefusalGround>,
}

impl ProposedGround {
    /// Whether the prevailing instrument allows refusing on it.
    pub fn is_allowed(&self) -> bool {
        self.ground.is_some()
    }

    /// The rule obliging the requested side to consult the requesting side first.
    pub fn consult_first(&self) -> Option<&Citation> {
        self.ground
            .as_ref()
            .and_then(|ground| ground.consult_first.as_ref())
    }
}

/// A time limit that follows from the instruments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineFinding {
    /// What it governs.
    pub kind: DeadlineRuleKind,
    /// Days, where fixed.
    pub days: Option<u32>,
    /// Hours, where the time limit is counted in hours.
    pub hours: Option<u32>,
    /// The form of the sentence stating it.
    pub code: FindingCode,
    /// The values it refers to.
    pub parameters: Vec<FindingParameter>,
    /// In plain English: `code` and `parameters` through the English wording.
    pub explanation: String,
    /// The rule.
    pub citation: Citation,
}

/// A finding that stops approval and dispatch until a supervisor overrides it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockingFinding {
    /// Names the finding across assessments of the same request on other dates:
    /// `content:<item>`, `warning:<kind>` or `dual_criminality:<measure>`.
    pub key: String,
    /// In plain English.
    pub explanation: String,
    /// The rule.
    pub citation: Citation,
}

/// Everything the engine says about one request on one date.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The requesting state.
    pub requesting_country: CountryCode,
    /// The requested state.
    pub requested_country: CountryCode,
    /// The date the law was applied at.
    pub date: Date,
    /// Instruments binding both states and covering the request.
    pub applicable: Vec<ApplicableInstrument>,
    /// The prevailing instrument; `None` when no instrument applies.
    pub prevailing: Option<Prevailing>,
    /// Without an instrument: the reciprocity route, with its citation.
    pub fallback: Option<Finding>,
    /// Which instrument governs each measure.
    pub measure_bases: Vec<MeasureBasis>,
    /// Channels, the primary one first.
    pub channels: Vec<ChannelFinding>,
    /// Accepted languages of the requested state.
    pub languages: LanguageAdvice,
    /// Mandatory content, item by item.
    pub checklist: Vec<ContentCheck>,
    /// Dual criminality, measure by measure.
    pub dual_criminality: Vec<DualCriminalityFinding>,
    /// Warnings and notes raised by the facts.
    pub warnings: Vec<Finding>,
    /// Grounds for refusal of the prevailing instrument.
    pub refusal_grounds: Vec<RefusalGround>,
    /// Where the prevailing instrument requires reasons for any refusal: the rule.
    pub refusal_reasons: Option<Citation>,
    /// Time limits.
    pub deadlines: Vec<DeadlineFinding>,
    pub(crate) policy: DeadlinePolicy,
}

impl Assessment {
    /// Mandatory content that is missing: approval must wait until it is supplied.
    /// Items required only "where possible" are not included.
    pub fn missing_mandatory_content(&self) -> Vec<&ContentCheck> {
        self.checklist
            .iter()
            .filter(|check| !check.satisfied && !check.where_possible)
            .collect()
    }

    /// The deadline policy of the governing instrument (for `comity_domain::deadlines`).
    pub fn deadline_policy(&self) -> DeadlinePolicy {
        self.policy
    }

    /// The prevailing instrument's id, if any.
    pub fn prevailing_id(&self) -> Option<&str> {
        self.prevailing
            .as_ref()
            .map(|prevailing| prevailing.instrument_id.as_str())
    }

    /// The highest severity among all findings.
    pub fn highest_severity(&self) -> Severity {
        let content = self
            .checklist
            .iter()
            .filter(|check| !check.satisfied)
            .map(|check| {
                if check.where_possible {
                    Severity::Warning
                } else {
                    Severity::Blocking
                }
            });
        let warnings = self.warnings.iter().map(|finding| finding.severity);
        let dual = self.dual_criminality.iter().map(|finding| finding.severity);
        content
            .chain(warnings)
            .chain(dual)
            .max()
            .unwrap_or(Severity::Info)
    }

    /// Whether anything blocks approval.
    pub fn is_blocked(&self) -> bool {
        self.highest_severity() == Severity::Blocking
    }

    /// Every finding that blocks approval and dispatch: missing mandatory content,
    /// blocking warnings (a death-penalty or asylum-disclosure risk, say) and dual
    /// criminality that blocks a measure.
    pub fn blocking_findings(&self) -> Vec<BlockingFinding> {
        let content = self
            .missing_mandatory_content()
            .into_iter()
            .map(|check| BlockingFinding {
                key: format!("content:{}", check.item.code()),
                explanation: check.explanation.clone(),
                citation: check.citation.clone(),
            });
        let warnings = self
            .warnings
            .iter()
            .filter(|finding| finding.severity == Severity::Blocking)
            .map(|finding| BlockingFinding {
                key: format!("warning:{}", finding.kind.code()),
                explanation: finding.explanation.clone(),
                citation: finding.citation.clone(),
            });
        let dual = self
            .dual_criminality
            .iter()
            .filter(|finding| finding.severity == Severity::Blocking)
            .map(|finding| BlockingFinding {
                key: format!("dual_criminality:{}", finding.measure.code()),
                explanation: finding.explanation.clone(),
                citation: finding.citation.clone(),
            });
        content.chain(warnings).chain(dual).collect()
    }

    /// Checks a proposed refusal ground by ground: whether the prevailing instrument
    /// allows each, and whether the requesting side must be consulted first. Whether
    /// reasons must be given is [`Assessment::refusal_reasons`].
    pub fn proposed_refusal(&self, cited: &[String]) -> Vec<ProposedGround> {
        cited
            .iter()
            .map(|cited| ProposedGround {
                cited: cited.trim().to_string(),
                ground: self
                    .refusal_grounds
                    .iter()
                    .find(|ground| ground.is_cited_by(cited))
                    .cloned(),
            })
            .collect()
    }

    /// Whether a warning of this kind was raised.
    pub fn has_warning(&self, kind: FindingKind) -> bool {
        self.warnings.iter().any(|finding| finding.kind == kind)
    }
}
