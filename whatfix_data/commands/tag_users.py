"""`python -m whatfix_data tag-users --task-list ID --bucket one-left --attribute NAME=VALUE`.

The outreach loop from the command line (whatfix_data.outreach): the users of one task list in
one progress bucket (default: exactly one task left, over the last 30 days or --start/--end)
get an attribute in Whatfix, so a segment rule on it targets them. Preview first (how many
users, which attribute, which segments gain members); --dry-run stops there. The apply is User
Sync's (bounded concurrency, one outcome per user streamed to a CSV, the JSON-lines audit log):
running the same command again sends nothing to users already tagged.

Exit codes: 0 every user tagged or already tagged; 3 some users skipped or failed (see the
outcomes file); 1 nothing could be done (configuration, API); 2 bad arguments; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import timedelta
from pathlib import Path

from tqdm import tqdm

from whatfix_data import outreach, user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.commands.sync_users import _print_plan, _sigterm_as_interrupt
from whatfix_data.config import load_settings, read_secrets_file
from whatfix_data.datasets import load_task_completion
from whatfix_data.user_sync.apply import ApplyProgress
from whatfix_data.user_sync.outcomes import FAILED, INVALID
from whatfix_data.windows import DateRange, from_iso

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_PARTIAL = 3
EXIT_INTERRUPTED = 130
DEFAULT_DAYS = 30


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `tag-users` subcommand."""
    parser = subparsers.add_parser(
        "tag-users",
        help="tag the users of a task-list progress bucket with an attribute (outreach)",
        description="Set an attribute (e.g. nudge_onboarding=2026-12) on the end users of one "
        "task list in one progress bucket, so that a Whatfix segment rule can target them. "
        "With no credentials configured, the built-in demo account is used.",
    )
    parser.add_argument("--task-list", required=True, metavar="ID",
                        help="task list id (Task Lists page, or `export task-completion`)")
    parser.add_argument("--bucket", choices=list(outreach.BUCKETS), default=outreach.ONE_LEFT,
                        help="which users: " + "; ".join(
                            f"{k}: {v}" for k, v in outreach.BUCKET_LABELS.items())
                        + f" (default: {outreach.ONE_LEFT})")
    parser.add_argument("--attribute", required=True, metavar="NAME=VALUE",
                        help="the attribute to set, e.g. nudge_onboarding=2026-12")
    parser.add_argument("--start", default=None, help="first day of task activity, YYYY-MM-DD "
                        f"(default: {DEFAULT_DAYS} days before --end)")
    parser.add_argument("--end", default=None, help="last day, YYYY-MM-DD (default: today)")
    parser.add_argument("--dry-run", action="store_true", help="preview only: nothing is sent")
    parser.add_argument("--outcomes", type=Path, default=None, metavar="PATH",
                        help="outcomes CSV (default: a new file under the user-sync folder)")
    parser.add_argument("--audit-log", type=Path, default=None, metavar="PATH",
                        help=f"JSON-lines audit log (default: {user_sync.default_audit_path()})")
    parser.add_argument("--concurrency", type=int, default=None, metavar="N",
                        help="requests in flight (default: WHATFIX_MAX_CONCURRENCY)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _date_range(args: argparse.Namespace, today) -> DateRange:
    end = from_iso(args.end, "end date") if args.end else today
    start = from_iso(args.start, "start date") if args.start else end - timedelta(
        days=DEFAULT_DAYS - 1)
    return DateRange(start, end)


def run(args: argparse.Namespace) -> int:
    """Preview, then apply unless --dry-run (failures: one line via whatfix_data.cli)."""
    if args.concurrency is not None and args.concurrency < 1:
        print("--concurrency must be at least 1.", file=sys.stderr)
        return EXIT_USAGE
    try:
        tag = outreach.parse_attribute(args.attribute)
    except outreach.OutreachError as exc:
        print(f"Error: {exc.user_message}", file=sys.stderr)
        return EXIT_USAGE
    settings = load_settings(read_secrets_file(), os.environ)
    if args.concurrency is not None:
        settings = settings.with_changes(max_concurrency=args.concurrency)
    if settings.demo:
        print("No Whatfix credentials configured: tagging users of the built-in demo account.",
              file=sys.stderr)
    with WhatfixClient(settings) as client:
        date_range = _date_range(args, client.today())
        tasks = load_task_completion(client, date_range).frame
        selection = outreach.select_users(tasks, args.task_list, args.bucket)
        print(f"{len(selection):,} users of task list {args.task_list} "
              f"({outreach.BUCKET_LABELS[args.bucket].lower()}, {date_range.label()}).")
        current = user_sync.load_current(client)
        plan = outreach.build_plan(selection, tag, current)
        print(outreach.preview_sentence(plan, tag))
        _print_plan(plan)
        if args.dry_run:
            print("Dry run: nothing was sent.")
            return EXIT_OK
        result = _apply(args, plan, client, settings.max_concurrency)
        if not result.interrupted:
            user_sync.refresh_cache(client)
    print(user_sync.outcome_summary(result))
    if result.interrupted:
        print("Interrupted: run the same command again to tag the users still missing.",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_PARTIAL if result.counts.get(FAILED) or result.counts.get(INVALID) else EXIT_OK


def _apply(args: argparse.Namespace, plan: user_sync.Plan, client: WhatfixClient,
           concurrency: int) -> user_sync.ApplyResult:
    outcomes_path = args.outcomes or user_sync.new_outcomes_path(
        f"tag-{args.task_list}-{args.bucket}")
    recorder = user_sync.OutcomeRecorder(outcomes_path)
    audit = user_sync.AuditLog(args.audit_log or user_sync.default_audit_path())
    to_send = len(plan.to_send)
    bar = tqdm(total=to_send, unit="user", desc="Tagging", file=sys.stderr,
               disable=args.quiet or to_send == 0)

    def show(progress: ApplyProgress) -> None:
        bar.n = progress.sent
        bar.refresh()

    try:
        with _sigterm_as_interrupt():
            result = user_sync.apply_plan(plan, user_sync.end_user_writer(client),
                                          recorder=recorder, audit=audit,
                                          concurrency=concurrency, progress=show)
    finally:
        bar.close()
        recorder.close()
        audit.close()
    print(f"Outcomes: {outcomes_path}")
    return result
