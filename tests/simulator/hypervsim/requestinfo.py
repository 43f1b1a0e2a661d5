"""What a raw WS-Man request is about, read before the service handles it: for fault rules and the request log.

This is a lenient, read-only look (the service does the strict parsing and answers any error): the operation as the
counters name it, the CIM class the request is about, and the GUIDs it carries (the model turns them into a VM).
It needs no lock, so it runs outside the simulator's model lock.
"""

import re
import xml.etree.ElementTree as ET
from collections import OrderedDict
from dataclasses import dataclass

from . import methods, ns
from .cim import ClassRegistry
from .invoke import class_from_uri

GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_WQL_CLASS = re.compile(r"\bFROM\s+(\w+)|\bResultClass\s*=\s*(\w+)", re.IGNORECASE)
_SIMPLE = {ns.ACTION_GET: "Get", ns.ACTION_ENUMERATE: "Enumerate", ns.ACTION_PULL: "Pull",
           ns.ACTION_RELEASE: "Release"}
_CONTEXT = re.compile(rb"<n:EnumerationContext>([^<]+)</n:EnumerationContext>")
_SUBCODE = re.compile(rb"<s:Subcode><s:Value>([^<]*)</s:Value>")
_CODE = re.compile(rb"<s:Code><s:Value>([^<]*)</s:Value>")


@dataclass(frozen=True)
class RequestInfo:
    """operation is None when the body is not XML or the action is not one the service knows."""

    operation: str | None = None
    resource_class: str | None = None
    keys: tuple[str, ...] = ()         # GUIDs in the selectors and the body: VM, job or recovery point ids
    context: str | None = None          # the enumeration context of a Pull or Release


def _find(parent: ET.Element | None, uri: str, local: str) -> ET.Element | None:
    return None if parent is None else parent.find(ns.qname(uri, local))


def _text(elem: ET.Element | None) -> str:
    return "" if elem is None else "".join(elem.itertext()).strip()


def operation_of(action: str, classes: ClassRegistry) -> str | None:
    """Get, Enumerate, Pull, Release or Invoke:<Method> (canonical method casing), as the counters name them."""
    if action in _SIMPLE:
        return _SIMPLE[action]
    base, _sep, method = action.rpartition("/")
    cls_name = class_from_uri(base, classes)
    if cls_name is None or not method:
        return None
    return "Invoke:" + methods.canonical(cls_name, method)


def _class_of(uri: str, body: ET.Element | None, classes: ClassRegistry) -> str | None:
    """The class of the resource URI, or for a WQL query on .../* the class it selects from."""
    name = class_from_uri(uri, classes)
    if name is not None or not uri.endswith("/*"):
        return name
    match = _WQL_CLASS.search(_text(body))
    if match is None:
        return None
    found = classes.get(match.group(1) or match.group(2))
    return found.name if found is not None else match.group(1) or match.group(2)


def classify(data: bytes, classes: ClassRegistry) -> RequestInfo:
    try:
        root = ET.fromstring(data)
    except ET.ParseError:
        return RequestInfo()
    header = _find(root, ns.SOAP, "Header")
    body = _find(root, ns.SOAP, "Body")
    operation = operation_of(_text(_find(header, ns.ADDRESSING, "Action")), classes)
    if operation in ("Pull", "Release"):
        context = _text(_find(_find(body, ns.ENUMERATION, operation), ns.ENUMERATION, "EnumerationContext"))
        return RequestInfo(operation, None, (), context or None)
    uri = _text(_find(header, ns.WSMAN, "ResourceURI"))
    keys = tuple(GUID.findall(_text(_find(header, ns.WSMAN, "SelectorSet")) + " " + _text(body)))
    return RequestInfo(operation, _class_of(uri, body, classes), keys)


def outcome_of(status: int, body: bytes) -> str:
    """'ok', the fault's subcode (or code) local name such as 'TimedOut', or 'http500' for an empty 500."""
    if status == 200:
        return "ok"
    if not body:
        return f"http{status}"
    match = _SUBCODE.search(body) or _CODE.search(body)
    return match.group(1).decode("utf-8", "replace").rpartition(":")[2] if match else f"http{status}"


class ContextClasses:
    """Remembers which class each open enumeration context enumerates, so that Pulls and Releases can be logged
    with it.  Bounded: the oldest contexts are forgotten first."""

    def __init__(self, limit: int = 4096) -> None:
        self._limit = limit
        self._classes: OrderedDict[str, str | None] = OrderedDict()

    def class_of(self, context: str | None) -> str | None:
        return self._classes.get(context or "")

    def note(self, operation: str | None, resource_class: str | None, response: bytes) -> None:
        """After an Enumerate or Pull: the context id in the response continues the same enumeration."""
        if operation not in ("Enumerate", "Pull"):
            return
        match = _CONTEXT.search(response)
        if match:
            self._classes[match.group(1).decode("utf-8", "replace")] = resource_class
            while len(self._classes) > self._limit:
                self._classes.popitem(last=False)
