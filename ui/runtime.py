"""The only Streamlit internals the dashboard uses, each behind one named helper.

Streamlit has no public API for these needs, so they live here and nowhere else
(tests/test_ui_runtime.py fails when Streamlit changes them):

- **Drawing from worker threads** (:func:`drawing_from_worker_threads`). The client fetches pages
  of a dataset in worker threads and reports progress from there; Streamlit draws only from a
  thread attached to a script run (``add_script_run_ctx``), and a draw made while a
  ``st.cache_data`` function runs is recorded and replayed on later cache hits unless the
  ``in_cached_function`` flag is cleared for it. A progress bar belongs to the run that asked;
  the thread that draws it is attached for the draw only (it may be another run's script thread).
- **Stopping a fetch the user left** (:func:`run_was_left`): Streamlit interrupts a script only
  at its next Streamlit call, so a page blocked in a long fetch would finish it for nobody; a
  watcher reads whether a rerun or a stop is pending for the run (never consuming it).
- **One message per script run** (:func:`run_token`): an object that is new for each run of the
  script, so that a notice (the shared cache is down) is said once per run, not once per section.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from streamlit.runtime import Runtime
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.script_requests import ScriptRequestType
from streamlit.runtime.scriptrunner_utils.script_run_context import (
    SCRIPT_RUN_CONTEXT_ATTR_NAME,
    ThreadState,
    in_cached_function,
)

ProgressReport = Callable[[int, int], None]


@contextmanager
def attached_to(run_context: Any) -> Iterator[None]:
    """Draw from this thread into the script run of ``run_context``, never recorded by a cache.

    Attaches the current thread (a worker of the client, or a script thread) to the run for the
    block, then gives it back the run it had (none for a worker). The thread may be another run's
    script thread: the holder of a shared fetch reports progress to every waiter, and a script
    thread left attached to a waiter's run would draw the rest of its own page into that run
    (seen as "multiple elements with the same key" once a page was left mid-fetch). Also clears
    Streamlit's "inside a cached function" flag for the draw, so it is not replayed with the
    cached value on another page. Streamlit's per-thread state (a context variable) is seeded by
    the attach: run the block in a copy of the context (`drawing_from_worker_threads` does).
    """
    thread = threading.current_thread()
    previous = getattr(thread, SCRIPT_RUN_CONTEXT_ATTR_NAME, None)
    if run_context is not None:
        add_script_run_ctx(thread, run_context)
    token = in_cached_function.set(False)
    try:
        yield
    finally:
        in_cached_function.reset(token)
        if previous is None:
            with contextlib.suppress(AttributeError):
                delattr(thread, SCRIPT_RUN_CONTEXT_ATTR_NAME)
        else:
            setattr(thread, SCRIPT_RUN_CONTEXT_ATTR_NAME, previous)


def drawing_from_worker_threads(draw: ProgressReport) -> ProgressReport:
    """``draw`` wrapped so that any thread may call it: it draws into the calling script run.

    Call in the script thread (it captures that run, and the thread's Streamlit state: the page
    being drawn, whose script hash each message carries); hand the result to the data layer as
    its ``progress`` callback. The calling thread's own run and state are left as found.
    """
    run_context = get_script_run_ctx()
    try:
        page_state = dataclasses.asdict(ThreadState.get())
    except RuntimeError:  # outside a script run
        page_state = None

    def attached_draw(done: int, total: int) -> None:
        with attached_to(run_context):
            if page_state is not None:
                # What `add_script_run_ctx` called in the script thread gives a new thread: the
                # draw carries the page's script hash, not the app's main one (self-attach).
                ThreadState.initialize(**page_state)
            draw(done, total)

    def report(done: int, total: int) -> None:
        contextvars.copy_context().run(attached_draw, done, total)

    return report


def run_token() -> object | None:
    """An object that is new for every run of the script (None outside a script run)."""
    context = get_script_run_ctx()
    return None if context is None else context.parallel_coordinator


def current_run() -> Any | None:
    """The script run this thread belongs to (None outside a run, e.g. in a worker thread)."""
    return get_script_run_ctx()


def run_was_left(run_context: Any) -> bool:
    """Whether the user left this script run: a rerun of the whole page was asked for (new
    filters, another page), the session is stopping, or its browser tab is gone."""
    requests = run_context.script_requests
    # No public accessor: the pending request is read, never consumed.
    state = getattr(requests, "_state", None)
    if state is ScriptRequestType.STOP:
        return True
    if state is ScriptRequestType.RERUN:
        pending = getattr(requests, "_rerun_data", None)
        return not getattr(pending, "fragment_id_queue", None)  # a fragment rerun waits its turn
    return Runtime.exists() and not Runtime.instance().is_active_session(run_context.session_id)
