"""Hostile weights files (issue #11): each built small, each must end in one InputError sentence.

    python -m lstm_viz.bench.hostile            # the issue's sizes
    python -m lstm_viz.bench.hostile --small    # the reduced sizes the tests use

For every file: build its bytes, load it in a fresh subprocess as the "Your model" page does
(`load_state_dict_file`, then `fitting_variants`) under a 6 GB address-space cap, and print the
time to the message, the peak RSS growth during the load and the message. The builders are
shared with tests/files/test_hostile_uploads.py. Needs torch and safetensors (dev dependencies).
"""

from __future__ import annotations

import argparse
import collections
import io
import json
import pickle
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

__all__ = ["HOSTILE", "build", "load_in_subprocess", "main"]

MEMORY_CAP = 6_000_000_000  # bytes of address space for the child (RLIMIT_AS)
_MIB = 1024 * 1024


def _torch_bytes(obj: object, legacy: bool = False) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.save(obj, buf, _use_new_zipfile_serialization=not legacy)
    return buf.getvalue()


def _zeros_member(zf: zipfile.ZipFile, name: str, nbytes: int, head: bytes = b"") -> None:
    """A DEFLATE member of `head` then `nbytes` zero bytes, streamed (never held in memory)."""
    chunk = b"\x00" * (4 * _MIB)
    with zf.open(name, "w", force_zip64=True) as f:
        f.write(head)
        left = nbytes
        while left > 0:
            f.write(chunk[: min(left, len(chunk))])
            left -= len(chunk)


# -- builders: small=True is what the tests use (cheap to build, same refusal) ------------------


def expanded_view(small: bool) -> bytes:
    """One stored float, shown as a 16,384² (1 GiB) or 4,096² matrix by stride 0."""
    import torch

    n = 4096 if small else 16384
    return _torch_bytes({"weight_ih_l0": torch.zeros(1).expand(n, n)})


def expanded_view_4gib(small: bool) -> bytes:
    import torch

    n = 8192 if small else 32768
    return _torch_bytes({"weight_ih_l0": torch.zeros(1).expand(n, n)})


def expanded_view_legacy(small: bool) -> bytes:
    """The same in torch's legacy (non-zip) format."""
    import torch

    n = 4096 if small else 16384
    return _torch_bytes({"weight_ih_l0": torch.zeros(1).expand(n, n)}, legacy=True)


def overlapping_view(small: bool) -> bytes:
    """40,000 stored floats shown as a 20,000² matrix with strides (1, 1)."""
    import torch

    n = 2000 if small else 20000
    return _torch_bytes({"weight_ih_l0": torch.zeros(2 * n).as_strided((n, n), (1, 1))})


def consistent_hidden_4096(small: bool) -> bytes:
    """A consistent LSTM (input 1, hidden 4,096) in 2 KB: every tensor an expanded view."""
    import torch

    h = 4096
    return _torch_bytes({
        "weight_ih_l0": torch.zeros(1).expand(4 * h, 1),
        "weight_hh_l0": torch.zeros(1).expand(4 * h, h),
        "bias_ih_l0": torch.zeros(1).expand(4 * h),
        "bias_hh_l0": torch.zeros(1).expand(4 * h),
    })


def sparse(small: bool) -> bytes:
    """One value in a 100,000² sparse COO tensor: to_dense() would take 40 GB."""
    import torch

    n = 100_000
    t = torch.sparse_coo_tensor([[0], [0]], [1.0], (n, n))
    return _torch_bytes({"weight_ih_l0": t})


class _Storage:
    def __init__(self, numel: int) -> None:
        self.numel = numel


class _Tensor:
    def __init__(self, numel: int) -> None:
        self.numel = numel

    def __reduce__(self):
        import torch

        args = (_Storage(self.numel), 0, (self.numel,), (1,), False, collections.OrderedDict())
        return (torch._utils._rebuild_tensor_v2, args)


class _TorchPickler(pickle.Pickler):
    """Pickles `_Tensor` as torch.save does a float tensor whose storage is record "0"."""

    def persistent_id(self, obj: object):
        if isinstance(obj, _Storage):
            import torch

            return ("storage", torch.FloatStorage, "0", "cpu", obj.numel)
        return None


