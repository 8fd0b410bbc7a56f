"""The sidebar every page shares: sequence, model, variant, view. It returns what the page shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st
from streamlit.errors import StreamlitAPIException

from lstm_viz.core import TABLE, VARIANTS, Trace
from lstm_viz.errors import InputError
from lstm_viz.files import loaders
from lstm_viz.files.read_sequence import read_sequence, vocab_shown
from lstm_viz.files.sequence import Sequence
from lstm_viz.files.tokens import read_vocab
from lstm_viz.training.tasks import TASKS
from lstm_viz.workbench import (
    Loaded,
    Model,
    ModelChoice,
    build_model,
    check_trace_size,
    example_sequence,
    fits,
    has_shipped,
    run,
    torch_call,
    trace_key,
)

from .failures import attempt, fail, report
from .first_run import lean_run, widgets
from .safe_text import plain, plain_list, visible_token
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
VOCAB_TYPES = ["json", "txt", "vocab"]
MAX_TYPED = 20_000            # characters of typed text
READ_AS = ("A text is read through the model's vocabulary, one input per character it knows (a "
           "fresh model: its own characters); changing the task or the model reads the file "
           "again for it.")
COMPACT_CSS = ("<style>.stMainBlockContainer{padding-top:2rem}"
               ".stMainBlockContainer h1{font-size:1.6rem;padding:0;line-height:1.25;"
               "white-space:nowrap}</style>")
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


def model_vocab(model: object) -> tuple[str, ...] | None:
    """The vocabulary text is read through for ``model``: its own, or for the user's model
    without one, the vocabulary file uploaded beside it (``uploaded_vocab``)."""
    ss = st.session_state
    vocab = getattr(model, "vocab", None)
    custom = ss.get("custom_model")
    if vocab is None and custom is not None and model is custom and ss.get("uploaded_vocab") \
            and ss.get("uploaded_vocab_for") == getattr(custom, "key", None):
        vocab = ss["uploaded_vocab"]
    return None if vocab is None else tuple(vocab)


def _has_embedding(model: object) -> bool:
    return getattr(model, "embedding", None) is not None


def _reader(model: Model) -> tuple:
    """What an upload is read through for ``model``: its vocabulary, and whether an embedding
    reads token ids. When it changes (another task, model or vocabulary), the kept upload is read
    again (`_follow_the_model`)."""
    return model_vocab(model), _has_embedding(model)


def _reader_name(model: Model) -> str | None:
    """"the brackets model", "your model": whose vocabulary an upload was read through."""
    if model.uploaded or model is st.session_state.get("custom_model"):
        return "your model"
    return f"the {model.trained.task} model" if model.trained is not None else None


def _current_reader() -> tuple:
    """`_reader` of the model the sidebar now asks for (a fresh one has no vocabulary: not
    built for that)."""
    ss = st.session_state
    kind, custom = ss["model_kind"], ss.get("custom_model")
    if kind == "custom" and custom is not None:
        return _reader(custom)
    if kind == "trained" and has_shipped(ss["task"], ss["variant"]):
        return _reader(build_model(current_choice(), 1))
    return None, False


def _follow_the_model() -> None:
    """Read the kept upload again when what reads it changed since (the task, the model, its
    vocabulary): a text uploaded on brackets, then shown on the text task, is encoded over the
    text model's vocabulary, with no error or caption of the read before. When it cannot be read
    for the new model, it is not shown with it (the error says why; the task example stands in).
    """
    ss = st.session_state
    kept, view = ss.get("upload_file"), ss.get("upload_view")
    if kept is None or view is None:
        return
    try:
        reader = _current_reader()
    except Exception:       # a model that cannot be built: the model section says so
        return
    if reader == ss.get("upload_read_for"):
        return
    ss["upload_error"] = None
    before = ss.get("uploaded_sequence")
    _read_upload(*kept, dict(view.get("options") or {}), check_fit=False)
    if ss.get("upload_error") and ss.get("uploaded_sequence") is before:
        ss["uploaded_sequence"] = None          # read for another model: not shown with this one
        ss.pop("_upload_before", None)
        ss["upload_view"] = {**view, "unread": True}    # its last read's captions no longer hold


def _on_upload() -> None:
    """Parse an uploaded sequence; on any problem keep the previous one and leave the error."""
    ss = st.session_state
    file = ss.get("w_upload")
    ss["upload_error"] = None
    if file is None:
        return
    _read_upload(file.name, file.getvalue(), {})


def _on_typed() -> None:
    """Typed text, tokenised with the user's model's vocabulary: read as an upload of text (so
    a failure keeps the sequence before it), with the user's model in use."""
    ss = st.session_state
    text = ss.get("w_typed") or ""
    ss["upload_error"] = None
    if not text.strip():
        return
    ss["model_kind"] = "custom"
    _read_upload("typed text", text[:MAX_TYPED].encode("utf-8"), {})


