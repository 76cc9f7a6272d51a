"""Date windows: the one helper for ranges, presets, day/week/month splits and comparison periods.

All ranges are inclusive calendar dates in UTC. Weeks are ISO weeks (Monday..Sunday). A window that
the range cuts short (the first or last week or month) is flagged ``partial`` and labelled so.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol

PRESETS: tuple[str, ...] = (
    "last_7_days",
    "last_30_days",
    "last_90_days",
    "this_month",
    "last_month",
    "this_quarter",
    "last_quarter",
    "this_year",
    "last_year",
    "custom",
)
PRESET_LABELS: dict[str, str] = {
    "last_7_days": "Last 7 days",
    "last_30_days": "Last 30 days",
    "last_90_days": "Last 90 days",
    "this_month": "This month",
    "last_month": "Last month",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "this_year": "This year",
    "last_year": "Last year",
    "custom": "Custom range",
}
_PRESET_DAYS: dict[str, int] = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90}
# Calendar presets: preset -> (kind of period, whether it runs to today rather than being whole).
CALENDAR_PRESETS: dict[str, tuple[str, bool]] = {
    "this_month": ("month", True),
    "last_month": ("month", False),
    "this_quarter": ("quarter", True),
    "last_quarter": ("quarter", False),
    "this_year": ("year", True),
    "last_year": ("year", False),
}
# Kinds of range: a calendar month, quarter or year (whole or to date), or a run of days.
PERIOD_MONTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}
KIND_DAYS = "days"

GRANULARITIES: tuple[str, ...] = ("day", "week", "month")
COMPARISONS: tuple[str, ...] = ("none", "previous", "year", "custom")
COMPARISON_LABELS: dict[str, str] = {
    "none": "No comparison",
    "previous": "Previous period",
    "year": "Same period last year",
    "custom": "Custom period",
}

# default_granularity thresholds, in days (inclusive).
DAILY_MAX_DAYS = 31
WEEKLY_MAX_DAYS = 180
MONTHS_PER_QUARTER = 3
PARTIAL_SUFFIX = " (partial)"


class InvalidDateRange(ValueError):
    """A date, range, preset, granularity or comparison that cannot be used (message says why)."""


# --------------------------------------------------------------------------- ISO helpers


class _HasToday(Protocol):
    """Anything carrying the `today` setting (whatfix_data.config.Settings)."""

    today: date | None


def today_for(settings: _HasToday | None = None) -> date:
    """Today for this process: the `today` setting (WHATFIX_TODAY) when set, else the UTC date.

    The one "today" of the project: the end of rolling presets, the boundary between windows
    that never change and those that still do (whatfix_data.cache), the last day a note may
    carry. Pass the settings whenever they are at hand, so a fixed demo or test day holds
    everywhere alike.
    """
    fixed = getattr(settings, "today", None)
    return fixed if fixed is not None else datetime.now(UTC).date()


def to_iso(day: date) -> str:
    """A date as ``YYYY-MM-DD``."""
    return day.isoformat()


def from_iso(text: str | date, what: str = "date") -> date:
    """Parse ``YYYY-MM-DD`` (a date passes through); InvalidDateRange when it is not a date."""
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise InvalidDateRange(
            f"The {what} {text!r} is not a valid date: use the form YYYY-MM-DD, e.g. 2026-11-27."
        ) from None


def _check_date(value: object, what: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise InvalidDateRange(f"The {what} must be a date, got {type(value).__name__}.")
    return value


# --------------------------------------------------------------------------- ranges and windows


@dataclass(frozen=True)
class DateRange:
    """An inclusive range of calendar dates; ``start`` must not be after ``end``."""

    start: date
    end: date

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", _check_date(self.start, "start date"))
        object.__setattr__(self, "end", _check_date(self.end, "end date"))
        if self.start > self.end:
            raise InvalidDateRange(
                f"The start date {self.start.isoformat()} is after the end date "
                f"{self.end.isoformat()}: pick a start on or before the end."
            )

    @classmethod
    def from_iso(cls, start: str | date, end: str | date) -> DateRange:
        """A range from two ``YYYY-MM-DD`` strings."""
        return cls(from_iso(start, "start date"), from_iso(end, "end date"))

    @property
    def days(self) -> int:
        """Number of days in the range, both ends included."""
        return (self.end - self.start).days + 1

    def includes(self, day: date) -> bool:
        """Whether ``day`` lies in the range."""
        return self.start <= day <= self.end

    def dates(self) -> list[date]:
        """Every date of the range, in order."""
        return [self.start + timedelta(days=offset) for offset in range(self.days)]

    def ended_before(self, day: date) -> bool:
        """Whether the whole range lies before ``day`` (its data can no longer change)."""
        return self.end < day

    def params(self) -> dict[str, str]:
        """The API's query parameters for this range."""
        return {"startDate": self.start.isoformat(), "endDate": self.end.isoformat()}

    def label(self) -> str:
        """A readable label, the year once when both ends share it: ``1 Jul – 30 Sep 2026``,
        ``15 Dec 2025 – 14 Jan 2026``, ``3 Oct 2026`` for one day."""
        if self.start == self.end:
            return format_day(self.start)
        if self.start.year == self.end.year:
            short = f"{self.start.day} {calendar.month_abbr[self.start.month]}"
            return f"{short} – {format_day(self.end)}"
        return f"{format_day(self.start)} – {format_day(self.end)}"

    def slug(self) -> str:
        """A file-name-safe label, e.g. ``2026-09-01_2026-11-27``."""
        return f"{self.start.isoformat()}_{self.end.isoformat()}"


