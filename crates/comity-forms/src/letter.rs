//! The letter of request as a document model, built once from a request and its
//! assessment and then rendered as HTML ([`crate::html`]) or PDF ([`crate::pdf`]).
//!
//! Every string in the model is either translated text from the tables ([`Inline::Text`]),
//! free text as the requesting authority wrote it ([`Inline::Source`], to be translated by
//! a person), an identifier that is never translated ([`Inline::Code`]), or a registered
//! proper name ([`Inline::Name`]).

use comity_domain::{Confidentiality, CountryCode, Date, RequestContent, Urgency};
use comity_law::{Assessment, Citation, ContentItem};

use crate::Language;
use crate::i18n::Translations;

/// What the renderers need to write a letter of request.
#[derive(Debug, Clone, Copy)]
pub struct LetterInput<'a> {
    /// What the request says.
    pub content: &'a RequestContent,
    /// The legal-basis engine's assessment of it (prevailing instrument, citations).
    pub assessment: &'a Assessment,
    /// The requesting authority's case reference, e.g. "DP 123/2026".
    pub case_reference: &'a str,
    /// The federation-wide request id.
    pub request_id: &'a str,
    /// The date the letter bears.
    pub date: Date,
    /// The requesting authority's full name, where the registry knows it.
    pub requesting_authority_name: Option<&'a str>,
    /// The requested authority's full name, where the registry knows it.
    pub requested_authority_name: Option<&'a str>,
    /// Who at the requesting authority answers for the request (name and role).
    pub contact_officer: Option<&'a str>,
}

/// The catalog id of UNTOC, cited for the notices every letter carries.
const UNTOC: &str = "untoc";

/// A run of text inside a paragraph or field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inline {
    /// Translated text from the tables.
    Text(String),
    /// Free text as written by the requesting authority, awaiting translation.
    Source(String),
    /// An identifier, code or file name: shown as it is, never translated.
    Code(String),
    /// A proper name as registered (an authority, an officer): never translated, set in
    /// its own direction so an Arabic name in a French letter reads correctly.
    Name(String),
}

/// A label and its value.
#[derive(Debug, Clone)]
pub(crate) struct Field {
    pub label: String,
    pub value: Vec<Inline>,
}

/// A block of a section.
#[derive(Debug, Clone)]
pub(crate) enum Block {
    /// A heading inside a section.
    Subheading(String),
    /// A paragraph.
    Paragraph(Vec<Inline>),
    /// A long passage of free text, line breaks kept.
    SourceText(String),
    /// Label-value pairs.
    Fields(Vec<Field>),
    /// A numbered item (an offence, a measure, a person) with its fields.
    Entry {
        title: Vec<Inline>,
        fields: Vec<Field>,
    },
    /// A bulleted list.
    List(Vec<Vec<Inline>>),
    /// A table with a header row.
    Table {
        header: Vec<String>,
        rows: Vec<Vec<Inline>>,
    },
}

/// How a section is set off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SectionStyle {
    Plain,
    /// A boxed notice (urgency, confidentiality).
    Notice,
}

/// One numbered section of the letter.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    /// A stable id, for anchors and tests.
    pub id: &'static str,
    pub heading: String,
    /// The provision that requires or governs the section, written out.
    pub citation: Option<String>,
    pub style: SectionStyle,
    pub blocks: Vec<Block>,
}

impl Section {
    fn has_source(&self) -> bool {
        let inline_source = |inlines: &Vec<Inline>| {
            inlines
                .iter()
                .any(|inline| matches!(inline, Inline::Source(_)))
        };
        let fields_source = |fields: &Vec<Field>| fields.iter().any(|f| inline_source(&f.value));
        self.blocks.iter().any(|block| match block {
            Block::Subheading(_) => false,
            Block::Paragraph(inlines) => inline_source(inlines),
            Block::SourceText(_) => true,
            Block::Fields(fields) => fields_source(fields),
            Block::Entry { title, fields } => inline_source(title) || fields_source(fields),
            Block::List(items) => items.iter().any(inline_source),
            Block::Table { rows, .. } => rows.iter().any(inline_source),
        })
    }
}

