"""SOAP fault catalogue of the Windows WinRM service and its WMI plugin (wire notes 5.1 and 5.2).

Every fault is raised as a WsmanFault and rendered by render_fault() with the structure Windows uses:
Action URI by subcode family, s:Code/s:Subcode as prefixed QName text, reason texts ending with a space,
f:WSManFault with Code and Machine, and for WMI-plugin errors a nested f:ProviderFault carrying the
server-side f:WSManFault and a __ExtendedStatus instance.  Texts come from wsmerror.h (wire notes, source E1).
"""

from dataclasses import dataclass

from . import ns
from .xmlutil import attr, text

# __ExtendedStatus as Windows Server 2012 R2 renders it (DMTF namespace, xsi:type annotations; source M1).
EXTENDED_STATUS_URI = "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/__ExtendedStatus"
# Path attribute of the WMI plugin's ProviderFault as a 2012 R2 host writes it (source M1).
WMI_PLUGIN_PATH = "C:\\Windows\\system32\\WsmWmiPl.dll"
HYPERV_PROVIDER = "VmmsWmiInstanceAndMethodProvider"
WINMGMT = "WinMgmt"

# WSManFault codes (decimal, as on the wire).
RESOURCE_NOT_FOUND = 2150858752          # 0x80338000
MESSAGE_INFORMATION_HEADER_REQUIRED = 2150858769  # 0x80338011
ACTION_NOT_SUPPORTED = 2150858771        # 0x80338013
FILTER_DIALECT_UNAVAILABLE = 2150858777  # 0x80338019
CANNOT_PROCESS_FILTER = 2150858778       # 0x8033801A
INVALID_ENUMERATION_CONTEXT = 2150858779  # 0x8033801B
OPERATION_TIMEDOUT = 2150858793          # 0x80338029
ENCODING_LIMIT = 2150858805              # 0x80338035
INVALID_RESOURCE_URI = 2150858811        # 0x8033803B
SCHEMA_VALIDATION_ERROR = 2150858817     # 0x80338041
UNSUPPORTED_FEATURE = 2150858818         # 0x80338042
INSUFFICIENT_SELECTORS = 2150858842      # 0x8033805A
UNEXPECTED_SELECTORS = 2150858843        # 0x8033805B
DUPLICATE_SELECTORS = 2150858847         # 0x8033805F
INVALID_URI_WMI_SINGLETON = 2150859002   # 0x803380FA
INVALID_URI_WMI_ENUM_WQL = 2150859003    # 0x803380FB
WMI_PROVIDER_INVALID_PARAMETER = 2150859038  # 0x8033811E
DIFFERENT_CIM_SELECTOR = 2150859067      # 0x8033813B
QUOTA_MAX_OPERATIONS_USER = 2150859174   # 0x803381A6
ACCESS_DENIED = 5

WBEM_E_NOT_FOUND = 2147749890            # 0x80041002
WBEM_E_INVALID_QUERY = 2147749911        # 0x80041017
WBEM_E_INVALID_METHOD_PARAMETERS = 2147749935  # 0x8004102F

TEXT_NOT_FOUND = ("The WS-Management service cannot process the request. The service cannot find the resource "
                  "identified by the resource URI and selectors. ")
TEXT_CANNOT_PROCESS_FILTER = ("The data source could not process the filter. The filter might be missing or it might be "
                              "invalid. Change the filter and try the request again. ")


@dataclass
class ExtendedStatus:
    """The __ExtendedStatus instance WMI attaches to a provider error."""

    operation: str
    parameter_info: str | None
    provider_name: str
    description: str | None = None
    status_code: int | None = None


@dataclass
class ProviderFault:
    """The inner f:ProviderFault of a WMI-plugin error."""

    code: int
    message: str
    extended: ExtendedStatus | None = None
    provider: str = "WMI Provider"


class WsmanFault(Exception):  # pylint: disable=too-many-instance-attributes
    """A SOAP fault to send back with HTTP 500."""

    def __init__(self, *, code: str, subcode: str | None, action: str, reason: str, wsman_code: int | None,
                 message: str | None = None, detail: str | None = None, provider: ProviderFault | None = None,
                 not_understood: tuple[str, str] | None = None, reason_lang: str = "en-US") -> None:
        super().__init__(reason)
        self.code = code
        self.subcode = subcode
        self.action = action
        self.reason = reason
        self.wsman_code = wsman_code
        self.message = reason if message is None else message
        self.detail = detail
        self.provider = provider
        self.not_understood = not_understood
        self.reason_lang = reason_lang


