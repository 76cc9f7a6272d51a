"""Tests for whatfix_data.windows: presets, splits, comparison periods, validation."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data.windows import (
    PRESETS,
    DateRange,
    InvalidDateRange,
    comparison_range,
    default_granularity,
    from_iso,
    resolve_preset,
    split_range,
    to_iso,
)

TODAY = date(2026, 11, 27)  # a Friday in ISO week 48


def test_date_range_validates_and_counts_inclusively():
    r = DateRange(date(2026, 11, 1), date(2026, 11, 30))
    assert r.days == 30 and r.includes(date(2026, 11, 30)) and not r.includes(date(2026, 12, 1))
    assert DateRange(TODAY, TODAY).days == 1
    with pytest.raises(InvalidDateRange, match="after the end date"):
        DateRange(date(2026, 11, 2), date(2026, 11, 1))
    assert issubclass(InvalidDateRange, ValueError)
    with pytest.raises(InvalidDateRange, match="must be a date"):
        DateRange("2026-11-01", TODAY)  # type: ignore[arg-type]


def test_iso_helpers():
    assert to_iso(TODAY) == "2026-11-27"
    assert from_iso("2026-11-27") == TODAY
    assert DateRange.from_iso("2026-11-01", "2026-11-27").params() == {
        "startDate": "2026-11-01",
        "endDate": "2026-11-27",
    }
    with pytest.raises(InvalidDateRange, match="YYYY-MM-DD"):
        from_iso("27/11/2026")
    assert DateRange(date(2026, 10, 3), TODAY).label() == "3 Oct 2026 – 27 Nov 2026"
    assert DateRange(date(2026, 10, 3), TODAY).slug() == "2026-10-03_2026-11-27"


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("last_7_days", date(2026, 11, 21), TODAY),
        ("last_30_days", date(2026, 10, 29), TODAY),
        ("last_90_days", date(2026, 8, 30), TODAY),
        ("this_quarter", date(2026, 10, 1), TODAY),
        ("last_quarter", date(2026, 7, 1), date(2026, 9, 30)),
    ],
)
def test_presets(preset, start, end):
    assert resolve_preset(preset, TODAY) == DateRange(start, end)


def test_preset_edges():
    assert resolve_preset("last_quarter", date(2026, 2, 10)) == DateRange(
        date(2025, 10, 1), date(2025, 12, 31)
    )
    assert resolve_preset("this_quarter", date(2026, 1, 1)) == DateRange(
        date(2026, 1, 1), date(2026, 1, 1)
    )
    custom = DateRange(date(2026, 1, 5), date(2026, 1, 9))
    assert resolve_preset("custom", TODAY, custom=custom) == custom
    with pytest.raises(InvalidDateRange):
        resolve_preset("custom", TODAY)
    with pytest.raises(InvalidDateRange, match="last_7_days"):
        resolve_preset("yesterday", TODAY)
    assert "custom" in PRESETS


def test_week_split_labels_partial_windows():
    windows = split_range(DateRange(date(2026, 11, 1), TODAY), "week")
    assert [w.label for w in windows] == [
        "2026-W44 (partial)",
        "2026-W45",
        "2026-W46",
        "2026-W47",
        "2026-W48 (partial)",
    ]
    assert windows[1].start.weekday() == 0 and windows[1].end.weekday() == 6
    assert [w.partial for w in windows] == [True, False, False, False, True]


def test_iso_week_year_at_year_boundary():
    windows = split_range(DateRange(date(2026, 12, 28), date(2027, 1, 10)), "week")
    assert [w.label for w in windows] == ["2026-W53", "2027-W01"]
    windows = split_range(DateRange(date(2027, 12, 27), date(2028, 1, 2)), "week")
    assert [w.label for w in windows] == ["2027-W52"]


def test_month_and_day_split():
    months = split_range(DateRange(date(2026, 9, 15), TODAY), "month")
    assert [w.label for w in months] == ["2026-09 (partial)", "2026-10", "2026-11 (partial)"]
    assert months[1].start == date(2026, 10, 1) and months[1].end == date(2026, 10, 31)
    days = split_range(DateRange(date(2026, 11, 25), TODAY), "day")
    assert [w.label for w in days] == ["2026-11-25", "2026-11-26", "2026-11-27"]
    assert not any(w.partial for w in days)
    with pytest.raises(InvalidDateRange, match="granularity"):
        split_range(days[0].date_range, "hour")


def test_comparison_periods():
    r = DateRange(date(2026, 11, 1), TODAY)
    assert comparison_range(r, "none") is None
    assert comparison_range(r, "previous") == DateRange(date(2026, 10, 5), date(2026, 10, 31))
    assert comparison_range(r, "year") == DateRange(date(2025, 11, 1), date(2025, 11, 27))
    leap = DateRange(date(2028, 2, 1), date(2028, 2, 29))
    assert comparison_range(leap, "year") == DateRange(date(2027, 2, 1), date(2027, 2, 28))
    custom = DateRange(date(2026, 1, 1), date(2026, 1, 31))
    assert comparison_range(r, "custom", custom) == custom
    assert comparison_range(r, "previous", custom) == custom
    with pytest.raises(InvalidDateRange):
        comparison_range(r, "custom")
    with pytest.raises(InvalidDateRange, match="previous"):
        comparison_range(r, "last-year")


def test_default_granularity():
    start = date(2026, 1, 1)
    assert default_granularity(DateRange(start, start + timedelta(days=30))) == "day"
    assert default_granularity(DateRange(start, start + timedelta(days=31))) == "week"
    assert default_granularity(DateRange(start, start + timedelta(days=179))) == "week"
    assert default_granularity(DateRange(start, start + timedelta(days=180))) == "month"


# ----------------------------------------------------------------------------- properties

DATES = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@st.composite
def ranges(draw, max_days: int = 800) -> DateRange:
    start = draw(DATES)
    return DateRange(start, start + timedelta(days=draw(st.integers(0, max_days))))


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(r=ranges(), granularity=st.sampled_from(["day", "week", "month"]))
def test_split_covers_range_without_gap_or_overlap(r, granularity):
    windows = split_range(r, granularity)
    assert windows[0].start == r.start and windows[-1].end == r.end
    for before, after in itertools.pairwise(windows):
        assert after.start == before.end + timedelta(days=1)
    assert sum(w.date_range.days for w in windows) == r.days
    for w in windows:
        assert w.partial == w.label.endswith(" (partial)")
        if granularity == "week" and not w.partial:
            assert w.start.weekday() == 0 and w.date_range.days == 7
        if granularity == "month" and not w.partial:
            assert w.start.day == 1 and (w.end + timedelta(days=1)).day == 1
    # Only the first and the last windows can be partial.
    assert not any(w.partial for w in windows[1:-1])


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(r=ranges())
def test_previous_period_has_equal_length_and_ends_the_day_before(r):
    previous = comparison_range(r, "previous")
    assert previous.days == r.days and previous.end == r.start - timedelta(days=1)


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(r=ranges(max_days=400))
def test_year_comparison_shifts_one_year(r):
    earlier = comparison_range(r, "year")
    assert earlier.start.year == r.start.year - 1 and earlier.end.year == r.end.year - 1
    assert abs(earlier.days - r.days) <= 1
    assert (earlier.start.month, earlier.end.month) == (r.start.month, r.end.month)


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(today=DATES)
def test_presets_end_today_and_quarters_are_whole(today):
    for preset, days in (("last_7_days", 7), ("last_30_days", 30), ("last_90_days", 90)):
        r = resolve_preset(preset, today)
        assert r.end == today and r.days == days
    this_q = resolve_preset("this_quarter", today)
    last_q = resolve_preset("last_quarter", today)
    assert this_q.end == today and this_q.start.day == 1 and this_q.start.month in (1, 4, 7, 10)
    assert last_q.end == this_q.start - timedelta(days=1)
    assert last_q.start.day == 1 and last_q.start.month in (1, 4, 7, 10)
    assert 90 <= last_q.days <= 92
