"""Instance rendering (wire notes 2.5/2.6), object paths and selector resolution."""

import datetime
import re
import xml.etree.ElementTree as ET

import pytest

from hypervsim import cim
from hypervsim.faults import WsmanFault

XSI = "http://www.w3.org/2001/XMLSchema-instance"
CLS = cim.CimClass("Test_Thing", [
    cim.Prop("Name", "string", key=True), cim.Prop("CSName"), cim.Prop("creationClassName"), cim.Prop("Count", "uint64"),
    cim.Prop("Flags", "uint16", array=True), cim.Prop("When", "datetime"), cim.Prop("Span", "interval"),
    cim.Prop("Enabled", "boolean"), cim.Prop("Link", "ref"), cim.Prop("Data_Value"), cim.Prop("DataZ"),
])


def render(**values):
    return cim.render_instance(cim.Instance(CLS, values))


def test_element_and_attribute_order():
    xml = render(Name="a")
    assert xml.startswith('<p:Test_Thing xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                          'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/Test_Thing" '
                          'xmlns:cim="http://schemas.dmtf.org/wbem/wscim/1/common" xsi:type="p:Test_Thing_Type">')
    assert "\n" not in xml and "> <" not in xml


def test_every_property_in_case_insensitive_order():
    order = re.findall(r"<p:(\w+)[ />]", render(Name="a"))[1:]
    assert order == sorted(order, key=str.lower)
    assert order.index("Count") < order.index("creationClassName") < order.index("CSName")
    assert len(order) == len(CLS.ordered)


def test_null_empty_array_and_scalars():
    xml = render(Name="", Count=840649814016, Flags=[2, 6], Enabled=False, CSName=None)
    assert "<p:Name></p:Name>" in xml                       # empty string is not NULL
    assert '<p:CSName xsi:nil="true"/>' in xml
    assert "<p:Count>840649814016</p:Count>" in xml
    assert "<p:Flags>2</p:Flags><p:Flags>6</p:Flags>" in xml
    assert "<p:Enabled>false</p:Enabled>" in xml
    assert '<p:When xsi:nil="true"/>' in xml


def test_datetime_and_interval_formats():
    utc = datetime.timezone.utc
    xml = render(When=datetime.datetime(2013, 4, 15, 16, 28, 43, 488171, tzinfo=utc),
                 Span=datetime.timedelta(minutes=1, seconds=40))
    assert "<p:When><cim:Datetime>2013-04-15T16:28:43.488171Z</cim:Datetime></p:When>" in xml
    assert "<p:Span><cim:Interval>P0DT0H1M40S</cim:Interval></p:Span>" in xml
    assert cim.format_datetime(datetime.datetime(2013, 3, 9, 2, 57, 32, tzinfo=utc)) == "2013-03-09T02:57:32Z"
    assert cim.format_datetime(datetime.datetime(2013, 4, 15, 20, 28, 20, 913000, tzinfo=utc)) == \
        "2013-04-15T20:28:20.913Z"
    assert cim.format_datetime(cim.NEVER) == "1601-01-01T00:00:00Z"
    assert cim.format_interval(datetime.timedelta(days=1, hours=2, seconds=1.5)) == "P1DT2H0M1.5S"


def test_escaping_and_control_characters():
    xml = render(Name="a&b <c> \"d\" 'e'", CSName="bell\x07tab\tnl\ncr\r")
    assert "<p:Name>a&amp;b &lt;c&gt; &quot;d&quot; &apos;e&apos;</p:Name>" in xml
    assert "<p:CSName>bell?tab\tnl\ncr\r</p:CSName>" in xml


def test_reference_property():
    ref = cim.CimRef.make("Msvm_ComputerSystem", {"Name": "GUID", "CreationClassName": "Msvm_ComputerSystem"})
    xml = render(Link=ref)
    elem = ET.fromstring(xml).find("{*}Link")
    a, w = "{http://schemas.xmlsoap.org/ws/2004/08/addressing}", "{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}"
    assert elem.find(a + "Address").text == "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
    assert elem.find(f"{a}ReferenceParameters/{w}ResourceURI").text.endswith("/v2/Msvm_ComputerSystem")
    selectors = [(s.get("Name"), s.text) for s in elem.iter(w + "Selector")]
    assert selectors == [("CreationClassName", "Msvm_ComputerSystem"), ("Name", "GUID")]
    assert elem.find(a + "EndpointReference") is None


def test_fragment_rendering():
    xml = cim.render_fragment(cim.Instance(CLS, {"Name": "x", "When": None}), ["When", "Name"])
    assert xml == ('<w:XmlFragment xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                   'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><Name>x</Name>'
                   '<When xsi:nil="true"/></w:XmlFragment>')


def test_object_paths():
    assert cim.parse_object_path('Msvm_X.A="1",B=2') == ("Msvm_X", [("A", "1"), ("B", 2)])
    assert cim.parse_object_path(r'\\HOST\root\virtualization\v2:Msvm_X.A="q\"\\"') == ("Msvm_X", [("A", 'q"\\')])
    assert cim.parse_object_path("Msvm_X=@") == ("Msvm_X", [])
    for bad in ('Msvm_X.A="1', "Msvm_X.A", 'Msvm X.A="1"', "Msvm_X.A=abc"):
        with pytest.raises(ValueError):
            cim.parse_object_path(bad)
    ref = cim.CimRef.make("Msvm_X", {"B": 'q"', "A": 5})
    assert ref.path() == 'Msvm_X.A=5,B="q\\""'


@pytest.fixture(name="things")
def things_fixture():
    return [cim.Instance(CLS, {"Name": "one", "CSName": "x"}), cim.Instance(CLS, {"Name": "two", "CSName": "x"})]


def test_resolve_by_key_case_insensitive(things):
    assert cim.resolve(CLS, things, [("name", "ONE")]) is things[0]


@pytest.mark.parametrize("selectors, code", [
    ([], 2150859002),
    ([("CSName", "x")], 2150858843),
    ([("Bogus", "x")], 2150858843),
    ([("Name", "one"), ("NAME", "one")], 2150858847),
    ([("Name", "three")], 2150858752),
])
def test_resolve_faults(things, selectors, code):
    with pytest.raises(WsmanFault) as exc:
        cim.resolve(CLS, things, selectors)
    assert exc.value.wsman_code == code


def test_partial_keys_must_be_unique():
    two_keys = cim.CimClass("Test_Two", [cim.Prop("A", key=True), cim.Prop("B", key=True)])
    items = [cim.Instance(two_keys, {"A": "1", "B": "x"}), cim.Instance(two_keys, {"A": "1", "B": "y"}),
             cim.Instance(two_keys, {"A": "2", "B": "x"})]
    assert cim.resolve(two_keys, items, [("A", "2")]) is items[2]
    with pytest.raises(WsmanFault) as exc:
        cim.resolve(two_keys, items, [("A", "1")])
    assert exc.value.subcode == "w:InvalidSelectors" and exc.value.wsman_code == 2150858842


def test_class_registry_and_properties(sim):
    registry = sim.model.classes
    assert registry.get("msvm_computersystem").name == "Msvm_ComputerSystem"
    assert registry.known_name("CIM_ConcreteJob")
    keys = [p.name for p in registry.get("Msvm_ReplicationService").keys]
    assert keys == ["CreationClassName", "Name", "SystemCreationClassName", "SystemName"]
    assert [p.name for p in registry.get("Msvm_ConcreteJob").keys] == ["InstanceID"]
    with pytest.raises(ValueError):
        cim.Prop("X", "float")
