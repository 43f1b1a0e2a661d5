"""The HTTP layer (wire notes 5.3), the /_sim/ control API and the command line entry point."""

import base64
import http.client
import json
import os
import signal
import subprocess
import sys
import urllib.parse

import pytest

from hypervsim import Simulator


def post(sim, path="/wsman", body=b"<x/>", user="admin", password="pw", content_type="application/soap+xml;charset=UTF-8",
         headers=None):
    url = urllib.parse.urlparse(sim.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    all_headers = {"Content-Type": content_type, **(headers or {})}
    if user is not None:
        all_headers["Authorization"] = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
    conn.request("POST", path, body=body, headers=all_headers)
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    return resp, data


def control(sim, method, path, payload=None):
    url = urllib.parse.urlparse(sim.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    body = None if payload is None else json.dumps(payload).encode()
    conn.request(method, path, body=body, headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = json.loads(resp.read() or b"null")
    conn.close()
    return resp.status, data


@pytest.mark.parametrize("user, password", [(None, None), ("admin", "wrong"), ("ghost", "pw"), ("OTHER\\admin", "pw")])
def test_401_without_valid_credentials(live, user, password):
    resp, data = post(live, user=user, password=password)
    assert resp.status == 401 and data == b""
    assert resp.headers.get_all("WWW-Authenticate") == ["Negotiate", 'Basic realm="WSMAN"']
    assert resp.headers["Server"] == "Microsoft-HTTPAPI/2.0"
    # A request without credentials is the first leg of every handshake, not a failed logon.
    assert live.counters()["auth_failures"] == (0 if user is None else 1) and live.counters()["total"] == 0


@pytest.mark.parametrize("user", ["ADMIN", ".\\admin", "HV-TEST01\\admin"])
def test_local_account_name_forms(live, user):
    resp = post(live, user=user, body=b"not xml")[0]
    assert resp.status == 400


def test_400_for_non_xml(live):
    resp, data = post(live, body=b"this is not xml")
    assert resp.status == 400 and data == b""


def test_413_for_oversized_body(live):
    resp = post(live, body=b"<x>" + b"a" * (500 * 1024) + b"</x>")[0]
    assert resp.status == 413


def test_other_paths_and_content_type(live):
    assert post(live, path="/other")[0].status == 404
    assert post(live, content_type="text/plain")[0].status == 415


def test_soap_response_headers(live):
    body = ('<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
            'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
            'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
            '<a:Action s:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action>'
            '<a:MessageID>uuid:ABC</a:MessageID><a:ReplyTo><a:Address>'
            'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>'
            '<w:ResourceURI>http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2/msvm_replicationservice'
            '</w:ResourceURI><w:SelectorSet><w:Selector Name="name">REPLICASVC</w:Selector></w:SelectorSet>'
            "</s:Header><s:Body/></s:Envelope>").encode()
    resp, data = post(live, body=body, headers={"Host": "hv-test01:5985"})
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/soap+xml;charset=UTF-8"
    assert resp.headers["Server"] == "Microsoft-HTTPAPI/2.0"
    assert b"<a:RelatesTo>uuid:ABC</a:RelatesTo>" in data
    assert b'<p:Msvm_ReplicationService xmlns:xsi=' in data          # canonical class casing in the answer
    bad = body.replace(b"REPLICASVC", b"nope")
    resp, data = post(live, body=bad, headers={"Host": "hv-test01:5985"})
    assert resp.status == 500 and b'Machine="hv-test01"' in data


def test_control_api(live):
    status, counters = control(live, "GET", "/_sim/counters")
    zero = {"total": 0, "auth_failures": 0, "connections": 0, "logons": 0}
    assert status == 200 and counters == zero          # the control API's own connections are not counted
    post(live, user="admin", password="bad")
    assert control(live, "GET", "/_sim/counters")[1]["auth_failures"] == 1
    assert control(live, "POST", "/_sim/counters/reset")[1] == zero
    status, vms = control(live, "GET", "/_sim/vms")
    assert status == 200 and {"name", "id", "mode", "state", "power", "failed_over_type", "jobs"} <= set(vms[0])
    status, vm = control(live, "POST", "/_sim/vms/web01", {"state": "recovered", "power": "running"})
    assert status == 200 and vm["state"] == 5 and vm["power"] == 2
    status, _refused = control(live, "POST", "/_sim/vms/web01", {"state": "suspended"})   # running: not on Windows
    assert status == 400
    status, vm = control(live, "POST", f"/_sim/vms/{vms[0]['id'].lower()}", {"state": 3, "power": "off"})
    assert status == 200 and vm["state"] == 3
    assert control(live, "POST", "/_sim/vms/dup", {"state": 3})[0] == 400
    assert control(live, "POST", "/_sim/vms/nope", {"state": 3})[0] == 404
    assert control(live, "POST", "/_sim/vms/web01", {"state": "bogus"})[0] == 400
    assert control(live, "POST", "/_sim/faults", {"operation": "Get", "fault": "TimedOut"})[0] == 200
    assert control(live, "POST", "/_sim/faults", {"operation": "Get", "fault": "Bogus"})[0] == 400
    assert control(live, "POST", "/_sim/clock/advance", {"seconds": 5})[0] == 200
    assert control(live, "GET", "/_sim/jobs") == (200, [])
    assert control(live, "GET", "/_sim/nothing")[0] == 404
    assert control(live, "POST", "/_sim/nothing")[0] == 404


def test_real_clock_offset(fleet_dict):
    with Simulator(fleet_dict) as sim:
        before = sim.clock.monotonic()
        sim.advance_clock(1000)
        assert sim.clock.monotonic() - before >= 1000
        with pytest.raises(ValueError):
            sim.advance_clock(-1)


def test_endpoint_before_start(fleet_dict):
    sim = Simulator(fleet_dict)
    with pytest.raises(RuntimeError):
        print(sim.endpoint)
    sim.stop()          # stopping a simulator that never started is harmless


def test_command_line(demo_fleet_path):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(demo_fleet_path)))
    with subprocess.Popen([sys.executable, "-m", "hypervsim", "--fleet", demo_fleet_path, "--port", "0"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True) as proc:
        try:
            line = proc.stdout.readline().strip()
            assert line.startswith("endpoint: http://127.0.0.1:") and line.endswith("/wsman"), line
            url = urllib.parse.urlparse(line.split(" ", 1)[1])
            conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
            conn.request("GET", "/_sim/vms")
            assert len(json.loads(conn.getresponse().read())) >= 6
            conn.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0


def test_command_line_bad_fleet(tmp_path):
    path = tmp_path / "f.yml"
    path.write_text("hosts: []\n", encoding="utf-8")
    sim_dir = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "simulator")
    result = subprocess.run([sys.executable, "-m", "hypervsim", "--fleet", str(path)], capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=sim_dir), timeout=30, check=False)
    assert result.returncode == 2 and "hosts: at least one host" in result.stderr and result.stdout == ""
