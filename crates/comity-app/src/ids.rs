//! Typed ids from the text of a path or a form: where the API, the web pages and the
//! command line turn what they were sent into a [`comity_domain::RequestId`],
//! [`comity_domain::CaseId`] or [`comity_domain::UserId`] before calling a use case.

use std::str::FromStr;

use comity_domain::DomainError;

use crate::AppError;

/// The id named by a path segment or a link. Text that cannot be an id names nothing:
/// it is refused as not found, as an unknown id is.
pub fn id_in_path<T>(text: &str) -> Result<T, AppError>
where
    T: FromStr<Err = DomainError>,
{
    text.parse()
        .map_err(|error: DomainError| AppError::NotFound(error.to_string()))
}

/// The id given in the form or body field `field`; text that cannot be an id is an
/// invalid field.
pub fn id_in_field<T>(field: &str, text: &str) -> Result<T, AppError>
where
    T: FromStr<Err = DomainError>,
{
    text.parse().map_err(|error: DomainError| {
        let DomainError::InvalidField { reason, .. } = error;
        AppError::invalid(field, reason)
    })
}

#[cfg(test)]
mod tests {
    use comity_domain::{CaseId, RequestId};

    use super::*;

    #[test]
    fn text_that_is_no_id_is_not_found_in_a_path_and_invalid_in_a_field() {
        let found: RequestId = id_in_path("r-1").expect("an id");
        assert_eq!(found.as_str(), "r-1");
        assert!(matches!(
            id_in_path::<RequestId>("r 1"),
            Err(AppError::NotFound(_))
        ));
        match id_in_field::<CaseId>("case_id", "") {
            Err(AppError::Invalid { field, .. }) => assert_eq!(field, "case_id"),
            other => panic!("expected an invalid field, got {other:?}"),
        }
    }
}
