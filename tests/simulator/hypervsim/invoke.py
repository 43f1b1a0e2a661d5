"""Invoke bodies: parsing p:<Method>_INPUT and writing p:<Method>_OUTPUT (wire notes 4.2, 4.3).

Strict like the WMI plugin is assumed to be: the _INPUT element and its parameters must be in the class URI's
namespace, unknown or duplicate parameters are rejected with the invalid-parameter fault, an omitted parameter is
NULL.  A REF parameter holds a:Address + a:ReferenceParameters directly (libvirt form) or inside an
a:EndpointReference wrapper; xsi:nil="true" is accepted as NULL (UNCERTAIN on Windows).  A string parameter marked
EmbeddedInstance holds CIM-XML text, ``<INSTANCE CLASSNAME=..><PROPERTY NAME=.. TYPE=..><VALUE>..`` (wire notes 2.5,
libvirt's hypervSerializeEmbeddedParam), read into an EmbeddedInstance.  Every output parameter of the signature
is written: the values the handler set, NULL for the others.
"""

import xml.etree.ElementTree as ET
from typing import Any

from dataclasses import dataclass, field

from . import faults, ns
from .cim import CimRef, ClassRegistry, ref_content
from .invocation import MethodResult
from .methods import Param, Signature
from .xmlutil import text


@dataclass
class EmbeddedInstance:
    """An instance passed by value: its class name and properties (typed by the TYPE the client wrote)."""

    class_name: str
    properties: dict[str, Any]
    # The CIM type each property was sent with, and which were arrays: a handler may check them against the class.
    types: dict[str, str] = field(default_factory=dict)
    arrays: frozenset[str] = frozenset()


