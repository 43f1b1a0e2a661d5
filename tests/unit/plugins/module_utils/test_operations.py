"""start_all: every call made once, at most max_concurrent in flight, each answer read, a lost host stops the rest."""

from __future__ import annotations

import itertools
import threading

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils import operations
from ansible_collections.hyperv.replica.plugins.module_utils.cim import Instance, MethodResult, Reference
from ansible_collections.hyperv.replica.plugins.module_utils.wsman import WSManFault, WSManTransportError

SERVICE = Reference.to("Msvm_ReplicationService", Name="vmms")


def job(job_id):
    return Reference.to("Msvm_ConcreteJob", InstanceID=job_id)


class Host:
    """A CIM client whose invoke answers from ``answers`` (VM label -> MethodResult, exception, or a list of them
    for successive calls), counting how many calls are in flight at once. ``hold`` keeps each call in flight until
    enough calls have arrived. ``states`` and ``jobs`` are what the VMs show when read again (probe.look)."""

    def __init__(self, answers=None, hold=0, states=None, jobs=None):
        self.answers = answers or {}
        self.states = states or {}
        self.jobs = jobs or {}
        self.calls = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.arrived = threading.Barrier(hold) if hold else None

    def invoke(self, reference, method, params):
        label = params["ComputerSystem"]
        with self.lock:
            self.calls.append((reference, method, label))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.arrived is not None:
                self.arrived.wait(timeout=10)
            answer = self.answers.get(label, MethodResult(4096, {"Job": job("job-" + label)}))
            if isinstance(answer, list):
                answer = answer.pop(0) if len(answer) > 1 else answer[0]
            if isinstance(answer, Exception):
                raise answer
            return answer
        finally:
            with self.lock:
                self.in_flight -= 1

    def get(self, reference):
        # The probe reads the VM by the reference the call was made with: here, its label.
        return Instance("Msvm_ComputerSystem", {"ReplicationState": self.states.get(reference, 3)})

    def query(self, wql):
        return [Instance("Msvm_ConcreteJob", j) for label, found in self.jobs.items() if '"%s"' % label in wql
                for j in found]


class Label(str):
    """A VM label that also serves as the VM's reference, as the probe needs one."""

    @property
    def selectors(self):
        return (("CreationClassName", "Msvm_ComputerSystem"), ("Name", str(self)))


def calls(count):
    return [operations.Start(label="vm%02d" % i, method="InitiateFailover", params={"ComputerSystem": Label("vm%02d" % i)},
                             state="Replicating", done_state=5, job_type=97) for i in range(count)]


def ticking_clock():
    counter = itertools.count()
    lock = threading.Lock()

    def elapsed():
        with lock:
            return float(next(counter))

    return elapsed


@pytest.mark.parametrize("count, max_concurrent, expected", [(20, 4, 4), (3, 8, 3), (5, 1, 1)])
def test_every_call_is_made_once_with_at_most_max_concurrent_in_flight(count, max_concurrent, expected):
    host = Host(hold=expected if expected > 1 else 0)
    todo = calls(count)
    operations.start_all(host, SERVICE, todo, max_concurrent, ticking_clock())
    assert sorted(label for ref, method, label in host.calls) == sorted(c.label for c in todo)
    assert all(ref == SERVICE and method == "InitiateFailover" for ref, method, label in host.calls)
    # The barrier only opens when `expected` calls are in flight together, so reaching the end proves they were.
    assert host.most_in_flight == expected
    assert [c.job_id for c in todo] == ["JOB-" + c.label.upper() for c in todo]
    assert all(c.queued_at <= c.invoked_at < c.answered_at and not c.error and c.accepted for c in todo)
    assert len({c.queued_at for c in todo}) == 1


def test_each_answer_is_read():
    host = Host({"vm00": MethodResult(0, {}), "vm01": MethodResult(32775, {}), "vm02": MethodResult(4096, {}),
                 "vm03": WSManFault("Access is denied.", http_status=500, subcode="w:AccessDenied")})
    todo = calls(4)
    operations.start_all(host, SERVICE, todo, 4, ticking_clock())
    assert todo[0].done and todo[0].accepted and not todo[0].job_id and not todo[0].error
    assert "refused by the host: Invalid state for this operation (32775); the VM is Replicating" in todo[1].error
    assert not todo[1].accepted
    assert "started a job but returned no Job reference" in todo[2].error
    assert todo[2].accepted  # the host did start it: the VM changed even though the job cannot be followed
    assert todo[3].error.startswith("InitiateFailover on VM vm03 failed: Access is denied.")


