"""The failover module with many VMs in one task: its load figures, its timings and its limits, as Ansible sees them."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.modules import failover
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.modules.modrun import run
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm

NAMES = ["vm%02d" % i for i in range(12)]


@pytest.fixture
def sim():
    hosts = simhost.Hosts()
    yield hosts.start([vm(name) for name in NAMES], job_seconds=0)  # real clock: jobs end at the first poll
    hosts.stop()


def test_one_task_reports_its_load_on_the_host(sim):
    done = run(failover, dict(simhost.params(sim), vms=NAMES, state="failed_over", max_concurrent=4,
                              poll_interval=0.01))
    assert not done.failed and done.result["changed"] is True
    stats = done.result["stats"]
    counters = sim.counters()
    assert stats["requests"] == counters["total"] and counters["Invoke:InitiateFailover"] == len(NAMES)
    assert 1 <= stats["sessions"] <= 4 and stats["polls"] >= 1 and stats["seconds"] > 0
    assert all(set(v["timings"]) == {"queued", "invoked", "job_started", "job_finished"} for v in done.result["vms"])
    again = run(failover, dict(simhost.params(sim), vms=NAMES, state="failed_over"))
    assert again.result["changed"] is False and again.result["stats"]["polls"] == 0
    assert again.result["stats"]["sessions"] == 1


@pytest.mark.parametrize("value", [0, 101])
def test_max_concurrent_out_of_range_fails_before_contacting_the_host(sim, value):
    done = run(failover, dict(simhost.params(sim), vms=NAMES, state="failed_over", max_concurrent=value))
    assert done.failed and done.result["msg"] == "max_concurrent must be between 1 and 100, got %d" % value
    assert sim.counters()["total"] == 0


def test_the_password_never_appears_in_a_result_or_warning(sim):
    secret = simhost.USER["password"]
    cases = [
        dict(simhost.params(sim), vms=NAMES[:2], state="failed_over", poll_interval=0.01),   # works
        dict(simhost.params(sim), vms=["nosuch"], state="failed_over"),                      # unknown VM
        dict(simhost.params(sim), vms=NAMES[:1], state="failed_over", port=1),               # unreachable
        dict(simhost.params(sim), vms=NAMES[:1], state="failed_over", username="nobody"),    # rejected
        dict(simhost.params(sim), vms=NAMES[:1], state="failed_over", transport="basic"),    # basic over http
    ]
    for args in cases:
        done = run(failover, args)
        assert secret not in repr(done.result), args


def test_a_hostile_answer_fails_the_task_with_a_message_not_a_traceback(sim):
    sim.add_fault(operation="Enumerate", body="dtd", count=1)
    done = run(failover, dict(simhost.params(sim), vms=NAMES[:1], state="failed_over"))
    assert done.failed and done.result["msg"].endswith("the WinRM response contains a DTD, which WS-Management "
                                                       "never sends; refused")


def test_an_account_without_hyperv_rights_is_told_why_it_sees_no_vm(sim):
    """WMI shows an account outside Hyper-V Administrators no VM at all, instead of refusing it: the message says so,
    and only then (a mistyped name on a host whose VMs are visible gets no such advice)."""
    outsider = dict(simhost.params(sim), username=simhost.OUTSIDER["username"], password=simhost.OUTSIDER["password"])
    done = run(failover, dict(outsider, vms=NAMES[:1], state="failed_over"))
    assert done.failed and "no VM named or with GUID 'vm00'" in done.result["msg"]
    assert "Hyper-V Administrators" in done.result["msg"] and "Invoke:InitiateFailover" not in sim.counters()
    typo = run(failover, dict(simhost.params(sim), vms=["vm-typo"], state="failed_over"))
    assert typo.failed and "Hyper-V Administrators" not in typo.result["msg"]


def test_a_running_failed_over_vm_reverted_reports_turned_off_and_the_diff_says_so(sim):
    sim.set_vm(NAMES[0], state="recovered", power="running")
    args = dict(simhost.params(sim), vms=NAMES[:1], state="reverted", poll_interval=0.01, _ansible_diff=True)
    checked = run(failover, args, check_mode=True)
    (vm,) = checked.result["vms"]
    assert (checked.result["changed"], vm["turned_off"], vm["operation"]) == (True, True, "RevertFailover")
    assert list(checked.result["diff"]["after"].values()) == ["Replicating (turned off)"]
    assert not any(k.startswith("Invoke") for k in sim.counters())
    done = run(failover, args)
    (vm,) = done.result["vms"]
    assert not done.failed and (vm["turned_off"], vm["state_after"], vm["resumed_replication"]) == (
        True, "Replicating", False)


def test_msg_is_a_summary_however_many_vms_fail(sim):
    """Ten refused VMs: msg gives the counts and the first error once; each VM keeps its own error in vms[]."""
    for name in NAMES[:10]:
        sim.set_vm(name, mode="primary")
    sim.set_vm(NAMES[10], state="recovered")
    done = run(failover, dict(simhost.params(sim), vms=NAMES, state="failed_over", poll_interval=0.01))
    msg, vms = done.result["msg"], done.result["vms"]
    assert done.failed and msg.startswith("10 of 12 VMs failed (1 failed over, 1 already were); the first: VM ")
    assert msg.endswith("; the error of each VM is in vms[].error")
    first = next(v["error"] for v in vms if v["error"])
    assert first in msg and sum(1 for v in vms if v["error"] and v["error"] in msg) == 1
    assert len(msg) < 2 * len(first)


def test_msg_of_one_failed_vm_is_its_error(sim):
    sim.set_vm(NAMES[0], mode="primary")
    done = run(failover, dict(simhost.params(sim), vms=NAMES[:2], state="failed_over", poll_interval=0.01))
    error = done.result["vms"][0]["error"]
    assert done.failed and done.result["msg"] == "1 of 2 VMs failed (1 failed over, 0 already were): " + error


def test_a_missing_hostname_says_where_it_comes_from_before_contacting_anything(sim, monkeypatch):
    monkeypatch.delenv("HYPERV_HOST", raising=False)
    args = {key: value for key, value in simhost.params(sim).items() if key != "hostname"}
    done = run(failover, dict(args, vms=NAMES[:1], state="failed_over"))
    assert done.failed and done.result["msg"].startswith("hostname is missing: run the task on an inventory host")
    assert "winrm or psrp" in done.result["msg"] and "HYPERV_HOST" in done.result["msg"]
    assert sim.counters()["total"] == 0
