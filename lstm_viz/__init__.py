"""lstm-viz: see inside an LSTM."""

from lstm_viz.errors import InputError
from lstm_viz.files.model_file import read_model

__all__ = ["InputError", "read_model"]