def deflate_bomb_pt(small: bool) -> bytes:
    """A torch.save zip whose one storage is a DEFLATE member: 2 MB that unpack to 2 GiB."""
    nbytes = (64 if small else 2048) * _MIB
    pkl = io.BytesIO()
    _TorchPickler(pkl, protocol=2).dump({"weight_ih_l0": _Tensor(nbytes // 4)})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pkl.getvalue())
        zf.writestr("archive/byteorder", "little")
        zf.writestr("archive/version", "3\n")
    with zipfile.ZipFile(buf, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        _zeros_member(zf, "archive/data/0", nbytes)
    return buf.getvalue()


def legacy_lying_storage(small: bool) -> bytes:
    """A legacy (non-zip) torch file whose pickle declares a 4 GiB storage for 12 stored bytes."""
    import pickletools

    import torch

    data = _torch_bytes({"weight_ih_l0": torch.zeros(3)}, legacy=True)
    f = io.BytesIO(data)
    ends = []
    for _ in range(4):  # magic number, protocol, system info, the object, then the storage keys
        for op, _arg, _pos in pickletools.genops(f):
            if op.name == "STOP":
                break
        ends.append(f.tell())
    key = pickle.loads(data[ends[3]:])[0]

    class Legacy(pickle.Pickler):
        def persistent_id(self, obj: object):
            if isinstance(obj, _Storage):
                return ("storage", torch.FloatStorage, key, "cpu", obj.numel, None)
            return None

    obj = io.BytesIO()
    Legacy(obj, protocol=2).dump({"weight_ih_l0": _Tensor(2**28 if small else 2**30)})
    return data[: ends[2]] + obj.getvalue() + data[ends[3] :]


def int8_npz(small: bool) -> bytes:
    """A compressed .npz of int8 zeros for an LSTM with hidden 8,000 (256 MB int8, 1 GB float32)."""
    h = 3300 if small else 8000  # 4·h² int8 values: 43.6 M (over the 40 M limit) or 256 M
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, shape in [("weight_ih_l0", (4 * h, 1)), ("weight_hh_l0", (4 * h, h)),
                            ("bias_ih_l0", (4 * h,)), ("bias_hh_l0", (4 * h,))]:
            head = io.BytesIO()
            np.lib.format.write_array_header_1_0(
                head, {"descr": "|i1", "fortran_order": False, "shape": shape}
            )
            _zeros_member(zf, name + ".npy", int(np.prod(shape)), head.getvalue())
    return buf.getvalue()


def rnn_30000_layers(small: bool) -> bytes:
    """A 5 MB .safetensors RNN (hidden 1) with 30,000 layers."""
    from safetensors.numpy import save

    one = np.zeros((1, 1), np.float32)
    bias = np.zeros(1, np.float32)
    arrays: dict[str, np.ndarray] = {}
    for k in range(3000 if small else 30000):
        arrays |= {f"weight_ih_l{k}": one, f"weight_hh_l{k}": one, f"bias_ih_l{k}": bias,
                   f"bias_hh_l{k}": bias}
    return save(arrays)


def torchscript(small: bool) -> bytes:
    """torch.jit.save of a scripted nn.LSTM: a whole model, never run."""
    import torch

    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(torch.nn.LSTM(2, 3)), buf)
    return buf.getvalue()


def long_tensor_name(small: bool) -> bytes:
    """A tensor named by 5 million characters."""
    import torch

    return _torch_bytes({"w" * (500_000 if small else 5_000_000): torch.zeros(1)})


def long_layer_number(small: bool) -> bytes:
    """weight_ih_l followed by 100,000 digits (int() would refuse to parse it)."""
    import torch

    return _torch_bytes({"weight_ih_l" + "7" * 100_000: torch.zeros(1)})


HOSTILE: dict[str, tuple[str, Callable[[bool], bytes]]] = {
    "expanded_view": ("expanded.pt", expanded_view),
    "expanded_view_4gib": ("expanded4.pt", expanded_view_4gib),
    "expanded_view_legacy": ("expanded_legacy.pt", expanded_view_legacy),
    "overlapping_view": ("overlap.pt", overlapping_view),
    "consistent_hidden_4096": ("hidden4096.pt", consistent_hidden_4096),
    "sparse": ("sparse.pt", sparse),
    "legacy_lying_storage": ("legacy.pt", legacy_lying_storage),
    "deflate_bomb_pt": ("bomb.pt", deflate_bomb_pt),
    "int8_npz": ("int8.npz", int8_npz),
    "rnn_30000_layers": ("deep.safetensors", rnn_30000_layers),
    "torchscript": ("scripted.pt", torchscript),
    "long_tensor_name": ("longname.pt", long_tensor_name),
    "long_layer_number": ("longlayer.pt", long_layer_number),
}


def build(name: str, small: bool = True) -> tuple[str, bytes]:
    """(upload file name, bytes) of one hostile file."""
    filename, builder = HOSTILE[name]
    return filename, builder(small)


_CHILD = r"""
import json, resource, sys, time
resource.setrlimit(resource.RLIMIT_AS, ({cap}, {cap}))
import torch, safetensors.numpy  # imported before the baseline: their own memory is not the load's
from lstm_viz.errors import InputError
from lstm_viz.files.loaders import fitting_variants, load_state_dict_file
path, name = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
try:
    state = load_state_dict_file(name, data)
    fitting_variants(state)
    message, kind = "loaded (no refusal)", "loaded"
except InputError as e:
    message, kind = str(e), "InputError"
except MemoryError:
    message, kind = "MemoryError", "MemoryError"
seconds = time.perf_counter() - t0
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({{"seconds": seconds, "rss_growth_kb": after - before, "kind": kind,
                  "message": message}}))
"""


def load_in_subprocess(path: Path, name: str, cap: int = MEMORY_CAP) -> dict:
    """Load one file in a fresh interpreter under an address-space cap; its report as a dict:
    seconds, rss_growth_kb (peak RSS growth during the load), kind and message."""
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD.format(cap=int(cap)), str(path), name],
        capture_output=True, text=True, cwd=root, timeout=600,
    )
    if proc.returncode != 0:
        return {"seconds": float("nan"), "rss_growth_kb": -1, "kind": "crash",
                "message": proc.stderr.strip().splitlines()[-1] if proc.stderr else "crash"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", action="store_true", help="the tests' reduced sizes")
    parser.add_argument("names", nargs="*", help="only these files (default: all)")
    args = parser.parse_args(argv)
    print(f"{'file':24} {'bytes':>10} {'seconds':>8} {'peak RSS +MB':>12}  message")
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.names or list(HOSTILE):
            filename, data = build(key, small=args.small)
            path = Path(tmp) / filename
            path.write_bytes(data)
            del data
            r = load_in_subprocess(path, filename)
            msg = r["message"] if len(r["message"]) <= 160 else r["message"][:159] + "…"
            print(f"{key:24} {path.stat().st_size:>10,} {r['seconds']:>8.3f} "
                  f"{r['rss_growth_kb'] / 1024:>12.1f}  [{r['kind']}] {msg}", flush=True)
            path.unlink()
    if not args.names:
        bench_limits()


def bench_limits() -> None:
    """infer_config on 30,000 layers (refused, and with the layer limit lifted: linear), and
    what one step costs at the limits (the derivation of MAX_PARAMS in
    lstm_viz.files.model_config)."""
    import time
    from unittest import mock

    from lstm_viz.core import Recurrent
    from lstm_viz.errors import InputError
    from lstm_viz.files import loaders, model_config

    one, bias = np.zeros((1, 1), np.float32), np.zeros(1, np.float32)
    for layers in (3_000, 30_000):
        state: dict[str, np.ndarray] = {}
        for k in range(layers):
            state |= {f"weight_ih_l{k}": one, f"weight_hh_l{k}": one, f"bias_ih_l{k}": bias,
                      f"bias_hh_l{k}": bias}
        t0 = time.perf_counter()
        try:
            loaders.fitting_variants(state)
        except InputError:
            pass
        refused = time.perf_counter() - t0
        with mock.patch.object(model_config, "MAX_LAYERS", 10**6):
            t0 = time.perf_counter()
            loaders.infer_config(state)
            lifted = time.perf_counter() - t0
        print(f"infer_config, {layers:,} RNN layers: fitting_variants refuses in {refused:.4f} s; "
              f"with MAX_LAYERS lifted one infer_config takes {lifted:.3f} s")
    rng = np.random.default_rng(0)
    for hidden, inputs in ((256, 64), (1024, 1024), (2048, 1)):
        rec = Recurrent(inputs, hidden, seed=0)
        params = sum(p.size for p in rec.state_dict().values())
        x = rng.standard_normal((50, inputs)).astype(np.float32)
        rec.trace(x[:2])
        t0 = time.perf_counter()
        rec.trace(x)
        per_step = (time.perf_counter() - t0) / len(x)
        print(f"LSTM hidden {hidden:,}, input {inputs:,} ({params / 1e6:.1f} M params): "
              f"{per_step * 1e3:.1f} ms a traced step")


if __name__ == "__main__":
    main()
