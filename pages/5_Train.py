"""Train: pick a task, a variant and a size, watch the loss fall, and keep the model."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import time
from typing import Any

import streamlit as st

from lstm_viz.core import TITLES, VARIANTS
from lstm_viz.plots.analysis import loss_curve
from lstm_viz.training.tasks import TASKS
from lstm_viz.ui import page, training_slots
from lstm_viz.ui.failures import report
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import bind
from lstm_viz.workbench import model_from_trained

HIDDEN_SIZES = (2, 4, 8, 16, 32, 64)
TIME_BUDGETS = (5, 10, 20, 30, 60, 120)   # seconds
DEFAULT_BUDGET_S = 30
LIVE_EVERY = 10                            # steps between live updates
LIVE_MIN_S = 0.5                           # and at least this long between chart redraws
COLLECT_WAIT_S = 20                        # how long a new run waits for an interrupted one

ss = st.session_state


def task_defaults(task: str) -> None:
    """Reset the size and the number of steps to the task's shipped training config."""
    t = TASKS[task]
    ss["tr_hidden"] = min(HIDDEN_SIZES, key=lambda h: abs(h - t.default_hidden))
    ss["tr_steps"] = int(t.default_steps)


def follow_sidebar() -> None:
    """The page's task defaults to the sidebar's, and follows it when that one changes."""
    if ss.get("tr_sidebar_task") != ss["task"]:
        ss["tr_sidebar_task"] = ss["task"]
        ss["tr_task"] = ss["task"]
        task_defaults(ss["task"])
    ss.setdefault("tr_variant", ss["variant"])
    ss.setdefault("tr_seed", 0)
    ss.setdefault("tr_budget", DEFAULT_BUDGET_S)


def pick_task() -> None:
    ss["tr_task"] = ss["w_tr_task"]
    task_defaults(ss["tr_task"])


def keep(tm, losses: list[float], interrupted: bool) -> None:
    """Store a trained model as the sidebar's "yours" model, on its task's example."""
    model = model_from_trained(tm, "trained here")
    ss["tr_result"] = {"tm": tm, "model": model, "losses": list(losses),
                       "interrupted": interrupted}
    use(model)


def use(model) -> None:
    ss["custom_model"] = model
    ss["model_kind"] = "custom"
    ss["task"] = model.trained.task
    ss["tr_sidebar_task"] = model.trained.task
    ss["step"] = 0
    ss["playing"] = False
    uploaded = ss.get("uploaded_sequence")
    if (ss.get("seq_source") == "upload" and uploaded is not None
            and uploaded.n_features != model.recurrent.input_size):
        ss["seq_source"] = "example"


