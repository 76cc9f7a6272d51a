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
import sys
from datetime import timedelta
from pathlib import Path

from whatfix_data import outreach, user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.commands import apply_run
from whatfix_data.commands.apply_run import EXIT_OK, EXIT_USAGE
from whatfix_data.datasets import load_task_completion
from whatfix_data.session import cli_session
from whatfix_data.windows import DateRange, from_iso

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
    apply_run.add_apply_options(parser)
    parser.set_defaults(run=run)


def _date_range(args: argparse.Namespace, today) -> DateRange:
    end = from_iso(args.end, "end date") if args.end else today
    start = from_iso(args.start, "start date") if args.start else end - timedelta(
        days=DEFAULT_DAYS - 1)
    return DateRange(start, end)


def run(args: argparse.Namespace) -> int:
    """Preview, then apply unless --dry-run (failures: one line via whatfix_data.cli)."""
    if apply_run.concurrency_problem(args):
        return EXIT_USAGE
    try:
        tag = outreach.parse_attribute(args.attribute)
    except outreach.OutreachError as exc:
        print(f"Error: {exc.user_message}", file=sys.stderr)
        return EXIT_USAGE
    # The account, resolved once (with no credentials, cli_session starts the demo server).
    settings = apply_run.with_concurrency(cli_session().settings, args)
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
        apply_run.print_plan(plan)
        if args.dry_run:
            print("Dry run: nothing was sent.")
            return EXIT_OK
        result, _ = apply_run.apply_with_progress(
            plan, client, outcomes_path=args.outcomes or user_sync.new_outcomes_path(
                f"tag-{args.task_list}-{args.bucket}"),
            audit_path=args.audit_log or user_sync.default_audit_path(),
            concurrency=settings.max_concurrency, quiet=args.quiet, unit="user", desc="Tagging")
        if not result.interrupted:
            user_sync.refresh_cache(client)
    print(user_sync.outcome_summary(result))
    return apply_run.exit_code(result, "run the same command again to tag the users still missing.")