def _on_vocab() -> None:
    """A vocabulary file for the user's model, which has none: kept when it fits the model."""
    ss = st.session_state
    file = ss.get("w_vocab")
    ss["vocab_error"] = None
    custom = ss.get("custom_model")
    if file is None or custom is None:
        return
    try:
        vocab = read_vocab(file.name, file.getvalue())
        emb = getattr(custom, "embedding", None)
        rows = int(emb.shape[0]) if emb is not None else int(custom.recurrent.input_size)
        if len(vocab) != rows:
            what = "embedding has" if emb is not None else "model takes"
            unit = "rows" if emb is not None else "inputs (one-hot)"
            raise InputError(f"The vocabulary has {len(vocab):,} tokens but the {what} {rows:,} "
                             f"{unit}: upload the vocabulary the model was trained with.")
    except Exception as exc:
        ss["vocab_error"] = f"{plain(file.name, 60)}: {report(exc, 'reading the vocabulary')}"
        return
    ss["uploaded_vocab"] = vocab
    ss["uploaded_vocab_for"] = getattr(custom, "key", None)


def _on_options() -> None:
    """Re-read the kept upload with the options the widgets under it now ask for."""
    ss = st.session_state
    kept, view = ss.get("upload_file"), ss.get("upload_view")
    ss["upload_error"] = None
    if kept is None or view is None:
        return
    _read_upload(*kept, options_from_widgets(tuple(view["meta"].get("columns", ()))))


def _read_upload(name: str, data: bytes, options: dict, check_fit: bool = True) -> None:
    """Read an upload with `read_sequence` ``options``, through the model's vocabulary when it
    has one (`model_vocab`; text is tokenised, whole numbers may be token ids). Bytes that parse
    are kept (at most the 20 MB upload limit: `read_sequence` refuses more), with what the
    option widgets show; a sequence that also fits the model replaces the current one. On any
    problem the current sequence stays and the error is left for the sidebar. ``check_fit``
    False (a held upload read again for another model): a sequence of the wrong width is kept,
    and the page says it does not fit, with the fix (`_fallback`)."""
    ss = st.session_state
    try:
        model = build_model(current_choice(), _example().n_features, ss.get("custom_model"))
        # Set first: a read that fails for this model is not tried again at every run.
        ss["upload_read_for"] = _reader(model)
        embedded = _has_embedding(model)
        seq = read_sequence(name, data, vocab=model_vocab(model),
                            tokens=True if embedded else None, one_hot=not embedded,
                            **options)
        ss["upload_file"] = (name, data)
        ss["upload_view"] = {"meta": seq.meta, "features": seq.feature_names,
                             "options": options, "reader": _reader_name(model)}
        if check_fit and ss["model_kind"] != "fresh" and not (
                embedded and "token_ids" in seq.meta):
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


