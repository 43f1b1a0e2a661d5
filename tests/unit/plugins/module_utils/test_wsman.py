"""Faults, hostile responses and transport errors become one clear exception each."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.wire import wsman
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import (
    WSManClient, WSManFault, WSManProtocolError, WSManTransportError)

from ansible_collections.hyperv.replica.tests.unit.replay import ReplaySender

FAULT = b'''<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd">
<s:Header><a:Action>http://schemas.xmlsoap.org/ws/2004/08/addressing/fault</a:Action></s:Header>
<s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>a:DestinationUnreachable</s:Value>
</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">The WS-Management service cannot process the request. </s:Text>
</s:Reason><s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858752"
 Machine="hv01"><f:Message><f:ProviderFault provider="WMI Provider" path="%systemroot%\\system32\\WsmWmiPl.dll">
<f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" Code="2150858752" Machine="HV01">
<f:Message>The WS-Management service cannot find the resource identified by the resource URI and selectors. </f:Message>
</f:WSManFault><f:ExtendedError><p:__ExtendedStatus xmlns:p="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/__ExtendedStatus">
<p:Operation>GetObject</p:Operation><p:StatusCode>2147749890</p:StatusCode></p:__ExtendedStatus></f:ExtendedError>
</f:ProviderFault></f:Message></f:WSManFault></s:Detail></s:Fault></s:Body></s:Envelope>'''


class WSManFaultError(Exception):
    """Same name and fields as pywinrm 0.5.0's exception; the translation looks it up by name."""

    def __init__(self, code, message, response, reason):
        super().__init__(message)
        self.code, self.response, self.reason = code, response, reason


def test_fault_fields_from_nested_provider_fault():
    client = WSManClient(ReplaySender([WSManFaultError(500, "bad", FAULT.decode(), "reason")]))
    with pytest.raises(WSManFault) as info:
        client.get("http://x/Msvm_ConcreteJob", [("InstanceID", "1")])
    fault = info.value
    assert fault.http_status == 500 and fault.code == "s:Sender" and fault.subcode == "a:DestinationUnreachable"
    assert fault.wsman_code == 2150858752 and fault.machine == "hv01" and fault.wmi_code == 2147749890
    assert fault.message.startswith("The WS-Management service cannot find the resource")
    assert "a:DestinationUnreachable" in str(fault)


@pytest.mark.skipif(not __import__("importlib").util.find_spec("winrm"), reason="pywinrm not installed")
def test_real_pywinrm_exceptions_are_translated():
    from winrm import exceptions as wx  # pylint: disable=import-outside-toplevel
    assert isinstance(wsman.translate_exception(wx.WinRMOperationTimeoutError()), WSManFault)
    assert wsman.translate_exception(wx.WinRMOperationTimeoutError()).is_timeout
    auth = wsman.translate_exception(wx.InvalidCredentialsError("rejected"))
    assert isinstance(auth, WSManTransportError) and auth.kind == "auth" and auth.http_status == 401
    http = wsman.translate_exception(wx.WinRMTransportError("http", 503, "busy"))
    assert http.kind == "http" and http.http_status == 503


def test_connection_errors_name_the_problem_not_the_password():
    error = wsman.translate_exception(ConnectionRefusedError("[Errno 111] Connection refused"))
    assert isinstance(error, WSManTransportError) and error.kind == "connection"
    assert "cannot reach" in str(error)


def test_errors_before_anything_was_sent_are_marked_unsent():
    requests = pytest.importorskip("requests")
    from winrm import exceptions as wx  # pylint: disable=import-outside-toplevel
    refused = requests.exceptions.ConnectionError(
        "HTTPConnectionPool(host='h', port=5985): Max retries exceeded (Caused by NewConnectionError('Failed to "
        "establish a new connection: [Errno 111] Connection refused'))")
    assert wsman.translate_exception(refused).unsent
    assert wsman.translate_exception(requests.exceptions.ConnectTimeout("connect timed out")).unsent
    assert wsman.translate_exception(wx.InvalidCredentialsError("rejected")).unsent
    # The connection broke after the request went out, or the answer was too slow: the host may have acted.
    assert not wsman.translate_exception(requests.exceptions.ConnectionError("Connection aborted: reset")).unsent
    assert not wsman.translate_exception(requests.exceptions.ReadTimeout("read timed out")).unsent


@pytest.mark.parametrize("raw, match", [
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><s:Envelope/>', "DTD"),
    (b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body>", "well-formed"),
    (b"<Envelope/>", "SOAP 1.2"),
    (b"", "empty"),
    (b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'/>", "no SOAP body"),
    # Billion laughs: refused before any entity is expanded.
    (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
     b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
     b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body>&d;&d;&d;</s:Body></s:Envelope>", "DTD"),
    # An external entity (XXE) the same way.
    (b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><s:Envelope>&e;</s:Envelope>', "DTD"),
    # Far larger than any envelope the client asks for: refused unparsed.
    (b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body>" + b"x" * 3000000 + b"</s:Body>"
     b"</s:Envelope>", "far above"),
    # The right element names in a namespace Windows never uses.
    (b"<s:Envelope xmlns:s='urn:not-soap'><s:Body/></s:Envelope>", "SOAP 1.2"),
])
def test_hostile_or_broken_responses(raw, match):
    client = WSManClient(ReplaySender([raw]))
    with pytest.raises(WSManProtocolError, match=match):
        client.get("http://x/C", [("K", "V")])


def test_an_answer_in_the_wrong_namespace_is_a_clear_error():
    wrong = (b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body>"
             b"<n:EnumerateResponse xmlns:n='urn:elsewhere'/></s:Body></s:Envelope>")
    with pytest.raises(WSManProtocolError, match="no EnumerateResponse element"):
        WSManClient(ReplaySender([wrong])).enumerate("http://x/*", "SELECT * FROM C")


def test_fault_in_a_200_answer_is_still_a_fault():
    client = WSManClient(ReplaySender([FAULT]))
    with pytest.raises(WSManFault):
        client.get("http://x/C", [("K", "V")])


def test_request_header():
    sender = ReplaySender([b"<s:Envelope xmlns:s='http://www.w3.org/2003/05/soap-envelope'><s:Body>"
                           b"<x/></s:Body></s:Envelope>"])
    WSManClient(sender, endpoint="https://hv:5986/wsman", operation_timeout=33).get(
        "http://r/Msvm_ConcreteJob", [("InstanceID", "<&>")])
    text = sender.requests[0]
    root = wsman.parse_xml(text.encode())
    header = {e.tag.rsplit("}", 1)[1]: e for e in root[0]}
    assert header["OperationTimeout"].text == "PT33S"
    assert header["ReplyTo"][0].text == wsman.ANONYMOUS
    assert header["MessageID"].text.startswith("uuid:")
    assert header["SelectorSet"][0].text == "<&>"  # escaped on the wire, intact when read back


def test_a_kerberos_failure_is_a_logon_failure_not_a_network_one():
    class GSSError(OSError):
        """Named as pykerberos' error."""

    error = wsman.translate_exception(GSSError("authGSSClientInit() failed: (('Unspecified GSS failure', 851968),)"))
    assert isinstance(error, WSManTransportError) and error.kind == "auth" and error.unsent
    assert str(error).startswith("Kerberos authentication with the WinRM host failed (authGSSClientInit() failed")
    assert "klist" in str(error) and "cannot reach" not in str(error)
