# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM values on the wire, both ways: what Windows sends back as Python values, and method parameters as XML.

Read (wsman-wmi-wire notes, sections 2-4): an instance is an element named after its class with one child per
property; NULL is ``xsi:nil``; an array is the element repeated; datetimes are ``cim:Datetime``; references carry
``a:Address`` + ``a:ReferenceParameters``. A select-list query returns ``w:XmlFragment`` rows with un-namespaced
children instead, which is read the same way.

Written: a reference parameter is an EPR without a wrapper, a scalar is its text, an array repeats the element,
and an embedded instance (a string parameter marked EmbeddedInstance, such as ModifyResourceSettings'
ResourceSettings) is CIM-XML text, ``<INSTANCE CLASSNAME=..><PROPERTY NAME=.. TYPE=..><VALUE>..``, as libvirt and
Microsoft's own samples send it (wire notes 2.5).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Dict, Mapping, Optional, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils import timefmt
from ansible_collections.hyperv.replica.plugins.module_utils.cim import schema
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import (
    ADDRESSING, ANONYMOUS, CIM_COMMON, WSMAN, XSI, WSManProtocolError, parse_xml, qname, selector_set)


@dataclass(frozen=True)
class Reference:
    """An endpoint reference to one instance: what WMI calls an object path."""

    resource_uri: str
    selectors: Tuple[Tuple[str, str], ...]

    @property
    def class_name(self) -> str:
        return self.resource_uri.rstrip("/").rsplit("/", 1)[-1]

    def selector(self, name: str) -> Optional[str]:
        """A selector's value; names are case-insensitive on Windows."""
        return next((value for key, value in self.selectors if key.lower() == name.lower()), None)

    @classmethod
    def to(cls, class_name: str, **keys: str) -> "Reference":
        return cls(schema.class_uri(class_name), tuple(keys.items()))


class Instance(dict):
    """The properties of one CIM instance, with the class it was returned as (or is to be sent as)."""

    def __init__(self, class_name: str, properties: Mapping[str, Any]) -> None:
        super().__init__(properties)
        self.class_name = class_name

    def reference(self) -> Reference:
        """Build this instance's reference from its key properties (Windows does not send one with objects)."""
        keys = schema.KEYS.get(self.class_name)
        if not keys:
            raise WSManProtocolError("no key properties known for class %s" % self.class_name)
        return Reference(schema.class_uri(self.class_name), tuple((key, str(self.get(key) or "")) for key in keys))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _convert_scalar(text: str, cim_type: str) -> Any:
    base = cim_type.rstrip("[]")
    try:
        if base.startswith(("uint", "sint")):
            return int(text)
        if base.startswith("real"):
            return float(text)
    except ValueError:
        raise WSManProtocolError("property of type %s has a non-numeric value %r" % (base, text[:40])) from None
    if base == "boolean":
        return text.strip().lower() == "true"
    return text


def parse_reference(element: ET.Element) -> Reference:
    """An EPR: ``a:ReferenceParameters`` directly, or wrapped in ``a:EndpointReference``."""
    params = element.find(".//" + qname(ADDRESSING, "ReferenceParameters"))
    if params is None:
        raise WSManProtocolError("reference without a:ReferenceParameters")
    uri_element = params.find(qname(WSMAN, "ResourceURI"))
    uri = (uri_element.text or "").strip() if uri_element is not None else ""
    selectors = tuple((s.get("Name", ""), (s.text or "")) for s in params.iter(qname(WSMAN, "Selector")))
    return Reference(uri, selectors)


def _parse_time(parse: Any, text: str) -> Any:
    try:
        return parse(text)
    except ValueError as exc:
        raise WSManProtocolError(str(exc)) from None


def parse_value(element: ET.Element, cim_type: str = "") -> Any:
    """One property element (a single occurrence) -> None, Reference, datetime, timedelta, int, bool or str."""
    if element.get(qname(XSI, "nil"), "").lower() == "true":
        return None
    children = list(element)
    if children:
        kind = _local(children[0].tag)
        if kind == "Datetime":
            return _parse_time(timefmt.parse_cim_datetime, children[0].text or "")
        if kind == "Interval":
            return _parse_time(timefmt.parse_cim_interval, children[0].text or "")
        if kind in ("Address", "ReferenceParameters", "EndpointReference"):
            return parse_reference(element)
        # Unexpected structure: keep its text rather than fail on a property we may not even need.
        return "".join(element.itertext())
    return _convert_scalar(element.text or "", cim_type)