@dataclass(frozen=True)
class Window:
    """One slice of a range: inclusive dates, a label, and whether the range cut it short."""

    start: date
    end: date
    label: str
    partial: bool

    @property
    def date_range(self) -> DateRange:
        """The window as a DateRange."""
        return DateRange(self.start, self.end)

    def params(self) -> dict[str, str]:
        """The API's query parameters for this window."""
        return self.date_range.params()


def format_day(day: date) -> str:
    """A date for people, e.g. ``3 Oct 2026`` (no leading zero, English month)."""
    return f"{day.day} {calendar.month_abbr[day.month]} {day.year}"


# --------------------------------------------------------------------------- presets


def _quarter_start(day: date) -> date:
    first_month = (day.month - 1) // MONTHS_PER_QUARTER * MONTHS_PER_QUARTER + 1
    return date(day.year, first_month, 1)


def _period_start(day: date, kind: str) -> date:
    """First day of the calendar month, quarter or year containing ``day``."""
    if kind == "month":
        return day.replace(day=1)
    if kind == "quarter":
        return _quarter_start(day)
    return date(day.year, 1, 1)


def resolve_preset(
    preset: str, today: date | None = None, custom: DateRange | None = None
) -> DateRange:
    """The DateRange of a preset; rolling presets end today (inclusive).

    ``this_month`` / ``this_quarter`` / ``this_year`` run from the period's first day to today;
    ``last_month`` / ``last_quarter`` / ``last_year`` are the whole previous calendar period;
    ``custom`` returns ``custom`` (required).
    """
    today = today or today_for()
    if preset in _PRESET_DAYS:
        return DateRange(today - timedelta(days=_PRESET_DAYS[preset] - 1), today)
    if preset in CALENDAR_PRESETS:
        kind, to_date = CALENDAR_PRESETS[preset]
        start = _period_start(today, kind)
        if to_date:
            return DateRange(start, today)
        end = start - timedelta(days=1)
        return DateRange(_period_start(end, kind), end)
    if preset == "custom":
        if custom is None:
            raise InvalidDateRange("A custom range needs a start and an end date.")
        return custom
    raise InvalidDateRange(f"Unknown date range {preset!r}: choose one of {', '.join(PRESETS)}.")


def default_granularity(date_range: DateRange) -> str:
    """``day`` up to 31 days, ``week`` up to 180 days, ``month`` beyond."""
    if date_range.days <= DAILY_MAX_DAYS:
        return "day"
    if date_range.days <= WEEKLY_MAX_DAYS:
        return "week"
    return "month"


# --------------------------------------------------------------------------- splitting


def _month_end(day: date) -> date:
    return date(day.year, day.month, calendar.monthrange(day.year, day.month)[1])


def _natural_bounds(day: date, granularity: str) -> tuple[date, date]:
    """The full (unclipped) day, ISO week or month containing ``day``."""
    if granularity == "day":
        return day, day
    if granularity == "week":
        monday = day - timedelta(days=day.weekday())
        return monday, monday + timedelta(days=6)
    return day.replace(day=1), _month_end(day)


def _natural_label(start: date, granularity: str) -> str:
    if granularity == "day":
        return start.isoformat()
    if granularity == "week":
        iso_year, iso_week, _ = start.isocalendar()
        return f"{iso_year}-W{iso_week:02d}"
    return f"{start.year}-{start.month:02d}"


