"""Compact XML text helpers: escaping the way Windows' WinRM writes it (wire notes 2.5)."""

import re

# WinRM replaces control characters other than TAB, LF and CR by '?' (MS-WSMV 3.1.4.1.25).
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")

_TEXT_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;"}
_TEXT_RE = re.compile("[&<>\"']")


def text(value: str) -> str:
    """Escape character data; captures show &quot; and &apos; in element text as well."""
    return _TEXT_RE.sub(lambda m: _TEXT_ESCAPES[m.group(0)], _CONTROL.sub("?", value))


def attr(value: str) -> str:
    """Escape an attribute value written between double quotes."""
    return text(value)


def element(tag: str, content: str = "", attrs: str = "") -> str:
    """<tag attrs>content</tag>; Windows writes empty strings as start/end pairs, not self-closed."""
    space = " " if attrs else ""
    return f"<{tag}{space}{attrs}>{content}</{tag}>"
