//! Cases and requests: what a request says, and the record of one on this node.

use crate::coded_enum;
use crate::{
    AuthorityId, CountryCode, Date, DomainError, MeasureSought, Offence, PersonConcerned,
    RequestState, Side, Timestamp,
};

coded_enum! {
    /// How confidential the request is (UNTOC art. 18(20)).
    pub enum Confidentiality ("confidentiality level") {
        Standard = ("standard", "standard"),
        Confidential = ("confidential", "confidential: the requested state keeps the fact and substance of the request confidential"),
        StrictlyConfidential = ("strictly_confidential", "strictly confidential: need-to-know only"),
    }
}

/// How fast the request must be handled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Urgency {
    /// The ordinary course.
    Normal,
    /// Urgent, with the reason (for example a person in custody, data about to be deleted).
    Urgent {
        /// Why it is urgent.
        reason: String,
    },
}

impl Urgency {
    /// Whether the request is urgent.
    pub fn is_urgent(&self) -> bool {
        matches!(self, Urgency::Urgent { .. })
    }
}

/// A file attached to a request, by reference: the bytes live in evidence storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttachmentRef {
    /// The file name as uploaded.
    pub file_name: String,
    /// Its media type, e.g. `application/pdf`.
    pub media_type: String,
    /// Size in bytes.
    pub size_bytes: u64,
    /// SHA-256 of the content, lower-case hex (64 characters).
    pub sha256_hex: String,
}

/// Everything a request says: the content the law requires (UNTOC art. 18(15)) and the
/// handling information around it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContent {
    /// The authority that asks (18(15)(a)).
    pub requesting_authority: AuthorityId,
    /// Its state.
    pub requesting_country: CountryCode,
    /// The authority asked.
    pub requested_authority: AuthorityId,
    /// Its state.
    pub requested_country: CountryCode,
    /// Instrument ids the request relies on (from the law catalog).
    pub legal_basis: Vec<String>,
    /// Subject matter and nature of the investigation, prosecution or proceeding (18(15)(b)).
    pub subject_matter: String,
    /// Name and functions of the authority conducting the proceeding (18(15)(b)).
    pub conducting_authority: String,
    /// The offences.
    pub offences: Vec<Offence>,
    /// Summary of the relevant facts (18(15)(c)).
    pub summary_of_facts: String,
    /// The assistance sought (18(15)(d)).
    pub measures: Vec<MeasureSought>,
    /// Persons concerned (18(15)(e)).
    pub persons: Vec<PersonConcerned>,
    /// The purpose for which the evidence or information is sought (18(15)(f)).
    pub purpose: String,
    /// Urgency.
    pub urgency: Urgency,
    /// Confidentiality.
    pub confidentiality: Confidentiality,
    /// The date by which the requesting authority asks for execution.
    pub requested_deadline: Option<Date>,
    /// Whether assurances (for example against the death penalty) are given.
    pub assurances_given: bool,
    /// Attached files.
    pub attachments: Vec<AttachmentRef>,
}

/// Longest free text accepted in any one field, in characters.
pub const MAX_TEXT_CHARS: usize = 20_000;
/// Most entries accepted in any one list (offences, measures, persons...).
pub const MAX_LIST_LEN: usize = 200;

impl RequestContent {
    /// Checks what must hold for any stored request, even a draft: sizes, distinct
    /// authorities, well-formed attachments. What the *law* requires before sending is
    /// the legal engine's job, not this one.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.requesting_authority == self.requested_authority {
            return Err(DomainError::InvalidField {
                field: "requested_authority",
                reason: "the requested authority must differ from the requesting authority".into(),
            });
        }
        let texts: [(&'static str, &str); 5] = [
            ("subject_matter", &self.subject_matter),
            ("conducting_authority", &self.conducting_authority),
            ("summary_of_facts", &self.summary_of_facts),
            ("purpose", &self.purpose),
            (
                "urgency.reason",
                match &self.urgency {
                    Urgency::Urgent { reason } => reason,
                    Urgency::Normal => "",
                },
            ),
        ];
        for (field, text) in texts {
            check_text(field, text)?;
        }
        let lists = [
            ("legal_basis", self.legal_basis.len()),
            ("offences", self.offences.len()),
            ("measures", self.measures.len()),
            ("persons", self.persons.len()),
            ("attachments", self.attachments.len()),
        ];
        for (field, len) in lists {
            if len > MAX_LIST_LEN {
                return Err(DomainError::InvalidField {
                    field,
                    reason: format!("at most {MAX_LIST_LEN} entries are accepted, got {len}"),
                });
            }
        }
        if let Urgency::Urgent { reason } = &self.urgency
            && reason.trim().is_empty()
        {
            return Err(DomainError::InvalidField {
                field: "urgency.reason",
                reason: "an urgent request must say why it is urgent".into(),
            });
        }
        for offence in &self.offences {
            check_text("offences.national_provision", &offence.national_provision)?;
        }
        for measure in &self.measures {
            check_text("measures.description", &measure.description)?;
        }
        for person in &self.persons {
            check_text("persons.full_name", &person.full_name)?;
            if person.full_name.trim().is_empty() {
                return Err(DomainError::InvalidField {
                    field: "persons.full_name",
                    reason:
                        "a person concerned needs a name (write \"unknown\" if it is not known)"
                            .into(),
                });
            }
        }
        for attachment in &self.attachments {
            let hex_ok = attachment.sha256_hex.len() == 64
                && attachment
                    .sha256_hex
                    .chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
            if !hex_ok {
                return Err(DomainError::InvalidField {
                    field: "attachments.sha256",
                    reason: "must be 64 lower-case hexadecimal characters".into(),
                });
            }
            check_text("attachments.file_name", &attachment.file_name)?;
        }
        Ok(())
    }
}

fn check_text(field: &'static str, text: &str) -> Result<(), DomainError> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(DomainError::InvalidField {
            field,
            reason: format!("at most {MAX_TEXT_CHARS} characters are accepted, got {chars}"),
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(DomainError::InvalidField {
            field,
            reason: "control characters are not accepted".into(),
        });
    }
    Ok(())
}

/// A case: a file at one authority that groups its outgoing and incoming requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Node-local id (a UUID).
    pub id: String,
    /// The authority that owns the case.
    pub authority: AuthorityId,
    /// The authority's own reference, e.g. "DP 123/2026".
    pub reference: String,
    /// A short title.
    pub title: String,
    /// When it was opened.
    pub created_at: Timestamp,
}

/// A request as this node holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Federation-wide id (a UUID), the same on both sides; also the conversation id.
    pub id: String,
    /// The case it belongs to, on this node.
    pub case_id: String,
    /// Which end this node holds.
    pub side: Side,
    /// Where it stands.
    pub state: RequestState,
    /// What it says.
    pub content: RequestContent,
    /// When it was created on this node.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// Bumped on every change, for optimistic concurrency.
    pub version: i64,
}

impl Request {
    /// The authority on this node that holds the request: the requesting authority on the
    /// requesting side, the requested authority on the other.
    pub fn holder(&self) -> &AuthorityId {
        match self.side {
            Side::Requesting => &self.content.requesting_authority,
            Side::Requested => &self.content.requested_authority,
        }
    }
}
