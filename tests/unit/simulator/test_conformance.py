"""Conformance of the simulator to the reference notes, checked over HTTP through two independent clients.

pypsrp's ``WSMan`` (written against real Windows by a third party) and the collection's own shim
(``WSManClient``/``CimClient`` over pywinrm) talk to the same live simulator. Each test asserts concrete
values from the notes (``wsman-wmi-wire.md`` = "wire", ``hyperv-replica-wmi.md`` = "hyperv"; section numbers
in the comments), on the raw wire and on what each client makes of it, and the ``*_agree`` tests check that
the two clients see the same thing.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Callable, Optional

import pytest

from ansible_collections.hyperv.replica.tests.unit.simulator.clients import (
    ANON, CLIENTS, NS, V2, ClientFault, Ref, Shape, class_uri, enumeration_shape, envelope_facts, local, props,
    request_message_id, wire_fault)
from hypervsim import Simulator  # conftest.py puts tests/simulator on sys.path

WEB01 = "5F1D2A4B-9C3E-4F7A-8B6D-1E2F3A4B5C6D"        # replica, replicating, off (conftest's small fleet)
PRIM01 = "11111111-2222-4333-8444-555555555555"       # primary: InitiateFailover is the wrong mode
MISSING = "99999999-9999-4999-8999-999999999999"
HOST = "HV-TEST01"
PASSWORD = "pw"
QUOTA = 3                     # max_concurrent_operations, small so the quota fault is reachable
ALL_SYSTEMS = "SELECT * FROM Msvm_ComputerSystem"
SYSTEM_NAMES = sorted(["HV-TEST01", "web01", "sql01", "prim01", "it's \"x\" \\ y", "dup", "dup"])
GUID_UPPER = r"[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"
SERVICE_KEYS = (("CreationClassName", "Msvm_ReplicationService"), ("Name", "replicasvc"),
                ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", HOST))
SERVICE = Ref(class_uri("Msvm_ReplicationService"), SERVICE_KEYS)
FAULT_ACTIONS = {   # wire 1.4: the fault Action follows the subcode's family
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault",
}
FAULT_DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"
FINISHED = ("n:EnumerationContext", "w:Items", "w:EndOfSequence")   # wire 2.2, an optimized answer that ends


def vm_ref(vm_id: str) -> Ref:
    return Ref(class_uri("Msvm_ComputerSystem"), (("CreationClassName", "Msvm_ComputerSystem"), ("Name", vm_id)))


def _import_client_library(kind: str) -> None:
    pytest.importorskip("pypsrp.wsman" if kind == "pypsrp" else "winrm")


@pytest.fixture
def make_server(serve, fleet_dict):
    """Factory: the small fleet served on loopback, on the manual clock (no test sleeps)."""
    return lambda: serve(fleet_dict, max_concurrent_operations=QUOTA)


@pytest.fixture
def server(make_server):
    return make_server()


def _connector(kind: str, sim: Simulator, opened: list) -> Callable:
    def connect(username: str = "admin"):
        client = CLIENTS[kind](sim.endpoint, username, PASSWORD)
        opened.append(client)
        return client
    return connect


@pytest.fixture(params=sorted(CLIENTS))
def connect(request, server):
    """Factory of clients of one kind (pypsrp or shim) for the test's server."""
    _import_client_library(request.param)
    opened: list = []
    yield _connector(request.param, server, opened)
    for client in opened:
        client.close()


@pytest.fixture
def client(connect):
    return connect()


@pytest.fixture
def both(make_server):
    """One fresh server per client kind, so that state one client leaves (open contexts) cannot leak."""
    for kind in CLIENTS:
        _import_client_library(kind)
    opened: list = []
    servers = {kind: make_server() for kind in sorted(CLIENTS)}
    yield {kind: (sim, _connector(kind, sim, opened)) for kind, sim in servers.items()}
    for client in opened:
        client.close()


