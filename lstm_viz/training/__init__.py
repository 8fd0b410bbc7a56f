"""Tasks, training (torch, imported lazily) and the shipped model zoo."""
