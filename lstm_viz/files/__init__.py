"""Reading and writing files: uploaded sequences and model weights, their checks, exports."""
