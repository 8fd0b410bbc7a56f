"""Markdown in a link's query value or in an uploaded CSV renders as text (issue #11, item 5).

The rendered page must hold no ``<a href>`` and no ``<img src>`` pointing outside, and the
characters the visitor sent must be visible as they are.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from .conftest import (
    assert_no_exception,
    step_view_text,
    stepper_shown,
    wait_for_app,
    wait_step_text,
)

OUTSIDE = ('a[href*="e.com"], a[href*="evil.example"], img[src*="e.com"], '
           'img[src*="evil.example"]')


def outside_links(page) -> list[str]:
    return page.eval_on_selector_all(OUTSIDE, "els => els.map(e => e.outerHTML)")


def test_query_value_with_a_link_and_an_image_shows_as_text(page, server):
    value = "**Your session expired.** [Log in](https://e.com/x) ![](https://e.com/px.png)"
    page.goto(f"{server}/?task={quote(value)}")
    wait_for_app(page)
    assert_no_exception(page)
    assert not outside_links(page), outside_links(page)
    alert = page.locator('[data-testid="stAlert"]').filter(has_text="session expired")
    text = alert.inner_text()
    assert "**Your session expired.** [Log in](https" in text, text
    assert not alert.locator("strong").count()             # no bold either


def test_query_value_that_is_a_bare_url_is_not_a_link(page, server):
    page.goto(f"{server}/?variant={quote('https://e.com/login www.e.com me@e.com')}")
    wait_for_app(page)
    assert_no_exception(page)
    assert not outside_links(page), outside_links(page)
    assert not page.locator('[data-testid="stAlert"] a').count()


def test_csv_header_with_a_link_renders_no_link(page, server, tmp_path: Path):
    csv = tmp_path / "[a](https:__evil.example).csv"
    csv.write_text("[x](https://evil.example),<b>y</b>\n"
                   + "".join(f"{t},{-t / 10}\n" for t in range(12)))
    page.goto(f"{server}/?step=0")
    wait_for_app(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    sidebar.get_by_text("my file", exact=True).click()
    wait_for_app(page)
    page.set_input_files('[data-testid="stSidebar"] input[type=file]', str(csv))
    wait_for_app(page)
    wait_step_text(page, r"^Step 0 of 11$")
    assert_no_exception(page)
    assert not outside_links(page), outside_links(page)
    main = page.locator('[data-testid="stMain"]')
    # The header is clipped (24 characters) and shown as its characters, the HTML one too.
    line = [t for t in step_view_text(page).replace("\u2060", "").splitlines()
            if t.startswith("Input x_t")]
    assert line and line[0].startswith("Input x_t = [x](https://evil.exampl… 0"), line
    assert "<b>y</b> 0" in line[0]
    assert not main.locator("b", has_text="y").count()
    frame = stepper_shown(page)
    assert frame is None or not frame.locator("b", has_text="y").count()
    assert "[a](https:__evil.example).csv" in sidebar.inner_text().replace("\u2060", "")
