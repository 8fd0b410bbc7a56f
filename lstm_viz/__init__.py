"""lstm-viz: see inside an LSTM."""

from lstm_viz.errors import InputError
from lstm_viz.files.model_file import read_model
from lstm_viz.files.read_sequence import read_sequence

__all__ = ["InputError", "read_model", "read_sequence"]
