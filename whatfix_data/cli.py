"""Command line: `python -m whatfix_data COMMAND ...`, one module per command in `whatfix_data.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Subcommand name -> module in whatfix_data.commands that defines `register(subparsers)` and `run(args)`.
COMMANDS: dict[str, str] = {
    "simulate": "simulate",
    "export": "export",
    "report": "report",
    "sync-users": "sync_users",
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per available command."""
    parser = argparse.ArgumentParser(
        prog="python -m whatfix_data",
        description="Whatfix analytics: built-in API server, exports, review packs and user sync.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in COMMANDS.values():
        try:
            module = importlib.import_module(f"whatfix_data.commands.{module_name}")
        except ModuleNotFoundError as exc:  # a command not built yet stays out of the help
            if exc.name != f"whatfix_data.commands.{module_name}":
                raise
            continue
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments, run the command, return its exit code; failures print one line, no traceback."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return 130
