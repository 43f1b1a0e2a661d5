"""Several hosts at once: FleetSimulator and `python -m hypervsim --all-hosts`, and the TLS flags of the CLI."""

import base64
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import urllib.parse

import pytest
import yaml

from hypervsim import ManualClock
from hypervsim.fleetsim import FleetSimulator

SIM_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "simulator")
V2 = "http://schemas.microsoft.com/wbem/wsman/1/wmi/root/virtualization/v2"
WEB01 = "5F1D2A4B-9C3E-4F7A-8B6D-1E2F3A4B5C6D"


def two_hosts() -> dict:
    """A primary server and its replica server, as a failover test needs them."""
    common = {"basic_auth": True, "allow_unencrypted": True, "users": [{"username": "admin", "password": "pw"}]}
    return {"hosts": [
        {"name": "HV-PRIMARY01", "partner": "HV-REPLICA01", **common,
         "vms": [{"name": "web01", "id": WEB01, "mode": "primary", "state": "replicating", "power": "running"}]},
        {"name": "HV-REPLICA01", "partner": "HV-PRIMARY01", **common,
         "vms": [{"name": "web01", "id": WEB01, "mode": "replica", "state": "replicating", "power": "off",
                  "recovery_points": [{"type": "standard", "created": "-1h"}]}]},
    ]}


def get_service(endpoint: str, host: str) -> tuple[int, str]:
    """Get Msvm_ReplicationService over HTTP with Basic auth: (status, body)."""
    selectors = "".join(f'<w:Selector Name="{k}">{v}</w:Selector>' for k, v in (
        ("CreationClassName", "Msvm_ReplicationService"), ("Name", "replicasvc"),
        ("SystemCreationClassName", "Msvm_ComputerSystem"), ("SystemName", host)))
    envelope = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:w="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"><s:Header>'
        '<a:To>http://x/wsman</a:To><a:ReplyTo><a:Address>'
        'http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>'
        '<a:MessageID>uuid:0B0D7A5E-0000-4000-8000-000000000001</a:MessageID>'
        f'<w:ResourceURI>{V2}/Msvm_ReplicationService</w:ResourceURI>'
        '<a:Action>http://schemas.xmlsoap.org/ws/2004/09/transfer/Get</a:Action>'
        f'<w:SelectorSet>{selectors}</w:SelectorSet></s:Header><s:Body/></s:Envelope>')
    url = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("POST", "/wsman", body=envelope.encode(), headers={
        "Content-Type": "application/soap+xml;charset=UTF-8",
        "Authorization": "Basic " + base64.b64encode(b"admin:pw").decode()})
    resp = conn.getresponse()
    result = resp.status, resp.read().decode()
    conn.close()
    return result


