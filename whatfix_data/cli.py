"""Command line `python -m whatfix_data COMMAND ...`: one module per command in `commands/`.

Each command's `run` is an entry point: it resolves its account once with
`whatfix_data.session.cli_session()` (with no credentials, that starts the built-in demo server)
and hands the session, or a client opened from it, down. `simulate` needs no account.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from whatfix_data.errors import WhatfixError
from whatfix_data.windows import InvalidDateRange

EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

# Subcommand -> module in whatfix_data.commands defining `register(subparsers)` and `run(args)`.
COMMANDS: dict[str, str] = {
    "simulate": "simulate",
    "export": "export",
    "report": "report",
    "sync-users": "sync_users",
    "warm": "warm",
    "alerts": "alerts",
    "tag-users": "tag_users",
}


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with one subparser per available command."""
    parser = argparse.ArgumentParser(
        prog="python -m whatfix_data",
        description="Whatfix analytics: built-in API server, exports, review packs, user sync and "
        "cache warming.",
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
    """Parse arguments, run the command, return its exit code.

    Every command shares this failure policy: one line on stderr that says what to do, a
    non-zero exit code, never a traceback (the details go to the log, shown with --verbose).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except KeyboardInterrupt:
        print("Interrupted.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except InvalidDateRange as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except WhatfixError as exc:
        print(f"Error: {exc.user_message}", file=sys.stderr)
        return EXIT_FAILURE
    except OSError as exc:
        target = exc.filename or getattr(args, "out", None) or "a file"
        print(f"Error: cannot write {target}: {exc.strerror or exc}.", file=sys.stderr)
        return EXIT_FAILURE
    except Exception as exc:  # last resort: still one line
        logging.getLogger("whatfix_data").debug("command failed", exc_info=True)
        print(f"Error: the command failed unexpectedly ({type(exc).__name__}); run it again with "
              "--verbose for details, or report it.", file=sys.stderr)
        return EXIT_FAILURE
