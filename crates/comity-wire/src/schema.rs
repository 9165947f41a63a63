//! OpenAPI schemas for the API's strings, derived from the domain's own code lists and
//! limits so that a generated client validates what the node will accept: every coded
//! field is an `enum`, every text a `maxLength` and a `pattern` that leaves out the
//! characters the node refuses.
//!
//! Each function is used as `#[schema(schema_with = ...)]` on a field of [`crate::api`]
//! or [`crate::content`]. The patterns are ECMA-262 and Python compatible (`\xNN`,
//! `\uNNNN` escapes only), as JSON Schema tools use either.

use comity_domain::request::{
    DEADLINE_YEARS, EARLIEST_BIRTH_YEAR, MAX_INSTRUMENT_ID_CHARS, MAX_LIST_LEN,
    MAX_MEDIA_TYPE_CHARS, MAX_PERSON_LIST_LEN,
};
use comity_domain::text::{MAX_NAME_CHARS, MAX_SHORT_TEXT_CHARS, MAX_TEXT_CHARS};
use comity_domain::{
    Action, Confidentiality, CountryCode, MeasureKind, OffenceCategory, PersonRole, RequestState,
    Role, Side, Vulnerability,
};
use utoipa::openapi::schema::{
    ArrayBuilder, Object, ObjectBuilder, SchemaFormat, SchemaType, Type,
};
use utoipa::openapi::{KnownFormat, RefOr, Schema};

/// Control characters refused everywhere except line breaks and tabs in free text.
const CONTROLS_BUT_BREAKS: &str = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f";
/// Every control character.
const CONTROLS: &str = r"\x00-\x1f\x7f-\x9f";
/// The longest recovery code read (they are 19 characters; spaces and dashes are allowed).
const MAX_RECOVERY_CODE_CHARS: usize = 64;
/// Bidirectional controls and invisible characters refused in names
/// (`comity_domain::text::is_invisible_formatting`).
const INVISIBLE: &str = r"\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060\u2066-\u2069\ufeff";

/// Longest login name.
pub const MAX_USERNAME_CHARS: usize = 64;
/// Longest display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;
/// Shortest password.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Longest password (long enough for any passphrase; bounds the hashing work).
pub const MAX_PASSWORD_CHARS: usize = 128;
/// Longest reason given with a transition.
pub const MAX_REASON_CHARS: usize = 4_000;
/// Most grounds cited in a transition.
pub const MAX_GROUNDS: usize = 20;
/// Longest case reference or title.
pub const MAX_CASE_TEXT_CHARS: usize = 300;

fn string() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::String)
}

/// `schema` with `text` as its description, unless it has one: the API's fields use these
/// schemas through `schema_with`, which leaves out the field's own documentation.
fn described(schema: RefOr<Schema>, text: &str) -> RefOr<Schema> {
    let mut schema = schema;
    match &mut schema {
        RefOr::T(Schema::Object(object)) if object.description.is_none() => {
            object.description = Some(text.to_string());
        }
        RefOr::T(Schema::Array(array)) if array.description.is_none() => {
            array.description = Some(text.to_string());
        }
        _ => {}
    }
    schema
}

/// The schema of an optional field, which serde also reads from `null`.
fn nullable(builder: ObjectBuilder) -> RefOr<Schema> {
    let mut object: Object = builder.build();
    object.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    if let Some(values) = &mut object.enum_values {
        values.push(serde_json::Value::Null);
    }
    RefOr::T(Schema::Object(object))
}

fn codes<T: Copy>(all: &[T], code: fn(T) -> &'static str) -> ObjectBuilder {
    string().enum_values(Some(all.iter().map(|&value| code(value))))
}

fn array(items: ObjectBuilder, max_items: usize) -> RefOr<Schema> {
    ArrayBuilder::new()
        .items(items)
        .max_items(Some(max_items))
        .into()
}

fn free_text_of(max_chars: usize) -> ObjectBuilder {
    string()
        .max_length(Some(max_chars))
        .pattern(Some(format!("^[^{CONTROLS_BUT_BREAKS}]*$")))
}

fn name_of(max_chars: usize) -> ObjectBuilder {
    let allowed = format!("[^{CONTROLS}{INVISIBLE}]");
    let visible = format!(r"[^{CONTROLS}{INVISIBLE}\s]");
    string()
        .min_length(Some(1))
        .max_length(Some(max_chars))
        .pattern(Some(format!("^{allowed}*{visible}{allowed}*$")))
}

