"""Pages prefetch what they draw (`ui.prefetch`): the same datasets and requests, sent at once.

The analytics pages start their datasets' fetches together in background threads, so
their requests share the account's concurrency window instead of queueing section by section
(docs/PERFORMANCE.md). What must hold whatever the filters: the prefetch loads only what the
page itself then loads (nothing fetched for nobody), covers what the page loads, and costs
exactly the requests the page costs without it.
"""

from __future__ import annotations

import threading

import pytest

import ui
from whatfix_data import datasets, registry

pytestmark = pytest.mark.slow

SIDEBAR = {"segments"}  # the sidebar's segment list is loaded before any page runs


def _key(name, date_range, granularity):
    return (name, None if name in registry.LISTS else date_range,
            granularity if name.endswith("-trend") else None)


@pytest.fixture()
def recorded(monkeypatch):
    """Every load_dataset call as (by the prefetch?, dataset key)."""
    calls: list[tuple[bool, tuple]] = []
    original = datasets.load_dataset

    def recording(client, name, date_range, granularity="week", progress=None):
        by_prefetch = threading.current_thread().name.startswith("whatfix-prefetch")
        calls.append((by_prefetch, _key(name, date_range, granularity)))
        return original(client, name, date_range, granularity, progress)

    monkeypatch.setattr(datasets, "load_dataset", recording)
    return calls


def _run(open_page, page, server, *, segment: bool):
    datasets.clear_memo()
    server.reset()
    at = open_page(page)
    if segment:
        at.selectbox(key="segment").select_index(1).run()
    assert not at.exception, at.exception
    return at, server.stats()["requests"]


@pytest.mark.parametrize("segment", [False, True], ids=["all users", "a segment"])
@pytest.mark.parametrize("page", ["pages/overview.py", "pages/flows.py", "pages/self_help.py",
                                  "pages/engagement.py", "pages/task_lists.py",
                                  "pages/segments.py"])
def test_the_prefetch_loads_what_the_page_loads_for_the_same_requests(
        make_sim_server, point_app, open_page, recorded, monkeypatch, page, segment):
    server = make_sim_server(users=400)
    point_app(server.base_url, server.accounts[0])
    _, with_prefetch = _run(open_page, page, server, segment=segment)
    prefetched = {key for by_prefetch, key in recorded if by_prefetch}
    loaded = {key for by_prefetch, key in recorded if not by_prefetch}
    assert prefetched, "the page prefetched nothing"
    assert prefetched <= loaded, f"fetched for nobody: {prefetched - loaded}"
    assert {key[0] for key in loaded - prefetched} <= SIDEBAR, loaded - prefetched

    monkeypatch.setattr(ui, "prefetch", lambda *waves: None)
    recorded.clear()
    twin = make_sim_server(users=400)  # the same data, nothing of it cached yet
    point_app(twin.base_url, twin.accounts[0])
    _, without_prefetch = _run(open_page, page, twin, segment=segment)
    assert not any(by_prefetch for by_prefetch, _ in recorded)
    assert with_prefetch == without_prefetch > 0
