"""The play speed in the URL: a link sets it, the stepper component sends it, the URL keeps it."""

from __future__ import annotations

import json

from conftest import no_exception, open_page
from streamlit.testing.v1 import AppTest

from lstm_viz.ui.state import DEFAULTS, SPEEDS


def _stepper_args(at: AppTest) -> dict:
    [el] = [e for e in at.get("component_instance")
            if e.proto.component_name.endswith("lstm_viz_stepper")]
    return json.loads(el.proto.json_args)


def test_a_link_with_a_speed_sets_the_session_and_the_components_select():
    at = open_page(query={"step": "3", "speed": "2"})
    assert at.session_state["speed"] == 2
    args = _stepper_args(at)
    assert args["speed"] == 2 and list(args["speeds"]) == list(SPEEDS)
    assert at.query_params["speed"] == "2"                 # kept in the URL
    assert not [i for i in at.info if "speed" in i.value]  # no notice for a valid speed


def test_a_speed_the_server_player_lacks_still_draws():
    """60 steps/s is the component's; the server-drawn controls (AppTest's) show it too."""
    at = open_page(query={"step": "0", "speed": "60"})
    assert at.session_state["speed"] == 60
    assert at.select_slider(key="w_speed").value == 60
    assert _stepper_args(at)["speed"] == 60


def test_an_invalid_speed_falls_back_to_the_default_with_a_notice():
    default = DEFAULTS["speed"]
    for raw in ("7", "fast", "-2"):
        at = open_page(query={"step": "0", "speed": raw})
        assert at.session_state["speed"] == default, raw
        assert _stepper_args(at)["speed"] == default
        notices = [i.value for i in at.info if "speed=" in i.value]
        assert notices == [f"The link's speed={raw!r} is not valid here; using {default!r} "
                           "instead."], notices
        assert "speed" not in at.query_params, raw  # the default is left out of the URL


def _message_script() -> None:
    import streamlit as st

    from lstm_viz.ui.state import init_state
    from lstm_viz.ui.stepper import KEY, on_stepper

    ss = st.session_state
    init_state()
    seen = []
    for message in ss["messages"]:
        ss[KEY] = message
        on_stepper(ss["last"])
        seen.append((int(ss["step"]), int(ss["speed"]), st.query_params.get("speed")))
    ss["seen"] = seen


def test_the_components_speed_goes_to_the_state_and_the_url():
    """A value from the component carries its speed: one of SPEEDS is kept (and the URL says
    it when it is not the default); anything else, or none, leaves the speed as it was."""
    at = AppTest.from_function(_message_script, default_timeout=60)
    at.query_params["step"] = "4"
    at.session_state["last"] = 40
    at.session_state["messages"] = [
        {"ready": True, "n": 1},                                         # mounted: no speed
        {"ready": True, "step": 4, "n": 2, "playing": False, "speed": 5},
        {"ready": True, "step": 6, "n": 3, "playing": True, "speed": 7},  # not one of SPEEDS
        {"ready": True, "step": 6, "n": 4, "playing": False, "speed": "2"},
        {"ready": True, "step": 6, "n": 5, "playing": False, "speed": True},
        {"ready": True, "step": 6, "n": 6, "playing": False, "speed": 10},  # the default
    ]
    at.run()
    no_exception(at)
    assert at.session_state["seen"] == [
        (4, 10, None), (4, 5, "5"), (6, 5, "5"), (6, 5, "5"), (6, 5, "5"), (6, 10, None)]
    assert at.query_params["step"] == "6" and "speed" not in at.query_params