/// Free text: up to 20,000 characters; line breaks and tabs but no other control.
pub fn free_text() -> RefOr<Schema> {
    described(
        free_text_schema(),
        "Free text: up to 20,000 characters; line breaks and tabs but no other control.",
    )
}

fn free_text_schema() -> RefOr<Schema> {
    free_text_of(MAX_TEXT_CHARS).into()
}

/// Short free text (a place, a national provision): up to 1,000 characters.
pub fn short_text() -> RefOr<Schema> {
    described(
        short_text_schema(),
        "Short free text (a place, a national provision): up to 1,000 characters.",
    )
}

fn short_text_schema() -> RefOr<Schema> {
    free_text_of(MAX_SHORT_TEXT_CHARS).into()
}

/// Why a request is urgent: free text with something visible in it.
pub fn urgent_reason() -> RefOr<Schema> {
    described(
        urgent_reason_schema(),
        "Why a request is urgent: free text with something visible in it.",
    )
}

fn urgent_reason_schema() -> RefOr<Schema> {
    let allowed = format!("[^{CONTROLS_BUT_BREAKS}]");
    nullable(
        free_text_of(MAX_TEXT_CHARS)
            .min_length(Some(1))
            .pattern(Some(format!(r"^{allowed}*[^{CONTROLS}\s]{allowed}*$"))),
    )
}

/// A reason or justification given with a transition (optional).
pub fn reason() -> RefOr<Schema> {
    described(
        reason_schema(),
        "A reason or justification given with a transition (optional).",
    )
}

fn reason_schema() -> RefOr<Schema> {
    nullable(free_text_of(MAX_REASON_CHARS))
}

/// Where a person is believed to be (optional short text).
pub fn location() -> RefOr<Schema> {
    described(
        location_schema(),
        "Where a person is believed to be (optional short text).",
    )
}

fn location_schema() -> RefOr<Schema> {
    nullable(free_text_of(MAX_SHORT_TEXT_CHARS))
}

/// A name (of a person, a file): one line, something visible, no bidirectional control.
pub fn name() -> RefOr<Schema> {
    described(
        name_schema(),
        "A name (of a person, a file): one line, something visible, no bidirectional control.",
    )
}

fn name_schema() -> RefOr<Schema> {
    name_of(MAX_NAME_CHARS).into()
}

/// A user's display name.
pub fn display_name() -> RefOr<Schema> {
    described(display_name_schema(), "A user's display name.")
}

fn display_name_schema() -> RefOr<Schema> {
    name_of(MAX_DISPLAY_NAME_CHARS).into()
}

/// A case reference or title.
pub fn case_text() -> RefOr<Schema> {
    described(case_text_schema(), "A case reference or title.")
}

fn case_text_schema() -> RefOr<Schema> {
    name_of(MAX_CASE_TEXT_CHARS).into()
}

/// Grounds cited with a refusal; blank entries are ignored.
pub fn grounds() -> RefOr<Schema> {
    described(
        grounds_schema(),
        "Grounds cited with a refusal; blank entries are ignored.",
    )
}

fn grounds_schema() -> RefOr<Schema> {
    let allowed = format!("[^{CONTROLS}{INVISIBLE}]");
    array(
        string()
            .max_length(Some(MAX_NAME_CHARS))
            .pattern(Some(format!("^{allowed}*$"))),
        MAX_GROUNDS,
    )
}

/// A login name as a new account gets it.
pub fn username() -> RefOr<Schema> {
    described(username_schema(), "A login name as a new account gets it.")
}

fn username_schema() -> RefOr<Schema> {
    string()
        .min_length(Some(3))
        .max_length(Some(MAX_USERNAME_CHARS))
        .pattern(Some("^[A-Za-z0-9._-]+$"))
        .into()
}

/// A login name as typed at log-in: anything without control characters.
pub fn login_name() -> RefOr<Schema> {
    described(
        login_name_schema(),
        "A login name as typed at log-in: anything without control characters.",
    )
}

fn login_name_schema() -> RefOr<Schema> {
    string().pattern(Some(without_controls_pattern())).into()
}

/// The pattern of a string with no control character: what the node's extractors refuse
/// in any body, path or query string.
pub fn without_controls_pattern() -> String {
    format!("^[^{CONTROLS}]*$")
}

