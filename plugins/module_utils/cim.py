# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""CIM over WS-Management: WQL queries, Get and method Invoke returning typed Python values.

Wire shapes (wsman-wmi-wire notes, sections 2-4): an instance is an element named after its class with one
child per property; NULL is ``xsi:nil``; an array is the element repeated; datetimes are ``cim:Datetime``;
references carry ``a:Address`` + ``a:ReferenceParameters``. A select-list query returns ``w:XmlFragment``
rows with un-namespaced children instead, which is read the same way.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils import schema
from ansible_collections.hyperv.replica.plugins.module_utils.retry import NO_RETRY, Retry
from ansible_collections.hyperv.replica.plugins.module_utils.wsman import (
    ADDRESSING, ANONYMOUS, CIM_COMMON, WSMAN, XSI, WSManClient, WSManError, WSManProtocolError, qname, selector_set)


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
    """The properties of one CIM instance, with the class it was returned as."""

    def __init__(self, class_name: str, properties: Mapping[str, Any]) -> None:
        super().__init__(properties)
        self.class_name = class_name

    def reference(self) -> Reference:
        """Build this instance's reference from its key properties (Windows does not send one with objects)."""
        keys = schema.KEYS.get(self.class_name)
        if not keys:
            raise WSManProtocolError("no key properties known for class %s" % self.class_name)
        return Reference(schema.class_uri(self.class_name), tuple((key, str(self.get(key) or "")) for key in keys))


@dataclass
class MethodResult:
    return_value: int
    outputs: Dict[str, Any]


_DATETIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")
_INTERVAL = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_datetime(text: str) -> datetime:
    """xs:dateTime as Windows writes it (``Z`` or ``+08:00``, 0-7 fraction digits) -> aware datetime."""
    match = _DATETIME.match(text.strip())
    if not match:
        raise WSManProtocolError("not a CIM datetime: %r" % text[:60])
    base, fraction, offset = match.groups()
    stamp = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S")
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = timezone.utc
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        tz = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return stamp.replace(microsecond=micro, tzinfo=tz)


def parse_interval(text: str) -> timedelta:
    match = _INTERVAL.match(text.strip())
    if not match:
        raise WSManProtocolError("not a CIM interval: %r" % text[:60])
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


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


def parse_value(element: ET.Element, cim_type: str = "") -> Any:
    """One property element (a single occurrence) -> None, Reference, datetime, timedelta, int, bool or str."""
    if element.get(qname(XSI, "nil"), "").lower() == "true":
        return None
    children = list(element)
    if children:
        kind = _local(children[0].tag)
        if kind == "Datetime":
            return parse_datetime(children[0].text or "")
        if kind == "Interval":
            return parse_interval(children[0].text or "")
        if kind in ("Address", "ReferenceParameters", "EndpointReference"):
            return parse_reference(element)
        # Unexpected structure: keep its text rather than fail on a property we may not even need.
        return "".join(element.itertext())
    return _convert_scalar(element.text or "", cim_type)


def parse_properties(element: ET.Element, class_name: str) -> Dict[str, Any]:
    """Children of an instance (or XmlFragment / _OUTPUT element) -> {name: value}, arrays grouped."""
    values: Dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        cim_type = schema.property_type(class_name, name)
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


def _wql_class(wql: str) -> str:
    match = re.search(r"\bFROM\s+(\w+)", wql, re.IGNORECASE)
    return match.group(1) if match else ""


class CimClient:
    """WQL queries, Get and Invoke against one WMI namespace."""

    def __init__(self, wsman: WSManClient, namespace_uri: str = schema.V2_URI, concurrency: int = 1,
                 retry: Retry = NO_RETRY) -> None:
        self.wsman = wsman
        self.namespace_uri = namespace_uri
        # Reads (query, get) are retried by this policy; invoke never is (retry.py).
        self.retry = retry
        # How many requests the transport takes at once (its session pool); query_all runs that many queries.
        self.concurrency = max(1, concurrency)

    def iter_query(self, wql: str) -> Iterator[Instance]:
        """Enumerate + Pull until EndOfSequence; an abandoned iteration Releases its context."""
        resource = self.namespace_uri + "/*"
        hint = _wql_class(wql)
        batch = self.wsman.enumerate(resource, wql)
        try:
            while True:
                for item in batch.items:
                    yield parse_instance(item, hint)
                if batch.finished:
                    return
                batch = self.wsman.pull(resource, batch.context or "")
        finally:
            if not batch.finished:
                try:
                    self.wsman.release(resource, batch.context or "")
                except WSManError:
                    pass  # the error that stopped the iteration is the one worth reporting

    def query(self, wql: str) -> List[Instance]:
        """All rows of a query; a failed attempt starts again from the Enumerate (its context may be gone)."""
        return self.retry.call(lambda: self._query_once(wql))

    def _query_once(self, wql: str) -> List[Instance]:
        with self.wsman.session():
            return list(self.iter_query(wql))

    def query_all(self, wqls: Sequence[str]) -> List[Instance]:
        """The rows of several queries (the chunks of one long list), in order. Up to ``concurrency`` run at once:
        the chunks of a 500-VM poll would otherwise cost ten round trips one after another."""
        workers = min(self.concurrency, len(wqls))
        if workers <= 1:
            return [row for wql in wqls for row in self.query(wql)]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="hyperv-query") as executor:
            return [row for rows in executor.map(self.query, wqls) for row in rows]

    def get(self, reference: Reference) -> Instance:
        return parse_instance(self.retry.call(lambda: self.wsman.get(reference.resource_uri, reference.selectors)))

    def invoke(self, reference: Reference, method: str, params: Mapping[str, Any]) -> MethodResult:
        """Call ``method`` on the instance ``reference``; None parameters are omitted (WMI reads them as NULL)."""
        request = ET.Element(qname(reference.resource_uri, method + "_INPUT"))
        for name, value in params.items():
            for item in value if isinstance(value, list) else [value]:
                if item is not None:
                    request.append(_parameter(reference.resource_uri, name, item))
        output = self.wsman.invoke(reference.resource_uri, method, reference.selectors, request)
        values = parse_properties(output, reference.class_name)
        return_value = values.pop("ReturnValue", None)
        try:
            code = int(return_value)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise WSManProtocolError("%s returned no numeric ReturnValue" % method) from None
        return MethodResult(code, values)


def _parameter(namespace: str, name: str, value: Any) -> ET.Element:
    element = ET.Element(qname(namespace, name))
    if isinstance(value, Reference):
        ET.SubElement(element, qname(ADDRESSING, "Address")).text = ANONYMOUS
        params = ET.SubElement(element, qname(ADDRESSING, "ReferenceParameters"))
        ET.SubElement(params, qname(WSMAN, "ResourceURI")).text = value.resource_uri
        params.append(selector_set(value.selectors))
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    elif isinstance(value, datetime):
        ET.SubElement(element, qname(CIM_COMMON, "Datetime")).text = value.isoformat()
    else:
        element.text = str(value)
    return element
