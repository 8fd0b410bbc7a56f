"""The variant table: one row per cell of the recurrent family, read by every other module.

Greff et al. 2017, "LSTM: A Search Space Odyssey", define the LSTM variants; their "vanilla" has
peepholes, which here is ``"peephole"``. ``"vanilla"`` is ``torch.nn.LSTM``.

Adding a variant: one row here. The forward and backward steps (``forward.lstm_layer``,
``backward.lstm_layer_backward``) and the torch reference (``lstm_viz.torchref``) build the cell
from the row's fields (``fixed``, ``coupled``, the two activations, ``peephole``); only a rule no
field says yet needs a new field and its line in those three places. The parity tests parametrise
over ``VARIANTS``, so the new row is checked against torch at once. Everything else (loaders,
equations, explanations, the diagram, the pages, the tests) reads this table.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ACTIVATIONS = ("tanh", "identity")     # of the candidate g and of c in h = o * act(c)


@dataclass(frozen=True)
class Variant:
    """One cell of the family: what its weights hold and how its step computes (SPEC §1)."""

    name: str                          # the ``variant=`` string
    title: str                         # for people: "coupled input-forget gate (CIFG)"
    family: str                        # "lstm" (has a cell state c) | "gru" | "rnn"
    blocks: tuple[str, ...]            # gate blocks stacked in weight_ih / weight_hh, in order
    summary: str                       # one line: what differs from torch.nn.LSTM
    fixed: tuple[str, ...] = ()        # gates held at 1 (nig: i, nfg: f, nog: o)
    coupled: bool = False              # f = 1 - i (cifg)
    input_activation: str = "tanh"     # of the candidate g: "tanh" | "identity" (niaf)
    output_activation: str = "tanh"    # of c in h = o * act(c): "tanh" | "identity" (noaf)
    peephole: bool = False             # z_i, z_f see c_{t-1}, z_o sees c_t (weight_peephole)
    torch_class: str | None = None     # torch.nn.<class> that computes it, or None
    paper: str = ""                    # where it comes from
    derived: dict[str, str] = field(default_factory=dict)   # gate -> its rule, for people

    def __post_init__(self) -> None:
        """A row whose fields contradict each other is a mistake in the table: fail at import."""
        if self.family not in ("lstm", "gru", "rnn"):
            raise ValueError(f"variant {self.name!r}: unknown family {self.family!r}")
        for act in (self.input_activation, self.output_activation):
            if act not in ACTIVATIONS:
                raise ValueError(f"variant {self.name!r}: unknown activation {act!r}")
        if self.family != "lstm":
            return
        if not set(self.fixed) <= {"i", "f", "o"} or (self.coupled and "f" in self.fixed):
            raise ValueError(f"variant {self.name!r}: only i, f, o can be fixed; f once")
        held = {*self.fixed, *(("f",) if self.coupled else ())}
        if self.blocks != tuple(k for k in "ifgo" if k not in held):
            raise ValueError(f"variant {self.name!r}: blocks {self.blocks} do not match the "
                             f"gates it computes (fixed {self.fixed}, coupled {self.coupled})")
        if self.coupled and "i" in self.fixed:
            raise ValueError(f"variant {self.name!r}: f = 1 - i needs a computed i")

    @property
    def is_lstm(self) -> bool:
        return self.family == "lstm"


def _lstm(name: str, title: str, summary: str, blocks: tuple[str, ...] = ("i", "f", "g", "o"),
          **kw) -> Variant:
    derived = {k: "1" for k in kw.get("fixed", ())}
    if kw.get("coupled"):
        derived["f"] = "1 - i"
    return Variant(name, title, "lstm", blocks, summary, derived=derived, **kw)


TABLE: dict[str, Variant] = {v.name: v for v in (
    _lstm("vanilla", "LSTM (torch.nn.LSTM)", "torch.nn.LSTM: gates i, f, o; candidate g",
          torch_class="LSTM", paper="Hochreiter & Schmidhuber 1997; Gers et al. 2000"),
    _lstm("peephole", "LSTM with peepholes", "gates see the cell: i, f see c_{t-1}, o sees c_t",
          peephole=True, paper="Gers & Schmidhuber 2000"),
    _lstm("cifg", "coupled input-forget gate (CIFG)", "f = 1 - i: it forgets what it writes",
          blocks=("i", "g", "o"), coupled=True, paper="Greff et al. 2017"),
    _lstm("nig", "no input gate", "i = 1: every candidate is written",
          blocks=("f", "g", "o"), fixed=("i",), paper="Greff et al. 2017"),
    _lstm("nfg", "no forget gate", "f = 1: the cell never forgets",
          blocks=("i", "g", "o"), fixed=("f",), paper="Greff et al. 2017"),
    _lstm("nog", "no output gate", "o = 1: h = tanh(c)",
          blocks=("i", "f", "g"), fixed=("o",), paper="Greff et al. 2017"),
    _lstm("niaf", "no input activation", "g = z_g: the candidate is not squashed",
          input_activation="identity", paper="Greff et al. 2017"),
    _lstm("noaf", "no output activation", "h = o * c: the cell is not squashed",
          output_activation="identity", paper="Greff et al. 2017"),
    Variant("gru", "GRU (torch.nn.GRU)", "gru", ("r", "z", "n"),
            "torch.nn.GRU: reset r, update z, candidate n; no cell state",
            torch_class="GRU", paper="Cho et al. 2014"),
    Variant("rnn", "plain RNN (torch.nn.RNN, tanh)", "rnn", ("h",),
            "torch.nn.RNN: h = tanh(W x + U h), no gates", torch_class="RNN",
            paper="Elman 1990"),
)}

# Views of the table, for code that needs only one column.
BLOCKS: dict[str, tuple[str, ...]] = {name: v.blocks for name, v in TABLE.items()}
VARIANTS: tuple[str, ...] = tuple(TABLE)
LSTM_VARIANTS: tuple[str, ...] = tuple(n for n, v in TABLE.items() if v.is_lstm)
TITLES: dict[str, str] = {name: v.title for name, v in TABLE.items()}


def variant(name: str) -> Variant:
    """The table's row for ``name``; ``ValueError`` listing the known ones if there is none."""
    try:
        return TABLE[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown variant {name!r}; choose one of {', '.join(VARIANTS)}") from None


def torch_variants() -> dict[str, str]:
    """torch.nn class name -> the variant it computes ("LSTM" -> the torch.nn.LSTM row)."""
    return {v.torch_class: n for n, v in TABLE.items() if v.torch_class is not None}


def check_variant(name: str) -> str:
    """Return ``name`` if it is a known variant, else raise ``ValueError``."""
    return variant(name).name


def is_lstm(name: str) -> bool:
    """True for the LSTM family (everything but gru and rnn): it has a cell state c."""
    return name in LSTM_VARIANTS


def trace_names(name: str, proj: bool = False) -> tuple[str, ...]:
    """The quantities ``Trace.get`` holds for one layer and direction of variant ``name``."""
    v = variant(name)
    if v.family == "gru":
        return ("r", "z", "n", "h")
    if v.family == "rnn":
        return ("h",)
    z = tuple(f"z_{k}" for k in v.blocks)
    return ("i", "f", "g", "o", "c", *(("m",) if proj else ()), "h", *z)
