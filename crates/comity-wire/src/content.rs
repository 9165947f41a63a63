//! The serialized content of a request, and its parsing into the domain's types.
//!
//! One shape serves the API (drafts in, views out), the federation (the dispatched
//! request) and storage (the `content` column). Parsing it is the one place where an
//! outside request becomes a [`RequestContent`]; every error names the field at fault.

use std::str::FromStr;

use comity_domain::request::MAX_PERSON_LIST_LEN;
use comity_domain::{
    AttachmentRef, AuthorityId, Confidentiality, CountryCode, Date, MeasureKind, MeasureSought,
    Offence, OffenceCategory, PersonConcerned, PersonRole, RequestContent, Urgency, Vulnerability,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The version of [`RequestContentDto`] written by this build.
pub const CONTENT_VERSION: u32 = 1;

/// What a request says. Codes are the domain's stable codes (see the OpenAPI enums).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestContentDto {
    /// The authority asking, e.g. `es-mjusticia-ca`.
    #[schema(schema_with = crate::schema::authority_id)]
    pub requesting_authority: String,
    /// Its state, ISO 3166-1 alpha-2; filled from the authority registry when omitted.
    #[schema(schema_with = crate::schema::optional_country)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requesting_country: Option<String>,
    /// The authority asked.
    #[schema(schema_with = crate::schema::authority_id)]
    pub requested_authority: String,
    /// Its state; filled from the authority registry when omitted.
    #[schema(schema_with = crate::schema::optional_country)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_country: Option<String>,
    /// Instrument ids from the law catalog, e.g. `untoc`.
    #[schema(schema_with = crate::schema::legal_basis)]
    #[serde(default)]
    pub legal_basis: Vec<String>,
    /// Subject matter and nature of the proceeding (UNTOC art. 18(15)(b)).
    #[schema(schema_with = crate::schema::free_text)]
    #[serde(default)]
    pub subject_matter: String,
    /// Name and functions of the authority conducting it (UNTOC art. 18(15)(b)).
    #[schema(schema_with = crate::schema::free_text)]
    #[serde(default)]
    pub conducting_authority: String,
    /// The offences.
    #[schema(max_items = 200)]
    #[serde(default)]
    pub offences: Vec<OffenceDto>,
    /// Summary of the relevant facts (UNTOC art. 18(15)(c)).
    #[schema(schema_with = crate::schema::free_text)]
    #[serde(default)]
    pub summary_of_facts: String,
    /// The assistance sought (UNTOC art. 18(15)(d)).
    #[schema(max_items = 200)]
    #[serde(default)]
    pub measures: Vec<MeasureDto>,
    /// Persons concerned (UNTOC art. 18(15)(e)).
    #[schema(max_items = 200)]
    #[serde(default)]
    pub persons: Vec<PersonDto>,
    /// The purpose of the request (UNTOC art. 18(15)(f)).
    #[schema(schema_with = crate::schema::free_text)]
    #[serde(default)]
    pub purpose: String,
    /// Present when the request is urgent: why.
    #[schema(schema_with = crate::schema::urgent_reason)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urgent_reason: Option<String>,
    /// `standard`, `confidential` or `strictly_confidential`.
    #[schema(schema_with = crate::schema::confidentiality)]
    #[serde(default = "default_confidentiality")]
    pub confidentiality: String,
    /// The date asked for, `YYYY-MM-DD`.
    #[schema(schema_with = crate::schema::deadline)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requested_deadline: Option<String>,
    /// Whether assurances (e.g. against the death penalty) are given.
    #[serde(default)]
    pub assurances_given: bool,
    /// Files attached, by reference.
    #[schema(max_items = 200)]
    #[serde(default)]
    pub attachments: Vec<AttachmentDto>,
}

fn default_confidentiality() -> String {
    Confidentiality::Standard.code().to_string()
}

