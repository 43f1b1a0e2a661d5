"""FailoverRun against the simulator in-process: the simulator's manual clock is the waiter's clock, so
jobs progress only when the waiter pauses and no test sleeps."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils import connection
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import operations
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.failover import FailoverRun, Request
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import INITIATE_FAILOVER
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VmLookupError, find_vms
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManError, WSManProtocolError
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm as replica


@pytest.fixture
def host():
    hosts = simhost.Hosts()
    yield hosts.start
    hosts.stop()


def converge(sim, vms, desired="failed_over", timeout=60.0, interval=1.0, **request):
    waiter = simhost.waiter(sim, timeout, interval)
    results = FailoverRun(simhost.cim_client(sim), waiter).run(Request(vms=vms, desired=desired, **request))
    return [r.as_dict() for r in results]


def test_many_vms_start_concurrently_on_a_bounded_number_of_sessions(host):
    names = ["vm%02d" % i for i in range(50)]
    sim = host([replica(n) for n in names])
    host_connection = connection.Connection(simhost.params(sim), max_concurrent=6)
    waiter = simhost.waiter(sim)
    run = FailoverRun(host_connection.cim, waiter)
    results = [r.as_dict(waiter.timestamp) for r in run.run(Request(vms=names, desired="failed_over",
                                                                    max_concurrent=6))]
    assert [(r["name"], r["state_after"], r["error"]) for r in results] == [(n, "Recovered", None) for n in names]
    assert all(vm["state"] == 5 for vm in sim.vms())
    pool = host_connection.pool
    counters = sim.counters()
    assert counters["Invoke:InitiateFailover"] == 50 and pool.requests == counters["total"]
    # Sequential work reuses one session; the calls open more only while all are busy, never more than six.
    assert 1 < pool.opened <= 6
    for result in results:
        timings = result["timings"]
        assert None not in timings.values()
        assert timings["queued"] <= timings["invoked"] <= timings["job_started"] <= timings["job_finished"]
    assert run.polls >= 1


def test_max_concurrent_is_bounded(host):
    sim = host([replica("a")])
    for bad in (0, connection.MAX_CONCURRENT_LIMIT + 1):
        with pytest.raises(connection.ConnectionOptionsError, match="max_concurrent must be between 1 and 100"):
            connection.Connection(simhost.params(sim), bad)


def state(sim, name):
    return next(vm for vm in sim.vms() if vm["name"] == name)


def test_failover_waits_for_jobs_and_reads_back(host):
    sim = host([replica("a"), replica("b", job_seconds=5)])
    results = converge(sim, ["a", "b"])
    assert [(r["changed"], r["state_after"], r["job_state"], r["error"]) for r in results] == [
        (True, "Recovered", "Completed", None), (True, "Recovered", "Completed", None)]
    # Seconds are the simulator's: a 3 s and a 5 s job, polled every second.
    assert 3 <= results[0]["seconds_waited"] <= 4 and 5 <= results[1]["seconds_waited"] <= 6
    assert state(sim, "a")["state"] == 5 and state(sim, "b")["state"] == 5


def test_wait_timeout_reports_in_progress_and_leaves_the_job(host):
    sim = host([replica("slow", job_seconds=100)])
    (result,) = converge(sim, ["slow"], timeout=10, interval=2)
    assert result["changed"] is True
    assert result["job_state"] in ("New", "Starting", "Running") and result["state_after"] != "Recovered"
    assert "still in progress" in result["error"] and result["job_id"] in result["error"]
    assert "'slow'" in result["error"] and "wait_timeout" in result["error"]
    job = next(j for j in sim.jobs() if j["id"].upper() == result["job_id"].upper()) if sim.jobs() else None
    assert job is not None  # left alone, not cancelled
    sim.advance_clock(100)
    assert state(sim, "slow")["state"] == 5


def test_no_wait_returns_the_job(host):
    sim = host([replica("a")])
    (result,) = converge(sim, ["a"], wait=False)
    assert result["changed"] and result["job_id"] and result["error"] is None and result["seconds_waited"] is None


def test_a_job_removed_before_it_was_seen_is_judged_by_the_vm_state(host):
    sim = host([replica("a", job_seconds=1)], time_before_removal=0)
    (result,) = converge(sim, ["a"], interval=5)
    assert result["job_state"] == "Removed"
    assert result["state_after"] == "Recovered" and result["error"] is None


def test_one_fault_does_not_stop_the_others(host):
    sim = host([replica("a"), replica("b"), replica("c")])
    sim.inject_fault("Invoke:InitiateFailover", "InternalError", count=1)
    results = converge(sim, ["a", "b", "c"])
    assert "InitiateFailover on VM 'a'" in results[0]["error"] and not results[0]["changed"]
    assert [r["state_after"] for r in results[1:]] == ["Recovered", "Recovered"]
    assert state(sim, "a")["state"] == 3


def test_job_failure_is_reported_with_windows_text(host):
    sim = host([replica("bad", fail_jobs=True), replica("good")])
    bad, good = converge(sim, ["bad", "good"])
    assert bad["job_state"] == "Exception" and "ErrorCode" in bad["error"] and "'bad'" in bad["error"]
    assert good["error"] is None and good["state_after"] == "Recovered"


def test_polls_do_not_grow_with_the_number_of_vms(host):
    counts = {}
    for n in (1, 20, 40):
        sim = host([replica("vm%02d" % i) for i in range(n)])
        converge(sim, ["vm%02d" % i for i in range(n)])
        c = sim.counters()
        counts[n] = c.get("Enumerate", 0) + c.get("Pull", 0)
        assert c["Invoke:InitiateFailover"] == n
    # One lookup, one service query, one query per poll tick, one read-back, whatever the number of VMs.
    # A query answering more than one row costs an Enumerate and a Pull (Windows sends one row first).
    assert counts[40] == counts[20] <= 2 * counts[1]


def test_recovery_point_by_name_and_id_and_its_errors(host):
    sim = host([replica("a", recovery_points=[{"type": "standard", "created": "-1h", "name": "a-std"},
                                              {"type": "application_consistent", "created": "-2h", "name": "a-app"}]),
                replica("b", recovery_points=[{"type": "standard", "created": "-1h", "name": "b-std"}])])
    (by_name,) = converge(sim, ["a"], recovery_point="a-app")
    point = by_name["recovery_point"]
    assert point["name"] == "a-app" and point["type"] == "application_consistent"
    assert state(sim, "a")["failed_over_type"] == 2
    converge(sim, ["a"], desired="reverted")
    (by_id,) = converge(sim, ["a"], recovery_point=point["id"].lower())
    assert by_id["recovery_point"]["id"] == point["id"] and by_id["state_after"] == "Recovered"
    (other,) = converge(sim, ["b"], recovery_point=point["id"])  # a's point is not b's
    assert "'b'" in other["error"] and "no recovery point" in other["error"] and "b-std" in other["error"]
    assert other["changed"] is False and state(sim, "b")["state"] == 3


def test_check_mode_reads_but_never_invokes(host):
    sim = host([replica("a")])
    (result,) = converge(sim, ["a"], check_mode=True)
    assert result["changed"] and result["state_after"] == "Recovered"
    assert not any(k.startswith("Invoke") for k in sim.counters()) and state(sim, "a")["state"] == 3


def test_lookup_errors_list_everything(host):
    sim = host([replica("dup"), replica("dup"), replica("x")])
    with pytest.raises(VmLookupError) as info:
        converge(sim, ["dup", "ghost", "X"])
    text = str(info.value)
    assert "'ghost'" in text and "matches 2 VMs" in text
    assert all(vm["id"] in text for vm in sim.vms() if vm["name"] == "dup")
    assert not any(k.startswith("Invoke") for k in sim.counters())


def test_rerun_while_the_job_still_runs_follows_it_and_says_when_it_outlasts_the_wait(host):
    sim = host([replica("slow", job_seconds=100)])
    (first,) = converge(sim, ["slow"], timeout=4, interval=2)
    (again,) = converge(sim, ["slow"], timeout=4, interval=2)
    assert state(sim, "slow")["state"] == 12 and again["job_id"] == first["job_id"]
    assert "'slow'" in again["error"] and "still in progress" in again["error"] and "wait_timeout" in again["error"]
    assert "needs Replicating" not in again["error"] and again["changed"] is False
    assert len(acted(sim, "Invoke:InitiateFailover", "slow")) == 1   # followed, not called again
    sim.advance_clock(100)
    (done,) = converge(sim, ["slow"])
    assert done["changed"] is False and done["error"] is None and done["state_after"] == "Recovered"


def acted(sim, operation, vm_name):
    """Requests of an operation on a VM that reached the host and took effect (a drop *after* acting counts)."""
    return [r for r in sim.requests() if r["operation"] == operation and r["vm"] == vm_name
            and r["outcome"] not in ("dropped-before", "http500")]


def test_an_answer_lost_after_the_host_acted_is_followed_not_repeated(host):
    sim = host([replica("a"), replica("b")])
    sim.add_fault(operation="Invoke:InitiateFailover", vm="a", drop="after", count=1)
    results = converge(sim, ["a", "b"])
    assert [(r["state_after"], r["error"]) for r in results] == [("Recovered", None), ("Recovered", None)]
    assert len(acted(sim, "Invoke:InitiateFailover", "a")) == 1
    assert sim.counters()["Invoke:InitiateFailover Msvm_ReplicationService"] == 2  # one per VM, none repeated


def test_an_answer_lost_before_the_host_acted_is_sent_once_more(host):
    sim = host([replica("a")])
    sim.add_fault(operation="Invoke:InitiateFailover", vm="a", drop="before", count=1)
    (result,) = converge(sim, ["a"])
    assert (result["state_after"], result["error"]) == ("Recovered", None)
    outcomes = [r["outcome"] for r in sim.requests() if r["operation"] == "Invoke:InitiateFailover"]
    assert outcomes[0] == "dropped-before" and len(acted(sim, "Invoke:InitiateFailover", "a")) == 1


def test_a_second_run_reports_the_first_runs_work_instead_of_repeating_it(host):
    sim = host([replica("a", job_seconds=30)])
    (first,) = converge(sim, ["a"], wait=False)
    assert first["changed"] is True and first["job_id"]
    (second,) = converge(sim, ["a"])   # the first run's job is followed to its end, not called again
    assert (second["changed"], second["error"], second["state_after"]) == (False, None, "Recovered")
    assert second["job_id"] == first["job_id"]
    (third,) = converge(sim, ["a"])
    assert (third["changed"], third["error"], third["state_after"]) == (False, None, "Recovered")
    assert len(acted(sim, "Invoke:InitiateFailover", "a")) == 1


@pytest.mark.parametrize("fault", [{"operation": "Enumerate", "fault": "http500"},
                                   {"operation": "Enumerate", "drop": "before"},
                                   {"operation": "Pull", "fault": "TimedOut"},
                                   {"operation": "Enumerate", "fault": "InternalError"}])
def test_reads_are_retried_on_what_may_pass_and_only_that(host, fault):
    sim = host([replica("a"), replica("b")])
    sim.add_fault(count=2, **fault)
    if fault.get("fault") == "InternalError":
        with pytest.raises(WSManError):
            converge(sim, ["a", "b"])
        # Not a fault that passes: one Enumerate, no second try, and nothing started.
        assert sim.counters()["Enumerate"] == 1 and "Invoke:InitiateFailover" not in sim.counters()
        return
    results = converge(sim, ["a", "b"])
    assert [(r["state_after"], r["error"]) for r in results] == [("Recovered", None), ("Recovered", None)]


def test_a_call_racing_another_runs_job_follows_that_job(host):
    """Two runs that both saw the VM Replicating: the second one's call meets the first one's job, heading where it
    would lead, and follows it instead of failing (a job heading elsewhere: test_operations)."""
    sim = host([replica("a", job_seconds=30)])
    (first,) = converge(sim, ["a"], wait=False)
    cim = simhost.cim_client(sim)
    vm = next(v for v in find_vms(cim, ["a"]))
    call = operations.Call(INITIATE_FAILOVER, vm)
    operations.start_all(cim, [call], 1, lambda: 0.0)
    assert not call.accepted and call.followed and call.job.id == first["job_id"].upper() and not call.error
    assert "followed to its end" in call.note and first["job_id"].upper() in call.note
    # The refused call reached the host but started nothing: the VM has exactly one failover job.
    assert [j["type"] for j in sim.jobs() if j["vm"] == vm.id] == [97]


@pytest.mark.parametrize("kind, match", [("dtd", "DTD"), ("external_entity", "DTD"), ("huge", "far above"),
                                         ("truncated", "well-formed"), ("wrong_namespace", "SOAP 1.2")])
def test_a_hostile_answer_is_a_clear_error_and_nothing_starts(host, kind, match):
    sim = host([replica("a")])
    sim.add_fault(operation="Enumerate", body=kind, count=1)
    with pytest.raises(WSManProtocolError, match=match):
        converge(sim, ["a"])
    assert "Invoke:InitiateFailover" not in sim.counters() and state(sim, "a")["state"] == 3


def test_an_unreadable_answer_to_a_call_is_settled_like_a_lost_one(host):
    sim = host([replica("a")])
    sim.add_fault(operation="Invoke:InitiateFailover", vm="a", body="truncated", count=1)
    (result,) = converge(sim, ["a"])
    assert (result["state_after"], result["error"]) == ("Recovered", None)
    outcomes = [r["outcome"] for r in sim.requests() if r["operation"] == "Invoke:InitiateFailover"]
    assert outcomes == ["hostile-truncated", "ok"]


# ---- as the cmdlets do (docs/failover-decisions.md), end to end against the simulator


def test_a_running_or_paused_failed_over_vm_is_turned_off_then_reverted_and_a_saved_one_reverted_as_is(host):
    sim = host([replica("run", state="recovered", power="running"), replica("pause", state="recovered", power="paused"),
                replica("saved", state="recovered", power="saved"),
                replica("bystander", state="recovered", power="running")])
    results = converge(sim, ["run", "pause", "saved"], desired="reverted")
    assert [(r["name"], r["turned_off"], r["state_after"], r["error"]) for r in results] == [
        ("run", True, "Replicating", None), ("pause", True, "Replicating", None), ("saved", False, "Replicating", None)]
    assert [(state(sim, n)["power"], state(sim, n)["state"]) for n in ("run", "pause", "saved")] == [
        (3, 3), (3, 3), (6, 3)]
    # The VM nobody named is left running and failed over: the collection powers off only what it was asked to.
    assert (state(sim, "bystander")["power"], state(sim, "bystander")["state"]) == (2, 5)
    turned_off = [r["vm"] for r in sim.requests() if r["operation"] == "Invoke:RequestStateChange"]
    assert sorted(turned_off) == ["pause", "run"]


def test_check_mode_says_a_running_vm_would_be_turned_off_and_does_nothing(host):
    sim = host([replica("run", state="recovered", power="running")])
    (result,) = converge(sim, ["run"], desired="reverted", check_mode=True)
    assert (result["changed"], result["turned_off"], result["state_after"]) == (True, True, "Replicating")
    assert not any(k.startswith("Invoke") for k in sim.counters())
    assert (state(sim, "run")["power"], state(sim, "run")["state"]) == (2, 5)


def test_a_turn_off_that_fails_stops_that_vms_revert(host):
    sim = host([replica("a", state="recovered", power="running"), replica("b", state="recovered", power="running")])
    sim.add_fault(operation="Invoke:RequestStateChange", vm="a", job="exception", count=1)
    a, b = converge(sim, ["a", "b"], desired="reverted")
    assert "RequestStateChange on VM 'a'" in a["error"] and "failed" in a["error"] and a["turned_off"] is False
    assert (b["error"], b["turned_off"], b["state_after"]) == (None, True, "Replicating")
    assert [r["vm"] for r in sim.requests() if r["operation"] == "Invoke:RevertFailover"] == ["b"]
    assert (state(sim, "a")["power"], state(sim, "a")["state"]) == (2, 5)


def test_a_lost_turn_off_answer_is_settled_and_the_revert_goes_on(host):
    sim = host([replica("a", state="recovered", power="running")])
    sim.add_fault(operation="Invoke:RequestStateChange", vm="a", drop="after", count=1)
    (result,) = converge(sim, ["a"], desired="reverted")
    assert (result["error"], result["turned_off"], result["state_after"]) == (None, True, "Replicating")
    assert len(acted(sim, "Invoke:RequestStateChange", "a")) == 1 and len(acted(sim, "Invoke:RevertFailover", "a")) == 1


def test_failover_from_disk_update_in_progress_and_revert_of_a_failover_left_half_way(host):
    sim = host([replica("disk", state=15), replica("half", state=12)])
    (disk,) = converge(sim, ["disk"])
    assert (disk["changed"], disk["operation"], disk["state_after"]) == (True, "InitiateFailover", "Recovered")
    (half,) = converge(sim, ["half"], desired="reverted")
    assert (half["changed"], half["operation"], half["state_after"]) == (True, "RevertFailover", "Replicating")


def test_a_suspended_replica_is_resumed_first_only_when_asked(host):
    sim = host([replica("paused", state="suspended"), replica("resync", state=10)])
    refused = converge(sim, ["paused", "resync"])
    assert all("resume_replication=true" in r["error"] and r["changed"] is False for r in refused)
    assert not any(k.startswith("Invoke") for k in sim.counters())
    done = converge(sim, ["paused", "resync"], resume_replication=True)
    assert [(r["resumed_replication"], r["operation"], r["state_after"], r["error"]) for r in done] == [
        (True, "InitiateFailover", "Recovered", None)] * 2
    assert sim.counters()["Invoke:RequestReplicationStateChange"] == 2


def test_a_host_lost_between_the_turn_off_and_the_revert_says_which_step_was_not_sent(host):
    """The turn-off did its work; then the host stopped answering before the revert could be sent: the VM's error says
    the revert was not started (and that the turn-off was done), not that the turn-off's outcome is unknown."""
    sim = host([replica("a", state="recovered", power="running")])
    cim = simhost.cim_client(sim)
    real = cim.query_references
    lookups = []

    def flaky(wql):
        lookups.append(wql)
        if len(lookups) == 1:  # the revert's service lookup (the turn-off is invoked on the VM itself)
            raise WSManError("cannot reach the WinRM host: connection refused")
        return real(wql)

    cim.query_references = flaky
    (result,) = [r.as_dict() for r in FailoverRun(cim, simhost.waiter(sim)).run(Request(vms=["a"], desired="reverted"))]
    assert result["error"].startswith("RevertFailover on VM 'a'") and "was not started (RequestStateChange had done" \
        in result["error"] and result["changed"] is True and result["turned_off"] is True
    assert (state(sim, "a")["power"], state(sim, "a")["state"]) == (3, 5)


