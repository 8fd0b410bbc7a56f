"""Every file in tests/data/bad is refused with a clear InputError; every file in good/ loads.

The corpus is written by tests/data/make_bad_corpus.py; the over-the-limit upload is built here
at runtime so that 20 MB never lands in git.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

from lstm_viz.errors import InputError
from lstm_viz.files.loaders import (
    MAX_UPLOAD_BYTES,
    MODEL_EXTENSIONS,
    infer_config,
    load_sequence,
    load_state_dict_file,
)

DATA = Path(__file__).resolve().parents[1] / "data"
BAD = sorted((DATA / "bad").iterdir())
GOOD = sorted((DATA / "good").iterdir())

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


def load_corpus_module():
    spec = importlib.util.spec_from_file_location("make_bad_corpus", DATA / "make_bad_corpus.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_bad_corpus"] = module
    spec.loader.exec_module(module)
    return module


def load_any(name: str, data: bytes) -> object:
    """What the app does with an upload: model files -> state_dict + config, else a sequence."""
    if Path(name).suffix.lower() in (*MODEL_EXTENSIONS, ".bin", ".onnx"):
        return infer_config(load_state_dict_file(name, data))
    return load_sequence(name, data)


# What each bad file's message must mention: the right reason, not just any error.
EXPECTED = {
    "bad_json_header.safetensors": "not a valid .safetensors",
    "bidirectional_bad_layer1.pt": "'weight_ih_l1'",
    "binary_junk.csv": "binary",
    "binary_junk.txt": "binary",
    "bom_bad_cell.csv": "'oops'",
    "complex.npy": "complex",
    "complex_weights.pt": "complex",
    "csv_renamed.npy": "not a NumPy .npy file",
    "empty.csv": "empty",
    "empty.txt": "empty",
    "empty_archive.npz": "no tensors",
    "empty_array.npy": "empty",
    "empty_cell.csv": "is empty",
    "empty_dict.pt": "no tensors",
    "five_gate_blocks.pt": "5 blocks",
    "dates_only.csv": "no column of numbers",
    "header_only.csv": "no data rows",
    "hostile_raw_pickle.pth": "state_dict()",
    "hostile_shell.pt": "refused for safety",
    "hostile_write.pt": "refused for safety",
    "huge_header_length.safetensors": "not a valid .safetensors",
    "inf.npy": "non-finite",
    "inf_cell.csv": "infinite",
    "junk.npz": "not a NumPy .npz file",
    "junk.pt": "not a readable PyTorch file",
    "junk.safetensors": "not a valid .safetensors",
    "latin1.csv": "UTF-8",
    "latin1.txt": "UTF-8",
    "list_not_dict.pt": "not a state_dict",
    "lying_header.safetensors": "offset",
    "missing_middle_layer.pt": "Layer 1 is missing",
    "missing_one_bias.pt": "'bias_ih_l0' is missing",
    "missing_weight_hh.pt": "'weight_hh_l0' is missing",
    "na_word.csv": "missing value",
    "nan.npy": "non-finite",
    "nan_cell.csv": "missing value",
    "nan_weights.pt": "non-finite",
    "non_numeric_cell.csv": "'abc'",
    "npy_renamed.csv": ".npy",
    "npy_renamed.npz": "not a NumPy .npz file",
    "object_2d.npy": "Python objects",
    "over_value_limit.csv": "Row 3, column 2 ('price') holds '2500000', over the ±1,000,000 limit",
    "over_value_limit.npy": "at arr[1, 1] over the ±1,000,000 limit",
    "overlapping_offsets.safetensors": "offset",
    "pdf_renamed.txt": "PDF",
    "pickled_object.npz": "Python objects",
    "pickled_object_shell.npy": "Python objects",
    "plain_tensor.pt": "not a state_dict",
    "png_renamed.tsv": "PNG",
    "quoted_non_number.csv": "'three'",
    "ragged_rows.csv": "Row 3 has 3 values but the header has 4 columns",
    "ragged_too_many.csv": "Row 3 has 3 values but the header has 2 columns",
    "raw_pickle.npy": "pickle",
    "scalar.npy": "0-D",
    "semicolon_bad_cell.csv": "'five'",
    "single_column_text.csv": "'hello'",
    "strings.npy": "text",
    "structured.npy": "structured",
    "tab_bad_cell.tsv": "'?'",
    "ten_thousand_columns.csv": "10,000 columns",
    "thousands_separators.csv": "thousands separators",
    "four_d.npy": "4-D",
    "too_large_for_float32.csv": "too large",
    "too_many_features.npy": "2,000 features",
    "truncated.npy": "truncated",
    "truncated.npz": "truncated",
    "truncated.pt": "damaged or truncated",
    "truncated_header.npy": "truncated",
    "unknown_names.pt": "Unknown tensor",
    "unsupported_extension.bin": "not a supported model file",
    "utf16.csv": "UTF-16",
    "utf16.txt": "UTF-16",
    "utf16_no_bom.csv": "UTF-16",
    "weight_hr_one_layer.pt": "'weight_hr_l1' is missing",
    "whitespace_only.csv": "whitespace",
    "whole_custom_module.pt": "whole saved model",
    "whole_module.pt": "whole saved model",
    "wrong_bias_shape.pt": "'bias_hh_l0'",
    "wrong_shape.pt": "'weight_hh_l0'",
    "zip_renamed.npy": "zip",
}


def check_message(msg: str) -> None:
    assert msg.strip(), "empty message"
    assert "Traceback" not in msg and "\n" not in msg
    assert len(msg) <= 400, len(msg)
    assert msg[0].isupper() or msg[0] in "'\"", msg
    assert msg.endswith("."), msg
    assert ": " in msg, f"no 'what: how to fix' structure in {msg!r}"


def test_corpus_is_big_enough_and_fully_described() -> None:
    assert len(BAD) >= 30
    assert {p.name for p in BAD} == set(EXPECTED)
    assert len(GOOD) >= 6


def test_corpus_matches_its_generator(tmp_path: Path) -> None:
    module = load_corpus_module()
    module.write(tmp_path)
    for sub in ("bad", "good"):
        made = sorted(p.name for p in (tmp_path / sub).iterdir())
        assert made == sorted(p.name for p in (DATA / sub).iterdir()), sub
        for name in made:  # text files are byte-for-byte reproducible on any platform
            if name.endswith((".csv", ".tsv", ".txt")):
                assert (tmp_path / sub / name).read_bytes() == (DATA / sub / name).read_bytes()


@pytest.mark.parametrize("path", BAD, ids=lambda p: p.name)
def test_bad_file_is_refused(path: Path) -> None:
    marker = load_corpus_module().MARKER
    marker.unlink(missing_ok=True)
    with pytest.raises(InputError) as info:
        load_any(path.name, path.read_bytes())
    msg = str(info.value)
    check_message(msg)
    assert EXPECTED[path.name] in msg, msg
    assert not marker.exists(), "a hostile file ran code"


@pytest.mark.parametrize("name", ["huge.csv", "huge.txt", "huge.npy", "huge.pt", "huge.npz"])
def test_over_the_limit_upload(name: str) -> None:
    data = b"x\n" + b"1\n" * (MAX_UPLOAD_BYTES // 2)
    assert len(data) > MAX_UPLOAD_BYTES
    with pytest.raises(InputError) as info:
        load_any(name, data)
    check_message(str(info.value))
    assert "20 MB" in str(info.value)


def test_good_tables() -> None:
    seq = load_sequence("two_features.csv", (DATA / "good" / "two_features.csv").read_bytes())
    assert seq.feature_names == ("time", "value") and seq.values.shape == (50, 2)
    np.testing.assert_allclose(seq.values[:, 1], np.sin(seq.values[:, 0]), atol=1e-5)
    seq = load_sequence("x.csv", (DATA / "good" / "semicolon_decimal_comma.csv").read_bytes())
    np.testing.assert_allclose(seq.values, [[1.5, 2], [-0.25, 0.03]], rtol=1e-6)
    seq = load_sequence("x.tsv", (DATA / "good" / "tab_separated.tsv").read_bytes())
    np.testing.assert_array_equal(seq.values, [[1, 2, 3], [4, 5, 6]])


def test_good_arrays_and_text() -> None:
    assert load_sequence("s.npy", (DATA / "good" / "sine.npy").read_bytes()).values.shape == (
        50,
        1,
    )
    assert load_sequence("w.npy", (DATA / "good" / "walk.npy").read_bytes()).n_features == 3
    seq = load_sequence("hello.txt", (DATA / "good" / "hello.txt").read_bytes())
    assert seq.text == "hello world\nhello lstm\n" and seq.labels[5] == "␣"


def test_good_weights_agree_across_formats() -> None:
    loaded = {
        name: load_state_dict_file(name, (DATA / "good" / name).read_bytes())
        for name in (
            "lstm_tiny.pt",
            "lstm_tiny.safetensors",
            "lstm_tiny.npz",
            "checkpoint_wrapped.pt",
        )
    }
    reference = loaded["lstm_tiny.pt"]
    assert set(reference) == {"weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"}
    for name, state in loaded.items():
        assert set(state) == set(reference), name
        for key in reference:
            np.testing.assert_array_equal(state[key], reference[key])
        assert infer_config(state) == {
            "variant_family": "lstm",
            "variant": "vanilla",
            "input_size": 2,
            "hidden_size": 3,
            "num_layers": 1,
            "bidirectional": False,
            "bias": True,
            "proj_size": 0,
        }


@pytest.mark.parametrize("path", GOOD, ids=lambda p: p.name)
def test_good_file_loads(path: Path) -> None:
    assert load_any(path.name, path.read_bytes())
