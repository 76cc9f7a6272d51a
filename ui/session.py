"""Which account this browser session reads, and the shared client of each account.

app.py, the entry point, resolves the dashboard's own account once per run
(`whatfix_data.session.open_session`, which starts the built-in server in demo mode) and hands it
to `use_session`. It is kept for the run in ``st.session_state`` of this browser session; a
verified connection-form account, when there is one, lives beside it in ``st.session_state``
only. No module-level registry of credentials exists: `settings()` reads this session's state.

Caching: ``st.cache_data`` and ``st.cache_resource`` are shared by every browser session of the
process, so every cached function is keyed by ``settings.cache_scope`` (base URL, account and a
fingerprint of key and user), never by the key itself. The client of a scope is one
``st.cache_resource`` whose Settings argument is hashed by its ``cache_scope``
(``hash_funcs``).

The connection form: its four fields are the only credentials of the session (nothing falls back
to the server's secrets or environment), its base URL must be one the operator allows
(``connect_base_urls``), and they are used only after one fresh request with both headers was
accepted within seconds. A refused attempt leaves nothing behind: not in this session's state,
not in any cache or structure of the process.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from typing import Any

import streamlit as st

from whatfix_data.cache import KIND_LIVE
from whatfix_data.client import CREDENTIAL_PROBE_PARAMS, CREDENTIAL_PROBE_PATH, WhatfixClient
from whatfix_data.config import (
    CACHE_OFF,
    DEFAULT_BASE_URL,
    Settings,
    allowed_connect_base_urls,
    normalise_base_url,
)
from whatfix_data.errors import (
    ApiUnavailableError,
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    WhatfixError,
)
from whatfix_data.session import Session, open_session

LOGGER = logging.getLogger("whatfix_dashboard")

K_CONNECTION = "wf_connection"
# The dashboard's own Settings for this run, set by app.py through `use_session`.
K_OPERATOR = "_wf_operator_settings"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")

# --------------------------------------------------------------------------------- text safety


def md_escape(text: Any) -> str:
    """Text from the API made literal for Streamlit markdown (labels, captions, messages)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


# ------------------------------------------------------------------------------------- settings


def use_session(operator: Session) -> Settings:
    """app.py's call, once per run: keep the dashboard's own account (resolved by the entry point)
    for this run; returns the settings this browser session reads (see `settings`)."""
    st.session_state[K_OPERATOR] = operator.settings
    return settings()


def operator_settings() -> Settings:
    """The dashboard's own account, as the entry point resolved it for this run.

    A page script run on its own (AppTest of one page file, without app.py) is its own entry
    point: it resolves the account here, the way app.py does.
    """
    resolved = st.session_state.get(K_OPERATOR)
    if isinstance(resolved, Settings):
        return resolved
    return use_session(open_session(st.secrets, os.environ))


def settings() -> Settings:
    """The settings of this session: the account verified through the connection form, else the
    dashboard's own."""
    connected = st.session_state.get(K_CONNECTION)
    if isinstance(connected, Settings):
        return connected
    return operator_settings()


def scope() -> str:
    """The cache scope of this session (base URL, account, fingerprint of key and user)."""
    return settings().cache_scope


def cache_scope_of(current: Settings) -> str:
    """How `client_for` keys its Settings argument: the scope, never the key."""
    return current.cache_scope


# Clients kept per process: every account a busy process serves at once. One dropped from here
# (the least recently used) gets a new client on its next use; sessions holding it keep theirs.
CLIENTS_KEPT = 32


@st.cache_resource(show_spinner=False, hash_funcs={Settings: cache_scope_of},
                   max_entries=CLIENTS_KEPT)
def client_for(current: Settings) -> WhatfixClient:
    """One HTTP client per scope and process, shared by every session using that account.

    The cache key is ``current.cache_scope`` (hash_funcs), never the key: the first verified
    settings of a scope build its client, which is the only process-level copy of them. A key
    the API rejects raises here and is not kept; at most `CLIENTS_KEPT` scopes are.
    """
    return WhatfixClient(current)


def client() -> WhatfixClient:
    """The shared client of this session's scope (for data-layer calls that are not datasets)."""
    return client_for(settings())


