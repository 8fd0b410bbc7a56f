"""Parameter names and shapes, exactly as torch.nn.LSTM / GRU / RNN name them (SPEC §2)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .variants import BLOCKS, is_lstm, variant


@dataclass(frozen=True)
class Config:
    """Everything that fixes the parameter shapes of a model."""

    input_size: int
    hidden_size: int
    num_layers: int = 1
    bias: bool = True
    bidirectional: bool = False
    proj_size: int = 0
    variant: str = "vanilla"

    @property
    def num_directions(self) -> int:
        return 2 if self.bidirectional else 1

    @property
    def real_hidden_size(self) -> int:
        """Units of h: ``proj_size`` when projecting, else ``hidden_size``."""
        return self.proj_size or self.hidden_size

    @property
    def gate_rows(self) -> int:
        """Rows of weight_ih: one block of ``hidden_size`` per gate."""
        return len(BLOCKS[self.variant]) * self.hidden_size

    def layer_input_size(self, layer: int) -> int:
        return self.input_size if layer == 0 else self.num_directions * self.real_hidden_size


def suffix(layer: int, direction: int) -> str:
    """``"l0"``, ``"l1_reverse"``, ... as torch appends to parameter names."""
    return f"l{layer}" + ("_reverse" if direction == 1 else "")


def param_shapes(cfg: Config) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every parameter, in torch's order."""
    shapes: dict[str, tuple[int, ...]] = {}
    H, R = cfg.hidden_size, cfg.real_hidden_size
    for layer in range(cfg.num_layers):
        for d in range(cfg.num_directions):
            s = suffix(layer, d)
            shapes[f"weight_ih_{s}"] = (cfg.gate_rows, cfg.layer_input_size(layer))
            shapes[f"weight_hh_{s}"] = (cfg.gate_rows, R)
            if cfg.bias:
                shapes[f"bias_ih_{s}"] = (cfg.gate_rows,)
                shapes[f"bias_hh_{s}"] = (cfg.gate_rows,)
            if cfg.proj_size > 0:
                shapes[f"weight_hr_{s}"] = (cfg.proj_size, H)
            if variant(cfg.variant).peephole:
                shapes[f"weight_peephole_{s}"] = (3, H)
    return shapes


def init_params(cfg: Config, dtype: np.dtype, seed: int | None) -> dict[str, np.ndarray]:
    """torch's initialisation: uniform(-1/√hidden, 1/√hidden); peepholes start at 0."""
    rng = np.random.default_rng(seed)
    k = 1.0 / np.sqrt(cfg.hidden_size)
    params = {}
    for name, shape in param_shapes(cfg).items():
        if name.startswith("weight_peephole"):
            params[name] = np.zeros(shape, dtype=dtype)
        else:
            params[name] = rng.uniform(-k, k, size=shape).astype(dtype)
    return params


def check_config(cfg: Config) -> None:
    """Raise ``ValueError`` for a configuration torch would refuse."""
    for name in ("input_size", "hidden_size", "num_layers"):
        if int(getattr(cfg, name)) < 1:
            raise ValueError(f"{name} must be at least 1, got {getattr(cfg, name)}")
    if cfg.proj_size < 0:
        raise ValueError(f"proj_size must be >= 0, got {cfg.proj_size}")
    if cfg.proj_size and not is_lstm(cfg.variant):
        raise ValueError(f"proj_size is only for the LSTM family, not {cfg.variant!r}")
    if cfg.proj_size >= cfg.hidden_size and cfg.proj_size:
        raise ValueError(
            f"proj_size ({cfg.proj_size}) must be smaller than hidden_size ({cfg.hidden_size})"
        )
