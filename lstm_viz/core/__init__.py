"""The NumPy core: the LSTM family, GRU and RNN with torch.nn.LSTM's interface, traces and BPTT.

NumPy only: no streamlit, plotly or torch here (torch is touched only through objects handed in).
"""

from .params import Config, param_shapes
from .recurrent import Recurrent
from .trace import Gradients, Trace
from .variants import BLOCKS, LSTM_VARIANTS, TITLES, VARIANTS, is_lstm, trace_names

__all__ = [
    "BLOCKS", "LSTM_VARIANTS", "TITLES", "VARIANTS", "Config", "Gradients", "Recurrent", "Trace",
    "is_lstm", "param_shapes", "trace_names",
]