/// The note at the top listing the sections whose free text awaits translation.
#[derive(Debug, Clone)]
pub(crate) struct TranslationNote {
    pub title: String,
    pub intro: String,
    pub sections: Vec<String>,
}

/// The whole letter, in one language.
#[derive(Debug, Clone)]
pub(crate) struct Letter {
    pub language: Language,
    pub title: String,
    pub subtitle: String,
    pub urgent_marker: Option<String>,
    pub header: Vec<Field>,
    pub translation_note: Option<TranslationNote>,
    pub opening: String,
    pub sections: Vec<Section>,
    pub closing: String,
    pub signature: String,
    pub signatory: String,
}

/// Builds the letter of request in the given language.
pub(crate) fn build(input: &LetterInput<'_>, language: Language) -> Letter {
    let t = Translations::get(language);
    let content = input.content;
    let builder = Builder { t, input };

    let mut sections = vec![builder.legal_basis()];
    if let Urgency::Urgent { reason } = &content.urgency {
        sections.push(Section {
            id: "urgency",
            heading: t.text("urgency").to_string(),
            citation: None,
            style: SectionStyle::Notice,
            blocks: vec![
                Block::Paragraph(vec![text(t.text("urgency_notice"))]),
                Block::Fields(vec![field(t.text("urgency_reason"), source(reason))]),
            ],
        });
    }
    if content.confidentiality != Confidentiality::Standard {
        sections.push(Section {
            id: "confidentiality",
            heading: t.text("confidentiality").to_string(),
            citation: Some(builder.untoc("18(20)")),
            style: SectionStyle::Notice,
            blocks: vec![
                Block::Fields(vec![field(
                    t.text("confidentiality_level"),
                    text(t.confidentiality(content.confidentiality)),
                )]),
                Block::Paragraph(vec![text(t.text("confidentiality_notice"))]),
            ],
        });
    }
    sections.push(Section {
        id: "subject_matter",
        heading: t.text("subject_matter").to_string(),
        citation: Some(builder.cite(ContentItem::SubjectMatter, "18(15)(b)")),
        style: SectionStyle::Plain,
        blocks: vec![
            Block::SourceText(content.subject_matter.clone()),
            Block::Fields(vec![field(
                t.text("conducting_authority"),
                source(&content.conducting_authority),
            )]),
        ],
    });
    sections.push(Section {
        id: "summary_of_facts",
        heading: t.text("summary_of_facts").to_string(),
        citation: Some(builder.cite(ContentItem::SummaryOfFacts, "18(15)(c)")),
        style: SectionStyle::Plain,
        blocks: vec![Block::SourceText(content.summary_of_facts.clone())],
    });
    sections.push(builder.offences());
    sections.push(builder.measures());
    sections.push(builder.persons());
    sections.push(Section {
        id: "purpose",
        heading: t.text("purpose").to_string(),
        citation: Some(builder.cite(ContentItem::Purpose, "18(15)(f)")),
        style: SectionStyle::Plain,
        blocks: vec![Block::SourceText(content.purpose.clone())],
    });
    let deadline = match content.requested_deadline {
        Some(date) => t
            .text("deadline_requested")
            .replace("{date}", &t.date(&date.to_string())),
        None => t.text("deadline_none").to_string(),
    };
    sections.push(Section {
        id: "deadline",
        heading: t.text("deadline").to_string(),
        citation: None,
        style: SectionStyle::Plain,
        blocks: vec![Block::Paragraph(vec![Inline::Text(deadline)])],
    });
    sections.push(builder.attachments());
    sections.push(Section {
        id: "speciality",
        heading: t.text("speciality").to_string(),
        citation: Some(builder.untoc("18(19)")),
        style: SectionStyle::Plain,
        blocks: vec![Block::Paragraph(vec![text(t.text("speciality_notice"))])],
    });

    let awaiting: Vec<String> = sections
        .iter()
        .filter(|section| section.has_source())
        .map(|section| section.heading.clone())
        .collect();
    let translation_note = (!awaiting.is_empty()).then(|| TranslationNote {
        title: t.text("translation_note_title").to_string(),
        intro: t
            .text("translation_note")
            .replace("{language}", t.text("language_name")),
        sections: awaiting,
    });

    Letter {
        language,
        title: t.text("document_title").to_string(),
        subtitle: t.text("document_subtitle").to_string(),
        urgent_marker: content
            .urgency
            .is_urgent()
            .then(|| t.text("urgent_marker").to_string()),
        header: builder.header(),
        translation_note,
        opening: t.text("opening").to_string(),
        sections,
        closing: t.text("closing").to_string(),
        signature: t.text("signature").to_string(),
        signatory: t.text("signatory").to_string(),
    }
}

