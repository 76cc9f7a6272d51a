"""`python -m whatfix_data report --start --end [--compare] [--segment ID] --format ... --out FILE`.

The review pack from the command line, for scheduled use (cron) without a browser. Same
configuration as the app (Streamlit secrets file, then WHATFIX_* variables; demo mode when no
credentials). The file is written to a temporary name beside the target and renamed at the end,
so a scheduled job never leaves a half-written deck behind. Progress goes to stderr; any failure
ends with one line on stderr and exit code 1 (2 for bad arguments).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from whatfix_data import delivery
from whatfix_data.session import cli_session
from whatfix_data.windows import DateRange

COMPARISONS = ("previous", "year", "none")
FORMATS = ("pptx", "pdf", "zip")
GRANULARITIES = ("day", "week", "month")
DEFAULT_FORMAT = "pptx"
NEW_FILE_MODE = 0o666


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `report` subcommand."""
    parser = subparsers.add_parser(
        "report",
        help="build the review pack (PowerPoint, PDF or ZIP) for a date range",
        description="Build the review pack: KPIs with deltas, every chart of Overview, Flows, "
        "Self Help, Engagement and Task Lists with a takeaway, and the key tables. With no "
        "credentials configured, the built-in demo account is used. Needs Chromium for charts.",
    )
    parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--compare", choices=COMPARISONS, default="previous",
                        help="comparison period (default: previous: the previous calendar "
                        "month, quarter or year when the range is one, else the same number of "
                        "days before; moved by whole weeks or months so windows line up)")
    parser.add_argument("--format", choices=FORMATS, default=None, dest="fmt",
                        help="pptx, pdf or zip (default: from the --out suffix, else pptx)")
    parser.add_argument("--out", type=Path, default=None,
                        help="output file, or an existing folder (default: "
                        "whatfix-review_<account>_<start>_<end>.<format> in the current folder)")
    parser.add_argument("--granularity", choices=GRANULARITIES, default=None,
                        help="window size of the trend charts (default: by range length)")
    parser.add_argument("--segment", default=None, metavar="SEGMENT_ID",
                        help="limit engagement and task-list numbers to this segment's members "
                        "(ids: Segments page or `python -m whatfix_data export segments`)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--email", default=None, metavar="TO[,TO]",
                        help="also e-mail the pack as an attachment through the configured SMTP "
                        "server (WHATFIX_SMTP_*)")
    parser.set_defaults(run=run)


def _format(args: argparse.Namespace) -> str:
    """--format, else the --out suffix when it names a format, else pptx."""
    if args.fmt:
        return args.fmt
    suffix = args.out.suffix.lower().lstrip(".") if args.out else ""
    return suffix if suffix in FORMATS else DEFAULT_FORMAT


def _target(args: argparse.Namespace, account: str, date_range: DateRange, fmt: str,
            segment_name: str | None) -> Path:
    from whatfix_data.review_pack import pack_file_name

    name = pack_file_name(account, date_range, fmt, segment_name)
    if args.out is None:
        return Path.cwd() / name
    if args.out.is_dir():
        return args.out / name
    return args.out


def _write_atomically(target: Path, data: bytes) -> None:
    """Write beside the target, then rename: readers see the old file or the whole new one."""
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        # mkstemp creates the file private (0600); give it the mode any new file would get.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, NEW_FILE_MODE & ~umask)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _report(args: argparse.Namespace) -> int:
    # Imported here: python-pptx and reportlab load only for this command.
    from whatfix_data.review_pack import build_review_pack, find_segment

    date_range = DateRange.from_iso(args.start, args.end)
    fmt = _format(args)
    session = cli_session()  # resolved once; demo mode starts the built-in server
    settings = session.settings
    recipients = delivery.parse_recipients(args.email)  # a bad address fails before the build
    if settings.demo:
        print("No Whatfix credentials configured: reporting on the built-in demo account.",
              file=sys.stderr)
    with session.client() as client, tqdm(
        total=1, unit="step", file=sys.stderr, disable=args.quiet, desc="Building review pack"
    ) as bar:
        segment_name = find_segment(client, args.segment) if args.segment else None
        target = _target(args, settings.account_id, date_range, fmt, segment_name)

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        data = build_review_pack(client, date_range, args.compare, fmt, progress,
                                 granularity=args.granularity, segment_id=args.segment)
    _write_atomically(target, data)
    print(f"Wrote {target} ({len(data) / 1024:,.0f} KiB)", file=sys.stderr)
    if recipients:
        _email_pack(settings, recipients, target, data, fmt, date_range)
    return 0


def _email_pack(settings, recipients: list[str], target: Path, data: bytes, fmt: str,
                date_range: DateRange) -> None:
    """Send the written pack as an attachment (the file stays written if the send fails)."""
    from whatfix_data.review_pack import MEDIA_TYPES

    subject = f"Whatfix review pack: {settings.account_id}, {date_range.label()}"
    body = (f"The Whatfix review pack of {settings.account_id} for {date_range.label()} is "
            f"attached ({target.name}).")
    attachment = delivery.Attachment(target.name, data, MEDIA_TYPES[fmt])
    delivery.send_email(settings, recipients, subject, body, [attachment])
    print(f"E-mailed {target.name} to {', '.join(recipients)}.", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    """Build and write the pack (failures: one line and a non-zero code, via whatfix_data.cli)."""
    return _report(args)
