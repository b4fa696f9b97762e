#!/usr/bin/env bash
# The whole test suite, from an activated virtualenv on a fresh machine of this kind: installs
# what the tests need (the package with its dev extras; Debian's redis-server, Chromium and CJK
# fonts), starts the machine's PostgreSQL when it does not answer, then lints and runs pytest.
# The tests start redis-server processes of their own and use only PostgreSQL databases they
# create (TEST_REDIS_URL and TEST_PG_ADMIN_URL point them elsewhere: see README.md).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! python3 -c 'import sys; sys.exit(sys.prefix == sys.base_prefix)'; then
  echo "error: run this from a virtualenv: python3 -m venv .venv && . .venv/bin/activate" >&2
  exit 2
fi
python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]"

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "PostgreSQL does not answer; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

# redis-server for the tests' own servers; Chromium and CJK fonts for the browser test.
if ! command -v redis-server >/dev/null 2>&1 || ! command -v chromium >/dev/null 2>&1 \
  || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  echo "Installing redis-server, Chromium and CJK fonts for the tests"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server chromium fonts-noto-cjk \
    >/dev/null
fi

ruff check .
ruff format --check .
python3 -m pytest "$@"
