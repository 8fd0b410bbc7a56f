"""What a forward pass (``Trace``) and a backward pass (``Gradients``) keep, per layer and
direction."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


def _lookup(store: dict, what: str, name: str, layer: int, direction: int) -> np.ndarray:
    key = (int(layer), int(direction))
    if key not in store:
        raise KeyError(f"no layer {layer}, direction {direction} in this {what}; "
                       f"it has {sorted(store)}")
    quantities = store[key]
    if name not in quantities:
        raise KeyError(f"{what} has no {name!r}; it has {', '.join(quantities)}")
    return quantities[name]


@dataclass
class Trace:
    """Every per-step quantity of a forward pass.

    output, h_n: exactly what ``model(x, hx)`` returns (torch's shapes).
    get(name, layer, direction): (T, B, units), time-major, indexed by position in the sequence
    (also for direction 1); B = 1 for unbatched input.
    """

    output: np.ndarray
    h_n: np.ndarray | tuple[np.ndarray, np.ndarray]
    variant: str
    steps: dict[tuple[int, int], dict[str, np.ndarray]]
    inputs: list[np.ndarray]                          # per layer: its input (T, B, I_layer)
    h0: np.ndarray                                    # (layers * directions, B, R)
    c0: np.ndarray | None                             # (layers * directions, B, H), LSTM family
    unbatched: bool = False
    batch_first: bool = False
    meta: dict = field(default_factory=dict)
    # interventions it ran with, per (layer, direction): quantity -> Override (SPEC §5)
    overrides: dict = field(default_factory=dict)

    def get(self, name: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        """The quantity ``name`` ("i", "f", "g", "o", "c", "h", "z_f", ...) as (T, B, units)."""
        return _lookup(self.steps, "trace", name, layer, direction)

    def names(self, layer: int = 0, direction: int = 0) -> tuple[str, ...]:
        """The names ``get`` accepts for this layer and direction."""
        return tuple(self.steps[(layer, direction)])

    @property
    def length(self) -> int:
        return int(self.inputs[0].shape[0])

    @property
    def batch(self) -> int:
        return int(self.inputs[0].shape[1])

    @property
    def nbytes(self) -> int:
        """Memory held by the per-step arrays."""
        def root(a: np.ndarray) -> np.ndarray:
            while isinstance(a.base, np.ndarray):
                a = a.base
            return a

        arrays = [root(a) for q in self.steps.values() for a in q.values()]
        arrays += [root(x) for x in self.inputs]
        return sum({id(a): a.nbytes for a in arrays}.values())


@dataclass
class Gradients:
    """The result of BPTT for loss = Σ output · d_output.

    params: name -> dL/dparam, the names and shapes of ``state_dict()``.
    input:  dL/dx, the shape of x.
    get("dh" | "dc", layer, direction): the total ∂L/∂h_t and ∂L/∂c_t, (T, B, units).
    """

    params: dict[str, np.ndarray]
    input: np.ndarray
    steps: dict[tuple[int, int], dict[str, np.ndarray]]

    def get(self, name: str, layer: int = 0, direction: int = 0) -> np.ndarray:
        return _lookup(self.steps, "gradient", name, layer, direction)
