"""How jobs end (hyperv notes 4.2): Completed, CompletedWithWarnings 32768, Exception 10, hanging, slow; and
TimeBeforeRemoval.  Per-VM job_result and injected job rules."""

import copy
import re

import pytest

from hypervsim import FleetError, Simulator
from hypervsim.fleet import parse_fleet

VM_SELECTORS = [("CreationClassName", "Msvm_ComputerSystem")]
JOB_PROPS = ("JobState", "PercentComplete", "ErrorCode", "ErrorDescription", "ErrorSummaryDescription", "JobStatus",
             "Status")


def out(resp):
    """(ReturnValue, job id or None) of an Invoke response."""
    assert resp.status == 200, resp.text
    value = int(re.search(r"<p:ReturnValue>(\d+)</p:ReturnValue>", resp.text).group(1))
    found = re.search(r'<w:Selector Name="InstanceID">([^<]+)</w:Selector>', resp.text)
    return value, found.group(1) if found else None


def failover(client, vm_id):
    return out(client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                             client.vm_ref(vm_id)))


def state_change(client, vm_id, requested):
    return out(client.invoke("Msvm_ComputerSystem", "RequestReplicationStateChange",
                             VM_SELECTORS + [("Name", vm_id)], f"<p:RequestedState>{requested}</p:RequestedState>"))


def job(client, job_id):
    """The job's properties by Get, or None once Get says it does not exist."""
    resp = client.get("Msvm_ConcreteJob", [("InstanceID", job_id)])
    if resp.status != 200:
        assert resp.fault()["subcode"] == "a:DestinationUnreachable" and resp.fault()["wsman_code"] == 2150858752
        return None
    return {name: client.prop(resp.body[0], name) for name in JOB_PROPS}


def wql_jobs(client, job_id):
    return client.query(f"SELECT * FROM Msvm_ConcreteJob WHERE InstanceID = '{job_id}'")


def vm_state(client, vm_id):
    return next(v for v in client.sim.vms() if v["id"] == vm_id)["state"]


# ---------------------------------------------------------------- per-VM job_result

def test_completed_with_warnings_is_a_success(client, clock):
    client.sim.set_vm(client.WEB01, job_result="warnings")
    job_id = failover(client, client.WEB01)[1]
    assert job(client, job_id)["JobState"] == "2"
    clock.advance(10)
    done = job(client, job_id)
    assert done["JobState"] == "32768" and done["PercentComplete"] == "100" and done["ErrorCode"] == "0"
    assert "web01" in done["ErrorDescription"] and done["ErrorSummaryDescription"]
    assert done["JobStatus"] == "Job completed with warnings" and done["Status"] == "OK"
    assert vm_state(client, client.WEB01) == 5                      # the failover took effect, as on Windows


def test_hanging_job_never_ends(client, clock):
    client.sim.set_vm(client.WEB01, job_result="hang")
    job_id = failover(client, client.WEB01)[1]
    clock.advance(5)
    assert job(client, job_id)["PercentComplete"] == "50"
    clock.advance(1_000_000)
    stuck = job(client, job_id)
    assert (stuck["JobState"], stuck["PercentComplete"], stuck["ErrorCode"]) == ("4", "50", "0")
    assert vm_state(client, client.WEB01) == 12                     # still "failover in progress"
    assert failover(client, client.WEB01) == (32774, None)          # and busy
    assert len(wql_jobs(client, job_id)) == 1


def test_fail_jobs_is_job_result_exception(client, clock):
    assert client.sim.set_vm(client.WEB01, fail_jobs=True)["job_result"] == "exception"
    job_id = failover(client, client.WEB01)[1]
    clock.advance(10)
    failed = job(client, job_id)
    assert (failed["JobState"], failed["ErrorCode"], failed["Status"]) == ("10", "32768", "Error")
    assert vm_state(client, client.WEB01) == 3
    assert client.sim.set_vm(client.WEB01, fail_jobs=False)["job_result"] == "completed"
    with pytest.raises(ValueError, match="job_result"):
        client.sim.set_vm(client.WEB01, job_result="sometimes")


def test_job_result_in_the_fleet_file(fleet_dict):
    data = copy.deepcopy(fleet_dict)
    vms = data["hosts"][0]["vms"]
    vms[0]["job_result"], vms[1]["fail_jobs"] = "warnings", True
    parsed = parse_fleet(data)[0].vms
    assert (parsed[0].job_result, parsed[1].job_result, parsed[2].job_result) == ("warnings", "exception", "completed")
    for bad, where in (({"job_result": "late"}, "job_result"),
                       ({"fail_jobs": True, "job_result": "hang"}, "fail_jobs")):
        broken = copy.deepcopy(fleet_dict)
        broken["hosts"][0]["vms"][0].update(bad)
        with pytest.raises(FleetError, match=rf"^hosts\[0\]\.vms\[0\]\.{where}:"):
            parse_fleet(broken)


