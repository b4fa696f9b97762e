#!/usr/bin/env bash
# The whole test suite on a fresh machine of this kind: installs what the tests need (the package
# with its dev extras; Debian's Chromium and CJK fonts for the browser test), starts PostgreSQL
# and Redis on their usual loopback ports when they do not answer, then lints and runs pytest.
# Takes about 10 minutes the first time (mostly apt and pip), 4-5 minutes after that.
set -euo pipefail
cd "$(dirname "$0")/.."

python3 -m pip install --quiet --disable-pip-version-check -e ".[dev]"

if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  echo "PostgreSQL does not answer; starting it"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  echo "Redis does not answer; starting it"
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi

# The browser test: Debian's Chromium, and CJK fonts so its screenshots show the task names.
if ! command -v chromium >/dev/null 2>&1 || ! dpkg -s fonts-noto-cjk >/dev/null 2>&1; then
  echo "Installing Chromium and CJK fonts for the browser test"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
fi

ruff check .
ruff format --check .
python3 -m pytest "$@"
