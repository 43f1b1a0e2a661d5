# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the client knows of the root/virtualization/v2 classes it reads: keys and property types.

WS-Man sends every scalar as text, so integers and booleans can only be typed from the class definition
(the MOF), as pypsrp and libvirt do. Properties not listed here stay strings; arrays listed here are always
lists, even with one element, which the wire cannot tell apart from a scalar.
"""

from __future__ import annotations

from typing import Dict, Tuple

V2_NAMESPACE = "root/virtualization/v2"
WMI_URI_PREFIX = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
V2_URI = WMI_URI_PREFIX + V2_NAMESPACE

# CIM type names as in the MOF; "[]" marks arrays.
PROPERTY_TYPES: Dict[str, Dict[str, str]] = {
    "Msvm_ComputerSystem": {
        "EnabledState": "uint16", "RequestedState": "uint16", "HealthState": "uint16",
        "OperationalStatus": "uint16[]", "StatusDescriptions": "string[]",
        "ReplicationState": "uint16", "ReplicationHealth": "uint16", "ReplicationMode": "uint16",
        "FailedOverReplicationType": "uint16", "LastReplicationType": "uint16",
        "OnTimeInMilliseconds": "uint64", "ProcessID": "uint32", "NumberOfNumaNodes": "uint16",
        "EnhancedSessionModeState": "uint16", "AvailableRequestedStates": "uint16[]",
    },
    "Msvm_ConcreteJob": {
        "JobState": "uint16", "PercentComplete": "uint16", "ErrorCode": "uint16", "JobType": "uint16",
        "Cancellable": "boolean", "DeleteOnCompletion": "boolean", "Priority": "uint32",
        "OperationalStatus": "uint16[]", "StatusDescriptions": "string[]", "HealthState": "uint16",
        "RecoveryAction": "uint16", "LocalOrUtcTime": "uint16", "RunMonth": "uint8", "RunDay": "sint8",
        "RunDayOfWeek": "sint8",
    },
    "Msvm_ReplicationService": {
        "EnabledState": "uint16", "EnabledDefault": "uint16", "RequestedState": "uint16",
        "HealthState": "uint16", "OperationalStatus": "uint16[]", "Started": "boolean",
    },
    "Msvm_VirtualSystemSettingData": {
        "AutomaticStartupActionSequenceNumber": "uint16", "AutomaticShutdownAction": "uint16",
        "AutomaticStartupAction": "uint16", "AutomaticRecoveryAction": "uint16",
        "IsSaved": "boolean", "Version": "string", "BootOrder": "uint16[]", "IsAutomaticSnapshot": "boolean",
        "Notes": "string[]",
    },
    "Msvm_ReplicationRelationship": {
        "ReplicationState": "uint16", "ReplicationHealth": "uint16", "FailedOverReplicationType": "uint16",
        "LastReplicationType": "uint16", "HealthState": "uint16", "OperationalStatus": "uint16[]",
        "StatusDescriptions": "string[]",
    },
    # hyperv-replica-wmi notes 6.2: ReplicationInterval is in seconds (30, 300 or 900).
    "Msvm_ReplicationSettingData": {
        "ReplicationInterval": "uint16", "RecoveryHistory": "uint8", "ApplicationConsistentSnapshotInterval": "uint16",
        "RecoveryServerPortNumber": "uint16", "AuthenticationType": "uint16", "CompressionEnabled": "boolean",
        "BypassProxyServer": "boolean", "AutoResynchronizeEnabled": "boolean", "ReplicateHostKvpItems": "boolean",
        "EnableWriteOrderPreservationAcrossDisks": "boolean", "IncludedDisks": "string[]",
        "AdditionalSettings": "string[]",
    },
    # Guest integration components (hyperv guest-power notes 2): heartbeat status, KVP items as CIM-XML text.
    "Msvm_HeartbeatComponent": {"OperationalStatus": "uint16[]", "EnabledState": "uint16", "HealthState": "uint16"},
    "Msvm_KvpExchangeComponent": {
        "OperationalStatus": "uint16[]", "EnabledState": "uint16", "HealthState": "uint16",
        "GuestIntrinsicExchangeItems": "string[]", "GuestExchangeItems": "string[]",
    },
    "Msvm_KvpExchangeDataItem": {"Source": "uint16"},
    # Networking (msvm-virtualethernetswitch, msvm-syntheticethernetportsettingdata,
    # msvm-ethernetportallocationsettingdata, msvm-failovernetworkadaptersettingdata). Every non-string property of
    # the two classes the client sends back (ModifyResourceSettings, SetFailoverNetworkAdapterSettings) is listed:
    # an instance is sent with each property's CIM type, and a wrong one is refused.
    "Msvm_VirtualEthernetSwitch": {"EnabledState": "uint16", "HealthState": "uint16", "OperationalStatus": "uint16[]",
                                   "MaxVMQOffloads": "uint32", "MaxChimneyOffloads": "uint32"},
    "Msvm_EthernetSwitchPort": {"EnabledState": "uint16", "HealthState": "uint16", "OperationalStatus": "uint16[]"},
    "Msvm_SyntheticEthernetPortSettingData": {
        "ResourceType": "uint16", "StaticMacAddress": "boolean", "VirtualSystemIdentifiers": "string[]",
        "HostResource": "string[]", "Connection": "string[]", "AutomaticAllocation": "boolean",
        "AutomaticDeallocation": "boolean", "VirtualQuantity": "uint64", "Reservation": "uint64", "Limit": "uint64",
        "Weight": "uint32", "ConsumerVisibility": "uint16", "MappingBehavior": "uint16",
        "ClusterMonitored": "boolean", "DeviceNamingEnabled": "boolean",
    },
    "Msvm_EthernetPortAllocationSettingData": {
        "ResourceType": "uint16", "ConsumerVisibility": "uint16", "HostResource": "string[]",
        "VirtualQuantity": "uint64", "Reservation": "uint64", "Limit": "uint64", "Weight": "uint32",
        "AutomaticAllocation": "boolean", "AutomaticDeallocation": "boolean", "Connection": "string[]",
        "MappingBehavior": "uint16", "DesiredVLANEndpointMode": "uint16", "EnabledState": "uint16",
        "RequiredFeatures": "string[]", "RequiredFeatureHints": "string[]",
    },
    "Msvm_FailoverNetworkAdapterSettingData": {
        "ProtocolIFType": "uint16", "DHCPEnabled": "boolean", "IPAddresses": "string[]", "Subnets": "string[]",
        "DefaultGateways": "string[]", "DNSServers": "string[]",
    },
}

# Key properties, in the order Windows lists them in an object path.
KEYS: Dict[str, Tuple[str, ...]] = {
    "Msvm_ComputerSystem": ("CreationClassName", "Name"),
    "Msvm_ReplicationService": ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
    "Msvm_ConcreteJob": ("InstanceID",),
    "Msvm_VirtualSystemSettingData": ("InstanceID",),
    "Msvm_ReplicationRelationship": ("InstanceID",),
    "Msvm_ReplicationSettingData": ("InstanceID",),
    "Msvm_VirtualEthernetSwitch": ("CreationClassName", "Name"),
    "Msvm_EthernetSwitchPort": ("CreationClassName", "DeviceID", "SystemCreationClassName", "SystemName"),
    "Msvm_SyntheticEthernetPortSettingData": ("InstanceID",),
    "Msvm_EthernetPortAllocationSettingData": ("InstanceID",),
    "Msvm_FailoverNetworkAdapterSettingData": ("InstanceID",),
}


def class_uri(class_name: str) -> str:
    return V2_URI + "/" + class_name


def property_type(class_name: str, prop: str) -> str:
    """The CIM type of a property, or "" when the client does not know it (the value then stays text)."""
    return PROPERTY_TYPES.get(class_name, {}).get(prop, "")
