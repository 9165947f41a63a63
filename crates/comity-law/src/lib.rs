//! The legal-basis engine: which instruments govern a mutual legal assistance request,
//! which one prevails, and what follows from it, every conclusion cited.
//!
//! - [`Catalog`]: the instrument catalog, human-editable TOML under `catalog/`, embedded
//!   in the crate ([`Catalog::embedded`]) or read from a directory ([`Catalog::load_dir`]),
//!   validated with errors that name file, line and problem ([`CatalogError`]).
//! - [`model`]: the typed catalog: an [`Instrument`] with its parties, scope, measures,
//!   mandatory content, channels, refusal grounds, dual-criminality rule, deadlines,
//!   declarations and precedence rules (`gives_way_to`, `prevails_over`).
//! - [`assess`]: the pure engine. From a catalog, a `comity_domain::RequestContent` and a
//!   date it builds an [`Assessment`]: applicable and prevailing instruments (or the
//!   reciprocity route), channels, languages, the content checklist, dual criminality per
//!   measure, warnings raised by the facts, grounds for refusal and deadlines. Each
//!   finding has a [`Severity`] and a [`Citation`] (instrument, article, source).
//! - [`refusal_grounds`]: the prevailing instrument's grounds, flagged where raised.
//! - [`wording`]: every sentence of an assessment as a [`FindingCode`] with typed
//!   parameters, and the tables ([`Wording`]) that write them in a language; English only
//!   for now.
//! - [`json`]: the assessment's serialized form, for the API and the CLI.
//!
//! The crate reads nothing but its catalog files and never reads a clock: the date is an
//! argument. It knows no state or instrument by name; the catalog data decides.

pub mod assessment;
pub mod catalog;
pub mod engine;
pub mod json;
pub mod model;
pub mod wording;

pub use assessment::{
    ApplicableInstrument, Assessment, BlockingFinding, ChannelFinding, ChannelUse, Citation,
    ContentCheck, DeadlineFinding, DualCriminalityFinding, DualCriminalityOutcome, Finding,
    FindingKind, LanguageAdvice, LanguageBasis, MeasureBasis, Prevailing, ProposedGround,
    RefusalGround, Severity,
};
pub use catalog::{Catalog, CatalogError, Problem};
pub use engine::{assess, refusal_grounds};
pub use model::{
    ChannelKind, ContentItem, DeadlineRuleKind, GroundKind, Instrument, InstrumentKind,
    InstrumentRole, Parties, Party, Trigger,
};
pub use wording::{
    CitedRule, FindingCode, FindingParameter, ParameterName, ParameterValue, Sentence, Wording,
    render, wording_for,
};