/// A password: at least 12 characters, not only white space, no control characters but
/// line breaks and tabs.
pub fn new_password() -> RefOr<Schema> {
    described(
        new_password_schema(),
        "A password: at least 12 characters, not only white space, no control characters but line breaks and tabs.",
    )
}

fn new_password_schema() -> RefOr<Schema> {
    let allowed = format!("[^{CONTROLS_BUT_BREAKS}]");
    string()
        .min_length(Some(MIN_PASSWORD_CHARS))
        .max_length(Some(MAX_PASSWORD_CHARS))
        .pattern(Some(format!(r"^{allowed}*[^{CONTROLS}\s]{allowed}*$")))
        .into()
}

/// A display name, when it is to change.
pub fn optional_display_name() -> RefOr<Schema> {
    described(
        nullable(name_of(MAX_DISPLAY_NAME_CHARS)),
        "A new display name (absent or null: unchanged).",
    )
}

/// A TOTP code: the six digits an authenticator app shows.
pub fn totp_code() -> RefOr<Schema> {
    described(
        totp_code_schema().into(),
        "The six digits the authenticator app shows.",
    )
}

/// A TOTP code at log-in, for an account with a second factor.
pub fn optional_totp_code() -> RefOr<Schema> {
    described(
        nullable(totp_code_schema()),
        "The six digits the authenticator app shows, for an account with a second factor.",
    )
}

fn totp_code_schema() -> ObjectBuilder {
    string().pattern(Some("^[0-9]{6}$"))
}

/// A one-time recovery code, instead of a TOTP code.
pub fn optional_recovery_code() -> RefOr<Schema> {
    described(
        nullable(
            string()
                .max_length(Some(MAX_RECOVERY_CODE_CHARS))
                .pattern(Some(without_controls_pattern())),
        ),
        "A one-time recovery code, instead of `totp_code`.",
    )
}

/// A password as typed at log-in.
pub fn password() -> RefOr<Schema> {
    described(password_schema(), "A password as typed at log-in.")
}

fn password_schema() -> RefOr<Schema> {
    free_text_of(usize::MAX).max_length(None).into()
}

/// An authority id: 3-64 characters of `a-z`, `0-9`, `-`, `.`, starting with a letter.
pub fn authority_id() -> RefOr<Schema> {
    described(
        authority_id_schema(),
        "An authority id: 3-64 characters of `a-z`, `0-9`, `-`, `.`, starting with a letter.",
    )
}

fn authority_id_schema() -> RefOr<Schema> {
    authority_id_builder().into()
}

fn authority_id_builder() -> ObjectBuilder {
    string()
        .min_length(Some(3))
        .max_length(Some(64))
        .pattern(Some("^[a-z][a-z0-9.-]*$"))
}

/// ISO 3166-1 alpha-2, from the domain's country table.
pub fn country() -> RefOr<Schema> {
    described(
        country_schema(),
        "ISO 3166-1 alpha-2, from the domain's country table.",
    )
}

fn country_schema() -> RefOr<Schema> {
    country_builder().into()
}

/// An optional country.
pub fn optional_country() -> RefOr<Schema> {
    described(optional_country_schema(), "An optional country.")
}

fn optional_country_schema() -> RefOr<Schema> {
    nullable(country_builder())
}

fn country_builder() -> ObjectBuilder {
    string().enum_values(Some(
        CountryCode::all()
            .map(|code| code.as_str().to_string())
            .collect::<Vec<_>>(),
    ))
}

/// Nationalities of a person.
pub fn nationalities() -> RefOr<Schema> {
    described(nationalities_schema(), "Nationalities of a person.")
}

fn nationalities_schema() -> RefOr<Schema> {
    array(country_builder(), MAX_PERSON_LIST_LEN)
}

/// An action code.
pub fn action() -> RefOr<Schema> {
    described(action_schema(), "An action code.")
}

fn action_schema() -> RefOr<Schema> {
    codes(Action::ALL, Action::code).into()
}

/// Action codes.
pub fn actions() -> RefOr<Schema> {
    described(actions_schema(), "Action codes.")
}

fn actions_schema() -> RefOr<Schema> {
    array(codes(Action::ALL, Action::code), Action::ALL.len())
}

/// A role code (optional: the first role that may act).
pub fn optional_role() -> RefOr<Schema> {
    described(
        optional_role_schema(),
        "A role code (optional: the first role that may act).",
    )
}

fn optional_role_schema() -> RefOr<Schema> {
    nullable(codes(Role::ALL, Role::code))
}

