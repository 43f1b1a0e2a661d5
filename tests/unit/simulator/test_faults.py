"""Every fault of the catalogue, with the structure of wire notes 5.1."""

import pytest

from hypervsim import faults

ADDRESSING_FAULT = "http://schemas.xmlsoap.org/ws/2004/08/addressing/fault"
WSMAN_FAULT = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"
ENUM_FAULT = "http://schemas.xmlsoap.org/ws/2004/09/enumeration/fault"
DETAIL = "http://schemas.dmtf.org/wbem/wsman/1/wsman/faultDetail/"


def check(resp, action, code, subcode, wsman_code):
    assert resp.status == 500, resp.text
    fault = resp.fault()
    assert (fault["action"], fault["code"], fault["subcode"], fault["wsman_code"]) == (action, code, subcode, wsman_code)
    assert resp.text.startswith('<s:Envelope xml:lang="en-US" xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
                                'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
                                'xmlns:x="http://schemas.xmlsoap.org/ws/2004/09/transfer" '
                                'xmlns:e="http://schemas.xmlsoap.org/ws/2004/08/eventing" '
                                'xmlns:n="http://schemas.xmlsoap.org/ws/2004/09/enumeration" '
                                'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd" '
                                'xmlns:p="http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd">')
    return fault


def test_not_found_get(client):
    resp = client.get("Msvm_ComputerSystem", [("CreationClassName", "Msvm_ComputerSystem"), ("Name", "NOPE")])
    fault = check(resp, ADDRESSING_FAULT, "s:Sender", "a:DestinationUnreachable", 2150858752)
    assert fault["reason"].endswith("resource URI and selectors. ")
    assert fault["detail"] == DETAIL + "InvalidResourceURI"
    assert fault["provider_code"] == 2150858752
    assert fault["machine"] == "127.0.0.1" and fault["provider_machine"] == "HV-TEST01.contoso.local"
    assert fault["extended"]["Operation"] == "GetObject"
    assert fault["extended"]["ParameterInfo"] == 'Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="NOPE"'
    assert resp.find("s:Header/a:RelatesTo").text == client.last_message_id
    assert '<f:ProviderFault provider="WMI Provider" path="C:\\Windows\\system32\\WsmWmiPl.dll">' in resp.text


def test_unknown_class_in_get_uri(client):
    fault = check(client.get("Msvm_Nope", [("Name", "x")]), ADDRESSING_FAULT, "s:Sender", "a:DestinationUnreachable",
                  2150858752)
    assert fault["extended"]["ParameterInfo"] == "Msvm_Nope"


def test_invalid_selectors(client):
    fault = check(client.get("Msvm_ComputerSystem", [("ElementName", "web01")]), WSMAN_FAULT, "s:Sender",
                  "w:InvalidSelectors", 2150858843)
    assert fault["detail"] == DETAIL + "UnexpectedSelectors"
    assert fault["reason"].endswith("for the resource. ")
    check(client.get("Msvm_ComputerSystem", [("Name", "a"), ("name", "b")]), WSMAN_FAULT, "s:Sender",
          "w:InvalidSelectors", 2150858847)


def test_no_selectors_on_non_singleton(client):
    fault = check(client.get("Msvm_ReplicationService", []), WSMAN_FAULT, "s:Receiver", "w:InternalError", 2150859002)
    assert fault["provider_code"] == 2150859002


def test_partial_selectors_that_identify_one_instance(client):
    resp = client.get("Msvm_ReplicationService", [("CreationClassName", "Msvm_ReplicationService")])
    assert resp.status == 200


def test_class_not_found_in_wql(client):
    query = "SELECT * FROM Msvm_Nope"
    fault = check(client.enumerate(query), ENUM_FAULT, "s:Sender", "n:CannotProcessFilter", 2150858778)
    assert fault["reason"] == faults.TEXT_CANNOT_PROCESS_FILTER
    assert fault["provider_code"] == 2150858778
    assert fault["extended"] == {"Description": None, "Operation": "ExecQuery", "ParameterInfo": query,
                                 "ProviderName": "WinMgmt", "StatusCode": None}
    assert "The specified class does not exist in the given namespace. </f:Message>" in client.enumerate(query).text


def test_invalid_query(client):
    fault = check(client.enumerate("SELECT * FROM Msvm_ComputerSystem WHERE"), ENUM_FAULT, "s:Sender",
                  "n:CannotProcessFilter", 2150858778)
    assert fault["extended"]["StatusCode"] == str(faults.WBEM_E_INVALID_QUERY)


def test_wql_needs_star_uri_and_a_filter(client):
    check(client.enumerate("SELECT * FROM Msvm_ComputerSystem", resource_uri=client.V2 + "/Msvm_ComputerSystem"),
          WSMAN_FAULT, "s:Receiver", "w:InternalError", 2150859003)
    check(client.enumerate(None), ENUM_FAULT, "s:Sender", "n:CannotProcessFilter", 2150858778)


