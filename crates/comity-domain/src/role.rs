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
        Administrator = ("administrator", "administrator"),
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

    /// Roles that may read requests without acting on them (oversight).
    pub fn may_read_requests(self) -> bool {
        self.works_on_requests() || matches!(self, Role::DataProtectionOfficer | Role::Auditor)
    }
}
