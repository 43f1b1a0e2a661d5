"""Waiter: the deadline, the backoff between polls, and wait_for_jobs telling it what changed."""

from __future__ import annotations

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.hyperv import jobs
from ansible_collections.hyperv.replica.plugins.module_utils.cim.values import Instance
from ansible_collections.hyperv.replica.plugins.module_utils.hyperv.waiter import Waiter


class FakeClock:
    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(round(seconds, 6))
        self.now += seconds


def waiter(timeout=600.0, interval=1.0):
    clock = FakeClock()
    return Waiter(timeout, interval, clock=clock.monotonic, sleep=clock.sleep), clock


def test_pauses_grow_while_nothing_changes_up_to_four_intervals_and_reset_on_change():
    wait, clock = waiter(interval=2.0)
    for changed in (True, False, False, False, False, False, True, False):
        wait.pause(changed)
    assert clock.sleeps == [2.0, 3.0, 4.5, 6.75, 8.0, 8.0, 2.0, 3.0]


def test_a_pause_never_passes_the_deadline():
    wait, clock = waiter(timeout=5.0, interval=2.0)
    for changed in (False, False, False):
        wait.pause(changed)
    assert clock.sleeps == [3.0, 2.0, 0.0] and wait.expired


class JobHost:
    """A CIM client that answers job queries from a script: the n-th time a job is asked for, it has the JobState
    that the script's n-th dict gives it (a job the dict leaves out is gone); the last dict repeats."""

    def __init__(self, script):
        self.script = script
        self.asked = {}
        self.queries = []

    def query_all(self, wqls):
        return [row for wql in wqls for row in self.query(wql)]

    def query(self, wql):
        self.queries.append(wql)
        found = []
        for job_id in {j for states in self.script for j in states}:
            if "'%s'" % job_id not in wql:
                continue
            self.asked[job_id] = self.asked.get(job_id, 0) + 1
            states = self.script[min(self.asked[job_id], len(self.script)) - 1]
            if job_id in states:
                found.append(Instance("Msvm_ConcreteJob", {"InstanceID": job_id, "JobState": states[job_id],
                                                           "PercentComplete": 10 * self.asked[job_id]}))
        return found


def test_wait_for_jobs_backs_off_only_when_no_job_changes_state_and_counts_polls():
    running, done = 4, 7
    host = JobHost([{"A": running, "B": running}, {"A": running, "B": running}, {"A": running, "B": running},
                    {"A": done, "B": running}, {"B": running}, {"B": done}])
    wait, clock = waiter(interval=1.0)
    seen = jobs.wait_for_jobs(host, ["a", "b"], wait)
    assert seen.polls == 6 and len(host.queries) == 6
    # First poll: new states (a change). Then two quiet polls (percent moves, but that is no change), A ends,
    # then one quiet poll (A is no longer asked for), then B ends.
    assert clock.sleeps == [1.0, 1.5, 2.25, 1.0, 1.5]
    assert seen.jobs["A"].succeeded and seen.jobs["B"].succeeded
    assert "'A'" not in host.queries[-1]


@pytest.mark.parametrize("count, queries_per_poll", [(1, 1), (50, 1), (51, 2), (500, 10)])
def test_one_query_per_poll_chunk_whatever_the_number_of_jobs(count, queries_per_poll):
    ids = ["JOB-%04d" % i for i in range(count)]
    host = JobHost([{i: 4 for i in ids}, {i: 7 for i in ids}])
    seen = jobs.wait_for_jobs(host, ids, waiter()[0])
    assert seen.polls == 2 and len(host.queries) == 2 * queries_per_poll
    assert all(job.succeeded for job in seen.jobs.values()) and len(seen.jobs) == count
