"""``quantity_heatmaps(per_unit=...)``: each row of c scaled to its own range, the colour bar
saying so, the hover the true value; gates stay on 0..1."""

from __future__ import annotations

import base64

import numpy as np

from lstm_viz.plots.heatmaps import quantity_heatmaps


def array(value) -> np.ndarray:
    if isinstance(value, dict):          # plotly's typed-array encoding
        raw = np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"])
        return raw.reshape(value["shape"]) if "shape" in value else raw
    return np.asarray(value, dtype=float)


def heatmaps(per_unit=()) -> dict:
    t = np.arange(30)
    c = np.stack([np.sin(t / 3) * s for s in (0.5, 10.0, -2.0)], axis=1).astype(np.float32)
    f = np.full((30, 3), 0.9, dtype=np.float32)
    fig = quantity_heatmaps({"f": f, "c": c}, step=0, per_unit=per_unit)
    return {tr.name: tr for tr in fig.data if tr.type == "heatmap"}, c


def test_each_row_of_c_is_scaled_to_its_own_range() -> None:
    traces, c = heatmaps(per_unit=("c", "f"))
    z = array(traces["c"].z)
    assert np.allclose(np.abs(z).max(axis=1), 1.0, atol=1e-6)         # every row reaches ±1
    assert np.allclose(z, (c / np.abs(c).max(axis=0)).T, atol=1e-6)
    assert (traces["c"].zmin, traces["c"].zmax, traces["c"].zmid) == (-1.0, 1.0, 0.0)
    assert "per unit" in traces["c"].colorbar.title.text
    assert "max|c|" in traces["c"].colorbar.title.text
    # the hover reads the true values, kept beside the scaled ones
    assert "%{customdata" in traces["c"].hovertemplate
    assert np.allclose(array(traces["c"].customdata), c.T, atol=1e-6)
    # a gate is never rescaled: 0..1, its values as they are
    assert (traces["f"].zmin, traces["f"].zmax) == (0.0, 1.0)
    assert np.allclose(array(traces["f"].z), 0.9)


def test_without_per_unit_one_scale_is_shared() -> None:
    traces, c = heatmaps()
    assert np.allclose(array(traces["c"].z), c.T)
    assert traces["c"].zmax >= 9.9 and traces["c"].customdata is None
    assert not (traces["c"].colorbar.title.text or "")