def client_of(cache_scope: str) -> WhatfixClient:
    """The shared client of this session, for the body of a function cached by `cache_scope`.

    The scope is the cache key of the caller; it must be this session's (a cached body never
    fetches one account's data under another account's key).
    """
    current = settings()
    if current.cache_scope != cache_scope:
        raise RuntimeError("A cached function was called with another session's cache scope.")
    return client_for(current)


# ------------------------------------------------------------------------- demo and connection


def demo_banner(current: Settings) -> None:
    """Tell a demo user that the numbers are made up and how to connect a real account."""
    if not current.demo:
        return
    st.info(
        "**Demo data** from the built-in Whatfix server. To see your own account, add a "
        "`[whatfix]` table (`base_url`, `account_id`, `integration_key`, `user`) to "
        "`.streamlit/secrets.toml`, or set `WHATFIX_BASE_URL`, `WHATFIX_ACCOUNT_ID`, "
        "`WHATFIX_INTEGRATION_KEY` and `WHATFIX_USER` before `streamlit run app.py`"
        + ("; or use **Connect an account** in the sidebar for this browser session only."
           if current.connect_form else "."),
        icon=":material/science:",
    )


CONNECT_FIELDS = {"base_url": "API base URL", "account_id": "Account ID",
                  "user": "Whatfix user (email)", "integration_key": "Integration key"}
K_CONNECT_ERROR = "_wf_connect_error"
# The check of typed credentials: one uncached request, no retries, answered within seconds.
CHECK_CONNECT_TIMEOUT_S = 2.0
CHECK_READ_TIMEOUT_S = 3.0
CHECK_DEADLINE_S = 5.0


class ConnectRefused(Exception):
    """The form's credentials are not used; the message is in the form's words (its labels)."""


def _label_list(names: list[str]) -> str:
    labels = [f"**{CONNECT_FIELDS[name]}**" for name in names]
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1]


def form_candidate(operator: Settings, values: dict[str, str]) -> Settings:
    """Settings made of the form's four values only; refused before any request is sent.

    Nothing typed falls back to the server's secrets or environment: an empty field is an error.
    Only the non-credential settings (cache, timeouts, retries...) come from `operator`.
    """
    if not operator.connect_form:
        raise ConnectRefused("Connecting another account is turned off on this dashboard.")
    missing = [name for name in CONNECT_FIELDS if not values.get(name)]
    problems = []
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        problems.append(f"{_label_list(missing)} {verb} required: every field must be filled in.")
    allowed = allowed_connect_base_urls(operator)
    typed_url = normalise_base_url(values.get("base_url", ""))
    if values.get("base_url") and typed_url not in allowed:
        problems.append(
            f"This dashboard may only connect to {', '.join(f'`{url}`' for url in allowed)}; "
            f"the **{CONNECT_FIELDS['base_url']}** typed is not one of them."
        )
    if problems:
        raise ConnectRefused(" ".join(problems))
    try:
        return operator.with_changes(
            base_url=typed_url, account_id=values["account_id"], user=values["user"],
            integration_key=values["integration_key"], demo=False,
        )
    except WhatfixError:  # an impossible value; the operator's setting names mean nothing here
        raise ConnectRefused(
            f"These values cannot be used: check the **{CONNECT_FIELDS['base_url']}**."
        ) from None


def _refusal_for(exc: BaseException, candidate: Settings) -> ConnectRefused:
    """The reason a check failed, in the form's words (never a WHATFIX_* variable name)."""
    account = md_escape(candidate.account_id)
    if isinstance(exc, AuthenticationError):
        text = (f"The API refused this **{CONNECT_FIELDS['integration_key']}** for this "
                f"**{CONNECT_FIELDS['user']}** (401). A key works only with the user it "
                "belongs to.")
    elif isinstance(exc, PermissionDeniedError):
        text = (f"The **{CONNECT_FIELDS['integration_key']}** may not read account {account} "
                "(403). Ask a Whatfix admin to grant it access.")
    elif isinstance(exc, NotFoundError):
        text = (f"No account {account} at this **{CONNECT_FIELDS['base_url']}** (404). Check the "
                f"**{CONNECT_FIELDS['account_id']}** and the **{CONNECT_FIELDS['base_url']}**.")
    elif isinstance(exc, ApiUnavailableError | RateLimitedError | TimeoutError):
        status = f" ({exc.status_code})" if getattr(exc, "status_code", None) else ""
        text = (f"The **{CONNECT_FIELDS['base_url']}** gave no usable answer within "
                f"{CHECK_DEADLINE_S:g} s{status}: it is unreachable or busy. Check it, or try "
                "again later.")
    else:
        status = f" ({exc.status_code})" if getattr(exc, "status_code", None) else ""
        text = (f"The **{CONNECT_FIELDS['base_url']}** did not answer like the Whatfix API{status}"
                "; check it.")
    return ConnectRefused(text)