def _sequence_section(ui: Any = st) -> Sequence:
    """The task, the input and the sequence read; ``ui`` draws the widgets (``st``, or nothing
    in a lean run: ``first_run.widgets``)."""
    ss = st.session_state
    st.subheader("Sequence")
    ui.selectbox("Task", list(TASKS), format_func=lambda t: TASKS[t].title, **bind("task"),
                 help="A built-in task: its example sequence and the models trained on it.")
    uploaded: Sequence | None = ss.get("uploaded_sequence")
    sources = ["example", "upload"]
    ui.radio("Input", sources, horizontal=True, **bind("seq_source"),
             format_func={"example": "task example", "upload": "my file"}.get)
    if ss["seq_source"] == "upload":
        _follow_the_model()
        uploaded = ss.get("uploaded_sequence")
        _your_model_inputs(ui)
        ui.file_uploader("CSV / TSV (one column per feature, a date column as the time axis), "
                         ".npy (T × features, or a batch N × T × features), or text",
                         type=UPLOAD_TYPES, key="w_upload", on_change=_on_upload)
        st.caption(READ_AS)
        if ss.get("upload_view") is not None and ss.get("upload_file") is not None:
            if ui is st:
                sequence_options(ss["upload_view"], _on_options)
        if ss.get("upload_error"):
            st.error(ss["upload_error"])
        if uploaded is None:
            kept = ss.get("upload_file")
            st.caption(f"{plain(kept[0], 60)} is not read for this model: showing the task "
                       "example." if kept is not None and ss.get("upload_error") else
                       "No file loaded yet: showing the task example.")
    else:
        ui.button("New example", on_click=_new_example, help="Draw another example sequence.")
    seq = uploaded if (ss["seq_source"] == "upload" and uploaded is not None) else _example()
    st.caption(f"**{plain(seq.name, 60)}**: {seq.length:,} steps × {seq.n_features} feature"
               f"{'s' if seq.n_features != 1 else ''}")
    unknown = seq.meta.get("unknown_chars")
    if unknown:
        st.warning(unknown_text(seq, (ss.get("upload_view") or {}).get("reader")
                                if seq is uploaded else None))
    if seq.meta.get("unknown_note"):
        st.warning(plain(seq.meta["unknown_note"], 400))
    return seq


def unknown_text(seq: Sequence, reader: str | None) -> str:
    """One sentence: which characters of a text the model's vocabulary lacks, what is done with
    them, and the fix ("12 of 18 characters are not in the brackets model's vocabulary '()':
    ...")."""
    meta = seq.meta
    count = int(meta.get("unknown_count", 0))
    whose = f"{reader}'s" if reader else "the model's"
    vocab = f" {vocab_shown(seq.vocab)}" if seq.vocab else ""
    chars = plain_list((f"‘{visible_token(c)}’" for c in meta["unknown_chars"]), each=8,
                       most=30, sep=" ")
    return (f"{count:,} of {seq.length:,} characters are not in {plain(whose, 60)} vocabulary"
            f"{plain(vocab, 0)} ({chars}): they are fed as all-zero inputs. Upload text made of "
            "its characters, or pick the task whose model reads this text.")


def _your_model_inputs(ui: Any = st) -> None:
    """Beside the user's model: "Type text" through its vocabulary, or, when it has none, an
    uploader for its vocabulary file."""
    ss = st.session_state
    custom = ss.get("custom_model")
    if custom is None:
        return
    vocab = model_vocab(custom)
    if vocab is None:
        ui.file_uploader("Your model's vocabulary (JSON list or token → id, or one token a "
                         "line), to feed it text", type=VOCAB_TYPES, key="w_vocab",
                         on_change=_on_vocab)
        if ss.get("vocab_error"):
            st.error(ss["vocab_error"])
        return
    if getattr(custom, "vocab", None) is None:
        st.caption(f"Vocabulary file: {len(vocab):,} tokens.")
    ui.text_area(f"Type text (read through your model's {len(vocab):,}-token vocabulary)",
                 key="w_typed", max_chars=MAX_TYPED, on_change=_on_typed,
                 help="Split into the vocabulary's tokens (characters or words); tokens it "
                      "lacks go to its unknown token, or are left out and listed.")


