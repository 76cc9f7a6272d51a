"""`python -m whatfix_data export DATASET --start --end [--granularity] --format --out`.

Same configuration as the app (Streamlit secrets file, then WHATFIX_* variables; demo mode when
no credentials). The datasets are the exported ones of `whatfix_data.registry`; `all` writes
one file per dataset into the `--out` folder (`flows.csv`, `flow-trend.csv`, ...). CSV goes
through `whatfix_data.exports.write_csv`, the project's one CSV writer. Any failure ends with
exit code 1 (2 for bad arguments) and one line on stderr; files appear only
when every dataset loaded (each is written as soon as it arrives, as `*.part`).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm import tqdm

from whatfix_data.client import WhatfixClient
from whatfix_data.datasets import Dataset, load_dataset
from whatfix_data.exports import private_folder, write_csv, write_private_bytes
from whatfix_data.pacing import carry_scope
from whatfix_data.registry import EXPORTED
from whatfix_data.session import cli_session
from whatfix_data.windows import DateRange, default_granularity

ALL = "all"
FORMATS = ("csv", "json")
GRANULARITIES = ("day", "week", "month")
PART_SUFFIX = ".part"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `export` subcommand."""
    parser = subparsers.add_parser(
        "export",
        help="export a dataset (or all) to CSV or JSON",
        description="Export Whatfix data for a date range. With no credentials configured, the "
        "built-in demo account is used.",
    )
    parser.add_argument("dataset", choices=(*EXPORTED, ALL), metavar="DATASET",
                        help=f"one of: {', '.join(EXPORTED)}, or {ALL} (then --out is a folder)")
    parser.add_argument("--start", required=True, help="first day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--end", required=True, help="last day, YYYY-MM-DD (inclusive)")
    parser.add_argument("--granularity", choices=GRANULARITIES, default=None,
                        help="window size of the trends (default: by range length)")
    parser.add_argument("--format", choices=FORMATS, default="csv", dest="fmt")
    parser.add_argument("--out", required=True, type=Path,
                        help="output file, or folder for 'all'")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--verbose", action="store_true",
                        help="log retries and cache decisions on stderr")
    parser.set_defaults(run=run)


def _json_value(value: Any) -> Any:
    """One cell as a JSON value: NA -> null, timestamps and dates -> ISO 8601."""
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _json_value(value.item())
    return value


def frame_to_json_bytes(frame: pd.DataFrame) -> bytes:
    """The frame as a JSON array of row objects (UTF-8, stable key order)."""
    columns = [str(c) for c in frame.columns]
    rows = [
        {name: _json_value(value) for name, value in zip(columns, row, strict=True)}
        for row in frame.astype(object).itertuples(index=False, name=None)
    ]
    return (json.dumps(rows, ensure_ascii=False, indent=1) + "\n").encode("utf-8")


def _write(dataset: Dataset, path: Path, fmt: str) -> None:
    if fmt == "csv":
        write_csv(dataset.frame, path)
    else:
        write_private_bytes(path, frame_to_json_bytes(dataset.frame))  # names users: 0600


def _part_path(path: Path) -> Path:
    """Where a file is written before every dataset succeeded (then renamed into place)."""
    return path.with_name(path.name + PART_SUFFIX)


def _load_and_write(client: WhatfixClient, targets: list[tuple[str, Path]],
                    date_range: DateRange, granularity: str, fmt: str,
                    bar: tqdm) -> list[Dataset]:
    """Load the datasets concurrently and write each one as soon as it is there.

    Writing (CPU) overlaps the other datasets' fetching (waiting on the API), instead of starting
    after the last page arrived. Files are written as `NAME.part` and renamed only when every
    dataset succeeded: a failed export leaves no mix of new and old files. Ctrl+C (or any
    failure) cancels the fetch scope, so the other datasets stop sending requests at once.
    """
    cancel = threading.Event()

    def load(target: tuple[str, Path]) -> Dataset:
        name, path = target
        dataset = load_dataset(client, name, date_range, granularity)
        _write(dataset, _part_path(path), fmt)
        bar.update(1)
        return dataset

    try:
        # each dataset keeps its own deadline (fetch_deadline_s); the export as a whole has none
        with client.fetch_scope(cancel=cancel, deadline_s=math.inf, label="the export"), \
                ThreadPoolExecutor(max_workers=len(targets),
                                   thread_name_prefix="export") as pool:
            futures = [pool.submit(carry_scope(load), target) for target in targets]
            try:
                datasets = [future.result() for future in futures]
            except BaseException:
                cancel.set()
                raise
    except BaseException:
        for _, path in targets:
            _part_path(path).unlink(missing_ok=True)
        raise
    for _, path in targets:
        os.replace(_part_path(path), path)
    return datasets


def _targets(args: argparse.Namespace) -> list[tuple[str, Path]]:
    if args.dataset != ALL:
        return [(args.dataset, args.out)]
    private_folder(args.out)  # created 0700 when missing
    return [(name, args.out / f"{name}.{args.fmt}") for name in EXPORTED]


def _export(args: argparse.Namespace) -> int:
    date_range = DateRange.from_iso(args.start, args.end)
    granularity = args.granularity or default_granularity(date_range)
    session = cli_session()  # resolved once; demo mode starts the built-in server
    settings = session.settings
    if settings.demo:
        print("No Whatfix credentials configured: exporting the built-in demo account.",
              file=sys.stderr)
    targets = _targets(args)
    with session.client() as client, tqdm(
        total=len(targets), unit="dataset", file=sys.stderr, disable=args.quiet,
        desc="Exporting",
    ) as bar:
        datasets = _load_and_write(client, targets, date_range, granularity, args.fmt, bar)
    for (name, _path), dataset in zip(targets, datasets, strict=True):
        if dataset.findings:
            print(f"{name}: {len(dataset.findings)} data-quality finding(s); the values concerned "
                  "are left empty.", file=sys.stderr)
        if dataset.meta.stale:
            print(f"{name}: the API is unavailable; cached data {dataset.meta.age_s / 60:.0f} "
                  "minutes old was exported.", file=sys.stderr)
    written = targets[0][1] if len(targets) == 1 else args.out
    print(f"Wrote {written}", file=sys.stderr)
    return 0


def _configure_logging(verbose: bool) -> None:
    """Library warnings (retries, stale copies) only with --verbose: the outcome is one line."""
    if verbose:
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    else:
        logging.getLogger().addHandler(logging.NullHandler())


def run(args: argparse.Namespace) -> int:
    """Run the export (failures: one line and a non-zero code, handled by whatfix_data.cli)."""
    _configure_logging(args.verbose)
    return _export(args)