/// One offence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OffenceDto {
    /// The national provision, e.g. "art. 318 bis Código Penal".
    #[schema(schema_with = crate::schema::short_text)]
    pub national_provision: String,
    /// An EIO Annex D category code, or `other`.
    #[schema(schema_with = crate::schema::offence_category)]
    pub category: String,
    /// Maximum custodial penalty in the requesting state, in months.
    #[schema(schema_with = crate::schema::penalty_months)]
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::schema::integral::option"
    )]
    pub maximum_penalty_months: Option<u32>,
    /// Whether the offence may be seen as political.
    #[serde(default)]
    pub political: bool,
    /// Whether the offence is fiscal.
    #[serde(default)]
    pub fiscal: bool,
    /// Whether it carries the death penalty in the requesting state.
    #[serde(default)]
    pub death_penalty_possible: bool,
}

/// One measure sought.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MeasureDto {
    /// A measure kind code, e.g. `bank_records`.
    #[schema(schema_with = crate::schema::measure_kind)]
    pub kind: String,
    /// What exactly is asked for.
    #[schema(schema_with = crate::schema::free_text)]
    #[serde(default)]
    pub description: String,
}

/// One person concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonDto {
    /// Full name, in any script.
    #[schema(schema_with = crate::schema::name)]
    pub full_name: String,
    /// Date of birth, possibly partial: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    #[schema(schema_with = crate::schema::date_of_birth)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// Nationalities, ISO 3166-1 alpha-2.
    #[schema(schema_with = crate::schema::nationalities)]
    #[serde(default)]
    pub nationalities: Vec<String>,
    /// Where the person is believed to be.
    #[schema(schema_with = crate::schema::location)]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// A person role code, e.g. `witness`.
    #[schema(schema_with = crate::schema::person_role)]
    pub role: String,
    /// Vulnerability codes, e.g. `minor`.
    #[schema(schema_with = crate::schema::vulnerabilities)]
    #[serde(default)]
    pub vulnerabilities: Vec<String>,
}

/// A file attached by reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttachmentDto {
    /// File name.
    #[schema(schema_with = crate::schema::name)]
    pub file_name: String,
    /// Media type.
    #[schema(schema_with = crate::schema::media_type)]
    pub media_type: String,
    /// Size in bytes.
    #[schema(schema_with = crate::schema::size_bytes)]
    #[serde(deserialize_with = "crate::schema::integral::required")]
    pub size_bytes: u64,
    /// SHA-256, lower-case hex.
    #[schema(schema_with = crate::schema::sha256)]
    pub sha256: String,
}

/// An input value that could not be parsed, naming the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// The field, e.g. `measures[2].kind`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl FieldError {
    /// A new error for `field`.
    pub fn new(field: impl Into<String>, message: impl ToString) -> Self {
        FieldError {
            field: field.into(),
            message: message.to_string(),
        }
    }
}

fn parse<T: FromStr>(field: impl Into<String>, value: &str) -> Result<T, FieldError>
where
    T::Err: ToString,
{
    value
        .parse()
        .map_err(|error: T::Err| FieldError::new(field, error))
}

fn parse_partial_date(field: String, value: &str) -> Result<String, FieldError> {
    let value = value.trim();
    let parts: Vec<&str> = value.split('-').collect();
    let digits =
        |part: &str, len: usize| part.len() == len && part.bytes().all(|b| b.is_ascii_digit());
    let shape_ok = match parts.as_slice() {
        [year] => digits(year, 4),
        [year, month] => digits(year, 4) && digits(month, 2) && ("01"..="12").contains(month),
        [_, _, _] => Date::parse(value).is_ok(),
        _ => false,
    };
    if shape_ok {
        Ok(value.to_string())
    } else {
        Err(FieldError::new(
            field,
            format!("`{value}` is not a date of birth (YYYY, YYYY-MM or YYYY-MM-DD)"),
        ))
    }
}

