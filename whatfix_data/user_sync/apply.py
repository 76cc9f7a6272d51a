"""Apply a plan: one PUT per row to send, bounded concurrency, exactly one outcome per row.

Invalid rows (never sent) and unchanged rows (no request) get their outcome first; then worker
threads send the rest in file order. Retries and backoff on 429/5xx happen inside the client
(``user_sync.remote.put_end_user``); what is still an error afterwards is the row's ``failed``
message. Interrupting (Ctrl-C, SIGTERM, a closed browser tab) stops new requests, records the
replies in flight, and marks every row not sent as ``failed`` ("not sent"), so the outcomes
still add up and the failed-rows file holds everything left to do.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from whatfix_data.errors import WhatfixError
from whatfix_data.user_sync.outcomes import (
    CREATED,
    FAILED,
    INVALID,
    UNCHANGED,
    UPDATED,
    AuditLog,
    OutcomeRecorder,
)
from whatfix_data.user_sync.preview import CREATE as ACTION_CREATE
from whatfix_data.user_sync.preview import UNCHANGED as ACTION_UNCHANGED
from whatfix_data.user_sync.preview import Plan

Put = Callable[[str, dict], tuple[int, dict]]
Progress = Callable[["ApplyProgress"], None]

DEFAULT_CONCURRENCY = 8
STATUS_OUTCOMES = {201: CREATED, 200: UPDATED}
PROGRESS_INTERVAL_S = 0.1
POLL_S = 0.1
# How long an interrupted run waits for requests already on the wire before giving up on them.
IN_FLIGHT_GRACE_S = 10.0
NOT_SENT = "Not sent: the sync was interrupted before this row. Upload the failed rows again."
IN_FLIGHT = (
    "Interrupted while the request was in flight: the user may or may not have been changed. "
    "Upload the failed rows again (a row already applied is then reported unchanged)."
)
UNCHANGED_MESSAGE = "Already up to date: no request sent."
# The outcome follows the API's status; this says why a user new at preview time was "updated".
RETRIED_CREATE = (
    "The user was new at preview time, but the API answered 200: an earlier attempt of this "
    "request (retried after a network fault) had already created it"
)


@dataclass(frozen=True)
class ApplyProgress:
    """Where an apply stands: rows done (all outcomes) of total, counts per outcome."""

    done: int
    total: int
    sent: int
    to_send: int
    counts: dict[str, int]


@dataclass(frozen=True)
class ApplyResult:
    """Counts per outcome (they add up to ``total``), whether it was interrupted, the timing."""

    counts: dict[str, int]
    total: int
    interrupted: bool
    elapsed_s: float
    sent: int

    @property
    def complete(self) -> bool:
        return sum(self.counts.values()) == self.total


@dataclass(frozen=True)
class _Job:
    row: int
    user_id: str
    body: dict
    changed: str
    fields: list[str]
    attributes: list[str]
    action: str


def _changed_text(fields: list[str], attributes: list[str]) -> str:
    names = [*fields, *attributes]
    return "changed: " + ", ".join(names) if names else ""


def _jobs(plan: Plan) -> list[_Job]:
    to_send = plan.to_send
    return [
        _Job(int(row), str(uid), body, _changed_text(fields, attrs), list(fields), list(attrs),
             str(action))
        for row, uid, body, fields, attrs, action in zip(
            to_send["row"], to_send["user_id"], to_send["body"], to_send["changed_fields"],
            to_send["changed_attributes"], to_send["action"], strict=True,
        )
    ]


def _send(put: Put, job: _Job) -> tuple[str, str, int | None]:
    """(outcome, message, HTTP status) of one request; never raises."""
    try:
        status, payload = put(job.user_id, job.body)
    except WhatfixError as exc:
        return FAILED, exc.user_message, exc.status_code
    except Exception as exc:  # a bug or transport surprise must not lose the row
        return FAILED, f"Unexpected error while sending ({type(exc).__name__}).", None
    outcome = STATUS_OUTCOMES.get(status)
    if outcome == UPDATED and job.action == ACTION_CREATE:
        return outcome, RETRIED_CREATE + (f" ({job.changed})" if job.changed else ""), status
    if outcome is not None:
        return outcome, job.changed, status
    message = payload.get("message") if isinstance(payload, dict) else None
    details = payload.get("details") if isinstance(payload, dict) else None
    text = " ".join(str(part) for part in (message, details) if part) or f"HTTP {status}"
    return FAILED, f"The API refused this row ({status}): {text}", status


class _Workers:
    """N threads pulling jobs from one iterator and pushing (job, result) onto a queue."""

    def __init__(self, put: Put, jobs: list[_Job], concurrency: int) -> None:
        self._put = put
        self._iterator: Iterator[_Job] = iter(jobs)
        self._lock = threading.Lock()
        self.stop = threading.Event()
        self.results: queue.Queue[tuple[_Job, tuple[str, str, int | None]]] = queue.Queue()
        self.taken: set[int] = set()
        self.in_flight: dict[int, _Job] = {}
        self.threads = [
            threading.Thread(target=self._run, name=f"user-sync-{i}", daemon=True)
            for i in range(max(1, min(concurrency, len(jobs))))
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def _next(self) -> _Job | None:
        with self._lock:
            if self.stop.is_set():
                return None
            job = next(self._iterator, None)
            if job is not None:
                self.taken.add(job.row)
                self.in_flight[job.row] = job
            return job

    def _run(self) -> None:
        while (job := self._next()) is not None:
            result = _send(self._put, job)
            self.results.put((job, result))

    def done(self, job: _Job) -> None:
        with self._lock:
            self.in_flight.pop(job.row, None)

    def still_in_flight(self) -> list[_Job]:
        with self._lock:
            jobs = list(self.in_flight.values())
            self.in_flight.clear()
            return jobs

    def alive(self) -> bool:
        return any(thread.is_alive() for thread in self.threads)


def _record_fixed_outcomes(plan: Plan, recorder: OutcomeRecorder) -> None:
    """Invalid and unchanged rows: known before any request."""
    for row, uid, message in zip(plan.invalid["row"], plan.invalid["user_id"],
                                 plan.invalid["message"], strict=True):
        recorder.record(int(row), "" if uid is None else str(uid), INVALID, str(message))
    unchanged = plan.actions[plan.actions["action"] == ACTION_UNCHANGED]
    for row, uid in zip(unchanged["row"], unchanged["user_id"], strict=True):
        recorder.record(int(row), str(uid), UNCHANGED, UNCHANGED_MESSAGE)


def apply_plan(
    plan: Plan,
    put: Put,
    *,
    recorder: OutcomeRecorder | None = None,
    audit: AuditLog | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> ApplyResult:
    """Send the plan's rows with ``put`` (normally ``user_sync.end_user_writer(client)``).

    Returns when every row has its outcome. Ctrl-C (KeyboardInterrupt) and ``stop`` end the run
    early and are reported as ``interrupted``; any other exception raised by ``progress`` (such as
    Streamlit stopping the script) is re-raised after the outcomes are recorded.
    """
    recorder = recorder if recorder is not None else OutcomeRecorder()
    started = time.monotonic()
    jobs = _jobs(plan)
    _record_fixed_outcomes(plan, recorder)
    workers = _Workers(put, jobs, concurrency)
    state = _LoopState(recorder, audit, plan.total_rows, len(jobs), progress)
    interrupted = False
    try:
        workers.start()
        interrupted = _collect(workers, state, len(jobs), stop)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        workers.stop.set()
        if len(workers.taken) < len(jobs) or state.received < len(workers.taken):
            interrupted = True
        _finish(workers, state, jobs)
        recorder.flush()
    state.report(force=True)
    return ApplyResult(counts=dict(recorder.counts), total=plan.total_rows,
                       interrupted=interrupted, elapsed_s=time.monotonic() - started,
                       sent=state.received)


class _LoopState:
    """Counters and the throttled progress callback of one apply."""

    def __init__(self, recorder: OutcomeRecorder, audit: AuditLog | None, total: int,
                 to_send: int, progress: Progress | None) -> None:
        self.recorder = recorder
        self.audit = audit
        self.total = total
        self.to_send = to_send
        self.progress = progress
        self.received = 0
        self._last_report = 0.0

    def accept(self, job: _Job, result: tuple[str, str, int | None]) -> None:
        outcome, message, status = result
        self.received += 1
        self.recorder.record(job.row, job.user_id, outcome, message)
        if self.audit is not None:
            self.audit.write({
                "row": job.row, "userId": job.user_id, "outcome": outcome, "status": status,
                "changedFields": job.fields, "changedAttributes": job.attributes,
            })

    def report(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self.progress is None or (not force and now - self._last_report < PROGRESS_INTERVAL_S):
            return
        self._last_report = now
        self.progress(ApplyProgress(done=self.recorder.total, total=self.total,
                                    sent=self.received, to_send=self.to_send,
                                    counts=dict(self.recorder.counts)))


def _collect(workers: _Workers, state: _LoopState, expected: int,
             stop: threading.Event | None) -> bool:
    """Main loop: record replies as they come; True when stopped early."""
    while state.received < expected:
        if stop is not None and stop.is_set():
            return True
        try:
            job, result = workers.results.get(timeout=POLL_S)
        except queue.Empty:
            state.recorder.flush_if_due()
            state.report()
            continue
        workers.done(job)
        state.accept(job, result)
        state.report()
    return False


def _finish(workers: _Workers, state: _LoopState, jobs: list[_Job]) -> None:
    """After a stop: wait briefly for requests in flight, then account for every other row."""
    deadline = time.monotonic() + IN_FLIGHT_GRACE_S
    while workers.alive() and time.monotonic() < deadline:
        _drain(workers, state)
        time.sleep(POLL_S / 2)
    _drain(workers, state)
    for job in workers.still_in_flight():
        state.recorder.record(job.row, job.user_id, FAILED, IN_FLIGHT)
    for job in jobs:
        if job.row not in workers.taken:
            state.recorder.record(job.row, job.user_id, FAILED, NOT_SENT)


def _drain(workers: _Workers, state: _LoopState) -> None:
    while True:
        try:
            job, result = workers.results.get_nowait()
        except queue.Empty:
            return
        workers.done(job)
        state.accept(job, result)


def outcome_summary(result: ApplyResult) -> str:
    """One line: counts per outcome and whether they add up."""
    parts = ", ".join(f"{name} {count}" for name, count in result.counts.items())
    state = "interrupted" if result.interrupted else "done"
    return f"{state}: {parts} (total {sum(result.counts.values())} of {result.total} rows)"