def _local(tag: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree tag."""
    if tag.startswith("{"):
        uri, _sep, local = tag[1:].partition("}")
        return uri, local
    return "", tag


def _is_nil(elem: ET.Element) -> bool:
    return elem.get(ns.qname(ns.XSI, "nil"), "").lower() in ("true", "1")


def parse_selectors(selector_set: ET.Element | None, classes: ClassRegistry) -> list[tuple[str, Any]]:
    """w:SelectorSet -> [(name, value)], a value being text or a nested EPR (CimRef)."""
    result: list[tuple[str, Any]] = []
    if selector_set is None:
        return result
    for sel in selector_set.findall(ns.qname(ns.WSMAN, "Selector")):
        name = sel.get("Name")
        if not name:
            raise faults.schema_validation("A w:Selector has no Name attribute.")
        nested = sel.find(ns.qname(ns.ADDRESSING, "EndpointReference"))
        if nested is not None:
            result.append((name, parse_epr(nested, classes)))
        else:
            result.append((name, (sel.text or "").strip()))
    return result


def class_from_uri(uri: str, classes: ClassRegistry) -> str | None:
    """Canonical class name of a root/virtualization/v2 WMI class URI (case-insensitive), or None."""
    prefix = ns.V2_URI + "/"
    if not uri.lower().startswith(prefix.lower()):
        return None
    cls = classes.get(uri[len(prefix):])
    return cls.name if cls is not None else None


def parse_epr(elem: ET.Element, classes: ClassRegistry) -> CimRef:
    """An element holding a:Address + a:ReferenceParameters (or an a:EndpointReference with them) -> CimRef."""
    wrapper = elem.find(ns.qname(ns.ADDRESSING, "EndpointReference"))
    if wrapper is not None:
        elem = wrapper
    params = elem.find(ns.qname(ns.ADDRESSING, "ReferenceParameters"))
    address = elem.find(ns.qname(ns.ADDRESSING, "Address"))
    if params is None or address is None:
        raise ValueError("a reference needs a:Address and a:ReferenceParameters")
    uri_elem = params.find(ns.qname(ns.WSMAN, "ResourceURI"))
    class_name = class_from_uri((uri_elem.text or "").strip() if uri_elem is not None else "", classes)
    if class_name is None:
        raise ValueError("the reference's w:ResourceURI is not a root/virtualization/v2 class")
    cls = classes.get(class_name)
    keys: dict[str, Any] = {}
    for name, value in parse_selectors(params.find(ns.qname(ns.WSMAN, "SelectorSet")), classes):
        if name.lower() == "__cimnamespace":
            if str(value).replace("\\", "/").lower() != ns.V2_NAMESPACE:
                raise ValueError("__cimnamespace does not match")
            continue
        prop = cls.prop(name)
        if prop is None or not prop.key:
            raise ValueError(f"{name} is not a key of {class_name}")
        keys[prop.name] = value
    missing = [p.name for p in cls.keys if p.name not in keys]
    if missing:
        raise ValueError(f"the reference lacks the key(s) {missing}")
    return CimRef.make(class_name, keys)


def _typed(raw: str, cimtype: str) -> Any:
    """A scalar's text as the CIM type says: booleans and integers converted, anything else kept as text."""
    if cimtype == "boolean":
        if raw.strip().lower() not in ("true", "false"):
            raise ValueError(f"{raw!r} is not a boolean")
        return raw.strip().lower() == "true"
    if cimtype.startswith(("uint", "sint")):
        return int(raw)
    return raw


def _scalar(elem: ET.Element, cimtype: str) -> Any:
    if cimtype == "datetime":
        # TimeoutPeriod: cim:Datetime / cim:Interval child or text; Windows ignores it for these methods.
        child = next(iter(elem), None)
        return (child.text if child is not None else elem.text or "").strip()
    return _typed((elem.text or "").strip(), cimtype)


def parse_embedded(raw: str, expected: str) -> EmbeddedInstance:
    """CIM-XML text -> EmbeddedInstance; ValueError when it is not one instance of the expected class ("*": any, as
    ModifyResourceSettings takes any resource setting)."""
    if "<!DOCTYPE" in raw or "<!ENTITY" in raw:
        raise ValueError("an embedded instance must not carry a DTD")
    try:
        root = ET.fromstring(raw)
    except ET.ParseError as exc:
        raise ValueError(f"the embedded instance is not XML ({exc})") from exc
    class_name = root.get("CLASSNAME", "")
    if root.tag != "INSTANCE" or not class_name or (expected != "*" and class_name.lower() != expected.lower()):
        raise ValueError(f"expected an embedded {expected} INSTANCE, got {root.tag} {class_name!r}")
    properties: dict[str, Any] = {}
    types: dict[str, str] = {}
    arrays = set()
    for prop in root:
        name, cimtype = prop.get("NAME", ""), prop.get("TYPE", "string")
        types[name] = cimtype
        if prop.tag == "PROPERTY.ARRAY":
            arrays.add(name)
        if prop.tag == "PROPERTY":
            value = prop.find("VALUE")
            properties[name] = None if value is None else _typed(value.text or "", cimtype)
        elif prop.tag == "PROPERTY.ARRAY":
            properties[name] = [_typed(v.text or "", cimtype) for v in prop.iterfind("VALUE.ARRAY/VALUE")]
        else:
            raise ValueError(f"unexpected {prop.tag} in an embedded instance")
    return EmbeddedInstance(class_name, properties, types, frozenset(arrays))


def _parameter(elem: ET.Element, param: Param, classes: ClassRegistry) -> Any:
    if _is_nil(elem):
        return None
    if param.cimtype == "ref":
        return parse_epr(elem, classes)
    if param.embedded:
        return parse_embedded(elem.text or "", param.embedded)
    return _scalar(elem, param.cimtype)


def parse_input(body: ET.Element, class_uri: str, method: str, signature: Signature,
                classes: ClassRegistry) -> dict[str, Any]:
    """Parameters of a method call by canonical name; omitted = absent = NULL."""
    children = list(body)
    if len(children) != 1:
        raise faults.schema_validation(f"The body must hold exactly one {method}_INPUT element.")
    uri, local = _local(children[0].tag)
    if local.lower() != f"{method}_input".lower() or uri.lower() != class_uri.lower():
        raise faults.schema_validation(f"Expected {{{class_uri}}}{method}_INPUT.")
    params: dict[str, Any] = {}
    by_lower = {name.lower(): name for name, spec in signature.items() if spec.direction == "in"}
    for elem in children[0]:
        puri, plocal = _local(elem.tag)
        name = by_lower.get(plocal.lower())
        if name is None or puri.lower() != class_uri.lower():
            raise faults.invalid_parameter(method, f"Unknown parameter {plocal}.")
        param = signature[name]
        if name in params and not param.array:
            raise faults.invalid_parameter(method, f"Parameter {name} given twice.")
        try:
            value = _parameter(elem, param, classes)
        except ValueError as exc:
            raise faults.invalid_parameter(method, f"Parameter {name}: {exc}.") from exc
        if param.array:
            params.setdefault(name, []).append(value)
        else:
            params[name] = value
    return params


def _output(name: str, value: Any) -> str:
    if value is None or value == []:
        # NULL, written like a NULL property (UNCERTAIN for a Job of a call that returned no job, wire notes 4.3).
        return f'<p:{name} xmlns:xsi="{ns.XSI}" xsi:nil="true"/>'
    parts = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, CimRef):
            parts.append(f'<p:{name} xmlns:a="{ns.ADDRESSING}" xmlns:w="{ns.WSMAN}">{ref_content(item)}</p:{name}>')
        elif isinstance(item, bool):
            parts.append(f"<p:{name}>{'true' if item else 'false'}</p:{name}>")
        else:
            parts.append(f"<p:{name}>{text(str(item))}</p:{name}>")
    return "".join(parts)


def render_output(class_uri: str, method: str, signature: Signature, result: MethodResult) -> str:
    """p:<Method>_OUTPUT: every out-parameter alphabetically (NULL unless the handler set it), then ReturnValue."""
    outs = sorted((n for n, spec in signature.items() if spec.direction == "out"), key=str.lower)
    unknown = set(result.outputs) - set(outs)
    if unknown:
        raise ValueError(f"{method} has no output parameter {sorted(unknown)}")
    parts = [_output(name, result.outputs.get(name)) for name in outs]
    parts.append(f"<p:ReturnValue>{result.return_value}</p:ReturnValue>")
    return f'<p:{method}_OUTPUT xmlns:p="{class_uri}">{"".join(parts)}</p:{method}_OUTPUT>'
