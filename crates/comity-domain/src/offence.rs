//! Offences: the national provision as written, plus a standard category code.

use crate::coded_enum;

coded_enum! {
    /// The 32 categories of Annex D to Directive 2014/41/EU (the European Investigation
    /// Order; the same list as art. 2(2) of Framework Decision 2002/584/JHA), plus `Other`.
    ///
    /// Source: Directive 2014/41/EU, Annex D, (the Directive's own list).
    pub enum OffenceCategory ("offence category") {
        ParticipationInCriminalOrganisation = ("participation_in_criminal_organisation", "participation in a criminal organisation"),
        Terrorism = ("terrorism", "terrorism"),
        TraffickingInHumanBeings = ("trafficking_in_human_beings", "trafficking in human beings"),
        SexualExploitationOfChildren = ("sexual_exploitation_of_children", "sexual exploitation of children and child pornography"),
        DrugTrafficking = ("drug_trafficking", "illicit trafficking in narcotic drugs and psychotropic substances"),
        WeaponsTrafficking = ("weapons_trafficking", "illicit trafficking in weapons, munitions and explosives"),
        Corruption = ("corruption", "corruption"),
        Fraud = ("fraud", "fraud, including fraud affecting the financial interests of the Union"),
        MoneyLaundering = ("money_laundering", "laundering of the proceeds of crime"),
        CurrencyCounterfeiting = ("currency_counterfeiting", "counterfeiting currency, including the euro"),
        ComputerRelatedCrime = ("computer_related_crime", "computer-related crime"),
        EnvironmentalCrime = ("environmental_crime", "environmental crime, including illicit trafficking in endangered animal species and plant species and varieties"),
        FacilitationOfUnauthorisedEntry = ("facilitation_of_unauthorised_entry", "facilitation of unauthorised entry and residence"),
        MurderGrievousBodilyInjury = ("murder_grievous_bodily_injury", "murder, grievous bodily injury"),
        OrganTrafficking = ("organ_trafficking", "illicit trade in human organs and tissue"),
        KidnappingHostageTaking = ("kidnapping_hostage_taking", "kidnapping, illegal restraint and hostage-taking"),
        RacismXenophobia = ("racism_xenophobia", "racism and xenophobia"),
        OrganisedArmedRobbery = ("organised_armed_robbery", "organised or armed robbery"),
        CulturalGoodsTrafficking = ("cultural_goods_trafficking", "illicit trafficking in cultural goods, including antiques and works of art"),
        Swindling = ("swindling", "swindling"),
        RacketeeringExtortion = ("racketeering_extortion", "racketeering and extortion"),
        ProductCounterfeitingPiracy = ("product_counterfeiting_piracy", "counterfeiting and piracy of products"),
        AdministrativeDocumentForgery = ("administrative_document_forgery", "forgery of administrative documents and trafficking therein"),
        PaymentMeansForgery = ("payment_means_forgery", "forgery of means of payment"),
        HormonalSubstancesTrafficking = ("hormonal_substances_trafficking", "illicit trafficking in hormonal substances and other growth promoters"),
        NuclearMaterialsTrafficking = ("nuclear_materials_trafficking", "illicit trafficking in nuclear or radioactive materials"),
        StolenVehiclesTrafficking = ("stolen_vehicles_trafficking", "trafficking in stolen vehicles"),
        Rape = ("rape", "rape"),
        Arson = ("arson", "arson"),
        IccCrimes = ("icc_crimes", "crimes within the jurisdiction of the International Criminal Court"),
        UnlawfulSeizureOfAircraftShips = ("unlawful_seizure_of_aircraft_ships", "unlawful seizure of aircraft or ships"),
        Sabotage = ("sabotage", "sabotage"),
        /// Not one of the Annex D categories.
        Other = ("other", "other offence (not an Annex D category)"),
    }
}

impl OffenceCategory {
    /// Whether this is one of the 32 Annex D categories (everything but `Other`).
    pub fn is_annex_d(self) -> bool {
        self != OffenceCategory::Other
    }
}

/// One offence a request concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offence {
    /// The national provision as the requesting authority writes it, e.g. "art. 318 bis Código Penal".
    pub national_provision: String,
    /// The standard category.
    pub category: OffenceCategory,
    /// The maximum custodial sentence in the issuing state, in months, where known
    /// (the EIO's dual-criminality exception needs at least 36).
    pub maximum_penalty_months: Option<u32>,
    /// Whether the requested state may see the offence as political.
    pub political: bool,
    /// Whether the offence is fiscal (tax, customs, exchange).
    pub fiscal: bool,
    /// Whether the offence carries the death penalty in the requesting state.
    pub death_penalty_possible: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_thirty_two_annex_d_categories() {
        let annex_d = OffenceCategory::ALL
            .iter()
            .filter(|c| c.is_annex_d())
            .count();
        assert_eq!(annex_d, 32);
    }

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for category in OffenceCategory::ALL {
            assert!(seen.insert(category.code()));
            assert_eq!(category.code().parse::<OffenceCategory>(), Ok(*category));
        }
        let error = "smuggling".parse::<OffenceCategory>().expect_err("unknown");
        assert!(error.to_string().contains("offence category"));
    }
}
