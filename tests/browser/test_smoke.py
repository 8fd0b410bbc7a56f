"""Smoke test: the app's start page loads in a real browser without errors."""

from .conftest import assert_no_exception, wait_for_app


def test_home_page_renders(page, server):
    page.goto(server + "/")
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator("h1").count() >= 1, "the start page has no title (h1)"
    assert page.console_errors == []
