"""Class definitions of the root/virtualization/v2 classes the simulator models (names, CIM types, keys).

Property lists follow the Hyper-V v2 MOF as documented on learn.microsoft.com (hyperv notes S1-S5).  The two
settings classes carry the documented subset that matters for replication, not every property of the MOF.
"""

from .cim import CimClass, ClassRegistry, Prop

_MANAGED_ELEMENT = ("CIM_ManagedElement",)
_MSE = ("CIM_ManagedSystemElement",) + _MANAGED_ELEMENT
_ENABLED_LOGICAL = ("CIM_EnabledLogicalElement", "CIM_LogicalElement") + _MSE


def _p(name: str, cimtype: str = "string", array: bool = False, key: bool = False) -> Prop:
    return Prop(name, cimtype, array, key)


def _common_status(instance_key: bool = False) -> list[Prop]:
    """CIM_ManagedSystemElement status properties shared by most classes; InstanceID is the key of some."""
    return [_p("Caption"), _p("CommunicationStatus", "uint16"), _p("Description"), _p("DetailedStatus", "uint16"),
            _p("ElementName"), _p("HealthState", "uint16"), _p("InstallDate", "datetime"),
            _p("InstanceID", key=instance_key),
            _p("OperatingStatus", "uint16"), _p("OperationalStatus", "uint16", True), _p("PrimaryStatus", "uint16"),
            _p("Status"), _p("StatusDescriptions", array=True)]


def _enabled() -> list[Prop]:
    """CIM_EnabledLogicalElement state properties."""
    return [_p("AvailableRequestedStates", "uint16", True), _p("EnabledDefault", "uint16"),
            _p("EnabledState", "uint16"), _p("OtherEnabledState"), _p("RequestedState", "uint16"),
            _p("TimeOfLastStateChange", "datetime"), _p("TransitioningToState", "uint16")]


COMPUTER_SYSTEM = CimClass("Msvm_ComputerSystem", _common_status() + _enabled() + [
    _p("AssignedNumaNodeList", "uint16", True), _p("CreationClassName", key=True), _p("Dedicated", "uint16", True),
    _p("EnhancedSessionModeState", "uint16"), _p("FailedOverReplicationType", "uint16"),
    _p("HwThreadsPerCoreRealized", "uint32"), _p("IdentifyingDescriptions", array=True),
    _p("LastApplicationConsistentReplicationTime", "datetime"), _p("LastReplicationTime", "datetime"),
    _p("LastReplicationType", "uint16"), _p("LastSuccessfulBackupTime", "datetime"), _p("Name", key=True),
    _p("NameFormat"), _p("NumberOfNumaNodes", "uint16"), _p("OnTimeInMilliseconds", "uint64"),
    _p("OtherDedicatedDescriptions", array=True), _p("OtherIdentifyingInfo", array=True),
    _p("PowerManagementCapabilities", "uint16", True), _p("PrimaryOwnerContact"), _p("PrimaryOwnerName"),
    _p("ProcessID", "uint32"), _p("ReplicationHealth", "uint16"), _p("ReplicationMode", "uint16"),
    _p("ReplicationState", "uint16"), _p("ResetCapability", "uint16"), _p("Roles", array=True),
    _p("TimeOfLastConfigurationChange", "datetime"),
], ("CIM_ComputerSystem", "CIM_System") + _ENABLED_LOGICAL)

REPLICATION_SERVICE = CimClass("Msvm_ReplicationService", _common_status() + _enabled() + [
    _p("CreationClassName", key=True), _p("Name", key=True), _p("PrimaryOwnerContact"), _p("PrimaryOwnerName"),
    _p("Started", "boolean"), _p("StartMode"), _p("SystemCreationClassName", key=True), _p("SystemName", key=True),
], ("CIM_Service",) + _ENABLED_LOGICAL)

# msvm-virtualsystemmanagementservice: the host's one instance, keyed like every CIM_Service (DestroySystem lives here).
VIRTUAL_SYSTEM_MANAGEMENT_SERVICE = CimClass("Msvm_VirtualSystemManagementService", _common_status() + _enabled() + [
    _p("CreationClassName", key=True), _p("Name", key=True), _p("PrimaryOwnerContact"), _p("PrimaryOwnerName"),
    _p("Started", "boolean"), _p("StartMode"), _p("SystemCreationClassName", key=True), _p("SystemName", key=True),
], ("CIM_VirtualSystemManagementService", "CIM_Service") + _ENABLED_LOGICAL)

