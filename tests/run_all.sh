#!/usr/bin/env bash
# Installs everything the test suite needs and runs the whole suite, browser tests included.
# Usage: bash tests/run_all.sh [extra pytest args]
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v pdftoppm >/dev/null 2>&1 || need_apt+=(poppler-utils)
command -v soffice >/dev/null 2>&1 || need_apt+=(libreoffice-impress)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
# The load-balancer test (tests/e2e/test_load_balancer.py) runs two app replicas behind nginx.
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need_apt+=(nginx)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need_apt[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

python3 -m pip install -q --disable-pip-version-check -r requirements.txt -r tests/requirements.txt

# Stoplight Prism (a generated mock of the spec, tests/test_prism.py), into tests/.prism.
PRISM_SPEC="@stoplight/prism-cli@^5.16.0"
if [ ! -x tests/.prism/node_modules/.bin/prism ]; then
  echo "Installing $PRISM_SPEC into tests/.prism"
  mkdir -p tests/.prism
  npm install --no-audit --no-fund --loglevel=error --prefix tests/.prism "$PRISM_SPEC" >/dev/null
fi

# A real Redis for the shared-cache tests, on its own port, stopped when the suite ends.
REDIS_PORT="${WHATFIX_TEST_REDIS_PORT:-6391}"
redis_dir="$(mktemp -d)"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$redis_dir" --daemonize yes --pidfile "$redis_dir/redis.pid" >/dev/null
trap 'kill "$(cat "$redis_dir/redis.pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$redis_dir"' EXIT
export WHATFIX_TEST_REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"

ruff check .
# Browser tests one at a time (each starts app servers and Chromium), then the rest on three
# workers (pytest-xdist): most tests wait on HTTP, subprocesses or a browser, not on a core.
# --dist loadgroup: a module marked xdist_group (costly module fixtures: servers, loaded data,
# built packs) runs on one worker, so those fixtures are made once; other tests spread freely.
pytest_run=(python3 -m pytest -c tests/pytest.ini --rootdir tests -p no:cacheprovider)
"${pytest_run[@]}" tests/e2e "$@"
"${pytest_run[@]}" -n "${WHATFIX_TEST_WORKERS:-3}" --dist loadgroup tests --ignore=tests/e2e "$@"
