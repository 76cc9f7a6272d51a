"""Chart images: plotly figures to PNG/SVG bytes with kaleido, one warm Chromium per process.

Kaleido drives a headless Chromium. Starting it costs about two seconds, so the first image is
slow and every later one is fast (~0.15 s): this module starts one Kaleido on first use and keeps
it for the life of the process. It runs on its own event loop in a daemon thread, which makes it
safe to call from many threads at once (every Streamlit session is a thread) and lets a render
time out instead of hanging.

Why not ``kaleido.start_sync_server()``: its global server answers calls through one shared
queue (two threads calling at once can receive each other's image) and, when Chromium fails to
start, its worker thread dies while callers wait forever. The loop below keeps kaleido's
start-once-reuse design without those two traps.

When Chromium cannot be found, every call raises :class:`ChromiumMissingError`, whose message
names the fix; CSV and XLSX exports do not depend on this module and keep working.

A figure the browser cannot draw fails alone: :func:`figures_to_images` (the review pack) puts a
placeholder image that states the reason in its place (:func:`placeholder_image`, drawn without
the browser), so one bad chart never fails a whole pack.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import html
import io
import logging
import os
import shutil
import textwrap
import threading
from collections.abc import Callable, Coroutine, Sequence
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import Any

from whatfix_data.errors import WhatfixError

# Environment variable naming the browser executable; set it to use another Chromium/Chrome.
CHROMIUM_PATH_ENV = "WHATFIX_CHROMIUM_PATH"
# Looked up on PATH, in this order, when the variable is not set.
CHROMIUM_CANDIDATES: tuple[str, ...] = (
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
)
INSTALL_HINT = (
    "Install it with `apt-get install chromium` (Debian/Ubuntu), or set "
    f"{CHROMIUM_PATH_ENV} to a Chromium or Chrome executable. CSV and XLSX downloads still work."
)

DEFAULT_SCALE = 2
# Browser tabs rendering in parallel: the review pack renders a dozen charts at once, and two tabs
# use both cores of a small server without starving the app.
RENDER_TABS = 2
STARTUP_TIMEOUT_S = 60.0
RENDER_TIMEOUT_S = 60.0
# What a tab answers when kaleido's page script is not in its JavaScript context: kaleido 1.x
# can take the context of the blank page it navigated from when the box is loaded (seen in the
# suite at 3 workers on 2 cores). The tab never recovers, so the browser is started again, once.
TAB_NOT_READY = "kaleido_scopes is not defined"
NOT_DRAWN = "This chart could not be drawn as an image; the chart on the page is unaffected."

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEFAULT_WIDTH_PX = 700  # kaleido's default size, for a placeholder of a figure without one
DEFAULT_HEIGHT_PX = 500
PLACEHOLDER_TITLE = "This chart could not be drawn"
PLACEHOLDER_BACKGROUND = "#f4f4f4"
PLACEHOLDER_TEXT = "#444444"

# kaleido and choreographer log their internal hiccups (e.g. a half-read message while the
# browser shuts down at exit) with tracebacks. Without a handler, Python's last-resort handler
# would print them on stderr: to a CLI user that looks like a crash. A NullHandler keeps them out
# of stderr; an app that configures logging still receives them through propagation.
LOGGER = logging.getLogger(__name__)
for _library in ("kaleido", "choreographer", "logistro"):
    logging.getLogger(_library).addHandler(logging.NullHandler())


class ChromiumMissingError(WhatfixError):
    """No Chromium/Chrome to render chart images with."""

    default_message = f"Chart images need Chromium, which was not found. {INSTALL_HINT}"


class ImageExportError(WhatfixError):
    """Chromium is there but an image could not be rendered (crash or timeout)."""

    default_message = (
        "The chart image could not be rendered. Try again; if it keeps failing, restart the "
        "app (the headless Chromium used for images may have crashed)."
    )


# --------------------------------------------------------------------------- finding Chromium


def find_chromium() -> str:
    """Path of the browser kaleido will drive; raises ChromiumMissingError naming the fix."""
    configured = os.environ.get(CHROMIUM_PATH_ENV, "").strip()
    if configured:
        if os.path.isfile(configured) and os.access(configured, os.X_OK):
            return configured
        raise ChromiumMissingError(
            f"Chart images need Chromium, but {CHROMIUM_PATH_ENV}={configured!r} is not an "
            f"executable file. {INSTALL_HINT}"
        )
    for name in CHROMIUM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise ChromiumMissingError(
        "Chart images need Chromium, which was not found on this machine (looked for "
        f"{', '.join(CHROMIUM_CANDIDATES)} and {CHROMIUM_PATH_ENV}). {INSTALL_HINT}"
    )


# --------------------------------------------------------------------------- the warm renderer


class _Renderer:
    """One Kaleido (one Chromium with RENDER_TABS tabs) on a private event loop thread."""

    def __init__(self, browser_path: str) -> None:
        self._browser_path = browser_path
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="whatfix-kaleido", daemon=True
        )
        self._kaleido: Any = None

    def start(self) -> None:
        self._thread.start()
        try:
            self._run(self._open(), STARTUP_TIMEOUT_S)
        except WhatfixError:
            self.stop()
            raise
        except Exception as exc:  # choreographer's BrowserFailedError and friends
            self.stop()
            raise ChromiumMissingError(
                f"Chart images need Chromium, but {self._browser_path!r} did not start as a "
                f"headless browser. {INSTALL_HINT}"
            ) from exc

    async def _open(self) -> None:
        # Imported here so that CSV/XLSX users never pay for (or depend on) kaleido's import.
        import kaleido
        from choreographer.errors import ChromeNotFoundError

        try:
            self._kaleido = kaleido.Kaleido(
                n=RENDER_TABS, path=self._browser_path, mathjax=False, timeout=RENDER_TIMEOUT_S
            )
        except ChromeNotFoundError as exc:
            raise ChromiumMissingError(
                f"Chart images need Chromium, but {self._browser_path!r} could not be used. "
                f"{INSTALL_HINT}"
            ) from exc
        await self._kaleido.open()

    def _run(self, coroutine: Coroutine[Any, Any, Any], timeout: float) -> Any:
        future: Future[Any] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout)
        except FutureTimeoutError as exc:
            future.cancel()
            raise ImageExportError(
                f"Rendering the chart image took more than {timeout:.0f} s and was stopped."
            ) from exc

    def render(self, fig: Any, opts: dict[str, Any]) -> bytes:
        return self._run(self._kaleido.calc_fig(fig, opts=opts), RENDER_TIMEOUT_S)

    def render_many(
        self, figs: Sequence[Any], opts: dict[str, Any], on_done: Callable[[], None] | None
    ) -> list[bytes | BaseException]:
        """Render several figures concurrently over the tabs; results in input order, a
        figure that failed as its exception. ``on_done()`` runs (on the renderer's thread)
        after each image."""

        async def _one(fig: Any) -> bytes:
            try:
                return await self._kaleido.calc_fig(fig, opts=opts)
            finally:
                if on_done is not None:
                    # Progress is cosmetic: a failing callback must not fail the render (and
                    # with it the browser every session shares).
                    with contextlib.suppress(Exception):
                        on_done()

        async def _all() -> list[bytes | BaseException]:
            return list(await asyncio.gather(*(_one(f) for f in figs), return_exceptions=True))

        return self._run(_all(), RENDER_TIMEOUT_S * max(1, len(figs)))

    def stop(self) -> None:
        if self._kaleido is not None and self._loop.is_running():
            # Best effort: the browser may already be gone, or the process exiting.
            with contextlib.suppress(Exception):
                self._run(self._kaleido.close(), STARTUP_TIMEOUT_S)
        self._kaleido = None
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=STARTUP_TIMEOUT_S)


_renderer: _Renderer | None = None
_renderer_lock = threading.Lock()


def _get_renderer() -> _Renderer:
    """The process-wide renderer, started on first use (the slow, ~2 s, part)."""
    global _renderer
    with _renderer_lock:
        if _renderer is None:
            renderer = _Renderer(find_chromium())
            renderer.start()
            _renderer = renderer
            # Registered after the start, so that (atexit runs last-in first-out) the browser is
            # closed before the temporary-directory finalizers try to delete its live profile.
            atexit.unregister(shutdown)
            atexit.register(shutdown)
        return _renderer


def shutdown() -> None:
    """Close the browser; the next image starts a new one. Also runs at exit."""
    global _renderer
    with _renderer_lock:
        renderer, _renderer = _renderer, None
    if renderer is not None:
        renderer.stop()


def is_warm() -> bool:
    """True once the browser is running (the next image will be fast)."""
    return _renderer is not None


def _tab_not_ready(result: Any) -> bool:
    return isinstance(result, Exception) and TAB_NOT_READY in str(result)


def _render(call: str, *args: Any) -> Any:
    """Run one renderer call. A figure the browser cannot draw fails alone; a dead or stuck
    browser is dropped (the next call starts afresh), and so is one whose tabs never loaded
    kaleido's page: the call is then made once more, on a new browser."""
    from kaleido.errors import JavascriptError, KaleidoError

    for first_try in (True, False):
        try:
            result = getattr(_get_renderer(), call)(*args)
        except JavascriptError as exc:
            if not _tab_not_ready(exc):
                raise ImageExportError(NOT_DRAWN) from exc
            result = exc
        except (KaleidoError, TypeError, ValueError, AttributeError) as exc:
            raise ImageExportError(NOT_DRAWN) from exc
        except WhatfixError:  # a render timeout: the browser may be stuck
            shutdown()
            raise
        except Exception as exc:  # a dead tab/browser surfaces as various choreographer errors
            shutdown()
            raise ImageExportError() from exc
        outcomes = result if isinstance(result, list) else [result]  # render_many: per figure
        if not any(map(_tab_not_ready, outcomes)):
            return result
        if first_try:
            LOGGER.warning("Chart images: the browser's tabs did not load; restarting it")
            shutdown()
        elif isinstance(result, list):
            return result  # a batch whose tabs failed twice: its figures become placeholders
        else:
            shutdown()
            raise ImageExportError(NOT_DRAWN) from result
    raise AssertionError("unreachable: the second try returns or raises")


# --------------------------------------------------------------------------- public API


def _opts(fmt: str, scale: float, width: int | None, height: int | None) -> dict[str, Any]:
    """Kaleido layout options; a missing width/height falls back to the figure's layout size
    (then kaleido's default, 700 x 500)."""
    opts: dict[str, Any] = {"format": fmt, "scale": scale}
    if width:
        opts["width"] = width
    if height:
        opts["height"] = height
    return opts


def figure_to_png(
    fig: Any, scale: float = DEFAULT_SCALE, *, width: int | None = None, height: int | None = None
) -> bytes:
    """PNG bytes of a plotly figure at ``scale`` x its size in CSS pixels (2x: crisp on slides).

    The size is ``width``/``height`` when given, else the figure's layout size.
    """
    return _render("render", fig, _opts("png", scale, width, height))


def figure_to_svg(fig: Any, *, width: int | None = None, height: int | None = None) -> bytes:
    """SVG bytes (UTF-8 XML) of a plotly figure at its layout size (or ``width``/``height``)."""
    return _render("render", fig, _opts("svg", 1, width, height))


def figures_to_images(
    figs: Sequence[Any],
    fmt: str,
    scale: float = DEFAULT_SCALE,
    *,
    width: int | None = None,
    height: int | None = None,
    on_done: Callable[[], None] | None = None,
) -> list[bytes]:
    """Many figures at once (``fmt`` "png" or "svg"), rendered in parallel; input order kept.

    ``on_done()`` is called after each image (from the renderer's thread), for progress bars.
    A figure that cannot be drawn becomes :func:`placeholder_image` with the reason; only a
    missing or dead browser raises.
    """
    if not figs:
        return []
    opts = _opts(fmt, scale if fmt == "png" else 1, width, height)
    results = _render("render_many", list(figs), opts, on_done)
    images: list[bytes] = []
    for fig, result in zip(figs, results, strict=True):
        if isinstance(result, bytes):
            images.append(result)
            continue
        LOGGER.warning("Chart %r drawn as a placeholder: %s", _title(fig), type(result).__name__)
        size = (width or _layout(fig, "width") or DEFAULT_WIDTH_PX,
                height or _layout(fig, "height") or DEFAULT_HEIGHT_PX)
        images.append(placeholder_image(fmt, _reason(result), size, scale))
    return images


def _layout(fig: Any, name: str) -> int | None:
    try:
        value = fig.layout[name]
    except (AttributeError, KeyError, TypeError):
        return None
    return int(value) if isinstance(value, int | float) and value > 0 else None


def _title(fig: Any) -> str:
    try:
        return str(fig.layout.title.text or "")
    except AttributeError:
        return ""


def _reason(error: BaseException) -> str:
    """Why a figure failed, in words safe to print on a slide (no traceback, no data)."""
    if isinstance(error, WhatfixError):
        return error.user_message
    if isinstance(error, asyncio.TimeoutError | TimeoutError):
        return "the browser took too long to draw it."
    return f"the browser rejected its data ({type(error).__name__})."


def placeholder_image(fmt: str, reason: str, size: tuple[int, int],
                      scale: float = DEFAULT_SCALE) -> bytes:
    """A plain image saying that a chart could not be drawn, and why (no browser needed)."""
    width, height = size
    lines = [PLACEHOLDER_TITLE, *textwrap.wrap(reason, 80)]
    if fmt == "svg":
        rows = "".join(
            f'<text x="50%" y="{40 + 8 * i}%" text-anchor="middle" font-size="{18 if i else 24}"'
            f' fill="{PLACEHOLDER_TEXT}">{html.escape(line)}</text>'
            for i, line in enumerate(lines)
        )
        return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}">'
                f'<rect width="100%" height="100%" fill="{PLACEHOLDER_BACKGROUND}"/>{rows}'
                "</svg>").encode()
    from PIL import Image, ImageDraw, ImageFont  # Pillow comes with python-pptx

    pixels = (max(1, int(width * scale)), max(1, int(height * scale)))
    image = Image.new("RGB", pixels, PLACEHOLDER_BACKGROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=max(12, int(18 * scale)))
    y = pixels[1] * 0.4
    for line in lines:
        draw.text((pixels[0] / 2, y), line, fill=PLACEHOLDER_TEXT, font=font, anchor="mm")
        y += font.size * 1.6
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