# InstanceID is the key of Msvm_ConcreteJob in practice (hyperv notes 4.1).
CONCRETE_JOB = CimClass("Msvm_ConcreteJob", _common_status(instance_key=True) + [
    _p("Cancellable", "boolean"), _p("DeleteOnCompletion", "boolean"), _p("ElapsedTime", "interval"),
    _p("ErrorCode", "uint16"), _p("ErrorDescription"), _p("ErrorSummaryDescription"), _p("JobRunTimes", "uint32"),
    _p("JobState", "uint16"), _p("JobStatus"), _p("JobType", "uint16"), _p("LocalOrUtcTime", "uint16"), _p("Name"),
    _p("Notify"), _p("OtherRecoveryAction"), _p("Owner"), _p("PercentComplete", "uint16"), _p("Priority", "uint32"),
    _p("RecoveryAction", "uint16"), _p("RunDay", "sint8"), _p("RunDayOfWeek", "sint8"), _p("RunMonth", "uint8"),
    _p("RunStartInterval", "interval"), _p("ScheduledStartTime", "datetime"), _p("StartTime", "datetime"),
    _p("TimeBeforeRemoval", "interval"), _p("TimeOfLastStateChange", "datetime"), _p("TimeSubmitted", "datetime"),
    _p("UntilTime", "datetime"),
], ("CIM_ConcreteJob", "CIM_Job", "CIM_LogicalElement") + _MSE)


def _vssd_props() -> list[Prop]:
    return [
        _p("AdditionalRecoveryInformation"), _p("AllowFullSCSICommandSet", "boolean"),
        _p("AutomaticCriticalErrorAction", "uint16"), _p("AutomaticCriticalErrorActionTimeout", "interval"),
        _p("AutomaticRecoveryAction", "uint16"), _p("AutomaticShutdownAction", "uint16"),
        _p("AutomaticSnapshotsEnabled", "boolean"), _p("AutomaticStartupAction", "uint16"),
        _p("AutomaticStartupActionDelay", "interval"), _p("AutomaticStartupActionSequenceNumber", "uint16"),
        _p("BIOSGUID"), _p("BIOSNumLock", "boolean"), _p("BIOSSerialNumber"), _p("BaseBoardSerialNumber"),
        _p("BootOrder", "uint16", True), _p("BootSourceOrder", array=True), _p("Caption"), _p("ChassisAssetTag"),
        _p("ChassisSerialNumber"), _p("ConfigurationDataRoot"), _p("ConfigurationFile"), _p("ConfigurationID"),
        _p("CreationTime", "datetime"), _p("Description"), _p("ElementName"), _p("InstanceID", key=True),
        _p("IsAutomaticSnapshot", "boolean"), _p("IsSaved", "boolean"), _p("LogDataRoot"), _p("Notes", array=True),
        _p("Parent"), _p("RecoveryFile"), _p("SecureBootEnabled", "boolean"), _p("SnapshotDataRoot"),
        _p("SuspendDataRoot"), _p("SwapFileDataRoot"), _p("UserSnapshotType", "uint16"), _p("Version"),
        _p("VirtualNumaEnabled", "boolean"), _p("VirtualSystemIdentifier"), _p("VirtualSystemSubType"),
        _p("VirtualSystemType"),
    ]


VSSD = CimClass("Msvm_VirtualSystemSettingData", _vssd_props(),
                ("CIM_VirtualSystemSettingData", "CIM_SettingData") + _MANAGED_ELEMENT)

REPLICATION_SETTING_DATA = CimClass("Msvm_ReplicationSettingData", [
    _p("AdditionalSettings", array=True), _p("ApplicationConsistentSnapshotInterval", "uint16"),
    _p("AuthenticationType", "uint16"), _p("AutoResynchronizeEnabled", "boolean"),
    _p("AutoResynchronizeIntervalEnd", "interval"), _p("AutoResynchronizeIntervalStart", "interval"),
    _p("BypassProxyServer", "boolean"), _p("Caption"), _p("CertificateThumbPrint"), _p("CompressionEnabled", "boolean"),
    _p("Description"), _p("ElementName"), _p("EnableWriteOrderPreservationAcrossDisks", "boolean"),
    _p("IncludedDisks", array=True), _p("InstanceID", key=True), _p("PrimaryConnectionPoint"),
    _p("PrimaryHostSystem"), _p("RecoveryConnectionPoint"), _p("RecoveryHistory", "uint8"),
    _p("RecoveryHostSystem"), _p("RecoveryServerPortNumber", "uint16"), _p("ReplicateHostKvpItems", "boolean"),
    _p("ReplicationInterval", "uint16"), _p("ReplicationProvider"), _p("RootCertificateThumbPrint"),
    _p("VirtualSystemIdentifier"), _p("VirtualSystemType"),
], ("CIM_VirtualSystemSettingData", "CIM_SettingData") + _MANAGED_ELEMENT)

