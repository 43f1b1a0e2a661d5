# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that reads ISO 8601 times and says durations the way a person does.

The pre-check, the drill report and its renderers all read the times that modules and the role recorded, and
all say how long something took or how old it is; they do it here, so they agree.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any, Optional

_FRACTION = re.compile(r"\.(\d+)")


def parse_time(value: Any, strict: bool = False) -> Optional[datetime]:
    """An ISO 8601 time as an aware datetime in the offset it was written with, a naive time as UTC; None if empty.

    Lenient by default, for a report another writer may have made: ``Z`` or ``z``, surrounding spaces and any
    number of fraction digits are read, and a value that still cannot be read (or is no string) is None.
    ``strict`` is for times a module wrote (replication_info, failover): only ``Z`` is translated, and text
    that is not ISO 8601 raises ValueError, as a time such a module would never give.
    """
    if strict:
        if not value:
            return None
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    else:
        if not isinstance(value, str) or not value.strip():
            return None
        text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
        text = _FRACTION.sub(lambda match: "." + (match.group(1) + "000000")[:6], text, count=1)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def utc_time(value: Any) -> Optional[datetime]:
    """``parse_time`` (lenient) moved to UTC, the zone every report shows its times in."""
    parsed = parse_time(value)
    return None if parsed is None else parsed.astimezone(timezone.utc)


def human_duration(seconds: float) -> str:
    """3 h 10 min, 5 min 2 s, 40 s: how an operator reads an age, to the two largest units."""
    seconds = int(round(max(0.0, seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "%d h %d min" % (hours, minutes) if minutes else "%d h" % hours
    if minutes:
        return "%d min %d s" % (minutes, secs) if secs else "%d min" % minutes
    return "%d s" % secs


def precise_duration(seconds: float) -> str:
    """Every unit down to the second, and tenths under a minute: ``2.5 s``, ``5 min 2 s``, ``1 h 3 s``, ``2 d 4 h``."""
    seconds = max(0.0, float(seconds))
    if seconds < 60:
        return ("%.1f" % seconds).rstrip("0").rstrip(".") + " s"
    total = int(round(seconds))
    parts = ((total // 86400, "d"), (total % 86400 // 3600, "h"), (total % 3600 // 60, "min"), (total % 60, "s"))
    return " ".join("%d %s" % (amount, unit) for amount, unit in parts if amount)
