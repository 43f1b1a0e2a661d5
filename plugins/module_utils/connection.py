# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One Hyper-V host as the module options name it: the options with their defaults, the CIM client over a pool of
WinRM sessions (pywinrm's Protocol), and what the connection cost (stats)."""

from __future__ import annotations

import traceback
from dataclasses import dataclass
from typing import Any, Callable, Dict, Mapping, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.errors import HypervError
from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry
from ansible_collections.hyperv.replica.plugins.module_utils.wire.sessions import SessionPool
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import WSManClient, WSManTransportError

try:
    from winrm.protocol import Protocol
except ImportError:
    Protocol = None
    WINRM_IMPORT_ERROR: Optional[str] = traceback.format_exc()
else:
    WINRM_IMPORT_ERROR = None

DEFAULT_PORTS = {"http": 5985, "https": 5986}
# Windows' WinRM service serves at most MaxConnections (300 by default) requests at once, for every client
# together; a third of that leaves room for the operator's other tools and a second run.
MAX_CONCURRENT_LIMIT = 100


class ConnectionOptionsError(HypervError):
    """Options that cannot make a connection, found before any request is sent."""


@dataclass(frozen=True)
class Options:  # pylint: disable=too-many-instance-attributes
    """The connection options with the module defaults applied, once: tests, the soak and the action plugin may pass
    only some of them, and every reader below sees the same values."""

    hostname: str
    port: int
    scheme: str = "https"
    path: str = "/wsman"
    username: Optional[str] = None
    password: Optional[str] = None
    transport: str = "ntlm"
    validate_certs: bool = True
    ca_path: Optional[str] = None
    client_cert: Optional[str] = None
    client_key: Optional[str] = None
    message_encryption: str = "auto"
    operation_timeout: int = 20
    read_timeout: int = 30

    @classmethod
    def from_params(cls, params: Mapping[str, Any]) -> "Options":
        if not params.get("hostname"):
            raise ConnectionOptionsError(
                "hostname is missing: run the task on an inventory host whose connection is winrm or psrp (its "
                "ansible_host, or its inventory name, is used), or set hostname in the task or module_defaults, or "
                "the HYPERV_HOST environment variable")
        scheme = params.get("scheme") or "https"
        validate = params.get("validate_certs")
        return cls(hostname=str(params["hostname"]), port=int(params.get("port") or DEFAULT_PORTS[scheme]),
                   scheme=scheme, path=params.get("path") or "/wsman", username=params.get("username"),
                   password=params.get("password"), transport=params.get("transport") or "ntlm",
                   validate_certs=True if validate is None else bool(validate), ca_path=params.get("ca_path"),
                   client_cert=params.get("client_cert"), client_key=params.get("client_key"),
                   message_encryption=params.get("message_encryption") or "auto",
                   operation_timeout=int(params.get("operation_timeout") or 20),
                   read_timeout=int(params.get("read_timeout") or 30))

    @property
    def endpoint(self) -> str:
        host = self.hostname
        if ":" in host and not host.startswith("["):
            host = "[%s]" % host  # a bare IPv6 address
        return "%s://%s:%s/%s" % (self.scheme, host, self.port, self.path.lstrip("/"))

    def __repr__(self) -> str:
        # A dataclass would print the password: never let it reach a log or a traceback.
        return "Options(%s, transport=%s)" % (self.endpoint, self.transport)


def protocol_kwargs(options: Options) -> Dict[str, Any]:
    """pywinrm Protocol arguments; checked here so that a mistake is reported before the host is contacted."""
    if options.operation_timeout < 1 or options.read_timeout <= options.operation_timeout:
        raise ConnectionOptionsError("read_timeout (%d) must be greater than operation_timeout (%d), which must be "
                                     "at least 1" % (options.read_timeout, options.operation_timeout))
    transport = options.transport
    if transport == "certificate" and not (options.client_cert and options.client_key):
        raise ConnectionOptionsError("transport=certificate needs client_cert and client_key")
    if transport == "basic" and options.scheme == "http" and options.message_encryption != "never":
        # Basic puts the password in every request, readable by anyone on the path: never send it over plain http
        # unless the operator says so, even to a host that would accept it.
        raise ConnectionOptionsError("transport=basic over http would send the password unencrypted (and Windows "
                                     "refuses it by default, AllowUnencrypted=false): use transport=ntlm (messages "
                                     "are encrypted) or scheme=https; to send it anyway, set message_encryption=never")
    if transport in ("ntlm", "basic", "credssp") and (not options.username or options.password is None):
        # pywinrm refuses these itself, but in words that read like the host refusing the credentials.
        raise ConnectionOptionsError("transport=%s needs username and password (or the HYPERV_USERNAME and "
                                     "HYPERV_PASSWORD environment variables)" % transport)
    kwargs = {
        "endpoint": options.endpoint, "transport": transport,
        "username": options.username, "password": options.password,
        "server_cert_validation": "validate" if options.validate_certs else "ignore",
        "message_encryption": options.message_encryption,
        "operation_timeout_sec": options.operation_timeout, "read_timeout_sec": options.read_timeout,
    }
    if options.ca_path:
        kwargs["ca_trust_path"] = options.ca_path
    if transport == "certificate":
        kwargs["cert_pem"] = options.client_cert
        kwargs["cert_key_pem"] = options.client_key
    return kwargs


def advice(options: Options, error: WSManTransportError) -> Optional[str]:
    """What to change when the host refuses the connection as configured, in the user's option names.

    A Windows WinRM service by default offers Negotiate only and refuses unencrypted messages over HTTP
    (AllowUnencrypted=false); most failed first runs are one of these settings.
    """
    scheme, transport = options.scheme, options.transport
    if error.kind == "auth":
        if transport == "basic" and scheme == "http":
            return ("Basic over http is refused unless the host enables Basic and AllowUnencrypted, which Windows "
                    "does not by default: use transport=ntlm (messages are encrypted) or scheme=https")
        if transport == "basic":
            return "Basic works only if enabled on the host, and only for local accounts"
        return ("a local account logs on as HOST\\user or .\\user, a domain account as DOMAIN\\user or "
                "user@domain; it must be allowed to use WinRM (an administrator of the host)")
    if (error.kind == "http" and error.http_status == 500 and scheme == "http"
            and (options.message_encryption == "never" or transport in ("basic", "certificate"))):
        return ("the host refuses unencrypted messages over http (AllowUnencrypted=false): use transport=ntlm "
                "with message_encryption=auto, or scheme=https")
    return None


def _session_factory(kwargs: Dict[str, Any]) -> Callable[[], Any]:
    """Makes pywinrm Protocols; the first is made at once, because pywinrm checks its arguments there and its
    complaints are about options, not the host."""
    if Protocol is None:
        raise ConnectionOptionsError("pywinrm is not installed")
    try:
        spare = [Protocol(**kwargs)]
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise ConnectionOptionsError("pywinrm refused the connection options: %s" % exc) from None

    def session() -> Any:
        try:
            return spare.pop()  # atomic: two threads cannot both take the first one
        except IndexError:
            return Protocol(**kwargs)

    return session


class Connection:
    """A CIM client for root/virtualization/v2 on the host the options name, safe to share between up to
    ``max_concurrent`` threads: its messages go through a pool of that many WinRM sessions (sessions.py). Reads are
    retried by ``retry`` (retry.py; the module's policy by default). Nothing is sent until it is used."""

    def __init__(self, params: Mapping[str, Any], max_concurrent: int = 1, retry: Optional[Retry] = None) -> None:
        if not 1 <= max_concurrent <= MAX_CONCURRENT_LIMIT:
            raise ConnectionOptionsError("max_concurrent must be between 1 and %d, got %d"
                                         % (MAX_CONCURRENT_LIMIT, max_concurrent))
        self.options = Options.from_params(params)
        kwargs = protocol_kwargs(self.options)
        self.pool = SessionPool(_session_factory(kwargs), max_concurrent)
        wsman = WSManClient(self.pool, endpoint=self.options.endpoint, operation_timeout=self.options.operation_timeout,
                            advise=lambda error: advice(self.options, error))
        self.cim = CimClient(wsman, concurrency=max_concurrent, retry=retry or Retry())

    @property
    def endpoint(self) -> str:
        return self.options.endpoint

    def stats(self) -> Dict[str, int]:
        """What the connection cost so far: WS-Man requests sent, WinRM sessions opened, reads sent again."""
        return {"requests": self.pool.requests, "sessions": self.pool.opened, "retries": self.cim.retry.retried}

    def describe(self, error: HypervError) -> str:
        """An error as the task reports it: after the endpoint when the host caused it."""
        return "%s: %s" % (self.endpoint, error) if error.about_host else str(error)

    def close(self) -> None:
        self.pool.close()

    def __enter__(self) -> "Connection":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
