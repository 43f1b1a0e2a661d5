# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Up to ``size`` WinRM sessions to one host, each authenticated once, kept alive and used by one thread at a time.

NTLM (and so WinRM message encryption) authenticates a TCP connection, not a user: pywinrm's ``Protocol`` holds
one requests session with one security context, which two threads must never share. Concurrent requests therefore
need one ``Protocol`` each. The pool opens one only when every open one is busy, so sequential work (the lookups,
the polls) stays on a single connection with a single handshake, and at most ``size`` connections are open at once.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Callable, Iterator, List, Optional

from ansible_collections.hyperv.replica.plugins.module_utils.wire.wsman import MessageSender


class SessionPool:
    """A ``MessageSender`` that spreads messages over at most ``size`` senders made by ``factory``."""

    def __init__(self, factory: Callable[[], MessageSender], size: int) -> None:
        if size < 1:
            raise ValueError("a session pool needs room for at least one session, got %d" % size)
        self._factory = factory
        self.size = size
        self._idle: List[MessageSender] = []
        self._open = 0
        self._free = threading.Condition()
        # The session a thread holds (held()), if any, and whether it is still fit to go back to the pool.
        self._local = threading.local()
        # Read by the caller for its result: sessions opened over the run, and messages sent.
        self.opened = 0
        self.requests = 0

    def send_message(self, message: str) -> bytes:
        held: Optional[MessageSender] = getattr(self._local, "sender", None)
        if held is not None:
            return self._send(held, message)
        sender = self._take()
        self._local.healthy = True
        try:
            return self._send(sender, message)
        finally:
            self._give_back(sender, self._local.healthy)

    @contextmanager
    def held(self) -> Iterator[None]:
        """Send this thread's messages over one session until the block ends. An enumeration's Enumerate, Pulls and
        Release go over the same connection, as every WinRM client sends them, whatever else runs alongside."""
        if getattr(self._local, "sender", None) is not None:
            yield  # already holding one: nested use keeps it
            return
        sender = self._take()
        self._local.sender, self._local.healthy = sender, True
        try:
            yield
        finally:
            self._local.sender = None
            self._give_back(sender, self._local.healthy)

    def _send(self, sender: MessageSender, message: str) -> bytes:
        with self._free:
            self.requests += 1
        try:
            return sender.send_message(message)
        except Exception as exc:
            self._local.healthy = self._local.healthy and answered(exc)
            raise

    def close(self) -> None:
        """Close the idle sessions (a session's connection closes with it)."""
        with self._free:
            idle, self._idle = self._idle, []
            self._open -= len(idle)
        for sender in idle:
            _close(sender)

    def _take(self) -> MessageSender:
        with self._free:
            while not self._idle and self._open >= self.size:
                self._free.wait()
            if self._idle:
                # The most recently used session first: its connection is the one most surely still open.
                return self._idle.pop()
            self._open += 1
            self.opened += 1
        try:
            return self._factory()
        except BaseException:
            with self._free:
                self._open -= 1
                self._free.notify()
            raise

    def _give_back(self, sender: MessageSender, healthy: bool) -> None:
        # A session whose request got no answer may have lost its connection or its security context half way; a
        # fresh one costs a handshake, reusing a broken one could cost every later request of the run.
        with self._free:
            if healthy:
                self._idle.append(sender)
            else:
                self._open -= 1
            self._free.notify()
        if not healthy:
            _close(sender)


def answered(exc: Exception) -> bool:
    """Whether the host answered with a SOAP fault (pywinrm raises one as an exception): the connection and its
    security context are fine. Looked up by name so that this module does not need pywinrm to import."""
    return type(exc).__name__ in ("WSManFaultError", "WinRMOperationTimeoutError")


def _close(sender: MessageSender) -> None:
    transport = getattr(sender, "transport", None)
    close = getattr(transport, "close_session", None)
    if callable(close):
        try:
            close()
        except Exception:  # pylint: disable=broad-exception-caught
            pass  # closing a connection that is already gone is not an error worth reporting
