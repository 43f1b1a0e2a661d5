# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A compact WS-Management client for WMI resources.

It builds SOAP envelopes for Get, Enumerate/Pull/Release and Invoke, hands them to anything with a
``send_message(str) -> bytes`` method (pywinrm's ``winrm.protocol.Protocol``), and turns every failure
into one of the exception types below. Responses are read by namespace URI, never by prefix, because
Windows rebinds ``p`` on every instance element.
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable, ContextManager, List, Optional, Protocol, Sequence, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils.errors import HypervError

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
MS_WSMAN = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
WSMAN_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
CIM_COMMON = "http://schemas.dmtf.org/wbem/wscim/1/common"
WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
ANONYMOUS = ADDRESSING + "/role/anonymous"

ACTION_GET = TRANSFER + "/Get"
ACTION_ENUMERATE = ENUMERATION + "/Enumerate"
ACTION_PULL = ENUMERATION + "/Pull"
ACTION_RELEASE = ENUMERATION + "/Release"

# WSManFault code Windows uses for an expired w:OperationTimeout (pywinrm raises a dedicated error for it).
OPERATION_TIMEOUT_CODE = 2150858793
# ERROR_ACCESS_DENIED, the code of w:AccessDenied (wsman-wmi-wire notes 5.2).
ACCESS_DENIED_CODE = 5
# What an account needs on a Hyper-V host, for messages about a refusal.
RIGHTS = ("the account needs the rights to use WinRM and Hyper-V on the host: membership of its Administrators group, "
          "or of Remote Management Users (WinRM) and Hyper-V Administrators (the Hyper-V WMI classes)")

for _prefix, _uri in (("s", SOAP), ("a", ADDRESSING), ("w", WSMAN), ("p", MS_WSMAN), ("n", ENUMERATION),
                      ("x", TRANSFER), ("xsi", XSI), ("cim", CIM_COMMON)):
    ET.register_namespace(_prefix, _uri)

Selectors = Sequence[Tuple[str, str]]


def qname(namespace: str, local: str) -> str:
    """ElementTree's ``{uri}local`` form."""
    return "{%s}%s" % (namespace, local)


class WSManError(HypervError):
    """Base of every error raised by the WS-Man layer: the host's answer, or the lack of one."""

    about_host = True


class WSManTransportError(WSManError):
    """The request did not get a SOAP answer: connection refused, TLS failure, bad credentials, HTTP error.

    ``unsent`` is true when the host certainly did not act on the request (no connection, TLS or logon refused);
    otherwise it may have, and a method call's outcome is unknown.
    """

    def __init__(self, message: str, kind: str, http_status: Optional[int] = None, unsent: bool = False) -> None:
        super().__init__(message)
        self.kind = kind
        self.http_status = http_status
        self.unsent = unsent


class WSManProtocolError(WSManError):
    """The server answered, but not with a WS-Man message we can read."""


@dataclass
class WSManFault(WSManError):
    """A SOAP fault, with the fields Windows puts in it."""

    message: str
    http_status: Optional[int] = None
    code: Optional[str] = None
    subcode: Optional[str] = None
    wsman_code: Optional[int] = None
    wmi_code: Optional[int] = None
    machine: Optional[str] = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        parts = [p for p in (self.subcode, "WSManFault %s" % self.wsman_code if self.wsman_code else None,
                             "WMI error %s" % self.wmi_code if self.wmi_code else None) if p]
        text = "%s (%s)" % (self.message, ", ".join(parts)) if parts else self.message
        return text + "; " + RIGHTS if self.is_access_denied else text

    @property
    def is_timeout(self) -> bool:
        return self.wsman_code == OPERATION_TIMEOUT_CODE

    @property
    def is_access_denied(self) -> bool:
        return self.wsman_code == ACCESS_DENIED_CODE or (self.subcode or "").endswith("AccessDenied")


class MessageSender(Protocol):  # pylint: disable=too-few-public-methods
    """What the client needs from pywinrm: ``Protocol.send_message``."""

    def send_message(self, message: str) -> bytes:
        ...  # pragma: no cover


@dataclass
class EnumerationBatch:
    """One EnumerateResponse or PullResponse: its items and the context to pull the rest with."""

    items: List[ET.Element] = field(default_factory=list)
    context: Optional[str] = None

    @property
    def finished(self) -> bool:
        return not self.context


# What to tell the user about a transport error, given how the connection was set up (see connection.py).
Advisor = Callable[[WSManTransportError], Optional[str]]


class WSManClient:
    """Sends WS-Man operations through a pywinrm ``Protocol`` (or any ``MessageSender``)."""

    def __init__(self, sender: MessageSender, endpoint: str = "", operation_timeout: int = 20,
                 max_envelope_size: int = 512000, advise: Optional[Advisor] = None) -> None:
        self.sender = sender
        self.endpoint = endpoint
        self.operation_timeout = operation_timeout
        self.max_envelope_size = max_envelope_size
        self.advise = advise

    def session(self) -> ContextManager[None]:
        """Keep one connection for the messages sent inside the block, when the sender pools several
        (sessions.SessionPool); a plain pywinrm Protocol has only one anyway."""
        held = getattr(self.sender, "held", None)
        return held() if callable(held) else nullcontext()

    def get(self, resource_uri: str, selectors: Selectors) -> ET.Element:
        """Transfer Get: the instance element."""
        body = self._send(ACTION_GET, resource_uri, selectors, None)
        return _only_child(body, "GetResponse")

    def enumerate(self, resource_uri: str, wql: str, max_elements: int = 32000,
                  mode: Optional[str] = None) -> EnumerationBatch:
        """Optimized Enumerate with a WQL filter; the first batch comes back in the response. ``mode``
        ``EnumerateEPR`` asks for the instances' endpoint references instead of the instances."""
        request = ET.Element(qname(ENUMERATION, "Enumerate"))
        ET.SubElement(request, qname(WSMAN, "OptimizeEnumeration"))
        ET.SubElement(request, qname(WSMAN, "MaxElements")).text = str(max_elements)
        if mode:
            ET.SubElement(request, qname(WSMAN, "EnumerationMode")).text = mode
        ET.SubElement(request, qname(WSMAN, "Filter"), Dialect=WQL_DIALECT).text = wql
        body = self._send(ACTION_ENUMERATE, resource_uri, (), request)
        return _read_batch(_child(body, ENUMERATION, "EnumerateResponse"))

    def pull(self, resource_uri: str, context: str, max_elements: int = 32000) -> EnumerationBatch:
        request = ET.Element(qname(ENUMERATION, "Pull"))
        ET.SubElement(request, qname(ENUMERATION, "EnumerationContext")).text = context
        ET.SubElement(request, qname(ENUMERATION, "MaxElements")).text = str(max_elements)
        body = self._send(ACTION_PULL, resource_uri, (), request)
        return _read_batch(_child(body, ENUMERATION, "PullResponse"))

    def release(self, resource_uri: str, context: str) -> None:
        """Free an enumeration we abandon, so it does not count against the per-user quota."""
        request = ET.Element(qname(ENUMERATION, "Release"))
        ET.SubElement(request, qname(ENUMERATION, "EnumerationContext")).text = context
        self._send(ACTION_RELEASE, resource_uri, (), request)

    def invoke(self, resource_uri: str, method: str, selectors: Selectors, request: ET.Element) -> ET.Element:
        """Invoke a CIM method; ``request`` is the ``<Method>_INPUT`` element. Returns ``<Method>_OUTPUT``."""
        body = self._send(resource_uri + "/" + method, resource_uri, selectors, request)
        return _only_child(body, method + "Response")

    def _send(self, action: str, resource_uri: str, selectors: Selectors,
              request: Optional[ET.Element]) -> ET.Element:
        envelope = self._envelope(action, resource_uri, selectors, request)
        try:
            raw = _send_translating_errors(self.sender, ET.tostring(envelope, encoding="unicode"))
        except WSManTransportError as exc:
            advice = self.advise(exc) if self.advise else None
            if advice:
                raise WSManTransportError("%s; %s" % (exc, advice), exc.kind, exc.http_status, exc.unsent) from None
            raise
        # Windows keeps an answer within the MaxEnvelopeSize we ask for (UTF-16 counted, so at most twice that in
        # bytes of UTF-8); anything far larger is not a WS-Man answer, and parsing it could exhaust memory.
        if isinstance(raw, (bytes, str)) and len(raw) > 4 * self.max_envelope_size:
            raise WSManProtocolError("the WinRM response is %d bytes, far above the %d-byte envelope asked for; refused"
                                     % (len(raw), self.max_envelope_size))
        return _response_body(raw)

    def _envelope(self, action: str, resource_uri: str, selectors: Selectors,
                  request: Optional[ET.Element]) -> ET.Element:
        envelope = ET.Element(qname(SOAP, "Envelope"))
        header = ET.SubElement(envelope, qname(SOAP, "Header"))
        must = {qname(SOAP, "mustUnderstand"): "true"}
        ET.SubElement(header, qname(ADDRESSING, "To")).text = self.endpoint or ANONYMOUS
        reply_to = ET.SubElement(header, qname(ADDRESSING, "ReplyTo"))
        ET.SubElement(reply_to, qname(ADDRESSING, "Address"), must).text = ANONYMOUS
        ET.SubElement(header, qname(ADDRESSING, "Action"), must).text = action
        ET.SubElement(header, qname(WSMAN, "MaxEnvelopeSize"), must).text = str(self.max_envelope_size)
        ET.SubElement(header, qname(ADDRESSING, "MessageID")).text = "uuid:%s" % uuid.uuid4()
        lang = {qname(SOAP, "mustUnderstand"): "false", "{http://www.w3.org/XML/1998/namespace}lang": "en-US"}
        ET.SubElement(header, qname(WSMAN, "Locale"), lang)
        ET.SubElement(header, qname(MS_WSMAN, "DataLocale"), lang)
        ET.SubElement(header, qname(WSMAN, "OperationTimeout")).text = "PT%dS" % self.operation_timeout
        ET.SubElement(header, qname(WSMAN, "ResourceURI"), must).text = resource_uri
        if selectors:
            header.append(selector_set(selectors))
        body = ET.SubElement(envelope, qname(SOAP, "Body"))
        if request is not None:
            body.append(request)
        return envelope


def selector_set(selectors: Selectors) -> ET.Element:
    element = ET.Element(qname(WSMAN, "SelectorSet"))
    for name, value in selectors:
        ET.SubElement(element, qname(WSMAN, "Selector"), Name=name).text = value
    return element


def parse_xml(raw: bytes) -> ET.Element:
    """Parse a response, refusing DTDs: a WS-Man message never has one, and entities are an attack."""
    if b"<!DOCTYPE" in raw or b"<!ENTITY" in raw:
        raise WSManProtocolError("the WinRM response contains a DTD, which WS-Management never sends; refused")
    try:
        return ET.fromstring(raw)
    except ET.ParseError as exc:
        raise WSManProtocolError("the WinRM response is not well-formed XML (%s)" % exc) from None


def _response_body(raw: Any) -> ET.Element:
    if not isinstance(raw, (bytes, str)) or not raw:
        raise WSManProtocolError("the WinRM service returned an empty response")
    root = parse_xml(raw if isinstance(raw, bytes) else raw.encode("utf-8"))
    if root.tag != qname(SOAP, "Envelope"):
        raise WSManProtocolError("the WinRM response is not a SOAP 1.2 envelope (root element %s)" % root.tag)
    body = root.find(qname(SOAP, "Body"))
    if body is None:
        raise WSManProtocolError("the WinRM response has no SOAP body")
    fault = body.find(qname(SOAP, "Fault"))
    if fault is not None:
        raise parse_fault(fault, 200)
    return body


def _child(parent: ET.Element, namespace: str, local: str) -> ET.Element:
    element = parent.find(qname(namespace, local))
    if element is None:
        raise WSManProtocolError("the WinRM response has no %s element" % local)
    return element


def _only_child(body: ET.Element, what: str) -> ET.Element:
    children = list(body)
    if len(children) != 1:
        raise WSManProtocolError("the WinRM %s has %d body elements, expected one" % (what, len(children)))
    return children[0]


def _read_batch(response: ET.Element) -> EnumerationBatch:
    # Windows puts items and EndOfSequence in the wsman namespace in an optimized EnumerateResponse and in
    # the enumeration namespace in a PullResponse; accept either in both.
    items: List[ET.Element] = []
    end = False
    for namespace in (WSMAN, ENUMERATION):
        container = response.find(qname(namespace, "Items"))
        if container is not None:
            items.extend(list(container))
        end = end or response.find(qname(namespace, "EndOfSequence")) is not None
    context_element = response.find(qname(ENUMERATION, "EnumerationContext"))
    context = (context_element.text or "").strip() if context_element is not None else ""
    return EnumerationBatch(items=items, context=None if end or not context else context)


def _text(element: Optional[ET.Element]) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _int_or_none(value: Optional[str]) -> Optional[int]:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def parse_fault(fault: ET.Element, http_status: Optional[int]) -> WSManFault:
    """Read a ``s:Fault`` element into a WSManFault (code, subcode, WSMan and WMI codes, innermost message)."""
    code = _text(fault.find("./{%s}Code/{%s}Value" % (SOAP, SOAP))) or None
    subcode = _text(fault.find("./{%s}Code/{%s}Subcode/{%s}Value" % (SOAP, SOAP, SOAP))) or None
    reason = _text(fault.find("./{%s}Reason/{%s}Text" % (SOAP, SOAP)))
    wsman_fault = fault.find(".//{%s}WSManFault" % WSMAN_FAULT)
    wsman_code = _int_or_none(wsman_fault.get("Code")) if wsman_fault is not None else None
    machine = wsman_fault.get("Machine") if wsman_fault is not None else None
    messages = [_own_text(m) for m in fault.iter(qname(WSMAN_FAULT, "Message"))]
    message = next((m for m in reversed(messages) if m), "") or reason or "(no error message in fault)"
    return WSManFault(message=message, http_status=http_status, code=code, subcode=subcode,
                      wsman_code=wsman_code, wmi_code=_wmi_code(fault), machine=machine)


def _own_text(element: ET.Element) -> str:
    """Text of an f:Message without the text of a nested ProviderFault (that one is read on its own)."""
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element)
    return " ".join("".join(parts).split())


