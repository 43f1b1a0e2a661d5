"""Two independent WS-Management clients pointed at a live simulator, seen through one interface.

* ``PsrpClient`` uses pypsrp's ``WSMan`` (built against real Windows by a third party). pypsrp has no
  enumeration or CIM helpers, so its Enumerate/Pull/Invoke bodies are built here, by the book (wire notes
  2.1, 2.3, 4.2), and its responses are read strictly as the notes describe them (2.2, 2.3, 4.3).
* ``ShimClient`` is the collection's own client: ``WSManClient`` / ``CimClient`` over pywinrm's ``Protocol``.

Both record every raw HTTP answer (status and text, faults included) at their transport, so a test can check
the wire itself as well as what each client made of it.
"""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from ansible_collections.hyperv.replica.plugins.module_utils.cim import client as shim_cim
from ansible_collections.hyperv.replica.plugins.module_utils.wire import wsman as shim_wsman

V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
V2_ALL = V2 + "/*"
WQL = "http://schemas.microsoft.com/wbem/wsman/1/WQL"
ANON = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
RELEASE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"
NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "n": "http://schemas.xmlsoap.org/ws/2004/09/enumeration",
    "f": "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}

Selectors = Sequence[Tuple[str, str]]
Row = Tuple[str, Dict[str, Optional[str]]]     # (class name, property texts)


@dataclass(frozen=True)
class Ref:
    """An EPR as both clients pass it: resource URI and selectors."""

    resource_uri: str
    selectors: Tuple[Tuple[str, str], ...]


@dataclass
class Batch:
    """What a client made of one EnumerateResponse / PullResponse."""

    items: List[ET.Element]
    context: Optional[str]      # None once the client considers the enumeration finished


@dataclass
class Invoked:
    """ReturnValue and the Job EPR (None when the method returned no job)."""

    return_value: int
    job: Optional[Ref]


@dataclass
class ClientFault:  # pylint: disable=too-many-instance-attributes
    """The fields a client's exception exposes; None where that client does not expose the field."""

    client: str
    wsman_code: Optional[int]
    machine: Optional[str]
    text: Optional[str]
    code: Optional[str] = None
    subcode: Optional[str] = None
    provider: Optional[str] = None
    provider_path: Optional[str] = None
    http_status: Optional[int] = None
    wmi_code: Optional[int] = None
    timeout: bool = False


@dataclass
class Recorder:
    """Raw request bodies and (HTTP status, body text) of every answer, in order."""

    answers: List[Tuple[int, str]] = field(default_factory=list)
    requests: List[str] = field(default_factory=list)

    @property
    def last(self) -> str:
        return self.answers[-1][1]

    def wrap(self, send: Callable[..., bytes], error_type: type) -> Callable[..., bytes]:
        def recording_send(*args: Any, **kwargs: Any) -> bytes:
            self.requests.append(_as_text(args[0]))
            try:
                raw = send(*args, **kwargs)
            except error_type as exc:
                self.answers.append((exc.code, _as_text(exc.response_text)))
                raise
            self.answers.append((200, _as_text(raw)))
            return raw
        return recording_send


def _as_text(raw: Any) -> str:
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def port_of(endpoint: str) -> int:
    return int(re.search(r":(\d+)/wsman$", endpoint).group(1))


def class_uri(class_name: str) -> str:
    return V2 + "/" + class_name


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def props(item: ET.Element) -> Dict[str, Optional[str]]:
    """Scalar property texts of an instance or XmlFragment (arrays keep their first value)."""
    values: Dict[str, Optional[str]] = {}
    for child in item:
        values.setdefault(local(child.tag), child.text)
    return values


def read_epr(element: ET.Element) -> Ref:
    """REF value as Windows writes it: a:ReferenceParameters directly under the element (wire notes 2.5, 4.3)."""
    params = element.find("a:ReferenceParameters", NS)
    uri = params.find("w:ResourceURI", NS).text
    selectors = tuple((s.get("Name"), s.text) for s in params.iterfind("w:SelectorSet/w:Selector", NS))
    return Ref(uri, selectors)


# ---------------------------------------------------------------- pypsrp


