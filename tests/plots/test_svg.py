"""The cell diagram as SVG markup (lstm_viz.plots.svg): valid, complete, placed like plotly."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from lstm_viz.plots.canvas import GATE_X, GATE_Y
from lstm_viz.plots.diagram import HEIGHT, VARIANTS, WIDTH, cell_diagram
from lstm_viz.plots.svg import figure_svg

NS = "{http://www.w3.org/2000/svg}"
VALUES = {"i": 0.5, "f": 0.9, "g": -0.1, "o": 0.3, "c": 0.5, "h": 0.2, "c_prev": 0.4,
          "h_prev": 0.1, "x": 0.25, "r": 0.2, "z": 0.3, "n": 0.1, "m": 0.05}


def plain(markup: str) -> str:
    """Annotation markup as the words it shows ("<b>c<sub>t</sub> = 1</b>" -> "ct = 1")."""
    text = re.sub(r"<br>", "", markup)
    text = re.sub(r"<[^>]+>", "", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def shown_texts(root: ET.Element) -> list[str]:
    return ["".join(el.itertext()) for el in root.iter(f"{NS}text")]


@pytest.mark.parametrize("projector", [False, True])
@pytest.mark.parametrize("variant", VARIANTS)
def test_every_shape_and_label_of_every_variant_is_drawn(variant: str, projector: bool) -> None:
    fig = cell_diagram(VALUES, variant, unit=3, step=7, projector=projector, width=760)
    layout = fig.to_plotly_json()["layout"]
    root = ET.fromstring(figure_svg(fig, label="diagram"))       # well-formed XML
    assert root.get("viewBox") == f"0 0 {layout['width']} {layout['height']}"
    shapes = [s for s in layout["shapes"] if s.get("visible", True)]
    drawn = [el for el in root if el.tag in (f"{NS}path", f"{NS}ellipse", f"{NS}rect")]
    assert len(drawn) == len(shapes) + 1                           # + the background
    arrows = [a for a in layout["annotations"] if a.get("showarrow")]
    assert len(root.findall(f"{NS}polygon")) == len(arrows)
    labels = [plain(a["text"]) for a in layout["annotations"] if a.get("text")]
    texts = shown_texts(root)
    assert sorted(texts) == sorted([*labels, plain(layout["title"]["text"])])


def test_shapes_land_where_plotly_puts_them() -> None:
    """The canvas keeps its aspect, centred in the plot area like plotly's constrain="domain":
    a circle at the canvas corner (0, 0) and one at (WIDTH, HEIGHT) span the plot area."""
    layout = cell_diagram(VALUES, "vanilla", width=1000).to_plotly_json()["layout"]
    layout.update(annotations=[], shapes=[
        {"type": "circle", "xref": "x", "yref": "y", "x0": -0.1, "x1": 0.1, "y0": -0.1, "y1": 0.1},
        {"type": "circle", "xref": "x", "yref": "y", "x0": WIDTH - 0.1, "x1": WIDTH + 0.1,
         "y0": HEIGHT - 0.1, "y1": HEIGHT + 0.1}])
    m = layout["margin"]
    area_w = layout["width"] - m["l"] - m["r"]
    area_h = layout["height"] - m["t"] - m["b"]
    scale = min(area_w / WIDTH, area_h / HEIGHT)
    left = m["l"] + (area_w - WIDTH * scale) / 2
    bottom = m["t"] + (area_h + HEIGHT * scale) / 2
    root = ET.fromstring(figure_svg({"layout": layout}))
    corner, far = root.findall(f"{NS}ellipse")
    assert float(corner.get("cx")) == pytest.approx(left, abs=0.01)
    assert float(corner.get("cy")) == pytest.approx(bottom, abs=0.01)     # y grows downwards
    assert float(far.get("cx")) - float(corner.get("cx")) == pytest.approx(WIDTH * scale, 0.01)
    assert float(corner.get("cy")) - float(far.get("cy")) == pytest.approx(HEIGHT * scale, 0.01)
    assert float(corner.get("rx")) == pytest.approx(0.1 * scale, abs=0.01)


@pytest.mark.parametrize("char", ["<", "&", ">", "\"", "'"])
def test_input_characters_that_are_markup_are_shown_as_text(char: str) -> None:
    fig = cell_diagram({**VALUES, "x": char}, "vanilla")
    root = ET.fromstring(figure_svg(fig, label=f'step with "{char}"'))
    assert any(char in t for t in shown_texts(root)), shown_texts(root)


def test_bold_and_subscripts_become_tspans() -> None:
    fig = cell_diagram(VALUES, "vanilla")
    svg = figure_svg(fig)
    assert '<tspan font-weight="bold">f = 0.90</tspan>' in svg
    assert re.search(r'<tspan[^>]*baseline-shift="-0.3em"[^>]*>t−1</tspan>', svg)
    dotted = [s for s in fig.layout.shapes if s.line.dash == "dot"]
    assert len(re.findall(r"stroke-dasharray", svg)) >= len(dotted)


@pytest.mark.parametrize(("variant", "name"), [("vanilla", "c"), ("vanilla", "f"),
                                               ("vanilla", "h"), ("gru", "z"), ("cifg", "f")])
def test_a_held_quantity_is_outlined_and_tagged(variant: str, name: str) -> None:
    plain_svg = figure_svg(cell_diagram(VALUES, variant, unit=3, step=7))
    fig = cell_diagram(VALUES, variant, unit=3, step=7, held={name: 8.0})
    root = ET.fromstring(figure_svg(fig))
    assert "held at 8.00" in shown_texts(root)
    outlines = [s for s in fig.layout.shapes if s.name == f"held_{name}"]
    assert len(outlines) == 1
    assert len(root.findall(f"{NS}rect")) == 2                    # the background + the outline
    assert len(ET.fromstring(plain_svg).findall(f"{NS}rect")) == 1


def test_the_outline_surrounds_the_held_gate_box() -> None:
    fig = cell_diagram(VALUES, "vanilla", held={"o": 0.0})
    outline = next(s for s in fig.layout.shapes if s.name == "held_o")
    assert outline.x0 < GATE_X["o"] - 0.95 < GATE_X["o"] + 0.95 < outline.x1
    assert outline.y0 < GATE_Y - 0.775 < GATE_Y + 0.775 < outline.y1


@pytest.mark.parametrize("variant", VARIANTS)
def test_without_a_hold_the_diagram_is_unchanged(variant: str) -> None:
    bare = figure_svg(cell_diagram(VALUES, variant, unit=1, step=2))
    assert figure_svg(cell_diagram(VALUES, variant, unit=1, step=2, held=None)) == bare
    assert figure_svg(cell_diagram(VALUES, variant, unit=1, step=2, held={})) == bare
    assert "held at" not in bare


# -- the backward direction (issue #15): the previous state comes from t + 1 --------------------

BACKWARD = {**VALUES, "previous": "t+1"}


@pytest.mark.parametrize("variant", VARIANTS)
def test_backward_labels_say_t_plus_1_and_forward_ones_t_minus_1(variant: str) -> None:
    back = shown_texts(ET.fromstring(figure_svg(cell_diagram(BACKWARD, variant))))
    fwd = shown_texts(ET.fromstring(figure_svg(cell_diagram(VALUES, variant))))
    assert not any("t−1" in t for t in back), back
    assert any("t+1" in t for t in back)
    assert not any("t+1" in t for t in fwd)
    assert sorted(t.replace("t+1", "t−1") for t in back) == sorted(fwd)  # only the index moved


def test_backward_peephole_and_state_labels() -> None:
    texts = shown_texts(ET.fromstring(figure_svg(cell_diagram(BACKWARD, "peephole"))))
    assert "ct+1 = 0.40" in texts and "ht+1 = 0.10" in texts and "f·ct+1 = 0.36" in texts
    assert any(t.startswith("peepholes") and t.endswith("ct+1") for t in texts)


def test_a_backward_unit_step_draws_t_plus_1() -> None:
    """The stepper's path: a bidirectional model's unit in direction 1 (UnitStep) -> t+1."""
    import numpy as np

    from lstm_viz.core import Recurrent
    from lstm_viz.teaching.step import unit_step

    rec = Recurrent(2, 3, bidirectional=True, variant="vanilla", seed=1)
    trace = rec.trace(np.random.default_rng(0).normal(size=(5, 2)).astype(np.float32))
    for direction, index in ((0, "t−1"), (1, "t+1")):
        numbers = unit_step(rec, trace, 2, 1, direction=direction)
        texts = shown_texts(ET.fromstring(figure_svg(cell_diagram(numbers, "vanilla"))))
        assert f"c{index} = " in " ".join(texts)
        assert all(e.prev_step == (1 if direction == 0 else 3)
                   for e in numbers.explanations.values() if e.prev_step is not None)
