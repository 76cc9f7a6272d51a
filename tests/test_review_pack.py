"""Review pack: the deck opens in LibreOffice with the right slides, the PDF has the same pages,
the ZIP holds every chart and table; real data from the built-in server end to end."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageStat
from pptx import Presentation

from whatfix_data import charts
from whatfix_data.images import CHROMIUM_PATH_ENV, PNG_SIGNATURE, ChromiumMissingError
from whatfix_data.review_pack.build import Steps, render_pack, render_steps
from whatfix_data.review_pack.deck import slide_count
from whatfix_data.review_pack.model import (
    ChartItem,
    KpiItem,
    ReviewContent,
    TableItem,
    format_cell,
)

# One worker runs this module: its module-scoped fixtures (servers, loaded data, built packs)
# are then made once, not once per xdist worker (tests/run_all.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("test_review_pack")

HOSTILE = '=HYPERLINK("http://x","y")'
# Standard deviation of grey levels above which a rendered slide region is "not blank".
MIN_CHART_STDDEV = 12.0
SOFFICE_TIMEOUT_S = 180


# --------------------------------------------------------------------------- helpers


def _flows(count: int) -> pd.DataFrame:
    rng = np.random.default_rng(3)
    views = rng.integers(50, 5000, count)
    completions = (views * rng.uniform(0.2, 0.9, count)).astype(int)
    names = [HOSTILE if i == 1 else f"Flow number {i} with a long descriptive name" for i in
             range(count)]
    return pd.DataFrame(
        {
            "flow_id": pd.array([f"f{i}" for i in range(count)], dtype="string"),
            "flow_name": pd.array(names, dtype="string"),
            "views": pd.array(views, dtype="Int64"),
            "completions": pd.array(completions, dtype="Int64"),
            "completion_rate_pct": pd.array(completions / views * 100, dtype="Float64"),
            "avg_time_to_complete_s": pd.array(rng.uniform(10, 300, count), dtype="Float64"),
        }
    )


def synthetic_content() -> ReviewContent:
    """Three charts, two tables (one longer than a slide), KPIs and a note."""
    flows = _flows(30)
    content = ReviewContent(
        account="acme-demo",
        period_label="1 Oct 2026 – 31 Oct 2026",
        comparison_label="vs 1 Sep 2026 – 30 Sep 2026",
        generated_at=datetime(2026, 11, 27, 9, 30, tzinfo=UTC),
        kpis=[
            KpiItem("Flow views", "48,210", "+12.0 %", True),
            KpiItem("Completion rate", "61.2 %", "-3.4 pts", False, "completions / views"),
            KpiItem("Active users", "1,845", None, None),
        ],
    )
    content.charts = [
        ChartItem("Flows", "Views", charts.flow_views_completions(flows, limit=10),
                  "Views rose 12% while completions stayed flat", "flow-views"),
        ChartItem("Flows", "Rate", charts.flow_completion_rate(flows, limit=10),
                  f"Completion of '{HOSTILE}' fell 12 points after its edit on 3 Oct", "rate"),
        ChartItem("Self Help", "Empty", charts.empty_figure("Self Help views", "No views"),
                  "No self-help views in this period", "self-help"),
    ]
    content.tables = [
        TableItem("Flows", "Top flows", flows, "top-flows", "The top 3 flows carry 30% of views"),
        TableItem("Task Lists", "One task left", flows[["flow_name", "views"]].head(4), "one"),
    ]
    content.notes = ["2 rows with impossible values were left out."]
    return content


def _soffice() -> str:
    """LibreOffice's binary; installed by tests/run_all.sh where missing."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if not found:
        pytest.fail("LibreOffice is missing: apt-get install -y libreoffice-impress")
    return found