def test_a_lost_answer_with_no_trace_on_the_vm_is_sent_once_more():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    host = Host({"vm01": [reset, MethodResult(4096, {"Job": job("job-again")})]})
    todo = calls(3)
    operations.start_all(host, SERVICE, todo, 1, ticking_clock())
    assert [label for ref, method, label in host.calls] == ["vm00", "vm01", "vm01", "vm02"]
    assert todo[1].job_id == "JOB-AGAIN" and todo[1].sent == 2 and not todo[1].error


def test_a_lost_answer_after_the_host_acted_follows_its_job_and_never_sends_again():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    running = {"InstanceID": "job-started", "JobType": 97, "JobState": 4, "PercentComplete": 10}
    host = Host({"vm01": reset}, states={"vm01": 12}, jobs={"vm01": [running]})
    todo = calls(2)
    operations.start_all(host, SERVICE, todo, 1, ticking_clock())
    assert [label for ref, method, label in host.calls] == ["vm00", "vm01"]
    assert todo[1].job_id == "JOB-STARTED" and todo[1].accepted and todo[1].sent == 1 and not todo[1].error
    assert "answer was lost" in todo[1].note


def test_a_lost_answer_with_the_work_done_is_done():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    host = Host({"vm00": reset}, states={"vm00": 5})
    (call,) = calls(1)
    operations.start_all(host, SERVICE, [call], 1, ticking_clock())
    assert call.done and call.accepted and not call.error and call.sent == 1


def test_an_older_finished_job_is_not_taken_for_ours():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    old = {"InstanceID": "old-job", "JobType": 97, "JobState": 7}
    host = Host({"vm00": [reset, MethodResult(4096, {"Job": job("new-job")})]}, jobs={"vm00": [old]})
    (call,) = calls(1)
    operations.start_all(host, SERVICE, [call], 1, ticking_clock(), known_jobs=frozenset({"OLD-JOB"}))
    assert call.job_id == "NEW-JOB" and call.sent == 2


def test_two_lost_answers_stop_the_calls_not_yet_sent():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    host = Host({"vm01": reset})
    todo = calls(4)
    operations.start_all(host, SERVICE, todo, 1, ticking_clock())
    assert [label for ref, method, label in host.calls] == ["vm00", "vm01", "vm01"]
    assert "got no answer twice, and the VM shows no sign of it" in todo[1].error
    for call in todo[2:]:
        assert call.error == "InitiateFailover on VM %s was not started: cannot reach the WinRM host: reset" % call.label
        assert call.invoked_at is None and not call.accepted


def test_a_refusal_caused_by_another_run_says_so():
    running = {"InstanceID": "their-job", "JobType": 97, "JobState": 4, "PercentComplete": 40}
    host = Host({"vm00": MethodResult(32774, {}), "vm01": MethodResult(32775, {})}, states={"vm00": 12, "vm01": 5},
                jobs={"vm00": [running]})
    todo = calls(2)
    operations.start_all(host, SERVICE, todo, 1, ticking_clock())
    assert "another operation is running on it (job their-job, Running, 40% complete)" in todo[0].error
    assert not todo[1].error and not todo[1].accepted and "already is where it would lead" in todo[1].note


def test_a_call_the_host_never_received_is_reported_not_started():
    refused = WSManTransportError("the WinRM host rejected the credentials (HTTP 401)", kind="auth", unsent=True)
    host = Host({"vm00": refused})
    todo = calls(3)
    operations.start_all(host, SERVICE, todo, 1, ticking_clock())
    assert [label for ref, method, label in host.calls] == ["vm00"]
    assert todo[0].error == "InitiateFailover on VM vm00 was not started: " + str(refused)
    assert all("was not started" in c.error and not c.accepted for c in todo)


def test_an_unexpected_error_stops_the_calls_not_yet_sent_and_is_reported():
    host = Host({"vm01": KeyError("not a host answer")})
    todo = calls(4)
    operations.start_all(host, SERVICE, todo, 1, ticking_clock())
    assert [label for ref, method, label in host.calls] == ["vm00", "vm01"]
    assert todo[0].job_id and not todo[0].error
    assert "internal error, whether it started is unknown: KeyError" in todo[1].error
    assert all("was not started: internal error (KeyError)" in c.error for c in todo[2:])