class PsrpClient:
    """pypsrp's WSMan, Basic over HTTP without encryption (as test_e2e_clients uses it)."""

    name = "pypsrp"

    def __init__(self, endpoint: str, username: str, password: str) -> None:
        # pylint: disable=import-outside-toplevel
        from pypsrp import exceptions as psrp_exceptions
        from pypsrp import wsman as psrp_wsman

        self._mod = psrp_wsman
        self._fault_type = psrp_exceptions.WSManFaultError
        self.wsman = psrp_wsman.WSMan("127.0.0.1", port=port_of(endpoint), username=username, password=password,
                                      ssl=False, auth="basic", encryption="never", cert_validation=False)
        self.recorder = Recorder()
        transport = self.wsman.transport
        transport.send = self.recorder.wrap(transport.send, psrp_exceptions.WinRMTransportError)

    def close(self) -> None:
        self.wsman.close()

    def _selector_set(self, selectors: Selectors):
        if not selectors:
            return None
        selector_set = self._mod.SelectorSet()
        for name, value in selectors:
            selector_set.add_option(name, value)
        return selector_set

    def get(self, class_name: str, selectors: Selectors) -> ET.Element:
        body = self.wsman.get(class_uri(class_name), selector_set=self._selector_set(selectors))
        (instance,) = list(body)
        return instance

    def enumerate(self, wql: str, max_elements: int = 32000, resource_uri: str = V2_ALL) -> Batch:
        request = ET.Element("{%s}Enumerate" % NS["n"])
        ET.SubElement(request, "{%s}OptimizeEnumeration" % NS["w"])
        ET.SubElement(request, "{%s}MaxElements" % NS["w"]).text = str(max_elements)
        ET.SubElement(request, "{%s}Filter" % NS["w"], Dialect=WQL).text = wql
        body = self.wsman.enumerate(resource_uri, request)
        return _strict_batch(body.find("n:EnumerateResponse", NS), "w")

    def pull(self, context: str, max_elements: int = 32000) -> Batch:
        body = self.wsman.pull(V2_ALL, _context_request("Pull", context, max_elements))
        return _strict_batch(body.find("n:PullResponse", NS), "n")

    def release(self, context: str) -> None:
        self.wsman.invoke(RELEASE, V2_ALL, _context_request("Release", context))

    def query(self, wql: str) -> List[Row]:
        batch = self.enumerate(wql)
        items = list(batch.items)
        while batch.context:
            batch = self.pull(batch.context)
            items.extend(batch.items)
        return [(local(item.tag), props(item)) for item in items]

    def invoke(self, target: Ref, method: str, params: Dict[str, Any]) -> Invoked:
        uri = target.resource_uri
        response = self.wsman.invoke(uri + "/" + method, uri, _input_element(uri, method, params),
                                     selector_set=self._selector_set(target.selectors))
        output = response.find("s:Body", NS).find("{%s}%s_OUTPUT" % (uri, method))
        job = output.find("{%s}Job" % uri)
        has_job = job is not None and job.get("{%s}nil" % NS["xsi"]) != "true"
        return Invoked(int(output.find("{%s}ReturnValue" % uri).text), read_epr(job) if has_job else None)

    def fault_of(self, operation: Callable[[], Any]) -> ClientFault:
        try:
            operation()
        except self._fault_type as exc:
            return ClientFault(self.name, exc.code if isinstance(exc.code, int) else None, exc.machine, exc.reason,
                               provider=exc.provider, provider_path=exc.provider_path)
        raise AssertionError("pypsrp: no WSManFaultError; last answer: %s" % self.recorder.last[:400])


def _context_request(verb: str, context: str, max_elements: Optional[int] = None) -> ET.Element:
    request = ET.Element("{%s}%s" % (NS["n"], verb))
    ET.SubElement(request, "{%s}EnumerationContext" % NS["n"]).text = context
    if max_elements is not None:
        ET.SubElement(request, "{%s}MaxElements" % NS["n"]).text = str(max_elements)
    return request


