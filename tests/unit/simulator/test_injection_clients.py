"""Injected faults seen through two independent clients, and what the simulator did about them.

Each test drives a live simulator (the small fleet of conftest.py, on its manual clock) once through pypsrp's
``WSMan`` and once through the collection's shim (``WSManClient``/``CimClient`` over pywinrm), both from
``clients.py``. It checks the exception each client raises for the injected fault, and what the simulator did:
its request log, counters, VMs and jobs (README "Fault injection" and "Request log"). Rules come from the control
API (``add_fault``), or from the fleet file's ``faults:`` key where a test says so. Nothing sleeps: simulated
time moves with ``advance_clock`` and an injected latency is recorded, not waited.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest
import requests

from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManFault, WSManTransportError
from ansible_collections.hyperv.replica.tests.unit.simulator.clients import CLIENTS, Invoked, Ref, class_uri, props
from hypervsim import Simulator  # conftest.py puts tests/simulator on sys.path

WEB01 = "5F1D2A4B-9C3E-4F7A-8B6D-1E2F3A4B5C6D"        # replica, replicating (3), off: InitiateFailover works
SQL01 = "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9"        # replica, replicating, running (tests power it off)
HOST = "HV-TEST01"
PASSWORD = "pw"
JOB_SECONDS = 10                                      # the small fleet's job_seconds
TIMED_OUT = 2150858793                                # w:TimedOut WSManFault code (wire 5.2)
ACCESS_DENIED = 5
REPLICATING, RECOVERED, FAILOVER_IN_PROGRESS = 3, 5, 12
NEW, RUNNING, COMPLETED, EXCEPTION, WITH_WARNINGS = 2, 4, 7, 10, 32768
INITIATE = "Invoke:InitiateFailover"
ALL_SYSTEMS = "SELECT * FROM Msvm_ComputerSystem"
SERVICE = Ref(class_uri("Msvm_ReplicationService"), (
    ("CreationClassName", "Msvm_ReplicationService"), ("Name", "replicasvc"),
    ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", HOST)))
JOB_KEYS = ("InstanceID", "JobType", "JobState", "PercentComplete", "ErrorCode", "ErrorDescription",
            "ErrorSummaryDescription")


def vm_ref(vm_id: str) -> Ref:
    return Ref(class_uri("Msvm_ComputerSystem"), (("CreationClassName", "Msvm_ComputerSystem"), ("Name", vm_id)))


class Client:
    """A clients.py client (pypsrp or shim) with the few calls this file repeats."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.kind = inner.name

    def failover(self, vm_id: str) -> Invoked:
        return self.inner.invoke(SERVICE, "InitiateFailover", {"ComputerSystem": vm_ref(vm_id)})

    def replication_state(self, vm_id: str) -> int:
        """ReplicationState as the client reads it over the wire (a Get of the VM)."""
        return int(props(self.inner.get("Msvm_ComputerSystem", vm_ref(vm_id).selectors))["ReplicationState"])

    def job_views(self, job: Ref) -> Tuple[Dict[str, Optional[str]], Dict[str, Optional[str]]]:
        """The job as a Get of its EPR shows it, and as a WQL query by InstanceID shows it (JOB_KEYS only)."""
        ((key, job_id),) = job.selectors
        assert key == "InstanceID"
        got = props(self.inner.get("Msvm_ConcreteJob", job.selectors))
        (row,) = self.inner.query(f"SELECT * FROM Msvm_ConcreteJob WHERE InstanceID = '{job_id}'")
        assert row[0] == "Msvm_ConcreteJob"
        return {k: got.get(k) for k in JOB_KEYS}, {k: row[1].get(k) for k in JOB_KEYS}

    def job(self, job: Ref) -> Dict[str, Optional[str]]:
        """The job's properties, after checking that Get and WQL agree on them."""
        got, queried = self.job_views(job)
        assert got == queried
        return got


def raised(operation: Callable[[], Any]) -> Exception:
    """The exception an operation raises (the test fails if it raises none)."""
    with pytest.raises(Exception) as info:
        operation()
    return info.value


