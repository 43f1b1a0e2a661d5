"""A VM's guest as Windows shows it: its integration components and the graceful shutdown (methods.py keys it).

Sources: hyperv guest-power notes 2; MicrosoftDocs/win32 `desktop-src/HyperV_v2/` msvm-heartbeatcomponent
(OperationalStatus[0] 2 OK, 12 No Contact, 13 Lost Communication, 15 Paused; a second entry for the application),
msvm-shutdowncomponent-initiateshutdown (Force, Reason; 0 = shutdown initiated and the VM turns off later, 32780 the
guest is not ready, 32781 locked and needs Force, 32782 a shutdown is already in progress; no job),
msvm-kvpexchangecomponent and msvm-kvpexchangedataitem (GuestIntrinsicExchangeItems: embedded
Msvm_KvpExchangeDataItem instances as CIM-XML, NetworkAddressIPv4 / NetworkAddressIPv6 semicolon-separated).

The guest answers once its VM has run for ``boot_seconds``: heartbeat OK, its addresses in KVP. A ``silent`` guest
never answers (no integration services, a crashed boot); an ``ignores_shutdown`` one accepts a shutdown and stays
up; a ``locked`` one refuses it unless Force. [infer] Every VM has the three components whatever its power state,
with No Contact and no KVP items while the guest is not answering (the notes leave their presence on an off VM
open); InitiateShutdown on a VM that is not running is 32775; a guest shutdown leaves the VM Running until Off.
DeviceIDs are "Microsoft:<VM GUID>\\<integration service GUID>" [infer], with the services' GUIDs as Hyper-V
registers them (Heartbeat, Shutdown, Key-Value Pair Exchange).
"""

import math
from typing import TYPE_CHECKING
from xml.sax.saxutils import escape

from .cim import Instance
from .invocation import INVALID_STATE, Invocation, MethodResult
from .schema import HEARTBEAT_COMPONENT, KVP_EXCHANGE_COMPONENT, SHUTDOWN_COMPONENT

if TYPE_CHECKING:
    from .hyperv import HyperVHost, VirtualMachine

RUNNING, PAUSED = 2, 9
OK, NO_CONTACT, STATUS_PAUSED = 2, 12, 15
NOT_READY, LOCKED, IN_PROGRESS = 32780, 32781, 32782
SERVICES = {HEARTBEAT_COMPONENT: "57164F39-9115-4E78-AB55-382F3BD5422D",
            SHUTDOWN_COMPONENT: "9F8233AC-BE49-4C79-8EE3-E7E1985B2077",
            KVP_EXCHANGE_COMPONENT: "A9A0F4E7-5A45-4D96-B827-8A841E8C03E6"}


def answers(host: "HyperVHost", vm: "VirtualMachine") -> bool:
    """Whether the guest is up: running (or paused) for its boot time, and not silent."""
    return (vm.guest != "silent" and vm.running_since is not None and vm.power in (RUNNING, PAUSED)
            and host.now() >= vm.running_since + vm.boot_seconds)


def heartbeat_status(host: "HyperVHost", vm: "VirtualMachine") -> list[int]:
    if not answers(host, vm):
        return [NO_CONTACT]
    return [STATUS_PAUSED] if vm.power == PAUSED else [OK, OK]


def _kvp_item(name: str, data: str) -> str:
    """One Msvm_KvpExchangeDataItem as the CIM-XML text Windows puts in the array (Source 2: intrinsic)."""
    return ('<INSTANCE CLASSNAME="Msvm_KvpExchangeDataItem">'
            '<PROPERTY NAME="Caption" PROPAGATED="true" TYPE="string"></PROPERTY>'
            f'<PROPERTY NAME="Data" TYPE="string"><VALUE>{escape(data)}</VALUE></PROPERTY>'
            '<PROPERTY NAME="Description" PROPAGATED="true" TYPE="string"></PROPERTY>'
            '<PROPERTY NAME="ElementName" PROPAGATED="true" TYPE="string"></PROPERTY>'
            f'<PROPERTY NAME="Name" TYPE="string"><VALUE>{escape(name)}</VALUE></PROPERTY>'
            '<PROPERTY NAME="Source" TYPE="uint16"><VALUE>2</VALUE></PROPERTY>'
            '</INSTANCE>')


def intrinsic_items(host: "HyperVHost", vm: "VirtualMachine") -> list[str]:
    if not answers(host, vm):
        return []
    from .network import guest_addresses  # pylint: disable=import-outside-toplevel
    addresses = guest_addresses(vm)
    ipv4 = [a for a in addresses if ":" not in a]
    ipv6 = [a for a in addresses if ":" in a]
    return [_kvp_item("FullyQualifiedDomainName", f"{vm.name.split(' ')[0].lower()}.contoso.local"),
            _kvp_item("OSName", "Windows Server 2022 Datacenter"),
            _kvp_item("NetworkAddressIPv4", ";".join(ipv4)), _kvp_item("NetworkAddressIPv6", ";".join(ipv6))]


def components(host: "HyperVHost", vm: "VirtualMachine") -> list[Instance]:
    """The VM's heartbeat, shutdown and KVP components, as read now."""
    result = []
    up = answers(host, vm)
    for cls, service in SERVICES.items():
        props = {"CreationClassName": cls.name, "DeviceID": f"Microsoft:{vm.id}\\{service}",
                 "SystemCreationClassName": "Msvm_ComputerSystem", "SystemName": vm.id,
                 "ElementName": cls.name.replace("Msvm_", "").replace("Component", ""),
                 "EnabledState": 2 if vm.power in (RUNNING, PAUSED) else 3, "HealthState": 5,
                 "OperationalStatus": [OK] if up else [NO_CONTACT]}
        if cls is HEARTBEAT_COMPONENT:
            props["OperationalStatus"] = heartbeat_status(host, vm)
        if cls is KVP_EXCHANGE_COMPONENT:
            props["GuestIntrinsicExchangeItems"] = intrinsic_items(host, vm)
        result.append(Instance(cls, props))
    return result


def initiate_shutdown(inv: Invocation) -> MethodResult:
    """Msvm_ShutdownComponent.InitiateShutdown: 0 and the VM turns off ``shutdown_seconds`` later (never, for a guest
    that ignores it), or the refusal the guest's state calls for."""
    host = inv.host
    vm = host.vm_by_id(str(inv.target.get("SystemName")))
    if vm is None or vm.power != RUNNING:
        return MethodResult(INVALID_STATE)
    if not answers(host, vm):
        return MethodResult(NOT_READY)
    if vm.shutdown_at is not None:
        return MethodResult(IN_PROGRESS)
    if vm.guest == "locked" and not inv.params.get("Force"):
        return MethodResult(LOCKED)
    # A guest that ignores it stays up for ever, with its shutdown still in progress.
    vm.shutdown_at = math.inf if vm.guest == "ignores_shutdown" else host.now() + vm.shutdown_seconds
    return MethodResult(0)