def _wmi_code(fault: ET.Element) -> Optional[int]:
    for element in fault.iter():
        local = element.tag.rsplit("}", 1)[-1]
        if local in ("error_Code", "StatusCode"):
            code = _int_or_none(_text(element))
            if code is not None:
                return code
    return None


def _send_translating_errors(sender: MessageSender, message: str) -> bytes:
    """Call pywinrm and map its exceptions (and those of requests underneath) to ours."""
    try:
        return sender.send_message(message)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise translate_exception(exc) from None


def translate_exception(exc: Exception) -> WSManError:
    """One place that knows pywinrm's and requests' exception types, looked up by name so that
    importing this module does not need pywinrm (the unit tests and ansible-test's import check)."""
    name = type(exc).__name__
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, WSManError):
        return exc
    if name == "WinRMOperationTimeoutError":
        return WSManFault("the WinRM operation timed out on the host (w:TimedOut)", http_status=500,
                          code="s:Receiver", subcode="w:TimedOut", wsman_code=OPERATION_TIMEOUT_CODE)
    if name == "WSManFaultError":
        return _from_wsman_fault_error(exc)
    if "AuthenticationError" in names or name == "InvalidCredentialsError":
        return WSManTransportError("the WinRM host rejected the credentials (HTTP 401): check username, password "
                                   "and transport", kind="auth", http_status=401, unsent=True)
    if name == "WinRMTransportError":
        return _http_error(getattr(exc, "code", None))
    if "SSLError" in names:
        return _tls_error(exc)
    if _kerberos_failure(exc):
        return WSManTransportError("Kerberos authentication with the WinRM host failed (%s): check the ticket (klist, "
                                   "kinit) and that hostname is the FQDN the host's HTTP service principal is "
                                   "registered for" % _first_line(exc), kind="auth", unsent=True)
    if "ConnectionError" in names or "Timeout" in names or isinstance(exc, OSError):
        return WSManTransportError("cannot reach the WinRM host: %s" % _unreachable(exc, names), kind="connection",
                                   unsent=_never_connected(exc, names))
    return WSManTransportError("WinRM request failed: %s: %s" % (name, _first_line(exc)), kind="other")


