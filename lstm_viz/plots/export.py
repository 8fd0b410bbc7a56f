"""Export a figure as standalone HTML or as PNG (kaleido 1.x with a persistent Chromium)."""

from __future__ import annotations

import threading

import plotly.graph_objects as go

DEFAULT_WIDTH = 1100
DEFAULT_HEIGHT = 700
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

_lock = threading.Lock()
_server_started = False


def validated(fig: go.Figure) -> go.Figure:
    """A validated copy: figures built with ``_validate=False`` (the cell diagram, for speed)
    keep e.g. their template as a name, which plotly's exporters do not resolve."""
    return go.Figure(fig.to_dict())


def figure_to_html(fig: go.Figure) -> bytes:
    """A standalone HTML page (plotly.js inlined, works offline) as UTF-8 bytes."""
    html = validated(fig).to_html(
        include_plotlyjs=True,
        full_html=True,
        config={"displaylogo": False, "responsive": True},
    )
    return html.encode("utf-8")


def _ensure_server() -> None:
    """Start kaleido's sync server (one headless Chromium) once per process; caller holds _lock."""
    global _server_started
    if _server_started:
        return
    import kaleido  # lazy: pulls in choreographer, only needed for PNG export

    kaleido.start_sync_server(silence_warnings=True)
    _server_started = True


def figure_to_png(
    fig: go.Figure, scale: float = 2, width: int | None = None, height: int | None = None
) -> bytes:
    """PNG bytes of ``fig`` rendered by kaleido (Chromium).

    The first call starts a persistent Chromium (~2 s); later calls take ~0.2 s. Size: ``width``
    and ``height`` if given, else the figure's layout size, else 1100 x 700 CSS pixels, times
    ``scale``.
    """
    fig = validated(fig)
    width = width or fig.layout.width or DEFAULT_WIDTH
    height = height or fig.layout.height or DEFAULT_HEIGHT
    opts = {"format": "png", "width": int(width), "height": int(height), "scale": scale}
    with _lock:  # the sync server answers one request at a time
        _ensure_server()
        import kaleido

        try:
            data = kaleido.calc_fig_sync(fig, opts=opts)
        except Exception as exc:  # chromium missing or crashed: say what to do
            if type(exc).__name__ == "ChromeNotFoundError":
                raise RuntimeError(
                    "PNG export needs Chrome/Chromium (e.g. apt-get install chromium, or "
                    "`plotly_get_chrome`)"
                ) from exc
            raise
    if not data.startswith(PNG_SIGNATURE):
        raise RuntimeError("kaleido returned something that is not a PNG")
    return bytes(data)