def control_get(endpoint: str, path: str):
    url = urllib.parse.urlparse(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.request("GET", path)
    data = json.loads(conn.getresponse().read())
    conn.close()
    return data


# ---------------------------------------------------------------- FleetSimulator

def test_two_hosts_on_two_ports():
    clock = ManualClock()
    with FleetSimulator(two_hosts(), clock=clock, job_seconds=4) as fleet:
        assert fleet.names == ["HV-PRIMARY01", "HV-REPLICA01"] and len(fleet) == 2
        endpoints = fleet.endpoints
        assert len({urllib.parse.urlparse(url).port for url in endpoints.values()}) == 2
        for name, url in endpoints.items():
            status, body = get_service(url, name)
            assert status == 200 and f"<p:SystemName>{name}</p:SystemName>" in body
        modes = {name: control_get(url, "/_sim/vms")[0]["mode"] for name, url in endpoints.items()}
        assert modes == {"HV-PRIMARY01": "primary", "HV-REPLICA01": "replica"}
        replica = fleet["hv-replica01"]                                  # names are case-insensitive
        assert replica is fleet.simulators["HV-REPLICA01"] and replica.host_name == "HV-REPLICA01"
        replica.set_vm("web01", state="suspended")
        assert fleet["HV-PRIMARY01"].vms()[0]["state"] == 3             # each host is its own model
        fleet.advance_clock(30)
        assert replica.clock.monotonic() == fleet["HV-PRIMARY01"].clock.monotonic() == 30   # one shared clock
        assert replica.config.job_seconds == 4                          # host overrides reach every host
        with pytest.raises(KeyError):
            print(fleet["HV-NOPE"])


def test_each_host_has_its_own_faults_and_log():
    fleet = FleetSimulator(two_hosts(), clock=ManualClock())
    fleet.start()
    try:
        fleet["HV-REPLICA01"].inject_fault("Get", "TimedOut")
        assert get_service(fleet.endpoints["HV-PRIMARY01"], "HV-PRIMARY01")[0] == 200
        status, body = get_service(fleet.endpoints["HV-REPLICA01"], "HV-REPLICA01")
        assert status == 500 and "2150858793" in body
        assert [e["outcome"] for e in fleet["HV-PRIMARY01"].requests()] == ["ok"]
        assert [e["outcome"] for e in fleet["HV-REPLICA01"].requests()] == ["TimedOut"]
    finally:
        fleet.stop()


def test_fleet_simulator_serves_every_host():
    with pytest.raises(TypeError):
        FleetSimulator(two_hosts(), host="HV-PRIMARY01")


# ---------------------------------------------------------------- command line

def run_cli(args, lines):
    """Start the CLI, read `lines` stdout lines, stop it; returns the lines and what GET /_sim/vms gave per URL."""
    env = dict(os.environ, PYTHONPATH=SIM_DIR)
    with subprocess.Popen([sys.executable, "-m", "hypervsim", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, env=env, text=True) as proc:
        try:
            out = [proc.stdout.readline().strip() for _index in range(lines)]
            assert all(out), (out, proc.stderr.read() if proc.poll() is not None else "")
            vms = {}
            for line in out:
                url = line.split(": ", 1)[1]
                if url.startswith("http://"):
                    vms[url] = control_get(url, "/_sim/vms")
        finally:
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=10) == 0
    return out, vms


@pytest.fixture
def two_host_file(tmp_path):
    path = tmp_path / "two.yml"
    path.write_text(yaml.safe_dump(two_hosts()), encoding="utf-8")
    return str(path)


def test_cli_all_hosts(two_host_file):
    lines, vms = run_cli(["--fleet", two_host_file, "--all-hosts"], 2)
    assert [re.sub(r":\d+/", ":PORT/", line) for line in lines] == [
        "endpoint HV-PRIMARY01: http://127.0.0.1:PORT/wsman", "endpoint HV-REPLICA01: http://127.0.0.1:PORT/wsman"]
    assert sorted(v[0]["mode"] for v in vms.values()) == ["primary", "replica"]


def test_cli_single_host_keeps_its_format(two_host_file):
    lines, vms = run_cli(["--fleet", two_host_file, "--host", "HV-REPLICA01"], 1)
    assert re.fullmatch(r"endpoint: http://127\.0\.0\.1:\d+/wsman", lines[0])
    assert [v[0]["mode"] for v in vms.values()] == ["replica"]


@pytest.mark.parametrize("args", [["--tls-cert", "x.pem"], ["--host", "HV-PRIMARY01", "--all-hosts"]])
def test_cli_usage_errors(two_host_file, args):
    result = subprocess.run([sys.executable, "-m", "hypervsim", "--fleet", two_host_file, *args], capture_output=True,
                            text=True, env=dict(os.environ, PYTHONPATH=SIM_DIR), timeout=30, check=False)
    assert result.returncode == 2 and result.stdout == ""


def test_cli_tls_endpoints(two_host_file, tmp_path):
    pytest.importorskip("cryptography")
    from hypervsim.testca import make_test_ca  # pylint: disable=import-outside-toplevel
    files = make_test_ca(str(tmp_path / "ca"))
    tls = ["--tls-cert", files.server_cert, "--tls-key", files.server_key]
    lines = run_cli(["--fleet", two_host_file, *tls], 2)[0]
    assert re.fullmatch(r"endpoint: http://127\.0\.0\.1:\d+/wsman", lines[0])
    assert re.fullmatch(r"https_endpoint: https://127\.0\.0\.1:\d+/wsman", lines[1])
    lines = run_cli(["--fleet", two_host_file, "--all-hosts", *tls], 4)[0]
    assert [line.split(":", 1)[0] for line in lines] == [
        "endpoint HV-PRIMARY01", "endpoint HV-REPLICA01", "https_endpoint HV-PRIMARY01", "https_endpoint HV-REPLICA01"]
    assert len({line.rsplit(":", 1)[1] for line in lines}) == 4       # four different ports
