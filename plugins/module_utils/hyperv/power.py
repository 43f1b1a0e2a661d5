# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Starting VMs and waiting for their guests; stopping them, the guest asked first and turned off after a while.

Start: ``Msvm_ComputerSystem.RequestStateChange(2)`` for a VM that is off, saved or paused, never for a Replica VM
that has not failed over (starting it would break replication, and Windows refuses it: hyperv guest-power notes 1),
then one read per poll tick of every VM's heartbeat (and addresses) until each answers or ``wait_timeout`` passes.
A recovered or test VM is started only when the network guard finds it cannot reach production with production's
identity, or the operator allows it (network_guard.py).
Stop: ``Msvm_ShutdownComponent.InitiateShutdown`` for a running guest, a wait of ``shutdown_timeout`` for the VMs
to go off (one read of every VM per tick), then ``RequestStateChange(3)`` for those still on, or at once for a
guest that refused or a VM paused or saved. Idempotent: a running VM is not started again, an off one not stopped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.cim.client import CimClient
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.converge import Converge, Plan, VmResult
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.guest import Guest, read_guests
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.network_guard import (
    UNSAFE, Verdict, assess, refusal)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.methods import (
    GUEST_SHUTDOWN, INITIATE_SHUTDOWN, START, TURN_OFF)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.vm import (
    MODE_EXTENDED_REPLICA, MODE_PRIMARY, MODE_REPLICA, POWER_OFF, POWER_RUNNING, SYNCED_COMPLETE, VM, find_vms,
    read_vms)
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter

RUNNING, OFF = "running", "off"
WAIT_HEARTBEAT, WAIT_ADDRESSES, WAIT_NONE = "heartbeat", "addresses", "none"
BY_GUEST, BY_TURN_OFF = "guest", "turn_off"
POWER_SAVED, POWER_PAUSED = 6, 9
_STARTS_FROM = (POWER_OFF, POWER_SAVED, POWER_PAUSED)
# A replica starts once it has failed over: Recovered, Committed (hyperv notes 3.1; decompiled VirtualMachine).
_REPLICA_STARTS_IN = (5, 6)
# The guest did not take the shutdown: not answering, or locked (needs Force). Turned off at once.
_GUEST_REFUSED = (32780, 32781)
SHUTDOWN_IN_PROGRESS = 32782


def plan_start(vm: VM) -> Plan:
    if vm.mode in (MODE_REPLICA, MODE_EXTENDED_REPLICA) and vm.state not in _REPLICA_STARTS_IN:
        return Plan(error="VM %s is a Replica VM that has not failed over (%s): starting it would break replication, "
                          "and Windows refuses it; fail it over first (hyperv.replica.failover), or start its test VM "
                          "(hyperv.replica.test_failover)" % (vm.label, vm.state_name))
    if vm.mode == MODE_PRIMARY and vm.state == SYNCED_COMPLETE:
        return Plan(error="VM %s is a Primary prepared for a planned failover: it cannot be started until the failover "
                          "is finished or cancelled (Stop-VMFailover)" % vm.label)
    if vm.power == POWER_RUNNING:
        return Plan()
    if vm.power not in _STARTS_FROM:
        return Plan(error="VM %s is %s: wait until it is Off, Saved, Paused or Running and run again"
                          % (vm.label, vm.power_name))
    return Plan.calling(START)


def plan_stop(vm: VM, shutdown: str) -> Plan:
    """A running guest is asked first (with shutdown=guest); a paused or saved VM has no guest to ask."""
    if vm.power == POWER_OFF:
        return Plan()
    if vm.power == POWER_RUNNING and shutdown == BY_GUEST:
        return Plan.calling(GUEST_SHUTDOWN)
    if vm.power in (POWER_RUNNING, POWER_PAUSED, POWER_SAVED):
        return Plan.calling(TURN_OFF)
    return Plan(error="VM %s is %s: wait until it is Running, Paused, Saved or Off and run again"
                      % (vm.label, vm.power_name))