# What a server that is not WinRM answers a WS-Management POST with: no such path, no POST, or no idea of it.
NOT_WINRM = (404, 405, 501)
# OpenSSL's words when the other end answered in clear text to a TLS handshake: an http listener on that port.
_PLAIN_HTTP = ("WRONG_VERSION_NUMBER", "wrong version number", "record layer failure", "http request",
               "unknown protocol", "packet length too long")
_NO_SUCH_NAME = ("Name or service not known", "nodename nor servname", "Temporary failure in name resolution",
                 "getaddrinfo failed", "No address associated with hostname", "NameResolutionError")


def _http_error(status: Optional[int]) -> WSManTransportError:
    if status in NOT_WINRM:
        # Not a host that failed a request: one that never was the WinRM service, so the request did nothing.
        return WSManTransportError("the server answered HTTP %s: not a WinRM endpoint, wrong port or path? (WinRM "
                                   "listens on /wsman, port 5985 for http and 5986 for https)" % status,
                                   kind="endpoint", http_status=status, unsent=True)
    return WSManTransportError("the WinRM host answered HTTP %s without a WS-Management message" % status,
                               kind="http", http_status=status)


def _tls_error(exc: Exception) -> WSManTransportError:
    reason = _ssl_reason(exc)
    if any(word in str(exc) for word in _PLAIN_HTTP):
        return WSManTransportError("TLS failed with the WinRM host (%s): that port answers without TLS, it is an http "
                                   "listener; use scheme=http, or the port of the host's https listener (5986 by "
                                   "default; the scheme is https unless the port is 5985)" % reason,
                                   kind="tls", unsent=True)
    return WSManTransportError("TLS failed with the WinRM host (%s); if its certificate is signed by a private CA, set "
                               "ca_path to that CA's PEM file (validate_certs=false only for a lab host)" % reason,
                               kind="tls", unsent=True)


