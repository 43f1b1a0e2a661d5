"""Test helpers: a fake pywinrm sender, and where the shared Windows captures are."""

from __future__ import annotations

import os
from pathlib import Path
from typing import List, Optional


class ReplaySender:
    """Stands in for winrm.protocol.Protocol: returns canned responses and keeps the requests."""

    def __init__(self, responses: List[bytes]) -> None:
        self.responses = list(responses)
        self.requests: List[str] = []

    def send_message(self, message: str) -> bytes:
        self.requests.append(message)
        if not self.responses:
            raise AssertionError("more requests than canned responses")
        answer = self.responses.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def captures_dir() -> Optional[Path]:
    """Real Windows responses live in ../shared/wsman-captures beside the repository (never copied in).

    Walk up from this file so the tests find them from the source tree and from the ansible-test copy
    under build/; a user's checkout has none and the tests that need them skip.
    """
    override = os.environ.get("HYPERV_REPLICA_CAPTURES")
    if override:
        return Path(override) if Path(override).is_dir() else None
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "shared" / "wsman-captures"
        if candidate.is_dir():
            return candidate
    return None
