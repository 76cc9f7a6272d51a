"""Tests for whatfix_data.windows: presets, splits, comparison periods, validation."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from whatfix_data.windows import (
    CALENDAR_PRESETS,
    PRESETS,
    DateRange,
    InvalidDateRange,
    Window,
    align_windows,
    comparison_name,
    comparison_range,
    default_granularity,
    from_iso,
    period_caption,
    period_kind,
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
    assert DateRange(date(2026, 10, 3), TODAY).label() == "3 Oct – 27 Nov 2026"
    assert DateRange(date(2025, 12, 15), date(2026, 1, 14)).label() == "15 Dec 2025 – 14 Jan 2026"
    assert DateRange(TODAY, TODAY).label() == "27 Nov 2026"
    assert DateRange(date(2026, 10, 3), TODAY).slug() == "2026-10-03_2026-11-27"


@pytest.mark.parametrize(
    ("preset", "start", "end"),
    [
        ("last_7_days", date(2026, 11, 21), TODAY),
        ("last_30_days", date(2026, 10, 29), TODAY),
        ("last_90_days", date(2026, 8, 30), TODAY),
        ("this_month", date(2026, 11, 1), TODAY),
        ("last_month", date(2026, 10, 1), date(2026, 10, 31)),
        ("this_quarter", date(2026, 10, 1), TODAY),
        ("last_quarter", date(2026, 7, 1), date(2026, 9, 30)),
        ("this_year", date(2026, 1, 1), TODAY),
        ("last_year", date(2025, 1, 1), date(2025, 12, 31)),
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
    r = DateRange(date(2026, 11, 1), TODAY)  # 27 days from a Sunday: a daily trend
    assert comparison_range(r, "none") is None
    # Daily: the previous 27 days moved back 4 whole weeks (Sunday faces Sunday).
    assert comparison_range(r, "previous") == DateRange(date(2026, 10, 4), date(2026, 10, 30))
    # Daily, last year: 52 weeks back, same weekdays.
    assert comparison_range(r, "year") == DateRange(date(2025, 11, 2), date(2025, 11, 28))
    # Monthly: the same days of the previous month / a year earlier.
    assert comparison_range(r, "previous", granularity="month") == DateRange(
        date(2026, 10, 1), date(2026, 10, 27))
    leap = DateRange(date(2028, 2, 1), date(2028, 2, 29))
    assert comparison_range(leap, "year", granularity="month") == DateRange(
        date(2027, 2, 1), date(2027, 2, 28))
    custom = DateRange(date(2026, 1, 1), date(2026, 1, 31))
    assert comparison_range(r, "custom", custom=custom) == custom
    assert comparison_range(r, "previous", custom=custom) == custom
    with pytest.raises(InvalidDateRange):
        comparison_range(r, "custom")
    with pytest.raises(InvalidDateRange, match="previous"):
        comparison_range(r, "last-year")
    with pytest.raises(InvalidDateRange, match="granularity"):
        comparison_range(r, "previous", granularity="hour")


# Every preset on TODAY (Fri 27 Nov 2026): (preset, granularity, mode) -> comparison.
CALENDAR_CASES = [
    # Monthly trends: the previous calendar period, or the same span a year earlier.
    ("last_quarter", "month", "previous", (2026, 4, 1), (2026, 6, 30)),
    ("last_quarter", "month", "year", (2025, 7, 1), (2025, 9, 30)),
    ("this_quarter", "month", "previous", (2026, 7, 1), (2026, 8, 27)),
    ("last_month", "month", "previous", (2026, 9, 1), (2026, 9, 30)),
    ("this_month", "month", "previous", (2026, 10, 1), (2026, 10, 27)),
    ("last_year", "month", "previous", (2024, 1, 1), (2024, 12, 31)),
    ("last_year", "month", "year", (2024, 1, 1), (2024, 12, 31)),
    ("this_year", "month", "previous", (2025, 1, 1), (2025, 11, 27)),
    ("last_90_days", "month", "previous", (2026, 5, 30), (2026, 8, 27)),
    # Weekly and daily trends: moved by whole weeks, never overlapping the range.
    ("last_quarter", "week", "previous", (2026, 3, 25), (2026, 6, 24)),
    ("last_month", "day", "previous", (2026, 8, 27), (2026, 9, 26)),
    ("last_month", "day", "year", (2025, 10, 2), (2025, 11, 1)),
    ("this_month", "day", "previous", (2026, 10, 4), (2026, 10, 30)),
    ("last_7_days", "day", "previous", (2026, 11, 14), (2026, 11, 20)),
    ("last_30_days", "day", "previous", (2026, 9, 24), (2026, 10, 23)),
    ("last_90_days", "week", "previous", (2026, 5, 31), (2026, 8, 28)),
    ("this_year", "week", "year", (2025, 1, 2), (2025, 11, 28)),
]


@pytest.mark.parametrize(("preset", "granularity", "mode", "start", "end"), CALENDAR_CASES)
def test_calendar_comparison_of_every_preset(preset, granularity, mode, start, end):
    r = resolve_preset(preset, TODAY)
    assert comparison_range(r, mode, preset=preset, granularity=granularity) == DateRange(
        date(*start), date(*end))


def test_every_preset_has_a_calendar_case():
    assert {case[0] for case in CALENDAR_CASES} == set(PRESETS) - {"custom"}


def test_whole_calendar_periods_are_recognised_without_a_preset():
    q1 = DateRange(date(2024, 1, 1), date(2024, 3, 31))
    assert period_kind(q1) == "quarter"
    assert comparison_range(q1, "previous", granularity="month") == DateRange(
        date(2023, 10, 1), date(2023, 12, 31))
    assert period_kind(DateRange(date(2024, 2, 1), date(2024, 2, 29))) == "month"
    assert period_kind(DateRange(date(2024, 1, 1), date(2024, 12, 31))) == "year"
    assert period_kind(DateRange(date(2024, 1, 2), date(2024, 3, 31))) == "days"


def test_captions_name_both_periods():
    r = resolve_preset("last_quarter", TODAY)
    previous = comparison_range(r, "previous", preset="last_quarter", granularity="month")
    assert period_caption(r, "previous", previous, "last_quarter") == (
        "Last quarter (1 Jul – 30 Sep 2026) vs previous quarter (1 Apr – 30 Jun 2026)")
    year = comparison_range(r, "year", preset="last_quarter", granularity="month")
    assert period_caption(r, "year", year, "last_quarter") == (
        "Last quarter (1 Jul – 30 Sep 2026) vs same period last year (1 Jul – 30 Sep 2025)")
    weekly = comparison_range(r, "previous", preset="last_quarter", granularity="week")
    assert comparison_name(r, "previous", weekly, "last_quarter") == (
        "previous quarter, weekday-aligned (25 Mar – 24 Jun 2026)")
    days = resolve_preset("last_30_days", TODAY)
    assert period_caption(days, "none", None, "last_30_days") == (
        "Last 30 days (29 Oct – 27 Nov 2026)")
    one = DateRange(TODAY, TODAY)
    assert comparison_name(one, "previous", comparison_range(one, "previous"), "custom") == (
        "previous 1 day, weekday-aligned (20 Nov 2026)")


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


def _same_kind(now: Window, before: Window, granularity: str) -> bool:
    """Both windows are one day of the same weekday, lie in one ISO week, or in one month."""
    if granularity == "day":
        return now.start == now.end and before.start == before.end and (
            now.start.weekday() == before.start.weekday())
    if granularity == "week":
        return (now.start.weekday(), now.end.weekday()) == (
            before.start.weekday(), before.end.weekday()) and (
            before.end - before.start == now.end - now.start) and (
            before.start.isocalendar()[:2] == before.end.isocalendar()[:2])
    return (before.start.year, before.start.month) == (before.end.year, before.end.month)


@st.composite
def ranges_with_presets(draw) -> tuple[DateRange, str | None]:
    """A preset resolved on a random today, or a random custom range."""
    preset = draw(st.sampled_from([*PRESETS]))
    if preset == "custom":
        return draw(ranges(max_days=500)), draw(st.sampled_from([None, "custom"]))
    return resolve_preset(preset, draw(DATES)), preset


@settings(deadline=None, max_examples=300)  # shared 2-core machine: timings vary
@given(case=ranges_with_presets(), granularity=st.sampled_from(["day", "week", "month"]),
       mode=st.sampled_from(["previous", "year"]))
def test_every_window_has_a_counterpart_of_the_same_kind(case, granularity, mode):
    r, preset = case
    comparison = comparison_range(r, mode, preset=preset, granularity=granularity)
    pairs = align_windows(r, comparison, granularity)
    assert [p.current for p in pairs] == split_range(r, granularity)
    assert len(split_range(comparison, granularity)) == len(pairs)
    for pair in pairs:
        assert pair.comparison is not None
        assert _same_kind(pair.current, pair.comparison, granularity)
        assert pair.current.partial == pair.comparison.partial
    assert comparison.end < r.end
    if mode == "previous":
        assert comparison.end < r.start  # never overlaps the range
    if granularity != "month":
        assert comparison.days == r.days
        assert (r.start - comparison.start).days % 7 == 0


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(today=DATES, preset=st.sampled_from(sorted(CALENDAR_PRESETS)))
def test_monthly_previous_of_a_calendar_preset_is_the_previous_calendar_period(today, preset):
    r = resolve_preset(preset, today)
    kind, to_date = CALENDAR_PRESETS[preset]
    previous = comparison_range(r, "previous", preset=preset, granularity="month")
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    assert previous.start.day == 1
    assert (r.start.year * 12 + r.start.month) - (previous.start.year * 12
                                                 + previous.start.month) == months
    if not to_date:
        assert previous.end == r.start - timedelta(days=1)
    earlier = comparison_range(r, "year", preset=preset, granularity="month")
    assert (earlier.start.year, earlier.start.month, earlier.start.day) == (
        r.start.year - 1, r.start.month, r.start.day)


@settings(deadline=None)  # shared 2-core machine: timings vary
@given(r=ranges(max_days=400))
def test_daily_comparison_faces_the_same_weekdays(r):
    for mode in ("previous", "year"):
        earlier = comparison_range(r, mode, granularity="day")
        assert earlier.start.weekday() == r.start.weekday() and earlier.days == r.days
    assert comparison_range(r, "year", granularity="day").start.year in (
        r.start.year - 1, r.start.year)  # 52 weeks back: within a few days of a year


def test_custom_comparison_pairs_by_position():
    r = DateRange(date(2026, 7, 1), date(2026, 9, 30))
    custom = DateRange(date(2026, 1, 1), date(2026, 2, 28))
    pairs = align_windows(r, custom, "month")
    assert [p.comparison.label if p.comparison else None for p in pairs] == [
        "2026-01", "2026-02", None]
    assert all(p.comparison is None for p in align_windows(r, None, "month"))


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


@settings(deadline=None)
@given(day=DATES)
def test_today_is_the_today_setting_when_set_else_the_utc_date(day) -> None:
    from datetime import UTC, datetime

    from whatfix_data.config import Settings
    from whatfix_data.windows import today_for

    fixed = Settings(base_url="http://x", account_id="a", integration_key="k", user="u",
                     cache="memory", today=day)
    assert today_for(fixed) == day
    before = datetime.now(UTC).date()
    unset = today_for(Settings(base_url="http://x", account_id="a", integration_key="k",
                               user="u", cache="memory"))
    assert before <= unset <= datetime.now(UTC).date()  # the real day (midnight may pass)
    assert before <= today_for() <= datetime.now(UTC).date()
