"""Session settings and the shared client: which account this browser session reads, keyed by scope.

Caching: ``st.cache_data`` and ``st.cache_resource`` are shared by every browser session of the
process, so every cached function is keyed by ``settings.cache_scope`` (base URL, account and a
fingerprint of the key), never by the key itself. Credentials typed into the connection form live
in ``st.session_state`` only; the process keeps the matching ``Settings`` in memory (never on
disk) so that the cached client of a scope can be built.
"""

from __future__ import annotations

import logging
import os
import re
from typing import Any

import streamlit as st

from whatfix_data.client import WhatfixClient
from whatfix_data.config import SECRETS_TABLE, Settings, load_settings
from whatfix_data.errors import WhatfixError

LOGGER = logging.getLogger("whatfix_dashboard")

K_CONNECTION = "wf_connection"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")

# The settings of every scope seen by this process, so a cached client can be built from a scope.
_SETTINGS_BY_SCOPE: dict[str, Settings] = {}

# --------------------------------------------------------------------------------- text safety


def md_escape(text: Any) -> str:
    """Text from the API made literal for Streamlit markdown (labels, captions, messages)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# ------------------------------------------------------------------------------------- settings


def _configured_settings() -> Settings:
    """Settings from the connection form, else secrets / WHATFIX_* env, else the demo server."""
    form = st.session_state.get(K_CONNECTION)
    if form:
        return load_settings(secrets={SECRETS_TABLE: form}, env=os.environ)
    return load_settings(secrets=st.secrets, env=os.environ)


def settings() -> Settings:
    """The settings of this session, registered so the cached client of its scope can be built."""
    current = _configured_settings()
    _SETTINGS_BY_SCOPE[current.cache_scope] = current
    return current


def scope() -> str:
    """The cache scope of this session (base URL, account, key fingerprint)."""
    return settings().cache_scope


@st.cache_resource(show_spinner=False)
def _client(cache_scope: str) -> WhatfixClient:
    """One HTTP client per scope and process, shared by every session using that account."""
    return WhatfixClient(_SETTINGS_BY_SCOPE[cache_scope])


def client() -> WhatfixClient:
    """The shared client of this session's scope (for data-layer calls that are not datasets)."""
    return _client(scope())



# ------------------------------------------------------------------------- demo and connection


def demo_banner(current: Settings) -> None:
    """Tell a demo user that the numbers are made up and how to connect a real account."""
    if not current.demo:
        return
    st.info(
        "**Demo data** from the built-in Whatfix server. To see your own account, add a "
        "`[whatfix]` table (`base_url`, `account_id`, `integration_key`, `user`) to "
        "`.streamlit/secrets.toml`, or set `WHATFIX_BASE_URL`, `WHATFIX_ACCOUNT_ID`, "
        "`WHATFIX_INTEGRATION_KEY` and `WHATFIX_USER` before `streamlit run app.py`; or use "
        "**Connect an account** in the sidebar for this browser session only.",
        icon=":material/science:",
    )


CONNECT_FIELDS = {"base_url": "API base URL", "account_id": "Account ID",
                  "user": "Whatfix user (email)", "integration_key": "Integration key"}
K_CONNECT_ERROR = "_wf_connect_error"


def _connect() -> None:
    """Form callback: check the typed credentials with one request; keep them only if they work.

    The key stays in st.session_state (this browser session); the typed widget value is cleared.
    """
    values = {name: str(st.session_state.get(f"wf_{name}", "")).strip() for name in CONNECT_FIELDS}
    st.session_state["wf_integration_key"] = ""
    st.session_state.pop(K_CONNECT_ERROR, None)
    try:
        candidate = load_settings(secrets={SECRETS_TABLE: values}, env=os.environ)
        _SETTINGS_BY_SCOPE[candidate.cache_scope] = candidate
        _client(candidate.cache_scope)  # verifies the credentials with one uncached request
    except WhatfixError as exc:
        st.session_state[K_CONNECT_ERROR] = exc.user_message
        return
    st.session_state[K_CONNECTION] = values


def _disconnect() -> None:
    """Button callback: forget the session's credentials (back to the configured account)."""
    st.session_state.pop(K_CONNECTION, None)


def connection_form(current: Settings) -> None:
    """Sidebar form to use another account for this browser session (nothing is saved)."""
    with st.sidebar.expander("Connect an account", icon=":material/key:"):
        st.caption(f"Connected to account **{md_escape(current.account_id)}**.")
        if st.session_state.get(K_CONNECTION):
            st.button("Disconnect", key="wf_disconnect", on_click=_disconnect)
            return
        with st.form("wf_connect_form", border=False):
            for name, label in CONNECT_FIELDS.items():
                st.text_input(
                    label, key=f"wf_{name}",
                    type="password" if name == "integration_key" else "default",
                    value="https://whatfix.com/api/v1" if name == "base_url" else "",
                )
            st.form_submit_button("Connect", on_click=_connect)
        st.caption("Kept in this browser session only, never written to disk.")
        if st.session_state.get(K_CONNECT_ERROR):
            st.error(md_escape(st.session_state[K_CONNECT_ERROR]))
