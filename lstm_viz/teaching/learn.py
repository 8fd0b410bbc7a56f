"""What the Learn page says about the loaded model: the variant's introduction, the meaning shown
under each equation, and the PyTorch usage (the shapes table, a runnable snippet, the key
parameters) for the model with the options the page offers.

No UI: strings, rows and dicts. The variant's facts come from its row of the variant table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace

from lstm_viz.core import Recurrent, Variant, variant
from lstm_viz.teaching.equations import GATE_MEANING, PARAMETER_MEANING, shapes
from lstm_viz.teaching.explain import Explanation
from lstm_viz.workbench import torch_call

_CHANGES = "Highlighted: what changes against `torch.nn.LSTM`."


def intro(row: Variant) -> str:
    """One paragraph on the variant, above its equations."""
    if row.torch_class == "LSTM":
        return "This is the standard LSTM, exactly what `torch.nn.LSTM` computes."
    if row.peephole:
        return ("Peepholes let the three gates look at the cell state itself, not only at "
                f"$h_{{t-1}}$ (Gers & Schmidhuber 2000). {_CHANGES}")
    if row.coupled:
        return ("The coupled input-forget gate drops the forget gate's own weights: "
                f"$f_t = 1 - i_t$. {_CHANGES}")
    if row.family == "gru":
        return ("The GRU (`torch.nn.GRU`) has no separate cell state: two gates blend the "
                "previous hidden state with new content. Fewer weights, often as good.")
    if row.family == "rnn":
        return ("A plain RNN (`torch.nn.RNN`) has no gates and no cell: the whole memory is "
                "$h_t$, rewritten at every step. Section 3 shows why it forgets.")
    return ("One of the variants of Greff et al. (2017), *LSTM: A Search Space Odyssey*. "
            + _CHANGES)


def meaning(key: str, row: Variant) -> str | None:
    """The plain-language meaning shown under equation ``key``."""
    if row.family == "rnn":
        return ("The hidden state is the plain RNN's only memory: the new input and the old "
                "state are mixed and squashed at every step.")
    return GATE_MEANING.get(key)


def with_math(text: str) -> str:
    """Plain text with symbols like c_{t-1}, g_t, tanh(c_t) set as inline math."""
    def math(m: re.Match) -> str:
        sub = m.group(2) if m.group(2).startswith("{") else "{" + m.group(2) + "}"
        return f"${m.group(1)}_{sub}$"

    return re.sub(r"(?<![\w$])([A-Za-z])_(\{[^}]*\}|[a-z]{1,2}\b)", math, text)


def pre_activation_line(explained: Mapping[str, Explanation], name: str) -> str | None:
    """The sum of a gate's terms with their numbers, e.g. "z_f = W_if·x_t (0.84) + ..."."""
    ex = explained.get(name)
    if ex is None or ex.pre_activation is None:
        return None
    return next((t for t in ex.lines() if t.startswith(ex.pre_symbol + " =")), None)


# --------------------------------------------------------------------------- in PyTorch

HOLDS = {
    "x": "the input sequence",
    "h_0": "initial hidden state",
    "c_0": "initial cell state",
    "output": "h_t of the last layer, every step",
    "h_n": "last h_t of each layer and direction",
    "c_n": "last c_t of each layer and direction",
}


@dataclass(frozen=True)
class TorchUsage:
    """The model in PyTorch with the page's options: the constructor call, the tensor shapes."""

    rec: Recurrent
    length: int
    batch: int | None              # None: one unbatched sequence
    batch_first: bool
    bidirectional: bool
    with_hx: bool

    @property
    def native(self) -> str | None:
        """``torch.nn.LSTM`` (GRU, RNN) when torch has the variant, else None."""
        cls = variant(self.rec.variant).torch_class
        return f"torch.nn.{cls}" if cls else None

    @property
    def call(self) -> str:
        return torch_call(self.rec, batch_first=self.batch_first,
                          bidirectional=self.bidirectional)

    @property
    def shape(self) -> dict[str, tuple]:
        return shapes(self.rec, self.length, self.batch, batch_first=self.batch_first,
                      bidirectional=self.bidirectional, with_hx=self.with_hx)

    def symbolic(self, name: str) -> str:
        """The shape in torch's documentation letters (L, N, H_in, D, H_out, H_cell)."""
        feat = {"x": "H_in", "output": "D·H_out"}.get(name)
        if feat is not None:
            if self.batch is None:
                return f"(L, {feat})"
            return f"(N, L, {feat})" if self.batch_first else f"(L, N, {feat})"
        units = "H_cell" if name.startswith("c") else "H_out"
        return f"(D·layers, {units})" if self.batch is None else f"(D·layers, N, {units})"

    def rows(self) -> list[dict[str, str]]:
        """The shapes table: tensor, shape, in symbols, what it holds."""
        return [{"tensor": k, "shape": "(" + ", ".join(map(str, v)) + ")",
                 "in symbols": self.symbolic(k), "what it holds": HOLDS[k]}
                for k, v in self.shape.items()]

    def snippet(self) -> str:
        """A short runnable script building this model and printing the shapes of the table."""
        lstm = variant(self.rec.variant).is_lstm
        name = "lstm" if lstm else self.rec.variant
        shape = self.shape
        lines = ["import torch"]
        lines.append("from torch import nn" if self.native
                     else "from lstm_viz.torchref.reference import make_torch_model")
        lines += ["", f"{name} = {self.call}"]
        lines.append(f"x = torch.randn{shape['x']}   # {self.symbolic('x')}")
        args = "x"
        if self.with_hx:
            lines.append(f"h0 = torch.zeros{shape['h_0']}")
            if lstm:
                lines.append(f"c0 = torch.zeros{shape['c_0']}")
                args = "x, (h0, c0)"
            else:
                args = "x, h0"
        if lstm:
            lines.append(f"output, (h_n, c_n) = {name}({args})")
            lines.append("print(output.shape, h_n.shape, c_n.shape)")
            lines.append(f"# torch.Size({list(shape['output'])}) "
                         f"torch.Size({list(shape['h_n'])}) torch.Size({list(shape['c_n'])})")
        else:
            lines.append(f"output, h_n = {name}({args})")
            lines.append("print(output.shape, h_n.shape)")
            lines.append(f"# torch.Size({list(shape['output'])}) "
                         f"torch.Size({list(shape['h_n'])})")
        return "\n".join(lines)

    def parameters(self) -> list[dict[str, str]]:
        """The key constructor parameters: value here and what each means."""
        c = replace(self.rec.config, bidirectional=self.bidirectional)
        params = {"input_size": c.input_size, "hidden_size": c.hidden_size,
                  "num_layers": c.num_layers, "bias": c.bias, "batch_first": self.batch_first,
                  "bidirectional": self.bidirectional}
        if variant(c.variant).is_lstm:
            params["proj_size"] = c.proj_size
        return [{"parameter": k, "value here": str(v),
                 "what it means": with_math(PARAMETER_MEANING[k])} for k, v in params.items()]
