"""Benchmarks (python -m lstm_viz.bench.core_speed.<name>): apart from the product code."""
