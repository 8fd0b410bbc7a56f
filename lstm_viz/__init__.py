"""lstm-viz: see inside an LSTM."""
