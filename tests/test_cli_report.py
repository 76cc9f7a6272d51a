"""`python -m whatfix_data report`: real processes against the built-in server, as cron runs it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from pptx import Presentation

REPO = Path(__file__).resolve().parents[1]
# Title + KPIs + 14 charts + 4 tables + 3 definition slides (with a comparison; 13 charts
# without).
SLIDES_WITH_COMPARISON = 23
CLI_TIMEOUT_S = 240
OCTOBER = ["--start", "2026-10-01", "--end", "2026-10-31"]


@pytest.fixture()
def run_report(sim_server, demo_account, tmp_path: Path):
    """run_report(*args, key=None, extra_env=None) -> CompletedProcess, cwd = tmp_path."""

    def _run(*args: str, key: str | None = None,
             extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {name: value for name, value in os.environ.items()
               if not name.startswith("WHATFIX_")}
        env.update(
            PYTHONPATH=str(REPO),
            WHATFIX_BASE_URL=sim_server.base_url,
            WHATFIX_ACCOUNT_ID=demo_account.account_id,
            WHATFIX_INTEGRATION_KEY=key or demo_account.integration_key,
            WHATFIX_USER=demo_account.user_email,
            WHATFIX_CACHE="memory",
            **(extra_env or {}),
        )
        return subprocess.run(
            [sys.executable, "-m", "whatfix_data", "report", *args],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
        )

    return _run


def _pdf_pages(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True)
    return int(next(x for x in info.stdout.splitlines() if x.startswith("Pages:")).split()[1])


def _one_line_error(result: subprocess.CompletedProcess) -> str:
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_writes_the_deck_with_progress_on_stderr(run_report, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "october.pptx"
    result = run_report(*OCTOBER, "--compare", "previous", "--format", "pptx", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # stdout stays clean for cron mail; everything is on stderr
    assert "Building review pack" in result.stderr and "100%" in result.stderr
    assert f"Wrote {out}" in result.stderr
    assert "Traceback" not in result.stderr and "Error" not in result.stderr
    deck = Presentation(io.BytesIO(out.read_bytes()))
    assert len(deck.slides) == SLIDES_WITH_COMPARISON
    title = " ".join(s.text_frame.text for s in deck.slides[0].shapes if s.has_text_frame)
    assert "acme-demo" in title and "1 Oct – 31 Oct 2026" in title
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp file left
    assert out.stat().st_mode & 0o044  # readable like any new file, not 0600


def test_format_from_the_file_suffix_and_quiet(run_report, tmp_path: Path) -> None:
    out = tmp_path / "october.pdf"
    result = run_report(*OCTOBER, "--compare", "year", "--out", str(out), "--quiet")
    assert result.returncode == 0, result.stderr
    assert "Building review pack" not in result.stderr
    assert out.read_bytes().startswith(b"%PDF")
    assert _pdf_pages(out) == SLIDES_WITH_COMPARISON


def test_zip_into_a_folder_gets_the_default_name(run_report, tmp_path: Path) -> None:
    result = run_report(*OCTOBER, "--compare", "none", "--format", "zip", "--out", str(tmp_path),
                        "--quiet")
    assert result.returncode == 0, result.stderr
    out = tmp_path / "whatfix-review_acme-demo_2026-10-01_2026-10-31.zip"
    names = zipfile.ZipFile(out).namelist()
    assert sum(n.endswith(".png") for n in names) == 13
    # 13 charts' data beside their images, 4 tables, the KPIs and the glossary.
    assert sum(n.endswith(".csv") for n in names) == 13 + 4 + 1 + 1
    assert any(n.endswith("/tables/flow-activity-by-window.csv") for n in names)


def test_bad_dates_exit_2_with_one_line(run_report, tmp_path: Path) -> None:
    result = run_report("--start", "2026-10-31", "--end", "2026-10-01", "--out", "x.pptx")
    assert result.returncode == 2
    assert "start date 2026-10-31 is after the end date" in _one_line_error(result)
    assert not (tmp_path / "x.pptx").exists()


def test_missing_chromium_fails_fast_and_names_the_fix(run_report, tmp_path: Path) -> None:
    result = run_report(*OCTOBER, "--out", "x.pptx",
                        extra_env={"WHATFIX_CHROMIUM_PATH": "/nonexistent/chromium"})
    assert result.returncode == 1
    assert "apt-get install chromium" in _one_line_error(result)
    assert not (tmp_path / "x.pptx").exists()


def test_rejected_key_exits_1_without_showing_it(run_report, tmp_path: Path) -> None:
    wrong = "wf-wrong-key-0123456789"
    result = run_report(*OCTOBER, "--out", "x.pptx", key=wrong)
    assert result.returncode == 1
    line = _one_line_error(result)
    assert "401" in line or "rejected" in line
    assert wrong not in result.stderr
    assert not (tmp_path / "x.pptx").exists()


def test_help_lists_the_options() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "whatfix_data", "report", "--help"], cwd=REPO,
        capture_output=True, text=True, timeout=60, check=True,
    )
    for option in ("--start", "--end", "--compare", "--format", "--out"):
        assert option in result.stdout


def _a_segment(make_settings) -> tuple[str, str]:
    """(id, name) of the demo account's first segment, read through the client."""
    from whatfix_data import datasets
    from whatfix_data.client import WhatfixClient

    with WhatfixClient(make_settings()) as client:
        frame = datasets.load_dataset(client, "segments", None).frame
    return str(frame["segment_id"].iloc[0]), str(frame["name"].iloc[0])


