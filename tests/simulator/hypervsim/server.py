"""HTTP front end: a threading HTTP server on loopback that behaves like the WinRM listener (wire notes 5.3).

POST /wsman only; HTTP Basic auth checked before anything else (401 with an empty body and Windows' headers);
413 for a body above MaxEnvelopeSizekb; 200 application/soap+xml for results, 500 for every SOAP fault, 400 for
a body that is not XML.  /_sim/... is the unauthenticated control API, answered only to loopback clients.
"""

import base64
import binascii
import json
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

from . import control
from .fleet import User
from .hooks import DropConnection
from .wsman import NotXml

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
SERVER_HEADER = "Microsoft-HTTPAPI/2.0"
LOOPBACK = ("127.0.0.1", "::1", "::ffff:127.0.0.1")


class Backend(Protocol):
    """What the HTTP layer needs from the simulator."""

    verbose: bool

    def authenticate(self, username: str, password: str) -> User | None:
        """The user these credentials log on as, or None."""

    def max_request_bytes(self) -> int:
        """MaxEnvelopeSizekb * 1024."""

    def handle_wsman(self, data: bytes, user: User, machine: str) -> tuple[int, bytes]:
        """Status and body of a WS-Man response."""

    def note_auth_failure(self) -> None:
        """Count a rejected logon."""


class SimHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer carrying the simulator backend."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        self.backend = backend
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, WinRMHandler)


def _machine(host_header: str | None) -> str:
    """Host as the client addressed it (the outer f:WSManFault Machine attribute)."""
    value = (host_header or "localhost").strip()
    if value.startswith("["):
        return value[1:value.find("]")]
    return value.rsplit(":", 1)[0] if value.count(":") == 1 else value


class WinRMHandler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection; keep-alive as Windows offers it."""

    protocol_version = "HTTP/1.1"
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

    def _user(self) -> User | None:
        auth = self.headers.get("Authorization", "")
        scheme, _sep, token = auth.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            username, _colon, password = base64.b64decode(token.strip(), validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return None
        return self.server.backend.authenticate(username, password)

    # ------------------------------------------------------------ verbs

    def do_POST(self) -> None:  # pylint: disable=invalid-name
        path = self.path.split("?", 1)[0]
        if path.startswith(control.PREFIX):
            self._control("POST", path)
            return
        if path.lower() != "/wsman":
            self._send(404, close=True)
            return
        backend = self.server.backend
        user = self._user()
        if user is None:
            backend.note_auth_failure()
            # Drain a reasonable body so the client reads the 401 rather than a reset connection.
            self._read_body(backend.max_request_bytes())
            self._send(401, headers=[("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", 'Basic realm="WSMAN"')])
            return
        data = self._read_body(backend.max_request_bytes())
        if data is None:
            return
        content_type = self.headers.get("Content-Type", "")
        if not content_type.lower().startswith("application/soap+xml"):
            self._send(415)
            return
        try:
            status, body = backend.handle_wsman(data, user, _machine(self.headers.get("Host")))
        except NotXml:
            self._send(400)
            return
        except DropConnection:
            self._drop()
            return
        # An empty body (an injected bare HTTP 500) goes without a SOAP content type, as a broken proxy sends it.
        self._send(status, body, SOAP_CONTENT_TYPE if body else None)

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
        else:
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
