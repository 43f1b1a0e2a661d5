"""start_all: every call made once, at most max_concurrent in flight, each answer read, a lost host stops the rest."""

from __future__ import annotations

import itertools
import threading

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils import operations
from ansible_collections.hyperv.replica.plugins.module_utils.cim import MethodResult, Reference
from ansible_collections.hyperv.replica.plugins.module_utils.wsman import WSManFault, WSManTransportError

SERVICE = Reference.to("Msvm_ReplicationService", Name="vmms")


def job(job_id):
    return Reference.to("Msvm_ConcreteJob", InstanceID=job_id)


class Host:
    """A CIM client whose invoke answers from ``answers`` (VM label -> MethodResult or exception), counting how
    many calls are in flight at once. ``hold`` keeps each call in flight until enough calls have arrived."""

    def __init__(self, answers=None, hold=0):
        self.answers = answers or {}
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
            if isinstance(answer, Exception):
                raise answer
            return answer
        finally:
            with self.lock:
                self.in_flight -= 1


def calls(count):
    return [operations.Start(label="vm%02d" % i, method="InitiateFailover", params={"ComputerSystem": "vm%02d" % i},
                             state="Replicating") for i in range(count)]


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


def test_after_a_call_gets_no_answer_the_calls_not_yet_sent_are_not_started():
    host = Host({"vm01": WSManTransportError("cannot reach the WinRM host: reset", kind="connection")})
    todo = calls(4)
    operations.start_all(host, SERVICE, todo, 1, ticking_clock())
    assert [label for ref, method, label in host.calls] == ["vm00", "vm01"]
    assert todo[0].job_id and not todo[0].error
    assert "got no answer, so whether it started is unknown" in todo[1].error
    for call in todo[2:]:
        assert call.error == "InitiateFailover on VM %s was not started: cannot reach the WinRM host: reset" % call.label
        assert call.invoked_at is None and not call.accepted


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
