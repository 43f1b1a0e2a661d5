"""Logon and transport as a Windows WinRM listener offers them (wire notes 5.3, 6.2): NTLM with message
encryption over HTTP, Basic over HTTPS with a test CA, AllowUnencrypted=false, through pywinrm and pypsrp."""

import base64
import http.client
import re
import struct
import urllib.parse
import xml.etree.ElementTree as ET

import pytest

winrm = pytest.importorskip("winrm")
spnego = pytest.importorskip("spnego")
pytest.importorskip("cryptography")
# pylint: disable=wrong-import-position
import requests  # noqa: E402
import xmltodict  # noqa: E402
from winrm.exceptions import InvalidCredentialsError, WinRMTransportError  # noqa: E402
from winrm.protocol import Protocol  # noqa: E402

from hypervsim import Simulator  # noqa: E402
from hypervsim import encryption  # noqa: E402
from hypervsim.testca import make_test_ca  # noqa: E402

V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
GET = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get"
NS_S = "{http://www.w3.org/2003/05/soap-envelope}"
PASSWORD = "Dr1ll:S3cret!"    # a colon, which the NTLM account file must survive
SERVICE = [("CreationClassName", "Msvm_ReplicationService"), ("Name", "replicasvc"),
           ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", "HV-AUTH01")]


def fleet(**host):
    return {"hosts": [{"name": "HV-AUTH01", "users": [{"username": "hvadmin", "password": PASSWORD}],
                       "vms": [{"name": "web01", "mode": "replica", "state": "replicating", "power": "off"}],
                       **host}]}


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return make_test_ca(str(tmp_path_factory.mktemp("ca")))


@pytest.fixture
def host(test_ca):
    """Windows' defaults (Negotiate only, AllowUnencrypted=false), plus Basic for the HTTPS listener."""
    with Simulator(fleet(basic_auth=True), tls_cert=test_ca.server_cert, tls_key=test_ca.server_key) as sim:
        yield sim


def get_service(proto):
    """Get the replication service by selectors, the recipe of wire notes 6.1; the body's root element."""
    env = proto.build_wsman_header(action=GET, resource_uri=f"{V2}/Msvm_ReplicationService")
    env["env:Header"]["w:SelectorSet"] = {"w:Selector": [{"@Name": k, "#text": v} for k, v in SERVICE]}
    env["env:Body"] = {}
    body = ET.fromstring(proto.send_message(xmltodict.unparse({"env:Envelope": env}))).find(f"{NS_S}Body")
    return body[0]


def local_name(elem):
    return elem.tag.rsplit("}", 1)[-1]


# ---------------------------------------------------------------- NTLM and message encryption over HTTP

@pytest.mark.parametrize("user", ["hvadmin", "HVADMIN", ".\\hvadmin", "HV-AUTH01\\hvadmin"])
def test_ntlm_with_message_encryption_over_http(host, user):
    proto = Protocol(host.endpoint, transport="ntlm", username=user, password=PASSWORD)
    assert local_name(get_service(proto)) == "Msvm_ReplicationService"
    assert host.counters()["total"] == 1 and host.counters()["auth_failures"] == 0


def test_ntlm_wrong_password_is_401_and_nothing_processed(host):
    proto = Protocol(host.endpoint, transport="ntlm", username="hvadmin", password="wrong")
    with pytest.raises(InvalidCredentialsError):
        get_service(proto)
    assert host.counters()["total"] == 0 and host.counters()["auth_failures"] == 1


def test_ntlm_user_of_another_machine_is_401(host):
    proto = Protocol(host.endpoint, transport="ntlm", username="HV-OTHER\\hvadmin", password=PASSWORD)
    with pytest.raises(InvalidCredentialsError):
        get_service(proto)


def test_unsealed_message_after_ntlm_logon_is_refused_over_http(host):
    """AllowUnencrypted=false refuses a plaintext SOAP message even from an authenticated client."""
    proto = Protocol(host.endpoint, transport="ntlm", username="hvadmin", password=PASSWORD,
                     message_encryption="never")
    with pytest.raises(WinRMTransportError) as caught:
        get_service(proto)
    assert caught.value.code == 500 and host.counters()["total"] == 0


class RawNtlm:
    """An NTLM logon on one raw HTTP connection, so the test sees exactly what crosses the wire."""

    def __init__(self, sim, password=PASSWORD):
        url = urllib.parse.urlparse(sim.endpoint)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        self.ctx = spnego.client("hvadmin", password, hostname=url.hostname, service="HTTP", protocol="ntlm")
        token = self.ctx.step()
        while not self.ctx.complete:
            resp = self.post(b"", {"Authorization": "Negotiate " + base64.b64encode(token).decode()})
            assert resp.status == 401
            challenge = resp.getheader("WWW-Authenticate").split(" ", 1)[1]
            token = self.ctx.step(base64.b64decode(challenge))
            if self.ctx.complete:
                final = self.post(b"", {"Authorization": "Negotiate " + base64.b64encode(token).decode()})
                self.status = final.status

    def post(self, body, headers):
        self.conn.request("POST", "/wsman", body=body, headers=headers)
        resp = self.conn.getresponse()
        resp.body = resp.read()
        return resp

    def sealed_post(self, envelope: bytes, tamper: bool = False):
        body = encryption.seal(self.ctx, envelope)
        if tamper:
            cut = body.index(b"application/octet-stream\r\n") + 40
            body = body[:cut] + bytes([body[cut] ^ 1]) + body[cut + 1:]
        return self.post(body, {"Content-Type": encryption.CONTENT_TYPE})


def envelope() -> bytes:
    proto = Protocol("http://127.0.0.1/wsman", transport="ntlm", username="x", password="x")
    env = proto.build_wsman_header(action=GET, resource_uri=f"{V2}/Msvm_ReplicationService")
    env["env:Header"]["w:SelectorSet"] = {"w:Selector": [{"@Name": k, "#text": v} for k, v in SERVICE]}
    env["env:Body"] = {}
    return xmltodict.unparse({"env:Envelope": env}).encode()


def test_sealed_on_the_wire_both_ways(host):
    raw = RawNtlm(host)
    assert raw.status == 200          # the empty POST that sets up the context
    resp = raw.sealed_post(envelope())
    assert resp.status == 200
    assert resp.getheader("Content-Type") == (
        'multipart/encrypted;protocol="application/HTTP-SPNEGO-session-encrypted";boundary="Encrypted Boundary"')
    assert b"Msvm_ReplicationService" not in resp.body      # sealed, not just framed
    length = int(re.search(rb"Length=(\d+)", resp.body).group(1))
    plain = encryption.open_sealed(raw.ctx, resp.body)
    assert len(plain) == length and b"replicasvc" in plain


def test_tampered_sealed_body_is_400_and_not_processed(host):
    raw = RawNtlm(host)
    assert raw.sealed_post(envelope(), tamper=True).status == 400
    assert host.counters()["total"] == 0


def test_sealed_body_without_a_context_is_400(host):
    """A sealed body on a connection with no Negotiate context (e.g. one that expired): 400 with an empty body,
    as seen from Windows (wire notes 5.3)."""
    raw = RawNtlm(host)
    body = encryption.seal(raw.ctx, envelope())
    with Simulator(fleet(basic_auth=True, allow_unencrypted=True)) as basic_host:
        url = urllib.parse.urlparse(basic_host.endpoint)
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        auth = "Basic " + base64.b64encode(f"hvadmin:{PASSWORD}".encode()).decode()
        headers = {"Content-Type": encryption.CONTENT_TYPE, "Authorization": auth}
        conn.request("POST", "/wsman", body=body, headers=headers)
        resp = conn.getresponse()
        assert resp.status == 400 and resp.read() == b""
        assert basic_host.counters()["total"] == 0


def test_sealed_body_without_any_logon_is_401(host):
    raw = RawNtlm(host)
    url = urllib.parse.urlparse(host.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("POST", "/wsman", body=encryption.seal(raw.ctx, envelope()),
                 headers={"Content-Type": encryption.CONTENT_TYPE})
    assert conn.getresponse().status == 401
    assert host.counters()["total"] == 0


def test_signature_length_past_the_end_is_rejected():
    framed = (encryption.BOUNDARY + b"\r\n\tContent-Type: " + encryption.PROTOCOL.encode()
              + b"\r\n\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=3\r\n"
              + encryption.BOUNDARY + b"\r\n\tContent-Type: application/octet-stream\r\n"
              + struct.pack("<I", 9999) + b"abc" + encryption.BOUNDARY + b"--\r\n")
    with pytest.raises(encryption.BadEncryption):
        encryption.open_sealed(object(), framed)


# ---------------------------------------------------------------- Basic: HTTPS only, unless AllowUnencrypted

def test_basic_over_http_is_refused_when_unencrypted_is_not_allowed(host):
    proto = Protocol(host.endpoint, transport="basic", username="hvadmin", password=PASSWORD,
                     message_encryption="never")
    with pytest.raises(InvalidCredentialsError):
        get_service(proto)
    assert host.counters()["total"] == 0


def test_basic_over_http_works_when_the_fleet_allows_it():
    with Simulator(fleet(basic_auth=True, allow_unencrypted=True)) as sim:
        proto = Protocol(sim.endpoint, transport="basic", username="hvadmin", password=PASSWORD,
                         message_encryption="never")
        assert local_name(get_service(proto)) == "Msvm_ReplicationService"


def test_basic_off_is_not_offered_and_refused_even_over_https(test_ca):
    with Simulator(fleet(), tls_cert=test_ca.server_cert, tls_key=test_ca.server_key) as sim:
        resp = requests.post(sim.https_endpoint, data=b"<x/>", auth=("hvadmin", PASSWORD), verify=test_ca.ca_cert,
                             headers={"Content-Type": "application/soap+xml;charset=UTF-8"}, timeout=10)
        assert resp.status_code == 401
        assert resp.raw.headers.getlist("WWW-Authenticate") == ["Negotiate"]


def test_basic_over_https_with_the_test_ca(host, test_ca):
    proto = Protocol(host.https_endpoint, transport="basic", username="hvadmin", password=PASSWORD,
                     ca_trust_path=test_ca.ca_cert)
    assert local_name(get_service(proto)) == "Msvm_ReplicationService"


def test_ntlm_over_https_needs_no_message_encryption(host, test_ca):
    proto = Protocol(host.https_endpoint, transport="ntlm", username="hvadmin", password=PASSWORD,
                     ca_trust_path=test_ca.ca_cert)
    assert local_name(get_service(proto)) == "Msvm_ReplicationService"


def test_https_without_the_ca_fails_certificate_validation(host):
    proto = Protocol(host.https_endpoint, transport="basic", username="hvadmin", password=PASSWORD,
                     ca_trust_path=None)
    with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
        get_service(proto)
    assert host.counters()["total"] == 0


def test_https_with_another_ca_fails(host, tmp_path):
    other = make_test_ca(str(tmp_path / "other"), ca_name="some other CA")
    proto = Protocol(host.https_endpoint, transport="basic", username="hvadmin", password=PASSWORD,
                     ca_trust_path=other.ca_cert)
    with pytest.raises(requests.exceptions.SSLError):
        get_service(proto)


# ---------------------------------------------------------------- pypsrp, an independent client

def test_pypsrp_negotiate_with_encryption_over_http(host):
    wsman_mod = pytest.importorskip("pypsrp.wsman")
    port = urllib.parse.urlparse(host.endpoint).port
    client = wsman_mod.WSMan("127.0.0.1", port=port, username="hvadmin", password=PASSWORD, ssl=False,
                             auth="negotiate", encryption="always")
    selectors = wsman_mod.SelectorSet()
    for name, value in SERVICE:
        selectors.add_option(name, value)
    body = client.get(f"{V2}/Msvm_ReplicationService", selector_set=selectors)
    assert local_name(body[0]) == "Msvm_ReplicationService"


def test_pypsrp_basic_over_https_with_the_ca(host, test_ca):
    wsman_mod = pytest.importorskip("pypsrp.wsman")
    port = urllib.parse.urlparse(host.https_endpoint).port
    client = wsman_mod.WSMan("localhost", port=port, username="hvadmin", password=PASSWORD, ssl=True, auth="basic",
                             cert_validation=test_ca.ca_cert)
    selectors = wsman_mod.SelectorSet()
    for name, value in SERVICE:
        selectors.add_option(name, value)
    body = client.get(f"{V2}/Msvm_ReplicationService", selector_set=selectors)
    assert local_name(body[0]) == "Msvm_ReplicationService"
