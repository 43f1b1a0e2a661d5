# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""From module options to a CIM client: the WinRM endpoint and pywinrm's Protocol."""

from __future__ import annotations

import traceback
from typing import Any, Mapping, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.retry import Retry
from ansible_collections.hyperv.replica.plugins.module_utils.sessions import SessionPool
from ansible_collections.hyperv.replica.plugins.module_utils.wsman import WSManClient, WSManTransportError

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


class ConnectionOptionsError(ValueError):
    """Options that cannot make a connection, found before any request is sent."""


def endpoint(params: Mapping[str, Any]) -> str:
    scheme = params.get("scheme") or "https"
    host = str(params["hostname"])
    if ":" in host and not host.startswith("["):
        host = "[%s]" % host  # a bare IPv6 address
    port = params.get("port") or DEFAULT_PORTS[scheme]
    path = params.get("path") or "/wsman"
    return "%s://%s:%s/%s" % (scheme, host, port, path.lstrip("/"))


def protocol_kwargs(params: Mapping[str, Any]) -> dict:
    """pywinrm Protocol arguments; checked here so a mistake is reported before the host is contacted."""
    operation_timeout = int(params.get("operation_timeout") or 20)
    read_timeout = int(params.get("read_timeout") or 30)
    if operation_timeout < 1 or read_timeout <= operation_timeout:
        raise ConnectionOptionsError("read_timeout (%d) must be greater than operation_timeout (%d), which must be "
                                     "at least 1" % (read_timeout, operation_timeout))
    transport = params.get("transport") or "ntlm"
    if transport == "certificate" and not (params.get("client_cert") and params.get("client_key")):
        raise ConnectionOptionsError("transport=certificate needs client_cert and client_key")
    scheme = params.get("scheme") or "https"
    if transport == "basic" and scheme == "http" and params.get("message_encryption") != "never":
        # Basic puts the password in every request, readable by anyone on the path: never send it over plain http
        # unless the operator says so, even to a host that would accept it.
        raise ConnectionOptionsError("transport=basic over http would send the password unencrypted (and Windows "
                                     "refuses it by default, AllowUnencrypted=false): use transport=ntlm (messages "
                                     "are encrypted) or scheme=https; to send it anyway, set message_encryption=never")
    if transport in ("ntlm", "basic", "credssp") and (not params.get("username") or params.get("password") is None):
        # pywinrm refuses these itself, but in words that read like the host refusing the credentials.
        raise ConnectionOptionsError("transport=%s needs username and password (or the HYPERV_USERNAME and "
                                     "HYPERV_PASSWORD environment variables)" % transport)
    kwargs = {
        "endpoint": endpoint(params), "transport": transport,
        "username": params.get("username"), "password": params.get("password"),
        "server_cert_validation": "validate" if params.get("validate_certs", True) else "ignore",
        "message_encryption": params.get("message_encryption") or "auto",
        "operation_timeout_sec": operation_timeout, "read_timeout_sec": read_timeout,
    }
    if params.get("ca_path"):
        kwargs["ca_trust_path"] = params["ca_path"]
    if transport == "certificate":
        kwargs["cert_pem"] = params["client_cert"]
        kwargs["cert_key_pem"] = params["client_key"]
    return kwargs


def advice(params: Mapping[str, Any], error: WSManTransportError) -> Optional[str]:
    """What to change when the host refuses the connection as configured, in the user's option names.

    A Windows WinRM service by default offers Negotiate only and refuses unencrypted messages over HTTP
    (AllowUnencrypted=false); most failed first runs are one of these settings.
    """
    scheme = params.get("scheme") or "https"
    transport = params.get("transport") or "ntlm"
    if error.kind == "auth":
        if transport == "basic" and scheme == "http":
            return ("Basic over http is refused unless the host enables Basic and AllowUnencrypted, which Windows "
                    "does not by default: use transport=ntlm (messages are encrypted) or scheme=https")
        if transport == "basic":
            return "Basic works only if enabled on the host, and only for local accounts"
        return ("a local account logs on as HOST\\user or .\\user, a domain account as DOMAIN\\user or "
                "user@domain; it must be allowed to use WinRM (an administrator of the host)")
    if (error.kind == "http" and error.http_status == 500 and scheme == "http"
            and (params.get("message_encryption") == "never" or transport in ("basic", "certificate"))):
        return ("the host refuses unencrypted messages over http (AllowUnencrypted=false): use transport=ntlm "
                "with message_encryption=auto, or scheme=https")
    return None


def cim_client(params: Mapping[str, Any], max_concurrent: int = 1, retry: Optional[Retry] = None) -> CimClient:
    """A CIM client for root/virtualization/v2 on the host the options name, safe to share between up to
    ``max_concurrent`` threads: its messages go through a pool of that many WinRM sessions (sessions.py)."""
    if Protocol is None:
        raise ConnectionOptionsError("pywinrm is not installed")
    if not 1 <= max_concurrent <= MAX_CONCURRENT_LIMIT:
        raise ConnectionOptionsError("max_concurrent must be between 1 and %d, got %d"
                                     % (MAX_CONCURRENT_LIMIT, max_concurrent))
    kwargs = protocol_kwargs(params)
    try:
        first = Protocol(**kwargs)  # pywinrm checks its arguments here; its complaints are about options
    except Exception as exc:  # pylint: disable=broad-exception-caught
        raise ConnectionOptionsError("pywinrm refused the connection options: %s" % exc) from None
    spare = [first]

    def session() -> Any:
        try:
            return spare.pop()  # atomic: two threads cannot both take the first one
        except IndexError:
            return Protocol(**kwargs)

    pool = SessionPool(session, max_concurrent)
    return CimClient(WSManClient(pool, endpoint=kwargs["endpoint"],
                                 operation_timeout=kwargs["operation_timeout_sec"],
                                 advise=lambda error: advice(params, error)), concurrency=max_concurrent,
                     retry=retry or Retry())


def session_pool(cim: CimClient) -> SessionPool:
    """The pool behind a client made by cim_client: how many sessions it opened and messages it sent."""
    sender = cim.wsman.sender
    if not isinstance(sender, SessionPool):
        raise TypeError("this CIM client was not made by connection.cim_client")
    return sender