impl RequestContentDto {
    /// Parses the content into the domain type. `country_of` gives the state of an
    /// authority the node knows; a country given in the input must agree with it, and an
    /// unknown authority needs its country spelled out.
    ///
    /// This is for content arriving from outside (the API, a web form, a peer): besides
    /// parsing, it checks everything [`RequestContent::validate`] requires.
    pub fn to_domain(
        &self,
        country_of: impl Fn(&AuthorityId) -> Option<CountryCode>,
    ) -> Result<RequestContent, FieldError> {
        for (index, person) in self.persons.iter().enumerate() {
            for (name, len) in [
                ("nationalities", person.nationalities.len()),
                ("vulnerabilities", person.vulnerabilities.len()),
            ] {
                if len > MAX_PERSON_LIST_LEN {
                    return Err(FieldError::new(
                        format!("persons[{index}].{name}"),
                        format!("at most {MAX_PERSON_LIST_LEN} entries are accepted, got {len}"),
                    ));
                }
            }
        }
        let content = self.to_domain_as_stored(country_of)?;
        content.validate().map_err(
            |comity_domain::DomainError::InvalidField { field, reason }| {
                FieldError::new(field, reason)
            },
        )?;
        Ok(content)
    }

    /// Parses content this node stored earlier: codes and shapes only. It was checked when
    /// it came in, and limits tightened since must not make an existing request unreadable.
    pub fn to_domain_as_stored(
        &self,
        country_of: impl Fn(&AuthorityId) -> Option<CountryCode>,
    ) -> Result<RequestContent, FieldError> {
        let requesting_authority: AuthorityId =
            parse("requesting_authority", &self.requesting_authority)?;
        let requested_authority: AuthorityId =
            parse("requested_authority", &self.requested_authority)?;
        let requesting_country = resolve_country(
            "requesting_country",
            self.requesting_country.as_deref(),
            country_of(&requesting_authority),
        )?;
        let requested_country = resolve_country(
            "requested_country",
            self.requested_country.as_deref(),
            country_of(&requested_authority),
        )?;
        let offences = self
            .offences
            .iter()
            .enumerate()
            .map(|(index, offence)| {
                Ok(Offence {
                    national_provision: offence.national_provision.clone(),
                    category: parse::<OffenceCategory>(
                        format!("offences[{index}].category"),
                        &offence.category,
                    )?,
                    maximum_penalty_months: offence.maximum_penalty_months,
                    political: offence.political,
                    fiscal: offence.fiscal,
                    death_penalty_possible: offence.death_penalty_possible,
                })
            })
            .collect::<Result<Vec<_>, FieldError>>()?;
        let measures = self
            .measures
            .iter()
            .enumerate()
            .map(|(index, measure)| {
                Ok(MeasureSought {
                    kind: parse::<MeasureKind>(format!("measures[{index}].kind"), &measure.kind)?,
                    description: measure.description.clone(),
                })
            })
            .collect::<Result<Vec<_>, FieldError>>()?;
        let persons = self
            .persons
            .iter()
            .enumerate()
            .map(|(index, person)| person_to_domain(index, person))
            .collect::<Result<Vec<_>, FieldError>>()?;
        let attachments = self
            .attachments
            .iter()
            .map(|attachment| AttachmentRef {
                file_name: attachment.file_name.clone(),
                media_type: attachment.media_type.clone(),
                size_bytes: attachment.size_bytes,
                sha256_hex: attachment.sha256.clone(),
            })
            .collect();
        let urgency = match &self.urgent_reason {
            Some(reason) => Urgency::Urgent {
                reason: reason.clone(),
            },
            None => Urgency::Normal,
        };
        let requested_deadline = self
            .requested_deadline
            .as_deref()
            .map(|date| Date::parse(date).map_err(|e| FieldError::new("requested_deadline", e)))
            .transpose()?;
        let content = RequestContent {
            requesting_authority,
            requesting_country,
            requested_authority,
            requested_country,
            legal_basis: self.legal_basis.clone(),
            subject_matter: self.subject_matter.clone(),
            conducting_authority: self.conducting_authority.clone(),
            offences,
            summary_of_facts: self.summary_of_facts.clone(),
            measures,
            persons,
            purpose: self.purpose.clone(),
            urgency,
            confidentiality: parse("confidentiality", &self.confidentiality)?,
            requested_deadline,
            assurances_given: self.assurances_given,
            attachments,
        };
        Ok(content)
    }
}

