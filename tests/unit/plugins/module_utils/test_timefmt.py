"""Reading ISO 8601 times (leniently for reports, strictly for what modules wrote) and saying durations."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.hyperv.replica.plugins.module_utils.timefmt import (
    human_duration, parse_time, precise_duration, utc_time)

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.mark.parametrize("text, expected", [
    ("2026-11-21T10:00:00Z", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),
    (" 2026-11-21T10:00:00z ", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),
    ("2026-11-21T10:00:00.1234567+00:00", datetime(2026, 11, 21, 10, 0, 0, 123456, tzinfo=timezone.utc)),
    ("2026-11-21T10:00:00", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),
    ("2026-11-21T12:00:00+02:00", datetime(2026, 11, 21, 12, tzinfo=PLUS_TWO)),
    ("not a time", None), ("", None), ("   ", None), (None, None), (5, None)])
def test_lenient_parse_reads_what_another_writer_may_write(text, expected):
    parsed = parse_time(text)
    assert parsed == expected
    assert parsed is None or parsed.utcoffset() == expected.utcoffset()  # the offset it was written with


@pytest.mark.parametrize("text, expected", [
    ("2026-11-21T10:00:00Z", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),
    ("2026-11-21T10:00:00", datetime(2026, 11, 21, 10, tzinfo=timezone.utc)),
    ("2026-11-21T12:00:00+02:00", datetime(2026, 11, 21, 12, tzinfo=PLUS_TWO)),
    ("", None), (None, None)])
def test_strict_parse_reads_what_a_module_writes(text, expected):
    parsed = parse_time(text, strict=True)
    assert parsed == expected
    assert parsed is None or parsed.utcoffset() == expected.utcoffset()


@pytest.mark.parametrize("text", ["not a time", " 2026-11-21T10:00:00Z", "2026-11-21T10:00:00z"])
def test_strict_parse_refuses_what_a_module_would_never_give(text):
    with pytest.raises(ValueError):
        parse_time(text, strict=True)


def test_utc_time_moves_the_time_to_utc():
    moved = utc_time("2026-11-21T12:00:00+02:00")
    assert moved == datetime(2026, 11, 21, 10, tzinfo=timezone.utc) and moved.utcoffset() == timedelta(0)
    assert utc_time("not a time") is None


@pytest.mark.parametrize("seconds, text", [(59.6, "1 min"), (3661, "1 h 1 min"), (90061, "25 h 1 min"), (-5, "0 s")])
def test_human_duration_says_the_two_largest_units(seconds, text):
    assert human_duration(seconds) == text


@pytest.mark.parametrize("seconds, text", [(0, "0 s"), (2.5, "2.5 s"), (59.96, "60 s"), (302.5, "5 min 2 s"),
                                           (3603, "1 h 3 s"), (90061, "1 d 1 h 1 min 1 s"), (-3, "0 s")])
def test_precise_duration_says_every_unit(seconds, text):
    assert precise_duration(seconds) == text
