"""The PDF (reportlab): the same pages as the deck, drawn on 16:9 pages of the same size.

Text from the API (flow names, emails) is escaped before it reaches reportlab's paragraph
markup, and a TrueType font with wide Unicode coverage is used when the system has one.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from whatfix_data.exports import xml_safe
from whatfix_data.review_pack import model
from whatfix_data.review_pack.deck import png_size
from whatfix_data.review_pack.model import ChartItem, KpiItem, ReviewContent, TableItem

PAGE_W, PAGE_H = 13.333 * inch, 7.5 * inch
MARGIN = 0.5 * inch
CONTENT_W = PAGE_W - 2 * MARGIN
# Vertical positions measured from the top, as in the deck, converted with _y().
SECTION_TOP = 0.35 * inch
HEADLINE_TOP = 0.65 * inch
BODY_TOP = 1.75 * inch
FOOTER_TOP = 7.05 * inch

KPI_GAP = 0.25 * inch
KPI_CARD_H = 2.3 * inch
TABLE_FONT_PT = 10
TABLE_ROW_H = 0.32 * inch

# DejaVu covers the arrows, dashes and accented names the data may hold; Helvetica is the
# fallback (built into every PDF reader) when the font files are absent.
FONT_FILES = {
    "WhatfixSans": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    "WhatfixSans-Bold": Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"),
}
FALLBACK_FONTS = ("Helvetica", "Helvetica-Bold")


def _fonts() -> tuple[str, str]:
    """(regular, bold) font names, registering the TrueType fonts once."""
    if not all(path.is_file() for path in FONT_FILES.values()):
        return FALLBACK_FONTS
    registered = pdfmetrics.getRegisteredFontNames()
    for name, path in FONT_FILES.items():
        if name not in registered:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    regular, bold = FONT_FILES
    return regular, bold


def _colour(hex_colour: str) -> colors.Color:
    return colors.HexColor(f"#{hex_colour}")


def _y(from_top: float) -> float:
    return PAGE_H - from_top


class _Pdf:
    """One canvas plus the drawing helpers every page uses."""

    def __init__(self, content: ReviewContent) -> None:
        self.content = content
        self.buffer = io.BytesIO()
        self.canvas = Canvas(self.buffer, pagesize=(PAGE_W, PAGE_H))
        self.canvas.setTitle(f"{content.title} ({content.period_label})")
        self.canvas.setAuthor("Whatfix analytics")
        self.regular, self.bold = _fonts()
        self.page = 1

    def paragraph(
        self, text: str, left: float, top: float, width: float, *, size: float,
        colour: str = model.INK, bold: bool = False, max_height: float | None = None,
    ) -> float:
        """Draw wrapped text with its top at ``top`` (from the page top); return its height."""
        style = ParagraphStyle(
            "p", fontName=self.bold if bold else self.regular, fontSize=size,
            leading=size * 1.2, textColor=_colour(colour), alignment=TA_LEFT,
        )
        para = Paragraph(escape(xml_safe(text)).replace("\n", "<br/>"), style)
        _, height = para.wrap(width, max_height or PAGE_H)
        para.drawOn(self.canvas, left, _y(top) - height)
        return height

    def frame(self, section: str, headline: str, audience: str | None = None) -> None:
        self.paragraph(section.upper(), MARGIN, SECTION_TOP, CONTENT_W, size=12,
                       colour=model.ACCENT, bold=True)
        self.paragraph(headline, MARGIN, HEADLINE_TOP, CONTENT_W,
                       size=model.headline_size(headline), bold=True)
        canvas = self.canvas
        canvas.setStrokeColor(_colour(model.RULE))
        canvas.setLineWidth(0.75)
        canvas.line(MARGIN, _y(FOOTER_TOP), PAGE_W - MARGIN, _y(FOOTER_TOP))
        footer = self.content.footer(audience)
        canvas.setFont(self.regular, 10)
        canvas.setFillColor(_colour(model.MUTED))
        canvas.drawString(MARGIN, _y(FOOTER_TOP + 0.25 * inch), footer)
        canvas.drawRightString(PAGE_W - MARGIN, _y(FOOTER_TOP + 0.25 * inch), str(self.page))

    def next_page(self) -> None:
        self.canvas.showPage()
        self.page += 1

    def finish(self) -> bytes:
        self.canvas.save()
        return self.buffer.getvalue()


def _title_page(pdf: _Pdf) -> None:
    content, canvas = pdf.content, pdf.canvas
    canvas.setFillColor(_colour(model.ACCENT))
    canvas.rect(0, 0, 0.35 * inch, PAGE_H, stroke=0, fill=1)
    left, width = 1.0 * inch, PAGE_W - 2.0 * inch
    pdf.paragraph("WHATFIX REVIEW", left, 2.0 * inch, width, size=16, colour=model.ACCENT,
                  bold=True)
    pdf.paragraph(content.account, left, 2.5 * inch, width, size=44, bold=True)
    pdf.paragraph(content.period_label, left, 3.9 * inch, width, size=24)
    pdf.paragraph(content.comparison_label, left, 4.5 * inch, width, size=18, colour=model.MUTED)
    if content.segment_label:
        pdf.paragraph(content.segment_label, left, 5.1 * inch, width, size=18)
    pdf.paragraph(content.generated_label, left, 6.3 * inch, width, size=12, colour=model.MUTED)


def _kpi_card(pdf: _Pdf, left: float, top: float, width: float, kpi: KpiItem) -> None:
    canvas = pdf.canvas
    canvas.setFillColor(_colour(model.CARD))
    canvas.roundRect(left, _y(top + KPI_CARD_H), width, KPI_CARD_H, 8, stroke=0, fill=1)
    inner_l, inner_w = left + 0.2 * inch, width - 0.4 * inch
    pdf.paragraph(kpi.label, inner_l, top + 0.15 * inch, inner_w, size=14, colour=model.MUTED)
    pdf.paragraph(kpi.value, inner_l, top + 0.55 * inch, inner_w, size=32, bold=True)
    if kpi.delta:
        colour = model.MUTED if kpi.good is None else (model.GOOD if kpi.good else model.BAD)
        pdf.paragraph(kpi.delta, inner_l, top + 1.35 * inch, inner_w, size=14, colour=colour,
                      bold=True)
    if kpi.note:
        pdf.paragraph(kpi.note, inner_l, top + 1.75 * inch, inner_w, size=10, colour=model.MUTED)


def _kpi_page(pdf: _Pdf) -> None:
    pdf.frame("Overview", pdf.content.kpi_headline)
    columns = model.kpi_columns(len(pdf.content.kpis))
    card_w = (CONTENT_W - KPI_GAP * (columns - 1)) / columns
    for index, kpi in enumerate(pdf.content.kpis):
        row, col = divmod(index, columns)
        left = MARGIN + col * (card_w + KPI_GAP)
        _kpi_card(pdf, left, BODY_TOP + row * (KPI_CARD_H + KPI_GAP), card_w, kpi)


def _chart_page(pdf: _Pdf, chart: ChartItem, png: bytes) -> None:
    pdf.frame(chart.section, chart.takeaway, chart.audience)
    image_w, image_h = png_size(png)
    box_w, box_h = CONTENT_W, FOOTER_TOP - 0.1 * inch - BODY_TOP
    scale = min(box_w / image_w, box_h / image_h)
    width, height = image_w * scale, image_h * scale
    left = MARGIN + (box_w - width) / 2
    pdf.canvas.drawImage(ImageReader(io.BytesIO(png)), left, _y(BODY_TOP) - height, width, height)


def _table_page(pdf: _Pdf, table: TableItem) -> None:
    pdf.frame(table.section, table.takeaway or table.title, table.audience)
    top = BODY_TOP
    if table.takeaway:
        top += pdf.paragraph(table.title, MARGIN, top, CONTENT_W, size=14, colour=model.MUTED,
                             bold=True) + 0.1 * inch
    cells = model.table_cells(table)
    right = model.numeric_columns(table.frame)
    styles = {
        (align, header): ParagraphStyle(
            f"cell-{align}-{header}", fontName=pdf.bold if header else pdf.regular,
            fontSize=TABLE_FONT_PT, leading=TABLE_FONT_PT * 1.2, alignment=align,
            textColor=colors.white if header else _colour(model.INK),
        )
        for align in (TA_LEFT, TA_RIGHT)
        for header in (True, False)
    }
    rows = [
        [Paragraph(escape(xml_safe(v)), styles[(TA_RIGHT if c in right else TA_LEFT, r == 0)])
         for c, v in enumerate(row)]
        for r, row in enumerate(cells)
    ]
    weights = model.column_weights(cells)
    widths = [CONTENT_W * w / sum(weights) for w in weights]
    # The header row grows when a long header wraps; body rows keep the deck's height.
    grid = Table(rows, colWidths=widths, rowHeights=[None] + [TABLE_ROW_H] * (len(rows) - 1))
    commands = [
        ("BACKGROUND", (0, 0), (-1, 0), _colour(model.INK)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.5, _colour(model.RULE)),
    ]
    grid.setStyle(TableStyle(commands))
    _, height = grid.wrap(CONTENT_W, PAGE_H)
    grid.drawOn(pdf.canvas, MARGIN, _y(top) - height)
    note = table.cut_note()
    if note:
        pdf.paragraph(note, MARGIN, top + height + 0.1 * inch, CONTENT_W, size=10,
                      colour=model.MUTED)


def _notes_page(pdf: _Pdf) -> None:
    pdf.frame("About this pack", "Notes on the data")
    text = "\n".join(f"• {note}" for note in pdf.content.notes)
    pdf.paragraph(text, MARGIN, BODY_TOP, CONTENT_W, size=14)


def build_pdf(content: ReviewContent, chart_pngs: Sequence[bytes]) -> bytes:
    """The PDF bytes, page for page the same as the deck."""
    pdf = _Pdf(content)
    _title_page(pdf)
    if content.kpis:
        pdf.next_page()
        _kpi_page(pdf)
    for chart, png in zip(content.charts, chart_pngs, strict=True):
        pdf.next_page()
        _chart_page(pdf, chart, png)
    for table in content.tables:
        pdf.next_page()
        _table_page(pdf, table)
    if content.notes:
        pdf.next_page()
        _notes_page(pdf)
    for headline, lines in content.glossary_pages():
        pdf.next_page()
        pdf.frame("Definitions", headline)
        text = "\n".join(f"• {line}" for line in lines)
        pdf.paragraph(text, MARGIN, BODY_TOP, CONTENT_W, size=13)
    return pdf.finish()