fn resolve_country(
    field: &'static str,
    given: Option<&str>,
    known: Option<CountryCode>,
) -> Result<CountryCode, FieldError> {
    match (given, known) {
        (Some(given), Some(known)) => {
            let given: CountryCode = parse(field, given)?;
            if given == known {
                Ok(known)
            } else {
                Err(FieldError::new(
                    field,
                    format!("the authority belongs to {known}, not {given}"),
                ))
            }
        }
        (Some(given), None) => parse(field, given),
        (None, Some(known)) => Ok(known),
        (None, None) => Err(FieldError::new(
            field,
            "the authority is not known to this node; give its country",
        )),
    }
}

fn person_to_domain(index: usize, person: &PersonDto) -> Result<PersonConcerned, FieldError> {
    let nationalities = person
        .nationalities
        .iter()
        .enumerate()
        .map(|(n, code)| parse(format!("persons[{index}].nationalities[{n}]"), code))
        .collect::<Result<Vec<CountryCode>, FieldError>>()?;
    let mut vulnerabilities: Vec<Vulnerability> = person
        .vulnerabilities
        .iter()
        .enumerate()
        .map(|(n, code)| parse(format!("persons[{index}].vulnerabilities[{n}]"), code))
        .collect::<Result<_, FieldError>>()?;
    vulnerabilities.sort();
    vulnerabilities.dedup();
    Ok(PersonConcerned {
        full_name: person.full_name.clone(),
        date_of_birth: person
            .date_of_birth
            .as_deref()
            .map(|date| parse_partial_date(format!("persons[{index}].date_of_birth"), date))
            .transpose()?,
        nationalities,
        location: person.location.clone(),
        role: parse::<PersonRole>(format!("persons[{index}].role"), &person.role)?,
        vulnerabilities,
    })
}