@dataclass
class PowerResult(VmResult):
    """One VM of a vm_power task: the VM's result, its guest as last read and when things happened (run seconds)."""

    guest: Optional[Guest] = None
    moments: Dict[str, Optional[float]] = field(default_factory=dict)
    stopped_by: Optional[str] = None
    # The network guard's verdict on a recovered or test VM this task boots (network_guard.py).
    network: Optional[Verdict] = None

    def as_dict(self, timestamp: Optional[Callable[[Optional[float]], Optional[str]]] = None) -> Dict[str, Any]:
        now = self.after or self.vm
        guest = self.guest or Guest()
        return {
            "name": self.vm.name, "id": self.vm.id, "changed": self.changed, "mode": self.vm.mode_name,
            "state": now.state_name, "power_state": now.power_name, "heartbeat": guest.heartbeat_name,
            "addresses": list(guest.addresses), "stopped_by": self.stopped_by,
            "network_guard": self.network.as_dict() if self.network else None,
            "timings": {key: timestamp(self.moments.get(key)) if timestamp else None
                        for key in ("requested", "running", "heartbeat", "addresses")},
            "error": self.error or None,
        }


@dataclass
class Request:
    vms: List[str]
    desired: str
    wait_for: str = WAIT_HEARTBEAT
    shutdown: str = BY_GUEST
    shutdown_timeout: float = 120.0
    check_mode: bool = False
    max_concurrent: int = 1
    # VMs (names or GUIDs) the network guard lets boot although it finds them unsafe.
    allow_unsafe_network: List[str] = field(default_factory=list)


