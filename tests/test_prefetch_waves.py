"""When a page's next prefetch wave starts (`ui.data._WaveTail`): on the last window of the
previous wave's requests, not when it has finished, and never before every job of it is sized.

The rule is counted per job of the wave, not per dataset name: the Overview and Engagement
prefetch the same trend for both periods in one wave (a bug keyed them by name, so the second
period's report overwrote the first's and the lists started while the trend had 23 windows to go).
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ui.data import _WaveTail
from whatfix_data import pagination

TREND = "engagement-trend"  # progress in windows, one request each
LIST = "end-users"  # progress in rows, one request per page
PAGE = pagination.PAGE_SIZE


def test_the_same_trend_for_two_periods_counts_twice():
    tail = _WaveTail(2, window=2)
    current, previous = tail.reporter(0, TREND), tail.reporter(1, TREND)
    current(29, 30)
    previous(7, 30)
    assert not tail.reached.is_set()  # 1 + 23 windows to go
    current(30, 30)
    assert not tail.reached.is_set()  # the previous period still has 23
    previous(28, 30)
    assert tail.reached.is_set()  # 0 + 2: the last window of requests is on the wire


def test_a_job_not_sized_yet_holds_the_next_wave_back():
    tail = _WaveTail(2, window=8)
    tail.reporter(0, LIST)(100 * PAGE, 100 * PAGE)
    assert not tail.reached.is_set()
    tail.finished(1)  # ended (from the memo, or failed) without a report
    assert tail.reached.is_set()


def test_rows_count_in_pages():
    tail = _WaveTail(1, window=8)
    report = tail.reporter(0, LIST)
    report(PAGE, 10 * PAGE)  # 9 pages to go
    assert not tail.reached.is_set()
    report(2 * PAGE, 10 * PAGE - 1)  # 7.99 pages: 8 requests
    assert tail.reached.is_set()


jobs = st.lists(st.tuples(st.sampled_from([TREND, LIST]), st.integers(0, 40),
                          st.integers(0, 40)), min_size=1, max_size=5)


@given(jobs=jobs, window=st.integers(1, 8), finished=st.lists(st.booleans(), max_size=5))
def test_reached_once_every_job_is_sized_and_few_requests_are_left(jobs, window, finished):
    tail = _WaveTail(len(jobs), window)
    left = []
    for number, (name, pages_done, pages_left) in enumerate(jobs):
        unit = 1 if name == TREND else PAGE
        ended = number < len(finished) and finished[number]
        if ended:
            tail.finished(number)
            left.append(0)
        else:
            tail.reporter(number, name)(pages_done * unit, (pages_done + pages_left) * unit)
            left.append(pages_left)
        every_job_sized = number == len(jobs) - 1
        assert tail.reached.is_set() == (every_job_sized and sum(left) <= window)
