"""ONNX models (`.onnx`) read as data: the LSTM, GRU and RNN operators, converted to torch's layout
(SPEC §2), with a Gather embedding that feeds the first and a Gemm / MatMul(+Add) head that reads
the last.

The graph is parsed with the `onnx` package and never run; weights are initializers stored inside
the file (one kept in an external file is refused: no path the file names is ever opened).

Conversion (ONNX stacks gate blocks as rows, like torch, per direction):

- LSTM, W (dirs, 4H, I), R (dirs, 4H, H), B (dirs, 8H) = [Wb, Rb], gates i, o, f, c ->
  torch i, f, g, o.
- GRU, gates z, r, h -> torch r, z, n (linear_before_reset=1 is torch's GRU).
- RNN (Tanh) -> "rnn". direction="bidirectional" -> the `_reverse` tensors.

Stacked operators (torch exports one per layer) are kept as separate modules, one candidate each.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_viz.errors import InputError
from lstm_viz.files.common import NAME_LIMIT, check_size, quote
from lstm_viz.files.contents import FileContents, RecurrentModule
from lstm_viz.files.model_config import (
    MAX_FILE_ELEMENTS,
    MAX_HIDDEN,
    MAX_LAYERS,
    check_param_count,
    check_weights,
)

__all__ = ["read_onnx"]

_EXPORT = "export it with torch.onnx.export(model, args, 'model.onnx', external_data=False)"
_OPS = {"LSTM": "vanilla", "GRU": "gru", "RNN": "rnn"}
_BLOCKS = {"LSTM": 4, "GRU": 3, "RNN": 1}
# rows of torch's gate blocks, as block indices of ONNX's order
_TORCH_ORDER = {"LSTM": [0, 2, 3, 1],   # ONNX i, o, f, c -> torch i, f, g(=c), o
                "GRU": [1, 0, 2],       # ONNX z, r, h -> torch r, z, n
                "RNN": [0]}
_DEFAULT_ACTS = {"LSTM": ["Sigmoid", "Tanh", "Tanh"], "GRU": ["Sigmoid", "Tanh"], "RNN": ["Tanh"]}
# Operators that only move or relabel values between the modules and their embedding or head.
_PASS = {"Identity", "Transpose", "Reshape", "Squeeze", "Unsqueeze", "Cast", "Dropout", "Flatten"}


def _attrs(node: Any) -> dict[str, Any]:
    import onnx

    out: dict[str, Any] = {}
    for a in node.attribute:
        value = onnx.helper.get_attribute_value(a)
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        elif isinstance(value, list):
            value = [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value]
        out[a.name] = value
    return out


class _Graph:
    def __init__(self, label: str, model: Any):
        import onnx

        self.label = label
        graph = model.graph
        self.nodes = list(graph.node)
        self.inits: dict[str, Any] = {}
        total = 0
        for t in graph.initializer:
            if t.data_location == onnx.TensorProto.EXTERNAL:
                where = next((e.value for e in t.external_data if e.key == "location"), "")
                raise InputError(
                    f"{label} keeps its weights outside the file (tensor "
                    f"{quote(t.name, NAME_LIMIT)} in {quote(where or 'another file', NAME_LIMIT)})"
                    f", which is never opened: {_EXPORT}."
                )
            dims = [int(d) for d in t.dims]
            if any(d < 0 for d in dims):
                raise InputError(
                    f"{label}: initializer {quote(t.name, NAME_LIMIT)} has negative dimensions "
                    f"{dims[:8]}: the file is damaged."
                )
            n = 1
            for d in dims:
                n *= d
            total += n
            if total > MAX_FILE_ELEMENTS:
                raise InputError(
                    f"{label}: its initializers hold more than {MAX_FILE_ELEMENTS:,} values "
                    f"(tensor {quote(t.name, NAME_LIMIT)} alone has {n:,}), more than a model may "
                    "have here: upload a smaller model."
                )
            self.inits[t.name] = t
        self.consumers: dict[str, list[Any]] = {}
        self.producer: dict[str, Any] = {}
        for node in self.nodes:
            for name in node.input:
                self.consumers.setdefault(name, []).append(node)
            for name in node.output:
                self.producer[name] = node
        self.used: dict[str, str] = {}

    def array(self, name: str, what: str, ndim: int | None = None) -> np.ndarray:
        """An initializer as float32, checked: finite, within the weight limit."""
        from onnx import numpy_helper

        if name not in self.inits:
            raise InputError(
                f"{self.label}: the {what} ({quote(name, NAME_LIMIT)}) is computed in the graph, "
                f"not stored as an initializer, so it is not read: {_EXPORT}."
            )
        t = self.inits[name]
        if ndim is not None and len(t.dims) != ndim:
            raise InputError(
                f"{self.label}: the {what} ({quote(name, NAME_LIMIT)}) has shape "
                f"{tuple(t.dims)}, but it must be {ndim}-D."
            )
        try:
            values = numpy_helper.to_array(t)
        except Exception:
            raise InputError(
                f"{self.label}: initializer {quote(name, NAME_LIMIT)} cannot be read (its stored "
                f"bytes do not fit its shape and type): {_EXPORT}."
            ) from None
        if values.dtype.kind != "f":
            raise InputError(
                f"{self.label}: the {what} ({quote(name, NAME_LIMIT)}) is stored as "
                f"{values.dtype}, not floating point."
            )
        values = np.asarray(values, dtype=np.float32)
        check_weights(values, f"{self.label}: the {what} ({quote(name, NAME_LIMIT)})")
        return values

    def scalar_index(self, node: Any) -> bool:
        """A Gather that picks one position with a constant 0-D index (one step, one direction):
        it drops an axis, never reorders the features."""
        if node.op_type != "Gather" or len(node.input) != 2:
            return False
        src = self.inits.get(node.input[1])
        if src is None:
            const = self.producer.get(node.input[1])
            if const is not None and const.op_type == "Constant":
                src = next((a.t for a in const.attribute if a.name == "value"), None)
        return src is not None and len(src.dims) == 0

    def follow(self, name: str, pick: bool = False) -> tuple[str, list[Any]]:
        """From a value, through pass-through operators with one consumer (and with `pick`, a
        Gather of one step): the last value reached and the nodes that consume it."""
        seen = 0
        while seen < 64:
            nxt = self.consumers.get(name, [])
            if len(nxt) != 1 or not nxt[0].output or not (
                    nxt[0].op_type in _PASS or (pick and self.scalar_index(nxt[0]))):
                return name, nxt
            name = nxt[0].output[0]
            seen += 1
        return name, self.consumers.get(name, [])

    def source(self, name: str) -> tuple[str, Any]:
        """From a value, back through pass-through operators: the value and its producer."""
        for _ in range(64):
            node = self.producer.get(name)
            if node is None or node.op_type not in _PASS or not node.input:
                return name, node
            name = node.input[0]
        return name, self.producer.get(name)


def _blocks(w: np.ndarray, op: str, hidden: int) -> np.ndarray:
    """Rows of ONNX gate blocks (blocks·H, ...) -> torch's order."""
    parts = [w[k * hidden:(k + 1) * hidden] for k in range(_BLOCKS[op])]
    return np.ascontiguousarray(np.concatenate([parts[k] for k in _TORCH_ORDER[op]], axis=0))


