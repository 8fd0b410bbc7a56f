"""The computations behind the analysis views: gradient flow, gate saturation, unit search and
variant comparison.

Pure NumPy on top of :mod:`lstm_viz.core` (no streamlit, plotly or torch); the figures live in
:mod:`lstm_viz.plots.analysis`. Shapes: ``T`` steps, ``I`` input features, ``H`` cell units
(``hidden_size``), ``R`` hidden units (``proj_size or hidden_size``), ``D`` directions, ``O`` head
outputs. Every per-step array is time-major and indexed by position in the sequence.

* :mod:`.gradients` — :func:`gradient_flow`: how far back the gradient of a loss at one step
  reaches: ‖∂L/∂h_t‖, ‖∂L/∂c_t‖ and the forget-gate product ∏ f along the cell's path (the gain
  of the constant error carousel, Hochreiter & Schmidhuber 1997).
* :mod:`.gates` — :func:`saturation`: per unit, how often each gate is left-saturated (< 0.1) or
  right-saturated (> 0.9), after Karpathy, Johnson & Fei-Fei 2015, "Visualizing and understanding
  recurrent networks"; :func:`gate_summary`: mean and spread of each gate, for captions.
* :mod:`.units` — :func:`unit_search` and :func:`context`: the units that are on over a selected
  range and off around it, and the other places where they are on together, after LSTMVis
  (Strobelt et al. 2018); :func:`suggest_range`: a range where some unit switches on and off;
  :func:`threshold_range`: the threshold slider's range and default.
* :mod:`.compare` — :func:`compare_variants` and :func:`cell_difference`: several models on one
  sequence: traces, states and per-step task loss; :func:`peephole_reach`,
  :func:`coupling_gap` and :func:`gate_sum_range`: what a variant's wiring does on a run.

* :mod:`.attribution` — :func:`attribute` (SPEC §6): which inputs drove an output, by the
  gradient, gradient × input, integrated gradients or occlusion.
* :mod:`.decomposition` — :func:`contextual_decomposition` (Murdoch, Liu & Yu 2018): the score
  split exactly into the part from a phrase of steps and the rest, for the LSTM family;
  :func:`decomposition_strip`: the part of each single step.

Every public name is importable from ``lstm_viz.analysis`` itself.
"""

from .attribution import METHODS as ATTRIBUTION_METHODS
from .attribution import attribute
from .compare import (
    Head,
    VariantRun,
    cell_difference,
    compare_variants,
    coupling_gap,
    gate_sum_range,
    peephole_reach,
    step_losses,
)
from .decomposition import MEANING as DECOMPOSITION_MEANING
from .decomposition import contextual_decomposition, decomposition_strip
from .gates import Saturation, gate_names, gate_summary, saturation
from .gradients import GradientFlow, compare_gradient_flow, forget_path_product, gradient_flow
from .units import (
    Match,
    UnitSearchResult,
    context,
    runs,
    suggest_range,
    threshold_range,
    unit_search,
)

__all__ = [
    "ATTRIBUTION_METHODS", "GradientFlow", "Head", "Match", "Saturation", "UnitSearchResult",
    "VariantRun", "attribute", "cell_difference", "compare_gradient_flow", "compare_variants",
    "context", "coupling_gap", "forget_path_product", "gate_names", "gate_sum_range",
    "gate_summary", "gradient_flow", "peephole_reach", "runs", "saturation", "step_losses",
    "suggest_range", "threshold_range", "unit_search",
    "DECOMPOSITION_MEANING", "contextual_decomposition", "decomposition_strip",
]
