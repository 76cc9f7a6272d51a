"""`python -m whatfix_data sync-users FILE [--dry-run] [--outcomes PATH] [--audit-log PATH] ...`.

Reads a CSV/XLSX export, validates every row, diffs it against the API's current end users and
upserts what differs, with the same code as the User Sync page (whatfix_data.user_sync). The
outcomes file (``row,userId,outcome,message``, one line per input row) is written as rows finish,
so Ctrl-C or a kill loses nothing already done; running the same file again sends only what still
differs. Failed rows are also written as a file that can be passed to this command again as is.

Exit codes: 0 every row applied or already up to date; 3 some rows invalid or failed (see the
outcomes file); 1 nothing could be synced (configuration, API, unreadable file); 2 bad arguments
or mapping; 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from whatfix_data import user_sync
from whatfix_data.client import WhatfixClient
from whatfix_data.commands import apply_run
from whatfix_data.commands.apply_run import EXIT_OK, EXIT_PARTIAL, EXIT_USAGE
from whatfix_data.config import read_secrets_file, upload_limits
from whatfix_data.errors import WhatfixError
from whatfix_data.exports import write_csv
from whatfix_data.session import cli_session
from whatfix_data.user_sync.apply import ApplyResult
from whatfix_data.user_sync.outcomes import FAILED

MAX_PROBLEMS_SHOWN = 20
OUTCOMES_SUFFIX = "-outcomes.csv"
FAILED_SUFFIX = "-failed.csv"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `sync-users` subcommand."""
    parser = subparsers.add_parser(
        "sync-users",
        help="upsert end users from a CSV/XLSX export (CRM, identity provider)",
        description="Validate a user export, preview the changes against the current end users "
        "and upsert what differs. With no credentials configured, the built-in demo account is "
        "used.",
    )
    parser.add_argument("file", type=Path, metavar="FILE",
                        help="CSV or XLSX file, header row first")
    parser.add_argument("--dry-run", action="store_true",
                        help="validate and preview only: nothing is sent")
    parser.add_argument("--outcomes", type=Path, default=None, metavar="PATH",
                        help=f"outcomes CSV (default: FILE stem + '{OUTCOMES_SUFFIX}')")
    parser.add_argument("--failed", type=Path, default=None, metavar="PATH",
                        help=f"failed rows, re-uploadable as is (default: FILE stem + "
                        f"'{FAILED_SUFFIX}', written only when rows failed)")
    parser.add_argument("--audit-log", type=Path, default=None, metavar="PATH",
                        help="JSON-lines audit log to append to (default: "
                        f"{user_sync.default_audit_path()})")
    parser.add_argument("--preview", type=Path, default=None, metavar="PATH",
                        help="write the preview (row, userId, action, detail) as CSV")
    parser.add_argument("--mapping", action="append", default=[], metavar="OPTION",
                        help="change the guessed mapping: userId=COLUMN, email=COLUMN, "
                        "name=COLUMN, ATTRIBUTE=COLUMN, COLUMN:text (no typing); repeatable")
    parser.add_argument("--ignore", action="append", default=[], metavar="COLUMN",
                        help="a column not to send; repeatable")
    apply_run.add_apply_options(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the sync; a failure is one line on stderr and an exit code, never a traceback."""
    try:
        return _sync(args)
    except user_sync.MappingError as exc:  # other failures: one line via whatfix_data.cli
        print(f"Mapping: {exc} Columns: {_columns_hint(args)}", file=sys.stderr)
        return EXIT_USAGE


def _columns_hint(args: argparse.Namespace) -> str:
    try:
        limits = upload_limits(read_secrets_file(), os.environ)
        return ", ".join(user_sync.read_path(args.file, limits).columns)
    except WhatfixError:
        return "(unreadable)"


def _sibling(file: Path, suffix: str) -> Path:
    return file.with_name(file.stem + suffix)


def _sync(args: argparse.Namespace) -> int:
    if apply_run.concurrency_problem(args):
        return EXIT_USAGE
    # The page's limits (WHATFIX_MAX_UPLOAD_*): checked before the file is parsed.
    table = user_sync.read_path(args.file, upload_limits(read_secrets_file(), os.environ))
    options = [*args.mapping, *(f"-{column}" for column in args.ignore)]
    mapping = user_sync.parse_mapping_options(options, user_sync.guess_mapping(table.columns))
    validation = user_sync.validate(table, mapping)
    _print_validation(table, mapping, validation)
    # The account, resolved once (with no credentials, cli_session starts the demo server).
    settings = apply_run.with_concurrency(cli_session().settings, args)
    if settings.demo:
        print("No Whatfix credentials configured: syncing the built-in demo account.",
              file=sys.stderr)
    with WhatfixClient(settings) as client:
        current = user_sync.load_current(client)
        plan = user_sync.build_plan(validation, current.end_users, current.segments)
        apply_run.print_plan(plan)
        if args.preview is not None:
            write_csv(_preview_frame(plan), args.preview)
        if args.dry_run:
            print("Dry run: nothing was sent.")
            return EXIT_OK if plan.summary()["invalid"] == 0 else EXIT_PARTIAL
        result, recorder = _apply(args, plan, client, settings.max_concurrency)
        if not result.interrupted:
            user_sync.refresh_cache(client)
    return _report(args, table, result, recorder)


def _apply(args: argparse.Namespace, plan: user_sync.Plan, client: WhatfixClient,
           concurrency: int) -> tuple[ApplyResult, user_sync.OutcomeRecorder]:
    if args.audit_log is None:
        user_sync.private_sync_dir()  # the default log's folder: 0700, even if made before
    return apply_run.apply_with_progress(
        plan, client, outcomes_path=args.outcomes or _sibling(args.file, OUTCOMES_SUFFIX),
        audit_path=args.audit_log or user_sync.default_audit_path(), concurrency=concurrency,
        quiet=args.quiet, unit="row", desc="Sending")


def _report(args: argparse.Namespace, table: user_sync.SourceTable, result: ApplyResult,
            recorder: user_sync.OutcomeRecorder) -> int:
    print(user_sync.outcome_summary(result))
    if result.counts.get(FAILED):
        failed_path = args.failed or _sibling(args.file, FAILED_SUFFIX)
        write_csv(user_sync.failed_rows_frame(table, recorder.frame()), failed_path)
        print(f"Failed rows ({result.counts[FAILED]}), to upload again as is: {failed_path}")
    return apply_run.exit_code(result, "run the same file again to send what is still different.")


def _print_validation(table: user_sync.SourceTable, mapping: user_sync.ColumnMapping,
                      validation: user_sync.Validation) -> None:
    print(f"Read {validation.total_rows} rows from {table.file_name} ({table.encoding}).")
    fields = f"userId <- {mapping.user_id!r}, email <- {mapping.email or '-'!r}, " \
             f"name <- {mapping.name or '-'!r}, {len(mapping.attributes)} attributes"
    print(f"Mapping: {fields}" + (f"; ignored: {', '.join(mapping.ignored)}"
                                  if mapping.ignored else ""))
    for finding in validation.findings:
        print(f"Note: {finding.problem}", file=sys.stderr)
    problems = validation.problems
    if problems.empty:
        return
    print(f"{validation.invalid_count} invalid rows ({len(problems)} problems):", file=sys.stderr)
    for row, column, problem in problems[["row", "column", "problem"]].head(
            MAX_PROBLEMS_SHOWN).itertuples(index=False, name=None):
        print(f"  row {row} [{column}]: {problem}", file=sys.stderr)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"  ... and {len(problems) - MAX_PROBLEMS_SHOWN} more (see the outcomes file)",
              file=sys.stderr)


def _preview_frame(plan: user_sync.Plan):
    import pandas as pd

    actions = plan.actions
    changed = [", ".join([*f, *a]) for f, a in zip(actions["changed_fields"],
                                                   actions["changed_attributes"], strict=True)]
    valid = pd.DataFrame({"row": actions["row"], "userId": actions["user_id"],
                          "action": actions["action"], "detail": changed})
    invalid = pd.DataFrame({"row": plan.invalid["row"], "userId": plan.invalid["user_id"],
                            "action": "invalid", "detail": plan.invalid["message"]})
    return pd.concat([valid, invalid], ignore_index=True).sort_values("row", kind="stable")