def _strict_batch(response: ET.Element, items_prefix: str) -> Batch:
    """Items in w:Items (EnumerateResponse) or n:Items (PullResponse) only, as Windows sends them (notes 2.2, 2.3)."""
    container = response.find("%s:Items" % items_prefix, NS)
    items = list(container) if container is not None else []
    finished = response.find("%s:EndOfSequence" % items_prefix, NS) is not None
    context = response.find("n:EnumerationContext", NS)
    text = (context.text or "") if context is not None else ""
    return Batch(items, None if finished or not text else text)


def _input_element(uri: str, method: str, params: Dict[str, Any]) -> ET.Element:
    """p:<Method>_INPUT in the class namespace; a REF holds a:Address + a:ReferenceParameters (notes 4.2)."""
    request = ET.Element("{%s}%s_INPUT" % (uri, method))
    for name, value in params.items():
        element = ET.SubElement(request, "{%s}%s" % (uri, name))
        if isinstance(value, Ref):
            ET.SubElement(element, "{%s}Address" % NS["a"]).text = ANON
            ref_params = ET.SubElement(element, "{%s}ReferenceParameters" % NS["a"])
            ET.SubElement(ref_params, "{%s}ResourceURI" % NS["w"]).text = value.resource_uri
            selector_set = ET.SubElement(ref_params, "{%s}SelectorSet" % NS["w"])
            for key, text in value.selectors:
                ET.SubElement(selector_set, "{%s}Selector" % NS["w"], Name=key).text = text
        else:
            element.text = str(value)
    return request


# ---------------------------------------------------------------- the collection's shim


class ShimClient:
    """WSManClient / CimClient over pywinrm's Protocol, as connection.cim_client builds them."""

    name = "shim"

    def __init__(self, endpoint: str, username: str, password: str) -> None:
        # pylint: disable=import-outside-toplevel
        from winrm.exceptions import WinRMTransportError
        from winrm.protocol import Protocol

        protocol = Protocol(endpoint, transport="basic", username=username, password=password,
                            message_encryption="never")
        self.recorder = Recorder()
        protocol.transport.send_message = self.recorder.wrap(protocol.transport.send_message, WinRMTransportError)
        self.wsman = shim_wsman.WSManClient(protocol, endpoint=endpoint)
        self.cim = shim_cim.CimClient(self.wsman)

    def close(self) -> None:
        """Nothing to close: pywinrm opens its session per request."""

    def get(self, class_name: str, selectors: Selectors) -> ET.Element:
        return self.wsman.get(class_uri(class_name), list(selectors))

    def enumerate(self, wql: str, max_elements: int = 32000, resource_uri: str = V2_ALL) -> Batch:
        batch = self.wsman.enumerate(resource_uri, wql, max_elements)
        return Batch(batch.items, batch.context)

    def pull(self, context: str, max_elements: int = 32000) -> Batch:
        batch = self.wsman.pull(V2_ALL, context, max_elements)
        return Batch(batch.items, batch.context)

    def release(self, context: str) -> None:
        self.wsman.release(V2_ALL, context)

    def query(self, wql: str) -> List[Row]:
        """CimClient's own Enumerate/Pull loop; values as text so that both clients compare."""
        return [(inst.class_name, {k: None if v is None else str(v) for k, v in inst.items()})
                for inst in self.cim.query(wql)]

    def invoke(self, target: Ref, method: str, params: Dict[str, Any]) -> Invoked:
        converted = {k: _shim_ref(v) if isinstance(v, Ref) else v for k, v in params.items()}
        result = self.cim.invoke(_shim_ref(target), method, converted)
        job = result.outputs.get("Job")
        return Invoked(result.return_value, Ref(job.resource_uri, tuple(job.selectors)) if job else None)

    def fault_of(self, operation: Callable[[], Any]) -> ClientFault:
        try:
            operation()
        except shim_wsman.WSManFault as exc:
            return ClientFault(self.name, exc.wsman_code, exc.machine, exc.message, code=exc.code,
                               subcode=exc.subcode, http_status=exc.http_status, wmi_code=exc.wmi_code,
                               timeout=exc.is_timeout)
        raise AssertionError("shim: no WSManFault; last answer: %s" % self.recorder.last[:400])


def _shim_ref(ref: Ref) -> shim_cim.Reference:
    return shim_cim.Reference(ref.resource_uri, tuple(ref.selectors))


CLIENTS = {"pypsrp": PsrpClient, "shim": ShimClient}