def _sender(subcode: str, action: str, reason: str, code: int | None, **kwargs) -> WsmanFault:
    return WsmanFault(code="s:Sender", subcode=subcode, action=action, reason=reason, wsman_code=code, **kwargs)


def _receiver(subcode: str, action: str, reason: str, code: int | None, **kwargs) -> WsmanFault:
    return WsmanFault(code="s:Receiver", subcode=subcode, action=action, reason=reason, wsman_code=code, **kwargs)


# ---------------------------------------------------------------- addressing / header faults

def header_required(missing: str) -> WsmanFault:
    """a:MessageInformationHeaderRequired: Action, MessageID or ReplyTo missing (MS-WSMV 3.1.4.1.3)."""
    reason = "The WS-Management service cannot process the request. The request does not have all the expected SOAP headers. "
    return _sender("a:MessageInformationHeaderRequired", ns.FAULT_ADDRESSING, reason, MESSAGE_INFORMATION_HEADER_REQUIRED,
                   message=f"{reason}Missing header: {missing}. ")


def action_not_supported(action: str) -> WsmanFault:
    """a:ActionNotSupported for an Action URI that is neither a WS-Transfer/Enumeration verb nor a known method."""
    reason = "The WS-Management service does not support the action specified in the request. "
    return _sender("a:ActionNotSupported", ns.FAULT_ADDRESSING, reason, ACTION_NOT_SUPPORTED,
                   detail=ns.FAULT_DETAIL + "ActionMismatch" if action else None)


def invalid_resource_uri() -> WsmanFault:
    """Missing, malformed or unserved resource URI [infer: subcode a:DestinationUnreachable as in the spec example]."""
    reason = ("The WS-Management service cannot process the request. The resource URI is missing or it has an incorrect "
              "format. Check the documentation or use the following command for information on how to construct a "
              "resource URI: \"winrm help uris\". ")
    return _sender("a:DestinationUnreachable", ns.FAULT_ADDRESSING, reason, INVALID_RESOURCE_URI,
                   detail=ns.FAULT_DETAIL + "InvalidResourceURI")


def not_found(path: str, operation: str, provider_name: str) -> WsmanFault:
    """Instance not found (Get, Invoke target or REF): a:DestinationUnreachable 2150858752 + ProviderFault (source M1)."""
    inner = ProviderFault(RESOURCE_NOT_FOUND, TEXT_NOT_FOUND,
                          ExtendedStatus(operation=operation, parameter_info=path, provider_name=provider_name))
    return _sender("a:DestinationUnreachable", ns.FAULT_ADDRESSING, TEXT_NOT_FOUND, RESOURCE_NOT_FOUND,
                   detail=ns.FAULT_DETAIL + "InvalidResourceURI", provider=inner)


def must_understand(uri: str, local: str) -> WsmanFault:
    """s:MustUnderstand: no subcode, no detail, an s:NotUnderstood header (pywinrm test sample)."""
    reason = ("The WS-Management service cannot process a SOAP header in the request that is marked as mustUnderstand "
              "by the client.  This could be caused by the use of a version of the protocol which is not supported, or "
              "may be an incompatibility  between the client and server implementations. ")
    return WsmanFault(code="s:MustUnderstand", subcode=None, action=ns.FAULT_ADDRESSING, reason=reason,
                      wsman_code=None, not_understood=(uri, local), reason_lang="")


# ---------------------------------------------------------------- wsman faults

def unsupported_feature(detail: str) -> WsmanFault:
    """w:UnsupportedFeature with a faultDetail such as Locale, AddressingMode, EnumerationMode, ExpirationTime."""
    reason = ("The WS-Management service does not support the specified feature. Remove the unsupported feature from "
              "the request and retry. ")
    return _sender("w:UnsupportedFeature", ns.FAULT_WSMAN, reason, UNSUPPORTED_FEATURE, detail=ns.FAULT_DETAIL + detail)


def encoding_limit() -> WsmanFault:
    """w:EncodingLimit: MaxEnvelopeSize below 8192 (MS-WSMV 3.1.4.1.7)."""
    reason = ("The WS-Management service cannot process the request because the encoding of the request exceeds an "
              "internal encoding limit. Reconfigure the client to send messages which fit the encoding limits of the "
              "service. ")
    return _sender("w:EncodingLimit", ns.FAULT_WSMAN, reason, ENCODING_LIMIT, detail=ns.FAULT_DETAIL + "MinimumEnvelopeLimit")


