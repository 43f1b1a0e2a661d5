"""End to end over HTTP with real clients: pywinrm 0.5.0 (the collection's transport) and pypsrp (independent)."""

import re
import xml.etree.ElementTree as ET

import pytest

winrm = pytest.importorskip("winrm")
xmltodict = pytest.importorskip("xmltodict")
# pylint: disable=wrong-import-position
from winrm.exceptions import InvalidCredentialsError, WinRMOperationTimeoutError, WSManFaultError  # noqa: E402
from winrm.protocol import Protocol  # noqa: E402

V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
NS = {"s": "http://www.w3.org/2003/05/soap-envelope", "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
      "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd", "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing"}
SERVICE = [("CreationClassName", "Msvm_ReplicationService"), ("Name", "replicasvc"),
           ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", "HV-TEST01")]


def protocol(sim, password="pw"):
    return Protocol(sim.endpoint, transport="basic", username="admin", password=password, message_encryption="never")


def send(proto, action, resource_uri, selectors=None, body=None):
    """The recipe of wire notes 6.1: build_wsman_header + xmltodict + send_message."""
    env = proto.build_wsman_header(action=action, resource_uri=resource_uri)
    if selectors:
        env["env:Header"]["w:SelectorSet"] = {"w:Selector": [{"@Name": k, "#text": v} for k, v in selectors]}
    env["env:Body"] = body or {}
    return ET.fromstring(proto.send_message(xmltodict.unparse({"env:Envelope": env})))


def local(elem):
    return elem.tag.split("}")[1]


def props(instance):
    return {local(c): c.text for c in instance}


def test_get(live):
    root = send(protocol(live), "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", f"{V2}/Msvm_ReplicationService",
                SERVICE)
    inst = root.find("s:Body", NS)[0]
    assert local(inst) == "Msvm_ReplicationService"
    assert props(inst)["SystemName"] == "HV-TEST01" and props(inst)["Name"] == "replicasvc"


def test_optimized_enumerate_and_pulls(live):
    proto = protocol(live)
    body = {"n:Enumerate": {"w:OptimizeEnumeration": None, "w:MaxElements": "32000",
                            "w:Filter": {"@Dialect": WQL, "#text": "SELECT * FROM Msvm_ComputerSystem"}}}
    root = send(proto, "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", f"{V2}/*", body=body)
    items = list(root.find("s:Body/n:EnumerateResponse/w:Items", NS))
    context = root.find("s:Body/n:EnumerateResponse/n:EnumerationContext", NS).text
    pulls = 0
    while context:
        pull = {"n:Pull": {"n:EnumerationContext": context, "n:MaxElements": "2"}}
        root = send(proto, "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull", f"{V2}/*", body=pull)
        items.extend(root.find("s:Body/n:PullResponse/n:Items", NS))
        ctx = root.find("s:Body/n:PullResponse/n:EnumerationContext", NS)
        context = None if ctx is None else ctx.text
        pulls += 1
    assert root.find("s:Body/n:PullResponse/n:EndOfSequence", NS) is not None
    assert len(items) == 7 and pulls == 3
    assert {props(i)["ElementName"] for i in items} >= {"HV-TEST01", "web01", "sql01", "dup"}
    assert live.counters()["Pull"] == 3 and live.counters()["Enumerate"] == 1


def test_invoke_initiate_failover_then_poll_the_job(live, clock):
    proto = protocol(live)
    vm_id = live.vms()[0]["id"]
    body = {"p:InitiateFailover_INPUT": {
        "@xmlns:p": f"{V2}/Msvm_ReplicationService",
        "p:ComputerSystem": {
            "a:Address": ANON,
            "a:ReferenceParameters": {
                "w:ResourceURI": f"{V2}/Msvm_ComputerSystem",
                "w:SelectorSet": {"w:Selector": [{"@Name": "CreationClassName", "#text": "Msvm_ComputerSystem"},
                                                 {"@Name": "Name", "#text": vm_id}]}}}}}
    root = send(proto, f"{V2}/Msvm_ReplicationService/InitiateFailover", f"{V2}/Msvm_ReplicationService", SERVICE,
                body)
    output = root.find("s:Body", NS)[0]
    assert local(output) == "InitiateFailover_OUTPUT"
    assert output.find("{*}ReturnValue").text == "4096"
    job_epr = output.find("{*}Job")
    uri = job_epr.find("a:ReferenceParameters/w:ResourceURI", NS).text
    selectors = [(s.get("Name"), s.text) for s in job_epr.iterfind("a:ReferenceParameters/w:SelectorSet/w:Selector",
                                                                   NS)]
    states = []
    for _attempt in range(20):
        job = props(send(proto, "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", uri, selectors).find("s:Body",
                                                                                                           NS)[0])
        states.append(job["JobState"])
        if job["JobState"] in ("7", "8", "9", "10"):
            break
        clock.advance(2.5)          # the simulator's clock, not a sleep
    assert states[0] == "2" and states[-1] == "7" and "4" in states
    assert live.vms()[0]["state"] == 5
    assert live.counters()["Invoke:InitiateFailover"] == 1


def test_fault_arrives_as_wsman_fault_error(live):
    with pytest.raises(WSManFaultError) as exc:
        send(protocol(live), "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", f"{V2}/Msvm_ComputerSystem",
             [("CreationClassName", "Msvm_ComputerSystem"), ("Name", "NO-SUCH-VM")])
    err = exc.value
    assert err.code == 500
    assert err.fault_code == "s:Sender" and err.fault_subcode == "a:DestinationUnreachable"
    assert err.wsman_fault_code == 2150858752
    assert err.reason.startswith("The WS-Management service cannot process the request.")
    assert "<f:ProviderFault" in err.response


def test_wql_fault_fields(live):
    body = {"n:Enumerate": {"w:OptimizeEnumeration": None,
                            "w:Filter": {"@Dialect": WQL, "#text": "SELECT * FROM Msvm_NoSuchClass"}}}
    with pytest.raises(WSManFaultError) as exc:
        send(protocol(live), "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", f"{V2}/*", body=body)
    assert (exc.value.fault_subcode, exc.value.wsman_fault_code) == ("n:CannotProcessFilter", 2150858778)


def test_timeout_fault_becomes_operation_timeout_error(live):
    live.inject_fault("Get", "TimedOut")
    with pytest.raises(WinRMOperationTimeoutError):
        send(protocol(live), "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", f"{V2}/Msvm_ReplicationService",
             SERVICE)


def test_wrong_password(live):
    with pytest.raises(InvalidCredentialsError):
        send(protocol(live, password="nope"), "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get",
             f"{V2}/Msvm_ReplicationService", SERVICE)
    assert live.counters()["auth_failures"] == 1


def test_pypsrp_get_by_selectors(live):
    wsman_mod = pytest.importorskip("pypsrp.wsman")
    port = int(re.search(r":(\d+)/wsman$", live.endpoint).group(1))
    client = wsman_mod.WSMan("127.0.0.1", port=port, username="admin", password="pw", ssl=False, auth="basic",
                             encryption="never", cert_validation=False)
    selector_set = wsman_mod.SelectorSet()
    vm_id = live.vms()[0]["id"]
    selector_set.add_option("CreationClassName", "Msvm_ComputerSystem")
    selector_set.add_option("Name", vm_id.lower())
    body = client.get(f"{V2}/Msvm_ComputerSystem", selector_set=selector_set)
    inst = props(body[0])
    assert inst["Name"] == vm_id and inst["ElementName"] == "web01" and inst["ReplicationState"] == "3"
