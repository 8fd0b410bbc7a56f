"""The NumPy core: the LSTM family, GRU and RNN with torch.nn.LSTM's interface, traces and BPTT.

NumPy only: no streamlit, plotly or torch here (torch is touched only through objects handed in).
"""

from .interventions import Intervention
from .params import Config, param_shapes
from .recurrent import Recurrent
from .trace import Gradients, Trace
from .variants import (
    BLOCKS,
    LSTM_VARIANTS,
    TABLE,
    TITLES,
    VARIANTS,
    Variant,
    is_lstm,
    trace_names,
    variant,
)

__all__ = [
    "BLOCKS", "LSTM_VARIANTS", "TABLE", "TITLES", "VARIANTS", "Config", "Gradients", "Intervention",
    "Recurrent", "Trace", "Variant", "is_lstm", "param_shapes", "trace_names", "variant",
]
