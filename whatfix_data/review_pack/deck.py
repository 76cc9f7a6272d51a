"""The PowerPoint deck (python-pptx): title, KPIs, one slide per chart, native table slides.

Slides are 16:9 and drawn on the blank layout with explicit boxes, so the look does not depend
on the default template's 4:3 placeholders.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, PP_ALIGN
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from whatfix_data.exports import xml_safe
from whatfix_data.review_pack import model
from whatfix_data.review_pack.model import ChartItem, KpiItem, ReviewContent, TableItem

SLIDE_W = Inches(13.333)
SLIDE_H = Inches(7.5)
MARGIN = Inches(0.5)
CONTENT_W = SLIDE_W - 2 * MARGIN
BLANK_LAYOUT = 6

SECTION_TOP = Inches(0.35)
HEADLINE_TOP = Inches(0.65)
HEADLINE_H = Inches(1.0)
BODY_TOP = Inches(1.75)
FOOTER_TOP = Inches(7.05)
BODY_BOTTOM = FOOTER_TOP - Inches(0.1)


KPI_GAP = Inches(0.25)
KPI_CARD_H = Inches(2.3)

TABLE_ROW_H = Inches(0.34)
TABLE_FONT_PT = 11


def _rgb(hex_colour: str) -> RGBColor:
    return RGBColor.from_string(hex_colour)


def _unstyled(shape):
    """Drop the theme style reference of a drawn shape: its effect (a drop shadow) would be
    applied by LibreOffice even with an empty effect list; fill and line are set explicitly."""
    style = shape._element.find(qn("p:style"))
    if style is not None:
        shape._element.remove(style)
    return shape


def _text(
    slide: Slide,
    box: tuple[int, int, int, int],
    text: str,
    *,
    size: int,
    colour: str = model.INK,
    bold: bool = False,
    align: PP_ALIGN = PP_ALIGN.LEFT,
    anchor: MSO_ANCHOR = MSO_ANCHOR.TOP,
) -> None:
    """One text box; wraps inside its width."""
    shape = slide.shapes.add_textbox(*box)
    frame = shape.text_frame
    frame.word_wrap = True
    frame.vertical_anchor = anchor
    frame.margin_left = frame.margin_right = 0
    paragraph = frame.paragraphs[0]
    paragraph.alignment = align
    run = paragraph.add_run()
    run.text = xml_safe(text)  # API text may hold control characters, which XML cannot
    run.font.size = Pt(size)
    run.font.bold = bold
    run.font.color.rgb = _rgb(colour)


def _frame(slide: Slide, content: ReviewContent, section: str, headline: str, page: int,
           audience: str | None = None) -> None:
    """Section label, headline and footer shared by every content slide."""
    _text(slide, (MARGIN, SECTION_TOP, CONTENT_W, Inches(0.3)), section.upper(), size=12,
          colour=model.ACCENT, bold=True)
    _text(slide, (MARGIN, HEADLINE_TOP, CONTENT_W, HEADLINE_H), headline,
          size=model.headline_size(headline), bold=True)
    line = _unstyled(
        slide.shapes.add_connector(1, MARGIN, FOOTER_TOP, SLIDE_W - MARGIN, FOOTER_TOP)
    )
    line.line.color.rgb = _rgb(model.RULE)
    line.line.width = Pt(0.75)
    _text(slide, (MARGIN, FOOTER_TOP + Inches(0.05), CONTENT_W - Inches(1), Inches(0.3)),
          content.footer(audience), size=10, colour=model.MUTED)
    _text(slide, (SLIDE_W - MARGIN - Inches(1), FOOTER_TOP + Inches(0.05), Inches(1), Inches(0.3)),
          str(page), size=10, colour=model.MUTED, align=PP_ALIGN.RIGHT)


def _title_slide(slide: Slide, content: ReviewContent) -> None:
    band = _unstyled(slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, Inches(0.35), SLIDE_H))
    band.fill.solid()
    band.fill.fore_color.rgb = _rgb(model.ACCENT)
    band.line.fill.background()
    left, width = Inches(1.0), SLIDE_W - Inches(2.0)
    _text(slide, (left, Inches(2.0), width, Inches(0.5)), "WHATFIX REVIEW", size=16,
          colour=model.ACCENT, bold=True)
    _text(slide, (left, Inches(2.5), width, Inches(1.2)), content.account, size=44, bold=True)
    _text(slide, (left, Inches(3.9), width, Inches(0.5)), content.period_label, size=24)
    _text(slide, (left, Inches(4.5), width, Inches(0.5)), content.comparison_label, size=18,
          colour=model.MUTED)
    if content.segment_label:
        _text(slide, (left, Inches(5.1), width, Inches(0.5)), content.segment_label, size=18)
    _text(slide, (left, Inches(6.3), width, Inches(0.4)), content.generated_label, size=12,
          colour=model.MUTED)


def _kpi_card(slide: Slide, left: int, top: int, width: int, kpi: KpiItem) -> None:
    card = _unstyled(
        slide.shapes.add_shape(MSO_SHAPE.ROUNDED_RECTANGLE, left, top, width, KPI_CARD_H)
    )
    card.adjustments[0] = 0.06
    card.fill.solid()
    card.fill.fore_color.rgb = _rgb(model.CARD)
    card.line.fill.background()
    inner_l, inner_w = left + Inches(0.2), width - Inches(0.4)
    _text(slide, (inner_l, top + Inches(0.15), inner_w, Inches(0.4)), kpi.label, size=14,
          colour=model.MUTED)
    _text(slide, (inner_l, top + Inches(0.55), inner_w, Inches(0.8)), kpi.value, size=32,
          bold=True)
    if kpi.delta:
        colour = model.MUTED if kpi.good is None else (model.GOOD if kpi.good else model.BAD)
        _text(slide, (inner_l, top + Inches(1.35), inner_w, Inches(0.4)), kpi.delta, size=14,
              colour=colour, bold=True)
    if kpi.note:
        _text(slide, (inner_l, top + Inches(1.75), inner_w, Inches(0.5)), kpi.note, size=10,
              colour=model.MUTED)


def _kpi_slide(slide: Slide, content: ReviewContent, page: int) -> None:
    _frame(slide, content, "Overview", content.kpi_headline, page)
    columns = model.kpi_columns(len(content.kpis))
    card_w = (CONTENT_W - KPI_GAP * (columns - 1)) // columns
    for index, kpi in enumerate(content.kpis):
        row, col = divmod(index, columns)
        left = MARGIN + col * (card_w + KPI_GAP)
        top = BODY_TOP + row * (KPI_CARD_H + KPI_GAP)
        _kpi_card(slide, left, top, card_w, kpi)


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) in pixels from a PNG's IHDR chunk."""
    return struct.unpack(">II", data[16:24])


