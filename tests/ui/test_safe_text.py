"""The escaping helper: user text shows as its characters in Streamlit's markdown and plotly."""

from __future__ import annotations

import re

import pytest

from lstm_viz.ui.safe_text import ELLIPSIS, clip, figure_text, plain, plain_list

JOINER = "\u2060"


def unescape(s: str) -> str:
    """What CommonMark shows for ``s``: a backslash before punctuation is dropped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", s).replace(JOINER, "")


def unescaped(s: str, chars: str) -> list[str]:
    """Characters of ``chars`` in ``s`` without a backslash before them."""
    return [m.group() for m in re.finditer(f"(?<!\\\\)[{re.escape(chars)}]", s)]


@pytest.mark.parametrize("text", [
    "**Your session expired.** [Log in again](https://evil.example/login)",
    "![](https://evil.example/px.png)",
    "<img src=x onerror=alert(1)><b>bold</b>",
    "_a_ `code` ~~strike~~ # heading > quote | pipe $x^2$ :red[x] &amp; *em*",
    "back\\slash [x]",
])
def test_markdown_specials_are_escaped_and_the_text_survives(text):
    out = plain(text, 0)
    assert not unescaped(out, "*[]#`~>|<$&"), out
    assert not re.search(r"(?<![\\A-Za-z0-9])_|(?<!\\)_(?![A-Za-z0-9])", out), out
    assert unescape(out) == text


def test_snake_case_and_code_in_messages_stay_readable():
    text = "save the weights with torch.save(model.state_dict(), 'model.pt'): then upload"
    assert plain(text, 0) == text


def test_emoji_and_icon_shortcodes_are_broken():
    out = plain(":warning: hacked :material/home:", 0)
    assert ":warning:" not in out and ":material/home:" not in out
    assert unescape(out) == ":warning: hacked :material/home:"


def test_link_and_image_lose_their_syntax():
    out = plain("[a](https://e.com) ![](https://e.com/p.png)", 0)
    assert not unescaped(out, "[]"), out
    assert out.count("\\[") == 2 and out.count("\\]") == 2


@pytest.mark.parametrize("url", ["https://evil.example/x", "HTTP://evil.example",
                                 "www.evil.example", "me@evil.example"])
def test_bare_urls_and_addresses_cannot_autolink(url):
    # GFM links bare URLs after escapes are resolved: an invisible word joiner breaks them.
    out = plain(f"see {url} now", 0)
    assert url not in out.replace("\\", "")
    assert unescape(out) == f"see {url} now"


@pytest.mark.parametrize(("text", "start"), [
    ("- item", "\\-"), ("+ item", "\\+"), ("1. item", "1\\."), ("12) item", "12\\)"),
    ("---", "\\-"), ("=== x", "\\=")])
def test_a_leading_list_or_rule_marker_is_escaped(text, start):
    assert plain(text).startswith(start)


def test_plain_is_one_line_without_control_characters():
    out = plain("a\nb\r\nc\td\x00e\x1bf", 0)
    assert out == "a b c d e f"


def test_long_text_is_clipped_with_an_ellipsis():
    text = "x" * 100_000
    out = plain(text, 80)
    assert len(out) == 80 and out.endswith(ELLIPSIS)
    assert clip("short", 80) == "short"
    assert clip("abcdef", 4) == "abc" + ELLIPSIS
    assert plain(text, 0) == text                       # 0: no clipping


def test_clipping_happens_before_escaping():
    # A clip between a backslash and its character would leave markdown live.
    out = plain("[" * 200, 10)
    assert out == "\\[" * 9 + ELLIPSIS


def test_plain_list_clips_each_name_and_caps_their_number():
    names = [f"{'n' * 19_000}{k}" for k in range(1024)]
    out = plain_list(names, each=24, most=8)
    assert len(out) < 400
    assert out.endswith("and 1,016 more")
    assert out.count(ELLIPSIS) == 8
    assert plain_list(["a*", "b"]) == "a\\*, b"


def test_figure_text_escapes_html_for_plotly_and_clips():
    out = figure_text('<a href="https://e.com">x</a>', 100)
    assert "<" not in out and ">" not in out
    assert out == '&lt;a href="https://e.com"&gt;x&lt;/a&gt;'
    assert figure_text("a & b") == "a &amp; b"
    assert figure_text("y" * 100, 24) == "y" * 23 + ELLIPSIS


def test_heatmap_and_diagram_escape_and_clip_user_names():
    import json

    import numpy as np

    from lstm_viz.plots.diagram import cell_diagram
    from lstm_viz.plots.heatmaps import quantity_heatmaps

    rng = np.random.default_rng(0)
    names = ['<a href="https://e.com">x</a>', "y" * 100, "z", "w"]
    fig = quantity_heatmaps({"h": rng.random((6, 3))}, input_values=rng.random((6, 4)),
                            feature_names=names)
    spec = json.dumps(fig.to_plotly_json(), ensure_ascii=False)
    assert "<a href" not in spec and "e.com" in spec
    assert "y" * 30 not in spec and "y" * 23 + ELLIPSIS in spec
    fig = cell_diagram({"x": "<b", "h": 0.1, "c": 0.2}, "vanilla", unit=0, step=0)
    texts = [a.text for a in fig.layout.annotations if a.text and "x" in a.text]
    assert any("&lt;b" in t for t in texts) and not any("<b’" in t for t in texts), texts
