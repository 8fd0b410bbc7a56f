"""The "Train" page, driven with Streamlit's AppTest: defaults, a tiny training run, hand-over."""

from __future__ import annotations

from conftest import click, open_page
from streamlit.testing.v1 import AppTest

from lstm_viz.training.tasks import TASKS

PAGE = "pages/5_Train.py"


def new_page() -> AppTest:
    return open_page(PAGE)


def tiny(at: AppTest, steps: int = 15, hidden: int = 4) -> AppTest:
    at.number_input(key="w_tr_steps").set_value(steps)
    at.select_slider(key="w_tr_hidden").set_value(hidden)
    at.run()
    return at


def metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_defaults_follow_the_sidebar_and_the_task():
    at = new_page()
    assert at.title[0].value == "Train a model"
    task = TASKS[at.session_state["task"]]
    assert at.selectbox(key="w_tr_task").value == task.name
    assert at.number_input(key="w_tr_steps").value == task.default_steps
    assert at.select_slider(key="w_tr_budget").value == 30
    assert "tr_result" not in at.session_state
    # another task: its own default size and steps
    at.selectbox(key="w_tr_task").set_value("text")
    at.run()
    assert at.number_input(key="w_tr_steps").value == TASKS["text"].default_steps
    assert at.select_slider(key="w_tr_hidden").value == TASKS["text"].default_hidden


def test_tiny_training_run_keeps_the_model():
    at = tiny(new_page(), steps=15, hidden=4)
    click(at, "Train now")
    assert not at.error
    model = at.session_state["custom_model"]
    assert at.session_state["model_kind"] == "custom"
    assert model.trained is not None and model.recurrent.hidden_size == 4
    assert model.label.startswith("trained here on brackets")
    shown = metrics(at)
    assert shown["Steps"] == "15 / 15"
    assert float(shown["Final loss"]) > 0
    assert "Held-out accuracy" in shown
    assert float(shown["Training time"].removesuffix(" s")) < 30
    assert any("Every page now shows" in s.value for s in at.success)
    # the sidebar now shows it
    assert at.sidebar.radio(key="w_model_kind").value == "custom"
    assert not at.sidebar.error


def test_training_another_task_switches_the_sidebar_to_it():
    at = new_page()
    at.selectbox(key="w_tr_task").set_value("sine")
    at.selectbox(key="w_tr_variant").set_value("gru")
    at.run()
    tiny(at, steps=10, hidden=4)
    click(at, "Train now")
    model = at.session_state["custom_model"]
    assert model.variant == "gru" and model.recurrent.input_size == 1
    assert at.session_state["task"] == "sine"
    assert not at.sidebar.error            # the sine example fits the 1-input model
    assert "R²" in " ".join(metrics(at))
    # a second run of the page still shows the result, and does not train again
    before = at.session_state["tr_result"]
    at.run()
    assert at.session_state["tr_result"] is before
    assert metrics(at)["Steps"] == "10 / 10"


def test_a_run_interrupted_by_a_click_is_kept_by_the_next_run():
    """A click stops the training script run; the model it had is kept by the next run.

    The stopped run leaves its model in ``tr_job`` (it may not write the session state); here a
    timer thread plays that run, finishing while the next run waits for it.
    """
    import threading

    from lstm_viz.training.train import train

    tm = train("brackets", "vanilla", hidden_size=4, steps=5, seed=1)
    at = new_page()
    job = {"status": "running", "losses": [1.0, 0.5, 0.25]}
    at.session_state["tr_job"] = job
    timer = threading.Timer(0.5, lambda: job.update(status="done", tm=tm))
    timer.start()
    at.run()
    timer.join()
    assert not at.exception, [e.value for e in at.exception]
    assert job["status"] == "kept"
    assert at.session_state["custom_model"].trained is tm
    assert at.session_state["model_kind"] == "custom"
    assert any("stopped at step 5" in w.value for w in at.warning)
    assert at.sidebar.radio(key="w_model_kind").value == "custom"   # the sidebar shows it now


def test_trainings_wait_for_a_free_slot_and_give_up_without_one(monkeypatch):
    """The server trains at most MAX_TRAININGS models at once: with every slot taken a run
    waits, says so, and gives up after the wait with a warning, training nothing; once a slot
    is free, the same click trains."""
    from lstm_viz.ui import training_slots

    monkeypatch.setattr(training_slots, "MAX_WAIT_S", 1.2)
    taken = 0
    while training_slots.acquire(lambda waited: None, max_wait_s=0):
        taken += 1
    assert taken == training_slots.MAX_TRAININGS
    try:
        at = tiny(new_page(), steps=5, hidden=2)
        click(at, "Train now")
        assert any("training slot" in w.value for w in at.warning), [w.value for w in at.warning]
        assert at.session_state["model_kind"] != "custom"
        assert "custom_model" not in at.session_state
    finally:
        for _ in range(taken):
            training_slots.release()
    click(at, "Train now")
    assert not at.warning and not at.error
    assert at.session_state["model_kind"] == "custom"
    assert training_slots.acquire(lambda waited: None, max_wait_s=0)   # the run gave it back
    training_slots.release()