def fleet_with(fleet: dict, faults: Optional[List[dict]]) -> dict:
    data = copy.deepcopy(fleet)
    if faults is not None:
        data["hosts"][0]["faults"] = faults
    return data


def vm_state(sim: Simulator, vm_id: str) -> int:
    return next(vm["state"] for vm in sim.vms() if vm["id"] == vm_id)


def logged(sim: Simulator, operation: str) -> List[Tuple[Any, ...]]:
    """(user, vm_id, outcome, status) of every logged request of that operation."""
    return [(e["user"], e["vm_id"], e["outcome"], e["status"]) for e in sim.requests() if e["operation"] == operation]


def check_connection_error(kind: str, exc: Exception) -> None:
    """A dropped connection: requests' ConnectionError in pypsrp, WSManTransportError(kind=connection) in the shim."""
    if kind == "pypsrp":
        assert isinstance(exc, requests.exceptions.ConnectionError), repr(exc)
    else:
        assert isinstance(exc, WSManTransportError), repr(exc)
        assert (exc.kind, exc.http_status) == ("connection", None)


def check_bare_500(kind: str, exc: Exception) -> None:
    """HTTP 500 with no body: pypsrp finds no WSManFault in it and re-raises its WinRMTransportError; the shim
    gives WSManTransportError(kind=http, http_status=500)."""
    if kind == "pypsrp":
        psrp_exceptions = pytest.importorskip("pypsrp.exceptions")
        assert isinstance(exc, psrp_exceptions.WinRMTransportError), repr(exc)
        assert (exc.protocol, exc.code, exc.response_text) == ("http", 500, "")
    else:
        assert isinstance(exc, WSManTransportError), repr(exc)
        assert (exc.kind, exc.http_status) == ("http", 500)


def check_timeout(kind: str, exc: Exception) -> None:
    """w:TimedOut: pypsrp's WSManFaultError with the code; the shim's WSManFault that says it is a timeout."""
    if kind == "pypsrp":
        psrp_exceptions = pytest.importorskip("pypsrp.exceptions")
        assert isinstance(exc, psrp_exceptions.WSManFaultError), repr(exc)
        assert (exc.code, exc.machine) == (TIMED_OUT, "127.0.0.1")
    else:
        assert isinstance(exc, WSManFault), repr(exc)
        assert exc.is_timeout and (exc.wsman_code, exc.subcode, exc.http_status) == (TIMED_OUT, "w:TimedOut", 500)


# ---------------------------------------------------------------- fixtures


@pytest.fixture(params=sorted(CLIENTS))
def kind(request) -> str:
    pytest.importorskip("pypsrp.wsman" if request.param == "pypsrp" else "winrm")
    return request.param


@pytest.fixture
def make_server(serve, fleet_dict):
    """Factory: the small fleet (with fleet-file fault rules if given) served on loopback, on the manual clock."""
    return lambda faults=None: serve(fleet_with(fleet_dict, faults))


@pytest.fixture
def server(make_server) -> Simulator:
    return make_server()


@pytest.fixture
def make_client(kind):
    """Factory: a client of the test's kind for a server and user."""
    opened: List[Client] = []

    def connect(sim: Simulator, username: str = "admin") -> Client:
        client = Client(CLIENTS[kind](sim.endpoint, username, PASSWORD))
        opened.append(client)
        return client

    yield connect
    for client in opened:
        client.inner.close()


@pytest.fixture
def client(make_client, server) -> Client:
    return make_client(server)


# ---------------------------------------------------------------- 1, 2. dropped connections


def test_drop_before_is_a_connection_error_and_nothing_happens(client, server):
    server.add_fault(operation=INITIATE, vm="web01", drop="before")
    check_connection_error(client.kind, raised(lambda: client.failover(WEB01)))
    assert vm_state(server, WEB01) == REPLICATING and server.jobs() == []
    assert logged(server, INITIATE) == [("admin", WEB01, "dropped-before", None)]
    assert server.counters()[INITIATE] == 1             # counted, and the client did not resend it
    assert client.replication_state(WEB01) == REPLICATING   # the client reconnects; the VM is untouched


