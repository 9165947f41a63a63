//! Loading the instrument catalog: TOML files, embedded or read from a directory,
//! validated so that every error names the file, the line and the problem.
//!
//! The files hold three kinds of tables: `[[group]]` (named lists of states, such as
//! the EU member states), `[[official_languages]]` (the fallback when no language
//! declaration is verified) and `[[instrument]]`. References between files (a group,
//! an instrument in `gives_way_to`) are resolved after every file has been read.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use comity_domain::{CountryCode, Date, MeasureKind, OffenceCategory, PersonRole};
use serde::Deserialize;
use toml::Spanned;

use crate::model::{
    ChannelKind, ChannelRule, ChannelWhen, ConsentRule, ContentItem, ContentRule, DeadlineRule,
    DeadlineRuleKind, Declaration, DualCriminalityMode, DualCriminalityRule, GroundKind,
    Instrument, InstrumentKind, InstrumentRole, ListException, MeasureException, MeasureRule,
    Parties, Party, Precedence, PrecedenceTarget, RefusalGroundRule, SafeguardKind, SafeguardRule,
    Scope, Trigger, TriggerRule, UseRule,
};

/// The catalog files compiled into the binary, in load order.
const EMBEDDED: &[(&str, &str)] = &[
    ("groups.toml", include_str!("../catalog/groups.toml")),
    ("languages.toml", include_str!("../catalog/languages.toml")),
    ("untoc.toml", include_str!("../catalog/untoc.toml")),
    (
        "council_of_europe.toml",
        include_str!("../catalog/council_of_europe.toml"),
    ),
    ("eu.toml", include_str!("../catalog/eu.toml")),
    ("bilateral.toml", include_str!("../catalog/bilateral.toml")),
    (
        "safeguards.toml",
        include_str!("../catalog/safeguards.toml"),
    ),
    ("fallback.toml", include_str!("../catalog/fallback.toml")),
];

/// The validated catalog of instruments.
#[derive(Debug, Clone)]
pub struct Catalog {
    instruments: Vec<Instrument>,
    index: HashMap<String, usize>,
    official_languages: BTreeMap<CountryCode, Vec<String>>,
}

/// Why a catalog could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A file or directory could not be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A file is not valid TOML, or does not have the catalog's shape.
    #[error("{file}:{line}: {message}")]
    Syntax {
        /// The file name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What the TOML parser said.
        message: String,
    },
    /// A value is well-formed TOML but breaks a catalog rule.
    #[error("{file}:{line}: {problem}")]
    Invalid {
        /// The file name.
        file: String,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        problem: Problem,
    },
}

/// What is wrong with a catalog value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Problem {
    /// Not an ISO 3166-1 code.
    #[error("unknown country code `{0}`")]
    UnknownCountry(String),
    /// Not a measure code of `comity_domain::MeasureKind`.
    #[error("unknown measure code `{0}`")]
    UnknownMeasure(String),
    /// Not a role of `comity_domain::PersonRole`.
    #[error("unknown person role `{0}`")]
    UnknownRole(String),
    /// Not an offence category of `comity_domain::OffenceCategory`.
    #[error("unknown offence category `{0}`")]
    UnknownOffenceCategory(String),
    /// A reference to an instrument that is not in the catalog.
    #[error("unknown instrument `{id}` referenced in `{field}`")]
    UnknownInstrument {
        /// The id referred to.
        id: String,
        /// The field holding the reference.
        field: &'static str,
    },
    /// A reference to a group that is not in the catalog.
    #[error("unknown group `{0}`")]
    UnknownGroup(String),
    /// Two instruments or groups with one id.
    #[error("duplicate id `{0}`")]
    DuplicateId(String),
    /// A rule without the article it comes from.
    #[error("missing article citation in {0}")]
    MissingArticle(&'static str),
    /// A date not in the form YYYY-MM-DD.
    #[error("malformed date `{0}` (expected YYYY-MM-DD)")]
    MalformedDate(String),
    /// A required text is empty.
    #[error("empty `{0}`")]
    Empty(&'static str),
    /// A party entry names neither a state nor a group, or both.
    #[error("a party entry needs exactly one of `state` or `group`")]
    PartyShape,
    /// A party without its date of entry into force, in a list that does not say why.
    #[error(
        "party `{0}` has no date of entry into force (`from`); add it from a source, leave the state out, or give the list an `undated` reason"
    )]
    PartyWithoutDate(String),
    /// A supplement without `supplements`, or another role with it.
    #[error("`supplements` is required for role `supplement` and only for it")]
    SupplementShape,
    /// The catalog has no fallback instrument, or more than one.
    #[error("the catalog needs exactly one instrument with role `fallback`, found {0}")]
    FallbackCount(usize),
}

