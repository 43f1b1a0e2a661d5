"""The CIM layer reads real Windows responses and builds the requests Windows expects."""

from __future__ import annotations

import threading
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils import timefmt
from ansible_collections.hyperv.replica.plugins.module_utils.cim import values as cimmod
from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Reference, parse_value
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import (
    WSManClient, WSManProtocolError, parse_xml)

from ansible_collections.hyperv.replica.tests.unit.replay import ReplaySender, captures_dir

V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"


def _sequences(root: Path):
    """(folder, class, shape) for every recorded query."""
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and p.name.startswith("server_")):
        for first in sorted(folder.glob("*_000.xml")):
            cls, shape = first.name[:-len("_000.xml")].rsplit("_", 1)
            yield folder, cls, shape


def _replay(folder: Path, cls: str, shape: str):
    files = sorted(folder.glob("%s_%s_[0-9][0-9][0-9].xml" % (cls, shape)))
    sender = ReplaySender([f.read_bytes() for f in files])
    rows = CimClient(WSManClient(sender)).query("SELECT * FROM %s" % cls)
    return rows, sender, len(files)


_CAPTURES = captures_dir()
_PARAMS = list(_sequences(_CAPTURES)) if _CAPTURES else []


@pytest.mark.skipif(not _PARAMS, reason="../shared/wsman-captures is not present")
@pytest.mark.parametrize("folder, cls, shape", _PARAMS, ids=["%s/%s/%s" % (f.name, c, s) for f, c, s in _PARAMS])
def test_every_capture_parses_with_every_property(folder, cls, shape):
    rows, sender, files = _replay(folder, cls, shape)
    # One Enumerate then one Pull per further file: the client followed the contexts to EndOfSequence.
    assert len(sender.requests) == files and not sender.responses
    assert rows, "no rows parsed"
    expected = {line.strip() for line in (folder / ("%s.properties" % cls)).read_text().splitlines() if line.strip()}
    for row in rows:
        assert set(row) >= expected, "missing %s" % sorted(expected - set(row))
    # A query returns derived classes too (Win32_Service gives Win32_TerminalService rows): each row keeps
    # the class it really is.
    assert any(row.class_name == cls for row in rows)
    assert all(row.class_name.startswith("Win32_") for row in rows)


@pytest.mark.skipif(not _PARAMS, reason="../shared/wsman-captures is not present")
@pytest.mark.parametrize("folder, cls", sorted({(f, c) for f, c, shape in _PARAMS}), ids=lambda v: getattr(v, "name", v))
def test_star_and_all_shapes_agree(folder, cls):
    star = _replay(folder, cls, "star")[0]
    frag = _replay(folder, cls, "all")[0]
    assert len(star) == len(frag)
    for prop in star[0]:
        star_types = {type(r[prop]) for r in star if r[prop] is not None}
        frag_types = {type(r[prop]) for r in frag if r.get(prop) is not None}
        assert not star_types or not frag_types or star_types == frag_types, prop
    # Properties that do not change between two reads of a host agree value for value.
    for prop in ("Caption", "CreationClassName", "Description"):
        if prop in star[0]:
            assert sorted(str(r[prop]) for r in star) == sorted(str(r[prop]) for r in frag), prop


@pytest.mark.skipif(not _CAPTURES, reason="../shared/wsman-captures is not present")
def test_capture_value_types():
    folder = _CAPTURES / "server_2012"
    (os_row,) = _replay(folder, "Win32_OperatingSystem", "star")[0]
    assert os_row["CSDVersion"] is None
    assert isinstance(os_row["InstallDate"], datetime) and os_row["InstallDate"].tzinfo is not None
    (frag_row,) = _replay(folder, "Win32_OperatingSystem", "all")[0]
    assert frag_row["InstallDate"] == os_row["InstallDate"]
    adapters = _replay(folder, "Win32_NetworkAdapterConfiguration", "star")[0]
    assert any(isinstance(a.get("IPAddress"), list) for a in adapters) or any(
        isinstance(v, list) for a in adapters for v in a.values())


@pytest.mark.parametrize("text, expected", [
    ("2013-04-15T16:28:43.488171Z", datetime(2013, 4, 15, 16, 28, 43, 488171, timezone.utc)),
    ("2013-04-15T16:28:43.46875Z", datetime(2013, 4, 15, 16, 28, 43, 468750, timezone.utc)),
    ("2024-01-02T03:04:05+08:00", datetime(2024, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=8)))),
    ("2024-01-02T03:04:05.1234567-05:30", datetime(2024, 1, 2, 3, 4, 5, 123456,
                                                   tzinfo=timezone(-timedelta(hours=5, minutes=30)))),
    ("1601-01-01T00:00:00Z", datetime(1601, 1, 1, tzinfo=timezone.utc)),
])
def test_datetime(text, expected):
    assert timefmt.parse_cim_datetime(text) == expected


def test_bad_datetime_is_a_protocol_error():
    element = _element('<p:X %s><cim:Datetime>yesterday</cim:Datetime></p:X>' % NS)
    with pytest.raises(WSManProtocolError, match="not a CIM datetime"):
        parse_value(element)


def test_interval():
    assert timefmt.parse_cim_interval("P0DT0H1M40S") == timedelta(seconds=100)
    assert timefmt.parse_cim_interval("P1DT0H0M0.5S") == timedelta(days=1, seconds=0.5)


def _element(xml: str) -> ET.Element:
    return parse_xml(xml.encode())


NS = ('xmlns:p="%s/Msvm_ComputerSystem" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
      'xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" '
      'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
      'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"' % V2)


