"""Entry point for `python -m whatfix_data`.

The process ends with `os._exit` once the command is done, as mypy's does: the interpreter's
teardown (freeing pandas, pyarrow and every loaded module, one by one) took 0.25 s of every
command, `--help` included. Nothing is lost by skipping it: the commands write their files and
commit their cache writes before they return, and the streams and log handlers are flushed here.
"""

import contextlib
import logging
import os
import sys

from whatfix_data import collector

collector.tune()  # before the imports too: they allocate as much as a small fetch

from whatfix_data.cli import main  # noqa: E402


def _exit_code(status: object) -> int:
    """The exit code `sys.exit(status)` would give (None: 0; text: printed, then 1)."""
    if status is None:
        return 0
    if isinstance(status, int):
        return status
    print(status, file=sys.stderr)
    return 1


try:
    code = _exit_code(main())
except SystemExit as exc:  # argparse's --help and usage errors
    code = _exit_code(exc.code)
logging.shutdown()
for stream in (sys.stdout, sys.stderr):
    # a closed pipe (`| head`) or stream: nothing more can be said there
    with contextlib.suppress(OSError, ValueError):
        stream.flush()
os._exit(code)
