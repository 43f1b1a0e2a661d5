"""Test failover on the simulated host: TestReplicaSystem makes "<replica> - Test" linked to its replica by
Msvm_ReplicaSystemDependency and leaves the replica's replication alone; DestroySystem removes an off or saved VM
(any VM, as Windows does) and the host records it; refusals as the WMI pages and Microsoft's clients show them."""

import re

VMMS = [("CreationClassName", "Msvm_VirtualSystemManagementService"), ("Name", "vmms"),
        ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", "HV-TEST01")]


def vm(client, vm_id):
    return next(v for v in client.sim.vms() if v["id"] == vm_id)


def out(resp):
    """(ReturnValue, job id or None) of an Invoke response."""
    assert resp.status == 200, resp.text
    value = int(re.search(r"<p:ReturnValue>(\d+)</p:ReturnValue>", resp.text).group(1))
    found = re.search(r'<p:Job[ >].*?<w:Selector Name="InstanceID">([^<]+)</w:Selector>', resp.text)
    return value, found.group(1) if found else None


def job(client, job_id):
    item = client.get("Msvm_ConcreteJob", [("InstanceID", job_id)]).body[0]
    return {name: client.prop(item, name) for name in ("JobState", "JobType")}


def start_test(client, vm_id):
    resp = client.invoke("Msvm_ReplicationService", "TestReplicaSystem", client.service_selectors(),
                         client.vm_ref(vm_id))
    found = re.search(r'<p:ResultingSystem[ >].*?<w:Selector Name="Name">([^<]+)</w:Selector>', resp.text)
    return out(resp) + (found.group(1) if found else None,)


def destroy(client, vm_id):
    return out(client.invoke("Msvm_VirtualSystemManagementService", "DestroySystem", VMMS,
                             client.vm_ref(vm_id, param="AffectedSystem")))


def links(client):
    """(replica id, test VM id) of every Msvm_ReplicaSystemDependency."""
    return [tuple(_name_selector(item, end) for end in ("Antecedent", "Dependent"))
            for item in client.query("SELECT * FROM Msvm_ReplicaSystemDependency")]


def _name_selector(item, prop):
    child = next(c for c in item if c.tag.endswith("}" + prop))
    return next(s.text for s in child.iter() if s.tag.endswith("}Selector") and s.get("Name") == "Name")


def test_a_test_failover_makes_a_linked_test_vm_and_leaves_replication_alone(client, clock):
    value, job_id, test_id = start_test(client, client.WEB01)
    assert value == 4096 and test_id and test_id != client.WEB01
    test = vm(client, test_id)
    assert (test["name"], test["mode"], test["power"], test["test_of"]) == ("web01 - Test", "test_replica", 3, "web01")
    assert vm(client, client.WEB01)["state"] == 3                   # replication carries on
    assert links(client) == [(client.WEB01, test_id)]
    assert job(client, job_id)["JobType"] == "102"
    # The job affects the replica and the test VM: Start-VMFailover -AsTest finds the test VM that way.
    affected = client.query("ASSOCIATORS OF {Msvm_ConcreteJob.InstanceID=\"%s\"} WHERE ResultClass = "
                            "Msvm_ComputerSystem" % job_id)
    assert sorted(client.prop(i, "Name") for i in affected) == sorted([client.WEB01, test_id])
    clock.advance(11)
    assert job(client, job_id)["JobState"] == "7" and vm(client, client.WEB01)["state"] == 3


def test_one_test_vm_per_replica_and_only_from_replicating_or_suspended(client, clock):
    value, _job, _test = start_test(client, client.WEB01)
    assert value == 4096
    assert start_test(client, client.WEB01)[0] == 32774           # its job still runs
    clock.advance(11)
    assert start_test(client, client.WEB01)[0] == 32775           # one test failover at a time
    assert start_test(client, client.PRIM01)[0] == 32775          # a primary
    recovered = next(v["id"] for v in client.sim.vms() if v["name"] == "dup" and v["state"] == 5)
    assert start_test(client, recovered)[0] == 32775              # failed over
    suspended = next(v["id"] for v in client.sim.vms() if v["name"] == "dup" and v["state"] == 7)
    assert start_test(client, suspended)[0] == 4096               # Start-VMFailover -AsTest accepts Suspended


def test_a_failed_test_failover_leaves_no_test_vm(client, clock):
    client.sim.add_fault(operation="Invoke:TestReplicaSystem", job="exception")
    value, job_id, test_id = start_test(client, client.WEB01)
    assert value == 4096 and any(v["id"] == test_id for v in client.sim.vms())
    clock.advance(11)
    assert job(client, job_id)["JobState"] == "10"
    assert not any(v["id"] == test_id for v in client.sim.vms()) and links(client) == []


def test_destroy_needs_the_vm_off_or_saved_and_is_recorded(client, clock):
    _value, _job, test_id = start_test(client, client.WEB01)
    clock.advance(11)
    client.sim.set_vm(test_id, power="running")
    assert destroy(client, test_id)[0] == 32775                     # running: turn it off first
    client.sim.set_vm(test_id, power="saved")
    value, job_id = destroy(client, test_id)
    assert value == 4096 and job(client, job_id)["JobType"] == "3"
    assert any(v["id"] == test_id for v in client.sim.vms())        # gone when the job ends
    clock.advance(11)
    assert not any(v["id"] == test_id for v in client.sim.vms()) and links(client) == []
    assert [(d["name"], d["id"], d["test_of"]) for d in client.sim.destroyed()] == [("web01 - Test", test_id, "web01")]
    assert vm(client, client.WEB01)["state"] == 3


def test_windows_destroys_any_vm_it_is_asked_to(client, clock):
    """DestroySystem has no notion of test VMs: the guard against destroying the wrong VM is the client's."""
    value, _job = destroy(client, client.SQL01)
    assert value == 4096
    clock.advance(11)
    assert [d["name"] for d in client.sim.destroyed()] == ["sql01"]


def test_a_test_vm_made_into_another_vm_loses_its_link(client, clock):
    _value, _job, test_id = start_test(client, client.WEB01)
    clock.advance(11)
    client.sim.set_vm(test_id, mode="none")
    assert links(client) == [] and vm(client, test_id)["test_of"] is None
