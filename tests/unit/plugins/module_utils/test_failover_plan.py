"""What each VM needs, from its mode, replication state and power state (hyperv-replica-wmi 3.1-3.4)."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.failover import FAILED_OVER, REVERTED, plan
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import VM

REPLICA, PRIMARY, NONE, TEST, EXTENDED = 2, 1, 0, 3, 4
OFF, RUNNING = 3, 2


def vm(mode=REPLICA, state=3, power=OFF):
    return VM(id="5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D", name="web01", mode=mode, state=state, power=power, health=1)


@pytest.mark.parametrize("desired, machine, method", [
    (FAILED_OVER, vm(state=3), "InitiateFailover"),
    (FAILED_OVER, vm(mode=EXTENDED, state=3), "InitiateFailover"),
    (REVERTED, vm(state=5), "RevertFailover"),
    (REVERTED, vm(mode=PRIMARY, state=4), "RevertFailover"),
])
def test_operation_needed(desired, machine, method):
    result = plan(machine, desired)
    assert (result.method.name, result.error) == (method, "")


@pytest.mark.parametrize("desired, machine", [
    (FAILED_OVER, vm(state=5)),
    (FAILED_OVER, vm(state=5, power=RUNNING)),  # failed over and started for checks: still done
    (REVERTED, vm(state=3)),
])
def test_already_there_is_unchanged(desired, machine):
    result = plan(machine, desired)
    assert (result.method, result.error) == (None, "")


@pytest.mark.parametrize("desired, machine, words", [
    (FAILED_OVER, vm(state=6), ["Committed", "Set-VMReplication -Reverse"]),
    (REVERTED, vm(state=6), ["Committed", "cannot be repeated or reverted"]),
    (FAILED_OVER, vm(mode=PRIMARY), ["Primary", "Replicating", "replica server"]),
    (REVERTED, vm(mode=PRIMARY, state=3), ["Primary", "replica server"]),
    (FAILED_OVER, vm(mode=NONE, state=0), ["not replicated", "Enable-VMReplication"]),
    (FAILED_OVER, vm(mode=TEST), ["Test Replica", "Stop-VMFailover"]),
    (FAILED_OVER, vm(power=RUNNING), ["Running", "Replicating", "Stop-VM"]),
    (REVERTED, vm(state=5, power=RUNNING), ["Running", "Recovered", "Stop-VM"]),
    (FAILED_OVER, vm(state=7), ["Suspended", "Resume-VMReplication"]),
    (FAILED_OVER, vm(state=10), ["Resynchronizing", "Resume-VMReplication"]),
    (FAILED_OVER, vm(state=8), ["Critical", "Get-VMReplication"]),
    (REVERTED, vm(state=8), ["Critical", "revert needs Recovered"]),
    (FAILED_OVER, vm(state=12), ["Failover in progress"]),
])
def test_impossible_states_name_vm_state_and_way_out(desired, machine, words):
    result = plan(machine, desired)
    assert result.method is None and result.error
    assert "'web01' (5F1D3C9A-0B6E-4C53-9A51-1F0E8C6A2B7D)" in result.error
    for word in words:
        assert word in result.error