REPLICATION_RELATIONSHIP = CimClass("Msvm_ReplicationRelationship", _common_status(instance_key=True) + [
    _p("FailedOverReplicationType", "uint16"),
    _p("LastApplicationConsistentReplicationTime", "datetime"), _p("LastApplyTime", "datetime"),
    _p("LastReplicationTime", "datetime"), _p("LastReplicationType", "uint16"), _p("Name"),
    _p("ReplicationHealth", "uint16"), _p("ReplicationState", "uint16"),
], _MSE)

SNAPSHOT_OF_VIRTUAL_SYSTEM = CimClass("Msvm_SnapshotOfVirtualSystem", [
    _p("Antecedent", "ref", key=True), _p("Dependent", "ref", key=True),
], ("CIM_SnapshotOfVirtualSystem", "CIM_Dependency"))

AFFECTED_JOB_ELEMENT = CimClass("Msvm_AffectedJobElement", [
    _p("AffectedElement", "ref", key=True), _p("AffectingElement", "ref", key=True),
    _p("ElementEffects", "uint16", True), _p("OtherElementEffectsDescriptions", array=True),
], ("CIM_AffectedJobElement",))

SETTINGS_DEFINE_STATE = CimClass("Msvm_SettingsDefineState", [
    _p("ManagedElement", "ref", key=True), _p("SettingData", "ref", key=True),
], ("CIM_SettingsDefineState",))

ELEMENT_SETTING_DATA = CimClass("Msvm_ElementSettingData", [
    _p("IsCurrent", "uint16"), _p("IsDefault", "uint16"), _p("IsMaximum", "uint16"), _p("IsMinimum", "uint16"),
    _p("IsNext", "uint16"), _p("ManagedElement", "ref", key=True), _p("SettingData", "ref", key=True),
], ("CIM_ElementSettingData",))

# msvm-replicasystemdependency: Antecedent = the replica VM, Dependent = its test VM (made by TestReplicaSystem).
REPLICA_SYSTEM_DEPENDENCY = CimClass("Msvm_ReplicaSystemDependency", [
    _p("Antecedent", "ref", key=True), _p("Dependent", "ref", key=True),
], ("CIM_Dependency",))


def _device() -> list[Prop]:
    """CIM_LogicalDevice keys: a VM's component is keyed by its VM (SystemName = the VM GUID) and a DeviceID."""
    return [_p("CreationClassName", key=True), _p("DeviceID", key=True), _p("SystemCreationClassName", key=True),
            _p("SystemName", key=True)]


_DEVICE = ("CIM_LogicalDevice",) + _ENABLED_LOGICAL
# msvm-heartbeatcomponent, msvm-shutdowncomponent, msvm-kvpexchangecomponent (guest integration components).
HEARTBEAT_COMPONENT = CimClass("Msvm_HeartbeatComponent", _common_status() + _enabled() + _device(), _DEVICE)
SHUTDOWN_COMPONENT = CimClass("Msvm_ShutdownComponent", _common_status() + _enabled() + _device(), _DEVICE)
KVP_EXCHANGE_COMPONENT = CimClass("Msvm_KvpExchangeComponent", _common_status() + _enabled() + _device() + [
    _p("GuestDescription"), _p("GuestExchangeItems", array=True), _p("GuestIntrinsicExchangeItems", array=True),
], _DEVICE)
GUEST_COMPONENTS = (HEARTBEAT_COMPONENT, SHUTDOWN_COMPONENT, KVP_EXCHANGE_COMPONENT)

# msvm-systemdevice: GroupComponent the VM, PartComponent one of its devices.
SYSTEM_DEVICE = CimClass("Msvm_SystemDevice", [
    _p("GroupComponent", "ref", key=True), _p("PartComponent", "ref", key=True),
], ("CIM_SystemDevice", "CIM_SystemComponent", "CIM_Component"))

