"""Two sessions inspecting the same weights as different variants each see their own numbers
(issue #11, item 3).

The issue's scenario on one server, two browser contexts: session A uploads the state_dict of
``nn.GRU(2, 5)`` on the Your model page and inspects it as what it is (gru); session B uploads
the very same file and inspects it as cifg (its tensors have the same names and shapes). The
server-wide trace cache used to key a user's model by its values alone, so B was shown A's GRU
trace ("h = -0.167", no gates) and a torch warning. Here B's Step-through page must show cifg's
gates (f, i, g, o, c, h), each exactly the NumPy core's cifg value at the step shown, and no
torch warning; A's page keeps A's GRU numbers.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from lstm_viz.files import loaders
from lstm_viz.workbench import example_sequence, model_from_state

from .conftest import (
    DEFAULT_TIMEOUT_MS,
    FAILED_404,
    assert_no_exception,
    is_subpage_probe,
    wait_for_app,
)

torch = pytest.importorskip("torch")

TIMEOUT_MS = 60_000
MAIN = '[data-testid="stMain"]'
HEADING = re.compile(r"Step (\d+) of (\d+)")
STEPPER = 'iframe[title*="lstm_viz_stepper"]'     # the stepper component draws the live view
RIGHT_NOW = re.compile(r"Unit (\d+) right now: (.*)")


def gru_file(path: Path) -> Path:
    torch.manual_seed(0)
    buf = io.BytesIO()
    torch.save(torch.nn.GRU(2, 5).state_dict(), buf)
    path.write_bytes(buf.getvalue())
    return path


class Session:
    """One browser context (one Streamlit session), its errors collected."""

    def __init__(self, browser, server: str) -> None:
        self.server = server
        self.context = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        opened: set[str] = set()       # as the ``page`` fixture: Streamlit's own sub-page probes
        self.page.on("framenavigated", lambda f: f == self.page.main_frame and opened.add(
            urlsplit(f.url).path))

        def on_console(msg) -> None:
            url = (msg.location or {}).get("url", "")
            if msg.type == "error" and not (
                    msg.text.startswith(FAILED_404) and is_subpage_probe(url, server, opened)):
                self.errors.append(f"console.error: {msg.text} [at {url}]")

        self.page.on("console", on_console)
        self.page.on("pageerror", lambda e: self.errors.append(f"pageerror: {e}"))

    def settle(self) -> None:
        wait_for_app(self.page, TIMEOUT_MS)
        assert_no_exception(self.page)

    def inspect(self, path: Path, variant: str) -> None:
        """Upload ``path`` on the Your model page, read it as ``variant``, make it the model."""
        self.page.goto(self.server + "/Your_model?step=0")
        self.settle()
        self.page.locator(f'{MAIN} input[type="file"]').set_input_files(str(path))
        self.page.get_by_text(f"What {path.name} holds").wait_for(timeout=TIMEOUT_MS)
        self.settle()
        picker = self.page.locator(MAIN).get_by_role("combobox", name="Variant")
        if not picker.input_value().startswith(f"{variant} · "):
            picker.click()
            self.page.get_by_role("option", name=re.compile(rf"^{variant} · ")).click()
            self.settle()
        expect(picker).to_have_value(re.compile(rf"^{variant} · "), timeout=TIMEOUT_MS)
        self.page.get_by_role("button", name="Inspect this model").click()
        self.page.get_by_text("Every page now shows").wait_for(timeout=TIMEOUT_MS)
        self.settle()
        expect(self.page.locator(MAIN)).to_contain_text(f"({variant}, 5 units)")

    def step_through(self) -> tuple[int, int, dict[str, str]]:
        """Go to the Step-through page (same session); (step, unit, {name: shown value})."""
        self.page.locator(MAIN).get_by_role("link", name="Step through it").click()
        heading = self.page.frame_locator(STEPPER).locator("#where")   # ui/stepper.py
        expect(heading).to_have_text(HEADING, timeout=TIMEOUT_MS)
        self.settle()
        return self.right_now()

    def right_now(self) -> tuple[int, int, dict[str, str]]:
        step = int(HEADING.search(self.page.frame_locator(STEPPER).locator(
            "#where").inner_text()).group(1))
        line = self.page.frame_locator(STEPPER).locator("#values")
        expect(line).to_have_count(1, timeout=TIMEOUT_MS)
        m = RIGHT_NOW.search(line.inner_text())
        values = dict(part.split(" = ") for part in m.group(2).split(" · "))
        return step, int(m.group(1)), values

    def next_step(self) -> None:
        step = self.right_now()[0]
        button = self.page.frame_locator(STEPPER).get_by_role("button", name="Next", exact=True)
        expect(button).to_have_count(1, timeout=TIMEOUT_MS)
        button.click()
        expect(self.page.frame_locator(STEPPER).locator("#where")).to_contain_text(
            f"Step {step + 1} of", timeout=TIMEOUT_MS)
        self.settle()

    def close(self) -> None:
        self.context.close()


def expected(variant: str, step: int, unit: int) -> dict[str, str]:
    """What the page must show: the NumPy core's values of the file read as ``variant``."""
    torch.manual_seed(0)
    state = {k: v.detach().numpy() for k, v in torch.nn.GRU(2, 5).state_dict().items()}
    model = model_from_state(state, loaders.infer_config(state, variant), "test")
    trace = model.recurrent.trace(example_sequence("brackets", seed=0).values)
    return {k: f"{float(trace.get(k)[step, 0, unit]):.3f}"
            for k in ("f", "i", "g", "o", "c", "h") if k in trace.names()}


def test_same_file_as_gru_and_as_cifg_in_two_sessions(browser, server, tmp_path):
    path = gru_file(tmp_path / "gru.pt")
    a, b = Session(browser, server), Session(browser, server)
    try:
        a.inspect(path, "gru")
        step_a, unit_a, shown_a = a.step_through()          # A's GRU trace is now cached
        assert shown_a == expected("gru", step_a, unit_a) and "f" not in shown_a

        b.inspect(path, "cifg")                              # the same bytes, read as cifg
        step_b, unit_b, shown_b = b.step_through()
        want = expected("cifg", step_b, unit_b)
        assert set(want) == {"f", "i", "g", "o", "c", "h"}
        assert shown_b == want, (shown_b, want)              # cifg's own gates, exactly
        # f = 1 − i, as cifg wires it (to the 3 decimals shown)
        assert abs(float(shown_b["f"]) + float(shown_b["i"]) - 1) <= 1.5e-3
        main_b = b.page.locator(MAIN).inner_text()
        assert "This model's numbers" not in main_b           # no torch warning on B's page
        assert "matches" in main_b                             # the badge: cifg's reference

        a.next_step()                                         # A reruns: still its own GRU
        step_a2, unit_a, shown_a = a.right_now()
        assert step_a2 == step_a + 1
        assert shown_a == expected("gru", step_a2, unit_a) and "f" not in shown_a
        assert a.errors == [] and b.errors == []
    finally:
        a.close()
        b.close()
