"""Demo mode: the built-in Whatfix server, started once per process, behind ordinary Settings.

With no credentials configured, an entry point (app.py, a CLI command) calls
`whatfix_data.session.open_session`, which starts the server here (`ensure_demo_server`) and
uses `demo_settings(server)`. From there the dashboard and the CLI use the very same client, cache
and frames as with a real account: only the base URL points at a loopback port. The demo cache
defaults to `memory` (override with WHATFIX_CACHE): the port changes per process, so a disk cache
would only grow. Reading the settings (`whatfix_data.config`) never starts the server.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from datetime import date
from typing import Any

from whatfix_data.config import CACHE_MEMORY, ENV_PREFIX, Settings, collect, settings_from_values

_lock = threading.Lock()
_server: Any = None


def ensure_demo_server(today: date | None = None) -> Any:
    """The process-wide built-in server, started by the first call on a free loopback port.

    `today` (the `today` setting) is the last day of its history; only the first call starts it,
    later calls (from any thread) return the same server.
    """
    global _server
    with _lock:
        if _server is None:
            from whatfix_data.simulator import SimulatorConfig, start_background

            config = SimulatorConfig() if today is None else SimulatorConfig(today=today)
            _server = start_background(config)
        return _server


def demo_settings(server: Any, env: Mapping[str, str] | None = None) -> Settings:
    """Settings for the primary demo account of a started built-in `server` (`demo=True`).

    Non-credential settings (cache, concurrency, TTLs, timeouts, today) still come from
    WHATFIX_* env variables; the credentials are the demo account's.
    """
    env = os.environ if env is None else env
    values = collect(None, env)
    account = server.accounts[0]
    if not env.get(ENV_PREFIX + "CACHE"):
        values["cache"] = CACHE_MEMORY
    values.update(
        base_url=server.base_url,
        account_id=account.account_id,
        integration_key=account.integration_key,
        user=account.user_email,
    )
    return settings_from_values(values, demo=True)
