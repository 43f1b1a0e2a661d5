"""Replica state machine and jobs (hyperv notes 3.2, 3.3, 4), driven through Invoke with a manual clock."""

import re

import pytest

VM_SELECTORS = [("CreationClassName", "Msvm_ComputerSystem")]


def vm(client, vm_id):
    return next(v for v in client.sim.vms() if v["id"] == vm_id)


def out(resp):
    """(ReturnValue, job id or None) of an Invoke response."""
    assert resp.status == 200, resp.text
    value = int(re.search(r"<p:ReturnValue>(\d+)</p:ReturnValue>", resp.text).group(1))
    found = re.search(r'<w:Selector Name="InstanceID">([^<]+)</w:Selector>', resp.text)
    return value, found.group(1) if found else None


def failover(client, vm_id, extra=""):
    return out(client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                             client.vm_ref(vm_id) + extra))


def service_call(client, method, vm_id):
    return out(client.invoke("Msvm_ReplicationService", method, client.service_selectors(), client.vm_ref(vm_id)))


def state_change(client, vm_id, requested):
    return out(client.invoke("Msvm_ComputerSystem", "RequestReplicationStateChange", VM_SELECTORS + [("Name", vm_id)],
                             f"<p:RequestedState>{requested}</p:RequestedState>"
                             "<p:TimeoutPeriod><cim:Interval xmlns:cim=\"http://schemas.dmtf.org/wbem/wscim/1/common\">"
                             "P0DT0H0M0S</cim:Interval></p:TimeoutPeriod>"))


def job(client, job_id):
    resp = client.get("Msvm_ConcreteJob", [("InstanceID", job_id)])
    if resp.status != 200:
        return None
    item = resp.body[0]
    return {name: client.prop(item, name) for name in
            ("JobState", "PercentComplete", "JobType", "ErrorCode", "ErrorDescription", "ErrorSummaryDescription")}


def points(client, vm_id):
    return [p for v in client.sim.vms() if v["id"] == vm_id for p in v["recovery_points"]]


def test_initiate_failover_job_lifecycle(client, clock):
    value, job_id = failover(client, client.WEB01)
    assert value == 4096 and job_id == job_id.upper()
    assert vm(client, client.WEB01)["state"] == 12                 # Failover in progress while the job runs
    assert job(client, job_id)["JobState"] == "2" and job(client, job_id)["JobType"] == "97"
    clock.advance(0.5)
    assert job(client, job_id)["JobState"] == "3"
    clock.advance(4.5)
    running = job(client, job_id)
    assert running["JobState"] == "4" and running["PercentComplete"] == "50"
    clock.advance(5)
    done = job(client, job_id)
    assert done["JobState"] == "7" and done["PercentComplete"] == "100" and done["ErrorCode"] == "0"
    state = vm(client, client.WEB01)
    assert state["state"] == 5 and state["failed_over_type"] == 1
    rel = client.get("Msvm_ReplicationRelationship", [("InstanceID", f"Microsoft:{client.WEB01}\\HVR\\0")])
    assert client.prop(rel.body[0], "ReplicationState") == "5"
    assert client.prop(rel.body[0], "FailedOverReplicationType") == "1"


def test_job_disappears_after_time_before_removal(make_client, clock):
    client = make_client(job_seconds=0, time_before_removal=300)
    job_id = failover(client, client.WEB01)[1]
    assert job(client, job_id)["JobState"] == "7"                 # job_seconds 0: complete at the first poll
    clock.advance(299)
    assert job(client, job_id) is not None
    clock.advance(1)
    resp = client.get("Msvm_ConcreteJob", [("InstanceID", job_id)])
    assert resp.fault()["subcode"] == "a:DestinationUnreachable"
    assert client.sim.vms()[0]["jobs"] == []


