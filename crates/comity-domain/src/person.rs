//! Persons concerned by a request, with their role and vulnerabilities.

use crate::CountryCode;
use crate::coded_enum;

coded_enum! {
    /// The part a person plays in the proceedings.
    pub enum PersonRole ("person role") {
        Suspect = ("suspect", "suspect"),
        Accused = ("accused", "accused"),
        Witness = ("witness", "witness"),
        Victim = ("victim", "victim"),
        SmuggledMigrant = ("smuggled_migrant", "smuggled migrant"),
        Other = ("other", "other"),
    }
}

coded_enum! {
    /// A vulnerability that triggers safeguards (PRODUCT.md 4.7).
    pub enum Vulnerability ("vulnerability") {
        Minor = ("minor", "minor"),
        TraffickingVictim = ("trafficking_victim", "victim of trafficking"),
        AsylumSeekerOrRefugee = ("asylum_seeker_or_refugee", "asylum seeker or refugee"),
        Stateless = ("stateless", "stateless"),
        Disability = ("disability", "disability"),
    }
}

impl PersonRole {
    /// Roles in which the person is the object of enforcement.
    pub fn is_prosecuted(self) -> bool {
        matches!(self, PersonRole::Suspect | PersonRole::Accused)
    }
}

/// A person the request concerns (UNTOC art. 18(15)(e)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonConcerned {
    /// Full name as written in the requesting state's documents (any script).
    pub full_name: String,
    /// Date of birth as known, possibly partial ("1990", "1990-04", "1990-04-17").
    pub date_of_birth: Option<String>,
    /// Nationalities, if known.
    pub nationalities: Vec<CountryCode>,
    /// Where the person is believed to be, free text.
    pub location: Option<String>,
    /// The part the person plays.
    pub role: PersonRole,
    /// Vulnerabilities, without duplicates.
    pub vulnerabilities: Vec<Vulnerability>,
}

impl PersonConcerned {
    /// Whether the person carries the given vulnerability flag.
    pub fn has(&self, vulnerability: Vulnerability) -> bool {
        self.vulnerabilities.contains(&vulnerability)
    }
}