def _fit(image_w: int, image_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """Largest size with the image's aspect ratio inside the box."""
    scale = min(box_w / image_w, box_h / image_h)
    return int(image_w * scale), int(image_h * scale)


def _chart_slide(
    slide: Slide, content: ReviewContent, chart: ChartItem, png: bytes, page: int
) -> None:
    _frame(slide, content, chart.section, chart.takeaway, page, chart.audience)
    box_w, box_h = CONTENT_W, BODY_BOTTOM - BODY_TOP
    width, height = _fit(*png_size(png), box_w, box_h)
    left = MARGIN + (box_w - width) // 2
    slide.shapes.add_picture(io.BytesIO(png), left, BODY_TOP, Emu(width), Emu(height))


def _column_widths(cells: list[list[str]], total: int) -> list[int]:
    """Widths proportional to each column's longest text, within bounds, summing to total."""
    chars = model.column_weights(cells)
    widths = [total * c // sum(chars) for c in chars]
    widths[-1] += total - sum(widths)
    return widths


def _table_slide(slide: Slide, content: ReviewContent, table: TableItem, page: int) -> None:
    _frame(slide, content, table.section, table.takeaway or table.title, page, table.audience)
    cells = model.table_cells(table)
    top = BODY_TOP
    if table.takeaway:  # the headline is the takeaway: name the table above it
        _text(slide, (MARGIN, top, CONTENT_W, Inches(0.35)), table.title, size=14,
              colour=model.MUTED, bold=True)
        top += Inches(0.4)
    shape = slide.shapes.add_table(
        len(cells), len(cells[0]), MARGIN, top, CONTENT_W, TABLE_ROW_H * len(cells)
    )
    grid = shape.table
    for index, width in enumerate(_column_widths(cells, CONTENT_W)):
        grid.columns[index].width = width
    right = model.numeric_columns(table.frame)
    for r, row in enumerate(cells):
        grid.rows[r].height = TABLE_ROW_H
        for c, value in enumerate(row):
            _table_cell(grid.cell(r, c), value, header=r == 0, right=c in right)
    note = table.cut_note()
    if note:
        note_top = top + TABLE_ROW_H * len(cells) + Inches(0.1)
        _text(slide, (MARGIN, note_top, CONTENT_W, Inches(0.3)), note, size=10, colour=model.MUTED)


def _table_cell(cell, value: str, *, header: bool, right: bool) -> None:
    cell.margin_left = cell.margin_right = Inches(0.08)
    cell.margin_top = cell.margin_bottom = Inches(0.03)
    cell.vertical_anchor = MSO_ANCHOR.MIDDLE
    paragraph = cell.text_frame.paragraphs[0]
    paragraph.alignment = PP_ALIGN.RIGHT if right else PP_ALIGN.LEFT
    run = paragraph.add_run()
    run.text = xml_safe(value)
    run.font.size = Pt(TABLE_FONT_PT)
    run.font.bold = header
    run.font.color.rgb = _rgb("FFFFFF" if header else model.INK)
    cell.fill.solid()
    cell.fill.fore_color.rgb = _rgb(model.INK if header else "FFFFFF")


def _notes_slide(slide: Slide, content: ReviewContent, page: int) -> None:
    _frame(slide, content, "About this pack", "Notes on the data", page)
    text = "\n".join(f"• {note}" for note in content.notes)
    _text(slide, (MARGIN, BODY_TOP, CONTENT_W, BODY_BOTTOM - BODY_TOP), text, size=14)


def _glossary_slide(slide: Slide, content: ReviewContent, headline: str, lines: list[str],
                    page: int) -> None:
    _frame(slide, content, "Definitions", headline, page)
    text = "\n".join(f"• {line}" for line in lines)
    _text(slide, (MARGIN, BODY_TOP, CONTENT_W, BODY_BOTTOM - BODY_TOP), text, size=13)


def build_deck(content: ReviewContent, chart_pngs: Sequence[bytes]) -> bytes:
    """The .pptx bytes; ``chart_pngs[i]`` is the image of ``content.charts[i]``."""
    presentation = Presentation()
    presentation.slide_width, presentation.slide_height = SLIDE_W, SLIDE_H
    layout = presentation.slide_layouts[BLANK_LAYOUT]
    presentation.core_properties.title = xml_safe(f"{content.title} ({content.period_label})")
    presentation.core_properties.author = "Whatfix analytics"

    _title_slide(presentation.slides.add_slide(layout), content)
    page = 2
    if content.kpis:
        _kpi_slide(presentation.slides.add_slide(layout), content, page)
        page += 1
    for chart, png in zip(content.charts, chart_pngs, strict=True):
        _chart_slide(presentation.slides.add_slide(layout), content, chart, png, page)
        page += 1
    for table in content.tables:
        _table_slide(presentation.slides.add_slide(layout), content, table, page)
        page += 1
    if content.notes:
        _notes_slide(presentation.slides.add_slide(layout), content, page)
        page += 1
    for headline, lines in content.glossary_pages():
        _glossary_slide(presentation.slides.add_slide(layout), content, headline, lines, page)
        page += 1

    buffer = io.BytesIO()
    presentation.save(buffer)
    return buffer.getvalue()


def slide_count(content: ReviewContent) -> int:
    """How many slides (and PDF pages) the pack has for this content."""
    return (
        1 + bool(content.kpis) + len(content.charts) + len(content.tables) + bool(content.notes)
        + len(content.glossary_pages())
    )