impl From<&RequestContent> for RequestContentDto {
    fn from(content: &RequestContent) -> Self {
        RequestContentDto {
            requesting_authority: content.requesting_authority.to_string(),
            requesting_country: Some(content.requesting_country.to_string()),
            requested_authority: content.requested_authority.to_string(),
            requested_country: Some(content.requested_country.to_string()),
            legal_basis: content.legal_basis.clone(),
            subject_matter: content.subject_matter.clone(),
            conducting_authority: content.conducting_authority.clone(),
            offences: content
                .offences
                .iter()
                .map(|offence| OffenceDto {
                    national_provision: offence.national_provision.clone(),
                    category: offence.category.code().to_string(),
                    maximum_penalty_months: offence.maximum_penalty_months,
                    political: offence.political,
                    fiscal: offence.fiscal,
                    death_penalty_possible: offence.death_penalty_possible,
                })
                .collect(),
            summary_of_facts: content.summary_of_facts.clone(),
            measures: content
                .measures
                .iter()
                .map(|measure| MeasureDto {
                    kind: measure.kind.code().to_string(),
                    description: measure.description.clone(),
                })
                .collect(),
            persons: content
                .persons
                .iter()
                .map(|person| PersonDto {
                    full_name: person.full_name.clone(),
                    date_of_birth: person.date_of_birth.clone(),
                    nationalities: person.nationalities.iter().map(|c| c.to_string()).collect(),
                    location: person.location.clone(),
                    role: person.role.code().to_string(),
                    vulnerabilities: person
                        .vulnerabilities
                        .iter()
                        .map(|v| v.code().to_string())
                        .collect(),
                })
                .collect(),
            purpose: content.purpose.clone(),
            urgent_reason: match &content.urgency {
                Urgency::Urgent { reason } => Some(reason.clone()),
                Urgency::Normal => None,
            },
            confidentiality: content.confidentiality.code().to_string(),
            requested_deadline: content.requested_deadline.map(|date| date.to_string()),
            assurances_given: content.assurances_given,
            attachments: content
                .attachments
                .iter()
                .map(|attachment| AttachmentDto {
                    file_name: attachment.file_name.clone(),
                    media_type: attachment.media_type.clone(),
                    size_bytes: attachment.size_bytes,
                    sha256: attachment.sha256_hex.clone(),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known(id: &AuthorityId) -> Option<CountryCode> {
        match id.as_str() {
            "es-ca" => "ES".parse().ok(),
            "ma-ca" => "MA".parse().ok(),
            _ => None,
        }
    }

    fn sample() -> RequestContentDto {
        serde_json::from_value(serde_json::json!({
            "requesting_authority": "es-ca",
            "requested_authority": "ma-ca",
            "measures": [{"kind": "bank_records", "description": "accounts of X"}],
            "persons": [{"full_name": "محمد", "role": "suspect", "nationalities": ["MA"],
                         "date_of_birth": "1990-04", "vulnerabilities": ["minor", "minor"]}],
            "offences": [{"national_provision": "art. 318 bis CP", "category": "facilitation_of_unauthorised_entry"}]
        }))
        .expect("valid json")
    }

    #[test]
    fn round_trips_through_the_domain() {
        let content = sample().to_domain(known).expect("valid");
        assert_eq!(content.requested_country.as_str(), "MA");
        assert_eq!(content.persons[0].vulnerabilities.len(), 1);
        let back = RequestContentDto::from(&content);
        assert_eq!(back.to_domain(known), Ok(content));
    }

    #[test]
    fn errors_name_the_field() {
        type Mutation = fn(&mut RequestContentDto);
        let cases: Vec<(Mutation, &str)> = vec![
            (
                |d| d.measures[0].kind = "torture".into(),
                "measures[0].kind",
            ),
            (
                |d| d.persons[0].nationalities = vec!["XX".into()],
                "persons[0].nationalities[0]",
            ),
            (|d| d.persons[0].role = "boss".into(), "persons[0].role"),
            (
                |d| d.persons[0].date_of_birth = Some("1990-13".into()),
                "persons[0].date_of_birth",
            ),
            (
                |d| d.offences[0].category = "smuggling".into(),
                "offences[0].category",
            ),
            (
                |d| d.requested_country = Some("FR".into()),
                "requested_country",
            ),
            (
                |d| d.requested_authority = "unknown-x".into(),
                "requested_country",
            ),
            (
                |d| d.requested_authority = "Bad Id".into(),
                "requested_authority",
            ),
            (
                |d| d.requested_authority = "es-ca".into(),
                "requested_authority",
            ),
            (|d| d.confidentiality = "top".into(), "confidentiality"),
            (
                |d| d.requested_deadline = Some("tomorrow".into()),
                "requested_deadline",
            ),
            (|d| d.urgent_reason = Some(" ".into()), "urgency.reason"),
        ];
        for (mutate, field) in cases {
            let mut dto = sample();
            mutate(&mut dto);
            let error = dto.to_domain(known).expect_err(field);
            assert_eq!(error.field, field, "{error}");
        }
    }

    #[test]
    fn content_stored_before_a_limit_was_tightened_stays_readable() {
        let mut dto = sample();
        dto.requested_deadline = Some("1900-01-01".into());
        dto.persons[0].location = Some("Tang\u{1b}[31mier".into());
        assert!(dto.to_domain(known).is_err());
        let stored = dto.to_domain_as_stored(known).expect("readable");
        assert_eq!(
            RequestContentDto::from(&stored).requested_deadline,
            dto.requested_deadline
        );
    }

    #[test]
    fn integers_written_as_floats_are_read_exactly() {
        let attachment: AttachmentDto = serde_json::from_str(
            r#"{"file_name": "a", "media_type": "a/b", "size_bytes": 4445278898989686.0,
                "sha256": "00"}"#,
        )
        .expect("an integral float is an integer");
        assert_eq!(attachment.size_bytes, 4_445_278_898_989_686);
        for refused in ["1.5", "-1", "1e400", "\"1\""] {
            let json = format!(
                r#"{{"file_name": "a", "media_type": "a/b", "size_bytes": {refused}, "sha256": "00"}}"#
            );
            assert!(
                serde_json::from_str::<AttachmentDto>(&json).is_err(),
                "{refused}"
            );
        }
    }

    #[test]
    fn unknown_fields_are_rejected() {
        let error = serde_json::from_value::<RequestContentDto>(serde_json::json!({
            "requesting_authority": "es-ca", "requested_authority": "ma-ca", "colour": "red"
        }))
        .expect_err("unknown field");
        assert!(error.to_string().contains("colour"));
    }
}