def schema_validation(why: str = "") -> WsmanFault:
    """w:SchemaValidationError for a body that does not have the expected shape."""
    reason = "The SOAP XML in the message does not match the corresponding XML schema definition. Change the XML and retry. "
    return _sender("w:SchemaValidationError", ns.FAULT_WSMAN, reason, SCHEMA_VALIDATION_ERROR,
                   message=reason + (why + " " if why else ""))


def unexpected_selectors() -> WsmanFault:
    """w:InvalidSelectors / UnexpectedSelectors (structure from source P2; the WMI plugin's code is UNCERTAIN)."""
    reason = ("The WS-Management service cannot process the request because the request contained invalid selectors "
              "for the resource. ")
    return _sender("w:InvalidSelectors", ns.FAULT_WSMAN, reason, UNEXPECTED_SELECTORS,
                   detail=ns.FAULT_DETAIL + "UnexpectedSelectors")


def insufficient_selectors() -> WsmanFault:
    """w:InvalidSelectors / InsufficientSelectors: a partial key set that matches more than one instance [infer]."""
    reason = ("The WS-Management service cannot process the request because the request did not contain all required "
              "selectors. ")
    return _sender("w:InvalidSelectors", ns.FAULT_WSMAN, reason, INSUFFICIENT_SELECTORS,
                   detail=ns.FAULT_DETAIL + "InsufficientSelectors")


def duplicate_selectors() -> WsmanFault:
    """w:InvalidSelectors / DuplicateSelectors."""
    reason = "The WS-Management service cannot process the request because the request contains duplicate selectors. "
    return _sender("w:InvalidSelectors", ns.FAULT_WSMAN, reason, DUPLICATE_SELECTORS,
                   detail=ns.FAULT_DETAIL + "DuplicateSelectors")


def no_keys_not_singleton() -> WsmanFault:
    """Get/Invoke without selectors on a non-singleton class: 2150859002 inside a WMI ProviderFault.

    The subcode is [infer]: the code has no SOAP mapping in wsmerror.h, and unmapped plugin errors come back as
    s:Receiver / w:InternalError (a Go client saw exactly that for a keyless Invoke, source R1).
    """
    inner = ("The WinRM client cannot process the request. The resource URI is not valid: it does not contain keys, but "
             "the class selected is not a singleton. To access an instance which is not a singleton, keys must be "
             "provided. Use the following command to get more information in how to construct a resource URI: "
             "\"winrm help uris\". ")
    return _receiver("w:InternalError", ns.FAULT_WSMAN, inner, INVALID_URI_WMI_SINGLETON,
                     provider=ProviderFault(INVALID_URI_WMI_SINGLETON, inner))


def wql_on_class_uri() -> WsmanFault:
    """A WQL filter sent to a class URI instead of .../*.  UNCERTAIN server behaviour; the simulator is strict."""
    inner = ("The WinRM client cannot process the request. The resource URI for an enumeration operation with WQL filter "
             "must not contain keys and the class name must be '*' (star). Use the following command to get more "
             "information in how to construct a resource URI: \"winrm help uris\". ")
    return _receiver("w:InternalError", ns.FAULT_WSMAN, inner, INVALID_URI_WMI_ENUM_WQL,
                     provider=ProviderFault(INVALID_URI_WMI_ENUM_WQL, inner))


def timed_out() -> WsmanFault:
    """w:TimedOut 2150858793.  Real-host captures (pywinrm's and PSWSMan's tests, Server 2022) end the text with
    two spaces and say xml:lang="en-US"; the OMI parser test's trimmed form is a hand-edited sample."""
    reason = "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  "
    return _receiver("w:TimedOut", ns.FAULT_WSMAN, reason, OPERATION_TIMEDOUT)


def internal_error(message: str = "") -> WsmanFault:
    """w:InternalError for anything unexpected on the server side."""
    reason = "The WS-Management service cannot process the request. An internal error occurred. "
    return _receiver("w:InternalError", ns.FAULT_WSMAN, reason, 2150858755,  # 0x80338003 ERROR_WSMAN_PROVIDER_FAILURE
                     message=message or "An error was encountered inside the plugin. ")


