"""The drill's pre-check: which VMs are fit for a drill, and the reason given for each one that is not."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.report.precheck import precheck, precheck_all
from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import human_duration

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)


def info(**changes):
    vm = {"name": "web01", "id": "5F1D2A4B-9C3E-4F7A-8B6D-1E2F3A4B5C6D", "mode": "Replica", "state": "Replicating",
          "health": "Normal", "power_state": "Off", "last_replication_time": "2026-11-21T09:55:00+00:00"}
    vm.update(changes)
    return vm


def test_a_healthy_replica_passes_with_its_facts_kept():
    result = precheck(info(), NOW, 60)
    assert result == {"name": "web01", "id": "5F1D2A4B-9C3E-4F7A-8B6D-1E2F3A4B5C6D", "passed": True, "problems": [],
                      "mode": "Replica", "state": "Replicating", "health": "Normal", "power_state": "Off",
                      "last_replication_time": "2026-11-21T09:55:00+00:00"}


@pytest.mark.parametrize("changes, words", [
    ({"mode": "Primary"}, "replication mode is Primary"),
    ({"mode": "Test Replica"}, "replication mode is Test Replica"),
    ({"state": "Recovered"}, "already failed over"),
    ({"state": "Suspended"}, "Resume-VMReplication"),
    ({"state": "Resynchronizing"}, "not Replicating"),
    ({"health": "Critical"}, "health is Critical"),
    ({"power_state": "Running"}, "the VM is Running"),
    ({"last_replication_time": None}, "never replicated"),
    ({"last_replication_time": "2026-11-21T06:50:00+00:00"}, "3 h 10 min ago (allowed: 1 h)"),
])
def test_each_problem_fails_the_vm_and_says_why(changes, words):
    result = precheck(info(**changes), NOW, 60)
    assert result["passed"] is False
    assert len(result["problems"]) == 1
    assert words in result["problems"][0]


def test_warning_health_and_extended_replica_pass():
    assert precheck(info(health="Warning", mode="Extended Replica"), NOW, 60)["passed"] is True


def test_every_problem_is_listed():
    result = precheck(info(health="Critical", power_state="Running", state="Suspended"), NOW, 60)
    assert len(result["problems"]) == 3


def test_the_age_limit_is_inclusive():
    at_limit = info(last_replication_time="2026-11-21T09:00:00Z")
    assert precheck(at_limit, NOW, 60)["passed"] is True
    assert precheck(at_limit, NOW, 59.5)["passed"] is False


def test_without_named_vms_primary_vms_are_left_out_not_failed():
    vms = [info(name="a"), info(name="dc", mode="Primary"), info(name="b", mode="Extended Replica")]
    assert [r["name"] for r in precheck_all(vms, 60, replica_only=True, now=NOW)] == ["a", "b"]
    named = precheck_all(vms, 60, replica_only=False, now=NOW)
    assert [r["passed"] for r in named] == [True, False, True]


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (40.4, "40 s"), (60, "1 min"), (302, "5 min 2 s"),
                                           (3600, "1 h"), (11400, "3 h 10 min")])
def test_human_duration(seconds, text):
    assert human_duration(seconds) == text
