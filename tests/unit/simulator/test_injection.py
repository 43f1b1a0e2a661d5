"""Fault injection (fleet file and control API), the request log, and AccessDenied for a user without rights."""

import base64
import copy
import http.client
import json
import re
import threading
import urllib.parse

import pytest

from hypervsim import FleetError, Simulator
from hypervsim.fleet import parse_fleet
from hypervsim.hooks import DropConnection
from hypervsim.requestlog import RequestLog
from hypervsim.wsman import NotXml

SOAP = "application/soap+xml;charset=UTF-8"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
SYSTEM = [("CreationClassName", "Msvm_ComputerSystem")]


def fleet_with(fleet, faults):
    """The fleet with fault rules on its (first) host."""
    data = copy.deepcopy(fleet)
    data["hosts"][0]["faults"] = faults
    return data


@pytest.fixture
def make_fleet_client(clock, fleet_dict, client):
    """Factory: a client like the client fixture's, on the small fleet with the given fault rules."""
    def factory(faults):
        return type(client)(Simulator(fleet_with(fleet_dict, faults), clock=clock))
    return factory


def failover(client, vm_id):
    return client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                         client.vm_ref(vm_id))


def return_value(resp):
    assert resp.status == 200, resp.text
    return int(re.search(r"<p:ReturnValue>(\d+)</p:ReturnValue>", resp.text).group(1))


def get_vm(client, vm_id):
    return client.get("Msvm_ComputerSystem", SYSTEM + [("Name", vm_id)])


def state(client, vm_id):
    return next(v for v in client.sim.vms() if v["id"] == vm_id)["state"]


class FakeSleep:  # pylint: disable=too-few-public-methods
    """Records the delays the simulator asks for instead of sleeping."""

    def __init__(self):
        self.calls = []

    def __call__(self, seconds):
        self.calls.append(seconds)


# ---------------------------------------------------------------- rules in the fleet file

def test_fleet_rules_are_parsed(fleet_dict):
    hosts = parse_fleet(fleet_with(fleet_dict, [
        {"latency_ms": 20},
        {"operation": "invoke:initiatefailover", "vm": "web01", "drop": "after"},
        {"operation": "Pull", "fault": "timedout", "count": 2, "probability": 0.5, "seed": 7},
        {"operation": "Invoke:*", "job": "hang", "percent": 40},
    ]))
    specs = hosts[0].faults
    assert [s.describe() for s in specs] == [
        {"operation": "*", "latency_ms": 20.0},
        {"operation": "Invoke:InitiateFailover", "drop": "after", "vm": "web01"},
        {"operation": "Pull", "fault": "TimedOut", "probability": 0.5, "seed": 7},
        {"operation": "Invoke:*", "job": "hang", "percent": 40},
    ]
    assert [s.count for s in specs] == [None, None, 2, None]      # unlimited unless counted, in a fleet file


