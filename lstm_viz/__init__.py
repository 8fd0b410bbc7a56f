"""lstm-viz: see inside an LSTM."""

from lstm_viz.files.read_sequence import read_sequence as read_sequence
