"""Logon as the WinRM listener does it: Basic, or Negotiate (NTLM) with a security context per TCP connection.

Windows offers what the service config enables (wire notes 5.3): `WWW-Authenticate: Negotiate` always, and
`Basic realm="WSMAN"` only when Basic is on.  Basic is refused on plain HTTP unless AllowUnencrypted is true
(a 401, as reported for pywinrm against such hosts).  Negotiate is accepted as raw NTLM tokens (pywinrm,
requests-ntlm) or SPNEGO-wrapped NTLM (pypsrp); pyspnego is the acceptor.  A connection that completed the
handshake stays authenticated, as HTTP.sys keeps it: later requests carry no Authorization header.  on_logon is
called once per connection, at its first successful logon (the completed handshake, or the first accepted Basic
request), so a client that keeps one connection for many requests logs on once.

pyspnego's NTLM acceptor reads the accounts from the file named by the NTLM_USER_FILE environment variable.
That variable is process-wide while hosts have their own accounts, so each host writes its own file and the
variable is set only while that host's context takes a step, under one lock.
"""

import base64
import binascii
import contextlib
import os
import tempfile
import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from .fleet import User

try:
    import spnego
    import spnego.exceptions
    from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1  # the hashes of the account file pyspnego reads
except ImportError:  # Basic still works; Negotiate answers as a host whose acceptor failed.
    spnego = None

_ENV_LOCK = threading.Lock()


class Rejected(Exception):
    """The request is not authenticated: answer 401 (with the challenge token, if any) and process nothing."""

    def __init__(self, token: bytes | None = None) -> None:
        super().__init__("logon failed")
        self.token = token


@dataclass
class ConnectionAuth:
    """Per-TCP-connection state: the Negotiate context in progress or established, and who logged on."""

    context: Any = None
    user: User | None = None
    scheme: str = ""        # "Basic" or "Negotiate" (or "NTLM" when the client asked for it by that name)
    logged_on: bool = False  # a logon has succeeded on this connection (it is counted once)

    @property
    def can_seal(self) -> bool:
        """Whether WinRM message encryption is possible on this connection (an established Negotiate context)."""
        return self.scheme in ("Negotiate", "NTLM") and self.user is not None


