"""Torch as a reference: modules written from the SPEC's equations, and the visible check."""
