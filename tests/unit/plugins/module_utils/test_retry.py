"""Retry: which read errors are tried again, how long it pauses, and that the budget is never overrun."""

from __future__ import annotations

import random

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.wire.retry import Retry, retryable
from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import (
    OPERATION_TIMEOUT_CODE, WSManFault, WSManProtocolError, WSManTransportError)

DROPPED = WSManTransportError("cannot reach the WinRM host: reset", kind="connection")
BARE_500 = WSManTransportError("the WinRM host answered HTTP 500 without a WS-Management message", kind="http",
                               http_status=500)
TIMED_OUT = WSManFault("timed out", http_status=500, wsman_code=OPERATION_TIMEOUT_CODE)


@pytest.mark.parametrize("error, expected", [
    (DROPPED, True), (BARE_500, True), (TIMED_OUT, True),
    (WSManTransportError("rejected", kind="auth", http_status=401, unsent=True), False),
    (WSManTransportError("TLS failed", kind="tls", unsent=True), False),
    (WSManTransportError("HTTP 404", kind="http", http_status=404), False),
    (WSManFault("Access is denied.", http_status=500, subcode="w:AccessDenied"), False),
    (WSManProtocolError("not XML"), False),
])
def test_what_is_tried_again(error, expected):
    assert retryable(error) is expected


class Reads:
    def __init__(self, *outcomes):
        self.outcomes = list(outcomes)
        self.calls = 0

    def __call__(self):
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def policy(budget=1000.0, attempts=4):
    pauses = []
    retry = Retry(attempts=attempts, base=0.5, cap=3.0, budget=lambda: budget - sum(pauses), sleep=pauses.append,
                  rng=random.Random(7))
    return retry, pauses


def test_passing_faults_are_retried_with_growing_capped_jittered_pauses():
    retry, pauses = policy(attempts=5)
    read = Reads(DROPPED, BARE_500, TIMED_OUT, DROPPED, "rows")
    assert retry.call(read) == "rows" and read.calls == 5 and retry.retried == 4
    ceilings = [0.5, 1.0, 2.0, 3.0]
    assert all(0 <= pause <= ceiling for pause, ceiling in zip(pauses, ceilings)) and len(pauses) == 4


def test_attempts_are_bounded():
    retry, pauses = policy(attempts=3)
    read = Reads(DROPPED, DROPPED, DROPPED, "never")
    with pytest.raises(WSManTransportError):
        retry.call(read)
    assert read.calls == 3 and len(pauses) == 2


def test_no_pause_runs_past_the_budget():
    retry, pauses = policy(budget=0.0)
    read = Reads(DROPPED, "never")
    with pytest.raises(WSManTransportError):
        retry.call(read)
    assert read.calls == 1 and pauses == []


def test_other_errors_are_raised_at_once():
    retry, pauses = policy()
    read = Reads(WSManFault("Access is denied.", http_status=500), "never")
    with pytest.raises(WSManFault):
        retry.call(read)
    assert read.calls == 1 and pauses == []


REFUSED = WSManTransportError("cannot reach the WinRM host: connection refused", kind="connection", unsent=True)


def test_without_a_count_reads_go_on_until_the_budget_is_spent():
    """A module run tries a read for as long as wait_timeout lasts (attempts=None), not a fixed number of times."""
    retry, pauses = policy(budget=20.0, attempts=None)
    read = Reads(*([DROPPED] * 9 + ["rows"]))
    assert retry.call(read) == "rows" and read.calls == 10 and retry.retried == 9
    spent, pauses = policy(budget=3.0, attempts=None)
    with pytest.raises(WSManTransportError):
        spent.call(Reads(*([DROPPED] * 1000)))
    assert sum(pauses) < 3.0


def test_a_host_that_never_answered_is_tried_a_few_times_only():
    """A wrong name or port fails in seconds; once the host has answered, a refused connection is waited out."""
    retry, pauses = policy(budget=1000.0, attempts=None)
    first = Reads(*([REFUSED] * 10))
    with pytest.raises(WSManTransportError):
        retry.call(first)
    assert first.calls == 4
    assert retry.call(Reads("rows")) == "rows"
    later = Reads(*([REFUSED] * 6 + ["rows"]))
    assert retry.call(later) == "rows" and later.calls == 7