def parse_properties(element: ET.Element, class_name: str, types: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """Children of an instance (or XmlFragment / _OUTPUT element) -> {name: value}, arrays grouped.

    Types come from ``types`` when given (a method's output parameters), else from the class in schema.py.
    """
    values: Dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        cim_type = types.get(name, "") if types is not None else schema.property_type(class_name, name)
        value = parse_value(child, cim_type)
        if name in values:
            previous = values[name]
            values[name] = (previous if isinstance(previous, list) else [previous]) + [value]
        elif cim_type.endswith("[]"):
            values[name] = None if value is None else [value]
        else:
            values[name] = value
    return values


def parse_instance(element: ET.Element, class_hint: str = "") -> Instance:
    """An item of an Enumerate/Pull/Get answer. XmlFragment rows carry no class, so ``class_hint`` names it."""
    local = _local(element.tag)
    class_name = class_hint if local == "XmlFragment" else local
    return Instance(class_name, parse_properties(element, class_name))


def parameter(namespace: str, name: str, value: Any) -> ET.Element:
    """One method parameter element: a Reference as an EPR, an Instance as embedded CIM-XML, a scalar as text."""
    element = ET.Element(qname(namespace, name))
    if isinstance(value, Reference):
        ET.SubElement(element, qname(ADDRESSING, "Address")).text = ANONYMOUS
        params = ET.SubElement(element, qname(ADDRESSING, "ReferenceParameters"))
        ET.SubElement(params, qname(WSMAN, "ResourceURI")).text = value.resource_uri
        params.append(selector_set(value.selectors))
    elif isinstance(value, Instance):
        # The CIM-XML goes as the element's text: ElementTree escapes it, which is the same XML as a CDATA section.
        element.text = embedded_text(value)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, datetime):
        ET.SubElement(element, qname(CIM_COMMON, "Datetime")).text = value.isoformat()
    else:
        element.text = str(value)
    return element


def embedded_text(instance: Instance) -> str:
    """An instance as CIM-XML (DSP0201) text; NULL properties are left out, so the host keeps their values.

    Every property is typed from schema.py (a str with no entry there is a string): guessing the type of a number
    could make Windows read a different value or refuse the instance.
    """
    root = ET.Element("INSTANCE", CLASSNAME=instance.class_name)
    for name, value in instance.items():
        if value is None:
            continue
        cim_type = _embedded_type(instance.class_name, name, value)
        values = value if isinstance(value, (list, tuple)) else [value]
        if cim_type.endswith("[]"):
            prop = ET.SubElement(root, "PROPERTY.ARRAY", NAME=name, TYPE=cim_type[:-2])
            holder = ET.SubElement(prop, "VALUE.ARRAY")
        else:
            holder = ET.SubElement(root, "PROPERTY", NAME=name, TYPE=cim_type)
        for item in values:
            ET.SubElement(holder, "VALUE").text = _cim_xml_text(item)
    return ET.tostring(root, encoding="unicode")


def _embedded_type(class_name: str, name: str, value: Any) -> str:
    known = schema.property_type(class_name, name)
    if known:
        return known
    items = value if isinstance(value, (list, tuple)) else [value]
    if all(isinstance(item, str) for item in items):
        return "string[]" if isinstance(value, (list, tuple)) else "string"
    if all(isinstance(item, bool) for item in items):
        return "boolean[]" if isinstance(value, (list, tuple)) else "boolean"
    raise ValueError("the CIM type of %s.%s is not in cim/schema.py: add it before sending the instance"
                     % (class_name, name))


def _cim_xml_text(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, Reference):
        raise ValueError("a reference inside an embedded instance is not supported")
    if isinstance(value, datetime):
        return timefmt.dmtf_datetime(value)
    return str(value)


def parse_embedded(text: str) -> Instance:
    """CIM-XML text (an EmbeddedInstance property, such as a KVP item) -> an Instance. Its content may come from a
    guest, so it goes through the same guarded parser as a response (no DTD, no entities) and a text that is not one
    INSTANCE is refused (WSManProtocolError)."""
    root = parse_xml(text.encode("utf-8"))
    if root.tag != "INSTANCE" or not root.get("CLASSNAME"):
        raise WSManProtocolError("an embedded instance is not CIM-XML INSTANCE text: %r" % text[:80])
    class_name = root.get("CLASSNAME", "")
    values: Dict[str, Any] = {}
    for prop in root:
        name, cim_type = prop.get("NAME", ""), prop.get("TYPE", "string")
        texts = [value.text or "" for value in prop.iter("VALUE")]
        if prop.tag == "PROPERTY.ARRAY":
            values[name] = [_convert_scalar(item, cim_type) for item in texts]
        elif prop.tag == "PROPERTY":
            values[name] = _convert_scalar(texts[0], cim_type) if texts else None
    return Instance(class_name, values)
