"""What every page works on: a sequence, a model and the trace of one through the other.

No streamlit here: the UI resolves its widgets into a ``ModelChoice`` and a ``Sequence`` and calls
``build_model`` and ``run``; the pages read the ``Loaded`` result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_viz.core import TITLES, Recurrent, Trace, is_lstm
from lstm_viz.core import variant as variant_row
from lstm_viz.errors import InputError
from lstm_viz.files.sequence import Sequence
from lstm_viz.training.tasks import TASKS, get_task
from lstm_viz.training.zoo import TrainedModel, list_shipped, load_shipped

SHIPPED_VARIANTS = ("vanilla", "peephole", "cifg", "gru", "rnn")


def array_digest(*arrays: np.ndarray) -> str:
    """A short content hash of arrays (shape, dtype and bytes)."""
    h = hashlib.blake2b(digest_size=12)
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.shape}{a.dtype}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def sequence_key(seq: Sequence) -> str:
    """A content key of a sequence: its values (shape, dtype and bytes)."""
    return "seq:" + array_digest(seq.values)


def shown_key(seq: Sequence) -> int:
    """What a view shows of a sequence beyond its values (labels, feature names, the time
    column): with ``sequence_key``, the key of a figure or payload drawn from it."""
    return hash((tuple(seq.labels or ()), tuple(seq.feature_names), seq.meta.get("time_column")))


def targets_key(seq: Sequence) -> str:
    """A content key of a sequence's targets (``meta["target"]``): "no-target" without any."""
    target = seq.meta.get("target")
    if target is None:
        return "no-target"
    return "target:" + array_digest(np.asarray(target))


def model_key(rec: Recurrent, *extra: Any) -> str:
    """The cache key of a model: everything its results depend on.

    The configuration (variant, sizes, layers, direction, bias, proj_size), the dtype, the
    batch_first layout, every tensor's name, shape and values, and ``extra`` (e.g. a head's
    weights, a vocabulary, a task name): arrays in ``extra`` are hashed by content, anything else
    by its ``repr``. Two models share a key only when they compute the same numbers. The key
    reads "<variant>:<hash>".
    """
    state = rec.state_dict()
    h = hashlib.blake2b(digest_size=16)
    h.update(f"{rec.config!r}|{np.dtype(rec.dtype).str}|bf={rec.batch_first}|".encode())
    for name, value in state.items():
        h.update(f"{name}:".encode())
        h.update(array_digest(value).encode())
    for item in extra:
        if isinstance(item, np.ndarray):
            h.update(b"|array:" + array_digest(item).encode())
        else:
            h.update(f"|{type(item).__name__}:{item!r}".encode())
    return f"{rec.config.variant}:{h.hexdigest()}"


@dataclass(frozen=True)
class ModelChoice:
    """What the sidebar asks for: a shipped model, a fresh seeded one, or the user's own."""

    kind: str                      # "trained" | "fresh" | "custom"
    task: str
    variant: str
    hidden_size: int = 16
    num_layers: int = 1
    bidirectional: bool = False
    seed: int = 0


@dataclass
class Model:
    """A recurrent model ready to trace, with its readout head when it has one."""

    recurrent: Recurrent
    label: str                                 # "trained on brackets (vanilla, 16 units)"
    key: str                                   # cache key: ``model_key`` of the model
    trained: TrainedModel | None = None        # shipped or trained in the app: task, head, meta
    vocab: tuple[str, ...] | None = None
    notices: list[str] = field(default_factory=list)
    embedding: np.ndarray | None = None        # (V, input_size): token ids -> inputs (uploads)
    head: tuple[np.ndarray, np.ndarray | None] | None = None   # (W, b) reading the output
    uploaded: bool = False                     # from a user's file: only its session has it
    head_labels: tuple[str, ...] | None = None # names of the head's outputs (a tagger's tags)

    @property
    def variant(self) -> str:
        return self.recurrent.variant

    @property
    def short_hash(self) -> str:
        """The first 8 hex digits of the key's hash (the URL's ``h=``)."""
        return self.key.rsplit(":", 1)[-1][:8]


def has_shipped(task: str, variant: str) -> bool:
    return (task, variant) in set(list_shipped())


