"""start_all: any method of the table on any target, every call made once, at most max_concurrent in flight, each
answer read with every output, a lost answer settled from the method's entry, a lost host stops the rest."""

from __future__ import annotations

import itertools
import threading

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import MethodResult
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance, Reference
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import operations
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import (
    COMPONENT, INITIATE_FAILOVER, JOB, SYSTEM, Method, Param, power)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManError, WSManFault, WSManTransportError

SERVICE = Reference.to("Msvm_ReplicationService", Name="replicasvc")


def job(job_id):
    return Reference.to("Msvm_ConcreteJob", InstanceID=job_id)


def guid(name):
    """A VM GUID made from a name vmNN (the lookups keep only VMs whose Name is a GUID, as Windows' are)."""
    return "00000000-0000-4000-8000-%012d" % int(name[2:])


def name_of(vm_id):
    return "vm%02d" % int(vm_id[-12:])


def machine(name, state=3, power_state=3):
    return VM(id=guid(name), name=name, mode=2, state=state, power=power_state, health=1)


class Host:
    """A CIM client whose invoke answers from ``answers`` (VM name -> MethodResult, exception, or a list of them
    for successive calls), counting how many calls are in flight at once. ``hold`` keeps each call in flight until
    enough calls have arrived. ``states`` and ``jobs`` are what the VMs show when read again (probe.look);
    ``components`` the VM names that have a Msvm_ShutdownComponent."""

    def __init__(self, answers=None, hold=0, states=None, jobs=None, components=(), tries=2):
        # The policy that paces a call sent again after a lost answer: ``tries`` sends at most, no real pause.
        self.retry = Retry(attempts=tries, base=0.0, sleep=lambda _seconds: None)
        self.answers = answers or {}
        self.states = states or {}
        self.jobs = jobs or {}
        self.components = components
        self.calls = []
        self.queries = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.lock = threading.Lock()
        self.arrived = threading.Barrier(hold) if hold else None

    def invoke(self, reference, method, params, output_types=None):
        name = self._name(params.get("ComputerSystem") or reference)
        with self.lock:
            self.calls.append((reference, method, name, params, output_types))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.arrived is not None:
                self.arrived.wait(timeout=10)
            answer = self.answers.get(name, MethodResult(4096, {"Job": job("job-" + name)}))
            if isinstance(answer, list):
                answer = answer.pop(0) if len(answer) > 1 else answer[0]
            if isinstance(answer, Exception):
                raise answer
            return answer
        finally:
            with self.lock:
                self.in_flight -= 1

    @staticmethod
    def _name(reference):
        return name_of(reference.selector("Name") or reference.selector("SystemName") or "")

    def query_all(self, wqls):
        return [row for wql in wqls for row in self.query(wql)]

    def query_references(self, wql):
        self.queries.append(wql)
        if "Msvm_ShutdownComponent" in wql:
            return [Reference.to("Msvm_ShutdownComponent", SystemName=guid(name), DeviceID="shutdown")
                    for name in self.components if "'%s'" % guid(name) in wql]
        return [SERVICE]

    def query(self, wql):
        """The probe's reads: a VM (by Name), its relationships (none here), the jobs affecting it."""
        self.queries.append(wql)
        if "FROM Msvm_ComputerSystem" in wql:
            return [Instance("Msvm_ComputerSystem", {"Name": guid(name), "ElementName": name, "ReplicationMode": 2,
                                                     "ReplicationState": self.states.get(name, 3), "EnabledState": 3})
                    for name in ("vm%02d" % i for i in range(20)) if "'%s'" % guid(name) in wql]
        if "FROM Msvm_ReplicationRelationship" in wql:
            return []  # a host before 2012 R2: the VM's own copy of its state is what there is
        return [Instance("Msvm_ConcreteJob", j) for name, found in self.jobs.items() if '"%s"' % guid(name) in wql
                for j in found]


