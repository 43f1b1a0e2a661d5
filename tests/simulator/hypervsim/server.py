"""HTTP front end: a threading HTTP(S) server on loopback that behaves like the WinRM listener (wire notes 5.3).

POST /wsman only.  Logon comes before anything else (auth.py: 401 with an empty body and Windows' headers, and
nothing processed); a body sealed with WinRM message encryption is opened with the connection's Negotiate context
and the answer sealed back (encryption.py).  413 for a body above MaxEnvelopeSizekb; 200 application/soap+xml for
results, 500 for every SOAP fault, 400 for a body that is not XML or a sealed body that cannot be opened.
/_sim/... is the unauthenticated control API, answered only to loopback clients.

The network between controller and host is modelled here (host setting network_latency_ms): every request to the
WinRM listener (each NTLM leg, pywinrm's empty encryption-setup POST, every WS-Man message) waits that round trip
before it is answered, and a connection waits it once more before its first request (the TCP handshake).  The wait
runs in the connection's own thread, never in accept() and never under the model lock, so concurrent connections
overlap as on a real network.  /_sim/ requests do not wait, and a connection that carries only those is not counted:
reading the counters over HTTP must not change them.  A latency_ms fault rule is different: it delays matching
WS-Man operations in the request pipeline (pipeline.py), on top of this.
"""

import base64
import json
import socket
import ssl
import sys
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from . import control, encryption
from .auth import Authenticator, ConnectionAuth, Rejected
from .fleet import User
from .hooks import DropConnection
from .wsman import NotXml

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
SERVER_HEADER = "Microsoft-HTTPAPI/2.0"
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")
# Framing and signature of a sealed body on top of the envelope; the envelope itself is held to the limit.
SEAL_OVERHEAD = 4096
TLS_HANDSHAKE_SECONDS = 30


class Backend(Protocol):
    """What the HTTP layer needs from the simulator."""

    verbose: bool
    authenticator: Authenticator
    sleep: Callable[[float], None]      # how a delay is waited (time.sleep; tests record instead)

    @property
    def network_latency(self) -> float:
        """Seconds of one controller-host round trip."""

    def max_request_bytes(self) -> int:
        """MaxEnvelopeSizekb * 1024."""

    def note_connection(self) -> None:
        """Count a connection that carried a WinRM request."""

    def handle_wsman(self, data: bytes, user: User, machine: str) -> tuple[int, bytes]:
        """Status and body of a WS-Man response; may raise hooks.DropConnection."""


class SimHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the simulator backend; HTTPS when given a TLS context."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], backend: Backend, tls: ssl.SSLContext | None = None) -> None:
        self.backend = backend
        self.tls = tls
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, WinRMHandler)

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def get_request(self) -> tuple[Any, Any]:
        sock, address = super().get_request()
        if self.tls is not None:
            # The handshake runs in the connection's own thread (WinRMHandler.setup), so a client that stalls
            # in it, or rejects our certificate, does not hold up accept().
            sock = self.tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up or fails the TLS handshake is normal traffic, not a server error."""
        error = sys.exc_info()[1]
        if isinstance(error, (ssl.SSLError, ConnectionError, TimeoutError)):
            if getattr(self.backend, "verbose", False):
                sys.stderr.write(f"hypervsim: {client_address[0]}: {error}\n")
            return
        super().handle_error(request, client_address)


def _machine(host_header: str | None) -> str:
    """Host as the client addressed it (the outer f:WSManFault Machine attribute)."""
    value = (host_header or "localhost").strip()
    if value.startswith("["):
        return value[1:value.find("]")]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class WinRMHandler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection; keep-alive as Windows offers it."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as two writes; with Nagle on, the body waits for the client's delayed ACK (~40 ms
    # a response on Linux), a stall HTTP.sys does not have. It would dwarf any latency a benchmark injects.
    disable_nagle_algorithm = True
    server: SimHTTPServer

    def version_string(self) -> str:
        return SERVER_HEADER

    def log_message(self, format: str, *args: Any) -> None:  # pylint: disable=redefined-builtin
        if getattr(self.server.backend, "verbose", False):
            sys.stderr.write(f"hypervsim: {self.address_string()} {format % args}\n")

    # ------------------------------------------------------------ helpers

    def _send(self, status: int, body: bytes = b"", content_type: str | None = None,
              headers: list[tuple[str, str]] | None = None, close: bool = False) -> None:
        self.send_response(status)
        for name, value in headers or []:
            self.send_header(name, value)
        if content_type:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _read_body(self, limit: int) -> bytes | None:
        """The request body, or None after answering 411/413 (then the connection is closed)."""
        length = self.headers.get("Content-Length")
        if length is None or not length.strip().isdigit():
            self._send(411, close=True)
            return None
        size = int(length)
        if size > limit:
            self._send(413, close=True)
            return None
        return self.rfile.read(size)

    # ------------------------------------------------------------ verbs

    def setup(self) -> None:
        super().setup()
        self.conn_auth = ConnectionAuth()     # pylint: disable=attribute-defined-outside-init
        self.carried_winrm = False            # pylint: disable=attribute-defined-outside-init
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.settimeout(TLS_HANDSHAKE_SECONDS)
            self.connection.do_handshake()
            self.connection.settimeout(None)

    def _network_round_trip(self) -> None:
        """Wait the controller-host network for one WinRM request: the TCP handshake first on a new connection."""
        backend = self.server.backend
        if not self.carried_winrm:
            self.carried_winrm = True     # pylint: disable=attribute-defined-outside-init
            backend.note_connection()
            self._wait(backend.network_latency)
        self._wait(backend.network_latency)

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self.server.backend.sleep(seconds)

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        path = self.path.split("?", 1)[0]
        if path.startswith(control.PREFIX):
            self._control("POST", path)
            return
        self._network_round_trip()
        if path.lower() != "/wsman":
            self._send(404, close=True)
            return
        limit = self.server.backend.max_request_bytes()
        raw = self._read_body(limit + SEAL_OVERHEAD)
        if raw is None:
            return
        headers = self._logon()
        if headers is None:
            return
        self._serve_wsman(raw, limit, headers)

    def _logon(self) -> list[tuple[str, str]] | None:
        """Response headers for an authenticated request, or None after answering 401."""
        authenticator = self.server.backend.authenticator
        try:
            token = authenticator.logon(self.conn_auth, self.headers.get("Authorization", ""),
                                        secure=self.server.tls is not None)
        except Rejected as rejected:
            self._send(401, headers=authenticator.challenge_headers(rejected.token, self.conn_auth.scheme))
            return None
        if not token:
            return []
        return [("WWW-Authenticate", f"{self.conn_auth.scheme} {base64.b64encode(token).decode('ascii')}")]

    def _serve_wsman(self, raw: bytes, limit: int, headers: list[tuple[str, str]]) -> None:
        conn = self.conn_auth
        sealed = encryption.is_sealed(self.headers.get("Content-Type", ""))
        if sealed:
            if not conn.can_seal:
                self._send(400, headers=headers)       # no context to open it with (e.g. one that has expired)
                return
            try:
                data = encryption.open_sealed(conn.context, raw)
            except encryption.BadEncryption:
                self._send(400, headers=headers, close=True)
                return
            if len(data) > limit:
                self._send(413, close=True)
                return
        elif not raw:
            # pywinrm's first, empty POST sets up the context for message encryption; it expects a 2xx.
            self._send(200, headers=headers)
            return
        else:
            data = raw
            if len(data) > limit:
                self._send(413, close=True)
                return
            if not self._plaintext_allowed(headers):
                return
        self._answer(data, sealed, headers)

    def _plaintext_allowed(self, headers: list[tuple[str, str]]) -> bool:
        """AllowUnencrypted=false: an unsealed SOAP message over HTTP is refused (500) even after a logon."""
        if self.server.tls is None and not self.server.backend.authenticator.allow_unencrypted:
            self._send(500, headers=headers)
            return False
        if not self.headers.get("Content-Type", "").lower().startswith("application/soap+xml"):
            self._send(415, headers=headers)
            return False
        return True

    def _answer(self, data: bytes, sealed: bool, headers: list[tuple[str, str]]) -> None:
        user = self.conn_auth.user
        assert user is not None
        try:
            status, body = self.server.backend.handle_wsman(data, user, _machine(self.headers.get("Host")))
        except NotXml:
            self._send(400, headers=headers)
            return
        except DropConnection:
            self._drop()
            return
        if sealed and body:
            self._send(status, encryption.seal(self.conn_auth.context, body), encryption.CONTENT_TYPE, headers)
            return
        # An empty body (an injected bare HTTP 500) goes without a SOAP content type, as a broken proxy sends it.
        self._send(status, body, SOAP_CONTENT_TYPE if body else None, headers)

    def _drop(self) -> None:
        """Close the TCP connection without a response, as a network failure or a killed service does."""
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def do_GET(self) -> None:  # pylint: disable=invalid-name
        path = self.path.split("?", 1)[0]
        if path.startswith(control.PREFIX):
            self._control("GET", path)
            return
        self._network_round_trip()
        self._send(405 if path.lower() == "/wsman" else 404)

    def _control(self, method: str, path: str) -> None:
        if self.client_address[0] not in LOOPBACK:
            self._send(403, close=True)
            return
        body = b""
        if method == "POST":
            data = self._read_body(1024 * 1024)
            if data is None:
                return
            body = data
        status, payload = control.handle(self.server.backend, method, path, body)
        self._send(status, json.dumps(payload).encode("utf-8"), "application/json")
