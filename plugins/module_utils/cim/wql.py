# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Building WQL text from untrusted values.

Every value that reaches a query goes through ``literal`` (or ``object_path``), so a VM name such as
``x' OR Name <> '`` stays one string: WQL string literals end only at an unescaped quote, and backslash
escapes both the quote and itself.
"""

from __future__ import annotations

import re
from typing import Iterable, Iterator, List, Mapping, Sequence, TypeVar

from ansible_collections.hyperv.replica.plugins.module_utils.errors import HypervError

T = TypeVar("T")

# Characters XML 1.0 cannot carry at all, and control characters no Hyper-V name contains: refusing them
# is clearer than sending a request Windows would reject as malformed.
_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff\r\n]")
_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class UnfitValue(HypervError, ValueError):
    """A value no WQL literal can carry: no VM, point or job can have it either."""


def _check(value: str) -> str:
    if not isinstance(value, str):
        raise TypeError("WQL values must be strings, not %s" % type(value).__name__)
    bad = _FORBIDDEN.search(value)
    if bad:
        raise UnfitValue("%r contains the control character U+%04X, which a WQL query cannot carry"
                         % (value, ord(bad.group())))
    return value


def literal(value: str) -> str:
    """A single-quoted WQL string literal."""
    return "'" + _check(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def prop(name: str) -> str:
    """A property or class name, checked rather than escaped: WQL has no quoting for identifiers."""
    if not _PROPERTY.match(name):
        raise ValueError("%r is not a WQL identifier" % name)
    return name


def any_equal(name: str, values: Iterable[str]) -> str:
    """``(Name = 'a' OR Name = 'b')``."""
    terms = ["%s = %s" % (prop(name), literal(v)) for v in values]
    if not terms:
        raise ValueError("any_equal needs at least one value")
    return "(" + " OR ".join(terms) + ")"


def like_literal(prefix: str) -> str:
    """A LIKE pattern matching values that start with ``prefix``: WQL has no escape character, so the pattern's
    own metacharacters (% _ [) are written as one-character sets."""
    escaped = "".join("[%s]" % c if c in "%_[" else c for c in _check(prefix))
    return literal(escaped + "%")


def any_starting(name: str, prefixes: Iterable[str]) -> str:
    """``(Name LIKE 'a%' OR Name LIKE 'b%')``."""
    terms = ["%s LIKE %s" % (prop(name), like_literal(p)) for p in prefixes]
    if not terms:
        raise ValueError("any_starting needs at least one prefix")
    return "(" + " OR ".join(terms) + ")"


def select(class_name: str, where: str = "") -> str:
    return "SELECT * FROM %s%s" % (prop(class_name), " WHERE " + where if where else "")


def object_path(class_name: str, keys: Mapping[str, str]) -> str:
    """``Class.Key="value",...`` as used in ``ASSOCIATORS OF {...}``; values double-quoted and escaped."""
    parts = ['%s="%s"' % (prop(k), _check(v).replace("\\", "\\\\").replace('"', '\\"')) for k, v in keys.items()]
    return "%s.%s" % (prop(class_name), ",".join(parts))


def associators(source_class: str, keys: Mapping[str, str], assoc_class: str, result_class: str) -> str:
    return "ASSOCIATORS OF {%s} WHERE AssocClass = %s ResultClass = %s" % (
        object_path(source_class, keys), prop(assoc_class), prop(result_class))


def chunks(values: Sequence[T], size: int) -> Iterator[List[T]]:
    """Split long OR-lists so one query stays far below the envelope size."""
    for start in range(0, len(values), size):
        yield list(values[start:start + size])