def test_instance_typing_from_schema():
    row = cimmod.parse_instance(_element(
        '<p:Msvm_ComputerSystem %s><p:ElementName>2019</p:ElementName><p:EnabledState>3</p:EnabledState>'
        '<p:OperationalStatus>2</p:OperationalStatus><p:OtherEnabledState xsi:nil="true"/>'
        '<p:ReplicationState>3</p:ReplicationState><p:Name>ABC</p:Name><p:Description></p:Description>'
        '</p:Msvm_ComputerSystem>' % NS))
    assert row.class_name == "Msvm_ComputerSystem"
    assert row["ElementName"] == "2019"  # a string property stays a string even when it looks numeric
    assert row["EnabledState"] == 3 and row["ReplicationState"] == 3
    assert row["OperationalStatus"] == [2]  # an array of one is still a list
    assert row["OtherEnabledState"] is None and row["Description"] == ""
    assert row.reference() == Reference(V2 + "/Msvm_ComputerSystem",
                                        (("CreationClassName", ""), ("Name", "ABC")))


def test_reference_value_direct_and_wrapped():
    body = ('<a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address>'
            '<a:ReferenceParameters><w:ResourceURI>%s/Msvm_ConcreteJob</w:ResourceURI><w:SelectorSet>'
            '<w:Selector Name="InstanceID">1A2B</w:Selector></w:SelectorSet></a:ReferenceParameters>' % V2)
    for xml in ('<p:Job %s>%s</p:Job>' % (NS, body),
                '<p:Job %s><a:EndpointReference>%s</a:EndpointReference></p:Job>' % (NS, body)):
        ref = parse_value(_element(xml))
        assert ref.class_name == "Msvm_ConcreteJob" and ref.selector("instanceid") == "1A2B"


def test_query_releases_an_abandoned_enumeration():
    item = '<p:Msvm_ComputerSystem %s><p:Name>X</p:Name></p:Msvm_ComputerSystem>' % NS
    first = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
             'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" '
             'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Body><n:EnumerateResponse>'
             '<n:EnumerationContext>uuid:CTX</n:EnumerationContext><w:Items>%s</w:Items>'
             '</n:EnumerateResponse></s:Body></s:Envelope>' % item).encode()
    release = (b'<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>')
    sender = ReplaySender([first, release])
    rows = CimClient(WSManClient(sender)).iter_query("SELECT * FROM Msvm_ComputerSystem")
    assert next(rows)["Name"] == "X"
    rows.close()
    assert "Release" in sender.requests[-1] and "uuid:CTX" in sender.requests[-1]


def test_invoke_writes_ref_parameters_and_omits_null():
    out = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>'
           '<p:InitiateFailover_OUTPUT xmlns:p="%s/Msvm_ReplicationService" '
           'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><p:Job xsi:nil="true"/>'
           '<p:ReturnValue>0</p:ReturnValue></p:InitiateFailover_OUTPUT></s:Body></s:Envelope>' % V2).encode()
    sender = ReplaySender([out])
    service = Reference.to("Msvm_ReplicationService", CreationClassName="Msvm_ReplicationService",
                           Name="replicasvc", SystemCreationClassName="Msvm_ComputerSystem", SystemName="HV1")
    vm = Reference.to("Msvm_ComputerSystem", CreationClassName="Msvm_ComputerSystem", Name="GUID-1")
    result = CimClient(WSManClient(sender)).invoke(service, "InitiateFailover",
                                                   {"ComputerSystem": vm, "SnapshotSettingData": None})
    assert result.return_value == 0 and result.outputs == {"Job": None}
    sent = parse_xml(sender.requests[0].encode())
    header = {e.tag.rsplit("}", 1)[1]: e for e in sent[0]}
    assert header["Action"].text == V2 + "/Msvm_ReplicationService/InitiateFailover"
    assert [s.get("Name") for s in header["SelectorSet"]] == [
        "CreationClassName", "Name", "SystemCreationClassName", "SystemName"]
    (request,) = list(sent[1])
    assert request.tag == "{%s/Msvm_ReplicationService}InitiateFailover_INPUT" % V2
    (param,) = list(request)  # SnapshotSettingData=None is omitted, which WMI reads as NULL
    assert param.tag == "{%s/Msvm_ReplicationService}ComputerSystem" % V2
    assert [c.tag.rsplit("}", 1)[1] for c in param] == ["Address", "ReferenceParameters"]
    assert cimmod.parse_reference(param) == vm


class _HeldQueries(CimClient):
    """A client whose queries each wait until ``hold`` of them run at once, then answer two rows each."""

    def __init__(self, concurrency, hold):
        super().__init__(WSManClient(ReplaySender([])), concurrency=concurrency)
        self.arrived = threading.Barrier(hold) if hold > 1 else None
        self.threads = set()

    def query(self, wql):
        self.threads.add(threading.get_ident())
        if self.arrived is not None:
            self.arrived.wait(timeout=10)
        return [wql + "-1", wql + "-2"]


@pytest.mark.parametrize("concurrency, queries, together", [(1, 3, 1), (4, 3, 3), (2, 6, 2)])
def test_query_all_runs_up_to_concurrency_queries_at_once_and_keeps_their_order(concurrency, queries, together):
    client = _HeldQueries(concurrency, together)
    wqls = ["q%d" % i for i in range(queries)]
    assert client.query_all(wqls) == [w + suffix for w in wqls for suffix in ("-1", "-2")]
    # The barrier opens only when `together` queries wait at it, so finishing proves they ran at once.
    assert len(client.threads) == together