# ---------------------------------------------------------------- 0. Response envelopes (wire 1.5)


def _answers_of_each_kind(client) -> dict:
    """One Get, Enumerate, Pull and fault answer, each with the request it answers."""
    recorder, taken = client.recorder, {}
    client.get("Msvm_ReplicationService", SERVICE_KEYS)
    taken["get"] = (recorder.requests[-1], recorder.last)
    context = client.enumerate(ALL_SYSTEMS).context
    taken["enumerate"] = (recorder.requests[-1], recorder.last)
    client.pull(context, max_elements=2)
    taken["pull"] = (recorder.requests[-1], recorder.last)
    client.fault_of(lambda: client.pull("uuid:00000000-0000-4000-8000-000000000000"))
    taken["fault"] = (recorder.requests[-1], recorder.last)
    return taken


def test_response_envelopes_have_the_windows_shape(client):
    # wire 1.5: declared prefixes by response type; xml:lang="en-US" on the Envelope; header order Action,
    # MessageID (uuid: + upper-case GUID), optional p:ActivityId, To (anonymous), RelatesTo (verbatim echo).
    declared = {"get": "s a x w p", "enumerate": "s a n w", "pull": "s a n w", "fault": "s a x e n w p"}
    for kind, (request, answer) in _answers_of_each_kind(client).items():
        facts = envelope_facts(answer)
        assert (kind, facts.prefixes, facts.lang) == (kind, declared[kind].split(), "en-US")   # kind names a failure
        assert [name for name in facts.header if name != "p:ActivityId"] == [
            "a:Action", "a:MessageID", "a:To", "a:RelatesTo"]
        assert ("p:ActivityId" in facts.header) == ("p" in facts.prefixes)
        assert re.fullmatch("uuid:" + GUID_UPPER, facts.message_id) and facts.to == ANON
        assert facts.relates_to == request_message_id(request)


# ---------------------------------------------------------------- 1. Enumerate with WQL


def test_optimized_enumerate_gives_one_item_then_pulls_to_end_of_sequence(client, server):
    batch = client.enumerate(ALL_SYSTEMS)
    # wire 2.2: 2008 R2+ put exactly one item in w:Items whatever MaxElements says; more remain, so a live
    # context and no EndOfSequence yet.
    assert enumeration_shape(client.recorder.last) == Shape(
        "EnumerateResponse", ("n:EnumerationContext", "w:Items"), 1, batch.context)
    assert len(batch.items) == 1 and batch.context
    items, shapes = list(batch.items), []
    while batch.context:
        batch = client.pull(batch.context, max_elements=2)
        shapes.append(enumeration_shape(client.recorder.last))
        items.extend(batch.items)
    # wire 2.3: n:Items; a context only while more remain; the last batch has n:EndOfSequence and no context.
    more, last = ("n:EnumerationContext", "n:Items"), ("n:Items", "n:EndOfSequence")
    assert [(shape.kind, shape.layout, shape.item_count) for shape in shapes] == [
        ("PullResponse", more, 2), ("PullResponse", more, 2), ("PullResponse", last, 2)]
    assert sorted(props(i)["ElementName"] for i in items) == SYSTEM_NAMES
    assert {local(i.tag) for i in items} == {"Msvm_ComputerSystem"}
    assert (server.counters()["Enumerate"], server.counters()["Pull"]) == (1, 3)


def test_single_match_ends_in_the_enumerate_response(client, server):
    batch = client.enumerate(f"SELECT * FROM Msvm_ComputerSystem WHERE Name = '{WEB01}'")
    # wire 2.2 (obs T1): everything fits -> EnumerationContext present but empty, plus w:EndOfSequence.
    assert enumeration_shape(client.recorder.last) == Shape("EnumerateResponse", FINISHED, 1, "")
    assert batch.context is None and props(batch.items[0])["ElementName"] == "web01"
    assert server.counters().get("Pull", 0) == 0