def collect_interrupted_run() -> None:
    """Keep the model of a run that a click interrupted.

    A click while the script trains starts a new script run at once, and the old one is told to
    stop: at its next progress update the training callback returns False, ``train`` returns the
    model trained so far, and the old run leaves it in its job (a plain dict: a stopped run may
    not write to the session state). This run waits for it and keeps it.
    """
    job = ss.get("tr_job")
    if job is None or job["status"] == "kept":
        return
    deadline = time.monotonic() + COLLECT_WAIT_S
    while job["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.05)
    if job["status"] == "done":
        keep(job["tm"], job["losses"], interrupted=job.get("interrupted", True))
        job["status"] = "kept"
    elif job["status"] == "failed":
        ss["tr_error"] = job["error"]
        job["status"] = "kept"
    else:                                   # still running: give up waiting, never block again
        ss["tr_error"] = ("The interrupted training run did not finish in time, so its model "
                          "could not be kept: train again.")
        job["status"] = "kept"


def run_training(task: str, variant: str, hidden: int, steps: int, seed: int,
                 budget: float, stop_slot) -> None:
    """Train with a live progress bar and loss curve; keep the model even when interrupted."""
    from lstm_viz.training.train import train  # torch: imported only when someone trains

    stop_slot.button("Stop", key="tr_stop",
                     help="Stops training and keeps the model trained so far.")
    progress = st.progress(0.0, text="Starting (the first run also loads torch)…")
    chart = st.empty()
    projector = bool(ss["projector"])
    job: dict[str, Any] = {"status": "running", "losses": []}
    ss["tr_job"] = job
    ss["tr_error"] = None
    losses: list[float] = job["losses"]
    interrupted: list[BaseException] = []
    last_draw = [0.0]

    def callback(step: int, total: int, loss: float) -> bool:
        losses.append(loss)
        if step % LIVE_EVERY and step != total:
            return True
        try:
            progress.progress(step / total, text=f"Step {step} of {total} · loss {loss:.4g}")
            now = time.perf_counter()
            if now - last_draw[0] >= LIVE_MIN_S or step == total:
                last_draw[0] = now
                chart.plotly_chart(loss_curve(losses, title="Training loss (live)",
                                              projector=projector),
                                   key=f"tr_live_{step}", config={"displayModeBar": False})
        except BaseException as exc:  # a click stops this script run: stop training too
            interrupted.append(exc)
            return False
        return True

    try:
        tm = train(task, variant, hidden_size=hidden, steps=steps, seed=seed,
                   time_budget_s=budget, callback=callback)
    except Exception as exc:  # shown as an error, never a traceback
        job["error"] = report(exc, "training")       # one sentence; the traceback is logged
        job["status"] = "failed"          # after the error: another run may be reading it
        if interrupted:
            raise interrupted[0] from None
        collect_interrupted_run()
        st.rerun()
    job["tm"] = tm
    job["interrupted"] = bool(interrupted)
    job["status"] = "done"             # after the model: another run may be reading it
    if interrupted:
        raise interrupted[0]   # the next script run keeps the model (collect_interrupted_run)
    keep(tm, losses, interrupted=False)
    job["status"] = "kept"
    st.rerun()                 # redraw the sidebar with the new model


def show_result(res: dict[str, Any]) -> None:
    tm, meta = res["tm"], res["tm"].meta
    st.subheader("Result")
    done, planned = meta.get("steps", 0), meta.get("steps_planned", 0)
    if res["interrupted"]:
        st.warning(f"Training stopped at step {done} of {planned} (Stop, or another click "
                   "while it trained). The model trained up to then is kept.")
    elif meta.get("stopped_early") == "time budget":
        st.info(f"The time budget stopped training at step {done} of {planned}; the model "
                "trained so far is kept. Give it more time or fewer steps for a full run.")
    task = TASKS[tm.task]
    cols = st.columns(4)
    final = meta.get("final_loss")
    cols[0].metric("Final loss", "–" if final is None else f"{final:.4g}",
                   help="Mean training loss over the last steps.")
    value = tm.metric_value
    cols[1].metric(f"Held-out {tm.metric_name}", "–" if value is None else f"{value:.3g}",
                   help=f"On {meta.get('eval', {}).get('n', 'fresh')} sequences it never saw "
                        f"({'higher' if task.higher_is_better else 'lower'} is better).")
    cols[2].metric("Training time", f"{meta.get('train_seconds', 0):.1f} s")
    cols[3].metric("Steps", f"{done} / {planned}")
    if res["losses"]:
        st.plotly_chart(loss_curve(res["losses"], projector=bool(ss["projector"])),
                        key="tr_final")
    model = res["model"]
    current = ss.get("custom_model")
    if current is not None and current.key == model.key and ss["model_kind"] == "custom":
        st.success(f"Every page now shows **{plain(model.label, 120)}**, on the {task.title} "
                   "example.")
        st.page_link("app.py", label="Step through it")
    else:
        st.button("Inspect this model again", on_click=use, args=(model,),
                  help="Another model is selected now; make this one the sidebar's model.")


# -- the page ------------------------------------------------------------------------------------
collect_interrupted_run()    # before the sidebar, so that it shows the model that was kept
loaded = page("Train")
follow_sidebar()
st.title("Train a model")
st.markdown(
    "Train a small recurrent network on a built-in task, right here, with torch: a linear "
    "readout on h, Adam, gradient clipping. The result becomes the sidebar's model "
    "(Weights → yours), ready to step through on every page.")

c1, c2, c3 = st.columns(3)
with c1:
    ss["w_tr_task"] = ss["tr_task"]
    st.selectbox("Task", list(TASKS), key="w_tr_task", on_change=pick_task,
                 format_func=lambda t: TASKS[t].title)
    st.caption(TASKS[ss["tr_task"]].description)
with c2:
    st.selectbox("Variant", list(VARIANTS), **bind("tr_variant"),
                 format_func=lambda v: f"{v} · {TITLES[v]}")
    st.select_slider("Hidden units", HIDDEN_SIZES, **bind("tr_hidden"))
with c3:
    st.number_input("Training steps", 1, 5_000, step=50, **bind("tr_steps"),
                    help="One step = one batch of sequences. The task's default trains well.")
    st.number_input("Seed", 0, 10_000, **bind("tr_seed"),
                    help="Fixes the weights and the batches: the same seed trains the same model.")
c1, c2 = st.columns([1, 2], vertical_alignment="bottom")
c1.select_slider("Time budget", TIME_BUDGETS, **bind("tr_budget"),
                 format_func=lambda s: f"{s} s",
                 help="Training stops by itself after this long and keeps what it has.")
c2.caption("While it trains, **Stop** (or any other click) ends the run early: the model "
           "trained so far is kept and shown below.")

b1, b2, _ = st.columns([1, 1, 6])
go = b1.button("Train now", type="primary")
stop_slot = b2.empty()
if go:
    waiting = st.empty()
    got = training_slots.acquire(lambda waited: waiting.info(
        f"Waiting for a free training slot: this server trains {training_slots.MAX_TRAININGS} "
        f"model{'s' if training_slots.MAX_TRAININGS > 1 else ''} at a time ({waited:.0f} s)…"))
    waiting.empty()
    if not got:
        st.warning("Other sessions kept every training slot busy; nothing was trained. Try "
                   "again in a minute.")
    else:
        try:
            run_training(ss["tr_task"], ss["tr_variant"], int(ss["tr_hidden"]),
                         int(ss["tr_steps"]), int(ss["tr_seed"]), float(ss["tr_budget"]),
                         stop_slot)
        finally:
            training_slots.release()

if ss.get("tr_error"):
    st.error(ss["tr_error"])
if ss.get("tr_result") is not None:
    show_result(ss["tr_result"])