def test_enumerate_class_uri_without_filter(client):
    resp = client.enumerate(None, resource_uri=client.V2 + "/Msvm_ReplicationService")
    assert resp.status == 200
    assert len(resp.find("s:Body/n:EnumerateResponse/w:Items")) == 1


def test_other_dialect(client):
    body = ('<n:Enumerate><w:Filter Dialect="http://www.w3.org/TR/1999/REC-xpath-19991116">/x</w:Filter>'
            "</n:Enumerate>")
    check(client.request("http://schemas.xmlsoap.org/ws/2004/09/enumeration/Enumerate", client.V2 + "/*", body=body),
          ENUM_FAULT, "s:Sender", "n:FilterDialectRequestedUnavailable", 2150858777)


def test_invalid_enumeration_context(client):
    fault = check(client.pull("uuid:00000000-0000-0000-0000-000000000000"), ENUM_FAULT, "s:Receiver",
                  "n:InvalidEnumerationContext", 2150858779)
    assert fault["reason"].endswith("Start a new enumeration. ")
    check(client.release("uuid:nope"), ENUM_FAULT, "s:Receiver", "n:InvalidEnumerationContext", 2150858779)


def test_missing_headers(client):
    resp = client.get("Msvm_ComputerSystem", [])
    assert resp.status == 500
    resp = client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", client.V2 + "/Msvm_ComputerSystem",
                          message_id=None)
    check(resp, ADDRESSING_FAULT, "s:Sender", "a:MessageInformationHeaderRequired", 2150858769)
    assert resp.find("s:Header/a:RelatesTo") is None
    resp = client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", client.V2 + "/Msvm_ComputerSystem",
                          reply_to=None)
    check(resp, ADDRESSING_FAULT, "s:Sender", "a:MessageInformationHeaderRequired", 2150858769)
    resp = client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", None)
    check(resp, ADDRESSING_FAULT, "s:Sender", "a:DestinationUnreachable", 2150858811)
    resp = client.request("", client.V2 + "/Msvm_ComputerSystem")
    check(resp, ADDRESSING_FAULT, "s:Sender", "a:MessageInformationHeaderRequired", 2150858769)


def test_reply_to_must_be_anonymous(client):
    resp = client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", client.V2 + "/Msvm_ComputerSystem",
                          reply_to="http://elsewhere/")
    fault = check(resp, WSMAN_FAULT, "s:Sender", "w:UnsupportedFeature", 2150858818)
    assert fault["detail"] == DETAIL + "AddressingMode"


def test_envelope_size_floor(client):
    resp = client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", client.V2 + "/Msvm_ComputerSystem",
                          max_envelope=4096)
    check(resp, WSMAN_FAULT, "s:Sender", "w:EncodingLimit", 2150858805)


@pytest.mark.parametrize("attr", ['mustUnderstand="true"', 's:mustUnderstand="true"', 'env:mustUnderstand="1"'])
def test_must_understand_unknown_header(client, attr):
    extra = f'<q:Weird xmlns:q="urn:weird" xmlns:s="http://www.w3.org/2003/05/soap-envelope" {attr}>x</q:Weird>'
    resp = client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", client.V2 + "/Msvm_ComputerSystem",
                          extra_header=extra)
    fault = check(resp, ADDRESSING_FAULT, "s:MustUnderstand", None, None)
    assert fault["detail"] is None
    not_understood = resp.find("s:Header/s:NotUnderstood")
    assert not_understood.get("qname") == "q:Weird"


def test_unknown_header_without_must_understand_is_ignored(client):
    extra = '<q:Weird xmlns:q="urn:weird" mustUnderstand="false">x</q:Weird>'
    resp = client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", client.V2 + "/Msvm_ReplicationService",
                          client.service_selectors(), extra_header=extra)
    assert resp.status == 200


def test_locale_must_understand(client):
    extra = '<w:Locale xml:lang="de-DE" s:mustUnderstand="true" xmlns:s="http://www.w3.org/2003/05/soap-envelope"/>'
    resp = client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", client.V2 + "/Msvm_ComputerSystem",
                          extra_header=extra)
    assert resp.fault()["detail"] == DETAIL + "Locale"


def test_unknown_action(client):
    check(client.request("http://schemas.xmlsoap.org/ws/2004/09/transfer/Put", client.V2 + "/Msvm_ComputerSystem"),
          ADDRESSING_FAULT, "s:Sender", "a:ActionNotSupported", 2150858771)
    check(client.invoke("Msvm_ReplicationService", "Resynchronize", client.service_selectors(), ""),
          ADDRESSING_FAULT, "s:Sender", "a:ActionNotSupported", 2150858771)


def test_access_denied(sim, helpers_client_nobody):
    resp = helpers_client_nobody.get("Msvm_ReplicationService", helpers_client_nobody.service_selectors())
    fault = check(resp, WSMAN_FAULT, "s:Sender", "w:AccessDenied", 5)
    assert fault["reason"] == "Access is denied. "
    assert sim.counters()["Get"] == 1


@pytest.fixture(name="helpers_client_nobody")
def helpers_client_nobody_fixture(sim, client):
    return type(client)(sim, sim.config.users[1])


