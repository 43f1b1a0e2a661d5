"""SessionPool: one session for sequential work, at most `size` at once, broken sessions replaced."""

from __future__ import annotations

import threading

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.wire.sessions import SessionPool


class WSManFaultError(Exception):
    """Named as pywinrm's: the host answered with a SOAP fault."""


class FakeSession:
    """Stands in for a pywinrm Protocol; ``gate`` (when set) holds every send until it opens."""

    def __init__(self, log, gate=None, fail_on=None, fault_on=None):
        self.log = log
        self.gate = gate
        self.fail_on = fail_on
        self.fault_on = fault_on
        self.closed = False
        self.transport = self  # the pool closes transport.close_session(), as on a pywinrm Protocol

    def send_message(self, message):
        self.log.append((id(self), message))
        if self.gate is not None:
            self.gate.wait(timeout=10)
        if message == self.fail_on:
            raise ConnectionError("connection reset")
        if message == self.fault_on:
            raise WSManFaultError("Access is denied.")
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
    # Three sends are in flight and hold their sessions; the other seven wait for one to come back. Wait (for a
    # state, not for a time) until all seven are parked on the pool's condition before looking.
    pause = threading.Event()
    while (len(log) < 3 or len(pool._free._waiters) < 7) and not pause.wait(0.001):  # pylint: disable=protected-access
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


def test_a_soap_fault_is_an_answer_and_keeps_the_session():
    pool, log, made = make_pool(2, fault_on="denied")
    for message in ("denied", "denied", "fine"):
        try:
            pool.send_message(message)
        except WSManFaultError:
            pass
    assert len(made) == 1 and not made[0].closed and pool.opened == 1 and len(log) == 3


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


def test_held_keeps_one_session_for_a_thread_while_others_use_another():
    pool, log, made = make_pool(2)
    with pool.held():
        pool.send_message("enumerate")
        other = threading.Thread(target=pool.send_message, args=("elsewhere",))
        other.start()
        other.join(timeout=10)
        with pool.held():  # nested: the same session
            pool.send_message("pull")
        pool.send_message("release")
    sessions = {message: session for session, message in log}
    assert sessions["enumerate"] == sessions["pull"] == sessions["release"] == id(made[0])
    assert sessions["elsewhere"] == id(made[1]) and pool.requests == 4
    pool.send_message("after")  # the held session went back to the pool
    assert len(made) == 2


def test_a_held_session_that_broke_is_closed_when_released():
    pool, log, made = make_pool(1, fail_on="bad")
    with pytest.raises(ConnectionError):
        with pool.held():
            pool.send_message("fine")
            pool.send_message("bad")
    assert made[0].closed
    pool.send_message("next")
    assert len(made) == 2 and log[-1][0] == id(made[1])