@dataclass
class Authenticator:
    """The logon policy of one simulated host."""

    host_name: str
    users: list[User]
    basic_auth: bool = False
    allow_unencrypted: bool = False
    on_failure: Callable[[], None] = lambda: None
    on_logon: Callable[[], None] = lambda: None
    _user_file: str | None = field(default=None, repr=False)

    def challenge_headers(self, token: bytes | None = None, scheme: str = "Negotiate") -> list[tuple[str, str]]:
        """WWW-Authenticate headers of a 401: a continuation token, or every scheme the service offers."""
        if token:
            return [("WWW-Authenticate", f"{scheme} {base64.b64encode(token).decode('ascii')}")]
        headers = [("WWW-Authenticate", "Negotiate")]
        if self.basic_auth:
            headers.append(("WWW-Authenticate", 'Basic realm="WSMAN"'))
        return headers

    def logon(self, conn: ConnectionAuth, authorization: str, secure: bool) -> bytes | None:
        """Authenticate one request; returns a final Negotiate token to send with the response, if any.

        Raises Rejected for a 401.  `secure` is true over HTTPS.
        """
        scheme, _sep, value = authorization.strip().partition(" ")
        if not scheme:
            if conn.user is not None and conn.scheme != "Basic":
                return None          # the connection is already authenticated (Negotiate is connection-based)
            raise Rejected()
        if scheme.lower() == "basic":
            conn.user, conn.scheme, conn.context = self._basic(value, secure), "Basic", None
            self._logged_on(conn)
            return None
        if scheme.lower() in ("negotiate", "ntlm"):
            token = self._negotiate(conn, "NTLM" if scheme.lower() == "ntlm" else "Negotiate", value)
            self._logged_on(conn)
            return token
        self.on_failure()
        raise Rejected()

    def _logged_on(self, conn: ConnectionAuth) -> None:
        """Basic sends credentials with every request and a client may start a new handshake: count only the first."""
        if not conn.logged_on:
            conn.logged_on = True
            self.on_logon()

    # ------------------------------------------------------------ Basic

    def _basic(self, value: str, secure: bool) -> User:
        if not self.basic_auth or not (secure or self.allow_unencrypted):
            self.on_failure()
            raise Rejected()
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            self.on_failure()
            raise Rejected() from None
        username, _colon, password = decoded.partition(":")
        user = self.check_password(username, password)
        if user is None:
            self.on_failure()
            raise Rejected()
        return user

    def check_password(self, username: str, password: str) -> User | None:
        """Local-account logon: user, HOST\\user or .\\user; names case-insensitive, passwords exact."""
        user = self.account(username)
        return user if user is not None and user.password == password else None

    def account(self, username: str) -> User | None:
        """The local account a (possibly qualified) user name refers to."""
        domain, sep, bare = username.rpartition("\\")
        if sep and domain.lower() not in (".", self.host_name.lower()):
            return None
        for user in self.users:
            if user.username.lower() == bare.lower():
                return user
        return None

    # ------------------------------------------------------------ Negotiate / NTLM

    def _negotiate(self, conn: ConnectionAuth, scheme: str, value: str) -> bytes | None:
        try:
            token = base64.b64decode(value.strip(), validate=True)
        except binascii.Error:
            token = b""
        if not token or spnego is None:
            self.on_failure()
            raise Rejected()
        if conn.context is None or conn.user is not None:
            conn.user, conn.scheme = None, scheme      # a new handshake on this connection starts over
            conn.context = self._with_user_file(self._new_context)
        try:
            out = self._with_user_file(lambda: conn.context.step(token))
        except (spnego.exceptions.SpnegoError, ValueError, KeyError, IndexError) as exc:
            conn.context = None
            self.on_failure()
            raise Rejected() from exc
        if not conn.context.complete:
            raise Rejected(out)
        user = self.account(conn.context.client_principal or "")
        if user is None:
            conn.context = None
            self.on_failure()
            raise Rejected()
        conn.user = user
        return out

    def _new_context(self) -> Any:
        # SPNEGO, which also takes raw NTLM tokens; without Kerberos on the machine NTLM is the only mechanism.
        return spnego.server(hostname=self.host_name, service="HTTP", protocol="negotiate")

    def _with_user_file(self, step: Callable[[], Any]) -> Any:
        with _ENV_LOCK, self._user_file_env():
            return step()

    @contextlib.contextmanager
    def _user_file_env(self) -> Iterator[None]:
        path = self._ensure_user_file()
        previous = os.environ.get("NTLM_USER_FILE")
        os.environ["NTLM_USER_FILE"] = path
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop("NTLM_USER_FILE", None)
            else:
                os.environ["NTLM_USER_FILE"] = previous

    def _ensure_user_file(self) -> str:
        """Accounts in the smbpasswd form pyspnego reads, for each name a local account logs on by.

        The hash form, not DOMAIN:USER:PASSWORD, so that a password may contain a colon.
        """
        if self._user_file is None or not os.path.exists(self._user_file):
            lines = []
            for user in self.users:
                lm_hash = lmowfv1(user.password).hex().upper()
                nt_hash = ntowfv1(user.password).hex().upper()
                for prefix in ("", ".\\", f"{self.host_name}\\"):
                    lines.append(f"{prefix}{user.username}:0:{lm_hash}:{nt_hash}:[U]:LCT-00000000")
            handle, path = tempfile.mkstemp(prefix="hypervsim-ntlm-", suffix=".txt")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write("\n".join(lines) + "\n")
            self._user_file = path
        return self._user_file

    def close(self) -> None:
        """Remove the account file (it holds passwords)."""
        if self._user_file is not None:
            with contextlib.suppress(OSError):
                os.remove(self._user_file)
            self._user_file = None
