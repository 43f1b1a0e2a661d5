"""WQL text built from untrusted values stays one literal."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql


@pytest.mark.parametrize("value, expected", [
    ("web01", "'web01'"),
    ("it's \"x\" \\ y", "'it\\'s \"x\" \\\\ y'"),
    ("x' OR Name <> '", "'x\\' OR Name <> \\''"),
    ("\\", "'\\\\'"),
    ("Serveur-été ☃", "'Serveur-été ☃'"),
])
def test_literal_escapes_quote_and_backslash(value, expected):
    assert wql.literal(value) == expected


def _unescape(literal: str) -> str:
    """A reader of WQL literals as Windows reads them, to show the round trip is exact."""
    assert literal[0] == literal[-1] == "'"
    out, i, body = [], 0, literal[1:-1]
    while i < len(body):
        if body[i] == "\\":
            i += 1
        elif body[i] == "'":
            raise AssertionError("unescaped quote ends the literal early")
        out.append(body[i])
        i += 1
    return "".join(out)


@pytest.mark.parametrize("value", ["a'b", "a\\'b", "\\'", "'' OR 1=1 --", "x\\", "\"'\"", "tab\there"])
def test_literal_round_trips(value):
    assert _unescape(wql.literal(value)) == value


@pytest.mark.parametrize("value", ["nul\x00", "bell\x07", "new\nline", "cr\r", "\ud800"])
def test_literal_refuses_what_xml_or_wql_cannot_carry(value):
    with pytest.raises(ValueError, match="control character"):
        wql.literal(value)


def test_any_equal_and_select():
    where = wql.any_equal("ElementName", ["a", "b'c"])
    assert where == "(ElementName = 'a' OR ElementName = 'b\\'c')"
    assert wql.select("Msvm_ComputerSystem", where) == "SELECT * FROM Msvm_ComputerSystem WHERE " + where
    assert wql.select("Msvm_ReplicationService") == "SELECT * FROM Msvm_ReplicationService"


@pytest.mark.parametrize("name", ["Name = 'x' OR 1", "a b", "", "1abc", "x;y"])
def test_identifiers_are_checked(name):
    with pytest.raises(ValueError):
        wql.prop(name)


def test_associators_escapes_object_path_values():
    text = wql.associators("Msvm_ComputerSystem", {"CreationClassName": "Msvm_ComputerSystem", "Name": 'a"b\\c'},
                           "Msvm_SnapshotOfVirtualSystem", "Msvm_VirtualSystemSettingData")
    assert text == ('ASSOCIATORS OF {Msvm_ComputerSystem.CreationClassName="Msvm_ComputerSystem",Name="a\\"b\\\\c"} '
                    'WHERE AssocClass = Msvm_SnapshotOfVirtualSystem ResultClass = Msvm_VirtualSystemSettingData')


def test_chunks():
    assert list(wql.chunks([1, 2, 3, 4, 5], 2)) == [[1, 2], [3, 4], [5]]
    assert not list(wql.chunks([], 3))