@pytest.mark.parametrize("rule, where", [
    ("latency", "hosts[0].faults[0]"),
    ({"latency_ms": 5, "colour": 1}, "hosts[0].faults[0]"),
    ({}, "hosts[0].faults[0]"),
    ({"latency_ms": 5, "drop": "before"}, "hosts[0].faults[0]"),
    ({"latency_ms": -1}, "hosts[0].faults[0].latency_ms"),
    ({"drop": "during"}, "hosts[0].faults[0].drop"),
    ({"fault": "Nope"}, "hosts[0].faults[0].fault"),
    ({"job": "maybe"}, "hosts[0].faults[0].job"),
    ({"job_seconds": "slow"}, "hosts[0].faults[0].job_seconds"),
    ({"operation": "Put", "fault": "TimedOut"}, "hosts[0].faults[0].operation"),
    ({"operation": "Invoke:Shutdown", "fault": "TimedOut"}, "hosts[0].faults[0].operation"),
    ({"operation": "Get", "job": "exception"}, "hosts[0].faults[0].operation"),
    ({"vm": "ghost", "fault": "TimedOut"}, "hosts[0].faults[0].vm"),
    ({"vm": 7, "fault": "TimedOut"}, "hosts[0].faults[0].vm"),
    ({"fault": "TimedOut", "count": 0}, "hosts[0].faults[0].count"),
    ({"fault": "TimedOut", "probability": 1.5}, "hosts[0].faults[0].probability"),
    ({"fault": "TimedOut", "probability": 0.5, "seed": "x"}, "hosts[0].faults[0].seed"),
    ({"fault": "TimedOut", "percent": 10}, "hosts[0].faults[0].percent"),
    ({"job": "hang", "percent": 100}, "hosts[0].faults[0].percent"),
    ({"job": "hang", "error_code": 5}, "hosts[0].faults[0].error_code"),
    ({"job": "exception", "error_code": 0}, "hosts[0].faults[0].error_code"),
    ({"body": "evil"}, "hosts[0].faults[0].body"),
    ({"body": "dtd", "fault": "TimedOut"}, "hosts[0].faults[0]"),
])
def test_fleet_rule_errors_name_the_key(fleet_dict, rule, where):
    with pytest.raises(FleetError) as err:
        parse_fleet(fleet_with(fleet_dict, [rule]))
    assert str(err.value).startswith(where + ":"), str(err.value)


def test_faults_must_be_a_list(fleet_dict):
    with pytest.raises(FleetError, match=r"^hosts\[0\]\.faults:"):
        parse_fleet(fleet_with(fleet_dict, {"latency_ms": 5}))


def test_fleet_rules_last_until_cleared(make_fleet_client):
    client = make_fleet_client([{"operation": "Pull", "fault": "TimedOut"}])
    for _attempt in range(3):
        assert client.pull("uuid:whatever").fault()["wsman_code"] == 2150858793
    assert client.sim.faults()[0]["count"] is None and client.sim.faults()[0]["fired"] == 3
    assert client.sim.clear_faults() == 1
    assert client.pull("uuid:whatever").fault()["subcode"] == "n:InvalidEnumerationContext"


# ---------------------------------------------------------------- latency

def test_latency_on_every_request(make_fleet_client):
    client = make_fleet_client([{"latency_ms": 20}])
    client.sim.sleep = sleep = FakeSleep()
    assert client.get("Msvm_ReplicationService", client.service_selectors()).status == 200
    client.enumerate("SELECT * FROM Msvm_ComputerSystem")
    assert sleep.calls == [0.02, 0.02]
    assert [entry["latency_ms"] for entry in client.sim.requests()] == [20.0, 20.0]


def test_latency_only_on_some_operations_and_vms(client):
    client.sim.sleep = sleep = FakeSleep()
    client.sim.add_fault(operation="Get", vm="web01", latency_ms=5)
    client.sim.add_fault(operation="Get", latency_ms=10)
    get_vm(client, client.WEB01)
    get_vm(client, client.SQL01)
    client.enumerate("SELECT * FROM Msvm_ComputerSystem")
    assert sleep.calls == pytest.approx([0.015, 0.01])              # rules add up; the Enumerate waits for nothing


