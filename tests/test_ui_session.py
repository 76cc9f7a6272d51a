"""ui.session without a registry: a refused connection leaves nothing in the process.

The app runs in this process (AppTest), so every Settings, every client and every module-level
structure it could have kept is reachable from here: after a refused attempt none of them may
hold the typed key. The scanner is checked on a planted Settings first, so it can fail.
"""

from __future__ import annotations

import gc
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from ui.session import K_CONNECTION, K_OPERATOR, client_for
from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings

pytestmark = pytest.mark.slow

SUBMIT = "FormSubmitter:wf_connect_form-Connect"
MAX_DEPTH = 6


def _contents(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        yield from value.keys()
        yield from value.values()
    elif isinstance(value, list | tuple | set | frozenset):
        yield from value


def _holds(value: Any, key: str, depth: int = 0, seen: set[int] | None = None) -> bool:
    """True when `value` is, or (nested in containers) contains, the text `key` or a Settings or
    client whose integration key or user it is."""
    seen = set() if seen is None else seen
    if id(value) in seen or depth > MAX_DEPTH:
        return False
    seen.add(id(value))
    if isinstance(value, str):
        return key in value
    if isinstance(value, WhatfixClient):
        value = value.settings
    if isinstance(value, Settings):
        return key in (value.integration_key, value.user)
    return any(_holds(item, key, depth + 1, seen) for item in _contents(value))


def traces_of(key: str) -> list[str]:
    """Where the process keeps `key`: live Settings and clients, and the globals of our modules."""
    gc.collect()
    found = [f"a live {type(obj).__name__}" for obj in gc.get_objects()
             if isinstance(obj, Settings | WhatfixClient) and _holds(obj, key)]
    for name, module in list(sys.modules.items()):
        if not (name == "app" or name.split(".")[0] in ("ui", "whatfix_data", "pages")):
            continue
        for attribute, value in list(vars(module).items()):
            if not attribute.startswith("__") and _holds(value, key):
                found.append(f"{name}.{attribute}")
    return found


def submit(at, base_url: str, account_id: str, user: str, key: str) -> None:
    for field, value in (("wf_base_url", base_url), ("wf_account_id", account_id),
                         ("wf_user", user), ("wf_integration_key", key)):
        at.text_input(key=field).input(value)
    at.button(key=SUBMIT).click().run()


def test_the_scanner_finds_a_kept_settings(make_settings) -> None:
    key = f"planted-{uuid.uuid4().hex}"
    planted = {"kept": [make_settings(integration_key=key)]}
    sys.modules["whatfix_data"].__dict__["_planted_for_test"] = planted
    try:
        assert "whatfix_data._planted_for_test" in traces_of(key)
        assert "a live Settings" in traces_of(key)
    finally:
        del sys.modules["whatfix_data"].__dict__["_planted_for_test"]
    del planted
    assert traces_of(key) == []


def test_a_refused_connection_leaves_nothing_in_the_process(
    app_env, sim_server, demo_account, open_page
):
    other = sim_server.accounts[1]
    wrong_key = f"refused-{uuid.uuid4().hex}"
    at = open_page()
    submit(at, sim_server.base_url, other.account_id, other.user_email, wrong_key)
    assert "401" in " ".join(box.value for box in at.sidebar.error)
    assert K_CONNECTION not in at.session_state
    assert traces_of(wrong_key) == []
    # The session still reads, and holds, only the dashboard's own account.
    assert at.session_state[K_OPERATOR].integration_key == demo_account.integration_key


def test_a_key_refused_with_the_wrong_user_builds_no_client(
    app_env, sim_server, demo_account, open_page
):
    """The operator's key typed with another user: refused, and no client of that pair exists."""
    at = open_page()
    intruder = f"intruder-{uuid.uuid4().hex}@example.com"
    submit(at, sim_server.base_url, demo_account.account_id, intruder,
           demo_account.integration_key)
    assert "401" in " ".join(box.value for box in at.sidebar.error)
    assert traces_of(intruder) == []


def test_the_shared_client_is_keyed_by_scope_not_by_the_settings_object(make_settings) -> None:
    first = make_settings()
    same_account = first.with_changes(max_concurrency=3)  # another object, the same scope
    assert client_for(first) is client_for(same_account)
    assert client_for(first) is not client_for(make_settings(account=1))