def build_model(choice: ModelChoice, input_size: int, custom: Model | None = None) -> Model:
    """Resolve a ``ModelChoice`` into a ``Model`` for sequences with ``input_size`` features.

    A shipped model that does not exist for the variant falls back to a fresh one, with a notice.
    """
    if choice.kind == "custom" and custom is not None:
        return custom
    notices = []
    if choice.kind == "trained":
        if has_shipped(choice.task, choice.variant):
            tm = load_shipped(choice.task, choice.variant)
            return model_from_trained(tm, "trained")
        notices.append(f"No trained {TITLES[choice.variant]} ships for '{choice.task}': "
                       "showing a fresh seeded one (or train one on the Train page).")
    rec = Recurrent(input_size, choice.hidden_size, num_layers=choice.num_layers,
                    bidirectional=choice.bidirectional, variant=choice.variant, seed=choice.seed)
    label = (f"fresh {choice.variant}, {choice.hidden_size} units, {choice.num_layers} layer(s)"
             f"{', bidirectional' if choice.bidirectional else ''}, seed {choice.seed}")
    return Model(rec, label, "fresh:" + model_key(rec), notices=notices)


def model_from_trained(tm: TrainedModel, how: str = "trained") -> Model:
    """Wrap a ``TrainedModel`` (shipped or trained in the app)."""
    rec = tm.recurrent()
    metric = tm.metric_value
    score = f", held-out {tm.metric_name} {metric:.3g}" if metric is not None else ""
    label = f"{how} on {tm.task} ({tm.variant}, {rec.hidden_size} units{score})"
    key = f"{how}:{tm.task}:" + model_key(rec, tm.task, tm.head_weight,
                                            np.asarray(tm.head_bias), tm.vocab)
    return Model(rec, label, key, trained=tm, vocab=tm.vocab)


def model_from_state(state: dict[str, np.ndarray], config: dict[str, Any], label: str) -> Model:
    """A user's model from its state_dict and inferred configuration (``loaders.infer_config``)."""
    rec = Recurrent.from_state_dict(state, config["input_size"], config["hidden_size"],
                                    num_layers=config["num_layers"], bias=config.get("bias", True),
                                    bidirectional=config["bidirectional"],
                                    proj_size=config.get("proj_size", 0),
                                    variant=config["variant"])
    return Model(rec, label, "user:" + model_key(rec))


def model_from_file(mf: Any, label: str) -> Model:
    """A user's model from a ``ModelFile`` (``read_model``): its recurrent module, the embedding
    that feeds it, the head that reads it and the vocabulary, all in its key."""
    rec = mf.recurrent
    w, b = mf.head if mf.head is not None else (None, None)
    vocab = tuple(mf.vocab) if mf.vocab is not None else None
    labels = getattr(mf, "head_labels", None)
    labels = tuple(labels) if labels is not None else None
    extra = [("embedding", mf.embedding), ("head W", w), ("head b", b), ("vocab", vocab),
             ("head labels", labels)]
    key = "user:" + model_key(rec, *(x for pair in extra for x in pair))
    return Model(rec, label, key, vocab=vocab, embedding=mf.embedding, head=mf.head,
                 uploaded=True, head_labels=labels)


def token_ids(model: Model, sequence: Sequence) -> np.ndarray | None:
    """The sequence's token ids when the model's embedding reads them (else None)."""
    ids = sequence.meta.get("token_ids")
    if model.embedding is None or ids is None:
        return None
    ids = np.asarray(ids)
    if ids.ndim != 1 or ids.shape[0] != sequence.length or not np.issubdtype(ids.dtype,
                                                                            np.integer):
        return None
    return ids


def input_size_of(model: Model, sequence: Sequence) -> int:
    """The features per step that ``run`` feeds the model for this sequence."""
    ids = token_ids(model, sequence)
    return int(model.embedding.shape[1]) if ids is not None else sequence.n_features


def fits(model: Model, sequence: Sequence) -> bool:
    """True when the model can read this sequence (its values, or its tokens through the
    embedding)."""
    return input_size_of(model, sequence) == model.recurrent.input_size


