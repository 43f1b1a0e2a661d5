"""Answers no Windows host sends, for the `body:` fault rule: what a hostile or broken endpoint (a man in the middle,
a proxy that cuts the stream, a server that is not WinRM) could put in a 200 response instead of the real answer.

    dtd               an entity-expansion bomb ("billion laughs") in an internal DTD
    external_entity   an entity that names a local file (XXE)
    huge              a well-formed envelope of several megabytes, far above any MaxEnvelopeSize
    truncated         the first half of a well-formed envelope
    wrong_namespace   a SOAP envelope in a namespace that is not SOAP 1.2
"""

from . import ns

KINDS = ("dtd", "external_entity", "huge", "truncated", "wrong_namespace")
HUGE_BYTES = 6 * 1024 * 1024

_ENVELOPE = f'<s:Envelope xmlns:s="{ns.SOAP}"><s:Body>%s</s:Body></s:Envelope>'


def body(kind: str) -> bytes:
    if kind == "dtd":
        levels = ['<!ENTITY l0 "lol">'] + [f'<!ENTITY l{i} "{("&l%d;" % (i - 1)) * 10}">' for i in range(1, 10)]
        return (f'<?xml version="1.0"?><!DOCTYPE s:Envelope [{"".join(levels)}]>' + _ENVELOPE % "&l9;").encode()
    if kind == "external_entity":
        return ('<?xml version="1.0"?><!DOCTYPE s:Envelope [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
                + _ENVELOPE % "&x;").encode()
    if kind == "huge":
        return (_ENVELOPE % ("<p:Filler>" + "x" * HUGE_BYTES + "</p:Filler>")).encode()
    if kind == "truncated":
        response = f'<n:EnumerateResponse xmlns:n="{ns.ENUMERATION}"/>'
        whole = (_ENVELOPE % response).encode()
        return whole[:len(whole) // 2]
    if kind == "wrong_namespace":
        return b'<s:Envelope xmlns:s="urn:not-soap"><s:Body/></s:Envelope>'
    raise ValueError(f"unknown hostile body {kind!r}")