# Recovery points are listed by creation time: app-consistent (-4h), standard (-1h), planned (-10m).
@pytest.mark.parametrize("index, expected", [(0, 2), (1, 1), (2, 3)])
def test_failover_to_a_recovery_point_sets_its_type(make_client, index, expected):
    client = make_client(job_seconds=0)
    point = points(client, client.WEB01)[index]
    assert failover(client, client.WEB01, client.vssd_ref(point))[0] == 4096
    assert vm(client, client.WEB01)["failed_over_type"] == expected


def test_wrapped_reference_is_accepted(make_client):
    client = make_client(job_seconds=0)
    resp = client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                         client.vm_ref(client.WEB01, wrapper=True))
    assert out(resp)[0] == 4096


def test_snapshot_that_is_not_a_recovery_point_of_the_vm(client):
    active = f"Microsoft:{client.WEB01}"
    assert failover(client, client.WEB01, client.vssd_ref(active))[0] == 32773
    other = points(client, client.SQL01)[0]
    assert failover(client, client.WEB01, client.vssd_ref(other))[0] == 32773
    assert failover(client, client.WEB01, client.vssd_ref("Microsoft:NOPE"))[0] == 32773
    assert vm(client, client.WEB01)["state"] == 3


def test_failover_rejections(client):
    client.sim.set_vm(client.SQL01, state="critical")
    assert failover(client, client.SQL01) == (32775, None)          # replication in error
    assert failover(client, client.PRIM01) == (32775, None)         # primary
    assert failover(client, client.ODD) == (32775, None)            # not replicated
    suspended = next(v["id"] for v in client.sim.vms() if v["name"] == "dup" and v["state"] == 7)
    assert failover(client, suspended) == (32775, None)             # resume first, as Windows' client does
    assert failover(client, "HV-TEST01") == (32773, None)           # the host is no VM
    resp = client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(), "")
    assert out(resp) == (32773, None)                               # ComputerSystem omitted = NULL
    assert '<p:Job xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:nil="true"/>' in resp.text


def test_running_vm_can_be_allowed(make_client):
    """running_vm_failover: allow lets RevertFailover take a running failed-over VM (the default refuses it)."""
    client = make_client(running_vm_failover="allow", job_seconds=0)
    client.sim.set_vm(client.SQL01, state="recovered", power="running")
    assert service_call(client, "RevertFailover", client.SQL01)[0] == 4096
    assert vm(client, client.SQL01)["state"] == 3


def test_invalid_state_as_failing_job(make_client, clock):
    client = make_client(invalid_state="job")
    client.sim.set_vm(client.SQL01, state="critical")
    value, job_id = failover(client, client.SQL01)
    assert value == 4096
    assert vm(client, client.SQL01)["state"] == 8
    clock.advance(10)
    failed = job(client, job_id)
    assert failed["JobState"] == "10" and failed["ErrorCode"] == "32775"
    assert failed["ErrorDescription"] and failed["ErrorSummaryDescription"]
    assert vm(client, client.SQL01)["state"] == 8


def test_fail_jobs_restores_the_state(client, clock):
    client.sim.set_vm(client.WEB01, fail_jobs=True)
    job_id = failover(client, client.WEB01)[1]
    assert vm(client, client.WEB01)["state"] == 12
    clock.advance(10)
    failed = job(client, job_id)
    assert failed["JobState"] == "10" and failed["ErrorCode"] == "32768"
    assert "web01" in failed["ErrorDescription"]
    assert vm(client, client.WEB01)["state"] == 3


def test_revert_and_commit(make_client):
    client = make_client(job_seconds=0)
    assert service_call(client, "RevertFailover", client.WEB01) == (32775, None)   # nothing to revert yet
    assert service_call(client, "CommitFailover", client.WEB01) == (32775, None)
    failover(client, client.WEB01)
    value, job_id = service_call(client, "RevertFailover", client.WEB01)
    assert value == 4096 and job(client, job_id)["JobType"] == "98"
    state = vm(client, client.WEB01)
    assert state["state"] == 3 and state["failed_over_type"] == 0 and len(state["recovery_points"]) == 3
    failover(client, client.WEB01)                                   # allowed again after a revert
    value, job_id = service_call(client, "CommitFailover", client.WEB01)
    assert job(client, job_id)["JobType"] == "99"
    state = vm(client, client.WEB01)
    assert state["state"] == 6 and state["recovery_points"] == []
    assert service_call(client, "RevertFailover", client.WEB01) == (32775, None)   # commit is final


