"""The recurrent family: which gate blocks each variant has, in torch's row order.

Greff et al. 2017, "LSTM: A Search Space Odyssey", define the LSTM variants; their "vanilla" has
peepholes, which here is ``"peephole"``. ``"vanilla"`` is ``torch.nn.LSTM``.
"""

from __future__ import annotations

# Gate blocks of each variant, stacked in this order in weight_ih / weight_hh / biases.
BLOCKS: dict[str, tuple[str, ...]] = {
    "vanilla": ("i", "f", "g", "o"),   # torch.nn.LSTM
    "peephole": ("i", "f", "g", "o"),  # z_i, z_f see c_{t-1}, z_o sees c_t (Gers 2000)
    "cifg": ("i", "g", "o"),           # coupled input-forget gate: f = 1 - i
    "nig": ("f", "g", "o"),            # no input gate: i = 1
    "nfg": ("i", "g", "o"),            # no forget gate: f = 1
    "nog": ("i", "f", "g"),            # no output gate: o = 1
    "niaf": ("i", "f", "g", "o"),      # no input activation: g = z_g
    "noaf": ("i", "f", "g", "o"),      # no output activation: h = o * c
    "gru": ("r", "z", "n"),            # torch.nn.GRU
    "rnn": ("h",),                     # torch.nn.RNN (tanh)
}

VARIANTS: tuple[str, ...] = tuple(BLOCKS)
LSTM_VARIANTS: tuple[str, ...] = tuple(v for v in VARIANTS if v not in ("gru", "rnn"))

TITLES: dict[str, str] = {
    "vanilla": "LSTM (torch.nn.LSTM)",
    "peephole": "LSTM with peepholes",
    "cifg": "coupled input-forget gate (CIFG)",
    "nig": "no input gate",
    "nfg": "no forget gate",
    "nog": "no output gate",
    "niaf": "no input activation",
    "noaf": "no output activation",
    "gru": "GRU (torch.nn.GRU)",
    "rnn": "plain RNN (torch.nn.RNN, tanh)",
}


def check_variant(variant: str) -> str:
    """Return ``variant`` if it is known, else raise ``ValueError`` listing the known ones."""
    if variant not in BLOCKS:
        raise ValueError(f"unknown variant {variant!r}; choose one of {', '.join(VARIANTS)}")
    return variant


def is_lstm(variant: str) -> bool:
    """True for the LSTM family (everything but gru and rnn): it has a cell state c."""
    return variant in LSTM_VARIANTS


def trace_names(variant: str, proj: bool = False) -> tuple[str, ...]:
    """The quantities ``Trace.get`` holds for one layer and direction of ``variant``."""
    if variant == "gru":
        return ("r", "z", "n", "h")
    if variant == "rnn":
        return ("h",)
    z = tuple(f"z_{k}" for k in BLOCKS[variant])
    return ("i", "f", "g", "o", "c", *(("m",) if proj else ()), "h", *z)
