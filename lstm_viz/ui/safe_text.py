"""User text shown as text: escaped for Streamlit's markdown and for plotly's labels, clipped.

Everything a person brings (a query value, a file name, a CSV header, the characters of a text,
a message that quotes them) reaches ``st.info`` / ``st.error`` / ``st.caption`` /
``st.markdown``..., which render markdown: ``[text](url)`` is a live link, ``![](url)`` loads an
outside image, ``$...$`` is typeset. ``plain`` makes such a string show as the characters it
has, and clips it so a 100 KB value cannot freeze the browser.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from lstm_viz.plots.style import user_text

ELLIPSIS = "…"

# Backslash-escaping any ASCII punctuation is CommonMark: "\\[" renders "[". Escaped: what gives
# single-line text a meaning in markdown and in Streamlit's additions. With "[" and "]" escaped
# there is no link, image or :color[...] left, so "(", ")", "!" and ":" can stay as they are
# (messages quoting code, "torch.save(model.state_dict(), ...)", stay readable in tests).
_SPECIALS = re.compile(r"([\\`*\[\]<>~$&|#])")
# "_" emphasises only at a word's edge; inside snake_case_names it is inert.
_EDGE_UNDERSCORE = re.compile(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
# Streamlit turns ":name:" into an emoji or an icon: a word joiner after the colon stops it.
_SHORTCODE = re.compile(r":(?=[\w+\-/]+:)")
# GFM turns bare URLs, www. names and e-mail addresses into links after the escapes are
# resolved, so escaping cannot stop it: a word joiner (U+2060, invisible) breaks the pattern.
_AUTOLINK = re.compile(r"(?i)(https?|ftp|mailto|www)(?=[:.])|(?=@)")
_JOINER = "\u2060"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clip(text: object, limit: int = 80) -> str:
    """``text`` as a string of at most ``limit`` characters, ending in "…" when cut."""
    s = str(text)
    if limit > 0 and len(s) > limit:
        return s[: max(0, limit - 1)] + ELLIPSIS
    return s


def plain(text: object, limit: int = 80) -> str:
    """``text`` clipped to ``limit`` characters (0: no clipping) and escaped, so that every
    Streamlit element that renders markdown shows it literally, on one line."""
    s = _CONTROL.sub(" ", clip(text, limit).replace("\r\n", " ").replace("\n", " "))
    s = s.replace("\t", " ")
    s = _SPECIALS.sub(r"\\\1", s)
    s = _EDGE_UNDERSCORE.sub(r"\\_", s)
    s = _SHORTCODE.sub(":" + _JOINER, s)
    s = _AUTOLINK.sub(lambda m: (m.group(1) or "") + _JOINER, s)
    # At the start, "- ", "+ ", "1. " would make a list, "---" a rule: escape that character.
    return re.sub(r"^(\d+)([.)])|^([-+=])", lambda m: (
        f"{m.group(1)}\\{m.group(2)}" if m.group(1) else f"\\{m.group(3)}"), s)


def plain_list(items: Iterable[object], each: int = 24, most: int = 8, sep: str = ", ") -> str:
    """Up to ``most`` items, each clipped to ``each`` characters and escaped; "and N more" for
    the rest (feature names shown at every step: 1,024 long names must not flood the page)."""
    items = list(items)
    shown = [plain(x, each) for x in items[:most]]
    if len(items) > most:
        shown.append(f"and {len(items) - most:,} more")
    return sep.join(shown)


# For plotly labels (titles, ticks, hover text): the same helper the figures use.
figure_text = user_text


# A token's invisible characters as visible glyphs (all in DejaVu Sans, none an emoji): a
# predicted space must not show as an empty chip, a newline must not break the line.
_VISIBLE = {" ": "␣", "\n": "↵", "\r": "↵", "\t": "⇥"}


def visible_token(token: object, limit: int = 24) -> str:
    """A token as its characters with space, newline and tab shown as "␣", "↵", "⇥" (other
    control characters as their Unicode control pictures), clipped to ``limit``."""
    s = "".join(_VISIBLE.get(c) or (chr(0x2400 + ord(c)) if ord(c) < 0x20 else
                                    "␡" if c == "\x7f" else c) for c in clip(token, limit))
    return s or "∅"


def chip(token: object, limit: int = 24) -> str:
    """A token as a markdown code chip (`` `␣` ``), visible and literal: inside a code span
    markdown does not apply, and a backtick in the token widens the span's fence."""
    s = visible_token(token, limit)
    return f"`` {s} ``" if "`" in s else f"`{s}`"