def test_latency_does_not_hold_the_model_lock(client):
    """While one request sleeps its latency, another one is served: both meet in the sleep at the same time."""
    barrier = threading.Barrier(2, timeout=10)
    client.sim.sleep = lambda seconds: barrier.wait()
    client.sim.add_fault(operation="Get", latency_ms=50, count=2)
    results = []

    def one_get():
        results.append(client.get("Msvm_ReplicationService", client.service_selectors()).status)

    threads = [threading.Thread(target=one_get) for _index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert results == [200, 200] and not barrier.broken


# ---------------------------------------------------------------- dropped connections and HTTP 500

def test_drop_before_does_nothing(client):
    client.sim.add_fault(operation="Invoke:InitiateFailover", drop="before")
    with pytest.raises(DropConnection):
        failover(client, client.WEB01)
    assert state(client, client.WEB01) == 3 and client.sim.jobs() == []
    assert client.sim.counters()["Invoke:InitiateFailover"] == 1
    entry = client.sim.requests()[-1]
    assert (entry["operation"], entry["outcome"], entry["status"], entry["vm"]) == \
        ("Invoke:InitiateFailover", "dropped-before", None, "web01")
    assert return_value(failover(client, client.WEB01)) == 4096       # one shot: the retry goes through


def test_a_hostile_body_replaces_the_answer_and_does_nothing(client):
    client.sim.add_fault(operation="Invoke:InitiateFailover", body="truncated")
    answer = failover(client, client.WEB01)
    assert answer.status == 200 and answer.text.startswith("<s:Envelope") and "</s:Envelope>" not in answer.text
    assert state(client, client.WEB01) == 3 and client.sim.jobs() == []
    assert client.sim.requests()[-1]["outcome"] == "hostile-truncated"


def test_drop_after_applies_the_operation(client):
    client.sim.add_fault(operation="Invoke:InitiateFailover", vm=client.WEB01, drop="after")
    with pytest.raises(DropConnection):
        failover(client, client.WEB01)
    assert state(client, client.WEB01) == 12 and len(client.sim.jobs()) == 1
    entry = client.sim.requests()[-1]
    assert (entry["outcome"], entry["status"], entry["vm_id"]) == ("dropped-after", 200, client.WEB01)
    assert return_value(failover(client, client.WEB01)) == 32774       # the retry finds the VM busy


def test_vm_filter(client):
    client.sim.add_fault(operation="Invoke:InitiateFailover", vm="web01", fault="TimedOut")
    client.sim.set_vm("sql01", power="off")
    assert return_value(failover(client, client.SQL01)) == 4096
    resp = failover(client, client.WEB01)
    assert resp.fault()["wsman_code"] == 2150858793
    assert resp.find("s:Header/a:RelatesTo").text == client.last_message_id
    assert state(client, client.WEB01) == 3


def test_bare_http_500(client):
    client.sim.add_fault(operation="Enumerate", fault="http500")
    with pytest.raises(NotXml):                                      # not an Enumerate: the rule waits
        client.sim.handle_wsman(b"not xml", client.user, "h")
    resp = client.enumerate("SELECT * FROM Msvm_ComputerSystem")
    assert (resp.status, resp.text) == (500, "")
    assert client.enumerate("SELECT * FROM Msvm_ComputerSystem").status == 200
    outcomes = [(e["outcome"], e["status"]) for e in client.sim.requests()]
    assert outcomes == [("not-xml", 400), ("http500", 500), ("ok", 200)]
    assert client.sim.counters()["Enumerate"] == 2


def test_soap_fault_waits_for_a_valid_request(client):
    """An injected SOAP fault fires where the service would fail: a request it rejects earlier keeps the rule."""
    client.sim.add_fault(operation="Get", fault="InternalError")
    bad = client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", client.V2 + "/Msvm_ConcreteJob",
                         message_id=None)
    assert bad.fault()["subcode"] == "a:MessageInformationHeaderRequired"
    assert client.sim.faults()[0]["count"] == 1
    assert client.get("Msvm_ReplicationService", client.service_selectors()).fault()["subcode"] == "w:InternalError"
    assert client.sim.faults() == []


def test_count_and_timed_out(client):
    client.sim.add_fault(operation="Get", fault="TimedOut", count=2)
    codes = [client.get("Msvm_ReplicationService", client.service_selectors()).status for _index in range(3)]
    assert codes == [500, 500, 200]
    assert [e["outcome"] for e in client.sim.requests()] == ["TimedOut", "TimedOut", "ok"]


def test_probability_is_repeatable(make_client):
    def pattern():
        client = make_client()
        client.sim.add_fault(operation="Get", fault="TimedOut", count=None, probability=0.5, seed=11)
        return [client.get("Msvm_ReplicationService", client.service_selectors()).status for _index in range(20)]
    first = pattern()
    assert first == pattern() and {200, 500} == set(first)


