# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The root of every error the collection raises on purpose, so that a runner catches them all in one place.

``str()`` of each is meant for the operator: it names what went wrong and what to do, never a secret. An error the
host caused (``about_host``) is shown after the endpoint it came from; one about the task's own options or VMs is
shown as it is.
"""

from __future__ import annotations


class HypervError(Exception):
    """Something the operator can act on, found by the collection (not a bug of ours)."""

    # Whether the message is about the host's answer (or its silence), and so reads best after the host's address.
    about_host = False
