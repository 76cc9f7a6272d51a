"""The apply step that `sync-users` and `tag-users` share: exit codes, the preview lines, the
apply with a progress bar on stderr (outcomes streamed to a CSV, the JSON-lines audit log, SIGTERM
treated like Ctrl-C) and the exit code a finished apply ends in.

Both commands run User Sync's plan (whatfix_data.user_sync); only how they build the plan and
what they print around it differ.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from tqdm import tqdm

from whatfix_data import user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings
from whatfix_data.user_sync.apply import ApplyProgress, ApplyResult
from whatfix_data.user_sync.outcomes import FAILED, INVALID

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_INTERRUPTED = 130


def add_apply_options(parser: argparse.ArgumentParser) -> None:
    """--concurrency and --quiet, which every applying command takes."""
    parser.add_argument("--concurrency", type=int, default=None, metavar="N",
                        help="requests in flight (default: WHATFIX_MAX_CONCURRENCY)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def concurrency_problem(args: argparse.Namespace) -> bool:
    """True (said on stderr) when --concurrency is below 1."""
    if args.concurrency is not None and args.concurrency < 1:
        print("--concurrency must be at least 1.", file=sys.stderr)
        return True
    return False


def with_concurrency(settings: Settings, args: argparse.Namespace) -> Settings:
    """The settings with --concurrency, when given."""
    if args.concurrency is None:
        return settings
    return settings.with_changes(max_concurrency=args.concurrency)


def print_plan(plan: user_sync.Plan) -> None:
    """The preview's counts and each segment that gains or loses members."""
    counts = plan.summary()
    print("Preview: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    moved = plan.segment_changes
    moved = moved[(moved["joining"] > 0) | (moved["leaving"] > 0)]
    for name, joining, leaving in moved[["name", "joining", "leaving"]].itertuples(
            index=False, name=None):
        print(f"  segment {name}: +{joining} joining, -{leaving} leaving")


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C during the apply, so a killed run still writes its outcomes."""
    def handler(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def apply_with_progress(plan: user_sync.Plan, client: WhatfixClient, *, outcomes_path: Path,
                        audit_path: Path, concurrency: int, quiet: bool, unit: str,
                        desc: str) -> tuple[ApplyResult, user_sync.OutcomeRecorder]:
    """Send the plan with a tqdm bar (``unit``/``desc``), one outcome per row streamed to
    ``outcomes_path`` and the audit log at ``audit_path``; the result and the closed recorder."""
    recorder = user_sync.OutcomeRecorder(outcomes_path)
    audit = user_sync.AuditLog(audit_path)
    to_send = len(plan.to_send)
    bar = tqdm(total=to_send, unit=unit, desc=desc, file=sys.stderr,
               disable=quiet or to_send == 0)

    def show(progress: ApplyProgress) -> None:
        bar.n = progress.sent
        bar.set_postfix({k: v for k, v in progress.counts.items() if v}, refresh=False)
        bar.refresh()

    try:
        with sigterm_as_interrupt():
            result = user_sync.apply_plan(plan, user_sync.end_user_writer(client),
                                          recorder=recorder, audit=audit,
                                          concurrency=concurrency, progress=show)
    finally:
        bar.close()
        recorder.close()
        audit.close()
    print(f"Outcomes: {outcomes_path}")
    return result, recorder


def exit_code(result: ApplyResult, run_again: str) -> int:
    """The exit code of a finished apply; an interrupted one says ``run_again`` on stderr."""
    if result.interrupted:
        print(f"Interrupted: {run_again}", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_PARTIAL if result.counts.get(FAILED) or result.counts.get(INVALID) else EXIT_OK