def affected(job_row):
    """The Msvm_AffectedJobElement row that links a job to its VM: only its job reference is read."""
    return Instance("Msvm_AffectedJobElement", {"AffectingElement": job(job_row["InstanceID"])})


def calls(count, method=INITIATE_FAILOVER):
    return [operations.Call(method, machine("vm%02d" % i)) for i in range(count)]


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
    operations.start_all(host, todo, max_concurrent, ticking_clock())
    assert sorted(name for ref, method, name, params, types in host.calls) == sorted(c.vm.name for c in todo)
    assert all(ref == SERVICE and method == "InitiateFailover" for ref, method, name, params, types in host.calls)
    # The barrier only opens when `expected` calls are in flight together, so reaching the end proves they were.
    assert host.most_in_flight == expected
    assert [c.job.id for c in todo] == ["JOB-" + c.vm.name.upper() for c in todo]
    assert all(c.queued_at <= c.invoked_at < c.answered_at and not c.error and c.accepted for c in todo)
    assert len({c.queued_at for c in todo}) == 1
    # The service is looked up once for the whole run, by its endpoint reference.
    assert sum(1 for q in host.queries if "Msvm_ReplicationService" in q) == 1


def test_the_vm_is_passed_as_the_methods_system_input_with_the_other_inputs():
    host = Host()
    point = Reference.to("Msvm_VirtualSystemSettingData", InstanceID="Microsoft:P1")
    call = operations.Call(INITIATE_FAILOVER, machine("vm00"), {"SnapshotSettingData": point})
    operations.start_all(host, [call], 1, ticking_clock())
    ((_ref, _method, _name, params, types),) = host.calls
    assert params == {"ComputerSystem": machine("vm00").reference(), "SnapshotSettingData": point}
    assert types == {"Job": "ref"}


def test_each_answer_is_read():
    host = Host({"vm00": MethodResult(0, {}), "vm01": MethodResult(32775, {}), "vm02": MethodResult(4096, {}),
                 "vm03": WSManFault("Access is denied.", http_status=500, subcode="w:AccessDenied")})
    todo = calls(4)
    operations.start_all(host, todo, 4, ticking_clock())
    assert todo[0].done and todo[0].accepted and not todo[0].job and not todo[0].error
    assert "refused by the host: Invalid state for this operation (32775); the VM is Replicating" in todo[1].error
    assert not todo[1].accepted
    assert "started a job but returned no Job reference" in todo[2].error
    assert todo[2].accepted  # the host did start it: the VM changed even though the job cannot be followed
    assert todo[3].error.startswith("InitiateFailover on VM %s failed: Access is denied." % todo[3].label)


def test_every_output_parameter_is_returned():
    resulting = Reference.to("Msvm_ComputerSystem", CreationClassName="Msvm_ComputerSystem", Name="TEST-VM")
    host = Host({"vm00": MethodResult(4096, {"Job": job("j1"), "ResultingSystem": resulting})})
    method = Method("TestReplicaSystem", "Msvm_ReplicationService", "service",
                    inputs=(Param("ComputerSystem", "ref"), Param("SnapshotSettingData", "ref")),
                    outputs=(Param("ResultingSystem", "ref"), JOB), job_types=frozenset({102}),
                    system_input="ComputerSystem")
    (call,) = calls(1, method)
    operations.start_all(host, [call], 1, ticking_clock())
    assert call.outputs == {"Job": job("j1"), "ResultingSystem": resulting} and call.job.id == "J1"
    assert host.calls[0][4] == {"ResultingSystem": "ref", "Job": "ref"}


def test_a_method_of_the_vm_itself_is_invoked_on_the_vm():
    host = Host()
    method = Method("RequestStateChange", "Msvm_ComputerSystem", SYSTEM, inputs=(Param("RequestedState", "uint16"),),
                    job_types=frozenset({12}), leads_to=power(2), check_with="Get-VM")
    (call,) = calls(1, method)
    call.inputs = {"RequestedState": 2}
    operations.start_all(host, [call], 1, ticking_clock())
    ((reference, name, _vm, params, _types),) = host.calls
    assert reference == call.vm.reference() and name == "RequestStateChange" and params == {"RequestedState": 2}
    assert not any("Msvm_ReplicationService" in q for q in host.queries)