def test_job_rules_and_vm_of_the_job(client, clock):
    client.sim.add_fault(operation="Invoke:InitiateFailover", vm="sql01", job="exception")
    client.sim.set_vm("sql01", power="off")
    web_job = re.search(r'Name="InstanceID">([^<]+)<', failover(client, client.WEB01).text).group(1)
    sql_job = re.search(r'Name="InstanceID">([^<]+)<', failover(client, client.SQL01).text).group(1)
    clock.advance(10)
    states = {j["id"]: j["state"] for j in client.sim.jobs()}
    assert (states[web_job], states[sql_job]) == (7, 10)
    client.get("Msvm_ConcreteJob", [("InstanceID", sql_job)])
    assert client.sim.requests()[-1]["vm"] == "sql01"                # a job poll is logged with the job's VM


# ---------------------------------------------------------------- the old API and the control API over HTTP

def test_inject_fault_still_works(client):
    rule = client.sim.inject_fault("Pull", "InvalidEnumerationContext")
    assert rule == {"id": 1, "operation": "Pull", "fault": "InvalidEnumerationContext", "count": 1, "fired": 0}
    with pytest.raises(ValueError, match="rule.count"):
        client.sim.inject_fault("Get", "TimedOut", 0)
    with pytest.raises(ValueError, match="rule.vm"):
        client.sim.add_fault(vm="ghost", fault="TimedOut")


