"""The sidebar every page shares: sequence, model, variant, view. It returns what the page shows."""

from __future__ import annotations

from pathlib import Path

import streamlit as st
from streamlit.errors import StreamlitAPIException

from lstm_viz.core import TABLE, VARIANTS, Trace
from lstm_viz.errors import InputError
from lstm_viz.files import loaders
from lstm_viz.files.read_sequence import read_sequence
from lstm_viz.files.sequence import Sequence
from lstm_viz.training.tasks import TASKS
from lstm_viz.workbench import (
    Loaded,
    Model,
    ModelChoice,
    build_model,
    check_trace_size,
    example_sequence,
    run,
    torch_call,
    trace_key,
)

from .failures import attempt, fail, report
from .safe_text import plain, plain_list
from .sequence_options import options_from_widgets, sequence_options
from .state import bind, clamp, init_state, mark_full_run, set_value, show_notices, sync_url
from .trace_cache import RESULTS

ROOT = Path(__file__).resolve().parents[2]
PAGES = (
    ("app.py", "Step through"),
    ("pages/1_Compare_variants.py", "Compare variants"),
    ("pages/2_Gradient_flow.py", "Gradient flow"),
    ("pages/3_Units.py", "Units"),
    ("pages/4_Your_model.py", "Your model"),
    ("pages/5_Train.py", "Train"),
    ("pages/6_Learn.py", "Learn"),
    ("pages/7_Experiments.py", "Experiments"),
)
UPLOAD_TYPES = ["csv", "tsv", "npy", "txt"]
MODEL_KINDS = {"trained": "trained (ships with the app)", "fresh": "fresh random weights",
               "custom": "yours (uploaded or trained here)"}


def cached_trace(model: Model, seq: Sequence) -> Trace:
    """The trace of a sequence through a model, kept by content keys (never by user).

    ``trace_key``: the model's key (configuration, dtype, tensor names and values) and the
    sequence's values; other pages reuse the same entry (Compare variants)."""
    with st.spinner("Tracing the sequence through the model…"):
        return RESULTS.get(trace_key(model, seq), lambda: run(model, seq))


def current_choice() -> ModelChoice:
    ss = st.session_state
    return ModelChoice(kind=ss["model_kind"], task=ss["task"], variant=ss["variant"],
                       hidden_size=int(ss["hidden"]), num_layers=int(ss["layers"]),
                       bidirectional=bool(ss["bidirectional"]), seed=int(ss["seed"]))


def _example() -> Sequence:
    ss = st.session_state
    return example_sequence(ss["task"], seed=int(ss["example_seed"]))


def _on_upload() -> None:
    """Parse an uploaded sequence; on any problem keep the previous one and leave the error."""
    ss = st.session_state
    file = ss.get("w_upload")
    ss["upload_error"] = None
    if file is None:
        return
    _read_upload(file.name, file.getvalue(), {})


def _on_options() -> None:
    """Re-read the kept upload with the options the widgets under it now ask for."""
    ss = st.session_state
    kept, view = ss.get("upload_file"), ss.get("upload_view")
    ss["upload_error"] = None
    if kept is None or view is None:
        return
    _read_upload(*kept, options_from_widgets(tuple(view["meta"].get("columns", ()))))


def _read_upload(name: str, data: bytes, options: dict) -> None:
    """Read an upload with `read_sequence` ``options``. Bytes that parse are kept (at most the
    20 MB upload limit: `read_sequence` refuses more), with what the option widgets show; a
    sequence that also fits the model replaces the current one. On any problem the current
    sequence stays and the error is left for the sidebar."""
    ss = st.session_state
    try:
        model = build_model(current_choice(), _example().n_features, ss.get("custom_model"))
        seq = read_sequence(name, data, vocab=model.vocab, **options)
        ss["upload_file"] = (name, data)
        ss["upload_view"] = {"meta": seq.meta, "features": seq.feature_names,
                             "options": options}
        if ss["model_kind"] != "fresh":
            loaders.check_features(seq, model.recurrent.input_size)
        check_trace_size(model, seq)
    except Exception as exc:        # InputError, a MemoryError (an Exception), a loader's bug
        # Stored escaped: the sidebar shows it in st.error, which renders markdown.
        ss["upload_error"] = f"{plain(name, 60)}: {report(exc, 'reading the file')}"
        return
    # Kept, so a sequence that parses but then fails to trace gives way to the one before it.
    ss["_upload_before"] = ss.get("uploaded_sequence")
    ss["uploaded_sequence"] = seq
    ss["seq_source"] = "upload"
    ss["step"] = 0
    ss["playing"] = False
    sync_url()


def _new_example() -> None:
    set_value("example_seed", int(st.session_state["example_seed"]) + 1)
    set_value("step", 0)