def split_range(date_range: DateRange, granularity: str) -> list[Window]:
    """Consecutive windows covering the range exactly (no gap, no overlap).

    Weeks are ISO weeks (Monday..Sunday, labelled ``2026-W45``); months are calendar months
    (``2026-11``). A first or last window cut by the range is ``partial`` and its label ends with
    `` (partial)``.
    """
    if granularity not in GRANULARITIES:
        raise InvalidDateRange(
            f"Unknown granularity {granularity!r}: choose one of {', '.join(GRANULARITIES)}."
        )
    windows: list[Window] = []
    cursor = date_range.start
    while cursor <= date_range.end:
        natural_start, natural_end = _natural_bounds(cursor, granularity)
        start = max(natural_start, date_range.start)
        end = min(natural_end, date_range.end)
        partial = (start, end) != (natural_start, natural_end)
        label = _natural_label(natural_start, granularity) + (PARTIAL_SUFFIX if partial else "")
        windows.append(Window(start=start, end=end, label=label, partial=partial))
        cursor = end + timedelta(days=1)
    return windows


# --------------------------------------------------------------------------- comparison periods
#
# A comparison is the current range moved back in time by a whole number of calendar units, so
# that window k of one is window k of the other, of the same kind:
#
# * monthly trends move by whole months: the previous calendar month / quarter / year for a
#   calendar range (1 Jul - 30 Sep -> 1 Apr - 30 Jun), 12 months for "same period last year",
#   and for a run of days the fewest months that clear the range. A whole month maps to a whole
#   month, and a month the range cuts short maps to one cut short too;
# * weekly and daily trends move by whole weeks, so ISO week faces ISO week and Monday faces
#   Monday: the move closest to the named period (previous calendar period, previous N days,
#   52 weeks for last year) that does not overlap the range, with as many days as the range.
#
# The named period and the moved one differ only when weekdays would not line up; captions then
# say "weekday-aligned" and always give the dates.

DAYS_PER_WEEK = 7
WEEKS_PER_YEAR = 52


def _year_earlier(day: date) -> date:
    """The same calendar day a year earlier; 29 February becomes 28 February."""
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def _months_back(day: date, months: int) -> date:
    """The first day of the month ``months`` before ``day``'s month."""
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


def _month_length(day: date) -> int:
    return calendar.monthrange(day.year, day.month)[1]


def shift_months(date_range: DateRange, months: int) -> DateRange:
    """The range moved back ``months`` calendar months, keeping each end's kind of day.

    A start on the 1st stays on the 1st (else its day, clipped to the shorter month); an end on a
    month's last day stays on the last day (else its day, clipped to one before the last), so a
    window cut short by the range is cut short in the moved range too.
    """
    start_month = _months_back(date_range.start, months)
    end_month = _months_back(date_range.end, months)
    start_day = date_range.start.day
    if start_day != 1:
        start_day = min(start_day, _month_length(start_month))
    if date_range.end == _month_end(date_range.end):
        end_day = _month_length(end_month)
    else:
        end_day = min(date_range.end.day, _month_length(end_month) - 1)
    start, end = start_month.replace(day=start_day), end_month.replace(day=end_day)
    return DateRange(min(start, end), end)


def shift_weeks(date_range: DateRange, weeks: int) -> DateRange:
    """The range moved back ``weeks`` whole weeks (weekdays unchanged)."""
    offset = timedelta(days=DAYS_PER_WEEK * weeks)
    return DateRange(date_range.start - offset, date_range.end - offset)


def period_kind(date_range: DateRange, preset: str | None = None) -> str:
    """``month``, ``quarter`` or ``year`` for a calendar range, else ``days``.

    A calendar preset gives its kind (also when it runs only to today); any other range is a
    calendar period when it is exactly one whole calendar year, quarter or month.
    """
    if preset in CALENDAR_PRESETS:
        return CALENDAR_PRESETS[preset][0]
    for kind in ("year", "quarter", "month"):
        start = _period_start(date_range.end, kind)
        end = _months_back(start, -PERIOD_MONTHS[kind]) - timedelta(days=1)
        if (date_range.start, date_range.end) == (start, end):
            return kind
    return KIND_DAYS


def _named_previous(date_range: DateRange, kind: str) -> DateRange:
    """The comparison the words promise: previous calendar period, or previous N days."""
    if kind == KIND_DAYS:
        end = date_range.start - timedelta(days=1)
        return DateRange(end - timedelta(days=date_range.days - 1), end)
    return shift_months(date_range, PERIOD_MONTHS[kind])


def _weekday_aligned(date_range: DateRange, named: DateRange, no_overlap: bool) -> DateRange:
    """The whole-week move closest to ``named``; with ``no_overlap`` never into the range."""
    weeks = max(1, round((date_range.start - named.start).days / DAYS_PER_WEEK))
    while no_overlap and DAYS_PER_WEEK * weeks < date_range.days:
        weeks += 1
    return shift_weeks(date_range, weeks)


