"""What a benchmark reads about a client: connections, logons, requests by operation and class, and the simulated
network latency (host setting network_latency_ms), with real pywinrm against a live simulator."""

import base64
import http.client
import json
import re
import threading
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

from hypervsim import FleetError, Simulator
from hypervsim.hooks import DropConnection

winrm = pytest.importorskip("winrm")
spnego = pytest.importorskip("spnego")
# pylint: disable=wrong-import-position
import xmltodict  # noqa: E402
from winrm.exceptions import InvalidCredentialsError  # noqa: E402
from winrm.protocol import Protocol  # noqa: E402

V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
NS = {"s": "http://www.w3.org/2003/05/soap-envelope", "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration"}
PASSWORD = "S3cret!"
SERVICE = [("CreationClassName", "Msvm_ReplicationService"), ("Name", "replicasvc"),
           ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", "HV-NET01")]
ZERO = {"total": 0, "auth_failures": 0, "connections": 0, "logons": 0}


def fleet(**host) -> dict:
    """Windows' defaults: Negotiate only, AllowUnencrypted=false (so pywinrm seals every message)."""
    return {"hosts": [{"name": "HV-NET01", "users": [{"username": "hvadmin", "password": PASSWORD}],
                       "vms": [{"name": f"vm{i}", "mode": "replica", "state": "replicating", "power": "off"}
                               for i in range(5)],
                       **host}]}


class SleepRecorder:  # pylint: disable=too-few-public-methods
    """Stands in for sim.sleep: records the delays instead of waiting them."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def ntlm(sim: Simulator) -> Protocol:
    """The collection's transport: NTLM with message encryption over http, one requests session (connection)."""
    return Protocol(sim.endpoint, transport="ntlm", username="hvadmin", password=PASSWORD)


def send(proto: Protocol, action: str, resource_uri: str, selectors=None, body=None) -> ET.Element:
    """The recipe of wire notes 6.1: build_wsman_header + xmltodict + send_message; the response's s:Body."""
    env = proto.build_wsman_header(action=action, resource_uri=resource_uri)
    if selectors:
        env["env:Header"]["w:SelectorSet"] = {"w:Selector": [{"@Name": k, "#text": v} for k, v in selectors]}
    env["env:Body"] = body or {}
    return ET.fromstring(proto.send_message(xmltodict.unparse({"env:Envelope": env}))).find("s:Body", NS)


def get_service(proto: Protocol) -> ET.Element:
    return send(proto, GET, f"{V2}/Msvm_ReplicationService", SERVICE)


def query(proto: Protocol, wql: str, per_pull: int) -> int:
    """An optimized Enumerate (one item) and Pulls of per_pull items until the end; returns the number of Pulls."""
    body = {"n:Enumerate": {"w:OptimizeEnumeration": None, "w:MaxElements": "1",
                            "w:Filter": {"@Dialect": WQL, "#text": wql}}}
    context = send(proto, ENUMERATE, f"{V2}/*", body=body).find("n:EnumerateResponse/n:EnumerationContext", NS).text
    pulls = 0
    while context:
        pull = {"n:Pull": {"n:EnumerationContext": context, "n:MaxElements": str(per_pull)}}
        found = send(proto, PULL, f"{V2}/*", body=pull).find("n:PullResponse/n:EnumerationContext", NS)
        context = None if found is None else found.text
        pulls += 1
    return pulls


def control(sim: Simulator, method: str, path: str) -> dict:
    """One /_sim/ request on its own connection, as curl or Ansible's uri module sends it."""
    url = urllib.parse.urlparse(sim.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request(method, path, headers={"Content-Type": "application/json"})
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


@pytest.fixture
def host(clock):
    with Simulator(fleet(), clock=clock) as sim:
        yield sim


# ---------------------------------------------------------------- connections and logons

def test_one_protocol_is_one_connection_and_one_logon(host):
    proto = ntlm(host)
    for _request in range(4):
        get_service(proto)
    counts = host.counters()
    assert (counts["connections"], counts["logons"], counts["total"], counts["auth_failures"]) == (1, 1, 4, 0)


def test_two_protocols_are_two_connections_and_two_logons(host):
    first, second = ntlm(host), ntlm(host)
    for proto in (first, second, first, second):
        get_service(proto)
    counts = host.counters()
    assert (counts["connections"], counts["logons"], counts["total"]) == (2, 2, 4)


def test_basic_logs_on_once_per_connection(clock):
    """Basic sends credentials with every request; the connection still logs on once."""
    with Simulator(fleet(basic_auth=True, allow_unencrypted=True), clock=clock) as sim:
        proto = Protocol(sim.endpoint, transport="basic", username="hvadmin", password=PASSWORD,
                         message_encryption="never")
        for _request in range(3):
            get_service(proto)
        counts = sim.counters()
        assert (counts["connections"], counts["logons"], counts["total"]) == (1, 1, 3)


def test_failed_logon_is_a_connection_but_no_logon(host):
    proto = Protocol(host.endpoint, transport="ntlm", username="hvadmin", password="wrong")
    with pytest.raises(InvalidCredentialsError):
        get_service(proto)
    counts = host.counters()
    assert (counts["connections"], counts["logons"], counts["auth_failures"]) == (1, 0, 1)


def test_control_requests_are_not_connections_and_reset_zeroes_all(host):
    get_service(ntlm(host))
    assert control(host, "GET", "/_sim/counters")["connections"] == 1       # its own connection is not counted
    assert control(host, "POST", "/_sim/counters/reset") == ZERO
    assert control(host, "GET", "/_sim/counters") == ZERO


# ---------------------------------------------------------------- requests by operation and class

def test_enumerate_and_pulls_are_counted_by_class(host):
    assert query(ntlm(host), "SELECT * FROM Msvm_ComputerSystem", per_pull=2) == 3     # host + 5 VMs, 1 + 2 + 2 + 1
    assert host.counters() == {**ZERO, "total": 4, "connections": 1, "logons": 1,
                               "Enumerate": 1, "Enumerate Msvm_ComputerSystem": 1,
                               "Pull": 3, "Pull Msvm_ComputerSystem": 3}


def test_get_invoke_and_release_by_class_faults_and_drops_included(client):
    client.sim.add_fault(operation="Get", drop="before")
    with pytest.raises(DropConnection):
        client.get("Msvm_ComputerSystem", [("CreationClassName", "Msvm_ComputerSystem"), ("Name", client.WEB01)])
    resp = client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                         client.vm_ref(client.WEB01))
    job_id = re.search(r'<w:Selector Name="InstanceID">([^<]+)</w:Selector>', resp.text).group(1)
    client.sim.inject_fault("Get", "TimedOut")
    assert client.get("Msvm_ConcreteJob", [("InstanceID", job_id)]).status == 500
    context = client.enumerate("SELECT * FROM Msvm_ConcreteJob", optimize=False).find(
        "s:Body/n:EnumerateResponse/n:EnumerationContext").text
    client.release(context)
    counts = client.sim.counters()
    assert {k: v for k, v in counts.items() if " " in k} == {
        "Get Msvm_ComputerSystem": 1, "Invoke:InitiateFailover Msvm_ReplicationService": 1,
        "Get Msvm_ConcreteJob": 1, "Enumerate Msvm_ConcreteJob": 1, "Release Msvm_ConcreteJob": 1}
    assert (counts["Get"], counts["Invoke:InitiateFailover"], counts["Enumerate"], counts["Release"]) == (2, 1, 1, 1)


def test_no_class_key_when_the_class_is_unknown(client):
    assert client.pull("uuid:00000000-0000-0000-0000-000000000000").status == 500    # a context never handed out
    client.enumerate(f"ASSOCIATORS OF {{Msvm_ComputerSystem.CreationClassName='Msvm_ComputerSystem',"
                     f"Name='{client.WEB01}'}}")
    counts = client.sim.counters()
    assert (counts["Pull"], counts["Enumerate"]) == (1, 1)
    assert not [key for key in counts if " " in key]


# ---------------------------------------------------------------- network latency

def test_latency_on_the_connection_and_every_leg_of_an_ntlm_request(clock):
    with Simulator(fleet(), clock=clock, network_latency_ms=20) as sim:
        sim.sleep = sleep = SleepRecorder()
        proto = ntlm(sim)
        get_service(proto)
        # The TCP handshake, then four HTTP legs: the credential-less POST (401), the NTLM negotiate message
        # (401 and the challenge), the authenticate message on pywinrm's empty encryption-setup POST (200), and
        # the sealed Get (200).
        assert sleep.calls == [0.02] * 5
        get_service(proto)                      # the same connection, already logged on: one round trip
        assert sleep.calls == [0.02] * 6
        assert [entry["latency_ms"] for entry in sim.requests()] == [0.0, 0.0]   # not a fault rule's latency


def test_latency_rule_adds_to_the_network_latency(clock):
    with Simulator(fleet(), clock=clock, network_latency_ms=5) as sim:
        proto = ntlm(sim)
        get_service(proto)
        sim.sleep = sleep = SleepRecorder()
        sim.add_fault(operation="Get", latency_ms=250)
        get_service(proto)
        assert sleep.calls == [0.005, 0.25]          # the network in the HTTP layer, then the rule in the pipeline


def test_no_latency_for_control_requests(clock):
    with Simulator(fleet(), clock=clock, network_latency_ms=20) as sim:
        sim.sleep = sleep = SleepRecorder()
        control(sim, "GET", "/_sim/counters")
        control(sim, "POST", "/_sim/counters/reset")
        control(sim, "GET", "/_sim/vms")
        assert not sleep.calls and sim.counters() == ZERO


def test_no_sleep_at_all_without_latency(host):
    host.sleep = sleep = SleepRecorder()
    get_service(ntlm(host))
    assert not sleep.calls


def test_connections_wait_in_their_own_threads(clock):
    """Two connections meet in the latency wait at the same time: it is neither in accept() nor serialised."""
    barrier = threading.Barrier(2, timeout=10)
    with Simulator(fleet(basic_auth=True, allow_unencrypted=True), clock=clock, network_latency_ms=50) as sim:
        sim.sleep = lambda seconds: barrier.wait()
        statuses = []

        def one_get() -> None:
            url = urllib.parse.urlparse(sim.endpoint)
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
            auth = base64.b64encode(f"hvadmin:{PASSWORD}".encode()).decode()
            conn.request("POST", "/wsman", body=b"not xml", headers={
                "Authorization": f"Basic {auth}", "Content-Type": "application/soap+xml;charset=UTF-8"})
            statuses.append(conn.getresponse().status)
            conn.close()

        threads = [threading.Thread(target=one_get) for _index in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert statuses == [400, 400] and not barrier.broken
        assert sim.counters()["connections"] == 2


@pytest.mark.parametrize("value", [-1, -0.5, "20ms", True, None, float("nan"), float("inf")])
def test_network_latency_must_be_a_number_of_at_least_zero(value):
    with pytest.raises(FleetError, match=r"^hosts\[0\]\.network_latency_ms: expected a finite number >= 0"):
        Simulator(fleet(network_latency_ms=value))
    with pytest.raises(FleetError, match=r"^hosts\[0\]\.network_latency_ms:"):
        Simulator(fleet(), network_latency_ms=value)


def test_network_latency_from_a_fleet_file(tmp_path):
    path = tmp_path / "fleet.yml"
    path.write_text("hosts:\n  - name: HV-NET01\n    users: [{username: u, password: p}]\n"
                    "    network_latency_ms: 2.5\n", encoding="utf-8")
    assert Simulator.from_file(str(path)).network_latency == 0.0025
    assert Simulator.from_file(str(path), network_latency_ms=0).network_latency == 0.0