def test_revert_of_a_running_recovered_vm(make_client):
    client = make_client(job_seconds=0)
    failover(client, client.WEB01)
    client.sim.set_vm(client.WEB01, power="running")
    assert service_call(client, "RevertFailover", client.WEB01) == (32775, None)
    assert service_call(client, "CommitFailover", client.WEB01)[0] == 4096   # commit after a test boot is normal


def test_primary_prepare_and_revert(make_client):
    client = make_client(job_seconds=0)
    value, job_id = state_change(client, client.PRIM01, 4)
    assert value == 4096 and job(client, job_id)["JobType"] == "96"
    assert vm(client, client.PRIM01)["state"] == 4
    assert service_call(client, "RevertFailover", client.PRIM01)[0] == 4096
    assert vm(client, client.PRIM01)["state"] == 3


def test_suspend_and_resume(make_client):
    client = make_client(job_seconds=0)
    assert state_change(client, client.WEB01, 7)[0] == 4096
    assert vm(client, client.WEB01)["state"] == 7
    assert failover(client, client.WEB01) == (32775, None)
    assert state_change(client, client.WEB01, 7) == (32775, None)
    assert state_change(client, client.WEB01, 3)[0] == 4096
    assert vm(client, client.WEB01)["state"] == 3
    assert state_change(client, client.WEB01, 5) == (32773, None)
    assert state_change(client, client.WEB01, 4) == (32775, None)    # prepare is for primaries
    assert state_change(client, client.ODD, 7) == (32775, None)      # not replicated


def test_state_change_takes_effect_at_once(client):
    assert state_change(client, client.WEB01, 7)[0] == 4096
    assert vm(client, client.WEB01)["state"] == 7


def test_busy_vm(client):
    assert failover(client, client.WEB01)[0] == 4096
    assert service_call(client, "RevertFailover", client.WEB01) == (32774, None)
    assert state_change(client, client.WEB01, 7) == (32774, None)


def test_state_change_on_the_host_object(client):
    assert state_change(client, "HV-TEST01", 7) == (32773, None)


def test_affected_job_element_while_pending(client, clock):
    job_id = failover(client, client.WEB01)[1]
    items = client.query("SELECT * FROM Msvm_AffectedJobElement")
    assert len(items) == 1
    affecting = items[0].find("{*}AffectingElement")
    assert affecting.find(".//w:Selector", client.NS).text == job_id
    clock.advance(1000)
    assert client.query("SELECT * FROM Msvm_AffectedJobElement") == []


def test_job_is_found_by_wql_too(client):
    job_id = failover(client, client.WEB01)[1]
    items = client.query(f"SELECT * FROM Msvm_ConcreteJob WHERE InstanceID = '{job_id.lower()}'")
    assert [client.prop(i, "InstanceID") for i in items] == [job_id]
    assert client.prop(items[0], "Owner") == "admin"


def test_invoke_response_shape(client):
    resp = client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                         client.vm_ref(client.WEB01))
    v2 = client.V2
    assert resp.find("s:Header/a:Action").text == f"{v2}/Msvm_ReplicationService/InitiateFailoverResponse"
    assert (f'<s:Body><p:InitiateFailover_OUTPUT xmlns:p="{v2}/Msvm_ReplicationService"><p:Job xmlns:a='
            in resp.text)
    assert re.search(r'<w:ResourceURI>[^<]+/v2/Msvm_ConcreteJob</w:ResourceURI><w:SelectorSet><w:Selector '
                     r'Name="InstanceID">[0-9A-F-]{36}</w:Selector></w:SelectorSet></a:ReferenceParameters></p:Job>'
                     r"<p:ReturnValue>4096</p:ReturnValue></p:InitiateFailover_OUTPUT>", resp.text)