impl Catalog {
    /// The catalog compiled into this crate.
    pub fn embedded() -> Result<Catalog, CatalogError> {
        Catalog::from_sources(
            EMBEDDED
                .iter()
                .map(|(name, text)| (name.to_string(), *text)),
        )
    }

    /// Loads every `*.toml` file of `dir`, in name order.
    pub fn load_dir(dir: impl AsRef<Path>) -> Result<Catalog, CatalogError> {
        let dir = dir.as_ref();
        let io_error = |source| CatalogError::Io {
            path: dir.to_path_buf(),
            source,
        };
        let mut paths = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io_error)? {
            let path = entry.map_err(io_error)?.path();
            if path.extension().is_some_and(|ext| ext == "toml") {
                paths.push(path);
            }
        }
        paths.sort();
        let mut texts = Vec::new();
        for path in paths {
            let text = std::fs::read_to_string(&path).map_err(|source| CatalogError::Io {
                path: path.clone(),
                source,
            })?;
            let name = path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default();
            texts.push((name, text));
        }
        Catalog::from_sources(
            texts
                .iter()
                .map(|(name, text)| (name.clone(), text.as_str())),
        )
    }

    /// Builds a catalog from `(file name, TOML text)` pairs.
    pub fn from_sources<'a>(
        sources: impl IntoIterator<Item = (String, &'a str)>,
    ) -> Result<Catalog, CatalogError> {
        let mut files = Vec::new();
        for (name, text) in sources {
            let raw: RawFile = toml::from_str(text).map_err(|error| CatalogError::Syntax {
                line: error.span().map_or(1, |span| line_of(text, span.start)),
                message: error.message().trim().to_string(),
                file: name.clone(),
            })?;
            files.push((name, text, raw));
        }
        Builder::default().build(&files)
    }

    /// The instrument with this id.
    pub fn instrument(&self, id: &str) -> Option<&Instrument> {
        self.index.get(id).map(|&index| &self.instruments[index])
    }

    /// Every instrument, in load order.
    pub fn instruments(&self) -> &[Instrument] {
        &self.instruments
    }

    /// The official languages of a state (the fallback when no declaration is verified).
    pub fn official_languages(&self, state: CountryCode) -> Option<&[String]> {
        self.official_languages.get(&state).map(Vec::as_slice)
    }

    /// The single instrument with role `fallback`.
    pub fn fallback(&self) -> &Instrument {
        // The builder guarantees exactly one.
        self.instruments
            .iter()
            .find(|instrument| instrument.role == InstrumentRole::Fallback)
            .unwrap_or(&self.instruments[0])
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

// ---- raw TOML shapes ----------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    group: Vec<Spanned<RawGroup>>,
    #[serde(default)]
    official_languages: Vec<Spanned<RawLanguages>>,
    #[serde(default)]
    instrument: Vec<Spanned<RawInstrument>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    id: Spanned<String>,
    #[allow(dead_code)]
    title: String,
    #[allow(dead_code)]
    source: String,
    states: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLanguages {
    state: Spanned<String>,
    languages: Vec<String>,
}

type Text = Spanned<String>;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawInstrument {
    id: Text,
    title: Text,
    kind: InstrumentKind,
    role: InstrumentRole,
    source_url: Text,
    basis_article: Option<String>,
    content_from: Option<Text>,
    in_force: Option<Text>,
    applies_until: Option<Text>,
    supplements: Option<Text>,
    parties: Spanned<RawParties>,
    scope: Option<Spanned<RawScope>>,
    #[serde(default)]
    measures: Vec<Text>,
    #[serde(default)]
    specific_measures: Vec<Text>,
    #[serde(default)]
    adds_scope_categories: Vec<Text>,
    #[serde(default)]
    content: Vec<Spanned<RawContent>>,
    #[serde(default)]
    channels: Vec<Spanned<RawChannel>>,
    #[serde(default)]
    refusal_grounds: Vec<Spanned<RawGround>>,
    #[serde(default)]
    no_refusal_on: Vec<Spanned<RawTriggerRule>>,
    #[serde(default)]
    removes_refusal_grounds: Vec<Spanned<RawTriggerRule>>,
    dual_criminality: Option<Spanned<RawDualCriminality>>,
    #[serde(default)]
    deadlines: Vec<Spanned<RawDeadline>>,
    #[serde(default)]
    declarations: Vec<Spanned<RawDeclaration>>,
    #[serde(default)]
    gives_way_to: Vec<Spanned<RawPrecedence>>,
    #[serde(default)]
    prevails_over: Vec<Spanned<RawPrecedence>>,
    #[serde(default)]
    safeguards: Vec<Spanned<RawSafeguard>>,
    #[serde(default)]
    measure_rules: Vec<Spanned<RawMeasureRule>>,
    #[serde(default)]
    use_rules: Vec<Spanned<RawUseRule>>,
    /// The article requiring reasons for any refusal.
    refusal_reasons_article: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasureRule {
    measure: Text,
    article: Option<String>,
    text: String,
    consent_article: Option<String>,
    #[serde(default)]
    consent_of: Vec<Text>,
    consent_text: Option<String>,
    #[serde(default)]
    grounds: Vec<Spanned<RawGround>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUseRule {
    article: Option<String>,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParties {
    source: Text,
    as_of: Option<Text>,
    note: Option<String>,
    undated: Option<Text>,
    #[serde(default)]
    all_states: bool,
    #[serde(default)]
    one_side: Vec<Text>,
    #[serde(default)]
    states: Vec<Spanned<RawParty>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParty {
    state: Option<Text>,
    group: Option<Text>,
    #[serde(default)]
    except: Vec<Text>,
    from: Option<Text>,
    until: Option<Text>,
    #[serde(default)]
    reservations: Vec<Text>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawScope {
    #[serde(default)]
    offence_categories: Vec<Text>,
    min_penalty_months: Option<u32>,
    #[serde(default)]
    measures: Vec<Text>,
    article: Option<String>,
    note: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawContent {
    item: ContentItem,
    #[serde(default)]
    where_possible: bool,
    article: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawChannel {
    kind: ChannelKind,
    when: ChannelWhen,
    #[serde(default)]
    measures: Vec<Text>,
    article: Option<String>,
    #[serde(default)]
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGround {
    code: String,
    kind: GroundKind,
    article: Option<String>,
    text: String,
    #[serde(default)]
    raised_by: Vec<Trigger>,
    /// The article obliging the requested side to consult the requesting side before
    /// refusing on this ground.
    consult_first: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTriggerRule {
    trigger: Trigger,
    article: Option<String>,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDualCriminality {
    mode: DualCriminalityMode,
    article: Option<String>,
    text: String,
    list_exception_article: Option<String>,
    list_exception_min_penalty_months: Option<u32>,
    non_coercive_article: Option<String>,
    #[serde(default)]
    measure_exceptions: Vec<Spanned<RawMeasureException>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMeasureException {
    measure: Text,
    article: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadline {
    kind: DeadlineRuleKind,
    days: Option<u32>,
    hours: Option<u32>,
    #[serde(default)]
    measures: Vec<Text>,
    article: Option<String>,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeclaration {
    state: Text,
    #[serde(default)]
    languages: Vec<String>,
    central_authority: Option<String>,
    article: Option<String>,
    source: Text,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrecedence {
    instrument: Option<Text>,
    #[serde(default)]
    any_mla_treaty: bool,
    article: Option<String>,
    text: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSafeguard {
    kind: SafeguardKind,
    article: Option<String>,
    text: String,
}

// ---- validation -----------------------------------------------------------------------

#[derive(Default)]
struct Builder {
    groups: HashMap<String, Vec<CountryCode>>,
}

/// One file being validated: its name and text, to turn spans into lines.
struct FileContext<'a> {
    name: &'a str,
    text: &'a str,
}

impl FileContext<'_> {
    fn error(&self, span: Range<usize>, problem: Problem) -> CatalogError {
        CatalogError::Invalid {
            file: self.name.to_string(),
            line: line_of(self.text, span.start),
            problem,
        }
    }

    fn country(&self, code: &Text) -> Result<CountryCode, CatalogError> {
        let value = code.get_ref();
        // Only alpha-2 codes in the catalog, upper case, so that the files read alike.
        let parsed = CountryCode::from_str(value)
            .ok()
            .filter(|parsed| parsed.as_str() == value);
        parsed.ok_or_else(|| self.error(code.span(), Problem::UnknownCountry(value.clone())))
    }

    fn measure(&self, code: &Text) -> Result<MeasureKind, CatalogError> {
        MeasureKind::from_str(code.get_ref())
            .map_err(|_| self.error(code.span(), Problem::UnknownMeasure(code.get_ref().clone())))
    }

    fn measures(&self, codes: &[Text]) -> Result<Vec<MeasureKind>, CatalogError> {
        codes.iter().map(|code| self.measure(code)).collect()
    }

    fn categories(&self, codes: &[Text]) -> Result<Vec<OffenceCategory>, CatalogError> {
        codes
            .iter()
            .map(|code| {
                OffenceCategory::from_str(code.get_ref()).map_err(|_| {
                    self.error(
                        code.span(),
                        Problem::UnknownOffenceCategory(code.get_ref().clone()),
                    )
                })
            })
            .collect()
    }

    fn date(&self, text: &Text) -> Result<Date, CatalogError> {
        Date::parse(text.get_ref())
            .map_err(|_| self.error(text.span(), Problem::MalformedDate(text.get_ref().clone())))
    }

    fn optional_date(&self, text: &Option<Text>) -> Result<Option<Date>, CatalogError> {
        text.as_ref().map(|text| self.date(text)).transpose()
    }

    fn article(
        &self,
        article: &Option<String>,
        span: Range<usize>,
        what: &'static str,
    ) -> Result<String, CatalogError> {
        match article {
            Some(article) if !article.trim().is_empty() => Ok(article.trim().to_string()),
            _ => Err(self.error(span, Problem::MissingArticle(what))),
        }
    }

    fn non_empty(&self, text: &Text, what: &'static str) -> Result<String, CatalogError> {
        if text.get_ref().trim().is_empty() {
            return Err(self.error(text.span(), Problem::Empty(what)));
        }
        Ok(text.get_ref().trim().to_string())
    }
}

/// A reference to an instrument, checked once every file is read.
struct PendingReference {
    file: usize,
    span: Range<usize>,
    id: String,
    field: &'static str,
}

impl Builder {
    fn build(mut self, files: &[(String, &str, RawFile)]) -> Result<Catalog, CatalogError> {
        let contexts: Vec<FileContext<'_>> = files
            .iter()
            .map(|(name, text, _)| FileContext { name, text })
            .collect();
        // Groups first: instruments in any file may use them.
        for (context, (_, _, raw)) in contexts.iter().zip(files) {
            for group in &raw.group {
                let group = group.get_ref();
                let id = context.non_empty(&group.id, "group id")?;
                if self.groups.contains_key(&id) {
                    return Err(context.error(group.id.span(), Problem::DuplicateId(id)));
                }
                let states = group
                    .states
                    .iter()
                    .map(|state| context.country(state))
                    .collect::<Result<Vec<_>, _>>()?;
                self.groups.insert(id, states);
            }
        }
        let mut official_languages = BTreeMap::new();
        let mut instruments = Vec::new();
        let mut index = HashMap::new();
        let mut pending = Vec::new();
        for (file_index, (context, (_, _, raw))) in contexts.iter().zip(files).enumerate() {
            for entry in &raw.official_languages {
                let entry = entry.get_ref();
                let state = context.country(&entry.state)?;
                official_languages.insert(state, entry.languages.clone());
            }
            for raw_instrument in &raw.instrument {
                let instrument =
                    self.instrument(context, raw_instrument, file_index, &mut pending)?;
                let id_span = raw_instrument.get_ref().id.span();
                if index.contains_key(&instrument.id) {
                    return Err(context.error(id_span, Problem::DuplicateId(instrument.id)));
                }
                index.insert(instrument.id.clone(), instruments.len());
                instruments.push(instrument);
            }
        }
        for reference in pending {
            if !index.contains_key(&reference.id) {
                return Err(contexts[reference.file].error(
                    reference.span,
                    Problem::UnknownInstrument {
                        id: reference.id,
                        field: reference.field,
                    },
                ));
            }
        }
        let fallbacks = instruments
            .iter()
            .filter(|instrument: &&Instrument| instrument.role == InstrumentRole::Fallback)
            .count();
        if fallbacks != 1 {
            let file = contexts.last().map_or("catalog", |context| context.name);
            return Err(CatalogError::Invalid {
                file: file.to_string(),
                line: 1,
                problem: Problem::FallbackCount(fallbacks),
            });
        }
        Ok(Catalog {
            instruments,
            index,
            official_languages,
        })
    }

    fn instrument(
        &self,
        context: &FileContext<'_>,
        spanned: &Spanned<RawInstrument>,
        file_index: usize,
        pending: &mut Vec<PendingReference>,
    ) -> Result<Instrument, CatalogError> {
        let raw = spanned.get_ref();
        let id = context.non_empty(&raw.id, "id")?;
        let title = context.non_empty(&raw.title, "title")?;
        let source_url = context.non_empty(&raw.source_url, "source_url")?;
        let is_supplement = raw.role == InstrumentRole::Supplement;
        if is_supplement != raw.supplements.is_some() {
            return Err(context.error(raw.id.span(), Problem::SupplementShape));
        }
        if let Some(target) = &raw.supplements {
            pending.push(PendingReference {
                file: file_index,
                span: target.span(),
                id: target.get_ref().clone(),
                field: "supplements",
            });
        }
        if let Some(target) = &raw.content_from {
            pending.push(PendingReference {
                file: file_index,
                span: target.span(),
                id: target.get_ref().clone(),
                field: "content_from",
            });
        }
        let basis_article = context.article(&raw.basis_article, raw.id.span(), "basis_article")?;
        let refusal_reasons_article = match &raw.refusal_reasons_article {
            Some(_) => Some(context.article(
                &raw.refusal_reasons_article,
                raw.id.span(),
                "refusal_reasons_article",
            )?),
            None => None,
        };
        let parties = self.parties(context, &raw.parties)?;
        let scope = match &raw.scope {
            None => None,
            Some(scope) => {
                let inner = scope.get_ref();
                Some(Scope {
                    offence_categories: context.categories(&inner.offence_categories)?,
                    min_penalty_months: inner.min_penalty_months,
                    measures: context.measures(&inner.measures)?,
                    article: context.article(&inner.article, scope.span(), "scope")?,
                    note: inner.note.clone(),
                })
            }
        };
        let content = raw
            .content
            .iter()
            .map(|rule| {
                Ok(ContentRule {
                    item: rule.get_ref().item,
                    where_possible: rule.get_ref().where_possible,
                    article: context.article(
                        &rule.get_ref().article,
                        rule.span(),
                        "a content item",
                    )?,
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        let channels = raw
            .channels
            .iter()
            .map(|rule| {
                let inner = rule.get_ref();
                Ok(ChannelRule {
                    kind: inner.kind,
                    when: inner.when,
                    measures: context.measures(&inner.measures)?,
                    article: context.article(&inner.article, rule.span(), "a channel")?,
                    text: inner.text.trim().to_string(),
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        let grounds = |rules: &[Spanned<RawGround>]| {
            rules
                .iter()
                .map(|rule| {
                    let inner = rule.get_ref();
                    let consult_first = match &inner.consult_first {
                        Some(_) => Some(context.article(
                            &inner.consult_first,
                            rule.span(),
                            "a refusal ground's consult_first",
                        )?),
                        None => None,
                    };
                    Ok(RefusalGroundRule {
                        code: inner.code.clone(),
                        kind: inner.kind,
                        article: context.article(
                            &inner.article,
                            rule.span(),
                            "a refusal ground",
                        )?,
                        text: inner.text.trim().to_string(),
                        raised_by: inner.raised_by.clone(),
                        consult_first,
                    })
                })
                .collect::<Result<Vec<_>, CatalogError>>()
        };
        let refusal_grounds = grounds(&raw.refusal_grounds)?;
        let measure_rules = raw
            .measure_rules
            .iter()
            .map(|rule| {
                let inner = rule.get_ref();
                let consent = match &inner.consent_article {
                    None if inner.consent_of.is_empty() && inner.consent_text.is_none() => None,
                    article => Some(ConsentRule {
                        of: inner
                            .consent_of
                            .iter()
                            .map(|role| {
                                PersonRole::from_str(role.get_ref()).map_err(|_| {
                                    context.error(
                                        role.span(),
                                        Problem::UnknownRole(role.get_ref().clone()),
                                    )
                                })
                            })
                            .collect::<Result<Vec<_>, CatalogError>>()?,
                        article: context.article(article, rule.span(), "a consent rule")?,
                        text: inner
                            .consent_text
                            .as_deref()
                            .map(str::trim)
                            .filter(|text| !text.is_empty())
                            .ok_or_else(|| {
                                context.error(rule.span(), Problem::Empty("consent_text"))
                            })?
                            .to_string(),
                    }),
                };
                Ok(MeasureRule {
                    measure: context.measure(&inner.measure)?,
                    article: context.article(&inner.article, rule.span(), "a measure rule")?,
                    text: inner.text.trim().to_string(),
                    consent,
                    grounds: grounds(&inner.grounds)?,
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        let use_rules = raw
            .use_rules
            .iter()
            .map(|rule| {
                let inner = rule.get_ref();
                Ok(UseRule {
                    article: context.article(&inner.article, rule.span(), "a use rule")?,
                    text: inner.text.trim().to_string(),
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        let trigger_rules = |rules: &[Spanned<RawTriggerRule>], what: &'static str| {
            rules
                .iter()
                .map(|rule| {
                    let inner = rule.get_ref();
                    Ok(TriggerRule {
                        trigger: inner.trigger,
                        article: context.article(&inner.article, rule.span(), what)?,
                        text: inner.text.trim().to_string(),
                    })
                })
                .collect::<Result<Vec<_>, CatalogError>>()
        };
        let no_refusal_on = trigger_rules(&raw.no_refusal_on, "a no_refusal_on rule")?;
        let removes_refusal_grounds = trigger_rules(
            &raw.removes_refusal_grounds,
            "a removes_refusal_grounds rule",
        )?;
        let dual_criminality = match &raw.dual_criminality {
            None => None,
            Some(rule) => Some(self.dual_criminality(context, rule)?),
        };
        let deadlines = raw
            .deadlines
            .iter()
            .map(|rule| {
                let inner = rule.get_ref();
                Ok(DeadlineRule {
                    kind: inner.kind,
                    days: inner.days,
                    hours: inner.hours,
                    measures: context.measures(&inner.measures)?,
                    article: context.article(&inner.article, rule.span(), "a deadline")?,
                    text: inner.text.trim().to_string(),
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        let declarations = raw
            .declarations
            .iter()
            .map(|rule| {
                let inner = rule.get_ref();
                Ok(Declaration {
                    state: context.country(&inner.state)?,
                    languages: inner.languages.clone(),
                    central_authority: inner.central_authority.clone(),
                    article: context.article(&inner.article, rule.span(), "a declaration")?,
                    source: context.non_empty(&inner.source, "declaration source")?,
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        let mut precedence = |rules: &[Spanned<RawPrecedence>], field: &'static str| {
            rules
                .iter()
                .map(|rule| {
                    let inner = rule.get_ref();
                    let target = match (&inner.instrument, inner.any_mla_treaty) {
                        (Some(target), false) => {
                            pending.push(PendingReference {
                                file: file_index,
                                span: target.span(),
                                id: target.get_ref().clone(),
                                field,
                            });
                            PrecedenceTarget::Instrument(target.get_ref().clone())
                        }
                        (None, true) => PrecedenceTarget::AnyMlaTreaty,
                        _ => {
                            return Err(context.error(
                                rule.span(),
                                Problem::UnknownInstrument {
                                    id: String::new(),
                                    field,
                                },
                            ));
                        }
                    };
                    Ok(Precedence {
                        target,
                        article: context.article(&inner.article, rule.span(), field)?,
                        text: inner.text.trim().to_string(),
                    })
                })
                .collect::<Result<Vec<_>, CatalogError>>()
        };
        let gives_way_to = precedence(&raw.gives_way_to, "gives_way_to")?;
        let prevails_over = precedence(&raw.prevails_over, "prevails_over")?;
        let safeguards = raw
            .safeguards
            .iter()
            .map(|rule| {
                let inner = rule.get_ref();
                Ok(SafeguardRule {
                    kind: inner.kind,
                    article: context.article(&inner.article, rule.span(), "a safeguard")?,
                    text: inner.text.trim().to_string(),
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        Ok(Instrument {
            id,
            title,
            kind: raw.kind,
            role: raw.role,
            source_url,
            basis_article,
            refusal_reasons_article,
            content_from: raw
                .content_from
                .as_ref()
                .map(|target| target.get_ref().clone()),
            in_force: context.optional_date(&raw.in_force)?,
            applies_until: context.optional_date(&raw.applies_until)?,
            supplements: raw
                .supplements
                .as_ref()
                .map(|target| target.get_ref().clone()),
            parties,
            scope,
            measures: context.measures(&raw.measures)?,
            specific_measures: context.measures(&raw.specific_measures)?,
            adds_scope_categories: context.categories(&raw.adds_scope_categories)?,
            content,
            channels,
            refusal_grounds,
            no_refusal_on,
            removes_refusal_grounds,
            dual_criminality,
            deadlines,
            declarations,
            gives_way_to,
            prevails_over,
            safeguards,
            measure_rules,
            use_rules,
            note: raw.note.clone(),
        })
    }

    fn parties(
        &self,
        context: &FileContext<'_>,
        spanned: &Spanned<RawParties>,
    ) -> Result<Parties, CatalogError> {
        let raw = spanned.get_ref();
        let undated = match &raw.undated {
            None => None,
            Some(reason) => Some(context.non_empty(reason, "parties undated reason")?),
        };
        let mut entries: Vec<Party> = Vec::new();
        for entry in &raw.states {
            let inner = entry.get_ref();
            let from = context.optional_date(&inner.from)?;
            let until = context.optional_date(&inner.until)?;
            let reservations = inner
                .reservations
                .iter()
                .map(|text| context.non_empty(text, "a reservation"))
                .collect::<Result<Vec<_>, _>>()?;
            let states = match (&inner.state, &inner.group) {
                (Some(state), None) => vec![context.country(state)?],
                (None, Some(group)) => {
                    let members = self.groups.get(group.get_ref()).ok_or_else(|| {
                        context.error(group.span(), Problem::UnknownGroup(group.get_ref().clone()))
                    })?;
                    let except = inner
                        .except
                        .iter()
                        .map(|state| context.country(state))
                        .collect::<Result<Vec<_>, _>>()?;
                    members
                        .iter()
                        .copied()
                        .filter(|state| !except.contains(state))
                        .collect()
                }
                _ => return Err(context.error(entry.span(), Problem::PartyShape)),
            };
            for state in states {
                if from.is_none() && undated.is_none() {
                    return Err(context.error(
                        entry.span(),
                        Problem::PartyWithoutDate(state.as_str().to_string()),
                    ));
                }
                let party = Party {
                    state,
                    from,
                    until,
                    reservations: reservations.clone(),
                };
                if let Some(existing) = entries.iter_mut().find(|party| party.state == state) {
                    // A later, more precise entry refines a group entry.
                    *existing = party;
                } else {
                    entries.push(party);
                }
            }
        }
        Ok(Parties {
            source: context.non_empty(&raw.source, "parties source")?,
            as_of: context.optional_date(&raw.as_of)?,
            note: raw.note.clone(),
            undated,
            all_states: raw.all_states,
            one_side: raw
                .one_side
                .iter()
                .map(|state| context.country(state))
                .collect::<Result<Vec<_>, _>>()?,
            entries,
        })
    }

    fn dual_criminality(
        &self,
        context: &FileContext<'_>,
        rule: &Spanned<RawDualCriminality>,
    ) -> Result<DualCriminalityRule, CatalogError> {
        let inner = rule.get_ref();
        let list_exception = match (
            &inner.list_exception_article,
            inner.list_exception_min_penalty_months,
        ) {
            (None, None) => None,
            (article, Some(months)) => Some(ListException {
                article: context.article(article, rule.span(), "the list exception")?,
                min_penalty_months: months,
            }),
            (Some(_), None) => {
                return Err(context.error(
                    rule.span(),
                    Problem::Empty("list_exception_min_penalty_months"),
                ));
            }
        };
        let measure_exceptions = inner
            .measure_exceptions
            .iter()
            .map(|exception| {
                Ok(MeasureException {
                    measure: context.measure(&exception.get_ref().measure)?,
                    article: context.article(
                        &exception.get_ref().article,
                        exception.span(),
                        "a measure exception",
                    )?,
                })
            })
            .collect::<Result<Vec<_>, CatalogError>>()?;
        Ok(DualCriminalityRule {
            mode: inner.mode,
            article: context.article(&inner.article, rule.span(), "dual_criminality")?,
            text: inner.text.trim().to_string(),
            list_exception,
            non_coercive_article: inner.non_coercive_article.clone(),
            measure_exceptions,
        })
    }
}

impl fmt::Display for InstrumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}