def test_query_matching_nothing_ends_at_once(client, server):
    batch = client.enumerate("SELECT * FROM Msvm_ComputerSystem WHERE ElementName = 'no-such-vm'")
    # wire 2.2: finished in the first response (empty context + w:EndOfSequence); README: an empty w:Items.
    assert enumeration_shape(client.recorder.last) == Shape("EnumerateResponse", FINISHED, 0, "")
    assert batch.items == [] and batch.context is None
    assert server.counters().get("Pull", 0) == 0


def test_select_list_returns_xml_fragment_rows(client):
    batch = client.enumerate("SELECT Name, ElementName FROM Msvm_ComputerSystem WHERE ElementName = 'web01'")
    (row,) = batch.items
    # wire 2.6: w:XmlFragment, un-namespaced children in alphabetical order, no class element, no xsi:type.
    assert row.tag == "{%s}XmlFragment" % NS["w"]
    assert [child.tag for child in row] == ["ElementName", "Name"]
    assert props(row) == {"ElementName": "web01", "Name": WEB01}
    assert row.get("{%s}type" % NS["xsi"]) is None


@pytest.mark.parametrize("wql, keys", [
    (ALL_SYSTEMS, ("Name", "ElementName", "ReplicationState", "ReplicationMode")),
    ("SELECT * FROM Msvm_ComputerSystem WHERE ReplicationMode = 2", ("Name", "ElementName", "ReplicationState")),
    ("SELECT ElementName, Name FROM Msvm_ComputerSystem WHERE EnabledState = 3", ("Name", "ElementName")),
    ("ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName=\"Msvm_ComputerSystem\",Name=\"%s\"} WHERE "
     "AssocClass = Msvm_SnapshotOfVirtualSystem ResultClass = Msvm_VirtualSystemSettingData" % WEB01,
     ("InstanceID", "ElementName", "VirtualSystemType")),
])
def test_clients_agree_on_query_results(both, wql, keys):
    seen = {}
    for kind, (_sim, connect) in both.items():
        rows = connect().query(wql)
        seen[kind] = sorted(tuple(values.get(k) for k in keys) for _cls, values in rows)
    assert seen["pypsrp"] == seen["shim"]


# ---------------------------------------------------------------- 2. Get by selectors


@pytest.mark.parametrize("class_name, selectors, canonical, expected", [
    ("msvm_computersystem", [("creationclassname", "MSVM_COMPUTERSYSTEM"), ("NAME", WEB01.lower())],
     "Msvm_ComputerSystem", {"Name": WEB01, "CreationClassName": "Msvm_ComputerSystem", "ElementName": "web01"}),
    ("MSVM_REPLICATIONSERVICE", [("creationCLASSname", "msvm_replicationservice"), ("name", "REPLICASVC"),
                                 ("SystemCreationClassName", "MSVM_computersystem"), ("systemname", "hv-test01")],
     "Msvm_ReplicationService", {"Name": "replicasvc", "SystemName": HOST,
                                 "CreationClassName": "Msvm_ReplicationService"}),
])
def test_get_is_case_insensitive_and_answers_in_canonical_casing(client, class_name, selectors, canonical, expected):
    instance = client.get(class_name, selectors)
    # wire 1.3: class, selector names and values are case-insensitive; the answer uses the canonical casing.
    assert instance.tag == "{%s}%s" % (class_uri(canonical), canonical)
    # wire 2.5: xsi:type="p:<Class>_Type"; every property, in case-insensitive alphabetical order.
    assert instance.get("{%s}type" % NS["xsi"]) == f"p:{canonical}_Type"
    names = [local(child.tag) for child in instance]
    assert names == sorted(names, key=str.lower)
    assert {k: props(instance)[k] for k in expected} == expected
    root = ET.fromstring(client.recorder.last)
    # wire 1.4 / 1.5: GetResponse action, xml:lang on the Envelope.
    assert root.find("s:Header/a:Action", NS).text == "http://schemas.xmlsoap.org/ws/2004/09/transfer/GetResponse"
    assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en-US"


