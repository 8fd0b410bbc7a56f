"""Teacher presets: named views of the shipped models that show one idea each, as links.

A preset is a set of URL parameters (DESIGN.md, "Links"): ``task``, ``variant``, ``step``,
``unit`` (and optionally ``layer``, ``direction``, ``projector``). Opening
``preset_url(preset)`` on the landing page shows the task's example sequence (seed 0) through the
shipped model at that step, with that unit in focus.

The units were found by computing on the shipped models with the ``find_*`` functions below
(``python -m lstm_viz.teaching.presets`` prints what they find now) and are hard-coded, so a
link stays the same; ``tests/teaching/test_presets.py`` checks that each one still does what
its preset promises.

No streamlit here.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from lstm_viz.core import TABLE, Recurrent
from lstm_viz.files.sequence import Sequence

URL_ORDER = ("task", "variant", "step", "unit", "layer", "direction", "projector")


@dataclass(frozen=True)
class Preset:
    """A named view: ``params`` are URL parameters (strings), ``description`` one sentence."""

    name: str
    description: str
    params: dict[str, str]

    @property
    def task(self) -> str:
        return self.params["task"]

    @property
    def variant(self) -> str:
        return self.params.get("variant", "vanilla")

    @property
    def step(self) -> int:
        return int(self.params.get("step", 0))

    @property
    def unit(self) -> int:
        return int(self.params.get("unit", 0))


PRESETS: tuple[Preset, ...] = (
    Preset(
        "The forget gate holds a memory",
        "Remember the first symbol: unit 10's input gate opens at the symbol, then its forget "
        "gate stays near 1 and the cell carries the symbol through the noise.",
        {"task": "remember", "variant": "vanilla", "step": "15", "unit": "10"},
    ),
    Preset(
        "A unit that counts brackets",
        "Unit 4's cell state steps up at '(' and down at ')': it tracks the nesting depth "
        "(here at its deepest point).",
        {"task": "brackets", "variant": "vanilla", "step": "19", "unit": "4"},
    ),
    Preset(
        "Why plain RNNs forget",
        "The same task for a plain RNN: at the '?' cue nothing of the first symbol is left in "
        "h, so the answer is a guess.",
        {"task": "remember", "variant": "rnn", "step": "29", "unit": "8"},
    ),
    Preset(
        "Peephole vs vanilla",
        "With peepholes the gates read the cell itself: unit 11's large cell state holds its "
        "own forget gate at 1 (look at the p·c term in the explanation).",
        {"task": "remember", "variant": "peephole", "step": "15", "unit": "11"},
    ),
    Preset(
        "Coupled gates: f = 1 − i",
        "The CIFG variant has no forget gate of its own: unit 14 keeps its input gate near 0, "
        "so f = 1 − i stays near 1 and the memory is held.",
        {"task": "remember", "variant": "cifg", "step": "15", "unit": "14"},
    ),
    Preset(
        "Adding problem: two marked numbers",
        "Unit 0's input gate opens only at the two marked steps (here the first) and its cell "
        "keeps the running sum to the end.",
        {"task": "adding", "variant": "vanilla", "step": "12", "unit": "0"},
    ),
)


def preset_url(preset: Preset, **extra: str) -> str:
    """The query string that opens the preset: ``"?task=…&variant=…&step=…&unit=…"``.

    ``extra`` adds or overrides parameters (e.g. ``projector="1"``).
    """
    params = {**preset.params, **extra}
    ordered = [(k, str(params[k])) for k in URL_ORDER if k in params]
    ordered += [(k, str(v)) for k, v in params.items() if k not in URL_ORDER]
    return "?" + urlencode(ordered)


def get_preset(name: str) -> Preset:
    for p in PRESETS:
        if p.name == name:
            return p
    raise KeyError(f"no preset {name!r}; have: {', '.join(p.name for p in PRESETS)}")


# ------------------------------------------------------------- how the units were found
# Each takes the model and the task's example (seed 0) and returns (unit, score) for the unit the
# preset should show; the tests compare it with the hard-coded unit and check the score.


def first_symbol_variants(seq: Sequence, symbols: int = 4) -> list[np.ndarray]:
    """The remember example with each of the ``symbols`` first symbols (same noise after it)."""
    out = []
    for k in range(symbols):
        x = seq.values.copy()
        x[0] = 0.0
        x[0, k] = 1.0
        out.append(x)
    return out


def symbol_spread(model: Recurrent, seq: Sequence, name: str = "c") -> np.ndarray:
    """(T, units): the spread (std) of ``name`` over the 4 possible first symbols, per step.

    Large where a unit holds what the first symbol was; 0 where it has forgotten it.
    """
    states = np.stack([model.trace(x).get(name)[:, 0] for x in first_symbol_variants(seq)])
    return states.astype(np.float64).std(axis=0)


def find_holding_unit(model: Recurrent, seq: Sequence) -> tuple[int, float]:
    """The unit whose forget gate stays highest between the first and the last step (its
    minimum over steps 1 … T−2) and that minimum."""
    f = model.trace(seq.values).get("f")[1:-1, 0].astype(np.float64)
    lowest = f.min(axis=0)
    unit = int(np.argmax(lowest))
    return unit, float(lowest[unit])


def find_counting_unit(model: Recurrent, seq: Sequence) -> tuple[int, float]:
    """The unit whose cell state correlates best with the nesting depth, and its |corr|."""
    depth = np.asarray(seq.meta["target"], dtype=np.float64).reshape(seq.length)
    c = model.trace(seq.values).get("c")[:, 0].astype(np.float64)
    corr = np.array([abs(np.corrcoef(c[:, u], depth)[0, 1]) if c[:, u].std() > 0 else 0.0
                     for u in range(c.shape[1])])
    unit = int(np.argmax(corr))
    return unit, float(corr[unit])


def find_rnn_memory_unit(model: Recurrent, seq: Sequence) -> tuple[int, float]:
    """The unit of h that depends most on the first symbol just after it (step 1), and that
    spread."""
    spread = symbol_spread(model, seq, "h")
    unit = int(np.argmax(spread[1]))
    return unit, float(spread[1, unit])


def find_peephole_unit(model: Recurrent, seq: Sequence, step: int) -> tuple[int, float]:
    """The unit whose forget-gate peephole term |p_f · c_{t−1}| is largest at ``step``."""
    p = model.weights(0, 0).peephole
    if p is None:
        raise ValueError("not a peephole model")
    c = model.trace(seq.values).get("c")[:, 0].astype(np.float64)
    term = np.abs(np.asarray(p[1], dtype=np.float64) * c[step - 1])
    unit = int(np.argmax(term))
    return unit, float(term[unit])


def find_marker_unit(model: Recurrent, seq: Sequence) -> tuple[int, float]:
    """The unit whose input gate opens most at the marked steps of the adding problem, compared
    with the other steps; and that difference."""
    marks = np.flatnonzero(seq.values[:, 1] > 0.5)
    i = model.trace(seq.values).get("i")[:, 0].astype(np.float64)
    rest = np.delete(i, marks, axis=0)
    gap = i[marks].mean(axis=0) - rest.mean(axis=0)
    unit = int(np.argmax(gap))
    return unit, float(gap[unit])


def find_units() -> dict[str, tuple[int, float]]:
    """What the finders give on the shipped models now, per preset name."""
    from lstm_viz.training.zoo import load_shipped
    from lstm_viz.workbench import example_sequence

    def model(task: str, variant: str) -> tuple[Recurrent, Sequence]:
        return load_shipped(task, variant).recurrent(), example_sequence(task, seed=0)

    out = {}
    for preset in PRESETS:
        rec, seq = model(preset.task, preset.variant)
        if preset.task == "brackets":
            out[preset.name] = find_counting_unit(rec, seq)
        elif TABLE[preset.variant].family == "rnn":
            out[preset.name] = find_rnn_memory_unit(rec, seq)
        elif TABLE[preset.variant].peephole:
            out[preset.name] = find_peephole_unit(rec, seq, preset.step)
        elif preset.task == "adding":
            out[preset.name] = find_marker_unit(rec, seq)
        else:
            out[preset.name] = find_holding_unit(rec, seq)
    return out


if __name__ == "__main__":  # pragma: no cover
    for name, (unit, score) in find_units().items():
        print(f"{name}: unit {unit} (score {score:.3f}); preset has {get_preset(name).unit}")
