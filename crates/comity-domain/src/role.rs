//! The roles a user of a node can hold (PRODUCT.md section 3).

use crate::coded_enum;

coded_enum! {
    /// A role. Every permission check names the roles it lets through: deny by default.
    pub enum Role ("role") {
        RequestingProsecutor = ("requesting_prosecutor", "requesting prosecutor or investigator"),
        CentralAuthorityOfficer = ("central_authority_officer", "central authority officer"),
        ExecutingOfficer = ("executing_officer", "executing officer"),
        BorderOfficer = ("border_officer", "border or immigration officer"),
        Analyst = ("analyst", "analyst"),
        DataProtectionOfficer = ("data_protection_officer", "data protection officer"),
        Auditor = ("auditor", "auditor or oversight body"),
        Administrator = ("administrator", "administrator (manages the accounts of their own authority)"),
        NodeOperator = ("node_operator", "node operator (keys, peers, outbox and dead letters of the whole node)"),
        Supervisor = ("supervisor", "supervisor (may override engine findings with a justification)"),
    }
}

impl Role {
    /// Roles that work on cases and requests (and so see their authority's cases).
    pub fn works_on_requests(self) -> bool {
        use Role::*;
        matches!(
            self,
            RequestingProsecutor | CentralAuthorityOfficer | ExecutingOfficer | Supervisor
        )
    }

    /// Roles that may create cases and draft requests.
    pub fn may_draft(self) -> bool {
        use Role::*;
        matches!(
            self,
            RequestingProsecutor | CentralAuthorityOfficer | Supervisor
        )
    }

    /// Roles that manage accounts or the node. They never read or act on requests
    /// (neither [`Role::works_on_requests`] nor [`Role::may_read_requests`] admits them).
    pub fn is_management(self) -> bool {
        matches!(self, Role::Administrator | Role::NodeOperator)
    }

    /// Roles that may read requests without acting on them (oversight).
    pub fn may_read_requests(self) -> bool {
        self.works_on_requests() || matches!(self, Role::DataProtectionOfficer | Role::Auditor)
    }
}

#[cfg(test)]
mod tests {
    use super::Role;

    #[test]
    fn administrators_and_node_operators_neither_read_nor_work_on_requests() {
        for role in [Role::Administrator, Role::NodeOperator] {
            assert!(role.is_management());
            assert!(!role.may_read_requests(), "{role:?} may not read requests");
            assert!(
                !role.works_on_requests(),
                "{role:?} may not work on requests"
            );
            assert!(!role.may_draft(), "{role:?} may not draft");
        }
        assert_eq!(
            "node_operator".parse::<Role>().ok(),
            Some(Role::NodeOperator)
        );
    }
}