# ---------------------------------------------------------------- 3. Invoke with a REF parameter


def _check_invoke_output_on_the_wire(text: str) -> None:
    root = ET.fromstring(text)
    service_uri = class_uri("Msvm_ReplicationService")
    # wire 1.4 / 4.3: <class URI>/<Method>Response; p:<Method>_OUTPUT in the class namespace, out-params then
    # ReturnValue; p:Job holds a:Address (anonymous) and a:ReferenceParameters directly, no EndpointReference.
    assert root.find("s:Header/a:Action", NS).text == service_uri + "/InitiateFailoverResponse"
    (output,) = list(root.find("s:Body", NS))
    assert output.tag == "{%s}InitiateFailover_OUTPUT" % service_uri
    assert [child.tag for child in output] == ["{%s}Job" % service_uri, "{%s}ReturnValue" % service_uri]
    job = output[0]
    assert [child.tag for child in job] == ["{%s}Address" % NS["a"], "{%s}ReferenceParameters" % NS["a"]]
    assert job[0].text == ANON


def test_initiate_failover_returns_4096_and_a_job_that_can_be_got(client, server):
    invoked = client.invoke(SERVICE, "InitiateFailover", {"ComputerSystem": vm_ref(WEB01)})
    _check_invoke_output_on_the_wire(client.recorder.last)
    assert invoked.return_value == 4096
    # wire 4.3 / hyperv 4.1: the Job EPR names .../v2/Msvm_ConcreteJob by InstanceID, an upper-case GUID.
    assert invoked.job.resource_uri == V2 + "/Msvm_ConcreteJob"
    ((key, job_id),) = invoked.job.selectors
    assert key == "InstanceID" and re.fullmatch(GUID_UPPER, job_id)
    job = props(client.get("Msvm_ConcreteJob", invoked.job.selectors))
    # hyperv 4.2 / 4.3: a fresh job is not finished yet; JobType 97 is Initiate Failover.
    assert job["InstanceID"] == job_id and job["JobType"] == "97" and job["JobState"] in ("2", "3", "4")
    server.advance_clock(11)          # the fleet's jobs take 10 simulated seconds
    assert props(client.get("Msvm_ConcreteJob", invoked.job.selectors))["JobState"] == "7"
    # hyperv 3.2: replica 3 -> 5 (Recovered) on InitiateFailover.
    assert next(vm["state"] for vm in server.vms() if vm["id"] == WEB01) == 5


def test_method_failure_is_a_return_code_with_http_200(client):
    invoked = client.invoke(SERVICE, "InitiateFailover", {"ComputerSystem": vm_ref(PRIM01)})
    # wire 4.3 / hyperv 3.3: wrong mode or state -> ReturnValue 32775 in an HTTP 200 answer, no job.
    assert (invoked.return_value, invoked.job) == (32775, None)
    assert client.recorder.answers[-1][0] == 200


# ---------------------------------------------------------------- 4. The fault catalogue (wire 5.2)


@dataclass(frozen=True)
class Expect:  # pylint: disable=too-many-instance-attributes
    """What the notes say a fault looks like; None = the notes do not say (not checked)."""

    code: Optional[str]
    subcode: Optional[str]
    wsman_code: int
    nested: Optional[bool] = None           # True: WMI ProviderFault inside f:Message (wire 5.1)
    detail: Optional[str] = None
    inner_text: Optional[str] = None
    operation: Optional[str] = None         # __ExtendedStatus Operation
    status_code: Optional[str] = None       # __ExtendedStatus StatusCode
    reason: Optional[str] = None


def _wql_unknown_class(connect, _sim):
    client = connect()
    return client, lambda: client.enumerate("SELECT * FROM Msvm_NoSuchClass")


