//! Cases and requests: what a request says, and the record of one on this node.

use crate::coded_enum;
use crate::text::{self, MAX_NAME_CHARS, MAX_SHORT_TEXT_CHARS};
use crate::{
    AuthorityId, CaseId, CountryCode, Date, DomainError, MeasureSought, Offence, PersonConcerned,
    RequestId, RequestState, Side, Timestamp,
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

pub use crate::text::MAX_TEXT_CHARS;
/// Most entries accepted in any one list (offences, measures, persons...).
pub const MAX_LIST_LEN: usize = 200;
/// Most entries accepted in a person's own lists (nationalities, vulnerabilities).
pub const MAX_PERSON_LIST_LEN: usize = 20;
/// Longest instrument id in a legal basis.
pub const MAX_INSTRUMENT_ID_CHARS: usize = 64;
/// Longest media type (RFC 6838 allows 127 + 1 + 127).
pub const MAX_MEDIA_TYPE_CHARS: usize = 255;
/// Largest attachment size: what a signed 64-bit integer holds, as storage keeps it.
pub const MAX_ATTACHMENT_BYTES: u64 = i64::MAX as u64;
/// Earliest and latest year accepted in a requested deadline.
pub const DEADLINE_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
/// Earliest year of birth accepted (a date in the future is the caller's to refuse, as
/// the domain has no clock).
pub const EARLIEST_BIRTH_YEAR: i32 = 1900;

impl RequestContent {
    /// Checks what must hold for any stored request, even a draft: sizes, distinct
    /// authorities, text without control characters, names without bidirectional
    /// controls, well-formed attachments, plausible dates. What the *law* requires
    /// before sending is the legal engine's job, not this one.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.requesting_authority == self.requested_authority {
            return Err(invalid(
                "requested_authority",
                "the requested authority must differ from the requesting authority",
            ));
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
            check_text(field, text, MAX_TEXT_CHARS)?;
        }
        let lists = [
            ("legal_basis", self.legal_basis.len()),
            ("offences", self.offences.len()),
            ("measures", self.measures.len()),
            ("persons", self.persons.len()),
            ("attachments", self.attachments.len()),
        ];
        for (field, len) in lists {
            check_list(field, len, MAX_LIST_LEN)?;
        }
        if let Urgency::Urgent { reason } = &self.urgency
            && reason.trim().is_empty()
        {
            return Err(invalid(
                "urgency.reason",
                "an urgent request must say why it is urgent",
            ));
        }
        for (index, instrument) in self.legal_basis.iter().enumerate() {
            let field = format!("legal_basis[{index}]");
            text::check_name(instrument, MAX_INSTRUMENT_ID_CHARS)
                .map_err(|error| invalid(&field, error))?;
        }
        if let Some(deadline) = self.requested_deadline
            && !DEADLINE_YEARS.contains(&deadline.year())
        {
            return Err(invalid(
                "requested_deadline",
                format!(
                    "must fall between the years {} and {}",
                    DEADLINE_YEARS.start(),
                    DEADLINE_YEARS.end()
                ),
            ));
        }
        for (index, offence) in self.offences.iter().enumerate() {
            check_text(
                &format!("offences[{index}].national_provision"),
                &offence.national_provision,
                MAX_SHORT_TEXT_CHARS,
            )?;
        }
        for (index, measure) in self.measures.iter().enumerate() {
            check_text(
                &format!("measures[{index}].description"),
                &measure.description,
                MAX_TEXT_CHARS,
            )?;
        }
        for (index, person) in self.persons.iter().enumerate() {
            validate_person(index, person)?;
        }
        for (index, attachment) in self.attachments.iter().enumerate() {
            validate_attachment(index, attachment)?;
        }
        Ok(())
    }
}

fn validate_person(index: usize, person: &PersonConcerned) -> Result<(), DomainError> {
    let field = |name: &str| format!("persons[{index}].{name}");
    if person.full_name.trim().is_empty() {
        return Err(invalid(
            &field("full_name"),
            "a person concerned needs a name (write \"unknown\" if it is not known)",
        ));
    }
    text::check_name(&person.full_name, MAX_NAME_CHARS)
        .map_err(|error| invalid(&field("full_name"), error))?;
    if let Some(location) = &person.location {
        check_text(&field("location"), location, MAX_SHORT_TEXT_CHARS)?;
    }
    if let Some(born) = &person.date_of_birth {
        let year = born
            .get(..4)
            .and_then(|year| year.parse::<i32>().ok())
            .unwrap_or(0);
        if year < EARLIEST_BIRTH_YEAR {
            return Err(invalid(
                &field("date_of_birth"),
                format!("a year of birth before {EARLIEST_BIRTH_YEAR} is not plausible"),
            ));
        }
    }
    check_list(
        &field("nationalities"),
        person.nationalities.len(),
        MAX_PERSON_LIST_LEN,
    )?;
    check_list(
        &field("vulnerabilities"),
        person.vulnerabilities.len(),
        MAX_PERSON_LIST_LEN,
    )
}

