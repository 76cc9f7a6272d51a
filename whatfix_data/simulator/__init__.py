"""The built-in Whatfix API server: demo mode of the dashboard and the backbone of the tests.

    from whatfix_data.simulator import SimulatorConfig, start_background, DEMO_ACCOUNTS
    server = start_background(SimulatorConfig(seed=7, users=2000))
    server.base_url   # http://127.0.0.1:PORT/api/v1

See docs/SIMULATOR.md for the data, the semantics of each endpoint and the test controls.
"""

from typing import Any

from whatfix_data.simulator.config import DEMO_ACCOUNTS, DemoAccount, SimulatorConfig
from whatfix_data.simulator.control import SCENARIOS

_LAZY = {"SimServer", "start_background"}  # the server (data generation, pandas) loads on use


def __getattr__(name: str) -> Any:
    """`SimServer` and `start_background` are imported on first use: every CLI command imports
    this package for its demo credentials, only `simulate` and demo mode need the server."""
    if name in _LAZY:
        from whatfix_data.simulator import server

        return getattr(server, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["DEMO_ACCOUNTS", "SCENARIOS", "DemoAccount", "SimServer", "SimulatorConfig",
           "start_background"]