def test_the_jobs_read_before_the_calls_are_those_of_the_calls_vms_only(host):
    """Windows keeps finished jobs for 5 minutes: what a run reads before its calls follows its own VMs, through
    Msvm_AffectedJobElement, whatever else the host holds."""
    from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import jobs  # pylint: disable=import-outside-toplevel
    sim = host([replica("a"), replica("b"), replica("c")])
    converge(sim, ["a", "b", "c"])
    cim = simhost.cim_client(sim)
    by_name = {vm.name: vm.id for vm in find_vms(cim, ["a", "b", "c"])}
    theirs = {j["id"].upper(): j["vm"] for j in sim.jobs()}
    sim.clear_requests()
    known = jobs.existing_ids(cim, [by_name["a"], by_name["c"]])
    assert {theirs[job_id] for job_id in known} == {by_name["a"], by_name["c"]} and len(known) == 2
    assert {r["class"] for r in sim.requests()} == {"Msvm_AffectedJobElement"}


def patient_run(sim, vms, desired="failed_over", timeout=900.0):
    """A run with the module's policy: reads and lost calls tried again until wait_timeout, pauses on the
    simulator's clock (so nothing sleeps)."""
    from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry  # pylint: disable=import-outside-toplevel
    waiter = simhost.waiter(sim, timeout)
    retry = Retry(attempts=None, budget=waiter.remaining, sleep=sim.clock.advance)
    cim = connection.Connection(simhost.params(sim), max_concurrent=4, retry=retry).cim
    return [r.as_dict() for r in FailoverRun(cim, waiter).run(Request(vms=vms, desired=desired, max_concurrent=4))]


