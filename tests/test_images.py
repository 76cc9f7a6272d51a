"""Chart images: valid PNG/SVG of the right size, a warm browser, a clear error without Chromium."""

from __future__ import annotations

import struct
import time
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import plotly.graph_objects as go
import pytest

from whatfix_data import images
from whatfix_data.exports import to_csv_bytes, to_xlsx_bytes
from whatfix_data.images import (
    CHROMIUM_PATH_ENV,
    PNG_SIGNATURE,
    ChromiumMissingError,
    figure_to_png,
    figure_to_svg,
    figures_to_images,
)

WIDTH, HEIGHT = 640, 360
SVG_NS = "{http://www.w3.org/2000/svg}"


def _figure(title: str = "Flow completion (%)") -> go.Figure:
    return go.Figure(
        go.Bar(x=["Create invoice", "Approve PO"], y=[42.5, -3.0]),
        layout={"title": title, "width": WIDTH, "height": HEIGHT},
    )


def _png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always follows the 8-byte signature."""
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_png_is_valid_and_twice_the_layout_size() -> None:
    started = time.perf_counter()
    first = figure_to_png(_figure())
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = figure_to_png(_figure("Second chart"))
    second_s = time.perf_counter() - started
    # Timing is printed, not asserted: the machine is shared.
    print(f"\nfirst PNG {first_s:.2f} s, second PNG {second_s:.2f} s (warm browser)")
    for data in (first, second):
        assert data.startswith(PNG_SIGNATURE)
        assert _png_size(data) == (WIDTH * 2, HEIGHT * 2)
    assert images.is_warm()


def test_png_scale_is_honoured() -> None:
    assert _png_size(figure_to_png(_figure(), scale=1)) == (WIDTH, HEIGHT)


def test_svg_is_well_formed_xml_of_the_layout_size() -> None:
    root = ET.fromstring(figure_to_svg(_figure()))
    assert root.tag == f"{SVG_NS}svg"
    assert float(root.attrib["width"]) == WIDTH
    assert float(root.attrib["height"]) == HEIGHT
    texts = "".join(root.itertext())
    assert "Create invoice" in texts  # the data is in the vector image, not a raster


def test_many_figures_render_in_order() -> None:
    figs = [_figure(f"Chart {i}") for i in range(3)]
    figs[1].update_layout(width=400, height=300)
    pngs = figures_to_images(figs, "png")
    assert [_png_size(p) for p in pngs] == [(1280, 720), (800, 600), (1280, 720)]
    svgs = figures_to_images(figs, "svg")
    assert all("Chart" in "".join(ET.fromstring(s).itertext()) for s in svgs)
    assert figures_to_images([], "png") == []


def test_concurrent_callers_each_get_their_own_image() -> None:
    """Streamlit sessions are threads: simultaneous downloads must not swap images."""
    widths = [300, 420, 540, 660, 780, 900]

    def render(width: int) -> tuple[int, tuple[int, int]]:
        return width, _png_size(figure_to_png(_figure(f"w{width}"), scale=1, width=width))

    with ThreadPoolExecutor(max_workers=len(widths)) as pool:
        results = list(pool.map(render, widths))
    assert all(size == (width, HEIGHT) for width, size in results)


def test_a_bad_figure_fails_alone_and_keeps_the_browser() -> None:
    figure_to_png(_figure())  # warm
    with pytest.raises(images.ImageExportError):
        figure_to_png("not a figure")
    assert images.is_warm()
    assert figure_to_png(_figure()).startswith(PNG_SIGNATURE)


def test_explicit_width_and_height_override_the_layout() -> None:
    png = figure_to_png(_figure(), width=1000, height=500)
    assert _png_size(png) == (2000, 1000)
    root = ET.fromstring(figure_to_svg(_figure(), width=800))
    assert float(root.attrib["width"]) == 800
    assert float(root.attrib["height"]) == HEIGHT


@pytest.mark.parametrize("browser", ["/nonexistent/chromium", "/bin/false"])
def test_missing_chromium_names_the_fix_and_spreadsheets_still_work(
    monkeypatch: pytest.MonkeyPatch, browser: str
) -> None:
    images.shutdown()  # forget the warm browser so the next image looks for Chromium again
    monkeypatch.setenv(CHROMIUM_PATH_ENV, browser)
    try:
        with pytest.raises(ChromiumMissingError) as caught:
            figure_to_png(_figure())
        message = caught.value.user_message
        assert "apt-get install chromium" in message
        assert CHROMIUM_PATH_ENV in message
        with pytest.raises(ChromiumMissingError):
            figure_to_svg(_figure())
        assert not images.is_warm()
        # CSV and XLSX never need a browser.
        frame = pd.DataFrame({"flow_name": ["=HYPERLINK(1)"], "views": [-3]})
        assert to_csv_bytes(frame).splitlines()[1] == b"'=HYPERLINK(1),-3"
        assert to_xlsx_bytes(frame, "Flows").startswith(b"PK")
    finally:
        monkeypatch.delenv(CHROMIUM_PATH_ENV)
    # With the browser back, images work again in the same process.
    assert figure_to_png(_figure()).startswith(PNG_SIGNATURE)


def test_a_figure_that_cannot_be_drawn_becomes_a_placeholder_in_a_batch() -> None:
    """A NUL in a label makes the browser refuse a figure: the others still render, and the
    refused one is a placeholder of the same size (its grey background, not the chart's white)."""
    import io

    from PIL import Image

    bad = go.Figure(go.Bar(x=["Checkout\x00flow", "\u202eevil"], y=[1, 2]),
                    layout={"title": {"text": "Views \x00 per flow"}})
    pngs = images.figures_to_images([_figure(), bad, "not a figure"], "png", 1,
                                    width=400, height=300)
    assert [png.startswith(PNG_SIGNATURE) for png in pngs] == [True, True, True]
    assert {_png_size(png) for png in pngs} == {(400, 300)}
    corners = [Image.open(io.BytesIO(png)).convert("RGB").getpixel((2, 2)) for png in pngs]
    assert corners[0] == (255, 255, 255)  # a real chart
    placeholder = tuple(int(images.PLACEHOLDER_BACKGROUND[i:i + 2], 16) for i in (1, 3, 5))
    assert corners[2] == placeholder
    svgs = images.figures_to_images([_figure(), "not a figure"], "svg", width=400, height=300)
    placeholder_svg = ET.fromstring(svgs[1])
    assert placeholder_svg.get("width") == "400" and placeholder_svg.get("height") == "300"
    assert images.PLACEHOLDER_TITLE.encode() in svgs[1] and b"TypeError" in svgs[1]
    assert images.is_warm()  # one bad chart does not cost the shared browser


def _unload_kaleido_page_from_every_tab() -> None:
    """What a tab looks like when kaleido took the blank page's JavaScript context (a race of
    kaleido 1.x on a loaded box): its page script is not there. Done in the real browser."""
    renderer = images._get_renderer()

    async def unload() -> None:
        for tab in list(renderer._kaleido.tabs.values()):
            await tab.send_command("Runtime.evaluate",
                                   params={"expression": "delete window.kaleido_scopes"})

    renderer._run(unload(), images.STARTUP_TIMEOUT_S)


@pytest.mark.parametrize("batch", [False, True], ids=["one image", "a batch"])
def test_tabs_without_kaleidos_page_get_a_new_browser_and_the_image(
        batch: bool, caplog: pytest.LogCaptureFixture) -> None:
    figure_to_png(_figure())  # a warm browser
    _unload_kaleido_page_from_every_tab()
    if batch:
        pictures = figures_to_images([_figure("a"), _figure("b")], "png")
    else:
        pictures = [figure_to_png(_figure())]
    assert all(picture.startswith(PNG_SIGNATURE) for picture in pictures)
    assert "placeholder" not in caplog.text  # drawn, not "could not be drawn"
    assert "did not load; restarting it" in caplog.text
    assert images.is_warm()
