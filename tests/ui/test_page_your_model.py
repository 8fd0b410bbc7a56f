"""The "Your model" page in AppTest: upload, inference, hand-over, bad files."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import torch
from conftest import click, open_page
from streamlit.testing.v1 import AppTest
from torch import nn

DATA = Path(__file__).resolve().parents[1] / "data"
PAGE = "pages/4_Your_model.py"


def new_page() -> AppTest:
    return open_page(PAGE)


def torch_bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def state_dict_bytes(module: nn.Module) -> bytes:
    return torch_bytes(module.state_dict())


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    at.file_uploader(key="w_ym_upload").set_value((name, data, "application/octet-stream"))
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def config_table(at: AppTest) -> dict[str, str]:
    table = at.table[0].value
    return dict(zip(table["setting"], table["value"], strict=True))


def texts(elements) -> str:
    return "\n".join(str(e.value) for e in elements)


def test_empty_page_explains_and_offers_an_example():
    at = new_page()
    assert at.title[0].value == "Your model"
    assert "No file yet" in texts(at.info)
    assert 'torch.save(model.state_dict(), "model.pt")' in texts(at.code)
    types = list(at.file_uploader(key="w_ym_upload").proto.type)
    assert {".net", ".keras", ".onnx", ".ckpt", ".h5"} <= {t if t.startswith(".") else "." + t
                                                           for t in types}
    assert not at.error


def test_good_state_dict_is_inferred_and_handed_to_the_pages():
    at = upload(new_page(), "lstm_tiny.pt", (DATA / "good" / "lstm_tiny.pt").read_bytes())
    assert not at.error
    cfg = config_table(at)
    assert cfg == {"variant": "vanilla", "input_size": "2", "hidden_size": "3",
                   "num_layers": "1", "bidirectional": "False", "proj_size": "0", "bias": "True",
                   "batch_first": "False"}
    tensors = at.table[1].value
    assert [t.replace("\\", "") for t in tensors["tensor"]] == [
        "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
    assert set(tensors["use"]) == {"recurrent lstm (vanilla)"}
    assert "nn.LSTM(input_size=2, hidden_size=3)" in texts(at.code)
    assert "like the current sequence" in texts(at.success)   # brackets has 2 features

    click(at, "Inspect this model")
    assert at.session_state["model_kind"] == "custom"
    model = at.session_state["custom_model"]
    assert model.recurrent.hidden_size == 3 and "lstm_tiny.pt" in model.label
    assert "Every page now shows" in texts(at.success)
    assert not [b for b in at.button if b.label == "Inspect this model"]
    # the sidebar now offers and shows "yours"
    assert "yours (uploaded or trained here)" in at.sidebar.radio(key="w_model_kind").options
    assert at.sidebar.radio(key="w_model_kind").value == "custom"


@pytest.mark.parametrize("name", ["lstm_tiny.safetensors", "lstm_tiny.npz",
                                  "checkpoint_wrapped.pt"])
def test_other_formats_load(name):
    at = upload(new_page(), name, (DATA / "good" / name).read_bytes())
    assert not at.error, texts(at.error)
    assert config_table(at)["hidden_size"] == "3"


def test_ambiguous_three_blocks_offers_the_variants_that_fit():
    gru = nn.GRU(3, 5)
    at = upload(new_page(), "gru.pt", state_dict_bytes(gru))
    box = at.selectbox(key="w_ym_variant")
    assert [o.split(" ")[0] for o in box.options] == ["gru", "cifg", "nig", "nfg", "nog"]
    assert box.value == "gru"
    assert config_table(at)["variant"] == "gru"
    assert "nn.GRU(input_size=3, hidden_size=5)" in texts(at.code)
    box.set_value("cifg")
    at.run()
    assert not at.exception
    assert config_table(at)["variant"] == "cifg"
    assert "make_torch_model('cifg'" in texts(at.code)
    click(at, "Inspect this model")
    assert at.session_state["custom_model"].variant == "cifg"


def test_feature_mismatch_says_how_to_fix():
    at = upload(new_page(), "five.pt", state_dict_bytes(nn.LSTM(5, 4)))
    warning = texts(at.warning)
    assert "5" in warning and "upload a sequence with 5 columns" in warning


class WritePayload:
    """Unpickling this would write the marker file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (exec, (f"open({str(self.path)!r}, 'w').write('pwned')",))


def loaded_page() -> AppTest:
    """The page with a good model uploaded and inspected: what a bad file must not lose."""
    at = upload(new_page(), "lstm_tiny.pt", (DATA / "good" / "lstm_tiny.pt").read_bytes())
    return click(at, "Inspect this model")


def assert_kept(at: AppTest, before) -> None:
    assert at.session_state["custom_model"] is before
    assert at.session_state["model_kind"] == "custom"
    assert at.session_state["ym_file"]["name"] == "lstm_tiny.pt"
    assert config_table(at)["hidden_size"] == "3"        # the last good file is still shown
    assert "Nothing was lost" in texts(at.caption)


def test_hostile_pickle_is_refused_and_runs_nothing(tmp_path):
    marker = tmp_path / "pwned"
    at = loaded_page()
    before = at.session_state["custom_model"]
    upload(at, "evil.pt", torch_bytes({"weight_ih_l0": WritePayload(marker)}))
    assert not marker.exists()
    assert "evil.pt" in texts(at.error)
    assert_kept(at, before)


def test_whole_module_is_read_without_running_it():
    at = upload(new_page(), "whole.pt", torch_bytes(nn.LSTM(2, 3)))
    assert not at.error, texts(at.error)
    assert "whole saved model" in texts(at.markdown)
    assert config_table(at)["hidden_size"] == "3"


@pytest.mark.parametrize("name", ["wrong_shape.pt", "five_gate_blocks.pt", "junk.pt",
                                  "truncated.npz", "unknown_names.pt"])
def test_bad_files_show_an_error_and_keep_the_model(name):
    at = loaded_page()
    before = at.session_state["custom_model"]
    upload(at, name, (DATA / "bad" / name).read_bytes())
    assert at.error, f"{name}: no error shown"
    assert name in texts(at.error)
    assert_kept(at, before)