def _recurrent(g: _Graph, node: Any, index: int) -> tuple[RecurrentModule, int, list[str]]:
    op = node.op_type
    label = g.label
    what = f"{op} operator {quote(node.name or f'{op}_{index}', NAME_LIMIT)}"
    a = _attrs(node)
    notes: list[str] = []
    direction = a.get("direction", "forward")
    if direction not in ("forward", "bidirectional"):
        raise InputError(
            f"{label}: the {what} runs in direction {direction!r} only, which the core does not "
            "compute: export a forward or bidirectional layer."
        )
    ndir = 2 if direction == "bidirectional" else 1
    acts = a.get("activations")
    if acts is not None and list(acts) != _DEFAULT_ACTS[op] * ndir:
        raise InputError(
            f"{label}: the {what} uses activations {list(acts)}, but the core computes "
            f"{_DEFAULT_ACTS[op]} (ONNX's defaults): export a standard {op}."
        )
    if "clip" in a:
        raise InputError(
            f"{label}: the {what} clips its pre-activations (clip={a['clip']!r}), which the core "
            "does not: export it without clip."
        )
    if op == "LSTM" and a.get("input_forget", 0):
        raise InputError(
            f"{label}: the {what} couples its input and forget gates (input_forget=1), which is "
            "not the core's 'cifg' layout (its weights keep a forget block): export a standard "
            "LSTM."
        )
    if op == "LSTM" and len(node.input) > 7 and node.input[7]:
        raise InputError(
            f"{label}: the {what} has peephole weights (input P), which are not read from ONNX "
            "files: export an LSTM without peepholes (torch.nn.LSTM has none)."
        )
    if op == "GRU" and a.get("linear_before_reset", 0) != 1:
        raise InputError(
            f"{label}: the {what} has linear_before_reset=0 (the reset gate applied before the "
            "recurrent weights), which torch's GRU and the core do not compute: export "
            "torch.nn.GRU (linear_before_reset=1)."
        )
    ins = list(node.input) + [""] * 8
    if ins[4]:
        notes.append(f"The {what} takes sequence lengths; here every sequence runs in full.")
    shapes = {k: tuple(int(d) for d in g.inits[ins[k]].dims) for k in (1, 2, 3)
              if ins[k] in g.inits}
    if 1 not in shapes or 2 not in shapes:
        g.array(ins[1] if 1 not in shapes else ins[2], f"weights of the {what}")  # refuses
    w_shape, r_shape = shapes[1], shapes[2]
    hidden = a.get("hidden_size", r_shape[-1] if r_shape else 0)
    if not isinstance(hidden, int):
        raise InputError(f"{label}: the {what} has hidden_size {hidden!r}, not an integer.")
    blocks = _BLOCKS[op]
    if hidden > MAX_HIDDEN:
        raise InputError(
            f"{label}: the {what} has hidden_size {hidden:,}, more than the {MAX_HIDDEN:,} "
            "allowed (each step must stay quick to compute): upload a smaller model."
        )
    if (len(w_shape) != 3 or len(r_shape) != 3 or hidden < 1 or w_shape[:2] != (ndir,
            blocks * hidden) or r_shape != (ndir, blocks * hidden, hidden) or w_shape[2] < 1):
        raise InputError(
            f"{label}: the {what} (hidden_size {hidden}, {ndir} direction"
            f"{'s' if ndir > 1 else ''}) has W {w_shape} and R {r_shape}, but expects W "
            f"({ndir}, {blocks * hidden}, inputs) and R ({ndir}, {blocks * hidden}, {hidden}): "
            "the file is damaged."
        )
    inputs = w_shape[2]
    params = ndir * blocks * hidden * (inputs + hidden + 2)
    check_param_count(params, f"{label}: the {what} ({inputs:,} inputs, {hidden:,} units)")
    if ins[3] and 3 in shapes and shapes[3] != (ndir, 2 * blocks * hidden):
        raise InputError(
            f"{label}: the {what} has B {shapes[3]}, but expects ({ndir}, "
            f"{2 * blocks * hidden}): the file is damaged."
        )
    w = g.array(ins[1], f"input weights W of the {what}")
    r = g.array(ins[2], f"recurrent weights R of the {what}")
    b = g.array(ins[3], f"biases B of the {what}") if ins[3] else None
    state: dict[str, np.ndarray] = {}
    order = {"LSTM": "i, o, f, c reordered to i, f, g, o", "GRU": "z, r, h reordered to r, z, n",
             "RNN": "one block"}[op]
    for d in range(ndir):
        sfx = "_reverse" if d else ""
        state[f"weight_ih_l0{sfx}"] = _blocks(w[d], op, hidden)
        state[f"weight_hh_l0{sfx}"] = _blocks(r[d], op, hidden)
        if b is not None:
            state[f"bias_ih_l0{sfx}"] = _blocks(b[d, :blocks * hidden], op, hidden)
            state[f"bias_hh_l0{sfx}"] = _blocks(b[d, blocks * hidden:], op, hidden)
    dirs = "weight_*_l0 and weight_*_l0_reverse" if ndir > 1 else "weight_*_l0"
    g.used[ins[1]] = f"{what}: W -> weight_ih ({dirs}; gate blocks {order})"
    g.used[ins[2]] = f"{what}: R -> weight_hh ({dirs}; gate blocks {order})"
    if b is not None:
        g.used[ins[3]] = f"{what}: B = [Wb, Rb] -> bias_ih, bias_hh (gate blocks {order})"
    path = node.name or f"{op}_{index}"
    module = RecurrentModule(path=path, variant=_OPS[op], state=state,
                             batch_first=bool(a.get("layout", 0)))
    return module, ndir * hidden, notes