fn validate_attachment(index: usize, attachment: &AttachmentRef) -> Result<(), DomainError> {
    let field = |name: &str| format!("attachments[{index}].{name}");
    let hex_ok = attachment.sha256_hex.len() == 64
        && attachment
            .sha256_hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase());
    if !hex_ok {
        return Err(invalid(
            &field("sha256"),
            "must be 64 lower-case hexadecimal characters",
        ));
    }
    text::check_name(&attachment.file_name, MAX_NAME_CHARS)
        .map_err(|error| invalid(&field("file_name"), error))?;
    if !is_media_type(&attachment.media_type) {
        return Err(invalid(
            &field("media_type"),
            "must be a media type such as `application/pdf` (type/subtype, at most 255 characters)",
        ));
    }
    if attachment.size_bytes > MAX_ATTACHMENT_BYTES {
        return Err(invalid(
            &field("size_bytes"),
            format!("at most {MAX_ATTACHMENT_BYTES} bytes"),
        ));
    }
    Ok(())
}

/// Whether `text` is a media type `type/subtype` of RFC 6838 restricted names, without
/// parameters.
pub fn is_media_type(text: &str) -> bool {
    let restricted = |name: &str| {
        !name.is_empty()
            && name.len() <= 127
            && name
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric())
            && name.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '!' | '#' | '$' | '&' | '-' | '^' | '_' | '.' | '+')
            })
    };
    if text.len() > MAX_MEDIA_TYPE_CHARS {
        return false;
    }
    match text.split_once('/') {
        Some((kind, subtype)) => restricted(kind) && restricted(subtype),
        None => false,
    }
}

fn invalid(field: &str, reason: impl ToString) -> DomainError {
    DomainError::InvalidField {
        field: field.to_string(),
        reason: reason.to_string(),
    }
}

fn check_list(field: &str, len: usize, max: usize) -> Result<(), DomainError> {
    if len > max {
        return Err(invalid(
            field,
            format!("at most {max} entries are accepted, got {len}"),
        ));
    }
    Ok(())
}

fn check_text(field: &str, text: &str, max_chars: usize) -> Result<(), DomainError> {
    text::check_free_text(text, max_chars).map_err(|error| invalid(field, error))
}

/// A case: a file at one authority that groups its outgoing and incoming requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// Node-local id (a UUID).
    pub id: CaseId,
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
    pub id: RequestId,
    /// The case it belongs to, on this node.
    pub case_id: CaseId,
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

    /// The authority at the other end: the requested authority on the requesting side,
    /// the requesting authority on the other.
    pub fn counterpart(&self) -> &AuthorityId {
        match self.side {
            Side::Requesting => &self.content.requested_authority,
            Side::Requested => &self.content.requesting_authority,
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn media_types_are_type_and_subtype() {
        for accepted in [
            "application/pdf",
            "image/svg+xml",
            "application/vnd.ms-excel",
        ] {
            assert!(is_media_type(accepted), "{accepted}");
        }
        for refused in [
            "",
            "pdf",
            "application/",
            "/pdf",
            "application/pdf\u{7}",
            "text/plain; charset=utf-8",
            "a/b/c",
            "application/pdf ",
        ] {
            assert!(!is_media_type(refused), "{refused:?}");
        }
    }

    proptest! {
        #[test]
        fn what_the_schema_pattern_allows_is_a_media_type(
            text in "[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}"
        ) {
            prop_assert!(is_media_type(&text));
        }

        #[test]
        fn a_control_character_never_makes_a_media_type(
            head in "[a-z]{1,8}/[a-z]{0,8}", control in "[\\x00-\\x1f\\x7f-\\x9f]", tail in "[a-z]{0,8}"
        ) {
            let text = format!("{head}{control}{tail}");
            prop_assert!(!is_media_type(&text), "{:?}", text);
        }
    }
}