def test_a_method_of_a_component_is_invoked_on_each_vms_component_and_a_vm_without_one_is_not_called():
    host = Host({"vm01": MethodResult(0, {})}, components=("vm00", "vm01"))
    method = Method("InitiateShutdown", "Msvm_ShutdownComponent", COMPONENT,
                    inputs=(Param("Force", "boolean"), Param("Reason", "string")), outputs=(), leads_to=power(3),
                    check_with="Get-VM")
    todo = calls(3, method)
    for call in todo:
        call.inputs = {"Force": False, "Reason": "DR drill"}
    operations.start_all(host, todo, 2, ticking_clock())
    # One query for every VM's component, then one call per VM that has one.
    assert sum(1 for q in host.queries if "Msvm_ShutdownComponent" in q) == 1
    assert sorted(ref.selector("SystemName") for ref, *_rest in host.calls) == [guid("vm00"), guid("vm01")]
    assert todo[1].done and not todo[1].error
    assert "was not started: the VM has no Msvm_ShutdownComponent" in todo[2].error and todo[2].sent == 0
    assert "'vm02'" in todo[2].error and todo[2].invoked_at is None


def test_an_input_the_method_does_not_declare_is_a_bug_stopped_before_sending():
    host = Host()
    call = operations.Call(INITIATE_FAILOVER, machine("vm00"), {"Snapshot": "x"})
    operations.start_all(host, [call], 1, ticking_clock())
    assert host.calls == [] and "internal error" in call.error and "has no input Snapshot" in call.error


def test_a_host_without_the_service_is_one_clear_error():
    class Bare(Host):
        def query_references(self, wql):
            return []

    with pytest.raises(WSManError, match="the host has no Msvm_ReplicationService: is the Hyper-V role installed"):
        operations.start_all(Bare(), calls(2), 1, ticking_clock())


def test_a_lost_answer_with_no_trace_on_the_vm_is_sent_once_more():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    host = Host({"vm01": [reset, MethodResult(4096, {"Job": job("job-again")})]})
    todo = calls(3)
    operations.start_all(host, todo, 1, ticking_clock())
    assert [name for ref, method, name, params, types in host.calls] == ["vm00", "vm01", "vm01", "vm02"]
    assert todo[1].job.id == "JOB-AGAIN" and todo[1].sent == 2 and not todo[1].error


def test_a_lost_answer_after_the_host_acted_follows_its_job_and_never_sends_again():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    running = {"InstanceID": "job-started", "JobType": 97, "JobState": 4, "PercentComplete": 10}
    other_kind = {"InstanceID": "job-other", "JobType": 12, "JobState": 4}
    host = Host({"vm01": reset}, states={"vm01": 12}, jobs={"vm01": [other_kind, running]})
    todo = calls(2)
    operations.start_all(host, todo, 1, ticking_clock())
    assert [name for ref, method, name, params, types in host.calls] == ["vm00", "vm01"]
    # The entry's JobType picks the job: the VM's job of another kind is not taken for the failover.
    assert todo[1].job.id == "JOB-STARTED" and todo[1].accepted and todo[1].sent == 1 and not todo[1].error
    assert "answer was lost" in todo[1].note


