# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""report.json: the report as it is (docs/drill-report.schema.json), for machines."""

from __future__ import annotations

import json
from typing import Any, Dict


def render(report: Dict[str, Any]) -> str:
    # Stable key order and a final newline, so two reports diff cleanly.
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
