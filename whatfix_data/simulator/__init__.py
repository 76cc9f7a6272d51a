"""The built-in Whatfix API server: demo mode of the dashboard and the backbone of the tests.

    from whatfix_data.simulator import SimulatorConfig, start_background, DEMO_ACCOUNTS
    server = start_background(SimulatorConfig(seed=7, users=2000))
    server.base_url   # http://127.0.0.1:PORT/api/v1

See docs/SIMULATOR.md for the data, the semantics of each endpoint and the test controls.
"""

from whatfix_data.simulator.config import DEMO_ACCOUNTS, DemoAccount, SimulatorConfig
from whatfix_data.simulator.control import SCENARIOS
from whatfix_data.simulator.server import SimServer, start_background

__all__ = ["DEMO_ACCOUNTS", "SCENARIOS", "DemoAccount", "SimServer", "SimulatorConfig",
           "start_background"]