@dataclass
class Loaded:
    """A sequence through a model: what the pages show."""

    sequence: Sequence
    model: Model
    trace: Trace
    mismatch: str | None = None     # the sequence asked for did not fit the model: why, the fix

    @property
    def recurrent(self) -> Recurrent:
        return self.model.recurrent

    @property
    def length(self) -> int:
        return self.sequence.length

    @property
    def inputs(self) -> np.ndarray:
        """What the recurrent module read (``workbench.inputs``)."""
        return inputs(self.model, self.sequence)

    def units(self, name: str = "h") -> int:
        return int(self.trace.get(name).shape[2])

    def quantities(self, layer: int = 0, direction: int = 0,
                   names: tuple[str, ...] | None = None) -> dict[str, np.ndarray]:
        """name -> (T, units) for batch element 0 of one layer and direction."""
        avail = self.trace.names(layer, direction)
        if names is None:
            names = ("f", "i", "g", "o", "c", "h") if is_lstm(self.model.variant) else (
                ("r", "z", "n", "h") if self.model.variant == "gru" else ("h",))
        return {n: self.trace.get(n, layer, direction)[:, 0] for n in names if n in avail}

    def prediction(self) -> np.ndarray | None:
        """The head's output per step (T, outputs), when the model has a head (a shipped or
        trained one's, or an uploaded file's ``(W, b)``)."""
        return self.readout(self.trace.output)

    def readout(self, output: np.ndarray) -> np.ndarray | None:
        """The model's head applied to a recurrent ``output`` (..., features) — this trace's or
        an intervened one's — or None when there is no head that reads it."""
        tm = self.model.trained
        if tm is not None:
            if tm.head_weight.shape[1] != output.shape[-1]:
                return None
            return tm.readout(output)
        if self.model.head is None:
            return None
        w, b = self.model.head
        if w.shape[1] != output.shape[-1]:
            return None
        out = np.asarray(output, dtype=np.float32) @ np.asarray(w, np.float32).T
        return out if b is None else out + np.asarray(b, np.float32)


MAX_TRACE_BYTES = 1024**3   # one trace: 100,000 steps at hidden 128 take about 0.45 GB


def check_trace_size(model: Model, sequence: Sequence) -> None:
    """Raise ``InputError`` when tracing this sequence through this model would not fit."""
    need = model.recurrent.trace_nbytes(sequence.length)
    if need > MAX_TRACE_BYTES:
        c = model.recurrent.config
        raise InputError(
            f"Tracing {sequence.length:,} steps through this model ({c.hidden_size} units, "
            f"{c.num_layers} layer(s){', bidirectional' if c.bidirectional else ''}) needs "
            f"{need / 1024**3:.1f} GB, over the {MAX_TRACE_BYTES / 1024**3:.0f} GB limit: use a "
            "shorter sequence or a smaller model.")


def trace_key(model: Model, sequence: Sequence) -> tuple[str, str, str]:
    """The cache key of ``run(model, sequence)``: the model's key and what it is fed (the
    sequence's values, or its token ids when the model's embedding reads them)."""
    ids = token_ids(model, sequence)
    fed = sequence_key(sequence) if ids is None else "ids:" + array_digest(ids)
    return ("trace", model.key, fed)


def run(model: Model, sequence: Sequence) -> Trace:
    """The trace of one sequence (unbatched) through the model: its values, or, when the model
    has an embedding and the sequence token ids (``meta["token_ids"]``), their embedding rows."""
    check_trace_size(model, sequence)
    return model.recurrent.trace(inputs(model, sequence))


def inputs(model: Model, sequence: Sequence) -> np.ndarray:
    """What the recurrent module reads: the embedding rows of the sequence's token ids when the
    model has an embedding and the sequence token ids, else the sequence's values."""
    ids = token_ids(model, sequence)
    if ids is None:
        return sequence.values
    if ids.min(initial=0) < 0 or ids.max(initial=0) >= model.embedding.shape[0]:
        raise InputError(f"The sequence's token ids reach {int(ids.max())}, past the model's "
                         f"{model.embedding.shape[0]:,} embeddings: tokenise the text with the "
                         "model's own vocabulary.")
    return model.embedding[ids]


def example_sequence(task: str, seed: int = 0, length: int | None = None) -> Sequence:
    return get_task(task).example(seed=seed, length=length)


def task_names() -> tuple[str, ...]:
    return tuple(TASKS)


def torch_call(rec: Recurrent, batch_first: bool | None = None,
               bidirectional: bool | None = None) -> str:
    """The Python call that builds this model in torch (a reference module for other variants);
    ``batch_first`` / ``bidirectional`` override the model's own."""
    c = rec.config
    bf = rec.batch_first if batch_first is None else batch_first
    bi = c.bidirectional if bidirectional is None else bidirectional
    args = [f"input_size={c.input_size}", f"hidden_size={c.hidden_size}"]
    if c.num_layers != 1:
        args.append(f"num_layers={c.num_layers}")
    if not c.bias:
        args.append("bias=False")
    if bf:
        args.append("batch_first=True")
    if bi:
        args.append("bidirectional=True")
    if c.proj_size:
        args.append(f"proj_size={c.proj_size}")
    cls = variant_row(c.variant).torch_class
    if cls is None:
        return f"make_torch_model({c.variant!r}, " + ", ".join(args) + ")"
    return f"nn.{cls}(" + ", ".join(args) + ")"
