"""Real-browser tests (headless Chromium against a live Streamlit server)."""
