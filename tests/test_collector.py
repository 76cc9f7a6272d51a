"""The collector thresholds of the processes that parse API pages (whatfix_data.collector)."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from whatfix_data import collector

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT = (700, 10, 10)


@pytest.fixture()
def default_thresholds():
    saved = gc.get_threshold()
    gc.set_threshold(*DEFAULT)
    yield
    gc.set_threshold(*saved)


def test_tune_sets_the_thresholds_once_and_again_after_a_change(default_thresholds):
    collector.tune()
    assert gc.get_threshold() == collector.THRESHOLDS
    assert collector.THRESHOLDS[0] > DEFAULT[0]
    gc.set_threshold(*DEFAULT)
    collector.tune()
    assert gc.get_threshold() == collector.THRESHOLDS


@pytest.mark.slow
def test_a_run_of_the_app_tunes_its_process(default_thresholds, app_env):
    at = AppTest.from_file(str(REPO_ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    assert gc.get_threshold() == collector.THRESHOLDS


def test_the_cli_entry_point_tunes_its_process():
    # `python -m whatfix_data` ends with os._exit: the thresholds are read by a wrapper that
    # runs the entry module as `-m` does, with a command that returns at once.
    code = ("import gc, runpy, sys, os\n"
            "sys.argv = ['whatfix_data', '--help']\n"
            "real_exit = os._exit\n"
            "os._exit = lambda status: (print(gc.get_threshold(), flush=True), real_exit(0))\n"
            "runpy.run_module('whatfix_data', run_name='__main__')\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == str(collector.THRESHOLDS)
