//! The kinds of assistance a request can seek.

use crate::coded_enum;

coded_enum! {
    /// A measure sought in a request. The list follows UNTOC art. 18(3), the 1959
    /// Convention and its Second Additional Protocol, the Budapest Convention (chapter III)
    /// and the EIO, grouped the way practitioners name them.
    pub enum MeasureKind ("measure kind") {
        ImmigrationStatusInformation = ("immigration_status_information", "information on immigration status"),
        CriminalRecordInformation = ("criminal_record_information", "criminal record information"),
        TravelHistoryInformation = ("travel_history_information", "travel history information"),
        ProductionOfRecords = ("production_of_records", "production of documents and records"),
        BankRecords = ("bank_records", "production of bank and financial records"),
        TakingStatements = ("taking_statements", "taking evidence or statements"),
        VideoConferenceHearing = ("video_conference_hearing", "hearing by video conference"),
        ServiceOfDocuments = ("service_of_documents", "service of judicial documents"),
        SearchAndSeizure = ("search_and_seizure", "search and seizure"),
        FreezingOfAssets = ("freezing_of_assets", "freezing of assets"),
        ConfiscationOfAssets = ("confiscation_of_assets", "confiscation of assets"),
        ExpeditedPreservationOfData = ("expedited_preservation_of_data", "expedited preservation of stored computer data"),
        DisclosureOfPreservedData = ("disclosure_of_preserved_data", "expedited disclosure of preserved traffic data"),
        AccessToStoredData = ("access_to_stored_data", "access to stored computer data"),
        RealTimeTrafficData = ("real_time_traffic_data", "real-time collection of traffic data"),
        InterceptionOfContent = ("interception_of_content", "interception of content data"),
        ExaminationOfObjectsAndSites = ("examination_of_objects_and_sites", "examination of objects and sites"),
        ExpertEvaluation = ("expert_evaluation", "expert evaluation"),
        TemporaryTransferOfPersons = ("temporary_transfer_of_persons", "temporary transfer of persons in custody"),
        VoluntaryAppearance = ("voluntary_appearance", "voluntary appearance of persons"),
        IdentificationOfSubscriber = ("identification_of_subscriber", "identification of the subscriber of a telephone number or IP address"),
        CrossBorderObservation = ("cross_border_observation", "cross-border observation"),
        ControlledDelivery = ("controlled_delivery", "controlled delivery"),
        CovertInvestigation = ("covert_investigation", "covert investigation"),
        ProvisionalArrestAndExtradition = ("provisional_arrest_and_extradition", "provisional arrest and extradition"),
        JointInvestigationTeam = ("joint_investigation_team", "joint investigation team"),
        TracingOfProceeds = ("tracing_of_proceeds", "identifying or tracing proceeds of crime"),
        TelephoneConferenceHearing = ("telephone_conference_hearing", "hearing by telephone conference"),
        ProvisionalMeasures = ("provisional_measures", "provisional measures to preserve evidence"),
        SpontaneousInformation = ("spontaneous_information", "spontaneous information, sent without prior request"),
        InterceptionNotification = ("interception_notification", "notification of an interception needing no technical assistance"),
    }
}

impl MeasureKind {
    /// Coercive measures: those that interfere with property, liberty or the privacy of
    /// communications, for which states commonly require dual criminality.
    pub fn is_coercive(self) -> bool {
        use MeasureKind::*;
        matches!(
            self,
            SearchAndSeizure
                | FreezingOfAssets
                | ProvisionalMeasures
                | ConfiscationOfAssets
                | RealTimeTrafficData
                | InterceptionOfContent
                | TemporaryTransferOfPersons
                | ProvisionalArrestAndExtradition
                | CovertInvestigation
                | ControlledDelivery
                | CrossBorderObservation
        )
    }

    /// Measures that deprive a person of liberty or surrender them.
    pub fn is_surrender(self) -> bool {
        self == MeasureKind::ProvisionalArrestAndExtradition
    }
}

/// One measure sought, with what the requesting authority says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MeasureSought {
    /// What kind of assistance.
    pub kind: MeasureKind,
    /// What exactly is asked for, and any procedure to follow (UNTOC art. 18(15)(d)).
    pub description: String,
}
