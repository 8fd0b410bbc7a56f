"""The landing page's first screen: it opens on the unit that tells the task's lesson, says why,
draws the diagram before the torch badge, and scales c's heatmap rows each to its own range."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conftest import open_page

REPO = Path(__file__).resolve().parents[2]
# Every import statement of every page, run in a fresh interpreter, then the telling unit measured:
# torch must not be among the modules loaded (the badge loads it later, in the background).
IMPORTS_ONLY = """
import ast, pathlib, sys
for page in [pathlib.Path("app.py"), *sorted(pathlib.Path("pages").glob("*.py"))]:
    for node in ast.parse(page.read_text()).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            exec(compile(ast.Module([node], []), str(page), "exec"))
from lstm_viz.analysis.lesson_unit import shipped_telling_unit
shipped_telling_unit("brackets", "vanilla")
print(sorted(m for m in sys.modules if m == "torch" or m.startswith("torch.")))
"""


def order(at, needle: str) -> int:
    """Position in the main area of the first element whose value holds ``needle``."""
    return next(k for k, el in enumerate(at.main) if needle in value(el))


def value(el) -> str:
    try:
        return str(el.value)
    except Exception:           # a container: no value
        return ""


def first(at, needle: str) -> str:
    return next(value(el) for el in at.main if needle in value(el))


def test_brackets_opens_on_the_counting_unit_and_says_why() -> None:
    at = open_page()
    assert at.session_state["task"] == "brackets"
    assert at.session_state["unit"] == 4
    assert at.session_state["key_quantity"] == "c"
    assert at.query_params["unit"] in ("4", ["4"])
    [line] = [m.value for m in at.markdown if "counts open brackets" in m.value]
    assert "Unit 4's c counts open brackets (r = 0.9" in line
    assert 'aria-label="cell diagram of unit 4' in first(at, "cell diagram")


def test_an_explicit_unit_in_the_link_wins() -> None:
    at = open_page(query={"task": "brackets", "variant": "vanilla", "unit": "2"})
    assert at.session_state["unit"] == 2
    assert at.session_state["key_quantity"] == "c"


def test_the_key_quantity_follows_the_model() -> None:
    at = open_page(query={"task": "sine", "variant": "gru"})
    assert at.session_state["key_quantity"] == "h"          # a GRU has no cell state
    assert at.session_state["unit"] == 5                      # measured: r = 1.00 with the wave


def test_the_torch_badge_comes_after_the_diagram() -> None:
    at = open_page()
    diagram = order(at, "cell diagram")
    badge = order(at, "against torch") if not any(
        "matches torch" in c.value for c in at.caption) else order(at, "matches torch")
    assert diagram < badge
    assert badge > order(at, "Step 0 of")
    titles = [k for k, el in enumerate(at.main) if el.type == "title"]
    assert titles and titles[0] < diagram


def test_c_rows_are_scaled_per_unit_by_default_when_one_unit_dominates() -> None:
    at = open_page()
    [toggle] = [t for t in at.toggle if t.label.startswith("Scale each unit's row")]
    assert toggle.value is True
    spec = json.loads(at.session_state["_heatmaps"][1])
    [c] = [tr for tr in spec["data"] if tr.get("name") == "c"]
    assert "per unit" in c["colorbar"]["title"]["text"]
    assert (c["zmin"], c["zmax"]) == (-1.0, 1.0)
    toggle.set_value(False).run()
    spec = json.loads(at.session_state["_heatmaps"][1])
    [c] = [tr for tr in spec["data"] if tr.get("name") == "c"]
    assert c["zmax"] > 5 and "title" not in c["colorbar"]


def test_no_page_imports_torch_before_it_draws() -> None:
    out = subprocess.run([sys.executable, "-c", IMPORTS_ONLY], cwd=REPO, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_another_shipped_model_opens_on_its_own_telling_unit() -> None:
    at = open_page()
    at.selectbox(key="w_task").set_value("sine").run()
    assert (at.session_state["unit"], at.session_state["key_quantity"]) == (6, "c")
    at.radio(key="w_variant").set_value("gru").run()
    assert (at.session_state["unit"], at.session_state["key_quantity"]) == (5, "h")
    at.number_input(key="w_unit").set_value(2).run()          # the user's pick stays
    assert at.session_state["unit"] == 2