def quota_operations(limit: int) -> WsmanFault:
    """Too many concurrent operations (open enumerations) for one user (source T1 max_concurrent.xml)."""
    reason = ("The WS-Management service cannot process the request. The maximum number of concurrent operations for "
              "this user has been exceeded. Close existing operations for this user, or raise the quota for this user. ")
    message = (f"The WS-Management service cannot process the request. This user is allowed a maximum number of {limit} "
               "concurrent operations, which has been exceeded. Close existing operations for this user, or raise the "
               "quota for this user. ")
    return _receiver("w:InternalError", ns.FAULT_WSMAN, reason, QUOTA_MAX_OPERATIONS_USER, message=message,
                     reason_lang="")


def different_cim_namespace() -> WsmanFault:
    """__cimnamespace selector naming another namespace than the WMI URI (source M2)."""
    reason = ("The WS-Management service cannot process the request. The resource URI and __cimnamespace selector "
              "attempted to use different namespaces. Try removing the __cimnamespace selector or using a DMTF resource "
              "URI. If a non-DMTF resource URI is used with a __cimnamespace selector, the namespaces must match. ")
    return _receiver("w:InternalError", ns.FAULT_WSMAN, reason, DIFFERENT_CIM_SELECTOR)


def access_denied() -> WsmanFault:
    """w:AccessDenied, WSManFault Code 5 (wire notes 5.2, [3p])."""
    return _sender("w:AccessDenied", ns.FAULT_WSMAN, "Access is denied. ", ACCESS_DENIED)


def invalid_parameter(method: str, why: str) -> WsmanFault:
    """Unknown/duplicate/malformed method parameter: ERROR_WSMAN_WMI_PROVIDER_INVALID_PARAMETER 2150859038.

    Subcode w:InvalidParameter and the WBEM_E_INVALID_METHOD_PARAMETERS status are [infer] (wire notes 4.3, 8.2).
    """
    inner = ("The WS-Management service cannot process the request. The WMI provider returned an 'invalid parameter' "
             "error. ")
    status = ExtendedStatus(operation="ExecMethod", parameter_info=method, provider_name=WINMGMT,
                            description=why, status_code=WBEM_E_INVALID_METHOD_PARAMETERS)
    return _sender("w:InvalidParameter", ns.FAULT_WSMAN, inner, WMI_PROVIDER_INVALID_PARAMETER,
                   provider=ProviderFault(WMI_PROVIDER_INVALID_PARAMETER, inner, status))


# ---------------------------------------------------------------- enumeration faults

def invalid_enumeration_context() -> WsmanFault:
    """n:InvalidEnumerationContext (s:Receiver, 2150858779) for an unknown, finished or expired context."""
    reason = ("The WS-Enumeration context in the enumeration is not valid. Enumeration may have been completed or "
              "canceled. You cannot use this enumeration context anymore. Start a new enumeration. ")
    return _receiver("n:InvalidEnumerationContext", ns.FAULT_ENUMERATION, reason, INVALID_ENUMERATION_CONTEXT)


def class_not_found(query: str) -> WsmanFault:
    """WQL naming a class that does not exist: n:CannotProcessFilter + ProviderFault + __ExtendedStatus (source W1)."""
    status = ExtendedStatus(operation="ExecQuery", parameter_info=query, provider_name=WINMGMT)
    inner = ProviderFault(CANNOT_PROCESS_FILTER, "The specified class does not exist in the given namespace. ", status)
    return _sender("n:CannotProcessFilter", ns.FAULT_ENUMERATION, TEXT_CANNOT_PROCESS_FILTER, CANNOT_PROCESS_FILTER,
                   provider=inner)


def invalid_query(query: str, why: str) -> WsmanFault:
    """WQL syntax error or unknown property.

    No capture of this case exists.  Closest documented fault: the same n:CannotProcessFilter (2150858778, "the filter
    might be missing or it might be invalid") with the ProviderFault carrying WBEM_E_INVALID_QUERY's text
    ("Invalid query") and that status code in __ExtendedStatus.  UNCERTAIN.
    """
    status = ExtendedStatus(operation="ExecQuery", parameter_info=query, provider_name=WINMGMT,
                            description=why, status_code=WBEM_E_INVALID_QUERY)
    inner = ProviderFault(CANNOT_PROCESS_FILTER, "Invalid query ", status)
    return _sender("n:CannotProcessFilter", ns.FAULT_ENUMERATION, TEXT_CANNOT_PROCESS_FILTER, CANNOT_PROCESS_FILTER,
                   provider=inner)


