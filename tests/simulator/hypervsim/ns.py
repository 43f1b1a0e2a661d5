"""Namespace URIs, action URIs and resource URI helpers of WS-Management / WMI (wire notes 1.1, 1.3, 1.4)."""

SOAP = "http://www.w3.org/2003/05/soap-envelope"
ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
MSWSMAN = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration"
TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
EVENTING = "http://schemas.xmlsoap.org/ws/2004/08/eventing"
CIMBINDING = "http://schemas.dmtf.org/wbem/wsman/1/cimbinding.xsd"
WSMANFAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"
CIM = "http://schemas.dmtf.org/wbem/wscim/1/common"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML = "http://www.w3.org/XML/1998/namespace"

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
WQL_DIALECT = "http://schemas.microsoft.com/wbem/wsman/1/WQL"

# The WMI plugin serves this prefix; the namespace path follows with "/" separators.
WMI_PREFIX = "http://schemas.microsoft.com/wbem/wsman/1/wmi/"
V2_NAMESPACE = "root/virtualization/v2"
V2_URI = WMI_PREFIX + V2_NAMESPACE

ACTION_GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
ACTION_ENUMERATE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate"
ACTION_PULL = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Pull"
ACTION_RELEASE = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/Release"

# Fault actions, one per subcode family (wire notes 1.4).
FAULT_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
FAULT_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
FAULT_ENUMERATION = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"

FAULT_DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"

# Prefix -> URI, used to write envelope declarations in Windows' order.
PREFIXES = {
    "s": SOAP,
    "a": ADDRESSING,
    "x": TRANSFER,
    "e": EVENTING,
    "n": ENUMERATION,
    "w": WSMAN,
    "p": MSWSMAN,
}


def class_uri(class_name: str) -> str:
    """WMI-form resource URI of a root/virtualization/v2 class."""
    return f"{V2_URI}/{class_name}"


def qname(uri: str, local: str) -> str:
    """ElementTree's {uri}local notation."""
    return f"{{{uri}}}{local}"