def convert_to_pdf(deck: Path, out_dir: Path) -> Path:
    """The deck converted by LibreOffice headless, with its own profile (parallel-safe)."""
    profile = out_dir / "lo-profile"
    subprocess.run(
        [_soffice(), f"-env:UserInstallation={profile.as_uri()}", "--headless",
         "--convert-to", "pdf", "--outdir", str(out_dir), str(deck)],
        check=True, capture_output=True, timeout=SOFFICE_TIMEOUT_S,
    )
    pdf = out_dir / (deck.stem + ".pdf")
    assert pdf.is_file(), "LibreOffice did not produce a PDF"
    return pdf


def pdf_pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], check=True, capture_output=True, text=True)
    line = next(x for x in info.stdout.splitlines() if x.startswith("Pages:"))
    return int(line.split()[1])


def pdf_text(pdf: Path, page: int) -> str:
    out = subprocess.run(["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
                         check=True, capture_output=True, text=True)
    return " ".join(out.stdout.split())


def render_pages(pdf: Path, out_dir: Path) -> list[Image.Image]:
    subprocess.run(["pdftoppm", "-png", "-r", "50", str(pdf), str(out_dir / "page")], check=True)
    return [Image.open(p).convert("L") for p in sorted(out_dir.glob("page-*.png"))]


def chart_area_stddev(page: Image.Image) -> float:
    """Grey-level spread in the picture area of a slide (below the headline, above the footer)."""
    width, height = page.size
    box = (int(width * 0.04), int(height * 0.25), int(width * 0.96), int(height * 0.92))
    return ImageStat.Stat(page.crop(box)).stddev[0]


def build(content: ReviewContent, fmt: str) -> bytes:
    return render_pack(content, fmt, Steps(render_steps(content, fmt), None))


# --------------------------------------------------------------------------- deck


@pytest.fixture(scope="module")
def deck_bytes() -> bytes:
    return build(synthetic_content(), "pptx")


def test_deck_structure(deck_bytes: bytes) -> None:
    content = synthetic_content()
    deck = Presentation(io.BytesIO(deck_bytes))
    slides = list(deck.slides)
    # title + KPIs + 3 charts + 2 tables + notes
    assert len(slides) == slide_count(content) == 8
    texts = [" ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
             for slide in slides]
    assert "acme-demo" in texts[0] and "1 Oct 2026 – 31 Oct 2026" in texts[0]
    assert "Made 27 Nov 2026 09:30 UTC" in texts[0]
    assert "48,210" in texts[1] and "-3.4 pts" in texts[1]
    for slide, chart, text in zip(slides[2:5], content.charts, texts[2:5], strict=True):
        assert chart.takeaway in text
        pictures = [s for s in slide.shapes if s.shape_type == 13]  # MSO_SHAPE_TYPE.PICTURE
        assert len(pictures) == 1
        assert pictures[0].image.blob.startswith(PNG_SIGNATURE)
        # The picture stays inside the slide.
        assert pictures[0].left + pictures[0].width <= deck.slide_width
        assert pictures[0].top + pictures[0].height <= deck.slide_height
    table_shapes = [s for s in slides[5].shapes if s.has_table]
    assert len(table_shapes) == 1
    table = table_shapes[0].table
    assert len(table.rows) == 13  # header + 12 of 30 rows; the ZIP has them all
    assert table.cell(0, 4).text == "Completion rate (%)"
    assert table.cell(2, 1).text == HOSTILE  # shown as text on a slide, never evaluated
    assert "First 12 of 30 rows" in texts[5]
    assert "impossible values" in texts[7]


def test_deck_opens_in_libreoffice_and_chart_slides_are_not_blank(
    deck_bytes: bytes, tmp_path: Path
) -> None:
    deck = tmp_path / "pack.pptx"
    deck.write_bytes(deck_bytes)
    pdf = convert_to_pdf(deck, tmp_path)
    assert pdf_pages(pdf) == 8
    pages = render_pages(pdf, tmp_path)
    assert len(pages) == 8
    spreads = [chart_area_stddev(page) for page in pages]
    print("\nchart-area grey stddev per slide:", [round(s, 1) for s in spreads])
    for index in (2, 3):  # the two data charts
        assert spreads[index] > MIN_CHART_STDDEV
    # The notes slide has a single line of text in that area: far less ink than a chart.
    assert spreads[7] < spreads[2]
    assert "Views rose 12%" in pdf_text(pdf, 3)


# --------------------------------------------------------------------------- PDF


def test_pdf_has_the_same_pages(tmp_path: Path) -> None:
    content = synthetic_content()
    pdf = tmp_path / "pack.pdf"
    pdf.write_bytes(build(content, "pdf"))
    assert pdf_pages(pdf) == slide_count(content)
    assert "acme-demo" in pdf_text(pdf, 1)
    assert "48,210" in pdf_text(pdf, 2)
    assert content.charts[1].takeaway in pdf_text(pdf, 4)  # escaped, not parsed as markup
    table_text = pdf_text(pdf, 6)
    assert "Flow name" in table_text and "Completion rate" in table_text  # long headers wrap
    assert "=HYPERLINK" in table_text
    assert "First 12 of 30 rows" in pdf_text(pdf, 6)
    pages = render_pages(pdf, tmp_path)
    assert chart_area_stddev(pages[2]) > MIN_CHART_STDDEV


# --------------------------------------------------------------------------- ZIP


def test_zip_has_every_chart_and_table() -> None:
    content = synthetic_content()
    archive = zipfile.ZipFile(io.BytesIO(build(content, "zip")))
    names = set(archive.namelist())
    for index, chart in enumerate(content.charts):
        stem = f"review-pack/charts/{index + 1:02d}-{chart.slug}"
        assert archive.read(f"{stem}.png").startswith(PNG_SIGNATURE)
        assert ET.fromstring(archive.read(f"{stem}.svg")).tag.endswith("svg")
    assert {"review-pack/tables/kpis.csv", "review-pack/tables/top-flows.csv",
            "review-pack/tables/one.csv", "review-pack/README.txt"} <= names
    rows = list(csv.reader(io.StringIO(archive.read("review-pack/tables/top-flows.csv").decode())))
    assert len(rows) == 31  # the full table, not the 12 rows of the slide
    assert rows[2][1] == "'" + HOSTILE
    readme = archive.read("review-pack/README.txt").decode()
    assert content.charts[0].takeaway in readme


def test_progress_reaches_the_total() -> None:
    content = synthetic_content()
    seen: list[tuple[int, int]] = []
    total = render_steps(content, "zip")
    render_pack(content, "zip", Steps(total, lambda d, t: seen.append((d, t))))
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize("fmt", ["pptx", "pdf"])
def test_markup_and_control_characters_from_the_api_are_shown_as_text(
    fmt: str, tmp_path: Path
) -> None:
    content = synthetic_content()
    content.charts = content.charts[:1]
    content.charts[0].takeaway = "Flow '\x00<b>bold</b> & \x1b[31m' fell"
    content.tables[1].frame.loc[0, "flow_name"] = "\x01<i>x</i> & y"
    content.account = "acme <demo> & co\x02"
    data = build(content, fmt)
    if fmt == "pptx":
        deck = Presentation(io.BytesIO(data))
        texts = [s.text_frame.text for s in deck.slides[2].shapes if s.has_text_frame]
        assert "Flow '\ufffd<b>bold</b> & \ufffd[31m' fell" in texts
        table = next(s for s in deck.slides[4].shapes if s.has_table).table
        assert table.cell(1, 0).text == "\ufffd<i>x</i> & y"
    else:
        pdf = tmp_path / "pack.pdf"
        pdf.write_bytes(data)
        assert "<b>bold</b> &" in pdf_text(pdf, 3)  # escaped, not applied as markup
        assert "acme <demo> & co" in pdf_text(pdf, 1)


def test_unknown_format_is_refused() -> None:
    with pytest.raises(ValueError, match="pptx, pdf, zip"):
        build(synthetic_content(), "docx")


def test_missing_chromium_fails_with_the_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    from whatfix_data import images

    images.shutdown()
    monkeypatch.setenv(CHROMIUM_PATH_ENV, "/nonexistent/chromium")
    try:
        with pytest.raises(ChromiumMissingError, match="apt-get install chromium"):
            build(synthetic_content(), "pptx")
    finally:
        monkeypatch.delenv(CHROMIUM_PATH_ENV)
        images.shutdown()


# --------------------------------------------------------------------------- formatting


@pytest.mark.parametrize(
    ("column", "value", "text"),
    [
        ("views", 12345, "12,345"),
        ("views", np.int64(-3), "-3"),
        ("completion_rate_pct", 45.678, "45.7%"),
        ("avg_time_to_complete_s", 12.0, "12"),
        ("avg_time_to_complete_s", 12.34, "12.3"),
        ("name", None, "–"),
        ("views", pd.NA, "–"),
        ("last_active", pd.Timestamp("2026-10-03T10:00Z"), "2026-10-03"),
        ("name", "x" * 80, "x" * 47 + "…"),
    ],
)
def test_format_cell(column: str, value: object, text: str) -> None:
    assert format_cell(column, value) == text



# --------------------------------------------------------------------------- real data


OCTOBER = (datetime(2026, 10, 1).date(), datetime(2026, 10, 31).date())
# Overview 5 + Flows 3 (one is the comparison chart) + Self Help 2 + Engagement 2 + Task Lists 2.
CHARTS_WITH_COMPARISON = 14
KEY_TABLES = 4  # flow activity window by window, top flows, one task left, segments (October
# has no flow edit with enough views around it: no edit-impact table)
DEFINITION_SLIDES = 3  # the glossary, 7 measures a slide
MADE_AT = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def client(make_settings):
    from whatfix_data.client import WhatfixClient

    with WhatfixClient(make_settings()) as session_client:
        yield session_client


@pytest.fixture(scope="module")
def october():
    from whatfix_data.windows import DateRange

    return DateRange(*OCTOBER)


@pytest.fixture(scope="module")
def october_data(client, october):
    from whatfix_data.review_pack import load_review_data

    return load_review_data(client, october, "previous")


@pytest.fixture(scope="module")
def real_deck(client, october) -> bytes:
    from whatfix_data.review_pack import build_review_pack

    return build_review_pack(client, october, "previous", "pptx", generated_at=MADE_AT)


def test_real_deck_has_every_section_chart_takeaway_and_table(real_deck, october_data) -> None:
    from whatfix_data import analytics

    deck = Presentation(io.BytesIO(real_deck))
    slides = list(deck.slides)
    assert len(slides) == 2 + CHARTS_WITH_COMPARISON + KEY_TABLES + DEFINITION_SLIDES
    definitions = slides[-DEFINITION_SLIDES:]
    slides = slides[:-DEFINITION_SLIDES]
    assert all("DEFINITIONS" in s.shapes[0].text_frame.text for s in definitions)
    sections = [next(s.text_frame.text for s in slide.shapes if s.has_text_frame)
                for slide in slides[2:]]
    assert sections[:CHARTS_WITH_COMPARISON] == (
        ["OVERVIEW"] * 5 + ["FLOWS"] * 3 + ["SELF HELP"] * 2 + ["ENGAGEMENT"] * 2
        + ["TASK LISTS"] * 2
    )
    for slide in slides[2 : 2 + CHARTS_WITH_COMPARISON]:
        texts = [s.text_frame.text for s in slide.shapes if s.has_text_frame]
        assert len(texts[1]) > 20  # a takeaway sentence, computed from the data
        assert sum(1 for s in slide.shapes if s.shape_type == 13) == 1
    # The KPI slide shows the same numbers as analytics on the same data.
    kpis = analytics.compute_kpis(
        {k: v for k, v in october_data.current.items()},
        {k: v for k, v in october_data.comparison.items()},
    )
    kpi_text = " ".join(s.text_frame.text for s in slides[1].shapes if s.has_text_frame)
    for kpi in kpis:
        assert kpi.value_label in kpi_text
        assert kpi.delta_label in kpi_text
    table_titles = [[s.text_frame.text for s in slide.shapes if s.has_text_frame]
                    for slide in slides[-KEY_TABLES:]]
    assert any("Flow activity window by window" in " ".join(t) for t in table_titles)
    assert any("Top flows" in " ".join(t) for t in table_titles)
    assert any("one task left" in " ".join(t) for t in table_titles)
    assert any("Segment breakdown" in " ".join(t) for t in table_titles)
    assert all(any(s.has_table for s in slide.shapes) for slide in slides[-KEY_TABLES:])


def test_real_deck_renders_in_libreoffice(real_deck, tmp_path: Path) -> None:
    deck = tmp_path / "review.pptx"
    deck.write_bytes(real_deck)
    pdf = convert_to_pdf(deck, tmp_path)
    expected = 2 + CHARTS_WITH_COMPARISON + KEY_TABLES + DEFINITION_SLIDES
    assert pdf_pages(pdf) == expected
    pages = render_pages(pdf, tmp_path)
    spreads = [chart_area_stddev(page) for page in pages]
    print("\nreal deck chart-area stddev:", [round(s, 1) for s in spreads])
    for index in range(2, 2 + CHARTS_WITH_COMPARISON):
        assert spreads[index] > MIN_CHART_STDDEV, f"slide {index + 1} looks blank"


def test_build_from_loaded_data_makes_no_request_and_matches_the_pdf_pages(
    client, october, october_data, tmp_path: Path
) -> None:
    from whatfix_data.review_pack import build_from_data

    before = client.network_requests
    pdf_bytes = build_from_data(october_data, october, account="acme-demo",
                                comparison="previous", fmt="pdf", generated_at=MADE_AT)
    assert client.network_requests == before  # the page's datasets are reused as they are
    pdf = tmp_path / "review.pdf"
    pdf.write_bytes(pdf_bytes)
    assert pdf_pages(pdf) == 2 + CHARTS_WITH_COMPARISON + KEY_TABLES + DEFINITION_SLIDES
    assert "acme-demo" in pdf_text(pdf, 1)
    assert "1 Oct – 31 Oct 2026" in pdf_text(pdf, 1)


def test_real_zip_without_comparison(client, october) -> None:
    from whatfix_data.review_pack import build_review_pack, pack_stem

    steps: list[tuple[int, int]] = []
    data = build_review_pack(client, october, "none", "zip",
                             progress=lambda d, t: steps.append((d, t)))
    archive = zipfile.ZipFile(io.BytesIO(data))
    root = pack_stem("acme-demo", october)
    names = archive.namelist()
    charts_count = CHARTS_WITH_COMPARISON - 1  # no comparison chart
    assert sum(n.endswith(".png") for n in names) == charts_count
    assert sum(n.endswith(".svg") for n in names) == charts_count
    assert {f"{root}/tables/top-flows.csv", f"{root}/tables/segment-breakdown.csv",
            f"{root}/tables/task-lists-one-task-left.csv", f"{root}/tables/kpis.csv"} <= set(names)
    readme = archive.read(f"{root}/README.txt").decode()
    assert "No comparison" in readme
    assert steps[-1][0] == steps[-1][1]  # progress ends at its total


# --------------------------------------------------------------------------- segment


def _largest_partial_segment(data) -> tuple[str, str, pd.DataFrame]:
    """(id, name, membership) of the demo segment with the most members short of everyone."""
    from whatfix_data import segments

    users = data.current["end-users"].frame
    members = segments.membership(users, data.current["segments"].frame)
    sizes = members.groupby("segment_id").size()
    segment_id = str(sizes[sizes < len(users)].idxmax())
    seg = data.current["segments"].frame
    name = str(seg.loc[seg["segment_id"] == segment_id, "name"].iloc[0])
    return segment_id, name, members


def _kpi_values(content) -> dict[str, str]:
    return {k.label: k.value for k in content.kpis}


def test_segment_limits_per_user_kpis_and_is_named_on_the_title(october_data, october) -> None:
    from whatfix_data import analytics, segments
    from whatfix_data.review_pack import pack_file_name
    from whatfix_data.review_pack.assemble import ACCOUNT_TREND_NOTE, collect_content

    segment_id, name, members = _largest_partial_segment(october_data)
    everyone = collect_content(october_data, october, account="acme-demo")
    limited = collect_content(october_data, october, account="acme-demo", segment_id=segment_id)

    def per_user(period: dict) -> dict:
        return {k: segments.filter_to_segment(period[k].frame, members, segment_id)
                if k in ("engagement", "task-completion") else period[k].frame
                for k in ("flows", "engagement", "self-help", "task-completion")}

    expected = {k.name: k.value_label for k in analytics.compute_kpis(
        per_user(october_data.current), per_user(october_data.comparison))}
    got, before = _kpi_values(limited), _kpi_values(everyone)
    for label in ("Active users", "Finished task-list enrolments"):
        assert got[label] == expected[label]
        assert got[label] != before[label], label
    assert got["Flow views"] == before["Flow views"]  # flows are not per-user data
    assert limited.segment_label == (
        f"Segment: {name} — applies to engagement and task-list numbers; flow and self-help "
        "numbers cover all users (the API has no per-user flow or self-help data)")
    # Loaded without the per-user trend: the note says the active-users trend counts everyone.
    assert everyone.segment_label is None and ACCOUNT_TREND_NOTE in limited.notes
    # The segment breakdown still compares every segment.
    table = {t.slug: t.frame for t in limited.tables}["segment-breakdown"]
    assert table.equals({t.slug: t.frame for t in everyone.tables}["segment-breakdown"])
    slug = pack_file_name("acme-demo", october, "pdf", name)
    assert slug.startswith("whatfix-review_acme-demo_2026-10-01_2026-10-31_") and slug != (
        pack_file_name("acme-demo", october, "pdf"))


def test_segment_is_on_the_pdf_title_page(october_data, october, tmp_path: Path) -> None:
    from whatfix_data.review_pack import build_from_data

    segment_id, name, _ = _largest_partial_segment(october_data)
    pdf = tmp_path / "segment.pdf"
    pdf.write_bytes(build_from_data(october_data, october, account="acme-demo", fmt="pdf",
                                    generated_at=MADE_AT, segment_id=segment_id))
    assert f"Segment: {name}" in pdf_text(pdf, 1)
    # One more page than the all-users pack: the note on what the segment does not limit.
    assert pdf_pages(pdf) == 2 + CHARTS_WITH_COMPARISON + KEY_TABLES + 1 + DEFINITION_SLIDES


def test_unknown_segment_says_where_to_find_ids(october_data, october) -> None:
    from whatfix_data.errors import InvalidRequestError
    from whatfix_data.review_pack.assemble import collect_content

    with pytest.raises(InvalidRequestError, match=r"Segments page.*export segments"):
        collect_content(october_data, october, account="acme-demo", segment_id="no-such-segment")


def test_pack_table_pairs_each_window_with_the_comparisons(october_data, october) -> None:
    from whatfix_data import analytics
    from whatfix_data.review_pack.assemble import collect_content
    from whatfix_data.windows import align_windows

    content = collect_content(october_data, october, account="acme-demo", granularity="day")
    table = {t.slug: t.frame for t in content.tables}["flow-activity-by-window"]
    pairs = align_windows(october, october_data.comparison_range, "day")
    assert table["window_label"].tolist() == [p.current.label for p in pairs]
    assert table["comparison_window_label"].tolist() == [p.comparison.label for p in pairs]
    before = analytics.flows.totals_by_window(october_data.comparison["flow-trend"].frame)
    assert int(table["comparison_views"].sum()) == int(before["views"].sum())
    # Daily windows face the same weekday (the comparison moved by whole weeks).
    weekdays = {(p.current.start.weekday(), p.comparison.start.weekday()) for p in pairs}
    assert all(a == b for a, b in weekdays)
    assert "weekday-aligned" in content.comparison_label