def test_segment_pack_names_the_segment(run_report, make_settings, tmp_path: Path) -> None:
    segment_id, name = _a_segment(make_settings)
    result = run_report(*OCTOBER, "--compare", "none", "--segment", segment_id, "--quiet",
                        "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    decks = list(tmp_path.glob("whatfix-review_acme-demo_2026-10-01_2026-10-31_*.pptx"))
    assert len(decks) == 1, result.stderr  # the segment's slug ends the default name
    deck = Presentation(io.BytesIO(decks[0].read_bytes()))
    title = " ".join(s.text_frame.text for s in deck.slides[0].shapes if s.has_text_frame)
    assert f"Segment: {name}" in title


def test_unknown_segment_exits_1_with_one_line(run_report, tmp_path: Path) -> None:
    result = run_report(*OCTOBER, "--segment", "no-such-segment", "--out", "x.pptx")
    assert result.returncode == 1
    line = _one_line_error(result)
    assert "no-such-segment" in line and "export segments" in line
    assert not (tmp_path / "x.pptx").exists()


def test_pack_of_hostile_names_builds(tmp_path: Path) -> None:
    """NUL, U+202E, null and formula names from a hostile API: every chart drawn, exit 0."""
    import struct

    from hostile_api import start_hostile_api

    api = start_hostile_api()
    env = {name: value for name, value in os.environ.items() if not name.startswith("WHATFIX_")}
    env.update(PYTHONPATH=str(REPO), **api.env())
    try:
        result = subprocess.run(
            [sys.executable, "-m", "whatfix_data", "report", "--start", "2026-11-01", "--end",
             "2026-11-20", "--format", "zip", "--out", str(tmp_path), "--quiet"],
            cwd=tmp_path, env=env, capture_output=True, text=True, timeout=CLI_TIMEOUT_S,
        )
    finally:
        api.stop()
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    (pack,) = tmp_path.glob("whatfix-review_*.zip")
    archive = zipfile.ZipFile(pack)
    pngs = [name for name in archive.namelist() if name.endswith(".png")]
    assert len(pngs) >= 10
    from PIL import Image

    from whatfix_data.images import PLACEHOLDER_BACKGROUND

    grey = tuple(int(PLACEHOLDER_BACKGROUND[i:i + 2], 16) for i in (1, 3, 5))
    for name in pngs:  # real charts at the pack's size, none of them a placeholder
        data = archive.read(name)
        assert struct.unpack(">II", data[16:24]) == (2120, 894), name
        assert Image.open(io.BytesIO(data)).convert("RGB").getpixel((2, 2)) != grey, name
    for name in (n for n in archive.namelist() if n.endswith((".csv", ".svg", ".md"))):
        text = archive.read(name).decode("utf-8")
        assert "\x00" not in text and "\u202e" not in text, name