def _get_unknown_class(connect, _sim):
    client = connect()
    return client, lambda: client.get("Msvm_NoSuchClass", [("InstanceID", "x")])


def _instance_not_found(connect, _sim):
    client = connect()
    return client, lambda: client.get("Msvm_ComputerSystem", vm_ref(MISSING).selectors)


def _unexpected_selector(connect, _sim):
    client = connect()
    return client, lambda: client.get("Msvm_ComputerSystem", vm_ref(WEB01).selectors + (("Colour", "blue"),))


def _insufficient_selectors(connect, _sim):
    client = connect()   # CreationClassName alone matches the host and every VM
    return client, lambda: client.get("Msvm_ComputerSystem", [("CreationClassName", "Msvm_ComputerSystem")])


def _keyless_get(connect, _sim):
    client = connect()
    return client, lambda: client.get("Msvm_ComputerSystem", [])


def _bad_method_parameter(connect, _sim):
    client = connect()   # hyperv 7: "AffectedSystem" is an invented parameter that does not exist
    params = {"ComputerSystem": vm_ref(WEB01), "AffectedSystem": "web01"}
    return client, lambda: client.invoke(SERVICE, "InitiateFailover", params)


def _access_denied(connect, _sim):
    client = connect("nobody")   # fleet user with rights: none
    return client, lambda: client.get("Msvm_ReplicationService", SERVICE_KEYS)


def _pull_timed_out(connect, sim):
    client = connect()
    context = client.enumerate(ALL_SYSTEMS).context
    sim.inject_fault("Pull", "TimedOut")
    return client, lambda: client.pull(context)


def _enumerate_timed_out(connect, sim):
    client = connect()
    sim.inject_fault("Enumerate", "TimedOut")
    return client, lambda: client.enumerate(ALL_SYSTEMS)


def _unknown_context(connect, _sim):
    client = connect()
    return client, lambda: client.pull("uuid:00000000-0000-4000-8000-000000000000")


def _expired_context(connect, sim):
    client = connect()
    context = client.enumerate(ALL_SYSTEMS).context
    sim.advance_clock(241)   # wire 2.3: idle EnumerationTimeoutms 240000 in the real config dump
    return client, lambda: client.pull(context)


def _released_context(connect, _sim):
    client = connect()
    context = client.enumerate(ALL_SYSTEMS).context
    client.release(context)
    return client, lambda: client.pull(context)


def _quota_exceeded(connect, _sim):
    client = connect()
    for _index in range(QUOTA):
        assert client.enumerate(ALL_SYSTEMS).context   # each leaves a context open
    return client, lambda: client.enumerate(ALL_SYSTEMS)


