"""Fixtures for the simulator's tests: fleets, a manual clock, and a minimal WS-Man client that needs no HTTP."""

import datetime
import os
import sys
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import pytest

SIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "simulator")
if SIM_DIR not in sys.path:
    sys.path.insert(0, SIM_DIR)

# pylint: disable=wrong-import-position
from hypervsim import ManualClock, Simulator  # noqa: E402
from hypervsim.fleet import User  # noqa: E402

DEMO_FLEET = os.path.join(SIM_DIR, "fleets", "demo.yml")

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
    "cim": "http://schemas.dmtf.org/wbem/wscim/1/common",
}
V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
RELEASE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"
START = datetime.datetime(2026, 11, 21, 10, 0, 0, tzinfo=datetime.timezone.utc)

WEB01 = "5F1D2A4B-9C3E-4F7A-8B6D-1E2F3A4B5C6D"
SQL01 = "0A1B2C3D-4E5F-4061-8293-A4B5C6D7E8F9"
PRIM01 = "11111111-2222-4333-8444-555555555555"
ODD = "22222222-3333-4444-8555-666666666666"


def small_fleet() -> dict:
    """A fleet with every kind of VM the tests need, with fixed ids."""
    return {"hosts": [{
        "name": "HV-TEST01", "basic_auth": True, "allow_unencrypted": True,
        "users": [{"username": "admin", "password": "pw"}, {"username": "nobody", "password": "pw", "rights": "none"}],
        "job_seconds": 10,
        "vms": [
            {"name": "web01", "id": WEB01, "mode": "replica", "state": "replicating", "power": "off",
             "recovery_points": [{"type": "standard", "created": "-1h"},
                                 {"type": "application_consistent", "created": "-4h"},
                                 {"type": "planned", "created": "-10m"}]},
            {"name": "sql01", "id": SQL01, "mode": "replica", "state": "replicating", "power": "off",
             "recovery_points": [{"type": "standard", "created": "-2h"}]},
            {"name": "prim01", "id": PRIM01, "mode": "primary", "state": "replicating", "power": "off"},
            {"name": "it's \"x\" \\ y", "id": ODD, "mode": "none", "power": "running"},
            {"name": "dup", "mode": "replica", "state": "suspended"},
            {"name": "dup", "mode": "replica", "state": "recovered"},
        ],
    }]}


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def sim(clock):  # pylint: disable=redefined-outer-name
    """A simulator on a manual clock; not listening (the client fixture calls it directly)."""
    return Simulator(small_fleet(), clock=clock)


@dataclass
class Response:
    status: int
    text: str

    @property
    def root(self) -> ET.Element:
        return ET.fromstring(self.text)

    def find(self, path: str) -> ET.Element | None:
        return self.root.find(path, NS)

    def findall(self, path: str) -> list[ET.Element]:
        return self.root.findall(path, NS)

    @property
    def body(self) -> ET.Element:
        return self.root.find("s:Body", NS)

    def fault(self) -> dict:
        """The parts of a SOAP fault that clients look at."""
        fault = self.find("s:Body/s:Fault")
        assert fault is not None, self.text
        outer = fault.find("s:Detail/f:WSManFault", NS)
        inner = fault.find("s:Detail/f:WSManFault/f:Message/f:ProviderFault/f:WSManFault", NS)
        subcode = fault.find("s:Code/s:Subcode/s:Value", NS)
        detail = fault.find("s:Detail/w:FaultDetail", NS)
        return {
            "action": self.find("s:Header/a:Action").text,
            "code": fault.find("s:Code/s:Value", NS).text,
            "subcode": None if subcode is None else subcode.text,
            "reason": fault.find("s:Reason/s:Text", NS).text,
            "wsman_code": None if outer is None else int(outer.get("Code")),
            "machine": None if outer is None else outer.get("Machine"),
            "detail": None if detail is None else detail.text,
            "provider_code": None if inner is None else int(inner.get("Code")),
            "provider_machine": None if inner is None else inner.get("Machine"),
            "extended": {c.tag.split("}")[1]: c.text for c in fault.iterfind(".//f:ExtendedError/*/*", NS)},
        }


