"""The ZIP: every chart as PNG and SVG with the data it draws as CSV, every table (and the KPIs
and the glossary) as safe CSV, plus a README.

CSV files come from :func:`whatfix_data.exports.to_csv_bytes`, so formulas are neutralised here
exactly as in every other download.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Sequence

import pandas as pd

from whatfix_data.exports import to_csv_bytes
from whatfix_data.review_pack.model import ReviewContent

CHARTS_DIR = "charts"
TABLES_DIR = "tables"
KPI_FILE = "kpis.csv"
GLOSSARY_FILE = "glossary.csv"
README_FILE = "README.txt"


def chart_stem(index: int, slug: str) -> str:
    """Numbered chart file stem, so files sort in deck order: ``03-flows-completion-rate``."""
    return f"{index + 1:02d}-{slug}"


def kpi_frame(content: ReviewContent) -> pd.DataFrame:
    """The KPI slide as a table (label, value, change, note)."""
    return pd.DataFrame(
        {
            "kpi": [k.label for k in content.kpis],
            "value": [k.value for k in content.kpis],
            "change": [k.delta or "" for k in content.kpis],
            "note": [k.note or "" for k in content.kpis],
        }
    )


def _readme(content: ReviewContent, root: str) -> str:
    lines = [
        content.title,
        f"Period: {content.period_label}",
        f"Comparison: {content.comparison_label}",
        *([content.segment_label] if content.segment_label else []),
        content.generated_label,
        "",
        "Charts (PNG at 2x and SVG) and their takeaways:",
    ]
    for index, chart in enumerate(content.charts):
        lines.append(f"  {CHARTS_DIR}/{chart_stem(index, chart.slug)}: {chart.takeaway}")
    lines.append(f"  (each chart's data is beside it as {CHARTS_DIR}/<chart>.csv)")
    lines += ["", "Tables (CSV, UTF-8; text cells that look like formulas start with '):"]
    lines.append(f"  {TABLES_DIR}/{KPI_FILE}: key numbers")
    if content.glossary:
        lines.append(f"  {TABLES_DIR}/{GLOSSARY_FILE}: what each measure means")
    lines += [f"  {TABLES_DIR}/{t.slug}.csv: {t.title}" for t in content.tables]
    if content.notes:
        lines += ["", "Notes on the data:", *(f"  - {note}" for note in content.notes)]
    if content.glossary:
        lines += ["", "Definitions:", *(f"  - {name}: {text}" for name, text in content.glossary)]
    return "\n".join(lines) + "\n"


def build_zip(
    content: ReviewContent, chart_pngs: Sequence[bytes], chart_svgs: Sequence[bytes], root: str
) -> bytes:
    """ZIP bytes with everything inside one folder named ``root``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{root}/{README_FILE}", _readme(content, root))
        for index, (chart, png, svg) in enumerate(
            zip(content.charts, chart_pngs, chart_svgs, strict=True)
        ):
            stem = f"{root}/{CHARTS_DIR}/{chart_stem(index, chart.slug)}"
            # PNG is already compressed: storing it again deflated only costs time.
            archive.writestr(f"{stem}.png", png, compress_type=zipfile.ZIP_STORED)
            archive.writestr(f"{stem}.svg", svg)
            if chart.data is not None:
                archive.writestr(f"{stem}.csv", to_csv_bytes(chart.data))
        archive.writestr(f"{root}/{TABLES_DIR}/{KPI_FILE}", to_csv_bytes(kpi_frame(content)))
        for table in content.tables:
            archive.writestr(f"{root}/{TABLES_DIR}/{table.slug}.csv", to_csv_bytes(table.frame))
        if content.glossary:
            terms = pd.DataFrame(content.glossary, columns=["measure", "definition"])
            archive.writestr(f"{root}/{TABLES_DIR}/{GLOSSARY_FILE}", to_csv_bytes(terms))
    return buffer.getvalue()