def filter_missing() -> WsmanFault:
    """Enumerate of .../* without a filter: nothing to enumerate [infer]."""
    return _sender("n:CannotProcessFilter", ns.FAULT_ENUMERATION, TEXT_CANNOT_PROCESS_FILTER, CANNOT_PROCESS_FILTER)


def filter_dialect_unavailable() -> WsmanFault:
    """n:FilterDialectRequestedUnavailable: the simulator models the WQL dialect only."""
    reason = ("The filter dialect (the type associated with the filter) was not supported for this resource. Change "
              "the filter dialect or remove it from the request and try the request again. ")
    return _sender("n:FilterDialectRequestedUnavailable", ns.FAULT_ENUMERATION, reason, FILTER_DIALECT_UNAVAILABLE,
                   detail=ns.FAULT_DETAIL + "FilterDialect")


# ---------------------------------------------------------------- rendering

def _render_extended(status: ExtendedStatus) -> str:
    def prop(name: str, value: str | int | None, cimtype: str) -> str:
        if value is None:
            return f'<p:{name} xsi:nil="true" xsi:type="cim:{cimtype}"/>'
        return f'<p:{name} xsi:type="cim:{cimtype}">{text(str(value))}</p:{name}>'

    return (f'<p:__ExtendedStatus xmlns:xsi="{ns.XSI}" xmlns:p="{EXTENDED_STATUS_URI}" xmlns:cim="{ns.CIM}" '
            'xsi:type="p:__ExtendedStatus_Type">'
            + prop("Description", status.description, "cimString")
            + prop("Operation", status.operation, "cimString")
            + prop("ParameterInfo", status.parameter_info, "cimString")
            + prop("ProviderName", status.provider_name, "cimString")
            + prop("StatusCode", status.status_code, "cimUnsignedInt")
            + "</p:__ExtendedStatus>")


def _render_provider(inner: ProviderFault, machine_inner: str) -> str:
    extended = ""
    if inner.extended is not None:
        extended = f"<f:ExtendedError>{_render_extended(inner.extended)}</f:ExtendedError>"
    return (f'<f:ProviderFault provider="{attr(inner.provider)}" path="{attr(WMI_PLUGIN_PATH)}">'
            f'<f:WSManFault xmlns:f="{ns.WSMANFAULT}" Code="{inner.code}" Machine="{attr(machine_inner)}">'
            f"<f:Message>{text(inner.message)}</f:Message></f:WSManFault>{extended}</f:ProviderFault>")


def render_fault_body(fault: WsmanFault, machine: str, machine_inner: str) -> str:
    """The s:Fault element.  machine = host as addressed by the client, machine_inner = the server's own name."""
    subcode = f"<s:Subcode><s:Value>{fault.subcode}</s:Value></s:Subcode>" if fault.subcode else ""
    parts = [f"<s:Fault><s:Code><s:Value>{fault.code}</s:Value>{subcode}</s:Code>",
             f'<s:Reason><s:Text xml:lang="{fault.reason_lang}">{text(fault.reason)}</s:Text></s:Reason>']
    if fault.wsman_code is not None:
        detail = f"<w:FaultDetail>{fault.detail}</w:FaultDetail>" if fault.detail else ""
        if fault.provider is not None:
            message = _render_provider(fault.provider, machine_inner)
        else:
            message = text(fault.message)
        parts.append(f'<s:Detail>{detail}<f:WSManFault xmlns:f="{ns.WSMANFAULT}" Code="{fault.wsman_code}" '
                     f'Machine="{attr(machine)}"><f:Message>{message}</f:Message></f:WSManFault></s:Detail>')
    parts.append("</s:Fault>")
    return "".join(parts)


def render_not_understood(fault: WsmanFault) -> str:
    """The s:NotUnderstood header block of a MustUnderstand fault."""
    if fault.not_understood is None:
        return ""
    uri, local = fault.not_understood
    return f'<s:NotUnderstood qname="q:{attr(local)}" xmlns:q="{attr(uri)}"/>'


# Names accepted by the fault-injection hook of the control API.
INJECTABLE = {
    "TimedOut": timed_out,
    "AccessDenied": access_denied,
    "InternalError": internal_error,
    "InvalidEnumerationContext": invalid_enumeration_context,
}
