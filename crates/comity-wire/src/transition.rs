//! [`TransitionInput`] parsed into the domain's [`UserTransition`]: the one parser the
//! API, the web form and the command line share.

use comity_domain::text::{MAX_NAME_CHARS, check_free_text, check_name};
use comity_domain::{Action, Role, TransitionCommand, UnknownCode, UserTransition};

use crate::FieldError;
use crate::api::TransitionInput;
use crate::schema::{MAX_GROUNDS, MAX_REASON_CHARS};

impl TransitionInput {
    /// Parses the action and role codes and bounds the free text (it is stored in the
    /// history and sent to the peer). A blank reason and blank grounds are dropped, the
    /// other grounds trimmed.
    pub fn to_domain(&self) -> Result<UserTransition, FieldError> {
        let action: Action = self
            .action
            .parse()
            .map_err(|error: UnknownCode| FieldError::new("action", error))?;
        if let Some(reason) = &self.reason {
            check_free_text(reason, MAX_REASON_CHARS)
                .map_err(|error| FieldError::new("reason", error))?;
        }
        if let Some(justification) = &self.override_justification {
            check_free_text(justification, MAX_REASON_CHARS)
                .map_err(|error| FieldError::new("override_justification", error))?;
        }
        if self.grounds.len() > MAX_GROUNDS {
            return Err(FieldError::new(
                "grounds",
                format!(
                    "at most {MAX_GROUNDS} entries are accepted, got {}",
                    self.grounds.len()
                ),
            ));
        }
        for (index, ground) in self.grounds.iter().enumerate() {
            if ground.trim().is_empty() {
                continue;
            }
            check_name(ground, MAX_NAME_CHARS)
                .map_err(|error| FieldError::new(format!("grounds[{index}]"), error))?;
        }
        let role = self
            .role
            .as_deref()
            .map(|code| {
                code.parse::<Role>()
                    .map_err(|error: UnknownCode| FieldError::new("role", error))
            })
            .transpose()?;
        Ok(UserTransition {
            command: TransitionCommand {
                action,
                reason: self
                    .reason
                    .clone()
                    .filter(|reason| !reason.trim().is_empty()),
                grounds: self
                    .grounds
                    .iter()
                    .map(|ground| ground.trim().to_string())
                    .filter(|ground| !ground.is_empty())
                    .collect(),
            },
            role,
            expected_version: self.expected_version,
            override_justification: self.override_justification.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(action: &str) -> TransitionInput {
        TransitionInput {
            action: action.into(),
            role: None,
            reason: None,
            grounds: Vec::new(),
            expected_version: None,
            override_justification: None,
        }
    }

    #[test]
    fn codes_are_parsed_and_blank_text_dropped() {
        let parsed = TransitionInput {
            role: Some("supervisor".into()),
            reason: Some("  ".into()),
            grounds: vec![" art. 18(21)(a) ".into(), " ".into()],
            expected_version: Some(3),
            ..input("approve")
        }
        .to_domain()
        .expect("a valid input parses");
        assert_eq!(parsed.command.action, Action::Approve);
        assert_eq!(parsed.role, Some(Role::Supervisor));
        assert_eq!(parsed.command.reason, None);
        assert_eq!(parsed.command.grounds, vec!["art. 18(21)(a)".to_string()]);
        assert_eq!(parsed.expected_version, Some(3));
    }

    #[test]
    fn unknown_codes_and_long_text_name_their_field() {
        assert_eq!(
            input("fly").to_domain().expect_err("unknown action").field,
            "action"
        );
        let bad_role = TransitionInput {
            role: Some("king".into()),
            ..input("approve")
        };
        assert_eq!(
            bad_role.to_domain().expect_err("unknown role").field,
            "role"
        );
        let long_reason = TransitionInput {
            reason: Some("r".repeat(MAX_REASON_CHARS + 1)),
            ..input("withdraw")
        };
        assert_eq!(
            long_reason.to_domain().expect_err("too long").field,
            "reason"
        );
        let bad_ground = TransitionInput {
            grounds: vec!["ok".into(), "a\u{0}b".into()],
            ..input("refuse")
        };
        assert_eq!(
            bad_ground.to_domain().expect_err("control").field,
            "grounds[1]"
        );
    }
}