def _sequence_section() -> Sequence:
    ss = st.session_state
    st.subheader("Sequence")
    st.selectbox("Task", list(TASKS), format_func=lambda t: TASKS[t].title, **bind("task"),
                 help="A built-in task: its example sequence and the models trained on it.")
    uploaded: Sequence | None = ss.get("uploaded_sequence")
    sources = ["example", "upload"]
    st.radio("Input", sources, horizontal=True, **bind("seq_source"),
             format_func={"example": "task example", "upload": "my file"}.get)
    if ss["seq_source"] == "upload":
        st.file_uploader("CSV / TSV (one column per feature, a date column as the time axis), "
                         ".npy (T × features, or a batch N × T × features), or text",
                         type=UPLOAD_TYPES, key="w_upload", on_change=_on_upload)
        if ss.get("upload_view") is not None and ss.get("upload_file") is not None:
            sequence_options(ss["upload_view"], _on_options)
        if ss.get("upload_error"):
            st.error(ss["upload_error"])
        if uploaded is None:
            st.caption("No file loaded yet: showing the task example.")
    else:
        st.button("New example", on_click=_new_example, help="Draw another example sequence.")
    seq = uploaded if (ss["seq_source"] == "upload" and uploaded is not None) else _example()
    st.caption(f"**{plain(seq.name, 60)}**: {seq.length:,} steps × {seq.n_features} feature"
               f"{'s' if seq.n_features != 1 else ''}")
    unknown = seq.meta.get("unknown_chars")
    if unknown:
        st.warning("Characters outside the model's vocabulary (fed as all-zero inputs): "
                   + plain_list((repr(c) for c in unknown), each=8, most=40, sep=" "))
    return seq


def _model_section(seq: Sequence) -> Model:
    ss = st.session_state
    st.subheader("Model")
    kinds = ["trained", "fresh"] + (["custom"] if ss.get("custom_model") else [])
    if ss["model_kind"] not in kinds:
        ss["model_kind"] = "trained"
    st.radio("Weights", kinds, format_func=MODEL_KINDS.get, **bind("model_kind"))
    if ss["model_kind"] != "custom":
        st.radio("Variant", list(VARIANTS), horizontal=True, **bind("variant"),
                 help="; ".join(f"{v.name}: {v.summary}" for v in TABLE.values()) + ".")
    if ss["model_kind"] == "fresh":
        st.slider("Hidden units", 1, 256, **bind("hidden"))
        st.slider("Layers", 1, 4, **bind("layers"))
        st.toggle("Bidirectional", **bind("bidirectional"))
        st.number_input("Seed", 0, 10_000, **bind("seed"))
    model = build_model(current_choice(), seq.n_features, ss.get("custom_model"))
    st.caption(plain(model.label, 120))
    st.code(torch_call(model.recurrent), language="python", wrap_lines=True)
    for text in model.notices:
        st.info(plain(text, 300))
    return model


def _view_section(loaded: Loaded) -> None:
    rec = loaded.recurrent
    st.subheader("View")
    clamp("layer", rec.num_layers - 1)
    clamp("direction", rec.config.num_directions - 1)
    if rec.num_layers > 1:
        st.selectbox("Layer", list(range(rec.num_layers)), **bind("layer"))
    if rec.bidirectional:
        st.radio("Direction", [0, 1], horizontal=True, **bind("direction"),
                 format_func={0: "forward", 1: "backward"}.get)
    units = loaded.units("c" if "c" in loaded.trace.names() else "h")
    clamp("unit", units - 1)
    st.number_input(f"Unit in focus (0–{units - 1})", 0, units - 1, **bind("unit"))
    st.toggle("Projector view", **bind("projector"),
              help="Larger fonts, thicker lines, higher contrast: for a room.")


def navigation() -> None:
    """Links to the pages, with readable names (Streamlit would name the first one "app")."""
    for path, label in PAGES:
        if not (ROOT / path).is_file():
            continue
        try:
            st.page_link(path, label=label)
        except StreamlitAPIException:   # a page run on its own (AppTest.from_file): no app
            return


def sidebar() -> Loaded:
    """Draw the shared sidebar; return the loaded sequence, model and trace."""
    init_state()
    ss = st.session_state
    with st.sidebar:
        navigation()
        seq = _sequence_section()
        try:
            model = _model_section(seq)
        except Exception as exc:     # a model that cannot be built: the trained one stands in
            st.error(f"{report(exc, 'building the model')} Showing the trained model instead.")
            model = build_model(ModelChoice("trained", ss["task"], "vanilla"), seq.n_features)
        if seq.n_features != model.recurrent.input_size:
            try:
                loaders.check_features(seq, model.recurrent.input_size)
            except InputError as exc:
                st.error(f"{plain(str(exc), 300)} Showing the task example instead.")
            seq = _example()
            if seq.n_features != model.recurrent.input_size:   # a custom model of another task
                model = build_model(ModelChoice("fresh", ss["task"], "vanilla"), seq.n_features)
        trace, problem = attempt("tracing the sequence", lambda: cached_trace(model, seq),
                                 lambda: None)
        if problem is not None:
            st.error(f"{problem} Showing the task example instead.")
            if seq is ss.get("uploaded_sequence"):
                # Never keep a sequence that cannot be traced: every later run would fail on
                # it again. The upload before it (if any) comes back.
                ss["uploaded_sequence"] = ss.pop("_upload_before", None)
            seq = _example()
            try:
                trace = cached_trace(model, seq)
            except Exception as exc:
                fail(exc, "tracing the task example")
        loaded = Loaded(seq, model, trace)
        _view_section(loaded)
    clamp("step", seq.length - 1)
    sync_url(force=True)
    show_notices()
    mark_full_run()
    return loaded


def page(title: str) -> Loaded:
    """Set up a page: config, the sidebar, the projector styling. Call first on every page."""
    st.set_page_config(page_title=f"{title} · lstm-viz", layout="wide")
    loaded = sidebar()
    if st.session_state.get("projector"):
        st.html("<style>.stMainBlockContainer{font-size:1.3rem}"
                ".stMainBlockContainer h1{font-size:3rem}</style>")
    return loaded