def test_a_new_job_of_any_type_is_the_calls_and_an_older_running_one_is_not():
    """The documentation does not pin JobTypes to methods: a job that did not exist before the run is the call's,
    whatever its JobType; a job that was already running (another run's) is not, so the call is sent once more and
    the host's refusal names that job."""
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    theirs = {"InstanceID": "their-job", "JobType": 97, "JobState": 4, "PercentComplete": 40}
    new = {"InstanceID": "new-job", "JobType": 200, "JobState": 4}

    class Before(Host):
        def query(self, wql):
            if "FROM Msvm_AffectedJobElement" in wql:
                return [affected(theirs)]
            return super().query(wql)

    host = Before({"vm00": reset, "vm01": [reset, MethodResult(32774, {})]},
                  jobs={"vm00": [theirs, new], "vm01": [theirs]})
    first, second = calls(2)
    operations.start_all(host, [first, second], 1, ticking_clock())
    assert first.job.id == "NEW-JOB" and first.sent == 1 and not first.error
    # Sent again (no new job), refused, and the job running is heading where the call leads: followed.
    assert second.sent == 2 and second.followed and second.job.id == "THEIR-JOB" and not second.error


def test_a_lost_answer_with_the_work_done_is_done():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    host = Host({"vm00": reset}, states={"vm00": 5})
    (call,) = calls(1)
    operations.start_all(host, [call], 1, ticking_clock())
    assert call.done and call.accepted and not call.error and call.sent == 1


def test_an_older_finished_job_is_not_taken_for_ours():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    old = {"InstanceID": "old-job", "JobType": 97, "JobState": 7}

    class Older(Host):
        def query(self, wql):
            if "FROM Msvm_AffectedJobElement" in wql:  # the jobs that affected the VMs before the run's calls
                return [affected(old)]
            return super().query(wql)

    host = Older({"vm00": [reset, MethodResult(4096, {"Job": job("new-job")})]}, jobs={"vm00": [old]})
    (call,) = calls(1)
    operations.start_all(host, [call], 1, ticking_clock())
    assert call.job.id == "NEW-JOB" and call.sent == 2


def test_two_lost_answers_stop_the_calls_not_yet_sent():
    reset = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
    host = Host({"vm01": reset})
    todo = calls(4)
    operations.start_all(host, todo, 1, ticking_clock())
    assert [name for ref, method, name, params, types in host.calls] == ["vm00", "vm01", "vm01"]
    assert "got no answer twice, and the VM shows no sign of it" in todo[1].error
    for call in todo[2:]:
        assert call.error == "InitiateFailover on VM %s was not started: cannot reach the WinRM host: reset" % call.label
        assert call.invoked_at is None and not call.accepted


def test_a_refusal_caused_by_another_run_says_so():
    running = {"InstanceID": "their-job", "JobType": 98, "JobState": 4, "PercentComplete": 40}   # heading elsewhere
    host = Host({"vm00": MethodResult(32774, {}), "vm01": MethodResult(32775, {})}, states={"vm00": 12, "vm01": 5},
                jobs={"vm00": [running]})
    todo = calls(2)
    operations.start_all(host, todo, 1, ticking_clock())
    assert ("another operation is running on it (job their-job, RevertFailover (JobType 98), Running, 40% complete), "
            "perhaps another run, and it does not lead where this call does" in todo[0].error)
    assert not todo[1].error and not todo[1].accepted and "already is where it would lead" in todo[1].note


def test_a_call_the_host_never_received_is_reported_not_started():
    refused = WSManTransportError("the WinRM host rejected the credentials (HTTP 401)", kind="auth", unsent=True)
    host = Host({"vm00": refused})
    todo = calls(3)
    operations.start_all(host, todo, 1, ticking_clock())
    assert [name for ref, method, name, params, types in host.calls] == ["vm00"]
    assert todo[0].error == "InitiateFailover on VM %s was not started: %s" % (todo[0].label, refused)
    assert all("was not started" in c.error and not c.accepted for c in todo)


def test_an_unexpected_error_stops_the_calls_not_yet_sent_and_is_reported():
    host = Host({"vm01": KeyError("not a host answer")})
    todo = calls(4)
    operations.start_all(host, todo, 1, ticking_clock())
    assert [name for ref, method, name, params, types in host.calls] == ["vm00", "vm01"]
    assert todo[0].job and not todo[0].error
    assert "internal error, whether it started is unknown: KeyError" in todo[1].error
    assert all("was not started: internal error (KeyError)" in c.error for c in todo[2:])
