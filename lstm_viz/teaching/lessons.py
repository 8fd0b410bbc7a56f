"""The evidence of the Learn page's section 3, from the shipped models: how far back the gradient
of an answer survives (LSTM against RNN), how a trained LSTM does on longer sequences than it saw,
and the sentences that read the numbers. NumPy only; the page caches these and draws them with
:mod:`lstm_viz.plots.lessons`.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from lstm_viz.analysis import gradient_flow
from lstm_viz.core import Config, param_shapes
from lstm_viz.training.tasks import TASKS
from lstm_viz.training.zoo import held_out, load_shipped
from lstm_viz.workbench import example_sequence, model_from_trained

GRADIENT_STEPS = 100                   # the gradient figure's sequence length
LENGTH_FACTORS = (1, 2, 4, 8)          # times the training length, for the "it fails" figure
EVAL_SEQUENCES = 200                   # held-out sequences per length
LSTM_CELL = "LSTM, through the cell ‖∂L/∂c<sub>t</sub>‖"
LSTM_H = "LSTM, ‖∂L/∂h<sub>t</sub>‖"
RNN_H = "RNN, ‖∂L/∂h<sub>t</sub>‖"


def gradient_survival(length: int = GRADIENT_STEPS) -> dict[str, np.ndarray]:
    """‖∂L/∂c_t‖, ‖∂L/∂h_t‖ relative to the loss step, for the shipped remember models vanilla
    and rnn, on the task's example of ``length`` steps (the loss: the logit of the right symbol
    at the last step)."""
    x = example_sequence("remember", seed=0, length=length)
    target = int(np.asarray(x.meta["target"]))
    flows = {}
    for v in ("vanilla", "rnn"):
        tm = load_shipped("remember", v)
        flows[v] = gradient_flow(tm.recurrent(), x.values, head_weight=tm.head_weight,
                                 target_class=target)
    return {LSTM_CELL: flows["vanilla"].relative("dc"), LSTM_H: flows["vanilla"].relative("dh"),
            RNN_H: flows["rnn"].relative("dh")}


def metric_by_length(task_name: str, factors: tuple[int, ...] = LENGTH_FACTORS,
                     n: int = EVAL_SEQUENCES) -> tuple[tuple[int, ...], tuple[float, ...]]:
    """The shipped vanilla model's held-out metric at ``factors`` × its longest training
    sequence, on ``n`` sequences per length."""
    tm = load_shipped(task_name, "vanilla")
    task = TASKS[task_name]
    lengths = tuple(int(task.train_length[1]) * k for k in factors)
    values = []
    for length in lengths:
        x, y = held_out(task, seed=12_345, n=n, length=length)
        values.append(float(task.metric(tm.predict(x), y)))
    return lengths, tuple(values)


def shipped_key(task_name: str, v: str) -> str:
    """The content key of the shipped model ``task_name`` / ``v`` (keys the page's caches)."""
    return model_from_trained(load_shipped(task_name, v)).key


def first_zero(values: np.ndarray) -> int | None:
    """The latest step where a relative gradient is exactly 0 (float32 underflow), if any."""
    zeros = np.flatnonzero(np.asarray(values) == 0)
    return int(zeros[-1]) if zeros.size else None


def gradient_caption(curves: dict[str, np.ndarray], accuracy: dict[str, float],
                     steps: int = GRADIENT_STEPS) -> str:
    """What the gradient figure shows, with its numbers."""
    lstm_c, lstm_h, rnn = curves[LSTM_CELL], curves[LSTM_H], curves[RNN_H]
    gone = first_zero(rnn)
    rnn_text = (f"the RNN's is exactly 0 (below float32's range) from step {gone} back"
                if gone is not None else f"the RNN's is {rnn[0]:.0e}")
    return ("Both models were trained on the remember task; the loss is the answer at the last "
            f"of {steps} steps. At step 0 the LSTM still gets {lstm_c[0]:.0e} of the gradient "
            f"through its cell (‖∂L/∂c‖) and {lstm_h[0]:.0e} "
            f"through h; {rnn_text}. So the RNN never learned the task: held-out accuracy "
            f"{accuracy['rnn']:.0%} (chance is 25%), the LSTM {accuracy['vanilla']:.0%}.")


def lengths_caption(rem_len: tuple[int, ...], rem_acc: tuple[float, ...],
                    add_len: tuple[int, ...], add_err: tuple[float, ...]) -> str:
    """What the longer-sequences figure shows, and why when the adding LSTM fails."""
    text = (f"Both LSTMs saw sequences of at most {rem_len[0]} (remember) and {add_len[0]} "
            f"(adding) steps in training; {EVAL_SEQUENCES} new sequences per length. "
            f"Remember: {rem_acc[0]:.0%} at {rem_len[0]} steps, {rem_acc[-1]:.0%} at "
            f"{rem_len[-1]}. Adding: error {add_err[0]:.2f} at {add_len[0]} steps, "
            f"{add_err[-1]:.2f} at {add_len[-1]} (guessing 1.0 every time gives 0.33).")
    if rem_acc[-1] >= 0.95 and add_err[-1] > 2 * add_err[0]:
        text += (" Holding one symbol is a latch (a forget gate saturated at 1) and works at "
                 "any length. Keeping a sum is not: a forget gate of 0.99 keeps 60% of a number "
                 "over 50 steps but 2% over 400, and small leaks of the input gate at unmarked "
                 "steps add up. Nothing forces a trained LSTM to find the rule that works for "
                 "every length.")
    return text


def parameter_counts(config: Config) -> tuple[int, int]:
    """(LSTM, plain RNN) parameter counts at ``config``'s sizes."""
    n_lstm = sum(int(np.prod(v)) for v in param_shapes(replace(config, variant="vanilla")
                                                        ).values())
    n_rnn = sum(int(np.prod(v)) for v in param_shapes(replace(config, variant="rnn",
                                                              proj_size=0)).values())
    return n_lstm, n_rnn
