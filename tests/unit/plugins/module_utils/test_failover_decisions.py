"""docs/failover-decisions.md is the specification of what the failover module does per mode, replication state and
power state: every combination is covered by exactly one row of its table, and the module decides as the row says,
with the row's exact message."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.failover import FAILED_OVER, REVERTED, plan
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM

DOC = Path(__file__).resolve().parents[4] / "docs" / "failover-decisions.md"
MODES = {"None": 0, "Primary": 1, "Replica": 2, "Test Replica": 3, "Extended Replica": 4}
POWERS = {"off": 3, "running": 2, "paused": 9, "saved": 6}
STATES = tuple(range(22))
DESIRED = {"failed_over": (FAILED_OVER, False), "failed_over resume_replication": (FAILED_OVER, True),
           "reverted": (REVERTED, False)}
LAST = datetime(2026, 11, 21, 9, 55, tzinfo=timezone.utc)


def _rows(heading):
    """The rows of the first table after ``heading``, as lists of cells (header and separator left out)."""
    lines = DOC.read_text(encoding="utf-8").split(heading, 1)[1].splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("|"))
    block = list(itertools.takewhile(lambda line: line.startswith("|"), lines[start:]))
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block[2:]]


def _values(cell, names):
    if cell == "any":
        return tuple(names.values()) if isinstance(names, dict) else names
    items = [item.strip() for item in cell.split(",")]
    return tuple(names[item] if isinstance(names, dict) else int(item) for item in items)


def decisions():
    """(desired, mode, state, power) -> (decision, source) for every combination, from the table."""
    found = {}
    for desired, mode, state, power, decision, source in _rows("## The table"):
        assert source, "every row names its source"
        for combination in itertools.product([desired], _values(mode, MODES), _values(state, STATES),
                                             _values(power, POWERS)):
            assert combination not in found, "two rows cover %r" % (combination,)
            found[combination] = decision
    return found


MESSAGES = dict(_rows("## Messages"))
TABLE = decisions()


def test_the_table_covers_every_combination_once():
    expected = set(itertools.product(DESIRED, MODES.values(), STATES, POWERS.values()))
    assert set(TABLE) == expected  # and decisions() refused any combination covered twice


def machine(mode, state, power, last=LAST):
    return VM(id="5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D", name="web01", mode=mode, state=state, power=power, health=1,
              last_replication=last)


def expected_error(key, vm):
    return MESSAGES[key].format(vm=vm.label, state=vm.state_name, power=vm.power_name)


@pytest.mark.parametrize("desired, mode, state, power", sorted(TABLE))
def test_the_module_decides_as_the_table_says(desired, mode, state, power):
    decision = TABLE[(desired, mode, state, power)]
    vm = machine(mode, state, power)
    wanted, resume = DESIRED[desired]
    result = plan(vm, wanted, resume)
    kind, _sep, what = decision.partition(" ")
    if kind == "unchanged":
        assert (result.steps, result.error) == ([], "")
    elif kind == "calls":
        assert [step.method.name for step in result.steps] == [name.strip() for name in what.split(",")]
        assert result.error == ""
    else:
        assert kind == "error" and result.steps == []
        assert result.error == expected_error(what, vm)


@pytest.mark.parametrize("mode, state, resume", [(2, 3, False), (4, 15, False), (2, 7, True), (4, 10, True)])
def test_a_replica_that_never_received_a_replication_is_refused(mode, state, resume):
    vm = machine(mode, state, 3, last=None)
    result = plan(vm, FAILED_OVER, resume)
    assert result.steps == [] and result.error == expected_error("never_replicated", vm)


def test_the_turn_off_and_resume_steps_ask_for_the_right_states():
    (turn_off, revert) = plan(machine(2, 5, 2), REVERTED).steps
    assert dict(turn_off.inputs) == {"RequestedState": 3} and revert.method.name == "RevertFailover"
    (resume, failover) = plan(machine(2, 7, 3), FAILED_OVER, True).steps
    assert dict(resume.inputs) == {"RequestedState": 3} and failover.method.name == "InitiateFailover"
    assert set(re.findall(r"\{(\w+)\}", " ".join(MESSAGES.values()))) <= {"vm", "state", "power"}
