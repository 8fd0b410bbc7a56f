"""Write the corpus of bad (and a few good) input files used by tests/files/test_bad_corpus.py.

    .venv/bin/python tests/data/make_bad_corpus.py            # writes tests/data/bad and good
    .venv/bin/python tests/data/make_bad_corpus.py OUT_DIR    # writes OUT_DIR/bad and OUT_DIR/good

Every file in bad/ must make the loaders raise InputError; every file in good/ must load.
The over-the-upload-limit file is NOT written here (it would be 20 MB in git): the test builds
it at runtime.

Some bad files are hostile: their unpickling would run a shell command or write a marker file
(`MARKER`). The loaders never unpickle, and the test checks the marker never appears.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import struct
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

HERE = Path(__file__).resolve().parent
MARKER = Path(tempfile.gettempdir()) / "lstm_viz_bad_corpus_pwned"


class ShellPayload:
    """Unpickling this runs a shell command that creates MARKER."""

    def __reduce__(self):
        return (os.system, (f"touch {MARKER}",))


class WritePayload:
    """Unpickling this writes MARKER through builtins.exec."""

    def __reduce__(self):
        return (exec, (f"open({str(MARKER)!r}, 'w').write('pwned')",))


def _npy(arr: np.ndarray, allow_pickle: bool = False) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=allow_pickle)
    return buf.getvalue()


def _npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def _torch_bytes(obj: object) -> bytes:
    buf = io.BytesIO()
    torch.save(obj, buf)
    return buf.getvalue()


def _tiny_lstm() -> torch.nn.LSTM:
    torch.manual_seed(0)
    return torch.nn.LSTM(input_size=2, hidden_size=3)


def _state(module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _safetensors_with_header(header: dict, payload: bytes) -> bytes:
    h = json.dumps(header).encode()
    return struct.pack("<Q", len(h)) + h + payload


class Net(torch.nn.Module):
    """A user's own model class: torch.save(Net()) pickles a reference to it."""

    def __init__(self, lstm: torch.nn.Module | None = None) -> None:
        super().__init__()
        self.lstm = lstm if lstm is not None else torch.nn.LSTM(2, 3)
        self.head = torch.nn.Linear(3, 1)


