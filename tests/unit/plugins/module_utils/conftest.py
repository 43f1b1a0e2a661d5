"""Fixtures for the module_utils tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.hyperv.replica.tests.unit.replay import captures_dir


@pytest.fixture
def captures() -> Path:
    found = captures_dir()
    if found is None:
        pytest.skip("../shared/wsman-captures is not present")
    return found