def test_cimnamespace_selector(client):
    good = client.service_selectors() + [("__cimnamespace", "root\\virtualization\\v2")]
    assert client.get("Msvm_ReplicationService", good).status == 200
    bad = client.service_selectors() + [("__cimnamespace", "root/cimv2")]
    check(client.get("Msvm_ReplicationService", bad), WSMAN_FAULT, "s:Receiver", "w:InternalError", 2150859067)


def test_invoke_parameter_faults(client):
    ref = client.vm_ref(client.WEB01)
    fault = check(client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                                ref + "<p:FailoverType>1</p:FailoverType>"),
                  WSMAN_FAULT, "s:Sender", "w:InvalidParameter", 2150859038)
    assert fault["extended"]["Operation"] == "ExecMethod"
    check(client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(), ref + ref),
          WSMAN_FAULT, "s:Sender", "w:InvalidParameter", 2150859038)
    check(client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                        client.vm_ref(client.WEB01, keys=[("Name", client.WEB01)])),
          WSMAN_FAULT, "s:Sender", "w:InvalidParameter", 2150859038)
    check(client.invoke("Msvm_ComputerSystem", "RequestReplicationStateChange",
                        [("CreationClassName", "Msvm_ComputerSystem"), ("Name", client.WEB01)],
                        "<p:RequestedState>seven</p:RequestedState>"),
          WSMAN_FAULT, "s:Sender", "w:InvalidParameter", 2150859038)


def test_invoke_input_namespace_is_strict(client):
    resp = client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                         client.vm_ref(client.WEB01), input_ns=client.V2 + "/Msvm_ComputerSystem")
    check(resp, WSMAN_FAULT, "s:Sender", "w:SchemaValidationError", 2150858817)


def test_invoke_unknown_vm_reference(client):
    resp = client.invoke("Msvm_ReplicationService", "InitiateFailover", client.service_selectors(),
                         client.vm_ref("00000000-0000-0000-0000-000000000000"))
    fault = check(resp, ADDRESSING_FAULT, "s:Sender", "a:DestinationUnreachable", 2150858752)
    assert fault["extended"]["Operation"] == "ExecMethod"


def test_internal_error_never_leaks_a_traceback(client, monkeypatch, capsys):
    def boom(*_args, **_kwargs):
        raise RuntimeError("kaboom")
    monkeypatch.setattr(client.sim.model, "exact_instances", boom)
    resp = client.get("Msvm_ReplicationService", client.service_selectors())
    check(resp, WSMAN_FAULT, "s:Receiver", "w:InternalError", 2150858755)
    assert "Traceback" not in resp.text and "kaboom" in resp.text
    assert "Traceback" in capsys.readouterr().err


@pytest.mark.parametrize("name, code", [("TimedOut", 2150858793), ("AccessDenied", 5), ("InternalError", 2150858755),
                                        ("InvalidEnumerationContext", 2150858779)])
def test_injected_faults(client, name, code):
    client.sim.inject_fault("Get", name)
    resp = client.get("Msvm_ReplicationService", client.service_selectors())
    assert resp.fault()["wsman_code"] == code
    assert client.get("Msvm_ReplicationService", client.service_selectors()).status == 200


def test_injection_rejects_unknown_fault(client):
    with pytest.raises(ValueError):
        client.sim.inject_fault("Get", "Nope")


def test_timed_out_shape(client):
    client.sim.inject_fault("*", "TimedOut")
    resp = client.enumerate("SELECT * FROM Msvm_ComputerSystem")
    fault = check(resp, WSMAN_FAULT, "s:Receiver", "w:TimedOut", 2150858793)
    # As captured from Server 2022 (pywinrm's and PSWSMan's tests): en-US, and two trailing spaces.
    assert '<s:Text xml:lang="en-US">' in resp.text and fault["reason"].endswith("OperationTimeout.  ")


def test_quota_of_open_enumerations(make_client):
    client = make_client(max_concurrent_operations=2)
    for _attempt in range(2):
        assert client.enumerate("SELECT * FROM Msvm_ComputerSystem", optimize=False).status == 200
    resp = client.enumerate("SELECT * FROM Msvm_ComputerSystem", optimize=False)
    check(resp, WSMAN_FAULT, "s:Receiver", "w:InternalError", 2150859174)
    assert "maximum number of 2 concurrent operations" in resp.text


def test_soap_11_and_not_an_envelope(client):
    env11 = b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>'
    status, data = client.sim.handle_wsman(env11, client.user, "h")
    assert status == 500 and b"s:VersionMismatch" in data
    status, data = client.sim.handle_wsman(b"<x/>", client.user, "h")
    assert status == 500 and b"w:SchemaValidationError" in data


def test_trailing_spaces_in_catalogue_texts():
    for make in (faults.unexpected_selectors, faults.invalid_enumeration_context, faults.access_denied,
                 faults.filter_dialect_unavailable, faults.encoding_limit, faults.different_cim_namespace):
        assert make().reason.endswith(" ")