def bad_files() -> dict[str, Callable[[], bytes]]:
    """name -> function producing the bytes. Each must be rejected with an InputError."""
    rng = np.random.default_rng(0)
    junk = bytes(rng.integers(0, 256, 4096, dtype=np.uint8))
    lstm = _tiny_lstm()
    good_state = _state(lstm)
    good_npy = _npy(np.arange(300, dtype=np.float64).reshape(100, 3))
    good_npz = _npz(**{k: v.numpy() for k, v in good_state.items()})
    good_pt = _torch_bytes(good_state)

    def zip_bytes() -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as zf:
            zf.writestr(zipfile.ZipInfo("hello.txt", (2024, 1, 1, 0, 0, 0)), "not an array")
        return buf.getvalue()

    def state_with(**changes) -> dict:
        s = dict(good_state)
        for k, v in changes.items():
            if v is None:
                s.pop(k, None)
            else:
                s[k] = v
        return s

    def lstm_state(**kw) -> dict:
        torch.manual_seed(0)
        return _state(torch.nn.LSTM(**kw))

    def two_layer_missing_middle() -> dict:
        s = lstm_state(input_size=2, hidden_size=3, num_layers=3)
        return {k: v for k, v in s.items() if "_l1" not in k}

    def bidir_bad_layer1() -> dict:
        s = lstm_state(input_size=2, hidden_size=3, num_layers=2, bidirectional=True)
        s["weight_ih_l1"] = torch.zeros(12, 3)  # should be (12, 2*3)
        s["weight_ih_l1_reverse"] = torch.zeros(12, 3)
        return s

    def hr_one_layer() -> dict:
        s = lstm_state(input_size=2, hidden_size=4, num_layers=2, proj_size=2)
        del s["weight_hr_l1"]
        return s

    def lying_safetensors() -> bytes:
        return _safetensors_with_header(
            {"weight_ih_l0": {"dtype": "F32", "shape": [12, 2], "data_offsets": [0, 96000]}},
            b"\x00" * 96,
        )

    def overlapping_safetensors() -> bytes:
        return _safetensors_with_header(
            {
                "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
                "b": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]},
            },
            b"\x00" * 12,
        )

    files: dict[str, Callable[[], bytes]] = {
        # ---- tables
        "empty.csv": lambda: b"",
        "whitespace_only.csv": lambda: b"  \n\n \t \n",
        "header_only.csv": lambda: b"time,value\n",
        "dates_only.csv": lambda: b"Month\n1949-01\n1949-02\n",
        "bom_bad_cell.csv": lambda: "\ufeffa,b\n1,2\n3,oops\n".encode(),
        "semicolon_bad_cell.csv": lambda: b"a;b;c\n1,5;2,0;3\n4;five;6\n",
        "tab_bad_cell.tsv": lambda: b"a\tb\n1\t2\n3\t?\n",
        "quoted_non_number.csv": lambda: b'a,b\n"1","2"\n"3","three"\n',
        "non_numeric_cell.csv": lambda: b"x,y\n0.1,0.2\n0.3,abc\n0.5,0.6\n",
        "nan_cell.csv": lambda: b"x,y\n0.1,0.2\n0.3,NaN\n",
        "na_word.csv": lambda: b"x,y\n0.1,N/A\n",
        "inf_cell.csv": lambda: b"x,y\n0.1,0.2\n-inf,0.4\n",
        "too_large_for_float32.csv": lambda: b"x\n1e39\n",
        "over_value_limit.csv": lambda: b"time,price\n0,0.5\n1,2500000\n",
        "empty_cell.csv": lambda: b"x,y,z\n1,,3\n",
        "ragged_rows.csv": lambda: b"a,b,c,d\n1,2,3,4\n5,6,7\n",
        "ragged_too_many.csv": lambda: b"a,b\n1,2\n3,4,5\n",
        "single_column_text.csv": lambda: b"word\nhello\nworld\n",
        "ten_thousand_columns.csv": lambda: (
            ",".join(f"c{k}" for k in range(10_000)) + "\n" + ",".join(["0"] * 10_000) + "\n"
        ).encode(),
        "thousands_separators.csv": lambda: b'a,b\n"1,234","5"\n',
        "binary_junk.csv": lambda: junk,
        "npy_renamed.csv": lambda: good_npy,
        "utf16.csv": lambda: "a,b\n1,2\n".encode("utf-16"),
        "utf16_no_bom.csv": lambda: "a,b\n1,2\n".encode("utf-16-le"),
        "latin1.csv": lambda: "température,pression\n1,2\n".encode("latin-1"),
        "png_renamed.tsv": lambda: b"\x89PNG\r\n\x1a\n" + junk[:200],
        # ---- .npy
        "object_2d.npy": lambda: _npy(np.array([[1, "a"], [2, None]], dtype=object), True),
        "pickled_object_shell.npy": lambda: _npy(np.array([ShellPayload()], dtype=object), True),
        "raw_pickle.npy": lambda: pickle.dumps({"x": [1, 2, 3]}),
        "four_d.npy": lambda: _npy(np.zeros((2, 3, 4, 5), np.float32)),
        "truncated.npy": lambda: good_npy[: len(good_npy) // 2],
        "truncated_header.npy": lambda: good_npy[:20],
        "empty_array.npy": lambda: _npy(np.zeros((0, 3), np.float32)),
        "scalar.npy": lambda: _npy(np.array(3.0)),
        "nan.npy": lambda: _npy(np.array([[0.0, 1.0], [np.nan, 2.0]])),
        "inf.npy": lambda: _npy(np.array([0.0, np.inf])),
        "over_value_limit.npy": lambda: _npy(np.array([[0.5, 1.0], [2.0, -3e7]])),
        "strings.npy": lambda: _npy(np.array(["a", "b", "c"])),
        "complex.npy": lambda: _npy(np.array([1 + 2j, 3j])),
        "structured.npy": lambda: _npy(np.zeros(3, dtype=[("a", "f4"), ("b", "i4")])),
        "zip_renamed.npy": zip_bytes,
        "csv_renamed.npy": lambda: b"a,b\n1,2\n",
        "too_many_features.npy": lambda: _npy(np.zeros((2, 2000), np.float32)),
        # ---- text
        "utf16.txt": lambda: "hello, world\n".encode("utf-16"),
        "latin1.txt": lambda: "café crème brûlée\n".encode("latin-1"),
        "binary_junk.txt": lambda: junk,
        "empty.txt": lambda: b"",
        "pdf_renamed.txt": lambda: b"%PDF-1.4\n" + junk[:300],
        # ---- model files
        "hostile_shell.pt": lambda: _torch_bytes({"weight_ih_l0": ShellPayload()}),
        "hostile_write.pt": lambda: _torch_bytes({"weight_ih_l0": WritePayload()}),
        "hostile_raw_pickle.pth": lambda: pickle.dumps(ShellPayload(), protocol=2),
        "whole_module.pt": lambda: _torch_bytes(lstm),
        "whole_custom_module.pt": lambda: _torch_bytes(Net()),
        "truncated.pt": lambda: good_pt[: len(good_pt) // 2],
        "junk.pt": lambda: junk,
        "list_not_dict.pt": lambda: _torch_bytes([torch.zeros(3)]),
        "plain_tensor.pt": lambda: _torch_bytes(torch.zeros(3)),
        "empty_dict.pt": lambda: _torch_bytes({}),
        "wrong_shape.pt": lambda: _torch_bytes(state_with(weight_hh_l0=torch.zeros(12, 5))),
        "wrong_bias_shape.pt": lambda: _torch_bytes(state_with(bias_hh_l0=torch.zeros(11))),
        "missing_weight_hh.pt": lambda: _torch_bytes(state_with(weight_hh_l0=None)),
        "missing_one_bias.pt": lambda: _torch_bytes(state_with(bias_ih_l0=None)),
        "missing_middle_layer.pt": lambda: _torch_bytes(two_layer_missing_middle()),
        "bidirectional_bad_layer1.pt": lambda: _torch_bytes(bidir_bad_layer1()),
        "weight_hr_one_layer.pt": lambda: _torch_bytes(hr_one_layer()),
        "unknown_names.pt": lambda: _torch_bytes({"foo": torch.zeros(3), "bar": torch.ones(2)}),
        "five_gate_blocks.pt": lambda: _torch_bytes(
            state_with(
                weight_ih_l0=torch.zeros(15, 2),
                weight_hh_l0=torch.zeros(15, 3),
                bias_ih_l0=torch.zeros(15),
                bias_hh_l0=torch.zeros(15),
            )
        ),
        "nan_weights.pt": lambda: _torch_bytes(
            state_with(weight_ih_l0=torch.full((12, 2), float("nan")))
        ),
        "complex_weights.pt": lambda: _torch_bytes(
            state_with(weight_ih_l0=torch.zeros(12, 2, dtype=torch.complex64))
        ),
        "lying_header.safetensors": lying_safetensors,
        "overlapping_offsets.safetensors": overlapping_safetensors,
        "huge_header_length.safetensors": lambda: struct.pack("<Q", 2**62) + b"{}",
        "junk.safetensors": lambda: junk,
        "bad_json_header.safetensors": lambda: struct.pack("<Q", 5) + b"{nope",
        "truncated.npz": lambda: good_npz[: len(good_npz) // 2],
        "pickled_object.npz": lambda: _npz(weight_ih_l0=np.array([ShellPayload()], dtype=object)),
        "junk.npz": lambda: junk,
        "npy_renamed.npz": lambda: good_npy,
        "empty_archive.npz": lambda: _npz(),
        "unsupported_extension.bin": lambda: good_pt,
    }
    return files


def good_files() -> dict[str, Callable[[], bytes]]:
    """name -> function producing the bytes. Each must load."""
    from safetensors.numpy import save as save_safetensors

    lstm = _tiny_lstm()
    state = _state(lstm)
    arrays = {k: v.numpy() for k, v in state.items()}
    t = np.arange(50) / 10.0
    walk = np.cumsum(np.random.default_rng(1).standard_normal((40, 3)), axis=0)

    return {
        "two_features.csv": lambda: (
            "time,value\n" + "".join(f"{a:.1f},{np.sin(a):.6f}\n" for a in t)
        ).encode(),
        "semicolon_decimal_comma.csv": lambda: "\ufeffa;b\r\n1,5;2\r\n-0,25;3e-2\r\n".encode(),
        "tab_separated.tsv": lambda: b'x\ty\tz\n1\t"2"\t3\n4\t5\t6\n',
        "sine.npy": lambda: _npy(np.sin(t).astype(np.float32)),
        "walk.npy": lambda: _npy(walk),
        "hello.txt": lambda: b"hello world\nhello lstm\n",
        # Loaded since issue #13: a headerless table, a batch of sequences, a dated table.
        "no_header_numbers_only.csv": lambda: b"1.0,2.0\n3.0,4.0\n",
        "three_d.npy": lambda: _npy(np.zeros((2, 3, 4), np.float32)),
        "airline_months.csv": lambda: b"Month,Passengers\n1949-01,112\n1949-02,118\n1949-03,132\n",
        "lstm_tiny.pt": lambda: _torch_bytes(state),
        "lstm_tiny.safetensors": lambda: save_safetensors(arrays),
        "lstm_tiny.npz": lambda: _npz(**arrays),
        "checkpoint_wrapped.pt": lambda: _torch_bytes(
            {"epoch": 7, "model_state_dict": Net(lstm).state_dict()}
        ),
    }


def write(out: Path = HERE) -> list[Path]:
    written = []
    for sub, table in (("bad", bad_files()), ("good", good_files())):
        folder = out / sub
        folder.mkdir(parents=True, exist_ok=True)
        for name, make in table.items():
            path = folder / name
            path.write_bytes(make())
            written.append(path)
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    paths = write(target)
    print(f"wrote {len(paths)} files under {target}")