/// Role codes (at least one, each once).
pub fn roles() -> RefOr<Schema> {
    described(roles_schema(), "Role codes (at least one, each once).")
}

fn roles_schema() -> RefOr<Schema> {
    // A set: each role at most once, so never more entries than there are roles.
    ArrayBuilder::new()
        .items(codes(Role::ALL, Role::code))
        .min_items(Some(1))
        .max_items(Some(Role::ALL.len()))
        .unique_items(true)
        .into()
}

/// Role codes, when they are to change (absent or null: unchanged).
pub fn optional_roles() -> RefOr<Schema> {
    let mut schema = roles_schema();
    if let RefOr::T(Schema::Array(array)) = &mut schema {
        array.schema_type = SchemaType::from_iter([Type::Array, Type::Null]);
    }
    described(
        schema,
        "The complete new set of role codes (absent or null: unchanged).",
    )
}

/// A request state code.
pub fn state() -> RefOr<Schema> {
    described(state_schema(), "A request state code.")
}

fn state_schema() -> RefOr<Schema> {
    codes(RequestState::ALL, RequestState::code).into()
}

/// `requesting` or `requested`.
pub fn side() -> RefOr<Schema> {
    described(side_schema(), "`requesting` or `requested`.")
}

fn side_schema() -> RefOr<Schema> {
    codes(Side::ALL, Side::code).into()
}

/// An EIO Annex D offence category code.
pub fn offence_category() -> RefOr<Schema> {
    described(
        offence_category_schema(),
        "An EIO Annex D offence category code.",
    )
}

fn offence_category_schema() -> RefOr<Schema> {
    codes(OffenceCategory::ALL, OffenceCategory::code).into()
}

/// A measure kind code.
pub fn measure_kind() -> RefOr<Schema> {
    described(measure_kind_schema(), "A measure kind code.")
}

fn measure_kind_schema() -> RefOr<Schema> {
    codes(MeasureKind::ALL, MeasureKind::code).into()
}

/// A person role code.
pub fn person_role() -> RefOr<Schema> {
    described(person_role_schema(), "A person role code.")
}

fn person_role_schema() -> RefOr<Schema> {
    codes(PersonRole::ALL, PersonRole::code).into()
}

/// Vulnerability codes.
pub fn vulnerabilities() -> RefOr<Schema> {
    described(vulnerabilities_schema(), "Vulnerability codes.")
}

fn vulnerabilities_schema() -> RefOr<Schema> {
    array(
        codes(Vulnerability::ALL, Vulnerability::code),
        MAX_PERSON_LIST_LEN,
    )
}

/// A confidentiality code.
pub fn confidentiality() -> RefOr<Schema> {
    described(confidentiality_schema(), "A confidentiality code.")
}

fn confidentiality_schema() -> RefOr<Schema> {
    codes(Confidentiality::ALL, Confidentiality::code).into()
}

/// Instrument ids of the law catalog (the node lists its catalog's ids as an `enum`).
pub fn legal_basis() -> RefOr<Schema> {
    described(
        legal_basis_schema(),
        "Instrument ids of the law catalog (the node lists its catalog's ids as an `enum`).",
    )
}

fn legal_basis_schema() -> RefOr<Schema> {
    array(
        string()
            .min_length(Some(1))
            .max_length(Some(MAX_INSTRUMENT_ID_CHARS)),
        MAX_LIST_LEN,
    )
}

/// A requested deadline, `YYYY-MM-DD`, between 2000 and 2100.
pub fn deadline() -> RefOr<Schema> {
    described(
        deadline_schema(),
        "A requested deadline, `YYYY-MM-DD`, between 2000 and 2100.",
    )
}

fn deadline_schema() -> RefOr<Schema> {
    let (first, last) = (DEADLINE_YEARS.start(), DEADLINE_YEARS.end());
    nullable(
        string()
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
            .pattern(Some(format!(
                r"^(20[0-9]{{2}}|{last})-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"
            )))
            .description(Some(format!("a date from {first}-01-01 to {last}-12-31"))),
    )
}

/// A date of birth, possibly partial: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, from 1900 and
/// not in the future.
pub fn date_of_birth() -> RefOr<Schema> {
    described(
        date_of_birth_schema(),
        "A date of birth, possibly partial: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`, from 1900 and not in the future.",
    )
}

