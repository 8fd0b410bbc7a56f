"""Streamlit helpers shared by the pages: state and URL, the sidebar. Imports streamlit."""

from .sidebar import page, sidebar
from .state import bind, init_state, set_value, sync_url

__all__ = ["bind", "init_state", "page", "set_value", "sidebar", "sync_url"]