def _model_section(seq: Sequence, ui: Any = st) -> Model:
    ss = st.session_state
    st.subheader("Model")
    kinds = ["trained", "fresh"] + (["custom"] if ss.get("custom_model") else [])
    if ss["model_kind"] not in kinds:
        ss["model_kind"] = "trained"
    ui.radio("Weights", kinds, format_func=MODEL_KINDS.get, **bind("model_kind"))
    if ss["model_kind"] != "custom":
        ui.radio("Variant", list(VARIANTS), horizontal=True, **bind("variant"),
                 help="; ".join(f"{v.name}: {v.summary}" for v in TABLE.values()) + ".")
    if ss["model_kind"] == "fresh":
        ui.slider("Hidden units", 1, 256, **bind("hidden"))
        ui.slider("Layers", 1, 4, **bind("layers"))
        ui.toggle("Bidirectional", **bind("bidirectional"))
        ui.number_input("Seed", 0, 10_000, **bind("seed"))
    model = build_model(current_choice(), seq.n_features, ss.get("custom_model"))
    st.caption(plain(model.label, 120))
    # Inline code, not st.code: the syntax highlighter behind st.code is the heaviest script
    # the browser runs before a page's first figure (~0.3 s of its main thread on 2 cores).
    st.caption(f"`{torch_call(model.recurrent)}`")
    for text in model.notices:
        st.info(plain(text, 300))
    return model


def _view_section(loaded: Loaded, ui: Any = st) -> None:
    rec = loaded.recurrent
    st.subheader("View")
    clamp("layer", rec.num_layers - 1)
    clamp("direction", rec.config.num_directions - 1)
    if rec.num_layers > 1:
        ui.selectbox("Layer", list(range(rec.num_layers)), **bind("layer"))
    if rec.bidirectional:
        ui.radio("Direction", [0, 1], horizontal=True, **bind("direction"),
                 format_func={0: "forward", 1: "backward"}.get)
    units = loaded.units("c" if "c" in loaded.trace.names() else "h")
    clamp("unit", units - 1)
    ui.number_input(f"Unit in focus (0–{units - 1})", 0, units - 1, **bind("unit"))
    ui.toggle("Projector view", **bind("projector"),
              help="Larger fonts, thicker lines, higher contrast: for a room.")


def _fallback(seq: Sequence, model: Model) -> tuple[Sequence, Model, str]:
    """A sequence and a model that disagree in input size: the task example with the same model
    when it fits, else the task's trained model (under its own name); and the one sentence that
    says so, with the fix (the main page shows it)."""
    ss = st.session_state
    need = model.recurrent.input_size
    fix = [f"pick {need} column{'s' if need != 1 else ''} of your file"]
    if model.vocab is not None:
        fix.append("type text tokenised with the model's vocabulary")
    fix.append("load a task example that fits")
    example = _example()
    if fits(model, example):
        shown = "the task example"
    else:
        model = build_model(ModelChoice("trained", ss["task"], "vanilla"), example.n_features)
        shown = f"the task example with {plain(model.label, 120)}"
    has = f"{seq.n_features} feature{'s' if seq.n_features != 1 else ''}"
    text = (f"The model reads {need} feature{'s' if need != 1 else ''} per step but the sequence "
            f"{plain(seq.name, 60)} has {has}: {', '.join(fix[:-1])} or {fix[-1]} "
            f"(Sequence in the sidebar); showing {shown} meanwhile.")
    return example, model, text


def navigation() -> None:
    """Links to the pages, with readable names (Streamlit would name the first one "app")."""
    for path, label in PAGES:
        if not (ROOT / path).is_file():
            continue
        try:
            st.page_link(path, label=label)
        except StreamlitAPIException:   # a page run on its own (AppTest.from_file): no app
            return


