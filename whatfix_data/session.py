"""The account an entry point works on, resolved once at its start and handed down.

An entry point is app.py (each run of the script) or one CLI command. It calls `open_session`
(the CLI: `cli_session`) once, and passes the `Session` (or its settings, or a client made from
it) to whatever needs the account. Nothing below an entry point reads the secrets or the
environment again, and no module keeps a registry of credentials.

    secrets + WHATFIX_* env ──> open_session ──> credentials set?  yes ──> config.load_settings
                                                                   no  ──> demo.ensure_demo_server
                                                                           + demo.demo_settings
                                               └──> Session(settings) ──> client() / settings

Demo mode (no credentials at all) is decided here and only here: `whatfix_data.config` never
starts the built-in server nor imports `whatfix_data.demo`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from whatfix_data import config, demo
from whatfix_data.client import WhatfixClient
from whatfix_data.config import Settings


@dataclass(frozen=True)
class Session:
    """One resolved account (real or demo) of one entry point; `repr` hides the key."""

    settings: Settings

    @property
    def demo(self) -> bool:
        """True when the account is the built-in server's demo account."""
        return self.settings.demo

    def client(self) -> WhatfixClient:
        """A new client of this account; the caller closes it (`with session.client() as c:`)."""
        return WhatfixClient(self.settings)

    def with_changes(self, **changes: Any) -> Session:
        """The same account with some settings changed (e.g. a command's --concurrency)."""
        return Session(self.settings.with_changes(**changes))


def open_session(secrets: Mapping | None, env: Mapping[str, str] | None) -> Session:
    """Resolve the account of an entry point: the configured one, else the demo account.

    With any credential configured (secrets `[whatfix]` table or WHATFIX_* variables) this is
    `config.load_settings` (incomplete credentials raise ConfigurationError). With none at all,
    the built-in server is started here (once per process, `demo.ensure_demo_server`) and its
    primary demo account is used.
    """
    if config.has_credentials(secrets, env):
        return Session(config.load_settings(secrets, env))
    server = demo.ensure_demo_server(config.collect(None, env)["today"])
    return Session(demo.demo_settings(server, env))


def cli_session() -> Session:
    """The account of a CLI command: ./.streamlit/secrets.toml or ~/.streamlit/secrets.toml (as
    the app reads them), then the WHATFIX_* variables of this process, else the demo account."""
    return open_session(config.read_secrets_file(), os.environ)
