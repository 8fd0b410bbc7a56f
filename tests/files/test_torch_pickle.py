"""Issue #13: a whole saved torch model is read without running anything from the file.

`lstm_viz.files.torch_pickle` re-reads ``data.pkl`` with a restricted unpickler: torch's tensor
rebuilding (done by its own functions), a few containers, and a `Stub` for every other class.
"""

from __future__ import annotations

import io
import os
import pickle
import sys

import pytest
import torch
from torch_saving import save, save_unimportable

from lstm_viz import InputError, read_model
from lstm_viz.files import torch_pickle
from lstm_viz.files.torch_pickle import Stub, load_restricted, module_tensors, stub_name


class _System:
    """Unpickling this calls os.system(cmd): the classic hostile pickle."""

    def __init__(self, cmd: str) -> None:
        self.cmd = cmd

    def __reduce__(self):  # noqa: ANN204
        return (os.system, (self.cmd,))


class _Exec:
    """Unpickling this runs Python source that writes a file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def __reduce__(self):  # noqa: ANN204
        return (exec, (f"open({self.path!r}, 'w').write('pwned')",))


def _hostile(tmp_path) -> tuple[bytes, list]:  # noqa: ANN001
    markers = [tmp_path / "by_system", tmp_path / "by_exec"]
    lstm = torch.nn.LSTM(2, 3)
    data = save({
        "state_dict": lstm.state_dict(),
        "payload": _System(f"touch {markers[0]}"),
        "more": [_Exec(str(markers[1]))],
    })
    return data, markers


def test_hostile_pickle_is_never_run(tmp_path) -> None:  # noqa: ANN001
    data, markers = _hostile(tmp_path)
    with pytest.raises(pickle.UnpicklingError):  # torch itself refuses it
        torch.load(io.BytesIO(data), weights_only=True)
    mf = read_model("evil.pt", data)
    assert not any(m.exists() for m in markers)
    assert mf.candidates == [""] and mf.recurrent.hidden_size == 3
    obj, classes = load_restricted("'evil.pt'", data)
    assert not any(m.exists() for m in markers)
    assert "builtins.exec" in classes and any(c.endswith(".system") for c in classes)
    payload = obj["payload"]
    assert isinstance(payload, Stub) and stub_name(payload) in ("posix.system", "nt.system")
    assert payload._stub_args == (f"touch {markers[0]}",)  # the command, kept as data only


def test_hostile_pickle_alone_is_one_sentence(tmp_path) -> None:  # noqa: ANN001
    marker = tmp_path / "ran"
    data = save({"x": _System(f"touch {marker}")})
    with pytest.raises(InputError) as e:
        read_model("evil.pth", data)
    assert not marker.exists()
    assert str(e.value).count(". ") == 0 and str(e.value).endswith(".")
    # torch's legacy (non-zip) format is not re-read at all
    legacy = pickle.dumps(_System(f"touch {marker}"), protocol=2)
    with pytest.raises(InputError):
        read_model("evil.pt", legacy)
    assert not marker.exists()


class CharRNN(torch.nn.Module):
    def __init__(self, chars: tuple[str, ...] = ("a", "b", "c", "d")) -> None:
        super().__init__()
        self.chars = chars
        self.int2char = dict(enumerate(chars))
        self.lstm = torch.nn.LSTM(len(chars), 6, num_layers=2, batch_first=True)
        self.dropout = torch.nn.Dropout(0.5)
        self.fc = torch.nn.Linear(6, len(chars))



def test_whole_model_tree_of_stubs() -> None:
    torch.manual_seed(0)
    model = CharRNN()
    data = save_unimportable(model, "nowhere_pkg.model")
    obj, classes = load_restricted("'m.pt'", data)
    assert "nowhere_pkg" not in sys.modules
    assert stub_name(obj) == "nowhere_pkg.model.CharRNN"
    assert "torch.nn.modules.rnn.LSTM" in classes
    tensors, mods, attrs = module_tensors(obj)
    assert mods == {"": "nowhere_pkg.model.CharRNN", "lstm": "torch.nn.modules.rnn.LSTM",
                    "dropout": "torch.nn.modules.dropout.Dropout",
                    "fc": "torch.nn.modules.linear.Linear"}
    assert set(tensors) == {f"lstm.{k}" for k in model.lstm.state_dict()} | {"fc.weight",
                                                                             "fc.bias"}
    for name, t in model.state_dict().items():
        assert torch.equal(tensors[name], t)
    assert attrs[""]["chars"] == model.chars and attrs["lstm"]["batch_first"] is True


def test_whole_model_read_model_notes_class() -> None:
    data = save_unimportable(CharRNN(), "model")
    mf = read_model("rnn_50_epoch.net", data)
    assert any("whole saved model" in n and "model.CharRNN" in n for n in mf.notes)
    assert mf.vocab == ["a", "b", "c", "d"] and mf.head is not None
    assert mf.recurrent.batch_first is True and mf.recurrent.num_layers == 2


def test_rebuild_refuses_a_view_past_its_storage() -> None:
    storage = torch_pickle._Storage(torch.UntypedStorage(16), torch.float32, 4)
    with pytest.raises(pickle.UnpicklingError):
        torch_pickle._rebuild_tensor(storage, 0, (100,), (1,))
    with pytest.raises(pickle.UnpicklingError):
        torch_pickle._rebuild_tensor(storage, 0, (2, 2), (-1, 1))
    ok = torch_pickle._rebuild_tensor(storage, 0, (2, 2), (2, 1))
    assert ok.shape == (2, 2)
    with pytest.raises(pickle.UnpicklingError):
        torch_pickle._rebuild_tensor("not a storage", 0, (1,), (1,))


def test_only_listed_globals_are_real() -> None:
    reader = torch_pickle._Reader(io.BytesIO(b""), None, "", True)  # type: ignore[arg-type]
    for module, name in [("os", "system"), ("builtins", "eval"), ("builtins", "getattr"),
                         ("subprocess", "Popen"), ("torch", "load"), ("torch._utils", "x"),
                         ("torch.nn.modules.rnn", "LSTM")]:
        got = reader.find_class(module, name)
        assert isinstance(got, type) and issubclass(got, Stub), (module, name)
    assert reader.find_class("torch", "float32") is torch.float32
    assert issubclass(reader.find_class("torch", "_dynamo"), Stub)  # no lookup of other names
    assert reader.find_class("collections", "OrderedDict") is not None