def sidebar(lean: bool = False) -> Loaded:
    """Draw the shared sidebar; return the loaded sequence, model and trace. ``lean``: a
    browser's first run (``first_run``): headings and captions, no widgets or page links."""
    init_state()
    ss = st.session_state
    ui = widgets(lean)
    with st.sidebar:
        if not lean:
            navigation()
        seq = _sequence_section(ui)
        try:
            model = _model_section(seq, ui)
        except Exception as exc:     # a model that cannot be built: the trained one stands in
            st.error(f"{report(exc, 'building the model')} Showing the trained model instead.")
            model = build_model(ModelChoice("trained", ss["task"], "vanilla"), seq.n_features)
        mismatch = None
        if not fits(model, seq):
            seq, model, mismatch = _fallback(seq, model)
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
        loaded = Loaded(seq, model, trace, mismatch=mismatch)
        _view_section(loaded, ui)
    clamp("step", seq.length - 1)
    ss["_shown_model"] = model          # the URL says what is shown (model=upload for yours)
    sync_url(force=True)
    if not lean:                        # kept for the whole page, which follows at once
        show_notices()
    mark_full_run()
    return loaded


def page(title: str, *, lean: bool = False) -> Loaded:
    """Set up a page: config, the sidebar, the projector styling. Call first on every page.

    ``lean=True``: the page draws the lesson first in a browser's first run (``first_run``);
    ``first_run.drawn_lean()`` then says this run is lean: the page ends after its first figure.
    """
    st.set_page_config(page_title=f"{title} · lstm-viz", layout="wide")
    loaded = sidebar(lean_run(lean))
    if loaded.mismatch:             # every page says when it shows something else than asked
        st.warning(loaded.mismatch)
    # Less room above the page (the header bar is transparent and lets clicks through) and a
    # one-line title, so the figure a page is about is seen at 1280x720 without scrolling.
    st.html(COMPACT_CSS)
    projector = bool(st.session_state.get("projector"))
    # Projector: the sidebar collapsed (its control still opens it; a browser where the user
    # used that control keeps their choice), and everything in the main area 1.5x larger.
    # Sent only when it changes: a page config sent after the elements closes the first
    # dropdown opened after it.
    sidebar_state = "collapsed" if projector else "auto"
    if st.session_state.get("_sidebar_state", "auto") != sidebar_state:
        st.session_state["_sidebar_state"] = sidebar_state
        st.set_page_config(initial_sidebar_state=sidebar_state)
    if projector:
        st.html(f"<style>{PROJECTOR_CSS}</style>")
    return loaded


_MAIN = ".stMainBlockContainer"
PROJECTOR_CSS = "".join(  # Streamlit's sizes x 1.5 (rem: 16 px); headings keep their scale
    f"{_MAIN} {sel}{{font-size:{size}}}" for sel, size in (
        ('[data-testid="stMarkdownContainer"] :is(p, li, td, th)', "1.5rem"),
        ('[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p', "1.3125rem"),
        ('[data-testid="stWidgetLabel"] p', "1.3125rem"),
        (':is([data-baseweb="select"], [data-baseweb="input"], input, textarea, '
         '[data-testid="stTickBarMin"], [data-testid="stTickBarMax"], '
         '[data-testid="stSliderThumbValue"])', "1.3125rem"),
        (':is(button, [data-testid="stExpander"] summary) p', "1.3125rem"),
        ('[data-testid="stMetricValue"]', "3.375rem"),
        (":is(h1, h1 span)", "2.5rem"),     # the compact one-line title (1.6rem) x 1.5
        (":is(h2, h2 span)", "3.375rem"),
        (":is(h3, h3 span)", "2.625rem"),
        (":is(h4, h4 span)", "2.25rem"),
        (":is(h5, h5 span)", "1.875rem"),
    )) + (  # larger labels need room: a label wraps instead of running into its neighbour
    f'{_MAIN} [data-testid="stWidgetLabel"]{{height:auto;min-height:1.5rem;white-space:normal}}'
    f'{_MAIN} [data-testid="stWidgetLabel"] p{{line-height:1.3}}')
