"""Redis cache backend against a real redis-server: shared between processes, no credentials."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from whatfix_data.cache import REDIS_NAMESPACE
from whatfix_data.client import WhatfixClient
from whatfix_data.errors import CacheUnavailableError

PAST = {"startDate": "2026-09-01", "endDate": "2026-09-30"}
FLOWS = "/analytics/flows"
REPO_ROOT = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter: same settings, same Redis, one past-window request.
SECOND_PROCESS = textwrap.dedent(
    """
    import json, sys
    from whatfix_data.client import WhatfixClient
    from whatfix_data.config import Settings

    settings = Settings(**json.loads(sys.stdin.read()))  # stdin: keys stay out of argv
    with WhatfixClient(settings, verify=False) as client:
        result = client.get_json("/analytics/flows", json.loads(sys.argv[1]))
    print(json.dumps({"from_cache": result.meta.from_cache,
                      "network": client.network_requests,
                      "flows": len(result.payload["data"])}))
    """
)


@pytest.fixture()
def redis_settings(make_settings, redis_url):
    settings = make_settings(cache=redis_url)
    with WhatfixClient(settings, verify=False) as client:
        client.cache.clear()  # only our namespace: a clean slate for each test
    return settings


def _settings_json(settings) -> str:
    fields = {name: getattr(settings, name) for name in settings.__dataclass_fields__}
    return json.dumps(fields)


def test_a_second_process_finds_the_first_ones_responses(sim_server, redis_settings):
    with WhatfixClient(redis_settings, verify=False) as first:
        fresh = first.get_json(FLOWS, PAST)
    assert not fresh.meta.from_cache
    before = sim_server.stats()
    completed = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, json.dumps(PAST)],
        input=_settings_json(redis_settings), capture_output=True, text=True, cwd=REPO_ROOT,
        timeout=60, check=True,
    )
    outcome = json.loads(completed.stdout.strip().splitlines()[-1])
    after = sim_server.stats()
    assert outcome == {"from_cache": True, "network": 0, "flows": len(fresh.payload["data"])}
    assert after["requests"] == before["requests"]  # the API saw nothing from process two


def test_redis_values_hold_no_credentials(redis_settings, demo_account):
    with WhatfixClient(redis_settings) as client:
        client.get_json(FLOWS, PAST)
        client.get_all_pages("/segments", kind="list", id_field="segmentId")
        connection = client.cache.responses.connection
        keys = connection.keys(f"{REDIS_NAMESPACE}*")
        values = [connection.get(key) or b"" for key in keys if connection.type(key) == b"string"]
    assert len(values) >= 2
    for value in values:
        assert demo_account.integration_key.encode() not in value
    assert any(b"REDACTED" in value for value in values)


def test_clearing_one_account_keeps_the_others_in_a_shared_redis(make_sim_server, make_settings,
                                                                 redis_url) -> None:
    from test_cache import assert_clearing_one_scope_keeps_the_other

    assert_clearing_one_scope_keeps_the_other(make_sim_server(), make_settings, redis_url)


def test_a_redis_that_is_down_means_live_requests_and_a_warning(make_settings) -> None:
    """The shared cache is down: the data still comes (uncached), and the client says why,
    without the Redis password."""
    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings = make_settings(cache=f"redis://:s3cret-pw@127.0.0.1:{closed_port}/0")
    with WhatfixClient(settings, verify=False) as client:
        assert client.cache_problem is None
        result = client.get_json("/segments", {"page": 1, "pageSize": 1}, kind="list")
        assert result.payload["data"] and not result.meta.from_cache
        assert "WHATFIX_CACHE" in client.cache_problem
        assert "s3cret-pw" not in client.cache_problem
        pages = client.get_all_pages("/segments", kind="list", id_field="segmentId")
        assert pages.records  # later requests skip the dead cache
        with pytest.raises(CacheUnavailableError) as caught:
            client.clear_cache()
        assert "s3cret-pw" not in caught.value.user_message
