"""WS-Management request handling: envelope parsing by namespace URI, header checks, dispatch, response envelopes.

Header rules (wire notes 1.2, 1.5, 9.2): mustUnderstand is honoured with or without the s: prefix; a:To is
ignored; a:Action, a:MessageID and a:ReplyTo/a:Address (anonymous) are required; w:ResourceURI is required for
every operation; the response echoes the MessageID in a:RelatesTo, has its own uuid:UPPER-CASE MessageID, carries
xml:lang="en-US" on the Envelope and is written without any whitespace between elements.
"""

import sys
import traceback
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

from . import cim, faults, methods, ns, wql
from .enumeration import EnumerationStore, enumerate_body, pull_body
from .fleet import User
from .hooks import Counters, FaultInjector
from .hyperv import HyperVHost
from .invoke import class_from_uri, parse_input, parse_selectors, render_output
from .xmlutil import text

# Headers the service understands; any other header marked mustUnderstand="true" gets s:MustUnderstand.
KNOWN_HEADERS = {
    (ns.ADDRESSING, "To"), (ns.ADDRESSING, "ReplyTo"), (ns.ADDRESSING, "MessageID"), (ns.ADDRESSING, "Action"),
    (ns.ADDRESSING, "FaultTo"), (ns.WSMAN, "ResourceURI"), (ns.WSMAN, "SelectorSet"), (ns.WSMAN, "OptionSet"),
    (ns.WSMAN, "MaxEnvelopeSize"), (ns.WSMAN, "OperationTimeout"), (ns.WSMAN, "Locale"), (ns.MSWSMAN, "DataLocale"),
    (ns.MSWSMAN, "SessionId"), (ns.MSWSMAN, "OperationID"), (ns.MSWSMAN, "SequenceId"),
}
SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
MIN_ENVELOPE = 8192


class NotXml(Exception):
    """The request body is not XML: the HTTP layer answers 400."""


@dataclass
class Request:  # pylint: disable=too-many-instance-attributes
    action: str
    message_id: str
    resource_uri: str
    selectors: list[tuple[str, Any]]
    max_envelope: int | None
    body: ET.Element
    user: User
    machine: str
    resource_class: str | None = None     # as the request log names it, for the per-class counters


def _text(elem: ET.Element | None) -> str | None:
    return None if elem is None else (elem.text or "").strip()


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1")


def _must_understand(elem: ET.Element) -> bool:
    return _true(elem.get("mustUnderstand")) or _true(elem.get(ns.qname(ns.SOAP, "mustUnderstand")))