TIMED_OUT = Expect("s:Receiver", "w:TimedOut", 2150858793, nested=False)
INVALID_CONTEXT = Expect("s:Receiver", "n:InvalidEnumerationContext", 2150858779)
SCENARIOS = {
    # wire 5.2 row 1 (obs W1): inner ProviderFault + __ExtendedStatus Operation ExecQuery.
    "wql_unknown_class": (_wql_unknown_class, Expect(
        "s:Sender", "n:CannotProcessFilter", 2150858778, nested=True, operation="ExecQuery",
        inner_text="The specified class does not exist in the given namespace.")),
    # wire 5.2 "Unknown class in Get URI": s:Sender / a:DestinationUnreachable. That row gives no WSManFault
    # code (its source is the old spec example); 2150858752 is the not-found code of wire 9.6.
    "get_unknown_class": (_get_unknown_class, Expect("s:Sender", "a:DestinationUnreachable", 2150858752)),
    # wire 5.2 (obs M1): InvalidResourceURI detail, ProviderFault, __ExtendedStatus Operation GetObject.
    "instance_not_found": (_instance_not_found, Expect(
        "s:Sender", "a:DestinationUnreachable", 2150858752, nested=True, detail="InvalidResourceURI",
        operation="GetObject")),
    # wire 5.2 (obs P2): UnexpectedSelectors detail, plain message.
    "unexpected_selector": (_unexpected_selector, Expect(
        "s:Sender", "w:InvalidSelectors", 2150858843, nested=False, detail="UnexpectedSelectors")),
    "insufficient_selectors": (_insufficient_selectors, Expect("s:Sender", "w:InvalidSelectors", 2150858842)),
    # wire 3 / 5.2: keyless Get on a non-singleton -> 2150859002 wrapped in a ProviderFault from WsmWmiPl.dll.
    "keyless_get": (_keyless_get, Expect(None, None, 2150859002, nested=True)),
    # wire 4.3 / 8.2: ERROR_WSMAN_WMI_PROVIDER_INVALID_PARAMETER with WBEM_E_INVALID_METHOD_PARAMETERS.
    "bad_method_parameter": (_bad_method_parameter, Expect(
        None, None, 2150859038, nested=True, operation="ExecMethod", status_code=str(0x8004102F))),
    # wire 5.2: w:AccessDenied, Code 5, "Access is denied. ".
    "access_denied": (_access_denied, Expect("s:Sender", "w:AccessDenied", 5, reason="Access is denied. ")),
    # wire 5.2 (obs P1 tests): s:Receiver / w:TimedOut 2150858793, plain message.
    "pull_timed_out": (_pull_timed_out, TIMED_OUT),
    "enumerate_timed_out": (_enumerate_timed_out, TIMED_OUT),
    # wire 2.3 / 5.2: unknown, expired or released context -> s:Receiver / n:InvalidEnumerationContext.
    "unknown_context": (_unknown_context, INVALID_CONTEXT),
    "expired_context": (_expired_context, INVALID_CONTEXT),
    "released_context": (_released_context, INVALID_CONTEXT),
    # wire 2.3 / 5.2 (obs T1): per-user operation quota -> s:Receiver / w:InternalError 2150859174.
    "quota_exceeded": (_quota_exceeded, Expect("s:Receiver", "w:InternalError", 2150859174, nested=False)),
}


def _check_code(wire, expect: Expect) -> None:
    assert wire.http_status == 500                         # wire 5.3: every SOAP fault is HTTP 500
    if expect.code is not None:
        assert (wire.code, wire.subcode) == (expect.code, expect.subcode)
    if wire.subcode is not None:
        assert wire.action == FAULT_ACTIONS[wire.subcode.split(":")[0]]
    assert wire.wsman_code == expect.wsman_code
    assert wire.machine == "127.0.0.1"                     # wire 5.1: outer Machine = host as addressed
    if expect.detail is not None:
        assert wire.detail == FAULT_DETAIL + expect.detail
    if expect.reason is not None:
        assert wire.reason == expect.reason


def _check_nesting(wire, expect: Expect) -> None:
    if expect.nested is False:
        assert wire.provider is None and wire.message
    if not expect.nested:
        return
    # wire 5.1: f:Message holds f:ProviderFault provider="WMI Provider" path="...WsmWmiPl.dll" with the
    # server's own f:WSManFault (Machine = the server's name, not the address the client used).
    assert wire.provider["provider"] == "WMI Provider"
    assert wire.provider["path"].lower().endswith("\\system32\\wsmwmipl.dll")
    assert wire.provider_code is not None and wire.provider_machine.lower().startswith(HOST.lower())
    if expect.operation is not None:
        assert wire.extended["Operation"] == expect.operation
    if expect.status_code is not None:
        assert wire.extended["StatusCode"] == expect.status_code


def _inner_text(text: str) -> str:
    inner = ET.fromstring(text).find(".//f:ProviderFault/f:WSManFault/f:Message", NS)
    return inner.text


