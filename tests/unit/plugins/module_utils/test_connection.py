"""From module options to a working (or clearly failing) WinRM connection, against the simulator's NTLM,
HTTPS and AllowUnencrypted behaviour: each failure names the option to change."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils import connection
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManFault, WSManTransportError

pytest.importorskip("winrm")
pytest.importorskip("cryptography")
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "simulator"))
from hypervsim import Simulator  # noqa: E402  pylint: disable=wrong-import-position
from hypervsim.testca import make_test_ca  # noqa: E402  pylint: disable=wrong-import-position

PASSWORD = "Pa55:word!"
FLEET = {"hosts": [{"name": "HV-CONN01", "basic_auth": True, "users": [{"username": "hvadmin", "password": PASSWORD}],
                    "vms": [{"name": "web01", "mode": "replica", "state": "replicating", "power": "off"}]}]}


@pytest.fixture(scope="module")
def test_ca(tmp_path_factory):
    return make_test_ca(str(tmp_path_factory.mktemp("ca")))


@pytest.fixture(scope="module")
def host(test_ca):
    with Simulator(FLEET, tls_cert=test_ca.server_cert, tls_key=test_ca.server_key) as sim:
        yield sim


def params(url: str, **options) -> dict:
    scheme, rest = url.split("://", 1)
    port = int(rest.split(":", 1)[1].split("/", 1)[0])
    base = {"hostname": "127.0.0.1", "port": port, "scheme": scheme, "username": "hvadmin", "password": PASSWORD,
            "transport": "ntlm"}
    base.update(options)
    return base


def service_names(options: dict) -> list:
    return [row["Name"] for row in connection.Connection(options).cim.query("SELECT * FROM Msvm_ReplicationService")]


def test_ntlm_with_encryption_over_http(host):
    assert service_names(params(host.endpoint)) == ["replicasvc"]


def test_basic_over_https_with_ca_path(host, test_ca):
    assert service_names(params(host.https_endpoint, transport="basic", ca_path=test_ca.ca_cert)) == ["replicasvc"]


def test_https_without_the_ca_names_ca_path(host, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    with pytest.raises(WSManTransportError) as caught:
        service_names(params(host.https_endpoint, transport="basic"))
    assert caught.value.kind == "tls"
    assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value) and "ca_path" in str(caught.value)
    assert "HTTPSConnectionPool" not in str(caught.value)


def test_validate_certs_false_skips_the_check(host):
    assert service_names(params(host.https_endpoint, transport="basic", validate_certs=False)) == ["replicasvc"]


def test_wrong_password_is_a_clear_auth_failure(host):
    before = host.counters()["total"]
    with pytest.raises(WSManTransportError) as caught:
        service_names(params(host.endpoint, password="not-it"))
    assert caught.value.kind == "auth" and caught.value.http_status == 401
    assert "rejected the credentials" in str(caught.value) and "HOST\\user" in str(caught.value)
    assert "not-it" not in str(caught.value)
    assert host.counters()["total"] == before


def test_basic_over_http_is_refused_before_the_password_leaves(host):
    before = host.counters()
    with pytest.raises(connection.ConnectionOptionsError, match="would send the password unencrypted") as caught:
        service_names(params(host.endpoint, transport="basic"))
    assert "use transport=ntlm" in str(caught.value) and "message_encryption=never" in str(caught.value)
    assert host.counters()["connections"] == before["connections"]  # not even a connection was opened


def test_basic_over_http_when_the_operator_opts_in_meets_the_hosts_refusal(host):
    with pytest.raises(WSManTransportError) as caught:
        service_names(params(host.endpoint, transport="basic", message_encryption="never"))
    assert caught.value.kind == "auth" and "use transport=ntlm" in str(caught.value)


def test_unencrypted_ntlm_over_http_says_to_encrypt(host):
    with pytest.raises(WSManTransportError) as caught:
        service_names(params(host.endpoint, message_encryption="never"))
    assert caught.value.http_status == 500 and "message_encryption=auto" in str(caught.value)


def test_no_advice_for_a_plain_connection_error():
    error = WSManTransportError("cannot reach the WinRM host", kind="connection")
    options = connection.Options.from_params({"hostname": "h", "scheme": "https", "transport": "ntlm"})
    assert connection.advice(options, error) is None


@pytest.mark.parametrize("missing", ["username", "password"])
def test_missing_credentials_are_an_option_error_not_a_host_refusal(host, missing):
    options = params(host.endpoint)
    options[missing] = None
    before = host.counters()["total"]
    with pytest.raises(connection.ConnectionOptionsError, match="transport=ntlm needs username and password"):
        connection.Connection(options)
    assert host.counters()["total"] == before


def test_options_pywinrm_refuses_are_reported_as_options(host, tmp_path):
    missing = {"client_cert": str(tmp_path / "missing.pem"), "client_key": str(tmp_path / "missing.key")}
    options = params(host.endpoint, transport="certificate", **missing)
    with pytest.raises(connection.ConnectionOptionsError, match="pywinrm refused the connection options: cert_pem"):
        connection.Connection(options)


# ---- errors that name the fix (issue 17), met over real sockets


def failure(options: dict) -> WSManTransportError:
    with pytest.raises(WSManTransportError) as caught:
        service_names(options)
    return caught.value


def test_https_to_an_http_listener_says_scheme_or_port_not_ca_path(host):
    error = failure(params(host.endpoint.replace("http://", "https://")))
    text = str(error)
    assert error.kind == "tls" and "answers without TLS" in text and "scheme=http" in text and "5986" in text
    assert "ca_path" not in text and "validate_certs" not in text


def test_nothing_listening_says_what_to_check(host):
    import socket  # pylint: disable=import-outside-toplevel
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    error = failure(params("http://127.0.0.1:%d/wsman" % free))
    text = str(error)
    assert error.unsent and "connection refused" in text and "winrm quickconfig" in text and "firewall" in text
    assert "HTTPConnectionPool" not in text and "Max retries" not in text


def test_a_name_that_does_not_resolve_says_so(host):
    error = failure(dict(params(host.endpoint), hostname="hv-nosuch.invalid"))
    text = str(error)
    assert error.unsent and "does not resolve" in text and "DNS" in text and "HTTPConnectionPool" not in text


def test_a_server_that_is_not_winrm_is_named_as_such():
    import http.server  # pylint: disable=import-outside-toplevel
    import threading  # pylint: disable=import-outside-toplevel
    server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)  # no POST: 501
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        error = failure(params("http://127.0.0.1:%d/wsman" % server.server_address[1]))
    finally:
        server.shutdown()
    assert error.http_status == 501 and "not a WinRM endpoint, wrong port or path?" in str(error)
    assert error.kind == "endpoint" and error.unsent


def test_access_denied_names_the_rights_the_account_needs():
    fleet = {"hosts": [{"name": "HV-CONN02", "users": [{"username": "auditor", "password": PASSWORD,
                                                        "rights": "none"}], "vms": []}]}
    with Simulator(fleet) as sim:
        with pytest.raises(WSManFault) as caught:
            service_names(params(sim.endpoint, username="auditor"))
    text = str(caught.value)
    assert text.startswith("Access is denied.") and "w:AccessDenied" in text
    assert "Remote Management Users" in text and "Hyper-V Administrators" in text
