"""Turn a ReviewContent into pptx, pdf or zip bytes: render the charts once, then write the file.

Charts are rendered at one fixed size whose shape matches the slide's picture area, so every
chart fills its slide the same way in the deck and in the PDF, and the ZIP holds those very
images.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from whatfix_data import images
from whatfix_data.review_pack.bundle import build_zip
from whatfix_data.review_pack.deck import build_deck
from whatfix_data.review_pack.model import ReviewContent
from whatfix_data.review_pack.pdf import build_pdf

Progress = Callable[[int, int], None]  # (done, total), like whatfix_data.datasets.Progress

FORMATS: tuple[str, ...] = ("pptx", "pdf", "zip")
MEDIA_TYPES: dict[str, str] = {
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "pdf": "application/pdf",
    "zip": "application/zip",
}
# CSS pixels of every pack chart; 1060 x 447 has the aspect of the slide's picture area
# (12.33 x 5.2 in), and at scale 2 the PNG is sharp on a projector.
CHART_WIDTH_PX = 1060
CHART_HEIGHT_PX = 447
CHART_SCALE = 2


class Steps:
    """Counts finished steps of a build and reports them to an optional callback."""

    def __init__(self, total: int, progress: Progress | None, done: int = 0) -> None:
        self.total, self.done, self._progress = total, done, progress
        # Datasets load on several threads: the lock keeps the reported counts in order.
        self._lock = threading.Lock()

    def advance(self, count: int = 1) -> None:
        with self._lock:
            self.done = min(self.total, self.done + count)
            if self._progress is not None:
                self._progress(self.done, self.total)


def render_steps(content: ReviewContent, fmt: str) -> int:
    """Steps of :func:`render_pack`: one per chart image (PNG, and SVG for the ZIP), plus
    writing the file."""
    return len(content.charts) * (2 if fmt == "zip" else 1) + 1


def _render(figures: Sequence[Any], fmt: str, steps: Steps) -> list[bytes]:
    """All images in one go (the renderer spreads them over its tabs), a step per image."""
    return images.figures_to_images(
        figures, fmt, CHART_SCALE, width=CHART_WIDTH_PX, height=CHART_HEIGHT_PX,
        on_done=steps.advance,
    )


def check_format(fmt: str) -> str:
    """The format, lower-cased, or ValueError naming the choices."""
    value = fmt.lower().lstrip(".")
    if value not in FORMATS:
        raise ValueError(f"Unknown review pack format {fmt!r}: choose one of {', '.join(FORMATS)}.")
    return value


def render_pack(content: ReviewContent, fmt: str, steps: Steps, root: str = "review-pack") -> bytes:
    """The pack file's bytes. Needs Chromium (ChromiumMissingError otherwise) for the charts."""
    fmt = check_format(fmt)
    figures = [chart.figure for chart in content.charts]
    pngs = _render(figures, "png", steps)
    if fmt == "pptx":
        data = build_deck(content, pngs)
    elif fmt == "pdf":
        data = build_pdf(content, pngs)
    else:
        data = build_zip(content, pngs, _render(figures, "svg", steps), root)
    steps.advance()
    return data