def _unreachable(exc: Exception, names: Any) -> str:
    """What failed and what to check, for a connection that could not be made or was lost."""
    text = str(exc)
    if any(words in text for words in _NO_SUCH_NAME):
        return ("the host name does not resolve (%s): check the name and DNS, or give the host's address (Kerberos "
                "needs the name)" % _errno_words(text, "name resolution failed"))
    if "Connection refused" in text or "Errno 111" in text or isinstance(exc, ConnectionRefusedError):
        return ("nothing accepted the connection (connection refused): check that WinRM listens on that port "
                "(winrm enumerate winrm/config/listener; winrm quickconfig creates the listener) and that the "
                "firewall lets the port through")
    if "ConnectTimeout" in names or ("Connection to" in text and "timed out" in text):
        return ("the connection was not answered in time (connect timeout): a firewall dropping the port, or the host "
                "is down or unreachable from here")
    return _first_line(exc)


def _errno_words(text: str, default: str) -> str:
    """The operating system's own words from a nested error text ("[Errno -2] Name or service not known")."""
    found = re.search(r"\[Errno -?\d+\] ([^')\]]+)", text)
    return found.group(1).strip() if found else default


def _kerberos_failure(exc: Exception) -> bool:
    """pywinrm's Kerberos errors surface as an OSError subclass (pykerberos' GSSError) whose text names the GSS
    call; they are a logon failure, not a network one."""
    text = str(exc)
    return "authGSSClient" in text or type(exc).__name__ in ("GSSError", "KrbError")