class PowerRun:
    """One vm_power module run."""

    def __init__(self, cim: CimClient, waiter: Waiter) -> None:
        self.cim = cim
        self.waiter = waiter
        self.converge = Converge(cim, waiter)
        self.polls = 0

    def run(self, request: Request) -> List[PowerResult]:
        vms = find_vms(self.cim, request.vms)
        if request.desired == RUNNING:
            results = [PowerResult(vm=vm, plan=plan_start(vm)) for vm in vms]
            self._guard(results, request.allow_unsafe_network)
            self.converge.apply(results, request.max_concurrent, True, request.check_mode)
            self._started(results)
            if not request.check_mode and request.wait_for != WAIT_NONE:
                self._wait_for_guests([r for r in results if not r.error and _now(r).power == POWER_RUNNING],
                                      request.wait_for)
        else:
            results = [PowerResult(vm=vm, plan=plan_stop(vm, request.shutdown)) for vm in vms]
            self.converge.apply(results, request.max_concurrent, True, request.check_mode)
            if not request.check_mode:
                self._stop(results, request)
        self.polls += self.converge.polls
        return results

    def _guard(self, results: List[PowerResult], allowed: List[str]) -> None:
        """The network guard, for the VMs about to be started: an unsafe one is refused before anything is sent."""
        booting = [r for r in results if r.plan.steps and not r.error]
        verdicts = assess(self.cim, [r.vm for r in booting], allowed)
        for result in booting:
            result.network = verdicts.get(result.vm.id.upper())
            if result.network is not None and result.network.outcome == UNSAFE:
                result.plan = Plan(error=refusal(result.vm, result.network))

    def _started(self, results: List[PowerResult]) -> None:
        for result in results:
            call = result.made(START.method)
            if call is not None and call.accepted and not call.error:
                result.moments["requested"] = call.invoked_at
                result.moments["running"] = call.finished_at

    def _wait_for_guests(self, results: List[PowerResult], wait_for: str) -> None:
        """Poll every VM's guest with one query per class until each answers (and reports an address, for
        wait_for=addresses) or the run's wait_timeout passes; then read the addresses once more for the report when
        they were not polled. The pause stays at poll_interval: a boot ends at a moment no job announces, and the
        time to heartbeat (the drill's RTO) is measured to within one interval."""
        pending = {r.vm.id: r for r in results}
        with_addresses = wait_for == WAIT_ADDRESSES
        while pending:
            guests = read_guests(self.cim, pending, addresses=with_addresses)
            self.polls += 1
            now = self.waiter.elapsed()
            for vm_id, result in list(pending.items()):
                result.guest = guests.get(vm_id, Guest())
                if result.guest.answers and "heartbeat" not in result.moments:
                    result.moments["heartbeat"] = now
                if result.guest.addresses and "addresses" not in result.moments:
                    result.moments["addresses"] = now
                if "heartbeat" in result.moments and (not with_addresses or "addresses" in result.moments):
                    del pending[vm_id]
            if not pending or self.waiter.expired:
                break
            self.waiter.pause(True)
        if not with_addresses:
            answered = {r.vm.id: r for r in results if r.vm.id not in pending}
            for vm_id, guest in read_guests(self.cim, answered).items():
                result = answered[vm_id]
                result.guest = Guest(heartbeat=(result.guest or guest).heartbeat, addresses=guest.addresses)
        for result in pending.values():
            guest = result.guest or Guest()
            if not guest.answers:
                result.problem = ("VM %s is Running but its guest did not answer within %ds (heartbeat %s): check that "
                                  "it boots and that its integration services run (Hyper-V Manager, Get-VMIntegration"
                                  "Service)" % (result.vm.label, int(self.waiter.elapsed()), guest.heartbeat_name))
            else:
                result.problem = ("VM %s answers (heartbeat OK) but reported no address within %ds: check its network "
                                  "adapter and the Data Exchange integration service" % (
                                      result.vm.label, int(self.waiter.elapsed())))

    def _stop(self, results: List[PowerResult], request: Request) -> None:
        """After the guests were asked: wait for them to go off, then turn off the rest (and at once those whose
        guest refused). stopped_by says which happened."""
        asked = []
        for result in results:
            call = result.made(INITIATE_SHUTDOWN)
            if call is None:
                if result.made(TURN_OFF.method) is not None and result.changed:
                    result.stopped_by = BY_TURN_OFF
                continue
            # The guest did not take it (not answering, locked), or the VM has no shutdown component at all (no
            # integration services): turned off at once.
            if call.code in _GUEST_REFUSED or (call.code is None and call.target is None and not call.dry_run):
                call.note, call.error = "the guest did not take the shutdown (%s): turned off" % call.error, ""
            elif call.error and call.code != SHUTDOWN_IN_PROGRESS:
                continue
            else:
                call.error = ""
                asked.append(result)
        still_on = self._wait_off(asked, request.shutdown_timeout)
        for result in asked:
            if result.vm.id not in still_on:
                result.stopped_by = BY_GUEST
        fallback = [r for r in results if r.made(INITIATE_SHUTDOWN) is not None and not r.error
                    and r.stopped_by is None]
        self._turn_off(fallback, request.max_concurrent)

    def _wait_off(self, results: List[PowerResult], timeout: float) -> Dict[str, PowerResult]:
        """Poll the VMs (one query for all per tick) until each is off or ``timeout`` passes; the ones still on."""
        pending = {r.vm.id: r for r in results}
        waiter = self.waiter.within(timeout)
        while pending:
            now = read_vms(self.cim, pending)
            self.polls += 1
            for vm_id in [i for i, vm in now.items() if vm.power == POWER_OFF]:
                pending.pop(vm_id).after = now[vm_id]
            if not pending or waiter.expired:
                break
            waiter.pause(False)
        return pending

    def _turn_off(self, results: List[PowerResult], max_concurrent: int) -> None:
        if not results:
            return
        fallback = [PowerResult(vm=r.after or r.vm, plan=Plan.calling(TURN_OFF)) for r in results]
        self.converge.apply(fallback, max_concurrent, True, False)
        for result, done in zip(results, fallback):
            result.plan = Plan(steps=result.plan.steps + done.plan.steps)
            result.calls.extend(done.calls)
            result.after, result.problem = done.after, result.problem or done.problem
            result.stopped_by = BY_TURN_OFF if done.changed and not done.error else None


def _now(result: PowerResult) -> VM:
    return result.after or result.vm