def _check_client_view(seen: ClientFault, wire, expect: Expect, raw: str) -> None:
    assert seen.wsman_code == expect.wsman_code
    nested = wire.provider is not None
    if seen.client == "pypsrp":
        # pypsrp reads the outer f:WSManFault: Machine, and f:Message text or (when it only holds the
        # ProviderFault) the s:Reason text, stripped; ProviderFault's provider/path attributes.
        assert seen.machine == wire.machine
        assert seen.text == (wire.reason if nested else wire.message).strip()
        assert (seen.provider, seen.provider_path) == ((wire.provider or {}).get("provider"),
                                                       (wire.provider or {}).get("path"))
        return
    if seen.timeout:
        # wire 6.3: pywinrm turns 2150858793 into WinRMOperationTimeoutError and drops the fault body.
        assert (seen.code, seen.subcode, seen.machine) == ("s:Receiver", "w:TimedOut", None)
        return
    assert (seen.code, seen.subcode, seen.machine, seen.http_status) == (wire.code, wire.subcode, wire.machine, 500)
    status_code = wire.extended.get("StatusCode")
    assert seen.wmi_code == (int(status_code) if status_code else None)
    expected_text = _inner_text(raw) if nested else wire.message
    assert seen.text == " ".join(expected_text.split())


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_fault_matches_the_notes_on_the_wire_and_in_the_client(connect, server, scenario):
    trigger, expect = SCENARIOS[scenario]
    client, operation = trigger(connect, server)
    seen = client.fault_of(operation)
    status, raw = client.recorder.answers[-1]
    wire = wire_fault(status, raw)
    _check_code(wire, expect)
    _check_nesting(wire, expect)
    if expect.inner_text is not None:
        assert _inner_text(raw).strip() == expect.inner_text
    _check_client_view(seen, wire, expect, raw)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_fault_texts_end_with_a_space(connect, server, scenario):
    trigger, _expect = SCENARIOS[scenario]
    client, operation = trigger(connect, server)
    client.fault_of(operation)
    wire = wire_fault(*client.recorder.answers[-1])
    # wire 5.1: "Reason/Message texts end with a trailing space (sometimes two)".
    assert wire.reason.endswith(" ")
    if wire.message is not None:
        assert wire.message.endswith(" ")


def _wire_summary(wire) -> tuple:
    extended = {k: v for k, v in wire.extended.items() if k != "ParameterInfo"}
    return (wire.http_status, wire.action, wire.code, wire.subcode, wire.wsman_code, wire.machine, wire.detail,
            wire.provider, wire.provider_code, extended)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_clients_agree_on_fault(both, scenario):
    trigger, _expect = SCENARIOS[scenario]
    seen, wires = {}, {}
    for kind, (sim, connect) in both.items():
        client, operation = trigger(connect, sim)
        seen[kind] = client.fault_of(operation)
        wires[kind] = _wire_summary(wire_fault(*client.recorder.answers[-1]))
    assert wires["pypsrp"] == wires["shim"]
    assert seen["pypsrp"].wsman_code == seen["shim"].wsman_code
    if not seen["shim"].timeout:     # pywinrm keeps no Machine for a timeout (wire 6.3)
        assert seen["pypsrp"].machine == seen["shim"].machine


# ---------------------------------------------------------------- the shim's own duty (wire 2.3)


def test_shim_releases_the_enumerations_it_abandons(server):
    pytest.importorskip("winrm")
    shim = CLIENTS["shim"](server.endpoint, "admin", PASSWORD)
    # wire 2.3: "Release contexts you abandon" - else the per-user quota fault comes after QUOTA queries.
    for _index in range(QUOTA + 2):
        rows = shim.cim.iter_query(ALL_SYSTEMS)
        assert next(rows).class_name == "Msvm_ComputerSystem"
        rows.close()
    assert server.counters()["Release"] == QUOTA + 2
    assert len(shim.cim.query(ALL_SYSTEMS)) == len(SYSTEM_NAMES)
