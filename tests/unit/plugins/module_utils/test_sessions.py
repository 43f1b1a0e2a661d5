"""SessionPool: one session for sequential work, at most `size` at once, broken sessions replaced."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.sessions import SessionPool


class FakeSession:
    """Stands in for a pywinrm Protocol; ``gate`` (when set) holds every send until it opens."""

    def __init__(self, log, gate=None, fail_on=None):
        self.log = log
        self.gate = gate
        self.fail_on = fail_on
        self.closed = False
        self.transport = self  # the pool closes transport.close_session(), as on a pywinrm Protocol

    def send_message(self, message):
        self.log.append((id(self), message))
        if self.gate is not None:
            self.gate.wait(timeout=10)
        if message == self.fail_on:
            raise ConnectionError("connection reset")
        return b"answer to " + message.encode()

    def close_session(self):
        self.closed = True


def make_pool(size, **session_options):
    log, made = [], []

    def factory():
        made.append(FakeSession(log, **session_options))
        return made[-1]

    return SessionPool(factory, size), log, made


def test_sequential_messages_share_one_session():
    pool, log, made = make_pool(8)
    answers = [pool.send_message("m%d" % i) for i in range(20)]
    assert answers == [b"answer to m%d" % i for i in range(20)]
    assert len(made) == 1 and pool.opened == 1 and pool.requests == 20
    assert {session for session, message in log} == {id(made[0])}


def test_concurrent_messages_open_at_most_size_sessions():
    gate = threading.Event()
    pool, log, made = make_pool(3, gate=gate)
    threads = [threading.Thread(target=pool.send_message, args=("m%d" % i,)) for i in range(10)]
    for thread in threads:
        thread.start()
    # Three sends are in flight and hold their sessions; the other seven wait for one to come back.
    deadline = threading.Event()
    while len(log) < 3 and not deadline.wait(0.001):
        pass
    assert len(made) == 3 and len(log) == 3
    gate.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(log) == 10 and len(made) == 3 and pool.opened == 3 and pool.requests == 10


def test_a_session_whose_send_failed_is_closed_and_replaced():
    pool, log, made = make_pool(2, fail_on="bad")
    pool.send_message("good")
    with pytest.raises(ConnectionError):
        pool.send_message("bad")
    assert made[0].closed
    assert pool.send_message("again") == b"answer to again"
    assert len(made) == 2 and not made[1].closed and log[-1][0] == id(made[1])


def test_a_factory_that_fails_frees_its_place():
    calls = []

    def factory():
        calls.append(1)
        raise ValueError("bad options")

    pool = SessionPool(factory, 1)
    for attempt in range(2):  # the second attempt would block forever if the first had kept the only place
        with pytest.raises(ValueError):
            pool.send_message("m%d" % attempt)
    assert len(calls) == 2


def test_close_closes_idle_sessions():
    pool, log, made = make_pool(2)
    pool.send_message("m")
    pool.close()
    assert made[0].closed and log


def test_size_must_be_positive():
    with pytest.raises(ValueError, match="at least one"):
        SessionPool(lambda: None, 0)
