"""The simulator's table of methods: every entry is whole, an Invoke answer carries every output parameter of the
signature, and an embedded-instance input is read from CIM-XML or refused with the invalid-parameter fault."""

import xml.etree.ElementTree as ET

import pytest

from hypervsim import methods
from hypervsim.cim import CimRef
from hypervsim.faults import WsmanFault
from hypervsim.invocation import MethodResult
from hypervsim.invoke import parse_input, render_output
from hypervsim.schema import REGISTRY

V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
P = "{%s/Msvm_VirtualSystemManagementService}" % V2
SIGNATURE = {
    "ResourceSettings": methods.Param("string", array=True, embedded="Msvm_EthernetPortAllocationSettingData"),
    "ResultingResourceSettings": methods.Param("ref", array=True, direction="out"),
    "Job": methods.Param("ref", direction="out"),
    "Count": methods.Param("uint32", direction="out"),
}


def test_every_entry_is_whole():
    for (cls, name), spec in methods.TABLE.items():
        assert (cls, name) == (spec.cls.lower(), spec.name.lower())
        assert REGISTRY.get(spec.cls) is not None, "the class a method lives on is modelled"
        assert callable(spec.handler)
        if spec.job is not None:
            # A method that starts a job returns it, and a fault rule naming the method reaches its jobs.
            assert spec.signature["Job"].direction == "out" and spec.job.method == spec.name
    assert methods.find("msvm_replicationservice", "initiatefailover").name == "InitiateFailover"
    assert methods.canonical("Msvm_ReplicationService", "NoSuchMethod") == "NoSuchMethod"


def _outputs(xml):
    root = ET.fromstring(xml)
    return [(child.tag.rsplit("}", 1)[1], child) for child in root]


def test_an_answer_carries_every_output_parameter_null_where_unset():
    refs = [CimRef.make("Msvm_EthernetPortAllocationSettingData", {"InstanceID": "Microsoft:A\\%d" % i})
            for i in (1, 2)]
    body = render_output(V2 + "/Msvm_VirtualSystemManagementService", "ModifyResourceSettings", SIGNATURE,
                         MethodResult(0, {"ResultingResourceSettings": refs, "Count": 2}))
    outputs = _outputs(body)
    assert [name for name, element in outputs] == ["Count", "Job", "ResultingResourceSettings",
                                                   "ResultingResourceSettings", "ReturnValue"]
    assert outputs[0][1].text == "2"
    assert outputs[1][1].get("{http://www.w3.org/2001/XMLSchema-instance}nil") == "true"
    selectors = [selector.text for name, element in outputs[2:4]
                 for selector in element.iter("{http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd}Selector")]
    assert selectors == ["Microsoft:A\\1", "Microsoft:A\\2"]
    with pytest.raises(ValueError, match="has no output parameter"):
        render_output(V2 + "/X", "M", SIGNATURE, MethodResult(0, {"Resulting": refs}))


def _input(*values):
    request = ET.Element(P + "ModifyResourceSettings_INPUT")
    for value in values:
        ET.SubElement(request, P + "ResourceSettings").text = value
    body = ET.Element("Body")
    body.append(request)
    return body


def test_embedded_instances_are_read_from_cim_xml():
    first = ('<INSTANCE CLASSNAME="Msvm_EthernetPortAllocationSettingData"><PROPERTY NAME="InstanceID" TYPE="string">'
             '<VALUE>Microsoft:A\\1</VALUE></PROPERTY><PROPERTY NAME="EnabledState" TYPE="uint16"><VALUE>2</VALUE>'
             '</PROPERTY><PROPERTY NAME="Notes" TYPE="string"/><PROPERTY.ARRAY NAME="HostResource" TYPE="string">'
             '<VALUE.ARRAY><VALUE>a</VALUE><VALUE>b</VALUE></VALUE.ARRAY></PROPERTY.ARRAY></INSTANCE>')
    params = parse_input(_input(first, first), V2 + "/Msvm_VirtualSystemManagementService", "ModifyResourceSettings",
                         SIGNATURE, REGISTRY)
    (one, two) = params["ResourceSettings"]
    assert one == two and one.class_name == "Msvm_EthernetPortAllocationSettingData"
    assert one.properties == {"InstanceID": "Microsoft:A\\1", "EnabledState": 2, "Notes": None, "HostResource": ["a", "b"]}


@pytest.mark.parametrize("value, why", [
    ("not xml <", "is not XML"),
    ('<INSTANCE CLASSNAME="Msvm_ComputerSystem"/>', "expected an embedded Msvm_EthernetPortAllocationSettingData"),
    ('<!DOCTYPE x [<!ENTITY e "e">]><INSTANCE CLASSNAME="Msvm_EthernetPortAllocationSettingData"/>', "DTD"),
    ('<INSTANCE CLASSNAME="Msvm_EthernetPortAllocationSettingData"><QUALIFIER NAME="x"/></INSTANCE>', "unexpected"),
])
def test_a_bad_embedded_instance_is_the_invalid_parameter_fault(value, why):
    with pytest.raises(WsmanFault) as caught:
        parse_input(_input(value), V2 + "/Msvm_VirtualSystemManagementService", "ModifyResourceSettings",
                    SIGNATURE, REGISTRY)
    assert caught.value.subcode == "w:InvalidParameter" and why in caught.value.provider.extended.description
