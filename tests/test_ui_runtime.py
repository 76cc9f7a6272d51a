"""ui.runtime: the Streamlit internals the dashboard relies on still behave as it expects.

These tests fail when a Streamlit upgrade moves or changes them (add_script_run_ctx,
get_script_run_ctx, in_cached_function, the per-run parallel_coordinator).
"""

from __future__ import annotations

import contextvars

from streamlit.testing.v1 import AppTest

from ui import runtime

TIMEOUT_S = 60


def test_the_cached_function_flag_is_a_context_variable_cleared_while_attached():
    from streamlit.runtime.scriptrunner_utils.script_run_context import in_cached_function

    assert isinstance(in_cached_function, contextvars.ContextVar)
    token = in_cached_function.set(True)
    try:
        with runtime.attached_to(None):
            assert in_cached_function.get() is False
        assert in_cached_function.get() is True  # restored afterwards
    finally:
        in_cached_function.reset(token)


def test_outside_a_script_run_there_is_no_run_token():
    assert runtime.run_token() is None


def _worker_thread_app() -> None:
    """A cached loader whose worker thread reports progress into the page (as the client)."""
    import contextvars
    import threading

    import streamlit as st

    from ui import runtime

    bar = st.empty()
    st.session_state.setdefault("tokens", []).append(runtime.run_token())

    def draw(done: int, total: int) -> None:
        bar.progress(done / total, text=f"step {done} of {total}")

    report = runtime.drawing_from_worker_threads(draw)

    @st.cache_data(show_spinner=False)
    def load(n: int) -> int:
        # The worker runs in a copy of this context, as a pool that propagates context does:
        # it sees Streamlit's "inside a cached function" flag set.
        worker = threading.Thread(target=contextvars.copy_context().run, args=(report, n - 1, n))
        worker.start()
        worker.join()
        return n

    st.write(f"loaded {load(4)}")


def test_a_worker_thread_draws_into_the_run_and_a_cache_hit_replays_nothing():
    at = AppTest.from_function(_worker_thread_app, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert [m.value for m in at.markdown] == ["loaded 4"]
    assert _progress_texts(at) == ["step 3 of 4"]  # drawn from the worker thread
    at.run()  # a cache hit: the worker's draw was not recorded, so nothing is replayed
    assert not at.exception
    assert _progress_texts(at) == []
    first, second = at.session_state["tokens"]
    assert first is not None and first is not second, "a new token for every run"


def _progress_texts(at: AppTest) -> list[str]:
    return [node.proto.text for node in at.get("progress")]


def test_a_pending_rerun_or_stop_is_seen_and_not_consumed():
    """run_was_left reads ScriptRequests' pending request (a private field) without taking it."""
    from streamlit.runtime.scriptrunner_utils.script_requests import (
        RerunData,
        ScriptRequests,
        ScriptRequestType,
    )

    class Run:  # the two attributes of a script run context that run_was_left reads
        session_id = "no-such-session"

        def __init__(self) -> None:
            self.script_requests = ScriptRequests()

    run = Run()
    run.script_requests._state = ScriptRequestType.CONTINUE
    assert not runtime.run_was_left(run)  # no Runtime in this process: nothing says it is gone
    assert run.script_requests.request_rerun(RerunData())
    assert runtime.run_was_left(run)
    assert run.script_requests._state is ScriptRequestType.RERUN  # still pending for Streamlit
    run.script_requests.request_stop()
    assert runtime.run_was_left(run)


def test_a_report_called_from_another_runs_thread_leaves_that_thread_in_its_own_run():
    """The holder of a shared fetch (maybe another page run's script thread) reports progress to
    every waiter: the draw goes to the waiter's run, and the holder's thread stays in its own run
    (left attached, it drew the rest of its page into the waiter's: a duplicate-key error)."""
    import threading
    from types import SimpleNamespace

    from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx
    from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

    def fake_run(name: str) -> SimpleNamespace:
        return SimpleNamespace(name=name, pages_manager=SimpleNamespace(main_script_hash=name))

    waiter_run, holder_run = fake_run("waiter"), fake_run("holder")
    seen: dict[str, object] = {}

    def capture_report() -> None:
        add_script_run_ctx(threading.current_thread(), waiter_run)
        seen["report"] = runtime.drawing_from_worker_threads(
            lambda done, total: seen.setdefault("drawn_in", get_script_run_ctx()))

    def holder() -> None:
        add_script_run_ctx(threading.current_thread(), holder_run)
        before = ThreadState.get().active_script_hash
        seen["report"](1, 2)
        seen["after"] = get_script_run_ctx()
        seen["state_after"] = (before, ThreadState.get().active_script_hash)

    for target in (capture_report, holder):
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    assert seen["drawn_in"] is waiter_run
    assert seen["after"] is holder_run
    assert seen["state_after"] == ("holder", "holder")


def test_a_worker_without_a_run_has_none_again_after_drawing():
    import threading
    from types import SimpleNamespace

    from streamlit.runtime.scriptrunner import get_script_run_ctx

    run = SimpleNamespace(pages_manager=SimpleNamespace(main_script_hash="page"))
    seen: list[object] = []

    def worker() -> None:
        with runtime.attached_to(run):
            seen.append(get_script_run_ctx(suppress_warning=True))
        seen.append(get_script_run_ctx(suppress_warning=True))

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == [run, None]