def control(sim, method, path, payload=None):
    url = urllib.parse.urlparse(sim.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request(method, path, body=None if payload is None else json.dumps(payload).encode())
    resp = conn.getresponse()
    data = json.loads(resp.read() or b"null")
    conn.close()
    return resp.status, data


def post_wsman(sim, body):
    """(status, headers, body) of a WS-Man POST, or None if the server closed the connection without answering."""
    url = urllib.parse.urlparse(sim.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    auth = "Basic " + base64.b64encode(b"admin:pw").decode()
    conn.request("POST", "/wsman", body=body, headers={"Content-Type": SOAP, "Authorization": auth})
    try:
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    except (http.client.RemoteDisconnected, ConnectionError):
        return None
    finally:
        conn.close()


def enumerate_body(client):
    """An optimized WQL Enumerate of the jobs, as raw bytes."""
    NS, ANON, V2 = client.NS, client.ANON, client.V2  # pylint: disable=invalid-name
    return (f'<s:Envelope xmlns:s="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}" xmlns:n="{NS["n"]}"><s:Header>'
            f'<a:To>http://x/wsman</a:To><a:ReplyTo><a:Address>{ANON}</a:Address></a:ReplyTo>'
            f'<a:MessageID>uuid:6C5A3E02-0000-4000-8000-000000000001</a:MessageID>'
            f'<w:ResourceURI>{V2}/*</w:ResourceURI>'
            f'<a:Action>http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate</a:Action></s:Header>'
            f'<s:Body><n:Enumerate><w:OptimizeEnumeration/><w:Filter Dialect="{WQL}">SELECT * FROM Msvm_ConcreteJob'
            f'</w:Filter></n:Enumerate></s:Body></s:Envelope>').encode()


def test_control_api_over_http(live, client):
    body = enumerate_body(client)
    status, added = control(live, "POST", "/_sim/faults", {"operation": "Enumerate", "drop": "before"})
    assert status == 200 and added["injected"] and added["rule"]["drop"] == "before" and added["rule"]["count"] == 1
    control(live, "POST", "/_sim/faults", {"operation": "Enumerate", "fault": "http500"})
    control(live, "POST", "/_sim/faults", {"latency_ms": 1})
    status, rules = control(live, "GET", "/_sim/faults")
    assert status == 200 and [r["id"] for r in rules] == [1, 2, 3] and rules[2]["count"] is None
    assert post_wsman(live, body) is None                          # connection closed, no response
    status, headers, data = post_wsman(live, body)
    assert (status, data, headers.get("Content-Type")) == (500, b"", None)
    assert post_wsman(live, body)[0] == 200
    status, log = control(live, "GET", "/_sim/requests")
    assert [(e["outcome"], e["class"], e["user"], e["latency_ms"]) for e in log] == [
        ("dropped-before", "Msvm_ConcreteJob", "admin", 1.0), ("http500", "Msvm_ConcreteJob", "admin", 1.0),
        ("ok", "Msvm_ConcreteJob", "admin", 1.0)]
    assert control(live, "POST", "/_sim/faults/clear") == (200, {"cleared": 1})
    assert control(live, "POST", "/_sim/requests/clear")[0] == 200
    assert control(live, "GET", "/_sim/requests") == (200, [])
    assert control(live, "POST", "/_sim/faults", {"drop": "sideways"})[0] == 400
    assert control(live, "POST", "/_sim/faults", {"vm": "ghost", "drop": "after"})[0] == 400


class Recorder:  # pylint: disable=too-few-public-methods
    """Stands in for a simulator to capture the bytes a client builds."""

    def __init__(self, users):
        self.config = type("Config", (), {"users": users})
        self.sent = b""

    def handle_wsman(self, data, _user, _machine):
        self.sent = data
        return 200, b"<x/>"


def test_drop_after_over_http(live, client):
    """client only builds the request (it is not connected to live)."""
    recorder = Recorder(live.users)
    failover(type(client)(recorder), client.WEB01)
    live.add_fault(operation="Invoke:InitiateFailover", drop="after")
    assert post_wsman(live, recorder.sent) is None                  # the client never hears back ...
    assert next(v for v in live.vms() if v["id"] == client.WEB01)["state"] == 12   # ... but the failover started
    status, _headers, data = post_wsman(live, recorder.sent)
    assert status == 200 and b"<p:ReturnValue>32774</p:ReturnValue>" in data


# ---------------------------------------------------------------- the request log

def test_request_log_entries(client, clock):
    resp = client.enumerate("SELECT * FROM Msvm_ComputerSystem", optimize=False)
    context = resp.find("s:Body/n:EnumerateResponse/n:EnumerationContext").text
    clock.advance(2.5)
    client.pull(context, max_elements=1)
    get_vm(client, client.WEB01)
    failover(client, client.PRIM01)
    client.release("uuid:gone")
    log = client.sim.requests()
    assert [(e["operation"], e["class"], e["vm"], e["outcome"], e["status"]) for e in log] == [
        ("Enumerate", "Msvm_ComputerSystem", None, "ok", 200),
        ("Pull", "Msvm_ComputerSystem", None, "ok", 200),
        ("Get", "Msvm_ComputerSystem", "web01", "ok", 200),
        ("Invoke:InitiateFailover", "Msvm_ReplicationService", "prim01", "ok", 200),
        ("Release", None, None, "InvalidEnumerationContext", 500),
    ]
    assert [e["time"] for e in log] == [0, 2.5, 2.5, 2.5, 2.5]
    assert [e["seq"] for e in log] == [1, 2, 3, 4, 5] and {e["user"] for e in log} == {"admin"}


def test_request_log_is_bounded():
    log = RequestLog(size=3)
    for index in range(5):
        log.add({"operation": "Get", "n": index})
    assert [(e["seq"], e["n"]) for e in log.snapshot()] == [(3, 2), (4, 3), (5, 4)]


def test_user_without_rights_is_denied_everything_and_logged(sim, client):
    nobody = type(client)(sim, user=next(u for u in sim.users if u.username == "nobody"))
    responses = [
        nobody.enumerate("SELECT * FROM Msvm_ComputerSystem"), nobody.pull("uuid:any"), nobody.release("uuid:any"),
        nobody.get("Msvm_ReplicationService", nobody.service_selectors()), failover(nobody, nobody.WEB01),
    ]
    for resp in responses:
        fault = resp.fault()
        assert (resp.status, fault["subcode"], fault["wsman_code"]) == (500, "w:AccessDenied", 5)
    assert [(e["operation"], e["user"], e["outcome"]) for e in sim.requests()] == [
        (op, "nobody", "AccessDenied") for op in ("Enumerate", "Pull", "Release", "Get", "Invoke:InitiateFailover")]
    assert state(nobody, nobody.WEB01) == 3
