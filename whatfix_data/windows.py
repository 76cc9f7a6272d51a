"""Date windows: the one helper for ranges, presets, day/week/month splits and comparison periods.

All ranges are inclusive calendar dates in UTC. Weeks are ISO weeks (Monday..Sunday). A window that
the range cuts short (the first or last week or month) is flagged ``partial`` and labelled so.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

PRESETS: tuple[str, ...] = (
    "last_7_days",
    "last_30_days",
    "last_90_days",
    "this_quarter",
    "last_quarter",
    "custom",
)
PRESET_LABELS: dict[str, str] = {
    "last_7_days": "Last 7 days",
    "last_30_days": "Last 30 days",
    "last_90_days": "Last 90 days",
    "this_quarter": "This quarter",
    "last_quarter": "Last quarter",
    "custom": "Custom range",
}
_PRESET_DAYS: dict[str, int] = {"last_7_days": 7, "last_30_days": 30, "last_90_days": 90}

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


def today_utc() -> date:
    """Today's date in UTC (the API's calendar)."""
    return datetime.now(UTC).date()


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
        """A readable label, e.g. ``1 Sep 2026 – 27 Nov 2026``."""
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


def resolve_preset(
    preset: str, today: date | None = None, custom: DateRange | None = None
) -> DateRange:
    """The DateRange of a preset; rolling presets end today (inclusive).

    ``this_quarter`` runs from the quarter's first day to today, ``last_quarter`` is the whole
    previous quarter, ``custom`` returns ``custom`` (required).
    """
    today = today or today_utc()
    if preset in _PRESET_DAYS:
        return DateRange(today - timedelta(days=_PRESET_DAYS[preset] - 1), today)
    if preset == "this_quarter":
        return DateRange(_quarter_start(today), today)
    if preset == "last_quarter":
        end = _quarter_start(today) - timedelta(days=1)
        return DateRange(_quarter_start(end), end)
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


def _year_earlier(day: date) -> date:
    """The same calendar day a year earlier; 29 February becomes 28 February."""
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def comparison_range(
    date_range: DateRange, mode: str, custom: DateRange | None = None
) -> DateRange | None:
    """The period to compare ``date_range`` with, or None for ``none``.

    ``previous``: the same number of days ending the day before the range starts. ``year``: the same
    calendar dates a year earlier (29 Feb -> 28 Feb). ``custom``: ``custom`` (required); a
    ``custom`` range given with ``previous`` or ``year`` takes precedence.
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
    if mode == "previous":
        end = date_range.start - timedelta(days=1)
        return DateRange(end - timedelta(days=date_range.days - 1), end)
    return DateRange(_year_earlier(date_range.start), _year_earlier(date_range.end))