def test_drop_after_is_a_connection_error_but_the_failover_started(client, server):
    server.add_fault(operation=INITIATE, vm="web01", drop="after")
    check_connection_error(client.kind, raised(lambda: client.failover(WEB01)))
    (job,) = server.jobs()
    assert (job["vm"], job["type"], job["state"]) == (WEB01, 97, NEW)     # no simulated time has passed
    assert vm_state(server, WEB01) == FAILOVER_IN_PROGRESS
    assert logged(server, INITIATE) == [("admin", WEB01, "dropped-after", 200)]    # the 200 that was not sent
    assert server.counters()[INITIATE] == 1
    assert client.replication_state(WEB01) == FAILOVER_IN_PROGRESS
    assert client.failover(WEB01) == Invoked(32774, None)   # a retry finds the VM busy with the first job


def test_drop_only_hits_the_named_vm(client, server):
    server.set_vm("sql01", power="off")
    server.add_fault(operation=INITIATE, vm="web01", drop="before")
    assert client.failover(SQL01).return_value == 4096
    check_connection_error(client.kind, raised(lambda: client.failover(WEB01)))
    assert [e[1:3] for e in logged(server, INITIATE)] == [(SQL01, "ok"), (WEB01, "dropped-before")]


# ---------------------------------------------------------------- 3. bare HTTP 500


def test_bare_http_500_is_an_http_error_without_soap_and_nothing_happens(client, server):
    server.add_fault(operation=INITIATE, fault="http500")
    check_bare_500(client.kind, raised(lambda: client.failover(WEB01)))
    assert client.inner.recorder.answers[-1] == (500, "")
    assert vm_state(server, WEB01) == REPLICATING and server.jobs() == []
    assert logged(server, INITIATE) == [("admin", WEB01, "http500", 500)]
    assert server.faults() == []                          # an API fault rule fires once
    assert client.failover(WEB01).return_value == 4096


def test_bare_http_500_on_a_pull_leaves_the_context_valid(client, server):
    batch = client.inner.enumerate(ALL_SYSTEMS)
    server.add_fault(operation="Pull", fault="http500")
    check_bare_500(client.kind, raised(lambda: client.inner.pull(batch.context)))
    assert server.requests()[-1]["outcome"] == "http500"
    assert len(client.inner.pull(batch.context).items) == 6


# ---------------------------------------------------------------- 4. w:TimedOut


def test_timed_out_pull_is_a_timeout_and_the_context_stays_valid(client, server):
    batch = client.inner.enumerate(ALL_SYSTEMS)
    server.add_fault(operation="Pull", fault="TimedOut")
    check_timeout(client.kind, raised(lambda: client.inner.pull(batch.context)))
    entry = server.requests()[-1]
    assert (entry["operation"], entry["class"], entry["outcome"], entry["status"]) == (
        "Pull", "Msvm_ComputerSystem", "TimedOut", 500)
    # DSP0226: after w:TimedOut on a Pull the enumeration context is still valid; the fault fired before the Pull.
    assert len(client.inner.pull(batch.context).items) == 6


def test_timed_out_invoke_is_a_timeout_and_nothing_happens(client, server):
    server.add_fault(operation=INITIATE, vm=WEB01, fault="TimedOut")
    check_timeout(client.kind, raised(lambda: client.failover(WEB01)))
    assert vm_state(server, WEB01) == REPLICATING and server.jobs() == []
    assert logged(server, INITIATE) == [("admin", WEB01, "TimedOut", 500)]
    assert client.failover(WEB01).return_value == 4096   # one shot


# ---------------------------------------------------------------- 5. latency