fn date_of_birth_schema() -> RefOr<Schema> {
    nullable(
        string()
            .pattern(Some(
                r"^(19[0-9]{2}|20[01][0-9]|202[0-5])(-(0[1-9]|1[0-2])(-(0[1-9]|1[0-9]|2[0-8]))?)?$",
            ))
            .description(Some(format!(
                "YYYY, YYYY-MM or YYYY-MM-DD, from {EARLIEST_BIRTH_YEAR} and not in the future \
                 (the schema admits days 01-28 and years to 2025; the node accepts every real past date)"
            ))),
    )
}

/// An attachment's media type, `type/subtype` of RFC 6838 names.
pub fn media_type() -> RefOr<Schema> {
    described(
        media_type_schema(),
        "An attachment's media type, `type/subtype` of RFC 6838 names.",
    )
}

fn media_type_schema() -> RefOr<Schema> {
    let name = r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}";
    string()
        .max_length(Some(MAX_MEDIA_TYPE_CHARS))
        .pattern(Some(format!("^{name}/{name}$")))
        .into()
}

/// A SHA-256 digest, 64 lower-case hexadecimal characters.
pub fn sha256() -> RefOr<Schema> {
    described(
        sha256_schema(),
        "A SHA-256 digest, 64 lower-case hexadecimal characters.",
    )
}

fn sha256_schema() -> RefOr<Schema> {
    string()
        .min_length(Some(64))
        .max_length(Some(64))
        .pattern(Some("^[0-9a-f]{64}$"))
        .into()
}

/// An RFC 3339 timestamp.
pub fn date_time() -> RefOr<Schema> {
    described(date_time_schema(), "An RFC 3339 timestamp.")
}

fn date_time_schema() -> RefOr<Schema> {
    string()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::DateTime)))
        .into()
}

/// A custodial penalty in months (optional), as far as an unsigned 32-bit integer holds.
pub fn penalty_months() -> RefOr<Schema> {
    described(
        penalty_months_schema(),
        "A custodial penalty in months (optional), as far as an unsigned 32-bit integer holds.",
    )
}

fn penalty_months_schema() -> RefOr<Schema> {
    let mut object: Object = ObjectBuilder::new()
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(u32::MAX))
        .build();
    object.schema_type = SchemaType::from_iter([Type::Integer, Type::Null]);
    RefOr::T(Schema::Object(object))
}

/// A size in bytes, up to what a signed 64-bit integer holds.
pub fn size_bytes() -> RefOr<Schema> {
    described(
        size_bytes_schema(),
        "A size in bytes, up to what a signed 64-bit integer holds.",
    )
}

fn size_bytes_schema() -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(0))
        .maximum(Some(i64::MAX))
        .into()
}

/// Integers as JSON Schema sees them: `28961` and `28961.0` are the same integer, so a
/// client that writes the second is not refused. Fractions and out-of-range values are.
/// (The workspace enables serde_json's `float_roundtrip`: without it a large `N.0` may be
/// read one unit in the last place off, with a fraction.)
pub mod integral {
    use serde::{Deserialize, Deserializer, de::Error};

    fn number<'de, D: Deserializer<'de>>(number: serde_json::Number) -> Result<i128, D::Error> {
        if let Some(value) = number.as_i64() {
            return Ok(i128::from(value));
        }
        if let Some(value) = number.as_u64() {
            return Ok(i128::from(value));
        }
        match number.as_f64() {
            // Below 2^63 in magnitude an integral f64 converts exactly.
            Some(value) if value.fract() == 0.0 && value.abs() < 9.2e18 => Ok(value as i128),
            _ => Err(D::Error::custom(format!("`{number}` is not an integer"))),
        }
    }

    fn convert<'de, D: Deserializer<'de>, T: TryFrom<i128>>(value: i128) -> Result<T, D::Error> {
        T::try_from(value).map_err(|_| D::Error::custom(format!("{value} is out of range")))
    }

    /// An optional integer of type `T`.
    pub fn option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i128>,
    {
        match Option::<serde_json::Number>::deserialize(deserializer)? {
            Some(value) => Ok(Some(convert::<D, T>(number::<D>(value)?)?)),
            None => Ok(None),
        }
    }

    /// An integer of type `T`.
    pub fn required<'de, D, T>(deserializer: D) -> Result<T, D::Error>
    where
        D: Deserializer<'de>,
        T: TryFrom<i128>,
    {
        let value = serde_json::Number::deserialize(deserializer)?;
        convert::<D, T>(number::<D>(value)?)
    }
}
