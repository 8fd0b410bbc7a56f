"""What a model file holds, in one shape for every format (torch, safetensors, npz, Keras, ONNX).

Each format's reader turns the bytes into ``FileContents``: the recurrent modules it found, in the
core's torch layout (SPEC §2), and what feeds them or reads them (an embedding, a vocabulary, a
linear head), with a line for every tensor saying what it is used for. ``read_model``
(``lstm_viz.files.model_file``) picks one module and builds the ``Recurrent``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class RecurrentModule:
    """One recurrent module of a file, converted to torch's names, layout and gate order."""

    path: str                       # where it sits in the file: "encoder", "lstm1", "" (bare)
    variant: str | None             # a row of the variant table when the format says it
                                    # (Keras LSTM -> "vanilla"); None: infer from the shapes
    state: dict[str, np.ndarray]    # torch names of this module alone: weight_ih_l0, ...
    cell: bool = False              # nn.LSTMCell-style weights: one layer, unrolled over time
    batch_first: bool = False


@dataclass
class FileContents:
    """Everything a model file holds that the app can use, and what it leaves out."""

    recurrent: list[RecurrentModule]
    embedding: np.ndarray | None = None                 # (V, input_size) feeding the first module
    vocab: list[str] | None = None                      # token strings in id order
    head: tuple[np.ndarray, np.ndarray | None] | None = None   # W (n_out, out_size), b
    tensors: dict[str, str] = field(default_factory=dict)      # every tensor -> its use
    notes: list[str] = field(default_factory=list)             # one sentence each
