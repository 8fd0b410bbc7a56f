"""Your model: upload an nn.LSTM state_dict, see what was inferred, hand it to the other pages."""

from __future__ import annotations

import lstm_viz.preload  # noqa: F401  (first on every page: no import race, see there)

# isort: split
import io
from typing import Any

import streamlit as st

from lstm_viz.core import TABLE, TITLES
from lstm_viz.files import loaders
from lstm_viz.files.loaders import fitting_variants
from lstm_viz.files.sequence import Sequence
from lstm_viz.training.tasks import TASKS
from lstm_viz.ui import page
from lstm_viz.ui.failures import report, shown_as_message
from lstm_viz.ui.safe_text import plain
from lstm_viz.ui.state import bind, set_value
from lstm_viz.workbench import Model, model_from_state, torch_call

MODEL_TYPES = ["pt", "pth", "safetensors", "npz"]
CONFIG_ROWS = ("variant", "input_size", "hidden_size", "num_layers", "bidirectional",
               "proj_size", "bias")

SAVE_HOWTO = '''\
import torch

# only the recurrent module's weights:
torch.save(lstm.state_dict(), "lstm.pt")

# inside a bigger model, just its LSTM:
torch.save(model.lstm.state_dict(), "lstm.pt")

# or without pickle at all:
from safetensors.torch import save_file
save_file(lstm.state_dict(), "lstm.safetensors")
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


# -- callbacks ----------------------------------------------------------------------------------

def read_model_file(name: str, data: bytes) -> None:
    """Parse an uploaded weights file into the page's state; on a problem keep what was there."""
    try:
        state = loaders.load_state_dict_file(name, data)
    except Exception as exc:               # InputError names the file already; MemoryError too
        ss["ym_error"] = report(exc, "reading the weights file")     # escaped for markdown
        return
    try:
        inferred, fits = fitting_variants(state)
    except Exception as exc:
        ss["ym_error"] = f"'{plain(name, 60)}': {report(exc, 'reading the weights file')}"
        return
    ss["ym_error"] = None
    ss["ym_file"] = {"name": name, "state": state, "inferred": inferred, "fits": fits}
    ss["ym_variant"] = inferred


def on_upload() -> None:
    file = ss.get("w_ym_upload")
    if file is not None:
        read_model_file(file.name, file.getvalue())


def inspect(model: Model) -> None:
    """Hand the model to every page: it becomes the sidebar's "yours" model."""
    ss["custom_model"] = model
    ss["playing"] = False
    set_value("model_kind", "custom")


# -- the page ------------------------------------------------------------------------------------

st.title("Your model")
st.markdown("### Bring your own `torch.nn.LSTM`")
st.markdown(
    "Save the **state_dict of the recurrent module only** (not the whole model: a pickled "
    "module is refused, because loading it could run code). `.pt` / `.pth` files are read with "
    "`torch.load(..., weights_only=True)`; `.safetensors` and `.npz` "
    "(`np.savez(\"lstm.npz\", **arrays)`) work too. GRU and RNN state_dicts and the LSTM "
    "variants of this app load the same way.")
left, right = st.columns([1, 1], gap="large")
with left:
    st.code(SAVE_HOWTO, language="python")
with right:
    st.file_uploader("Your weights (.pt, .pth, .safetensors or .npz)", type=MODEL_TYPES,
                     key="w_ym_upload", on_change=on_upload)
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
    st.info("No file yet: upload your weights (or the example) to see what they hold.")
    st.stop()

# -- what was inferred ----------------------------------------------------------------------------
st.subheader(f"What {plain(data['name'], 60)} holds")
fits: list[str] = data["fits"]
if ss.get("ym_variant") not in fits:
    ss["ym_variant"] = data["inferred"]
pick, note = st.columns([1, 1], gap="large")
pick.selectbox("Variant", fits, **bind("ym_variant"),
               format_func=lambda v: f"{v} · {TITLES[v]}"
               + (" (inferred)" if v == data["inferred"] else ""),
               help="Only the variants these tensor shapes fit. The file cannot tell them "
                    "apart: pick the one your model is.")
if len(fits) > 1:
    note.caption("These shapes fit " + ", ".join(fits) + ": same tensor names, same shapes, so "
                 "the file cannot say which one it is. The inferred one is the torch module "
                 "with these shapes; pick another if your model is one of the variants.")

with shown_as_message("building a model from these weights"):     # one sentence, then stop
    config = loaders.infer_config(data["state"], ss["ym_variant"])
    label = (f"yours: {data['name']} ({config['variant']}, {config['hidden_size']} units"
             f"{', ' + str(config['num_layers']) + ' layers' if config['num_layers'] > 1 else ''})")
    model = model_from_state(data["state"], config, label)

c1, c2 = st.columns([2, 3])
with c1:
    st.markdown("**Configuration**")
    st.table({"setting": list(CONFIG_ROWS),
              "value": [str(config.get(k, "")) for k in CONFIG_ROWS]}, hide_index=True)
with c2:
    st.markdown("**Tensors**")
    st.table({"tensor": list(data["state"]),   # known torch names only (else no variant fits)
              "shape": [" × ".join(map(str, v.shape)) for v in data["state"].values()],
              "dtype": [str(v.dtype) for v in data["state"].values()],
              "values": [f"{v.size:,}" for v in data["state"].values()]}, hide_index=True)

st.markdown("The call that builds this model in torch:")
st.code(torch_call(model.recurrent, batch_first=False), language="python")
if TABLE[config["variant"]].torch_class is None:
    st.caption("`make_torch_model` is in `lstm_viz.torchref.reference`: torch has no module "
               "for this variant, so the app ships a reference one.")

# -- does it fit the sequence? -------------------------------------------------------------------
seq = current_sequence(loaded.sequence)
need = model.recurrent.input_size
if seq.n_features == need:
    st.success(f"It reads {need} feature{'s' if need != 1 else ''} per step, like the current "
               f"sequence ({plain(seq.name, 60)}, {seq.length:,} steps).")
else:
    tasks = [t.name for t in TASKS.values() if t.input_size == need]
    st.warning(
        f"This model reads **{need}** feature{'s' if need != 1 else ''} per step, but the current "
        f"sequence ({plain(seq.name, 60)}) has {seq.n_features}. To run it, upload a sequence "
        f"with {need} "
        f"column{'s' if need != 1 else ''} in the sidebar (Sequence → my file: a CSV with {need} "
        f"columns, or a .npy of shape (T, {need}))"
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