def comparison_range(
    date_range: DateRange,
    mode: str,
    *,
    preset: str | None = None,
    granularity: str | None = None,
    custom: DateRange | None = None,
) -> DateRange | None:
    """The period to compare ``date_range`` with, window by window; None for ``none``.

    ``previous``: the previous calendar month / quarter / year for a calendar range (``preset``
    or a range that is one whole calendar period), else the previous N days. ``year``: the same
    span a year earlier. Both are moved by whole months (monthly trends) or whole weeks (weekly
    and daily ones; ``granularity`` None means the range's default) as explained above.
    ``custom``: ``custom`` as given (required); a ``custom`` range takes precedence.
    """
    if mode not in COMPARISONS:
        raise InvalidDateRange(
            f"Unknown comparison {mode!r}: choose one of {', '.join(COMPARISONS)}."
        )
    if mode == "none":
        return None
    if custom is not None:
        return custom
    if mode == "custom":
        raise InvalidDateRange("A custom comparison needs a start and an end date.")
    granularity = granularity or default_granularity(date_range)
    if granularity not in GRANULARITIES:
        raise InvalidDateRange(
            f"Unknown granularity {granularity!r}: choose one of {', '.join(GRANULARITIES)}."
        )
    kind = period_kind(date_range, preset)
    if granularity == "month":
        if mode == "year":
            return shift_months(date_range, PERIOD_MONTHS["year"])
        if kind != KIND_DAYS:
            return shift_months(date_range, PERIOD_MONTHS[kind])
        months = 1
        while shift_months(date_range, months).end >= date_range.start:
            months += 1
        return shift_months(date_range, months)
    if mode == "year":
        named = DateRange(_year_earlier(date_range.start), _year_earlier(date_range.end))
        return _weekday_aligned(date_range, named, no_overlap=False)
    return _weekday_aligned(date_range, _named_previous(date_range, kind), no_overlap=True)


def named_comparison(date_range: DateRange, mode: str, preset: str | None = None) -> DateRange:
    """The comparison the words name, before any move to line up windows (for captions)."""
    if mode == "year":
        return DateRange(_year_earlier(date_range.start), _year_earlier(date_range.end))
    return _named_previous(date_range, period_kind(date_range, preset))


# --------------------------------------------------------------------------- captions


def range_name(preset: str | None, date_range: DateRange) -> str:
    """The range in words: ``Last quarter (1 Jul – 30 Sep 2026)``; just the dates without a
    preset (command line)."""
    if preset is None or preset not in PRESET_LABELS:
        return date_range.label()
    return f"{PRESET_LABELS[preset]} ({date_range.label()})"


def comparison_name(
    date_range: DateRange,
    mode: str,
    comparison: DateRange | None,
    preset: str | None = None,
) -> str:
    """The comparison in words, e.g. ``previous quarter (1 Apr – 30 Jun 2026)``; "" for none.

    A comparison moved to line up weekdays says so (``previous 30 days, weekday-aligned``).
    """
    if comparison is None or mode == "none":
        return ""
    if mode == "custom":
        return f"custom period ({comparison.label()})"
    kind = period_kind(date_range, preset)
    if mode == "year":
        words = "same period last year"
    elif kind == KIND_DAYS:
        words = f"previous {date_range.days:,} day" + ("s" if date_range.days != 1 else "")
    else:
        words = f"previous {kind}"
    if comparison != named_comparison(date_range, mode, preset):
        words += ", weekday-aligned" if comparison.days == date_range.days and (
            comparison.start.weekday() == date_range.start.weekday()) else ", month-aligned"
    return f"{words} ({comparison.label()})"


def period_caption(
    date_range: DateRange,
    mode: str,
    comparison: DateRange | None,
    preset: str | None = None,
) -> str:
    """Both periods in words: ``Last quarter (1 Jul – 30 Sep 2026) vs previous quarter
    (1 Apr – 30 Jun 2026)``; the range alone without a comparison."""
    current = range_name(preset, date_range)
    compared = comparison_name(date_range, mode, comparison, preset)
    return f"{current} vs {compared}" if compared else current


# --------------------------------------------------------------------------- aligned windows


@dataclass(frozen=True)
class WindowPair:
    """Window k of the current range and window k of the comparison range (None: none)."""

    current: Window
    comparison: Window | None


def align_windows(
    date_range: DateRange, comparison: DateRange | None, granularity: str
) -> list[WindowPair]:
    """Window k of the range beside window k of the comparison, by position.

    With a comparison from :func:`comparison_range` both have the same number of windows, of the
    same kind (month and month, ISO week and ISO week, weekday and weekday) and cut short the
    same way. A custom comparison may have fewer windows (the rest face None) or more (ignored).
    """
    now = split_range(date_range, granularity)
    before = split_range(comparison, granularity) if comparison is not None else []
    return [WindowPair(window, before[k] if k < len(before) else None)
            for k, window in enumerate(now)]
