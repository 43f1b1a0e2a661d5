"""Invoke bodies: parsing p:<Method>_INPUT and writing p:<Method>_OUTPUT (wire notes 4.2, 4.3).

Strict like the WMI plugin is assumed to be: the _INPUT element and its parameters must be in the class URI's
namespace, unknown or duplicate parameters are rejected with the invalid-parameter fault, an omitted parameter is
NULL.  A REF parameter holds a:Address + a:ReferenceParameters directly (libvirt form) or inside an
a:EndpointReference wrapper; xsi:nil="true" is accepted as NULL (UNCERTAIN on Windows).
"""

import xml.etree.ElementTree as ET
from typing import Any

from . import faults, ns
from .cim import CimRef, ClassRegistry, ref_content
from .replica import MethodResult

Signature = dict[str, tuple[str, bool, str]]


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


def _scalar(elem: ET.Element, cimtype: str) -> Any:
    if _is_nil(elem):
        return None
    if cimtype == "datetime":
        # TimeoutPeriod: cim:Datetime / cim:Interval child or text; Windows ignores it for these methods.
        child = next(iter(elem), None)
        return (child.text if child is not None else elem.text or "").strip()
    raw = (elem.text or "").strip()
    if cimtype == "boolean":
        if raw.lower() not in ("true", "false"):
            raise ValueError(f"{raw!r} is not a boolean")
        return raw.lower() == "true"
    if cimtype.startswith(("uint", "sint")):
        return int(raw)
    return raw


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
    by_lower = {name.lower(): name for name, spec in signature.items() if spec[2] == "in"}
    for elem in children[0]:
        puri, plocal = _local(elem.tag)
        name = by_lower.get(plocal.lower())
        if name is None or puri.lower() != class_uri.lower():
            raise faults.invalid_parameter(method, f"Unknown parameter {plocal}.")
        cimtype, array, _direction = signature[name]
        if name in params and not array:
            raise faults.invalid_parameter(method, f"Parameter {name} given twice.")
        try:
            value = None if _is_nil(elem) else (parse_epr(elem, classes) if cimtype == "ref" else _scalar(elem, cimtype))
        except ValueError as exc:
            raise faults.invalid_parameter(method, f"Parameter {name}: {exc}.") from exc
        if array:
            params.setdefault(name, []).append(value)
        else:
            params[name] = value
    return params


def render_output(class_uri: str, method: str, signature: Signature, result: MethodResult) -> str:
    """p:<Method>_OUTPUT: out-parameters alphabetically, then ReturnValue."""
    outs = sorted((n for n, spec in signature.items() if spec[2] == "out"), key=str.lower)
    parts = []
    for name in outs:
        if name == "Job" and result.job_id is not None:
            job = CimRef.make("Msvm_ConcreteJob", {"InstanceID": result.job_id})
            parts.append(f'<p:Job xmlns:a="{ns.ADDRESSING}" xmlns:w="{ns.WSMAN}">{ref_content(job)}</p:Job>')
        else:
            # ReturnValue other than 4096: the Job is NULL, written like a NULL property (UNCERTAIN, wire notes 4.3).
            parts.append(f'<p:{name} xmlns:xsi="{ns.XSI}" xsi:nil="true"/>')
    parts.append(f"<p:ReturnValue>{result.return_value}</p:ReturnValue>")
    return f'<p:{method}_OUTPUT xmlns:p="{class_uri}">{"".join(parts)}</p:{method}_OUTPUT>'