def test_a_timed_out_call_is_settled_like_a_lost_answer(host):
    """w:TimedOut answering RevertFailover leaves its outcome unknown: the VM is read, and the call followed or sent
    again, never left failed over."""
    sim = host([replica("a", state="recovered"), replica("b", state="recovered")])
    sim.add_fault(operation="Invoke:RevertFailover", vm="a", fault="TimedOut", count=1)
    results = patient_run(sim, ["a", "b"], desired="reverted")
    assert [(r["state_after"], r["error"]) for r in results] == [("Replicating", None)] * 2
    # The host refused the timed-out request before acting (the simulator's fault comes first), so the VM showed no
    # trace and the call was sent once more: one revert job on the VM, never two.
    vm_a = next(v["id"] for v in sim.vms() if v["name"] == "a")
    assert [j["type"] for j in sim.jobs() if j["vm"] == vm_a] == [98]


@pytest.mark.parametrize("operation, fault", [("Invoke:RevertFailover", {"drop": "before"}),
                                              ("Invoke:RevertFailover", {"fault": "http500"}),
                                              ("Enumerate", {"drop": "before"}),
                                              ("Enumerate", {"fault": "http500"})])
def test_faults_in_a_row_are_waited_out_within_wait_timeout(host, operation, fault):
    """Six failures in a row (a drill used to give up after the fourth): with time left, the run goes on, and every
    VM ends where it was asked to be, each call having acted once."""
    sim = host([replica("a", state="recovered"), replica("b", state="recovered")])
    results = patient_run(sim, ["a", "b"])  # nothing to do: the lookups only, so the host has answered once
    sim.add_fault(operation=operation, count=6, **fault)
    results = patient_run(sim, ["a", "b"], desired="reverted")
    assert [(r["state_after"], r["error"]) for r in results] == [("Replicating", None)] * 2
    assert all(len(acted(sim, "Invoke:RevertFailover", name)) == 1 for name in ("a", "b"))


