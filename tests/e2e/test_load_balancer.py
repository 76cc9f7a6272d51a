"""Two app replicas behind nginx on one Redis: the second replica's Overview costs no fetch.

The deployment of docs/DEPLOYMENT.md on loopback ports: nginx (Debian's) with sticky sessions
(`ip_hash`, the client address taken from X-Forwarded-For as behind a cloud load balancer) and
websocket proxying, two `streamlit run app.py` replicas, one Redis for the HTTP cache and the
fetch leases. Two browser "clients" with different addresses land on different replicas (checked
in nginx's access log) and each opens the Overview: together they cost the requests of one cold
load.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import requests
from app_process import free_port, running_app
from support import FIXED_TODAY

from whatfix_data import single_flight
from whatfix_data.simulator import SimulatorConfig, start_background

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
# Two client addresses that ip_hash sends to different replicas (it hashes the first 3 octets).
CLIENTS = ("10.0.1.7", "10.0.2.7")
STREAM = "/_stcore/stream"  # Streamlit's websocket: the replica that runs the session

NGINX_CONF = """
worker_processes 1;
{user}
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    log_format upstream '$upstream_addr $request_uri';
    access_log {tmp}/access.log upstream;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;

    # Sticky sessions: one client always reaches the same replica (its websocket and uploads).
    upstream dashboard {{
        ip_hash;
        server 127.0.0.1:{port_a};
        server 127.0.0.1:{port_b};
    }}
    map $http_upgrade $connection_upgrade {{ default upgrade; '' close; }}
    server {{
        listen 127.0.0.1:{port};
        # The client address as a cloud load balancer in front of nginx reports it.
        set_real_ip_from 127.0.0.1;
        real_ip_header X-Forwarded-For;
        location / {{
            proxy_pass http://dashboard;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_read_timeout 1d;
            proxy_buffering off;
        }}
    }}
}}
"""


@pytest.fixture()
def cold_server() -> Iterator[object]:
    """A server of its own (a cache scope nobody fetched yet), with some latency."""
    server = start_background(SimulatorConfig(seed=3, users=2000, today=FIXED_TODAY,
                                              latency_ms=10))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def shared_redis(redis_url) -> str:
    connection = redis.Redis.from_url(redis_url)
    for pattern in ("whatfix_http_cache*", single_flight.KEY_PREFIX + "*"):
        keys = list(connection.scan_iter(match=pattern))
        if keys:
            connection.delete(*keys)
    return redis_url


def _nginx(tmp: Path, port: int, port_a: int, port_b: int) -> subprocess.Popen:
    user = "user root;" if os.geteuid() == 0 else ""  # workers may use the temp folders
    conf = tmp / "nginx.conf"
    conf.write_text(NGINX_CONF.format(user=user, tmp=tmp, port=port, port_a=port_a,
                                      port_b=port_b))
    process = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf), "-g", "daemon off;"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/_stcore/health", timeout=2)
            return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError(f"nginx did not start: {process.stderr.read().decode()}")


def _wait_until_quiet(server, quiet_s: float = 3.0, timeout_s: float = 120) -> None:
    """Until the server saw no request for `quiet_s` (the page's loads are all done)."""
    deadline = time.monotonic() + timeout_s
    seen, since = server.stats()["requests"], time.monotonic()
    while time.monotonic() - since < quiet_s and time.monotonic() < deadline:
        time.sleep(0.2)
        now = server.stats()["requests"]
        if now != seen:
            seen, since = now, time.monotonic()


def _replica_of_each_stream(access_log: Path) -> list[str]:
    return [line.split()[0] for line in access_log.read_text().splitlines()
            if STREAM in line]


@pytest.mark.skipif(not Path(NGINX).exists(), reason="nginx not installed (tests/run_all.sh)")
def test_two_replicas_behind_nginx_cost_the_requests_of_one_cold_load(
        cold_server, shared_redis, tmp_path, browser, wait_idle):
    account = cold_server.accounts[0]
    env = {"WHATFIX_CACHE": shared_redis}
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    with running_app(cold_server, account, tmp_path / "a", **env) as url_a, \
            running_app(cold_server, account, tmp_path / "b", **env) as url_b:
        port = free_port()
        proxy = _nginx(tmp_path, port, int(url_a.rsplit(":", 1)[1]),
                       int(url_b.rsplit(":", 1)[1]))
        try:
            spent = []
            for client in CLIENTS:
                before = cold_server.stats()["requests"]
                context = browser.new_context(extra_http_headers={"X-Forwarded-For": client})
                page = context.new_page()
                page.goto(f"http://127.0.0.1:{port}/")
                wait_idle(page)
                _wait_until_quiet(cold_server)
                assert page.locator("h1").first.inner_text().strip() == "Overview"
                assert page.locator('[data-testid="stException"]').count() == 0
                spent.append(cold_server.stats()["requests"] - before)
                context.close()
            deadline = time.monotonic() + 20  # a websocket is logged once nginx saw it close
            while (len(_replica_of_each_stream(tmp_path / "access.log")) < len(CLIENTS)
                   and time.monotonic() < deadline):
                time.sleep(0.2)
        finally:
            proxy.terminate()
            proxy.wait(timeout=10)
    replicas = _replica_of_each_stream(tmp_path / "access.log")
    assert len(set(replicas)) == 2, replicas  # each client's session ran on its own replica
    cold, second = spent
    assert cold > 50  # the first Overview fetched its datasets
    assert second <= 2, spent  # the other replica: its key check only, the data from Redis
