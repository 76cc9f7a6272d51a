"""`python -m whatfix_data simulate`: serve the built-in Whatfix API until interrupted."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import date

from whatfix_data.simulator.config import (
    DEFAULT_SEED,
    DEFAULT_USERS,
    DEMO_ACCOUNTS,
    SimulatorConfig,
)
from whatfix_data.windows import today_for

PRIMARY = DEMO_ACCOUNTS[0]


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date YYYY-MM-DD, got {text!r}") from None


def _share(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}")
    return value


def _non_negative(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}")
    return int(text)


def _non_negative_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `simulate` subcommand."""
    parser = subparsers.add_parser(
        "simulate", help="serve the built-in Whatfix API (demo data)",
        description="Serve the Whatfix API with generated, consistent demo data. "
                    f"Demo credentials: account {PRIMARY.account_id}, key "
                    f"{PRIMARY.integration_key}, user {PRIMARY.user_email}.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="interface to bind (default %(default)s)")
    parser.add_argument("--port", type=_non_negative, default=8765,
                        help="port; 0 picks a free one (default %(default)s)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="data seed")
    parser.add_argument("--users", type=_non_negative, default=DEFAULT_USERS,
                        help="end users of the primary account (default %(default)s)")
    parser.add_argument("--today", type=_iso_date, default=None,
                        help="last day of the history, YYYY-MM-DD (default: today, UTC)")
    parser.add_argument("--latency-ms", type=_non_negative, default=0,
                        help="time every API response takes, its handling included")
    parser.add_argument("--fault-rate", type=_share, default=0.0,
                        help="share of API requests that fail (429, 5xx, dropped, slow)")
    parser.add_argument("--rate-limit", type=_non_negative_number, default=0.0,
                        help="requests per second per account; above it 429 with Retry-After "
                             "(default 0: unlimited)")
    parser.add_argument("--account", default=PRIMARY.account_id, help="primary account id")
    parser.add_argument("--key", default=PRIMARY.integration_key,
                        help="integration key of the primary account")
    parser.add_argument("--user-email", default=PRIMARY.user_email,
                        help="x-whatfix-user of the primary account")
    parser.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> SimulatorConfig:
    """The server configuration the options describe."""
    primary = replace(PRIMARY, account_id=args.account, integration_key=args.key,
                      user_email=args.user_email)
    return SimulatorConfig(seed=args.seed, users=args.users, today=args.today or today_for(),
                           latency_ms=args.latency_ms, fault_rate=args.fault_rate,
                           rate_limit=args.rate_limit,
                           accounts=[primary, *DEMO_ACCOUNTS[1:]])


def run(args: argparse.Namespace) -> int:
    """Start the server, print the base URL first (flushed), serve until Ctrl+C."""
    from whatfix_data.simulator.server import SimServer  # only this command needs the server

    try:
        config = config_from_args(args)
        server = SimServer(config, host=args.host, port=args.port)
    except (ValueError, OSError) as exc:
        print(f"Cannot start the built-in server: {exc}", file=sys.stderr)
        return 2
    print(server.base_url, flush=True)
    limit = f", at most {args.rate_limit:g} requests/s per account" if args.rate_limit else ""
    print(f"Whatfix built-in server: {args.users} users, history ending {config.today}, "
          f"seed {args.seed}{limit}", flush=True)
    for account in server.accounts:
        print(f"  account {account.account_id}  user {account.user_email}  (key: see --help / "
              "docs/SIMULATOR.md)", flush=True)
    print("Press Ctrl+C to stop.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0