def _embedding(g: _Graph, first: Any) -> tuple[np.ndarray | None, list[str]]:
    name, node = g.source(first.input[0])
    if node is None or node.op_type != "Gather" or node.input[0] not in g.inits:
        return None, []
    if _attrs(node).get("axis", 0) != 0 or len(g.inits[node.input[0]].dims) != 2:
        return None, []
    table = g.array(node.input[0], "embedding table", ndim=2)
    g.used[node.input[0]] = f"Gather {quote(node.name, NAME_LIMIT)}: embedding table " \
                            "(vocabulary, features) feeding the first recurrent operator"
    return table, [f"An embedding table ({table.shape[0]:,} tokens x {table.shape[1]} features, "
                   f"a Gather) feeds {first.op_type} {quote(first.name, NAME_LIMIT)}."]


def _head(g: _Graph, last: Any, out_size: int) -> tuple[tuple | None, list[str]]:
    """A Gemm, or a MatMul with an optional Add, reading the last recurrent operator's output Y
    (every step, or one picked by a Gather) or else its last state Y_h."""
    for k, output in enumerate(list(last.output)[:2]):
        if not output:
            continue
        _, nxt = g.follow(output, pick=True)
        if len(nxt) == 1 and nxt[0].op_type in ("Gemm", "MatMul"):
            head, notes = _linear(g, nxt[0], out_size)
            if head is not None and k == 1:
                notes = [n.replace("output as", "last state (Y_h) as") for n in notes]
            if head is not None or notes:
                return head, notes
    return None, []


