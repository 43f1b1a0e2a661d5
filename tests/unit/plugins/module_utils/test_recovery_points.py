"""Choosing the recovery point a failover goes to: by time, by kind, by id or name, and the errors that list the
VM's points; in the domain directly and through FailoverRun against the simulator."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import recovery_points
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.recovery_points import (
    RecoveryPoint, RecoveryPointError, choose)
from ansible_collections.hyperv.replica.plugins.module_utils import timefmt
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.failover import FailoverRun, Request
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.replication_info import read_info
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM
from ansible_collections.hyperv.replica.tests.unit.plugins import simhost
from ansible_collections.hyperv.replica.tests.unit.plugins.simhost import vm

T0 = datetime(2026, 11, 21, 10, 0, tzinfo=timezone.utc)
VM_A = VM(id="5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D", name="a", mode=2, state=3, power=3, health=1)
POINTS = [  # newest first, as points_by_vm returns them
    RecoveryPoint("Microsoft:1", "a-std-1h", "standard", T0 - timedelta(hours=1)),
    RecoveryPoint("Microsoft:2", "a-app-2h", "application_consistent", T0 - timedelta(hours=2)),
    RecoveryPoint("Microsoft:3", "a-std-3h", "standard", T0 - timedelta(hours=3)),
]


def parse_time(text):
    return timefmt.parse_zoned_time(text, "recovery_point_before")


@pytest.mark.parametrize("text, expected", [
    ("2026-11-21T10:00:00Z", T0),
    ("2026-11-21T11:30:00+01:30", T0),
    ("2026-11-21 10:00:00.000+00:00", T0),
    ("20261121T100000Z", T0),
])
def test_parse_time_needs_a_zone(text, expected):
    assert parse_time(text) == expected


@pytest.mark.parametrize("text, words", [
    ("2026-11-21T10:00:00", "no time zone"),
    ("2026-11-21", "no time zone"),
    ("yesterday", "not an ISO 8601 time"),
    ("2026-13-01T00:00:00Z", "not an ISO 8601 time"),
])
def test_parse_time_refuses_what_it_cannot_place(text, words):
    with pytest.raises(ValueError) as failure:
        parse_time(text)
    assert words in str(failure.value) and text in str(failure.value)


def test_before_picks_the_newest_point_at_or_before():
    assert choose(POINTS, VM_A, "latest", T0).id == "Microsoft:1"
    assert choose(POINTS, VM_A, "latest", T0 - timedelta(hours=1)).id == "Microsoft:1"  # at: included
    assert choose(POINTS, VM_A, "latest", T0 - timedelta(hours=1, seconds=1)).id == "Microsoft:2"
    # Zones compare as instants.
    assert choose(POINTS, VM_A, "latest", parse_time("2026-11-21T09:30:00+02:00")).id == "Microsoft:3"


def test_before_every_point_lists_them():
    with pytest.raises(RecoveryPointError) as failure:
        choose(POINTS, VM_A, "latest", T0 - timedelta(days=1))
    text = str(failure.value)
    assert "'a'" in text and VM_A.id in text and "at or before 2026-11-20T10:00:00+00:00" in text
    assert all(p.name in text and p.id in text for p in POINTS)


def test_by_kind_id_and_name():
    assert choose(POINTS, VM_A, "latest_application_consistent").name == "a-app-2h"
    assert choose(POINTS, VM_A, "MICROSOFT:3").name == "a-std-3h"  # ids without regard to case, as WMI keys
    assert choose(POINTS, VM_A, "a-std-1h").id == "Microsoft:1"
    with pytest.raises(RecoveryPointError):
        choose(POINTS, VM_A, "A-STD-1H")  # names exactly


def test_an_unknown_point_lists_the_vms_points_and_the_owner_when_known():
    with pytest.raises(RecoveryPointError) as failure:
        choose(POINTS, VM_A, "Microsoft:9", owner="'b' (GUID)")
    text = str(failure.value)
    assert "no recovery point with id or name 'Microsoft:9'" in text and "recovery point of VM 'b' (GUID)" in text
    assert "a-app-2h" in text
    with pytest.raises(RecoveryPointError) as failure:
        choose([], VM_A, "latest_application_consistent")
    assert "no application-consistent recovery point" in str(failure.value) and "(none)" in str(failure.value)


def test_times_are_reported_in_utc_whatever_the_host_wrote():
    taken = datetime(2026, 11, 21, 18, 0, tzinfo=timezone(timedelta(hours=8)))
    east = RecoveryPoint("Microsoft:9", "p", "standard", taken)
    assert east.as_dict()["created"] == "2026-11-21T10:00:00+00:00"
    assert timefmt.iso_utc(None) is None


# ---- through FailoverRun and the simulator


@pytest.fixture
def host():
    hosts = simhost.Hosts()
    yield hosts.start
    hosts.stop()


def converge(sim, vms, desired="failed_over", **request):
    results = FailoverRun(simhost.cim_client(sim), simhost.waiter(sim)).run(
        Request(vms=vms, desired=desired, **request))
    return [r.as_dict() for r in results]


def state(sim, name):
    return next(v for v in sim.vms() if v["name"] == name)


POINTED = [
    vm("a", recovery_points=[{"type": "standard", "created": "-1h", "name": "a-std-1h"},
                             {"type": "application_consistent", "created": "-3h", "name": "a-app-3h"},
                             {"type": "standard", "created": "-5h", "name": "a-std-5h"}]),
    vm("b", recovery_points=[{"type": "standard", "created": "-2h", "name": "b-std-2h"}]),
    vm("c"),
]


def created_of(sim, vm_name, point_name):
    """When the simulator says a point was taken (its times are relative to its start)."""
    (info,) = read_info(simhost.cim_client(sim), [vm_name])
    return datetime.fromisoformat(next(p["created"] for p in info.as_dict()["recovery_points"]
                                       if p["name"] == point_name))


def test_failover_before_a_time_uses_the_newest_older_point(host):
    sim = host(POINTED)
    now = created_of(sim, "a", "a-std-1h") + timedelta(hours=1)
    a, b = converge(sim, ["a", "b"], recovery_point_before=now - timedelta(hours=2))
    assert a["recovery_point"]["name"] == "a-app-3h" and a["recovery_point"]["type"] == "application_consistent"
    assert b["recovery_point"]["name"] == "b-std-2h"
    assert a["state_after"] == b["state_after"] == "Recovered"
    assert state(sim, "a")["failed_over_type"] == 2 and state(sim, "b")["failed_over_type"] == 1


def test_a_vm_without_a_point_that_old_fails_alone(host):
    sim = host(POINTED)
    now = created_of(sim, "a", "a-std-1h") + timedelta(hours=1)
    a, b, c = converge(sim, ["a", "b", "c"], recovery_point_before=now - timedelta(hours=4))
    assert a["recovery_point"]["name"] == "a-std-5h" and a["error"] is None and a["changed"]
    for failed in (b, c):
        assert "at or before" in failed["error"] and not failed["changed"] and failed["job_id"] is None
    assert "b-std-2h" in b["error"] and "(none)" in c["error"]
    assert state(sim, "b")["state"] == 3 and sim.counters()["Invoke:InitiateFailover"] == 1


def test_another_vms_point_names_its_vm(host):
    sim = host(POINTED)
    b_point = next(v["recovery_points"][0] for v in sim.vms() if v["name"] == "b")
    b_id = next(v["id"] for v in sim.vms() if v["name"] == "b")
    (a,) = converge(sim, ["a"], recovery_point=b_point)
    assert "recovery point of VM 'b' (%s)" % b_id in a["error"] and "a-std-1h" in a["error"]
    (a, b) = converge(sim, ["a", "b"], recovery_point="b-std-2h")  # b is in the task: named by its label
    assert "recovery point of VM 'b' (%s)" % b_id in a["error"] and b["recovery_point"]["name"] == "b-std-2h"
    (a,) = converge(sim, ["a"], recovery_point="Microsoft:00000000-0000-0000-0000-000000000000")
    assert "recovery point of VM" not in a["error"] and "no recovery point with id or name" in a["error"]


def test_check_mode_shows_the_point_and_starts_nothing(host):
    sim = host(POINTED)
    a, c = converge(sim, ["a", "c"], recovery_point="latest_application_consistent", check_mode=True)
    assert a["recovery_point"]["name"] == "a-app-3h" and a["changed"] and a["state_after"] == "Recovered"
    assert "no application-consistent recovery point" in c["error"] and not c["changed"]
    (latest,) = converge(sim, ["a"], check_mode=True)
    assert latest["recovery_point"] == {"id": None, "name": "latest", "type": "latest", "created": None}
    assert not [k for k in sim.counters() if k.startswith("Invoke")]


def test_points_of_every_vm_come_in_one_query(host):
    counts = {}
    for count in (2, 30):
        sim = host([vm("vm%02d" % i, recovery_points=[{"type": "application_consistent", "created": "-1h"}])
                    for i in range(count)])
        sim.clear_requests()
        results = converge(sim, ["vm%02d" % i for i in range(count)], recovery_point="latest_application_consistent")
        assert all(r["recovery_point"]["type"] == "application_consistent" for r in results)
        counts[count] = simhost.requests_by_class(sim)["Msvm_VirtualSystemSettingData"]
    assert counts[2] == counts[30] <= 2


def test_points_by_vm_and_the_association_agree(host):
    sim = host(POINTED)
    cim = simhost.cim_client(sim)
    by_vm = recovery_points.points_by_vm(cim)
    for item in sim.vms():
        one = VM(id=item["id"], name=item["name"], mode=2, state=3, power=3, health=1)
        assert recovery_points.list_recovery_points(cim, one) == by_vm.get(item["id"], [])
    assert recovery_points.points_by_vm(cim, []) == {}