def test_set_vm_control(client):
    with pytest.raises(ValueError):
        client.sim.set_vm("dup", state="replicating")                # ambiguous name
    with pytest.raises(KeyError):
        client.sim.set_vm("nope", state=3)
    with pytest.raises(ValueError):
        client.sim.set_vm("web01", colour="blue")
    result = client.sim.set_vm("WEB01", state="recovered", power="running", mode=2)
    assert (result["state"], result["power"], result["mode"]) == (5, 2, "replica")
    with pytest.raises(ValueError, match="always off on Windows"):
        client.sim.set_vm("WEB01", state="suspended")              # a replica not failed over never runs


def power_change(client, vm_id, requested):
    return out(client.invoke("Msvm_ComputerSystem", "RequestStateChange", VM_SELECTORS + [("Name", vm_id)],
                             f"<p:RequestedState>{requested}</p:RequestedState>"))


def test_failover_from_disk_update_in_progress_and_resume_from_resynchronizing(make_client):
    """Start-VMFailover calls InitiateFailover from 15 directly, and resumes 10 (Resynchronizing) to 3 first."""
    client = make_client(job_seconds=0)
    client.sim.set_vm(client.WEB01, state=15)
    assert failover(client, client.WEB01)[0] == 4096 and vm(client, client.WEB01)["state"] == 5
    client.sim.set_vm(client.SQL01, state=10, power="off")
    assert failover(client, client.SQL01) == (32775, None)
    assert state_change(client, client.SQL01, 3)[0] == 4096 and vm(client, client.SQL01)["state"] == 3


def test_revert_from_failover_in_progress_with_no_job_left(make_client):
    """Stop-VMFailover accepts RecoveryInProgress (12); a VM still running a job answers 32774 first."""
    client = make_client(job_seconds=30)
    job_id = failover(client, client.WEB01)[1]
    assert vm(client, client.WEB01)["state"] == 12
    assert service_call(client, "RevertFailover", client.WEB01) == (32774, None)
    client.sim.clock.advance(31)
    assert job(client, job_id)["JobState"] == "7"
    client.sim.set_vm(client.WEB01, state=12)   # a failover left half way, with no job on the VM any more
    value, revert_job = service_call(client, "RevertFailover", client.WEB01)
    assert value == 4096 and job(client, revert_job)["JobType"] == "98"


def test_turn_off_start_save_and_pause(make_client):
    client = make_client(job_seconds=0)
    failover(client, client.WEB01)                                   # a failed-over replica may run
    value, job_id = power_change(client, client.WEB01, 2)
    assert value == 4096 and job(client, job_id)["JobType"] == "12" and vm(client, client.WEB01)["power"] == 2
    assert power_change(client, client.WEB01, 2) == (32775, None)    # already running
    assert power_change(client, client.WEB01, 9)[0] == 4096 and vm(client, client.WEB01)["power"] == 9
    value, job_id = power_change(client, client.WEB01, 3)
    assert job(client, job_id)["JobType"] == "13" and vm(client, client.WEB01)["power"] == 3
    assert power_change(client, client.WEB01, 6) == (32775, None)    # an off VM has nothing to save
    assert power_change(client, client.WEB01, 4) == (32773, None)    # Shut Down is V1 only
    assert power_change(client, "HV-TEST01", 3) == (32773, None)     # the host is no VM


def test_a_replica_that_has_not_failed_over_cannot_be_started(make_client, clock):
    client = make_client(job_seconds=0)
    assert power_change(client, client.WEB01, 2) == (32775, None)
    assert vm(client, client.WEB01)["power"] == 3
    jobs = make_client(invalid_state="job")
    value, job_id = power_change(jobs, jobs.WEB01, 2)
    clock.advance(10)
    assert value == 4096 and job(jobs, job_id)["JobState"] == "10" and vm(jobs, jobs.WEB01)["power"] == 3