def _linear(g: _Graph, node: Any, out_size: int) -> tuple[tuple | None, list[str]]:
    ins = list(node.input)
    if node.op_type == "Gemm" and len(ins) >= 2 and ins[1] in g.inits:
        a = _attrs(node)
        if a.get("transA", 0):
            return None, []
        w = g.array(ins[1], "head weights", ndim=2)
        w = w if a.get("transB", 0) else w.T
        w = np.ascontiguousarray(w * np.float32(a.get("alpha", 1.0)))
        b = None
        if len(ins) > 2 and ins[2]:
            b = g.array(ins[2], "head bias") * np.float32(a.get("beta", 1.0))
            if b.shape != (w.shape[0],):
                return None, [f"Gemm {quote(node.name, NAME_LIMIT)} broadcasts its bias "
                              f"{b.shape}: not used as a head."]
            g.used[ins[2]] = f"Gemm {quote(node.name, NAME_LIMIT)}: head bias"
        g.used[ins[1]] = f"Gemm {quote(node.name, NAME_LIMIT)}: head weights -> W"
        kind = "Gemm"
    elif node.op_type == "MatMul" and len(ins) == 2 and ins[1] in g.inits:
        w = np.ascontiguousarray(g.array(ins[1], "head weights", ndim=2).T)
        g.used[ins[1]] = f"MatMul {quote(node.name, NAME_LIMIT)}: head weights -> W = B.T"
        b = None
        adds = g.consumers.get(node.output[0], [])
        if len(adds) == 1 and adds[0].op_type == "Add":
            other = [n for n in adds[0].input if n != node.output[0]]
            if len(other) == 1 and other[0] in g.inits and tuple(g.inits[other[0]].dims) == (
                    w.shape[0],):
                b = g.array(other[0], "head bias")
                g.used[other[0]] = f"Add {quote(adds[0].name, NAME_LIMIT)}: head bias"
        kind = "MatMul" + ("+Add" if b is not None else "")
    else:
        return None, []
    if w.shape[1] != out_size:
        for k in [k for k, v in g.used.items() if "head" in v]:
            del g.used[k]
        return None, [f"{kind} {quote(node.name, NAME_LIMIT)} takes {w.shape[1]} inputs, not the "
                      f"{out_size} outputs of the last recurrent operator: not used as a head."]
    return (w, b), [f"{kind} {quote(node.name, NAME_LIMIT)} ({w.shape[0]} outputs) reads the "
                    "last recurrent operator's output as the head."]