# Networking (network.py; msvm-virtualethernetswitch, msvm-ethernetswitchport, msvm-syntheticethernetportsettingdata,
# msvm-ethernetportallocationsettingdata, msvm-failovernetworkadaptersettingdata): the documented properties a client
# reads or sends back; every one is typed, since ModifyResourceSettings checks the types it is sent.
VIRTUAL_ETHERNET_SWITCH = CimClass("Msvm_VirtualEthernetSwitch", _common_status() + _enabled() + [
    _p("CreationClassName", key=True), _p("Name", key=True), _p("MaxVMQOffloads", "uint32"),
    _p("MaxChimneyOffloads", "uint32"),
], ("CIM_ComputerSystem", "CIM_System") + _ENABLED_LOGICAL)
ETHERNET_SWITCH_PORT = CimClass("Msvm_EthernetSwitchPort", _common_status() + _enabled() + _device() + [_p("Name")],
                                ("CIM_EthernetPort", "CIM_NetworkPort") + _DEVICE)


def _rasd() -> list[Prop]:
    """CIM_ResourceAllocationSettingData's properties."""
    return [_p("Address"), _p("AddressOnParent"), _p("AllocationUnits"), _p("AutomaticAllocation", "boolean"),
            _p("AutomaticDeallocation", "boolean"), _p("Caption"), _p("Connection", array=True),
            _p("ConsumerVisibility", "uint16"), _p("Description"), _p("ElementName"), _p("HostResource", array=True),
            _p("InstanceID", key=True), _p("Limit", "uint64"), _p("MappingBehavior", "uint16"),
            _p("OtherResourceType"), _p("Parent"), _p("PoolID"), _p("Reservation", "uint64"), _p("ResourceSubType"),
            _p("ResourceType", "uint16"), _p("VirtualQuantity", "uint64"), _p("VirtualQuantityUnits"),
            _p("Weight", "uint32")]


_RASD = ("CIM_ResourceAllocationSettingData", "CIM_SettingData") + _MANAGED_ELEMENT
SYNTHETIC_ETHERNET_PORT = CimClass("Msvm_SyntheticEthernetPortSettingData", _rasd() + [
    _p("StaticMacAddress", "boolean"), _p("VirtualSystemIdentifiers", array=True),
    _p("ClusterMonitored", "boolean"), _p("DeviceNamingEnabled", "boolean"),
], ("CIM_EthernetPortAllocationSettingData",) + _RASD)
ETHERNET_PORT_ALLOCATION = CimClass("Msvm_EthernetPortAllocationSettingData", _rasd() + [
    _p("EnabledState", "uint16"), _p("RequiredFeatures", array=True), _p("RequiredFeatureHints", array=True),
    _p("TestReplicaPoolID"), _p("TestReplicaSwitchName"), _p("DesiredVLANEndpointMode", "uint16"),
    _p("OtherEndpointMode"), _p("LastKnownSwitchName"), _p("CompartmentGuid"),
], ("CIM_EthernetPortAllocationSettingData",) + _RASD)
FAILOVER_NETWORK_SETTING = CimClass("Msvm_FailoverNetworkAdapterSettingData", [
    _p("Caption"), _p("Description"), _p("ElementName"), _p("InstanceID", key=True), _p("ProtocolIFType", "uint16"),
    _p("DHCPEnabled", "boolean"), _p("IPAddresses", array=True), _p("Subnets", array=True),
    _p("DefaultGateways", array=True), _p("DNSServers", array=True),
], ("CIM_SettingData",) + _MANAGED_ELEMENT)
# msvm-ethernetportfailoversettingdatacomponent: GroupComponent the adapter, PartComponent its failover settings.
FAILOVER_SETTING_COMPONENT = CimClass("Msvm_EthernetPortFailoverSettingDataComponent", [
    _p("GroupComponent", "ref", key=True), _p("PartComponent", "ref", key=True),
], ("CIM_Component",))
NETWORK_CLASSES = (VIRTUAL_ETHERNET_SWITCH, ETHERNET_SWITCH_PORT, SYNTHETIC_ETHERNET_PORT, ETHERNET_PORT_ALLOCATION,
                   FAILOVER_NETWORK_SETTING)

ASSOCIATIONS = (SNAPSHOT_OF_VIRTUAL_SYSTEM, AFFECTED_JOB_ELEMENT, SETTINGS_DEFINE_STATE, ELEMENT_SETTING_DATA,
                REPLICA_SYSTEM_DEPENDENCY, SYSTEM_DEVICE, FAILOVER_SETTING_COMPONENT)

REGISTRY = ClassRegistry([COMPUTER_SYSTEM, REPLICATION_SERVICE, VIRTUAL_SYSTEM_MANAGEMENT_SERVICE, CONCRETE_JOB, VSSD,
                          REPLICATION_SETTING_DATA, REPLICATION_RELATIONSHIP, *GUEST_COMPONENTS, *NETWORK_CLASSES,
                          *ASSOCIATIONS])
