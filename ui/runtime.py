"""The only Streamlit internals the dashboard uses, each behind one named helper.

Streamlit has no public API for these two needs, so they live here and nowhere else
(tests/test_ui_runtime.py fails when Streamlit changes them):

- **Drawing from worker threads** (:func:`drawing_from_worker_threads`). The client fetches pages
  of a dataset in worker threads and reports progress from there; Streamlit draws only from a
  thread attached to a script run (``add_script_run_ctx``), and a draw made while a
  ``st.cache_data`` function runs is recorded and replayed on later cache hits unless the
  ``in_cached_function`` flag is cleared for it. A progress bar belongs to the run that fetched.
- **One message per script run** (:func:`run_token`): an object that is new for each run of the
  script, so that a notice (the shared cache is down) is said once per run, not once per section.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_run_context import in_cached_function

ProgressReport = Callable[[int, int], None]


@contextmanager
def attached_to(run_context: Any) -> Iterator[None]:
    """Draw from this thread into the script run of ``run_context``, never recorded by a cache.

    Attaches the current thread (a worker of the client, or the script thread itself) to the
    run, and clears Streamlit's "inside a cached function" flag for the draw, so that the draw
    is not replayed with the cached value on another page.
    """
    if run_context is not None:
        add_script_run_ctx(threading.current_thread(), run_context)
    token = in_cached_function.set(False)
    try:
        yield
    finally:
        in_cached_function.reset(token)


def drawing_from_worker_threads(draw: ProgressReport) -> ProgressReport:
    """``draw`` wrapped so that any thread may call it: it draws into the calling script run.

    Call in the script thread (it captures that run); hand the result to the data layer as its
    ``progress`` callback.
    """
    run_context = get_script_run_ctx()

    def report(done: int, total: int) -> None:
        with attached_to(run_context):
            draw(done, total)

    return report


def run_token() -> object | None:
    """An object that is new for every run of the script (None outside a script run)."""
    context = get_script_run_ctx()
    return None if context is None else context.parallel_coordinator