def test_state_change_jobs_ignore_the_vm_job_result(client, clock):
    """job_result, like fail_jobs before it, is about the failover methods."""
    client.sim.set_vm(client.WEB01, job_result="exception")
    job_id = state_change(client, client.WEB01, 7)[1]
    clock.advance(10)
    assert job(client, job_id)["JobState"] == "7" and vm_state(client, client.WEB01) == 7


def test_per_vm_job_seconds_from_the_control_api(client, clock):
    client.sim.set_vm(client.WEB01, job_seconds=30)
    job_id = failover(client, client.WEB01)[1]
    clock.advance(15)
    assert job(client, job_id)["PercentComplete"] == "50"
    with pytest.raises(ValueError, match="job_seconds"):
        client.sim.set_vm(client.WEB01, job_seconds=-1)


# ---------------------------------------------------------------- injected job rules

def test_rule_hang_at_a_percent(client, clock):
    client.sim.add_fault(operation="Invoke:InitiateFailover", job="hang", percent=40)
    job_id = failover(client, client.WEB01)[1]
    clock.advance(3600)
    assert (job(client, job_id)["JobState"], job(client, job_id)["PercentComplete"]) == ("4", "40")
    assert client.sim.faults() == []                                # one shot from the control API


def test_rule_slow_job(client, clock):
    client.sim.add_fault(operation="Invoke:*", vm="web01", job_seconds=100)
    job_id = failover(client, client.WEB01)[1]
    clock.advance(50)
    assert (job(client, job_id)["JobState"], job(client, job_id)["PercentComplete"]) == ("4", "50")
    clock.advance(50)
    assert job(client, job_id)["JobState"] == "7"
    assert client.sim.faults()[0]["count"] is None                   # a duration lasts until cleared


def test_rule_exception_with_error_code(client, clock):
    client.sim.add_fault(job="exception", error_code=32775)
    job_id = failover(client, client.WEB01)[1]
    clock.advance(10)
    assert job(client, job_id)["ErrorCode"] == "32775" and vm_state(client, client.WEB01) == 3


def test_rule_completed_overrides_the_vm(client, clock):
    client.sim.set_vm(client.WEB01, job_result="exception")
    client.sim.add_fault(operation="Invoke:InitiateFailover", job="completed")
    job_id = failover(client, client.WEB01)[1]
    clock.advance(10)
    assert job(client, job_id)["JobState"] == "7" and vm_state(client, client.WEB01) == 5


def test_failed_state_change_restores_the_state(client, clock):
    client.sim.add_fault(operation="Invoke:RequestReplicationStateChange", job="exception")
    job_id = state_change(client, client.WEB01, 7)[1]
    assert vm_state(client, client.WEB01) == 7                      # set at once, as the doc says
    clock.advance(10)
    assert job(client, job_id)["JobState"] == "10" and vm_state(client, client.WEB01) == 3


def test_rules_do_not_rescue_a_job_the_model_fails(make_client, clock):
    client = make_client(invalid_state="job")
    client.sim.add_fault(job="completed")
    job_id = failover(client, client.PRIM01)[1]                     # a primary cannot InitiateFailover
    clock.advance(10)
    assert job(client, job_id)["ErrorCode"] == "32775"
    assert client.sim.faults()[0]["fired"] == 0


# ---------------------------------------------------------------- TimeBeforeRemoval

@pytest.mark.parametrize("job_result, final", [("completed", "7"), ("warnings", "32768"), ("exception", "10")])
def test_finished_jobs_disappear_after_time_before_removal(fleet_dict, clock, client, job_result, final):
    sim = Simulator(fleet_dict, clock=clock, job_seconds=5, time_before_removal=60)
    client = type(client)(sim)
    sim.set_vm(client.WEB01, job_result=job_result)
    job_id = failover(client, client.WEB01)[1]
    clock.advance(5)
    assert job(client, job_id)["JobState"] == final and len(wql_jobs(client, job_id)) == 1
    clock.advance(59.5)
    assert job(client, job_id) is not None                          # still there 59.5 s after the end
    clock.advance(0.5)
    assert job(client, job_id) is None                              # not found by Get ...
    assert wql_jobs(client, job_id) == []                           # ... nor by WQL
    assert client.query("SELECT * FROM Msvm_AffectedJobElement") == [] and sim.jobs() == []
