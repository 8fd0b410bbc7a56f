"""A char-RNN checkpoint (.net) through the real uploader: every tensor listed, predictions on
the stepper, the URL says it is an upload, and no console errors."""

from __future__ import annotations

import io

from .conftest import assert_no_exception, wait_for_app

MAIN = '[data-testid="stMain"]'


def char_rnn_net() -> bytes:
    import torch
    from torch import nn

    torch.manual_seed(0)
    lstm, fc = nn.LSTM(2, 8, batch_first=True), nn.Linear(8, 2)
    state = {**{f"lstm.{k}": v for k, v in lstm.state_dict().items()},
             **{f"fc.{k}": v for k, v in fc.state_dict().items()}}
    buf = io.BytesIO()
    torch.save({"tokens": ["(", ")"], "n_hidden": 8, "state_dict": state}, buf)
    return buf.getvalue()


def test_char_rnn_net_upload_lists_its_tensors_and_predicts(page, server, tmp_path):
    path = tmp_path / "char_rnn.net"
    path.write_bytes(char_rnn_net())
    page.goto(server + "/Your_model")
    wait_for_app(page)
    page.locator(f'{MAIN} input[type="file"]').set_input_files(str(path))
    page.get_by_text("What char_rnn.net holds").wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    tables = page.locator(f'{MAIN} [data-testid="stTable"]')
    text = tables.nth(1).inner_text()
    for name in ("lstm.weight_ih_l0", "lstm.bias_hh_l0", "fc.weight", "fc.bias"):
        assert name in text, text
    assert "head" in text and "recurrent" in text
    assert page.get_by_text("Every tensor (6) and its use").count() == 1

    page.get_by_role("button", name="Inspect this model").click()
    page.get_by_text("Every page now shows").wait_for()
    wait_for_app(page)
    page.get_by_role("link", name="Step through it").click()
    page.get_by_text("Model predicts:").first.wait_for()
    wait_for_app(page)
    assert_no_exception(page)
    assert "model=upload" in page.url and "variant=" not in page.url
    assert page.console_errors == []
