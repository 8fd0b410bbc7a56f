"""The "Your model" and "Train" pages in a real browser: deep links, a real upload, a real run."""

from __future__ import annotations

from .conftest import assert_no_exception, wait_for_app

MAIN = '[data-testid="stMain"]'


def test_your_model_deep_link_upload_and_inspect(page, server, tmp_path):
    page.goto(server + "/Your_model")
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator("h1", has_text="Your model").count() == 1

    # the example state_dict, downloaded through the page's own button ...
    with page.expect_download() as download:
        page.get_by_role("button", name="Download an example state_dict").click()
    path = tmp_path / "lstm_example.pt"
    download.value.save_as(path)
    assert path.stat().st_size > 0

    # ... and uploaded through the real file input
    page.locator(f'{MAIN} input[type="file"]').set_input_files(str(path))
    page.get_by_text("What lstm_example.pt holds").wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    table = page.locator(f'{MAIN} [data-testid="stTable"]').first
    text = table.inner_text()
    assert "hidden_size" in text and "8" in text and "vanilla" in text
    assert page.get_by_text("nn.LSTM(input_size=2, hidden_size=8)").count() >= 1

    page.get_by_role("button", name="Inspect this model").click()
    page.get_by_text("Every page now shows").wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("yours: lstm_example.pt").count() >= 1
    assert page.console_errors == []


def test_your_model_bad_file_shows_an_error(page, server, tmp_path):
    page.goto(server + "/Your_model")
    wait_for_app(page)
    bad = tmp_path / "junk.pt"
    bad.write_bytes(b"this is not a torch file at all")
    page.locator(f'{MAIN} input[type="file"]').set_input_files(str(bad))
    page.locator(f'{MAIN} [data-testid="stAlertContentError"]').wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    assert "junk.pt" in page.locator(f'{MAIN} [data-testid="stAlertContentError"]').inner_text()


def test_train_deep_link_and_a_tiny_run(page, server):
    page.goto(server + "/Train")
    wait_for_app(page)
    assert_no_exception(page)
    assert page.locator("h1", has_text="Train a model").count() == 1

    steps = page.get_by_role("spinbutton", name="Training steps")
    steps.fill("20")
    steps.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Train now").click()
    page.get_by_text("Held-out accuracy", exact=True).wait_for(timeout=90_000)
    wait_for_app(page, timeout_ms=60_000)
    assert_no_exception(page)
    main = page.locator(MAIN).inner_text()
    assert "20 / 20" in main, main
    assert "Every page now shows" in main
    assert page.console_errors == []


def test_train_stop_keeps_the_model_so_far(page, server):
    page.goto(server + "/Train")
    wait_for_app(page)
    steps = page.get_by_role("spinbutton", name="Training steps")
    steps.fill("5000")
    steps.press("Enter")
    wait_for_app(page)
    page.get_by_role("button", name="Train now").click()
    page.get_by_text("Training loss (live)").wait_for(timeout=60_000)
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("Training stopped at step").wait_for(timeout=60_000)
    wait_for_app(page, timeout_ms=60_000)
    assert_no_exception(page)
    assert page.get_by_text("of 5000").count() >= 1
    sidebar = page.locator('[data-testid="stSidebar"]')
    assert sidebar.get_by_text("trained here on brackets").count() >= 1
    assert page.console_errors == []
