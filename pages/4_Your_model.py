"""Your model: upload a model file, see what it holds, hand it to the other pages."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import io
from typing import Any

import streamlit as st

from lstm_viz.core import TABLE, TITLES
from lstm_viz.files.sequence import Sequence
from lstm_viz.training.tasks import TASKS
from lstm_viz.ui import page
from lstm_viz.ui.failures import shown_as_message
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.your_model_view import (
    MODEL_TYPES,
    build,
    config_table,
    extras_lines,
    inspect,
    on_pick,
    on_upload,
    on_variant,
    pick_options,
    shown_pick,
    tensors_table,
)
from lstm_viz.workbench import Model, fits, torch_call

SAVE_HOWTO = '''\
import torch

# a state_dict, a checkpoint or the whole model:
torch.save(model.state_dict(), "model.pt")
torch.save({"tokens": chars, "state_dict": model.state_dict()}, "char_rnn.net")

# or without pickle at all:
from safetensors.torch import save_file
save_file(model.state_dict(), "model.safetensors")
'''

loaded = page("Your model")
ss = st.session_state


# -- small non-UI helpers -------------------------------------------------------------------------

def example_state_dict() -> bytes:
    """A small ``nn.LSTM(2, 8)`` state_dict (seeded) as the bytes of a .pt file."""
    import torch
    from torch import nn

    with torch.random.fork_rng():
        torch.manual_seed(0)
        lstm = nn.LSTM(2, 8)
    buf = io.BytesIO()
    torch.save(lstm.state_dict(), buf)
    return buf.getvalue()


def current_sequence(loaded_seq: Sequence) -> Sequence:
    """The sequence the person chose in the sidebar (their upload, when there is one)."""
    uploaded = ss.get("uploaded_sequence")
    if ss.get("seq_source") == "upload" and uploaded is not None:
        return uploaded
    return loaded_seq


# -- the page ------------------------------------------------------------------------------------

st.title("Your model")
st.markdown("### Bring your own recurrent model")
st.markdown(
    "Upload a **PyTorch** file (`.pt .pth .bin .ckpt .net`: a state_dict, a training "
    "checkpoint, a whole saved model, a char-RNN with its tokens), **safetensors**, **npz**, "
    "**Keras** (`.keras .h5`) or **ONNX** (`.onnx`). Nothing in the file is run: whole saved "
    "models are read by a restricted unpickler. The page lists every tensor and what it is used "
    "for: the recurrent module, the embedding that feeds it, the head that reads it.")
left, right = st.columns([1, 1], gap="large")
with left:
    st.code(SAVE_HOWTO, language="python", wrap_lines=True)
with right:
    st.file_uploader("Your model file (" + ", ".join("." + t for t in MODEL_TYPES) + ")",
                     type=MODEL_TYPES, key="w_ym_upload", on_change=on_upload)
    st.markdown("No model at hand? Try the flow with a small one:")
    st.download_button("Download an example state_dict", data=example_state_dict,
                       file_name="lstm_example.pt", mime="application/octet-stream",
                       on_click="ignore", help="nn.LSTM(input_size=2, hidden_size=8), seed 0: "
                       "it fits the brackets and adding tasks (2 features).")
    custom: Model | None = ss.get("custom_model")
    if custom is not None:
        st.caption(f"The model you inspect now: **{plain(custom.label, 120)}**"
                   + ("" if ss["model_kind"] == "custom" else " (not selected in the sidebar)"))

data: dict[str, Any] | None = ss.get("ym_file")
if ss.get("ym_error"):
    st.error(ss["ym_error"])
    kept = ([f"the last file that loaded, {plain(data['name'], 60)}, is still shown below"]
            if data else [])
    if custom is not None:
        kept.append(f"the model you inspect stays {plain(custom.label, 120)}")
    if kept:
        st.caption("Nothing was lost: " + "; ".join(kept) + ".")
if data is None:
    st.info("No file yet: upload your model (or the example) to see what it holds.")
    st.stop()

# -- what this file holds -------------------------------------------------------------------------
mf = data["mf"]
st.subheader(f"What {plain(data['name'], 60)} holds")
options = pick_options(mf)
fit_list: list[str] = mf.variants or [mf.recurrent.variant]
if ss.get("ym_variant") not in fit_list:
    ss["ym_variant"] = fit_list[0]
pick_col, variant_col = st.columns([1, 1], gap="large")
if len(options) <= 1:                  # one module: the variant picker takes the first column
    variant_col = pick_col
else:
    ss["w_ym_pick"] = mf.picked
    pick_col.selectbox("Recurrent module", options, key="w_ym_pick", on_change=on_pick,
                       format_func=shown_pick,
                       help="The file holds several recurrent modules: pick the one to show "
                            "(or a stack of modules that chain).")
ss["w_ym_variant"] = ss["ym_variant"]
variant_col.selectbox("Variant", fit_list, key="w_ym_variant", on_change=on_variant,
                      format_func=lambda v: f"{v} · {TITLES[v]}"
                      + (" (inferred)" if v == fit_list[0] else ""),
                      help="Only the variants these tensor shapes fit. The file cannot tell "
                           "them apart: pick the one your model is.")
if len(fit_list) > 1:
    variant_col.caption("These shapes fit " + ", ".join(fit_list) + ": same tensor names, same "
                        "shapes, so the file cannot say which one it is. Pick another if your "
                        "model is one of the variants.")

with shown_as_message("building a model from these weights"):     # one sentence, then stop
    model = build(data["name"], mf, ss["ym_variant"])

c1, c2 = st.columns([2, 3])
with c1:
    st.markdown("**Configuration**")
    st.table(config_table(model.recurrent), hide_index=True)
    for line in extras_lines(model):
        st.markdown(line)
with c2:
    st.markdown(f"**Every tensor ({len(mf.tensors):,}) and its use**")
    if len(mf.tensors) <= 300:
        st.table(tensors_table(mf), hide_index=True)
    else:                          # a big checkpoint: a scrolling table
        st.dataframe(tensors_table(mf), hide_index=True, width="stretch", height=400)
st.markdown("**What was found**")
st.markdown("\n".join(f"- {plain(note, 400)}" for note in mf.notes))
st.markdown("The call that builds this recurrent module in torch:")
st.code(torch_call(model.recurrent), language="python")
if TABLE[model.variant].torch_class is None:
    st.caption("`make_torch_model` is in `lstm_viz.torchref.reference`: torch has no module "
               "for this variant, so the app ships a reference one.")

# -- does it fit the sequence? -------------------------------------------------------------------
seq = current_sequence(loaded.sequence)
need = model.recurrent.input_size
if fits(model, seq):
    how = "tokens through its embedding" if seq.meta.get("token_ids") is not None and (
        model.embedding is not None) else f"{need} feature{'s' if need != 1 else ''} per step"
    st.success(f"It reads {how}, like the current sequence ({plain(seq.name, 60)}, "
               f"{seq.length:,} steps).")
else:
    tasks = [t.name for t in TASKS.values() if t.input_size == need]
    text = (" or type text in the sidebar (Sequence), tokenised with the model's vocabulary"
            if model.vocab is not None else "")
    st.warning(
        f"This model reads **{need}** feature{'s' if need != 1 else ''} per step, but the current "
        f"sequence ({plain(seq.name, 60)}) has {seq.n_features}. To run it, upload a sequence "
        f"with {need} column{'s' if need != 1 else ''} in the sidebar (Sequence → my file: a CSV "
        f"with {need} columns, or a .npy of shape (T, {need})){text}"
        + (f", or pick a task with {need} features: {', '.join(tasks)}." if tasks else "."))

# -- hand it over --------------------------------------------------------------------------------
in_use = (custom is not None and custom.key == model.key and custom.label == model.label
          and ss["model_kind"] == "custom")
if in_use:
    st.success(f"Every page now shows **{plain(model.label, 120)}**.")
    st.page_link("app.py", label="Step through it")
else:
    st.button("Inspect this model", type="primary", on_click=inspect, args=(model,),
              help="Make it the sidebar's model (Weights → yours) on every page.")