def read_onnx(filename: str, data: bytes) -> FileContents:
    """Read an ONNX model's recurrent operators into `FileContents` (torch layout)."""
    import onnx

    check_size(data)
    label = quote(filename, NAME_LIMIT)
    try:
        # parses the bytes alone: unlike onnx.load(path) it never reads external data
        # (onnx 1.23's load_model_from_string has no load_external_data argument)
        model = onnx.load_model_from_string(bytes(data))
    except Exception:
        raise InputError(f"{label} is not a readable ONNX model: {_EXPORT}.") from None
    try:
        return _read_graph(label, model)
    except InputError:
        raise
    except (TypeError, ValueError, IndexError, KeyError, AttributeError, OverflowError):
        # an attribute of the wrong type or a malformed node: a hand-made or damaged file
        raise InputError(
            f"{label} has a malformed recurrent operator or head (an attribute or input of an "
            f"unexpected type): {_EXPORT}."
        ) from None


def _read_graph(label: str, model: Any) -> FileContents:
    g = _Graph(label, model)
    rec = [n for n in g.nodes if n.op_type in _OPS and n.domain in ("", "ai.onnx")]
    if not rec:
        raise InputError(
            f"{label} has no LSTM, GRU or RNN operator at the top level of its graph: export a "
            "model with torch.nn.LSTM, GRU or RNN (torch.onnx.export(..., dynamo=False) writes "
            "them as single operators)."
        )
    if len(rec) > MAX_LAYERS:
        raise InputError(
            f"{label} has {len(rec)} recurrent operators, more than the {MAX_LAYERS} allowed: "
            f"upload a model with at most {MAX_LAYERS} layers."
        )
    notes: list[str] = []
    modules = []
    out_size = 0
    for i, node in enumerate(rec):
        module, out_size, extra = _recurrent(g, node, i)
        if any(m.path == module.path for m in modules):  # names are not required to be unique
            module.path = f"{module.path or node.op_type}_{i}"
        modules.append(module)
        notes.extend(extra)
    if len(modules) > 1:
        notes.append("Stacked recurrent operators are kept as separate modules ("
                     + ", ".join(m.path for m in modules)
                     + "): the embedding feeds the first, the head reads the last.")
    embedding, extra = _embedding(g, rec[0])
    notes.extend(extra)
    head, extra = _head(g, rec[-1], out_size)
    notes.extend(extra)
    if any(n.op_type in ("If", "Loop", "Scan") for n in g.nodes):
        notes.append("Subgraphs (If, Loop, Scan) are not read.")
    tensors = {name: g.used.get(name, "not used") for name in g.inits}
    return FileContents(recurrent=modules, embedding=embedding, vocab=None, head=head,
                        tensors=tensors, notes=notes)
