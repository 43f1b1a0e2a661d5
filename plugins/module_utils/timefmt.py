# -*- coding: utf-8 -*-
# Copyright: (c) 2026, hyperv.replica contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that reads times and says durations the way a person does.

Three kinds of time text reach the collection: ISO 8601 that modules and the role recorded (read by the pre-check,
the drill report and its renderers), an operator's ``recovery_point_before`` (which must carry a zone), and the CIM
datetimes and intervals Windows sends over WS-Management. They are all read here, and every report says how long
something took or how old it is here, so that they agree.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any, Optional

_FRACTION = re.compile(r"\.(\d+)")
# xs:dateTime as Windows writes it in a cim:Datetime (Z or +08:00, 0 to 7 fraction digits) and xs:duration in a
# cim:Interval (wsman-wmi-wire notes 2.4).
_CIM_DATETIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")
_CIM_INTERVAL = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


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


def parse_zoned_time(text: str, option: str) -> datetime:
    """An operator's ISO 8601 time that must carry a zone (``Z`` or ``+01:00``); a time without one is refused.

    The controller, the Hyper-V host and the operator may each be in a different zone, and what the time selects
    changes with the guess, so a zoneless time is ambiguous. ``option`` names the option in the error.
    """
    try:
        value = datetime.fromisoformat(str(text).strip())
    except ValueError:
        raise ValueError("%s '%s' is not an ISO 8601 time; write it like 2026-11-21T10:00:00Z" % (option, text)) from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("%s '%s' has no time zone, so it is ambiguous: add Z for UTC or an offset such as +01:00"
                         % (option, text))
    return value


def parse_cim_datetime(text: str) -> datetime:
    """The text of a cim:Datetime as an aware datetime; ValueError when it is not one."""
    match = _CIM_DATETIME.match(text.strip())
    if not match:
        raise ValueError("not a CIM datetime: %r" % text[:60])
    base, fraction, offset = match.groups()
    stamp = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S")
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    zone = timezone.utc
    if offset and offset != "Z":
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        zone = timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return stamp.replace(microsecond=micro, tzinfo=zone)


def parse_cim_interval(text: str) -> timedelta:
    """The text of a cim:Interval (an xs:duration) as a timedelta; ValueError when it is not one."""
    match = _CIM_INTERVAL.match(text.strip())
    if not match:
        raise ValueError("not a CIM interval: %r" % text[:60])
    days, hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def cim_time(value: object) -> Optional[datetime]:
    """A CIM datetime the host sent, or None for NULL and for Windows' "never" (FILETIME 0, year 1601)."""
    return value if isinstance(value, datetime) and value.year > 1601 else None


def iso_utc(value: Optional[datetime]) -> Optional[str]:
    """ISO 8601 in UTC, whatever offset the host wrote, so that results compare and sort as text."""
    return value.astimezone(timezone.utc).isoformat() if value else None


def dmtf_datetime(value: datetime) -> str:
    """A datetime in the DMTF form CIM-XML carries, ``20261121100000.000000+060`` (offset in minutes; UTC if naive)."""
    aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    offset = int((aware.utcoffset() or timedelta(0)).total_seconds() // 60)
    return "%s%s%03d" % (aware.strftime("%Y%m%d%H%M%S.%f"), "-" if offset < 0 else "+", abs(offset))


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