@pytest.mark.parametrize("desired, start", [("failed_over", {}), ("reverted", {"state": "recovered"}),
                                            ("reverted", {"state": "recovered", "power": "running"})])
def test_two_runs_at_once_on_the_same_vms_both_end_with_the_host_as_asked(host, desired, start):
    """Two operators (or a retried CI job) run the same task together: each VM is acted on once, the other run
    follows that job, and neither reports a failed VM."""
    import threading  # pylint: disable=import-outside-toplevel
    names = ["vm%02d" % i for i in range(8)]
    sim = host([replica(n, job_seconds=5, **start) for n in names])
    outcomes = {}

    def run(key):
        outcomes[key] = patient_run(sim, names, desired=desired, timeout=300)

    threads = [threading.Thread(target=run, args=(key,)) for key in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    wanted = 5 if desired == "failed_over" else 3
    assert all(v["state"] == wanted and v["power"] == 3 for v in sim.vms())
    assert [r["error"] for key in ("one", "two") for r in outcomes[key]] == [None] * 16
    # One job of the operation per VM: the host did each VM's work once (a call of the second run may reach the
    # host and be refused, 32774, once: it is then following the first run's job, never sent again).
    main = 97 if desired == "failed_over" else 98
    jobs_of = {vm["id"]: vm["name"] for vm in sim.vms()}
    done = sorted(jobs_of[j["vm"]] for j in sim.jobs() if j["type"] == main)
    assert done == names
