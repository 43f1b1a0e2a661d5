"""Property tests: no VM name, however hostile, changes a query's shape (hypothesis, against the simulator's WQL
parser and against real lookups on the simulator)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.hyperv.replica.plugins.module_utils import connection
from ansible_collections.hyperv.replica.plugins.module_utils.cim import wql
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VmLookupError, find_vms

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "simulator"))
from hypervsim import Simulator  # noqa: E402  pylint: disable=wrong-import-position
from hypervsim import wql as sim_wql  # noqa: E402  pylint: disable=wrong-import-position

# Names built to break a naive query: quotes, backslashes, WQL keywords and operators, wildcards, unicode.
HOSTILE = ["x' OR Name <> '", "' OR 1=1 --", "a\\'b", "back\\slash\\", '"dq" OR ElementName LIKE "%"', "%", "_",
           "[a-z]", "sql01'); DROP", "ümlaut-VM", "名前", "tab\there", "  spaced  ", "emoji-\U0001F600"]
DECOYS = ["web01", "sql01", "a", "x"]
CARRIED = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"), max_size=40)


def _carried(text: str) -> bool:
    try:
        wql.literal(text)
    except ValueError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(CARRIED)
def test_a_literal_parses_back_to_exactly_one_comparison_with_the_same_value(value):
    if not _carried(value):
        return
    query = sim_wql.parse(wql.select("Msvm_ComputerSystem", wql.any_equal("ElementName", [value])))
    assert isinstance(query.where, sim_wql.Compare)
    assert (query.where.prop, query.where.op, query.where.value) == ("ElementName", "=", value)


@settings(max_examples=100, deadline=None)
@given(st.lists(CARRIED.filter(_carried), min_size=1, max_size=5))
def test_an_or_list_keeps_one_comparison_per_value(values):
    query = sim_wql.parse(wql.select("Msvm_ComputerSystem", wql.any_equal("ElementName", values)))
    found, todo = [], [query.where]
    while todo:
        node = todo.pop()
        if isinstance(node, sim_wql.BoolOp):
            assert node.op == "OR"
            todo += [node.right, node.left]
        else:
            found.append((node.prop, node.op, node.value))
    assert sorted(found) == sorted(("ElementName", "=", v) for v in values)


@pytest.fixture(scope="module")
def cim():
    vms = [{"name": n, "mode": "replica", "state": "replicating", "power": "off"} for n in HOSTILE + DECOYS]
    with Simulator({"hosts": [{"name": "HV-WQL01", "users": [{"username": "u", "password": "p"}], "vms": vms}]}) as sim:
        port = int(sim.endpoint.rsplit(":", 1)[1].split("/", 1)[0])
        yield connection.Connection({"hostname": "127.0.0.1", "port": port, "scheme": "http", "transport": "ntlm",
                                     "username": "u", "password": "p"}).cim


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.sampled_from(HOSTILE + DECOYS), st.text(max_size=30)))
def test_a_lookup_finds_exactly_the_vm_of_that_name_or_fails_cleanly(cim, name):
    existing = [n for n in HOSTILE + DECOYS if n.lower() == name.strip().lower()]
    if existing:
        (vm,) = find_vms(cim, [name])
        assert vm.name == existing[0]
        return
    # Unknown names, and names no WQL literal can carry (control characters), are a lookup error naming them,
    # never another VM and never a traceback.
    with pytest.raises(VmLookupError) as caught:
        find_vms(cim, [name])
    assert "no VM named" in str(caught.value) or "control character" in str(caught.value)