struct Builder<'a> {
    t: &'static Translations,
    input: &'a LetterInput<'a>,
}

impl Builder<'_> {
    fn header(&self) -> Vec<Field> {
        let t = self.t;
        let content = self.input.content;
        // The full name as the registry holds it (a proper name, never translated),
        // then the id and the state.
        let authority = |id: &str, name: Option<&str>, country: CountryCode| match name {
            Some(name) => vec![
                Inline::Name(name.to_string()),
                Inline::Text(" (".to_string()),
                Inline::Code(id.to_string()),
                Inline::Text(format!(", {})", country.english_name())),
            ],
            None => vec![
                Inline::Code(id.to_string()),
                Inline::Text(format!(" ({})", country.english_name())),
            ],
        };
        let mut fields = vec![
            Field {
                label: t.text("requesting_authority").to_string(),
                value: authority(
                    content.requesting_authority.as_str(),
                    self.input.requesting_authority_name,
                    content.requesting_country,
                ),
            },
            Field {
                label: t.text("requested_authority").to_string(),
                value: authority(
                    content.requested_authority.as_str(),
                    self.input.requested_authority_name,
                    content.requested_country,
                ),
            },
        ];
        if let Some(officer) = self.input.contact_officer {
            fields.push(Field {
                label: t.text("contact_officer").to_string(),
                value: vec![Inline::Name(officer.to_string())],
            });
        }
        fields.extend([
            Field {
                label: t.text("case_reference").to_string(),
                value: vec![Inline::Code(self.input.case_reference.to_string())],
            },
            Field {
                label: t.text("request_id").to_string(),
                value: vec![Inline::Code(self.input.request_id.to_string())],
            },
            Field {
                label: t.text("date").to_string(),
                value: vec![Inline::Text(t.date(&self.input.date.to_string()))],
            },
        ]);
        fields
    }

    /// The title of an instrument in the letter's language: the translation table, else
    /// the title the assessment gives, else the catalog id.
    fn instrument_title(&self, instrument_id: &str) -> String {
        let assessment = self.input.assessment;
        let english = assessment
            .prevailing
            .iter()
            .filter(|prevailing| prevailing.instrument_id == instrument_id)
            .map(|prevailing| prevailing.title.as_str())
            .chain(
                assessment
                    .applicable
                    .iter()
                    .filter(|applicable| applicable.instrument_id == instrument_id)
                    .map(|applicable| applicable.title.as_str()),
            )
            .next()
            .unwrap_or(instrument_id);
        self.t.instrument(instrument_id, english).to_string()
    }

    fn citation(&self, citation: &Citation) -> String {
        format!(
            "{}{}{} {}",
            self.instrument_title(&citation.instrument_id),
            self.t.text("list_separator"),
            self.t.text("article"),
            citation.article
        )
    }

    fn untoc(&self, article: &str) -> String {
        self.citation(&Citation {
            instrument_id: UNTOC.to_string(),
            article: article.to_string(),
            source_url: String::new(),
        })
    }

    /// The provision of the prevailing instrument that requires an item of content, as
    /// the assessment's checklist cites it; UNTOC art. 18(15) where it cites none.
    fn cite(&self, item: ContentItem, untoc_article: &str) -> String {
        match self
            .input
            .assessment
            .checklist
            .iter()
            .find(|check| check.item == item)
        {
            Some(check) => self.citation(&check.citation),
            None => self.untoc(untoc_article),
        }
    }

    fn legal_basis(&self) -> Section {
        let t = self.t;
        let assessment = self.input.assessment;
        let mut blocks = Vec::new();
        match &assessment.prevailing {
            Some(prevailing) => {
                blocks.push(Block::Paragraph(vec![text(t.text("legal_basis_intro"))]));
                let mut instruments = vec![prevailing.instrument_id.clone()];
                if let Some(applicable) = assessment
                    .applicable
                    .iter()
                    .find(|applicable| applicable.instrument_id == prevailing.instrument_id)
                {
                    instruments.extend(applicable.supplements.iter().cloned());
                }
                blocks.push(Block::List(
                    instruments
                        .iter()
                        .map(|id| vec![Inline::Text(self.instrument_title(id))])
                        .collect(),
                ));
            }
            None => {
                blocks.push(Block::Paragraph(vec![text(t.text("reciprocity"))]));
            }
        }
        // The provisions cited by the checklist and the precedence rule, grouped by
        // instrument in order of first appearance.
        let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
        let citations = assessment
            .prevailing
            .iter()
            .map(|prevailing| &prevailing.citation)
            .chain(assessment.fallback.iter().map(|finding| &finding.citation))
            .chain(assessment.checklist.iter().map(|check| &check.citation));
        for citation in citations {
            let article = format!("{} {}", t.text("article"), citation.article);
            match grouped
                .iter_mut()
                .find(|(id, _)| *id == citation.instrument_id)
            {
                Some((_, articles)) => {
                    if !articles.contains(&article) {
                        articles.push(article);
                    }
                }
                None => grouped.push((citation.instrument_id.clone(), vec![article])),
            }
        }
        if !grouped.is_empty() {
            blocks.push(Block::Subheading(
                t.text("provisions_relied_on").to_string(),
            ));
            blocks.push(Block::List(
                grouped
                    .iter()
                    .map(|(id, articles)| {
                        vec![Inline::Text(format!(
                            "{}{}{}",
                            self.instrument_title(id),
                            t.text("colon"),
                            articles.join(t.text("list_separator"))
                        ))]
                    })
                    .collect(),
            ));
        }
        Section {
            id: "legal_basis",
            heading: t.text("legal_basis").to_string(),
            citation: None,
            style: SectionStyle::Plain,
            blocks,
        }
    }

    fn offences(&self) -> Section {
        let t = self.t;
        let blocks = self
            .input
            .content
            .offences
            .iter()
            .enumerate()
            .map(|(index, offence)| {
                let mut fields = vec![
                    field(
                        t.text("offence_provision"),
                        source(&offence.national_provision),
                    ),
                    field(
                        t.text("offence_category"),
                        text(t.offence(offence.category)),
                    ),
                ];
                if let Some(months) = offence.maximum_penalty_months {
                    fields.push(field(
                        t.text("maximum_penalty"),
                        Inline::Text(months.to_string()),
                    ));
                }
                Block::Entry {
                    title: vec![Inline::Text(format!("{} {}", t.text("offence"), index + 1))],
                    fields,
                }
            })
            .collect();
        Section {
            id: "offences",
            heading: t.text("offences").to_string(),
            citation: Some(self.cite(ContentItem::OffenceDescription, "18(15)(b)")),
            style: SectionStyle::Plain,
            blocks,
        }
    }

    fn measures(&self) -> Section {
        let t = self.t;
        let blocks = self
            .input
            .content
            .measures
            .iter()
            .enumerate()
            .map(|(index, measure)| Block::Entry {
                title: vec![Inline::Text(format!(
                    "{} {}: {}",
                    t.text("measure"),
                    index + 1,
                    t.measure(measure.kind)
                ))],
                fields: vec![field(
                    t.text("measure_description"),
                    source(&measure.description),
                )],
            })
            .collect();
        Section {
            id: "assistance_sought",
            heading: t.text("assistance_sought").to_string(),
            citation: Some(self.cite(ContentItem::MeasuresDescribed, "18(15)(d)")),
            style: SectionStyle::Plain,
            blocks,
        }
    }

    fn persons(&self) -> Section {
        let t = self.t;
        let separator = t.text("list_separator");
        let blocks = self
            .input
            .content
            .persons
            .iter()
            .enumerate()
            .map(|(index, person)| {
                let date_of_birth = match &person.date_of_birth {
                    Some(written) => Inline::Text(t.date(written)),
                    None => text(t.text("not_stated")),
                };
                let nationality = if person.nationalities.is_empty() {
                    text(t.text("not_stated"))
                } else {
                    Inline::Text(
                        person
                            .nationalities
                            .iter()
                            .map(|country| country.english_name())
                            .collect::<Vec<_>>()
                            .join(separator),
                    )
                };
                let location = match &person.location {
                    Some(location) => source(location),
                    None => text(t.text("not_stated")),
                };
                let vulnerabilities = if person.vulnerabilities.is_empty() {
                    text(t.text("none_reported"))
                } else {
                    Inline::Text(
                        person
                            .vulnerabilities
                            .iter()
                            .map(|&vulnerability| t.vulnerability(vulnerability))
                            .collect::<Vec<_>>()
                            .join(separator),
                    )
                };
                Block::Entry {
                    title: vec![Inline::Text(format!("{} {}", t.text("person"), index + 1))],
                    fields: vec![
                        field(t.text("full_name"), source(&person.full_name)),
                        field(t.text("role"), text(t.role(person.role))),
                        field(t.text("date_of_birth"), date_of_birth),
                        field(t.text("nationality"), nationality),
                        field(t.text("location"), location),
                        field(t.text("vulnerabilities"), vulnerabilities),
                    ],
                }
            })
            .collect();
        Section {
            id: "persons",
            heading: t.text("persons").to_string(),
            citation: Some(self.cite(ContentItem::PersonsIdentity, "18(15)(e)")),
            style: SectionStyle::Plain,
            blocks,
        }
    }

    fn attachments(&self) -> Section {
        let t = self.t;
        let attachments = &self.input.content.attachments;
        let blocks = if attachments.is_empty() {
            vec![Block::Paragraph(vec![text(t.text("attachments_none"))])]
        } else {
            vec![Block::Table {
                header: vec![
                    t.text("attachment_file").to_string(),
                    t.text("attachment_type").to_string(),
                    t.text("attachment_size").to_string(),
                    t.text("attachment_sha256").to_string(),
                ],
                rows: attachments
                    .iter()
                    .map(|attachment| {
                        vec![
                            Inline::Code(attachment.file_name.clone()),
                            Inline::Code(attachment.media_type.clone()),
                            Inline::Text(attachment.size_bytes.to_string()),
                            Inline::Code(attachment.sha256_hex.clone()),
                        ]
                    })
                    .collect(),
            }]
        };
        Section {
            id: "attachments",
            heading: t.text("attachments").to_string(),
            citation: None,
            style: SectionStyle::Plain,
            blocks,
        }
    }
}

fn text(value: &str) -> Inline {
    Inline::Text(value.to_string())
}

fn source(value: &str) -> Inline {
    Inline::Source(value.to_string())
}

fn field(label: &str, value: Inline) -> Field {
    Field {
        label: label.to_string(),
        value: vec![value],
    }
}