# ---------------------------------------------------------------- the wire, read independently of both clients


@dataclass
class WireFault:  # pylint: disable=too-many-instance-attributes
    """A fault envelope as sent: the fields notes 5.1 describes."""

    http_status: int
    action: str
    code: str
    subcode: Optional[str]
    reason: str
    wsman_code: Optional[int]
    machine: Optional[str]
    message: Optional[str]
    detail: Optional[str]
    provider: Optional[Dict[str, str]]
    provider_code: Optional[int]
    provider_machine: Optional[str]
    extended: Dict[str, Optional[str]]


def wire_fault(http_status: int, text: str) -> WireFault:
    root = ET.fromstring(text)
    fault = root.find("s:Body/s:Fault", NS)
    outer = fault.find("s:Detail/f:WSManFault", NS)
    provider = fault.find("s:Detail/f:WSManFault/f:Message/f:ProviderFault", NS)
    inner = provider.find("f:WSManFault", NS) if provider is not None else None
    subcode = fault.find("s:Code/s:Subcode/s:Value", NS)
    detail = fault.find("s:Detail/w:FaultDetail", NS)
    message = outer.find("f:Message", NS) if outer is not None else None
    return WireFault(
        http_status=http_status, action=root.find("s:Header/a:Action", NS).text,
        code=fault.find("s:Code/s:Value", NS).text, subcode=None if subcode is None else subcode.text,
        reason=fault.find("s:Reason/s:Text", NS).text,
        wsman_code=None if outer is None else int(outer.get("Code")),
        machine=None if outer is None else outer.get("Machine"),
        message=None if message is None else message.text,
        detail=None if detail is None else detail.text,
        provider=None if provider is None else dict(provider.attrib),
        provider_code=None if inner is None else int(inner.get("Code")),
        provider_machine=None if inner is None else inner.get("Machine"),
        extended={local(c.tag): c.text for c in fault.iterfind(".//f:ExtendedError/*/*", NS)},
    )


@dataclass
class Shape:
    """The layout of one EnumerateResponse / PullResponse on the wire (notes 2.2, 2.3)."""

    kind: str
    layout: Tuple[str, ...]            # children as "prefix:Local", prefix w or n by namespace URI
    item_count: int
    context: Optional[str]             # None: no EnumerationContext element; "": present but empty


def enumeration_shape(text: str) -> Shape:
    response = ET.fromstring(text).find("s:Body", NS)[0]
    prefix = {uri: name for name, uri in NS.items()}
    layout = tuple("%s:%s" % (prefix.get(child.tag[1:].split("}")[0], "?"), local(child.tag)) for child in response)
    container = next((child for child in response if local(child.tag) == "Items"), None)
    context = response.find("n:EnumerationContext", NS)
    return Shape(local(response.tag), layout, 0 if container is None else len(container),
                 None if context is None else (context.text or ""))


@dataclass
class EnvelopeFacts:
    """What notes 1.5 says of every response envelope."""

    prefixes: List[str]                 # namespace prefixes declared on the Envelope, in order
    lang: Optional[str]
    header: List[str]                   # header children as "prefix:Local"
    message_id: str
    to: str
    relates_to: Optional[str]


def envelope_facts(text: str) -> EnvelopeFacts:
    prefixes: List[str] = []
    for event, value in ET.iterparse(io.StringIO(text), events=("start-ns", "start")):
        if event == "start":
            break
        prefixes.append(value[0])
    root = ET.fromstring(text)
    header = root.find("s:Header", NS)
    names = {uri: name for name, uri in NS.items()}
    names["http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"] = "p"
    relates_to = header.find("a:RelatesTo", NS)
    return EnvelopeFacts(
        prefixes=prefixes, lang=root.get("{http://www.w3.org/XML/1998/namespace}lang"),
        header=["%s:%s" % (names.get(child.tag[1:].split("}")[0], "?"), local(child.tag)) for child in header],
        message_id=header.find("a:MessageID", NS).text, to=header.find("a:To", NS).text,
        relates_to=None if relates_to is None else relates_to.text)


def request_message_id(text: str) -> str:
    return ET.fromstring(text).find("s:Header/a:MessageID", NS).text
