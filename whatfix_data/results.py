"""What a fetch returns: a decoded body (ApiResult) or a checked list (PagedResult), with FetchMeta.

Pure data, no HTTP: the client's layers (whatfix_data.transport, whatfix_data.pagination) build
these, and everything above the client (datasets, pages, the CLI) reads them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True)
class FetchMeta:
    """Where a result came from: cache or network, stale or fresh, and how big it was.

    `requests` counts the HTTP calls the result needed (cached or not), `network_requests` those
    that reached the API. `age_s` is the age of the oldest cached part (0 when all fresh).
    """

    fetched_at: datetime
    from_cache: bool
    stale: bool
    age_s: float
    requests: int
    rows: int | None = None
    total_count: int | None = None
    network_requests: int = 0

    @staticmethod
    def combine(metas: Iterable[FetchMeta], rows: int | None = None,
                total_count: int | None = None) -> FetchMeta:
        """One meta for a result assembled from several responses (pages or windows)."""
        parts = list(metas)
        if not parts:
            return FetchMeta(datetime.now(UTC), False, False, 0.0, 0, rows, total_count)
        return FetchMeta(
            fetched_at=min(m.fetched_at for m in parts),
            from_cache=all(m.from_cache for m in parts),
            stale=any(m.stale for m in parts),
            age_s=max(m.age_s for m in parts),
            requests=sum(m.requests for m in parts),
            rows=rows,
            total_count=total_count,
            network_requests=sum(m.network_requests for m in parts),
        )


@dataclass(frozen=True)
class ApiResult:
    """A decoded response body (JSON object, text or bytes) and where it came from."""

    payload: Any
    meta: FetchMeta


@dataclass(frozen=True)
class PagedResult:
    """All records of a paginated list, checked complete, and where they came from."""

    records: list[dict] = field(repr=False)
    meta: FetchMeta


__all__ = ["ApiResult", "FetchMeta", "PagedResult"]
