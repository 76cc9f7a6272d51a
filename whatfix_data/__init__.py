"""Whatfix analytics data layer: client, cache, frames, analytics, exports, a built-in API server.

This package never imports Streamlit; the dashboard pages and the CLI (`python -m whatfix_data`)
call it.
"""

__version__ = "0.1.0"