class DirectClient:  # pylint: disable=too-many-public-methods
    """Builds WS-Man requests like pywinrm does and hands them to the simulator without HTTP."""

    V2, NS, ANON = V2, NS, ANON
    WEB01, SQL01, PRIM01, ODD = WEB01, SQL01, PRIM01, ODD

    def __init__(self, simulator, user: User | None = None) -> None:
        self.sim = simulator
        self.user = user or simulator.config.users[0]
        self.last_message_id = ""

    def request(self, action: str, resource_uri: str | None, selectors=(), body: str = "", *,
                extra_header: str = "", message_id: str | None = "auto", reply_to: str = ANON,
                max_envelope: int = 153600) -> Response:
        self.last_message_id = f"uuid:{uuid.uuid4()}" if message_id == "auto" else message_id
        sel = ""
        if selectors:
            sel = "<w:SelectorSet>" + "".join(
                f"<w:Selector Name={quoteattr(k)}>{escape(v)}</w:Selector>" for k, v in selectors) + "</w:SelectorSet>"
        header = ('<a:To>http://windows-host:5985/wsman</a:To>'
                  + (f'<a:ReplyTo><a:Address mustUnderstand="true">{reply_to}</a:Address></a:ReplyTo>'
                     if reply_to is not None else "")
                  + f'<w:MaxEnvelopeSize mustUnderstand="true">{max_envelope}</w:MaxEnvelopeSize>'
                  + (f"<a:MessageID>{self.last_message_id}</a:MessageID>" if self.last_message_id else "")
                  + '<w:Locale mustUnderstand="false" xml:lang="en-US"/>'
                  + '<w:OperationTimeout>PT20S</w:OperationTimeout>'
                  + (f'<w:ResourceURI mustUnderstand="true">{resource_uri}</w:ResourceURI>'
                     if resource_uri is not None else "")
                  + f'<a:Action mustUnderstand="true">{action}</a:Action>' + sel + extra_header)
        envelope = (f'<env:Envelope xmlns:env="{NS["s"]}" xmlns:a="{NS["a"]}" xmlns:w="{NS["w"]}" '
                    f'xmlns:n="{NS["n"]}" xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">'
                    f"<env:Header>{header}</env:Header><env:Body>{body}</env:Body></env:Envelope>")
        status, data = self.sim.handle_wsman(envelope.encode("utf-8"), self.user, "127.0.0.1")
        return Response(status, data.decode("utf-8"))

    def get(self, class_name: str, selectors) -> Response:
        return self.request(GET, f"{V2}/{class_name}", selectors)

    def enumerate(self, query: str | None, *, optimize: bool = True, mode: str | None = None,
                  resource_uri: str = V2 + "/*", max_envelope: int = 153600) -> Response:
        parts = ["<w:OptimizeEnumeration/>" if optimize else "", "<w:MaxElements>32000</w:MaxElements>",
                 f"<w:EnumerationMode>{mode}</w:EnumerationMode>" if mode else "",
                 f'<w:Filter Dialect="{WQL}">{escape(query)}</w:Filter>' if query is not None else ""]
        return self.request(ENUMERATE, resource_uri, body=f"<n:Enumerate>{''.join(parts)}</n:Enumerate>",
                            max_envelope=max_envelope)

    def pull(self, context: str, max_elements: int | None = 32000, max_envelope: int = 153600) -> Response:
        maxel = f"<n:MaxElements>{max_elements}</n:MaxElements>" if max_elements is not None else ""
        body = f"<n:Pull><n:EnumerationContext>{context}</n:EnumerationContext>{maxel}</n:Pull>"
        return self.request(PULL, V2 + "/*", body=body, max_envelope=max_envelope)

    def release(self, context: str) -> Response:
        body = f"<n:Release><n:EnumerationContext>{context}</n:EnumerationContext></n:Release>"
        return self.request(RELEASE, V2 + "/*", body=body)

    def query(self, query: str) -> list[ET.Element]:
        """All items of a WQL query (optimized Enumerate, then Pulls)."""
        resp = self.enumerate(query)
        assert resp.status == 200, resp.text
        items = list(resp.find("s:Body/n:EnumerateResponse/w:Items"))
        context = resp.find("s:Body/n:EnumerateResponse/n:EnumerationContext").text
        while context:
            resp = self.pull(context)
            assert resp.status == 200, resp.text
            items.extend(resp.find("s:Body/n:PullResponse/n:Items"))
            ctx = resp.find("s:Body/n:PullResponse/n:EnumerationContext")
            context = None if ctx is None else ctx.text
        return items

    @staticmethod
    def service_selectors(host: str = "HV-TEST01") -> list[tuple[str, str]]:
        return [("CreationClassName", "Msvm_ReplicationService"), ("Name", "replicasvc"),
                ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", host)]

    @staticmethod
    def vm_ref(name: str, wrapper: bool = False, param: str = "ComputerSystem", class_name: str = "Msvm_ComputerSystem",
               keys: list[tuple[str, str]] | None = None) -> str:
        """A REF parameter in the libvirt form (or wrapped in a:EndpointReference)."""
        keys = keys if keys is not None else [("CreationClassName", class_name), ("Name", name)]
        sel = "".join(f'<w:Selector Name="{k}">{escape(v)}</w:Selector>' for k, v in keys)
        inner = (f"<a:Address>{ANON}</a:Address><a:ReferenceParameters><w:ResourceURI>{V2}/{class_name}</w:ResourceURI>"
                 f"<w:SelectorSet>{sel}</w:SelectorSet></a:ReferenceParameters>")
        if wrapper:
            inner = f"<a:EndpointReference>{inner}</a:EndpointReference>"
        return f"<p:{param}>{inner}</p:{param}>"

    @staticmethod
    def vssd_ref(instance_id: str) -> str:
        return DirectClient.vm_ref("", param="SnapshotSettingData", class_name="Msvm_VirtualSystemSettingData",
                                   keys=[("InstanceID", instance_id)])

    @staticmethod
    def prop(item: ET.Element, name: str) -> str | None:
        """Text of property p:name of an instance element (any p namespace)."""
        for child in item:
            if child.tag.endswith("}" + name):
                return child.text
        raise KeyError(name)

    def invoke(self, class_name: str, method: str, selectors, params: str, *, input_ns: str | None = None) -> Response:
        uri = f"{V2}/{class_name}"
        body = f'<p:{method}_INPUT xmlns:p="{input_ns or uri}">{params}</p:{method}_INPUT>'
        return self.request(f"{uri}/{method}", uri, selectors, body)


@pytest.fixture
def make_sim(clock):  # pylint: disable=redefined-outer-name
    """Factory: a simulator of the small fleet on the manual clock, with host setting overrides."""
    def factory(**overrides):
        return Simulator(small_fleet(), clock=clock, **overrides)
    return factory


@pytest.fixture
def client(sim):  # pylint: disable=redefined-outer-name
    return DirectClient(sim)


@pytest.fixture
def make_client(make_sim):  # pylint: disable=redefined-outer-name
    """Factory: a DirectClient on a fresh simulator with overrides."""
    def factory(**overrides):
        return DirectClient(make_sim(**overrides))
    return factory


@pytest.fixture
def vms_client(clock):  # pylint: disable=redefined-outer-name
    """Factory: a DirectClient on a simulator of HV-TEST01 with these VMs (and the small fleet's users)."""
    def factory(vms: list, **host):
        fleet = small_fleet()
        fleet["hosts"][0].update(host, vms=vms)
        return DirectClient(Simulator(fleet, clock=clock))
    return factory


@pytest.fixture
def live(clock):  # pylint: disable=redefined-outer-name
    """The small fleet served over HTTP on loopback, on the manual clock."""
    with Simulator(small_fleet(), clock=clock) as simulator:
        yield simulator


@pytest.fixture
def serve(clock):  # pylint: disable=redefined-outer-name
    """Factory: serve(fleet, **simulator_kwargs) starts a simulator on loopback, on the manual clock; all stop
    at the end of the test."""
    started = []

    def start(fleet: dict, **kwargs) -> Simulator:
        simulator = Simulator(fleet, clock=clock, **kwargs)
        simulator.start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


@pytest.fixture
def fleet_dict():
    return small_fleet()


@pytest.fixture
def demo_fleet_path():
    return DEMO_FLEET
