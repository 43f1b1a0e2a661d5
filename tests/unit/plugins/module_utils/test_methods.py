"""The table of Hyper-V methods: what an entry declares is what is sent, the simulator's table agrees with ours,
and each kind of target (the host's service, the VM itself) is called through the same path against the simulator."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance, Reference, embedded_text
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import jobs, operations
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import (
    INITIATE_FAILOVER, METHODS, SERVICE, SYSTEM, Method, Param, replication)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM, find_vms
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm as replica

SUSPENDED = 7  # ReplicationState Suspended (hyperv-replica-wmi notes 2.3)
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "simulator"))
from hypervsim import methods as sim_methods  # noqa: E402  pylint: disable=wrong-import-position
from hypervsim.invoke import parse_embedded  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture
def host():
    hosts = simhost.Hosts()
    yield hosts.start
    hosts.stop()


@pytest.mark.parametrize("method", sorted(METHODS.values(), key=lambda m: m.name), ids=lambda m: m.name)
def test_our_entry_agrees_with_the_simulators_signature(method):
    """Both tables come from the same Microsoft pages; a typo on either side shows here, not on a host."""
    spec = sim_methods.find(method.cim_class, method.name)
    assert spec is not None, "the simulator does not model %s.%s" % (method.cim_class, method.name)
    inputs = {name: p.cimtype + ("[]" if p.array else "") for name, p in spec.signature.items() if p.direction == "in"}
    outputs = {name: p.cimtype + ("[]" if p.array else "") for name, p in spec.signature.items()
               if p.direction == "out"}
    assert {p.name: p.cim_type for p in method.inputs} == inputs
    assert method.output_types() == outputs
    # Every kind of job the simulator starts for the method is one the entry expects (the entry may know more).
    kinds = ({spec.job.job_type} if spec.job else set()) | {
        kind.job_type for kind in (spec.jobs_by[1].values() if spec.jobs_by else ())}
    assert kinds <= method.job_types
    # A method that starts no job on one side starts none on the other (InitiateShutdown: the VM goes off later);
    # one with a Job output whose JobType no page names (SetFailoverNetworkAdapterSettings, ModifyResourceSettings)
    # is answered at once by the simulator, and followed by its Job reference by the client if a host starts one.
    assert (spec.job is None) == (not method.job_types)
    if "Job" not in method.output_types():
        assert spec.job is None


def test_the_vm_goes_in_as_the_system_input_and_nothing_undeclared_is_sent():
    vm = VM(id="5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D", name="web01", mode=2, state=3, power=3, health=1)
    point = Reference.to("Msvm_VirtualSystemSettingData", InstanceID="Microsoft:P1")
    assert INITIATE_FAILOVER.arguments(vm, {"SnapshotSettingData": point}) == {
        "ComputerSystem": vm.reference(), "SnapshotSettingData": point}
    with pytest.raises(ValueError, match="has no input SnapshotSettingDat$"):
        INITIATE_FAILOVER.arguments(vm, {"SnapshotSettingDat": point})
    with pytest.raises(ValueError, match="has no input ComputerSystem"):
        INITIATE_FAILOVER.arguments(vm, {"ComputerSystem": point})


def test_a_service_is_found_by_the_reference_the_host_gives(host):
    """EnumerateEPR: the host writes the reference, so a method's class needs no keys in schema.py."""
    sim = host([replica("a")])
    cim = simhost.cim_client(sim)
    (by_epr,) = cim.query_references(wql.select("Msvm_ReplicationService"))
    (instance,) = cim.query(wql.select("Msvm_ReplicationService"))
    assert by_epr == instance.reference()
    assert any(r["operation"] == "Enumerate" and r["class"] == "Msvm_ReplicationService" for r in sim.requests())


def test_a_method_of_the_vm_itself_runs_end_to_end(host):
    """RequestReplicationStateChange lives on Msvm_ComputerSystem: an entry with a SYSTEM target is called on the VM,
    its job followed, and a lost answer settled from the entry (the VM is where it leads), with no code but the
    entry. The collection does not call it yet: the entry is the test's own."""
    suspend = Method("RequestReplicationStateChange", "Msvm_ComputerSystem", SYSTEM,
                     inputs=(Param("RequestedState", "uint16"), Param("TimeoutPeriod", "datetime")),
                     job_types=frozenset({96}), leads_to=replication(SUSPENDED))
    sim = host([replica("a"), replica("b")])
    sim.add_fault(operation="Invoke:RequestReplicationStateChange", vm="b", drop="after", count=1)
    cim = simhost.cim_client(sim)
    calls = [operations.Call(suspend, vm, {"RequestedState": SUSPENDED}) for vm in find_vms(cim, ["a", "b"])]
    operations.start_all(cim, calls, 2, lambda: 0.0)
    assert [c.error for c in calls] == ["", ""] and all(c.accepted for c in calls)
    assert calls[0].target == calls[0].vm.reference() and calls[0].job is not None
    assert "answer was lost" in calls[1].note  # settled, not sent again
    seen = jobs.wait_for_jobs(cim, [calls[0].job.id], simhost.waiter(sim))
    assert seen.jobs[calls[0].job.id].succeeded
    assert [v["state"] for v in sim.vms()] == [SUSPENDED, SUSPENDED]
    assert sim.counters()["Invoke:RequestReplicationStateChange"] == 2


def test_an_embedded_instance_is_cim_xml_the_simulator_reads_back():
    instance = Instance("Msvm_EthernetPortAllocationSettingData", {
        "InstanceID": "Microsoft:ABC\\1", "TestReplicaSwitchName": "Test <switch> & co", "EnabledState": None,
        "HostResource": ["\\\\HV1\\root\\virtualization\\v2:Msvm_VirtualEthernetSwitch.Name=\"S1\""],
    })
    text = embedded_text(instance)
    root = ET.fromstring(text)
    assert root.tag == "INSTANCE" and root.get("CLASSNAME") == "Msvm_EthernetPortAllocationSettingData"
    assert [(p.tag, p.get("NAME"), p.get("TYPE")) for p in root] == [
        ("PROPERTY", "InstanceID", "string"), ("PROPERTY", "TestReplicaSwitchName", "string"),
        ("PROPERTY.ARRAY", "HostResource", "string")]  # NULL left out: the host keeps its value
    back = parse_embedded(text, "Msvm_EthernetPortAllocationSettingData")
    assert back.properties == {k: v for k, v in instance.items() if v is not None}


def test_an_embedded_number_needs_its_type_from_the_schema():
    with pytest.raises(ValueError, match="the CIM type of Msvm_Unknown.Count is not in cim/schema.py"):
        embedded_text(Instance("Msvm_Unknown", {"Count": 3}))
    typed = embedded_text(Instance("Msvm_ComputerSystem", {"EnabledState": 2, "ElementName": "x"}))
    assert '<PROPERTY NAME="EnabledState" TYPE="uint16"><VALUE>2</VALUE></PROPERTY>' in typed


def test_the_table_names_every_target_kind_it_uses():
    assert {m.target for m in METHODS.values()} <= {SERVICE, SYSTEM, "component"}
    # A service's method names the VM in an input, or in the embedded instances it is given (ModifyResourceSettings:
    # each setting's InstanceID).
    assert all(m.system_input in {p.name for p in m.inputs} or (not m.system_input and any(p.embedded for p in m.inputs))
               for m in METHODS.values() if m.target == SERVICE)
