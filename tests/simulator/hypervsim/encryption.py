"""WinRM message encryption over HTTP ([MS-WSMV] 2.2.9.1.1, wire notes 5.3 and 6.2), the server's half.

A sealed message is a two-part MIME body with the boundary "Encrypted Boundary": a part naming the protocol and
the plaintext length, then `application/octet-stream` holding a 4-byte little-endian signature length, the
signature and the sealed bytes.  The response to a sealed request is sealed the same way, faults included.
"""

import re
import struct
from typing import Any

PROTOCOL = "application/HTTP-SPNEGO-session-encrypted"
BOUNDARY = b"--Encrypted Boundary"
CONTENT_TYPE = f'multipart/encrypted;protocol="{PROTOCOL}";boundary="Encrypted Boundary"'
_OCTET = b"\tContent-Type: application/octet-stream\r\n"
_LENGTH = re.compile(rb"Length=(\d+)")


class BadEncryption(ValueError):
    """A body that claims to be sealed but cannot be opened: wrong framing, signature or length."""


def is_sealed(content_type: str) -> bool:
    """Whether a Content-Type is WinRM's encrypted multipart (compared case-insensitively, as HTTP does)."""
    lowered = content_type.lower()
    return lowered.startswith("multipart/encrypted") and PROTOCOL.lower() in lowered


def open_sealed(context: Any, body: bytes) -> bytes:
    """The plaintext SOAP envelope of a sealed request body."""
    parts = [part for part in body.split(BOUNDARY + b"\r\n") if part]
    if len(parts) != 2:
        raise BadEncryption(f"expected 2 MIME parts, got {len(parts)}")
    header, payload = parts
    if PROTOCOL.encode() not in header:
        raise BadEncryption("the first part does not name the encryption protocol")
    length = _LENGTH.search(header)
    if length is None:
        raise BadEncryption("no Length= in the first part")
    end = BOUNDARY + b"--\r\n"
    if not payload.startswith(_OCTET) or not payload.endswith(end):
        raise BadEncryption("the second part is not a terminated application/octet-stream")
    blob = payload[len(_OCTET):-len(end)]
    if len(blob) < 4:
        raise BadEncryption("no signature length")
    sig_len = struct.unpack("<I", blob[:4])[0]
    if sig_len > len(blob) - 4:
        raise BadEncryption("signature length past the end of the data")
    try:
        plain = context.unwrap_winrm(blob[4:4 + sig_len], blob[4 + sig_len:])
    except Exception as exc:  # pylint: disable=broad-exception-caught  # any pyspnego failure is a bad message
        raise BadEncryption(f"cannot unseal: {exc}") from exc
    if len(plain) != int(length.group(1)):
        raise BadEncryption("the plaintext length does not match Length=")
    return plain


def seal(context: Any, plain: bytes) -> bytes:
    """A sealed response body for a plaintext SOAP envelope."""
    wrapped = context.wrap_winrm(plain)
    return (BOUNDARY + b"\r\n"
            + f"\tContent-Type: {PROTOCOL}\r\n".encode()
            + f"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length={len(plain)}\r\n".encode()
            + BOUNDARY + b"\r\n" + _OCTET
            + struct.pack("<I", len(wrapped.header)) + wrapped.header + wrapped.data
            + BOUNDARY + b"--\r\n")