def check_connection(candidate: Settings) -> None:
    """One fresh request with both headers (no cache, no retries); ConnectRefused unless 200.

    It runs in a thread joined for at most CHECK_DEADLINE_S: short socket timeouts bound each
    read, the deadline bounds the whole (a server trickling bytes, a slow name lookup).
    """
    probe = candidate.with_changes(
        cache=CACHE_OFF, retries=0, backoff_s=0.0,
        connect_timeout_s=min(candidate.connect_timeout_s, CHECK_CONNECT_TIMEOUT_S),
        read_timeout_s=min(candidate.read_timeout_s, CHECK_READ_TIMEOUT_S),
    )
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            with WhatfixClient(probe, verify=False) as checker:
                checker.get_json(CREDENTIAL_PROBE_PATH, CREDENTIAL_PROBE_PARAMS, kind=KIND_LIVE)
        except Exception as exc:  # reported to the form below, never raised in this thread
            outcome.append(exc)
        else:
            outcome.append(None)

    worker = threading.Thread(target=run, name="wf-connect-check", daemon=True)
    worker.start()
    worker.join(CHECK_DEADLINE_S)
    if not outcome:
        raise _refusal_for(TimeoutError(), candidate)
    if outcome[0] is not None:
        LOGGER.warning("Connection form check failed: %s", type(outcome[0]).__name__)
        raise _refusal_for(outcome[0], candidate)


def _connect() -> None:
    """Form callback: the typed credentials are used only once a fresh request accepted them.

    On any refusal nothing is kept and the session stays on its account; an accepted key lives in
    st.session_state (this browser session) only, and the typed widget value is cleared.
    """
    values = {name: str(st.session_state.get(f"wf_{name}") or "").strip()
              for name in CONNECT_FIELDS}
    st.session_state["wf_integration_key"] = ""
    st.session_state.pop(K_CONNECT_ERROR, None)
    try:
        try:
            operator = operator_settings()
        except WhatfixError:  # the dashboard's own configuration is broken: app.py says so
            raise ConnectRefused("This dashboard's configuration is incomplete; ask its "
                                 "operator.") from None
        candidate = form_candidate(operator, values)
        check_connection(candidate)
    except ConnectRefused as refusal:
        st.session_state[K_CONNECT_ERROR] = str(refusal)
        return
    st.session_state[K_CONNECTION] = candidate


def _disconnect() -> None:
    """Button callback: forget the session's credentials (back to the configured account)."""
    st.session_state.pop(K_CONNECTION, None)


def connection_form(current: Settings) -> None:
    """Sidebar form to use another account for this browser session (nothing is saved).

    Not drawn when the operator turned it off (`connect_form = false`).
    """
    if not current.connect_form:
        return
    with st.sidebar.expander("Connect an account", icon=":material/key:"):
        if isinstance(st.session_state.get(K_CONNECTION), Settings):
            st.caption(f"Connected to account **{md_escape(current.account_id)}** for this "
                       "browser session.")
            st.button("Disconnect", key="wf_disconnect", on_click=_disconnect)
            return
        st.caption(f"This session reads the dashboard's account "
                   f"**{md_escape(current.account_id)}**.")
        allowed = ", ".join(allowed_connect_base_urls(current))
        with st.form("wf_connect_form", border=False):
            for name, label in CONNECT_FIELDS.items():
                st.text_input(
                    label, key=f"wf_{name}",
                    type="password" if name == "integration_key" else "default",
                    value=DEFAULT_BASE_URL if name == "base_url" else "",
                    help=f"Allowed: {allowed}" if name == "base_url" else None,
                )
            st.form_submit_button("Connect", on_click=_connect)
        st.caption("All four fields are required; kept in this browser session only, never "
                   "written to disk.")
        if st.session_state.get(K_CONNECT_ERROR):
            st.error(st.session_state[K_CONNECT_ERROR], icon=":material/error:")