def _never_connected(exc: Exception, names: Any) -> bool:
    """No TCP connection was made, so nothing was sent: refused, timed out while connecting, or a name that does not
    resolve. requests wraps urllib3's NewConnectionError and NameResolutionError in its message, not its type."""
    text = str(exc)
    return (isinstance(exc, ConnectionRefusedError) or "ConnectTimeout" in names or "NewConnectionError" in text
            or "Failed to establish a new connection" in text or any(words in text for words in _NO_SUCH_NAME))


def _from_wsman_fault_error(exc: Exception) -> WSManFault:
    response = getattr(exc, "response", None)
    status = getattr(exc, "code", None)
    if response:
        try:
            root = parse_xml(response.encode("utf-8") if isinstance(response, str) else response)
            fault = root.find(".//{%s}Fault" % SOAP)
            if fault is not None:
                return parse_fault(fault, status)
        except WSManProtocolError:
            pass
    return WSManFault(message=str(getattr(exc, "reason", "") or exc), http_status=status,
                      code=getattr(exc, "fault_code", None), subcode=getattr(exc, "fault_subcode", None),
                      wsman_code=getattr(exc, "wsman_fault_code", None), wmi_code=getattr(exc, "wmierror_code", None))


def _ssl_reason(exc: Exception) -> str:
    """OpenSSL's own words from the nested requests/urllib3 exception text, without the pool and retry noise."""
    found = re.search(r"\[SSL(?:: [A-Z_]+)?\][^'\")]*", str(exc))
    return found.group(0).strip() if found else _first_line(exc)


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