class SleepRecorder:  # pylint: disable=too-few-public-methods
    """Stands in for sim.sleep: records the delays instead of waiting them."""

    def __init__(self) -> None:
        self.calls: List[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def test_latency_is_requested_for_the_matching_operation_and_vm_only(client, server):
    server.sleep = sleep = SleepRecorder()
    server.set_vm("sql01", power="off")
    server.add_fault(operation=INITIATE, vm="web01", latency_ms=250)
    client.inner.get("Msvm_ComputerSystem", vm_ref(WEB01).selectors)        # names web01, but a Get
    assert client.failover(SQL01).return_value == 4096                     # an InitiateFailover, of sql01
    assert not sleep.calls
    assert client.failover(WEB01).return_value == 4096
    assert sleep.calls == [0.25]
    assert [(e["operation"], e["vm_id"], e["latency_ms"]) for e in server.requests()] == [
        ("Get", WEB01, 0.0), (INITIATE, SQL01, 0.0), (INITIATE, WEB01, 250.0)]


def test_latency_rule_for_a_vm_matches_its_job_by_get_and_by_wql(client, server):
    job_ref = start_failover(client)
    server.sleep = sleep = SleepRecorder()
    server.add_fault(vm="web01", latency_ms=30)
    client.job(job_ref)                                    # a Get of the job EPR, then a WQL query by InstanceID
    client.inner.query("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'sql01'")
    assert sleep.calls == [0.03, 0.03]
    assert [(e["operation"], e["vm_id"], e["latency_ms"]) for e in server.requests()[1:]] == [
        ("Get", WEB01, 30.0), ("Enumerate", WEB01, 30.0), ("Enumerate", None, 0.0)]


def test_latency_then_timed_out(client, server):
    server.sleep = sleep = SleepRecorder()
    server.add_fault(operation=INITIATE, latency_ms=1500)
    server.add_fault(operation=INITIATE, fault="TimedOut")
    check_timeout(client.kind, raised(lambda: client.failover(WEB01)))
    assert sleep.calls == [1.5]
    entry = server.requests()[-1]
    assert (entry["outcome"], entry["latency_ms"]) == ("TimedOut", 1500.0)


# ---------------------------------------------------------------- 6. job rules, read by Get of the EPR and by WQL


def start_failover(client: Client) -> Ref:
    invoked = client.failover(WEB01)
    assert invoked.return_value == 4096 and invoked.job is not None
    return invoked.job


def test_job_exception(client, server):
    server.add_fault(operation=INITIATE, vm="web01", job="exception")
    job_ref = start_failover(client)
    assert vm_state(server, WEB01) == FAILOVER_IN_PROGRESS
    server.advance_clock(JOB_SECONDS + 1)
    job = client.job(job_ref)
    assert (job["JobState"], job["ErrorCode"], job["PercentComplete"]) == (str(EXCEPTION), "32768", "100")
    assert "web01" in job["ErrorDescription"] and WEB01 in job["ErrorDescription"]
    assert job["ErrorSummaryDescription"] == "Failed to initiate failover."
    assert vm_state(server, WEB01) == REPLICATING == client.replication_state(WEB01)
    assert [j["state"] for j in server.jobs()] == [EXCEPTION]


def test_job_hang(client, server):
    server.add_fault(operation=INITIATE, vm="web01", job="hang", percent=40)
    job_ref = start_failover(client)
    server.advance_clock(100000)
    job = client.job(job_ref)
    assert (job["JobState"], job["PercentComplete"], job["ErrorCode"]) == (str(RUNNING), "40", "0")
    assert vm_state(server, WEB01) == FAILOVER_IN_PROGRESS == client.replication_state(WEB01)
    assert client.failover(WEB01) == Invoked(32774, None)


def test_job_seconds_makes_a_slow_job(client, server):
    server.add_fault(operation=INITIATE, vm="web01", job_seconds=60)
    job_ref = start_failover(client)
    server.advance_clock(59)                            # the fleet's own 10 s have long passed
    job = client.job(job_ref)
    assert (job["JobState"], job["PercentComplete"]) == (str(RUNNING), "98")
    assert vm_state(server, WEB01) == FAILOVER_IN_PROGRESS
    server.advance_clock(2)
    assert client.job(job_ref)["JobState"] == str(COMPLETED)
    assert vm_state(server, WEB01) == RECOVERED == client.replication_state(WEB01)


def test_job_warnings_is_a_success(client, server):
    server.add_fault(operation=INITIATE, vm="web01", job="warnings")
    job_ref = start_failover(client)
    server.advance_clock(JOB_SECONDS + 1)
    job = client.job(job_ref)
    assert (job["JobState"], job["ErrorCode"]) == (str(WITH_WARNINGS), "0")
    assert "warnings" in job["ErrorDescription"]
    assert vm_state(server, WEB01) == RECOVERED == client.replication_state(WEB01)


def test_job_rule_spares_other_vms(client, server):
    server.set_vm("sql01", power="off")
    server.add_fault(operation=INITIATE, vm="web01", job="exception")
    job_ref = client.failover(SQL01).job
    server.advance_clock(JOB_SECONDS + 1)
    assert client.job(job_ref)["JobState"] == str(COMPLETED)
    assert len(server.faults()) == 1                     # not used up by sql01's job


# ---------------------------------------------------------------- 7. the same rules from the fleet file


def test_fleet_file_drop_rule_lasts(make_server, make_client):
    sim = make_server([{"operation": INITIATE, "vm": "web01", "drop": "before"}])
    client = make_client(sim)
    for _attempt in range(2):                              # unlimited in a fleet file
        check_connection_error(client.kind, raised(lambda: client.failover(WEB01)))
    assert [e[2] for e in logged(sim, INITIATE)] == ["dropped-before"] * 2
    assert vm_state(sim, WEB01) == REPLICATING and sim.jobs() == []
    assert [(r["fired"], r["count"]) for r in sim.faults()] == [(2, None)]


def test_fleet_file_timed_out_and_job_rules(make_server, make_client):
    sim = make_server([{"operation": "Invoke:*", "vm": "web01", "job": "exception", "error_code": 32775},
                       {"operation": "Get", "vm": "sql01", "fault": "TimedOut"}])
    client = make_client(sim)
    check_timeout(client.kind, raised(lambda: client.replication_state(SQL01)))
    job_ref = start_failover(client)
    sim.advance_clock(JOB_SECONDS + 1)
    job = client.job(job_ref)
    assert (job["JobState"], job["ErrorCode"]) == (str(EXCEPTION), "32775")
    assert vm_state(sim, WEB01) == REPLICATING


# ---------------------------------------------------------------- 8. AccessDenied for a user without rights


def test_access_denied_on_invoke_is_logged(make_client, server):
    client = make_client(server, "nobody")                  # the small fleet's rights: none user
    exc = raised(lambda: client.failover(WEB01))
    if client.kind == "pypsrp":
        psrp_exceptions = pytest.importorskip("pypsrp.exceptions")
        assert isinstance(exc, psrp_exceptions.WSManFaultError), repr(exc)
        assert (exc.code, exc.reason) == (ACCESS_DENIED, "Access is denied.")
    else:
        assert isinstance(exc, WSManFault), repr(exc)
        assert (exc.wsman_code, exc.subcode, exc.http_status) == (ACCESS_DENIED, "w:AccessDenied", 500)
    assert vm_state(server, WEB01) == REPLICATING and server.jobs() == []
    assert logged(server, INITIATE) == [("nobody", WEB01, "AccessDenied", 500)]
    assert server.counters()[INITIATE] == 1


def test_access_denied_comes_before_an_injected_fault(make_client, server):
    server.add_fault(operation=INITIATE, fault="TimedOut")
    nobody, admin = make_client(server, "nobody"), make_client(server)
    exc = raised(lambda: nobody.failover(WEB01))
    assert getattr(exc, "wsman_code", getattr(exc, "code", None)) == ACCESS_DENIED
    assert server.faults()[0]["fired"] == 0                # the user was refused before the injection point
    check_timeout(admin.kind, raised(lambda: admin.failover(WEB01)))
    assert [e[::2] for e in logged(server, INITIATE)] == [("nobody", "AccessDenied"), ("admin", "TimedOut")]