def _split(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        uri, _sep, local = tag[1:].partition("}")
        return uri, local
    return "", tag


def envelope(action: str, relates_to: str | None, body: str, prefixes: str, extra_header: str = "") -> bytes:
    """A response envelope in Windows' shape; an ActivityId is added when the p prefix is declared."""
    decl = " ".join(f'xmlns:{p}="{ns.PREFIXES[p]}"' for p in prefixes.split())
    activity = f"<p:ActivityId>{str(uuid.uuid4()).upper()}</p:ActivityId>" if " p" in f" {prefixes}" else ""
    relates = f"<a:RelatesTo>{text(relates_to)}</a:RelatesTo>" if relates_to is not None else ""
    header = (f"<s:Header><a:Action>{action}</a:Action><a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
              f"{activity}<a:To>{ns.ANONYMOUS}</a:To>{relates}{extra_header}</s:Header>")
    return f'<s:Envelope xml:lang="en-US" {decl}>{header}<s:Body>{body}</s:Body></s:Envelope>'.encode("utf-8")


class WsmanService:
    """Turns request bodies into (HTTP status, response body) for one simulated host."""

    def __init__(self, host: HyperVHost, counters: Counters, injector: FaultInjector) -> None:
        self.host = host
        self.counters = counters
        self.injector = injector
        self.enumerations = EnumerationStore(host.config.enumeration_timeout, host.config.max_concurrent_operations)

    # ------------------------------------------------------------ entry point

    def handle(self, data: bytes, user: User, machine: str,
               resource_class: str | None = None) -> tuple[int, bytes]:
        """resource_class: the class the request is about, as the caller resolved it (requestinfo: for a Pull or
        Release the class of its enumeration, which only the caller remembers); counted with the operation."""
        self.counters.add("total")   # every authenticated POST to /wsman, well-formed or not
        try:
            root = ET.fromstring(data)
        except ET.ParseError as exc:
            raise NotXml(str(exc)) from exc
        relates_to = None
        try:
            self.host.tick()
            self.enumerations.expire(self.host.now())
            header, body = self._envelope_parts(root)
            relates_to = _text(header.find(ns.qname(ns.ADDRESSING, "MessageID")))
            request = self._parse_header(header, body, user, machine)
            request.resource_class = resource_class
            return 200, self._dispatch(request)
        except faults.WsmanFault as fault:
            return 500, self._fault(fault, relates_to, machine)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Never a traceback to the client: log it and answer w:InternalError like a failing plugin would.
            traceback.print_exc(file=sys.stderr)
            return 500, self._fault(faults.internal_error(f"{type(exc).__name__}: {exc} "), relates_to, machine)

    def _fault(self, fault: faults.WsmanFault, relates_to: str | None, machine: str) -> bytes:
        body = faults.render_fault_body(fault, machine, self.host.fqdn)
        return envelope(fault.action, relates_to, body, "s a x e n w p", faults.render_not_understood(fault))

    # ------------------------------------------------------------ parsing

    @staticmethod
    def _envelope_parts(root: ET.Element) -> tuple[ET.Element, ET.Element]:
        uri, local = _split(root.tag)
        if local == "Envelope" and uri == SOAP11:
            raise faults.WsmanFault(code="s:VersionMismatch", subcode=None, action=ns.FAULT_ADDRESSING,
                                    reason="The WS-Management service does not support the SOAP version specified in "
                                           "the request. ", wsman_code=2150858765)
        if (uri, local) != (ns.SOAP, "Envelope"):
            raise faults.schema_validation("The root element is not a SOAP 1.2 Envelope.")
        header = root.find(ns.qname(ns.SOAP, "Header"))
        body = root.find(ns.qname(ns.SOAP, "Body"))
        if header is None or body is None:
            raise faults.schema_validation("The envelope needs s:Header and s:Body.")
        return header, body

    def _check_must_understand(self, header: ET.Element) -> None:
        for child in header:
            key = _split(child.tag)
            if key in ((ns.WSMAN, "Locale"), (ns.MSWSMAN, "DataLocale")) and _must_understand(child):
                raise faults.unsupported_feature("Locale")
            if key not in KNOWN_HEADERS and _must_understand(child):
                raise faults.must_understand(*key)

    def _parse_header(self, header: ET.Element, body: ET.Element, user: User, machine: str) -> Request:
        self._check_must_understand(header)
        action = _text(header.find(ns.qname(ns.ADDRESSING, "Action")))
        if not action:
            raise faults.header_required("Action")
        message_id = _text(header.find(ns.qname(ns.ADDRESSING, "MessageID")))
        if not message_id:
            raise faults.header_required("MessageID")
        reply_to = header.find(ns.qname(ns.ADDRESSING, "ReplyTo"))
        if reply_to is None:
            raise faults.header_required("ReplyTo")
        if _text(reply_to.find(ns.qname(ns.ADDRESSING, "Address"))) != ns.ANONYMOUS:
            raise faults.unsupported_feature("AddressingMode")
        return Request(action=action, message_id=message_id,
                       resource_uri=_text(header.find(ns.qname(ns.WSMAN, "ResourceURI"))) or "",
                       selectors=parse_selectors(header.find(ns.qname(ns.WSMAN, "SelectorSet")), self.host.classes),
                       max_envelope=self._max_envelope(header), body=body, user=user, machine=machine)

    @staticmethod
    def _max_envelope(header: ET.Element) -> int | None:
        raw = _text(header.find(ns.qname(ns.WSMAN, "MaxEnvelopeSize")))
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError as exc:
            raise faults.schema_validation("w:MaxEnvelopeSize is not an integer.") from exc
        if value < MIN_ENVELOPE:
            raise faults.encoding_limit()
        return value

    # ------------------------------------------------------------ dispatch

    def _operation(self, action: str) -> str | None:
        """Counter key of an action: Get, Enumerate, Pull, Release, Invoke:<Method>, or None if unknown."""
        simple = {ns.ACTION_GET: "Get", ns.ACTION_ENUMERATE: "Enumerate", ns.ACTION_PULL: "Pull",
                  ns.ACTION_RELEASE: "Release"}
        if action in simple:
            return simple[action]
        base, _sep, method = action.rpartition("/")
        cls_name = class_from_uri(base, self.host.classes)
        if cls_name is not None and method:
            return "Invoke:" + methods.canonical(cls_name, method)
        return None

    def _dispatch(self, req: Request) -> bytes:
        operation = self._operation(req.action)
        if operation is None:
            raise faults.action_not_supported(req.action)
        self.counters.add_operation(operation, req.resource_class)
        if req.user.rights == "none":
            raise faults.access_denied()
        injected = self.injector.take(operation)
        if injected is not None:
            raise injected
        if not req.resource_uri:
            raise faults.invalid_resource_uri()
        self._check_cim_namespace(req)
        if operation == "Get":
            return self._get(req)
        if operation == "Enumerate":
            return self._enumerate(req)
        if operation == "Pull":
            return self._pull(req)
        if operation == "Release":
            return self._release(req)
        return self._invoke(req, operation.split(":", 1)[1])

    @staticmethod
    def _check_cim_namespace(req: Request) -> None:
        """__cimnamespace is only accepted when it names the URI's own namespace (wire notes 1.3)."""
        kept = []
        for name, value in req.selectors:
            if name.lower() == "__cimnamespace":
                if str(value).replace("\\", "/").strip("/").lower() != ns.V2_NAMESPACE:
                    raise faults.different_cim_namespace()
                continue
            kept.append((name, value))
        req.selectors = kept

    def _target_class(self, req: Request) -> cim.CimClass:
        """The class of a Get/Invoke resource URI, or the fault for an unknown one."""
        if not req.resource_uri.lower().startswith(ns.WMI_PREFIX.lower()):
            raise faults.invalid_resource_uri()
        name = class_from_uri(req.resource_uri, self.host.classes)
        if name is None:
            tail = req.resource_uri.rsplit("/", 1)[-1]
            raise faults.not_found(tail, "GetObject", faults.WINMGMT)
        return self.host.classes.get(name)

    def _visible(self, req: Request, class_name: str) -> list[cim.Instance]:
        """The instances of a class this user may see: none for an account outside Hyper-V Administrators and the
        local Administrators (rights no_hyperv), which WMI answers with empty results, not AccessDenied."""
        return [] if req.user.rights == "no_hyperv" else self.host.exact_instances(class_name)

    def _get(self, req: Request) -> bytes:
        cls = self._target_class(req)
        inst = cim.resolve(cls, self._visible(req, cls.name), req.selectors)
        return envelope(ns.TRANSFER + "/GetResponse", req.message_id, cim.render_instance(inst), "s a x w p")

    # ------------------------------------------------------------ enumeration

    def _enumerate(self, req: Request) -> bytes:
        enum = req.body.find(ns.qname(ns.ENUMERATION, "Enumerate"))
        if enum is None:
            raise faults.schema_validation("The body of an Enumerate request must be n:Enumerate.")
        if enum.find(ns.qname(ns.ENUMERATION, "Expires")) is not None:
            raise faults.unsupported_feature("ExpirationTime")
        mode = _text(enum.find(ns.qname(ns.WSMAN, "EnumerationMode")))
        if mode not in (None, "EnumerateEPR", "EnumerateObjectAndEPR"):
            raise faults.unsupported_feature("EnumerationMode")
        optimize = enum.find(ns.qname(ns.WSMAN, "OptimizeEnumeration")) is not None
        rows = self._query_rows(req, enum)
        items = [self._item(row, mode) for row in rows]
        body = enumerate_body(self.enumerations, items, optimize, req.user.username, self.host.now())
        return envelope(ns.ENUMERATION + "/EnumerateResponse", req.message_id, body, "s a n w")

    def _query_rows(self, req: Request, enum: ET.Element) -> list[wql.Row]:
        filt = enum.find(ns.qname(ns.WSMAN, "Filter"))
        if filt is None:
            filt = enum.find(ns.qname(ns.ENUMERATION, "Filter"))
        uri = req.resource_uri
        if not uri.lower().startswith(ns.WMI_PREFIX.lower()):
            raise faults.invalid_resource_uri()
        namespace, _sep, class_part = uri[len(ns.WMI_PREFIX):].rpartition("/")
        if namespace.lower() != ns.V2_NAMESPACE:
            raise faults.invalid_resource_uri()
        if filt is None:
            if class_part == "*":
                raise faults.filter_missing()
            cls = self._target_class(req)
            visible = [] if req.user.rights == "no_hyperv" else self.host.instances_of(cls.name)
            return [wql.Row(i) for i in visible]
        if filt.get("Dialect", ns.WQL_DIALECT) != ns.WQL_DIALECT:
            raise faults.filter_dialect_unavailable()
        if class_part != "*":
            raise faults.wql_on_class_uri()
        query = (filt.text or "").strip()
        try:
            rows = wql.execute(query, self.host)
            return [] if req.user.rights == "no_hyperv" else rows
        except wql.ClassNotFound as exc:
            raise faults.class_not_found(query) from exc
        except wql.WqlError as exc:
            raise faults.invalid_query(query, str(exc)) from exc

    @staticmethod
    def _item(row: wql.Row, mode: str | None) -> str:
        if mode == "EnumerateEPR":
            return cim.epr(row.instance.ref())
        if row.props is None:
            rendered = cim.render_instance(row.instance)
        else:
            rendered = cim.render_fragment(row.instance, row.props)
        if mode == "EnumerateObjectAndEPR":
            return f"<w:Item>{rendered}{cim.epr(row.instance.ref())}</w:Item>"
        return rendered

    def _pull(self, req: Request) -> bytes:
        pull = req.body.find(ns.qname(ns.ENUMERATION, "Pull"))
        if pull is None:
            raise faults.schema_validation("The body of a Pull request must be n:Pull.")
        context = _text(pull.find(ns.qname(ns.ENUMERATION, "EnumerationContext"))) or ""
        raw_max = _text(pull.find(ns.qname(ns.ENUMERATION, "MaxElements")))
        try:
            max_elements = int(raw_max) if raw_max else 1   # WS-Enumeration: absent MaxElements means 1
        except ValueError as exc:
            raise faults.schema_validation("n:MaxElements is not an integer.") from exc
        max_elements = max(1, min(max_elements, 32000))     # MaxBatchItems default (wire notes 2.3)
        server_max = self.host.config.max_envelope_size_kb * 1024
        budget = min(req.max_envelope or server_max, server_max) // 2
        body = pull_body(self.enumerations, context, max_elements, budget, self.host.now())
        return envelope(ns.ENUMERATION + "/PullResponse", req.message_id, body, "s a n w")

    def _release(self, req: Request) -> bytes:
        release = req.body.find(ns.qname(ns.ENUMERATION, "Release"))
        if release is None:
            raise faults.schema_validation("The body of a Release request must be n:Release.")
        context = _text(release.find(ns.qname(ns.ENUMERATION, "EnumerationContext"))) or ""
        self.enumerations.release(context, self.host.now())
        return envelope(ns.ENUMERATION + "/ReleaseResponse", req.message_id, "", "s a n w")

    # ------------------------------------------------------------ invoke

    def _invoke(self, req: Request, method: str) -> bytes:
        cls = self._target_class(req)
        base = req.action.rpartition("/")[0]
        if base.lower() != req.resource_uri.lower():
            raise faults.action_not_supported(req.action)
        spec = methods.find(cls.name, method)
        if spec is None:
            raise faults.action_not_supported(req.action)
        target = cim.resolve(cls, self._visible(req, cls.name), req.selectors)
        params = parse_input(req.body, cls.uri, method, spec.signature, self.host.classes)
        result = methods.invoke(spec, self.host, target, params, req.user.username)
        body = render_output(cls.uri, method, spec.signature, result)
        return envelope(f"{cls.uri}/{method}Response", req.message_id, body, "s a w p")
