"""No secret survives anywhere we write: plant one in every setting, run every path, grep it all.

Every planted secret contains ``S3CRET``, a string nothing else produces, so one byte search per
artifact finds any of them, whole or in part (a password cut at its ``/`` or ``#`` too).
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import pytest
import redis
import sqlalchemy as sa

from contenthub_dagster.lib.sensors.run_failure import build_task_run_failure_sensor
from contenthub_dagster.storage.engine import normalize_url
from tests.cli_support import write_instance_yaml
from tests.fake_services import OpenAIHandler, serving
from tests.processes import free_port
from tests.scheduling_support import AlertServer
from tests.worker_harness import CLI, wait_until, worker, worker_env

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

MARK = b"S3CRET"
OPENAI_KEY = "sk-openai-S3CRET-a1b2c3"
# Unencoded "/" and "#": the URL must still parse, and mask whole.
REDIS_PASSWORD = "rd/S3CRET#pw-d4e5"
WRONG_REDIS_PASSWORD = "wrong-S3CRET-e5f6"
PG_PASSWORD = "pg-S3CRET-f6g7"
WEBHOOK_TOKEN = "hook-S3CRET-h8i9"
CREATOR_TOKEN = "creator-S3CRET-j0k1"
WEBUI_TOKEN = "webui-S3CRET-l2m3"

TASKS = """\
tasks:
  - key: queued
    name: 队列
    cron_expression: "0 8 * * *"
    params:
      account_ids: [49]
      topics: [{topic: T-retry}, {topic: T-denied}]
  - key: synced
    name: 同步
    cron_expression: "0 9 * * *"
    params:
      account_ids: [49]
      topics: [{topic: T-sync-denied}]
"""


def _accounts(url: str) -> None:
    engine = sa.create_engine(normalize_url(url))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "create table accounts (id integer primary key, name varchar(100) not null, "
                "description varchar(255), is_active boolean not null default true)"
            )
        )
        conn.execute(sa.text("insert into accounts (id, name) values (49, '车界显眼包')"))
    engine.dispose()


@contextmanager
def protected_redis(password: str) -> Iterator[int]:
    """A redis-server of this test's own on a free loopback port, behind ``password``."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--requirepass",
            password,
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=password, socket_timeout=2)
        wait_until(lambda: _pings(client), 20, "the test's redis-server to start")
        yield port
    finally:
        process.terminate()
        process.wait(10)


def _pings(client: redis.Redis) -> bool:
    try:
        return bool(client.ping())
    except redis.RedisError:
        return False


class Artifacts:
    """Everything the paths produced, by name, as bytes."""

    def __init__(self) -> None:
        self.items: dict[str, bytes] = {}

    def add(self, name: str, data: bytes | str) -> None:
        self.items[name] = data.encode() if isinstance(data, str) else data

    def add_tree(self, label: str, root: Path) -> None:
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.add(f"{label}/{path.relative_to(root)}", path.read_bytes())

    def leaks(self) -> list[str]:
        found = []
        for name, data in self.items.items():
            start = data.find(MARK)
            while start != -1:
                found.append(f"{name}: ...{data[max(0, start - 80) : start + 40]!r}...")
                start = data.find(MARK, start + 1)
        return found


def _run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float = 180) -> str:
    done = subprocess.run(
        cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
    # The command line itself is not output: it holds the secrets given on purpose (--url).
    return f"exit {done.returncode}\n{done.stdout}\n{done.stderr}"


def _dump_redis(client: redis.Redis) -> str:
    lines = []
    for key in sorted(client.scan_iter(count=1000)):
        kind = client.type(key)
        if kind == "hash":
            value: object = client.hgetall(key)
        elif kind == "list":
            value = client.lrange(key, 0, -1)
        elif kind == "zset":
            value = client.zrange(key, 0, -1, withscores=True)
        elif kind == "set":
            value = sorted(client.smembers(key))
        elif kind == "stream":
            value = client.xrange(key)
        else:
            value = client.get(key)
        lines.append(f"{key} ({kind}): {value!r}")
    return "\n".join(lines)


def _dump_tables(url: str) -> str:
    engine = sa.create_engine(normalize_url(url))
    try:
        with engine.connect() as conn:
            names = sa.inspect(conn).get_table_names()
            return "\n".join(
                f"{name}: {[dict(r) for r in conn.execute(sa.text(f'select * from {name}')).mappings()]}"
                for name in names
            )
    finally:
        engine.dispose()


def test_no_secret_reaches_any_output(
    tmp_path: Path,
    pg_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _accounts(pg_url)
    database_url = f"{pg_url}?password={PG_PASSWORD}"
    home, work, log_dir = tmp_path / "dagster_home", tmp_path / "work", tmp_path / "logs"
    work.mkdir()
    write_instance_yaml(home)
    (work / "tasks.yaml").write_text(TASKS, encoding="utf-8")
    out = Artifacts()
    prefix = "secrets"

    with (
        protected_redis(REDIS_PASSWORD) as port,
        serving(OpenAIHandler) as openai_server,
        AlertServer() as alerts,
    ):
        redis_url = f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}/0"
        webhook = alerts.url.replace("secret-token-123", WEBHOOK_TOKEN) + f"?token={WEBHOOK_TOKEN}"
        creator_url = f"http://creator:{CREATOR_TOKEN}@127.0.0.1:{free_port()}"
        script = openai_server.script
        script.rule("T-retry", "fail_echo", "ok")
        script.rule("T-denied", "unauthorized")
        script.rule("T-sync-denied", "unauthorized")
        env = worker_env(
            redis_url,
            prefix,
            database_url,
            CONTENTHUB_TASKS=str(work / "tasks.yaml"),
            CONTENTHUB_LOG_DIR=str(log_dir),
            CONTENTHUB_GENERATOR="openai",
            CONTENTHUB_RETRY_BACKOFF_MS="200",
            CONTENTHUB_ALERT_WEBHOOK=webhook,
            CONTENTHUB_CREATOR_URL=creator_url,
            OPENAI_API_KEY=OPENAI_KEY,
            OPENAI_BASE_URL=f"{openai_server.base_url}/v1",
            DAGSTER_HOME=str(home),
        )
        execute = [str(Path(sys.executable).with_name("dagster")), "job", "execute", "-m"]
        execute += ["contenthub_dagster.definitions", "-j"]

        # Queue mode: the run submits; the worker gets a 500 echoing the key, retries, succeeds;
        # and a 401 echoing the key, which fails its job for good.
        out.add("run queued", _run([*execute, "queued"], env, work))
        with worker(tmp_path, "worker", env, "--concurrency", "2") as process:
            rows = lambda: _dump_tables(database_url)  # noqa: E731
            wait_until(
                lambda: (
                    rows().count("'status': 'completed'") >= 1
                    and rows().count("'status': 'failed'") >= 1
                ),
                120,
                "the worker to finish both jobs",
                process.log,
            )
            process.signal(__import__("signal").SIGTERM)
            process.wait(60)
            out.add("worker log", process.log())
        assert [c.action for c in openai_server.calls_for("T-retry")] == ["fail_echo", "ok"]

        # Sync mode: a 401 echoing the key.
        sync_env = {**env, "CONTENTHUB_MODE": "sync"}
        del sync_env["CONTENTHUB_REDIS_URL"]
        out.add("run sync 401", _run([*execute, "synced"], sync_env, work))
        # Sync mode, content-creator behind its token, not answering.
        creator_env = {**sync_env, "CONTENTHUB_GENERATOR": "content-creator"}
        out.add("run sync creator", _run([*execute, "synced"], creator_env, work))
        # Wrong Redis passwords: a run and a worker.
        wrong_url = f"redis://127.0.0.1:{port}/0?password={WRONG_REDIS_PASSWORD}"
        wrong_env = {**env, "CONTENTHUB_REDIS_URL": wrong_url}
        out.add("run wrong redis password", _run([*execute, "queued"], wrong_env, work))
        out.add("worker wrong redis password", _run([str(CLI), "worker"], wrong_env, work))

        # Every CLI command with --json, configured with every secret.
        cli = str(CLI)
        dead = f"http://admin:{WEBUI_TOKEN}@127.0.0.1:{free_port()}/?token={WEBUI_TOKEN}"
        for args in (
            ["tasks", "list", "--json"],
            ["tasks", "show", "queued", "--json"],
            ["tasks", "validate", "--json"],
            ["executions", "--json"],
            ["status", "--json"],
            ["executors", "--json"],
            ["trigger", "queued", "--json", "--url", dead],
        ):
            out.add(f"cli {' '.join(args[:2])}", _run([cli, *args], env, work))
        status = _run([cli, "status", "--json"], env, work)
        assert '"worker_connected"' in status and '"error": null' in status, status

        # The failure sensor on every failed run, with the webhook behind its token.
        for name, value in env.items():
            if name.startswith(("CONTENTHUB_", "OPENAI_", "DAGSTER_")):
                monkeypatch.setenv(name, value)
        sensor = build_task_run_failure_sensor(webhook_timeout=5)
        with dg.DagsterInstance.from_config(str(home)) as instance:
            failed = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.FAILURE]))
            assert len(failed) == 3, [r.job_name for r in failed]
            with caplog.at_level(logging.INFO):
                for run in failed:
                    [record] = instance.all_logs(
                        run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE
                    )
                    sensor(
                        dg.build_run_status_sensor_context(
                            sensor_name=sensor.name,
                            dagster_instance=instance,
                            dagster_run=run,
                            dagster_event=record.dagster_event,
                        )
                    )
        bodies = alerts.wait_for(3, timeout=10)
        assert len(bodies) == 3
        # What was POSTed; the path it was POSTed to is the webhook URL, secret by design.
        out.add("alert bodies", json.dumps([b["body"] for b in bodies], ensure_ascii=False))
        out.add("sensor logs", caplog.text)

        client = redis.Redis(
            host="127.0.0.1", port=port, password=REDIS_PASSWORD, decode_responses=True
        )
        dump = _dump_redis(client)
        # The 500's attempt left a stack trace in the job hash: it is there, and clean.
        assert '"stacktrace"' in dump or "'stacktrace'" in dump
        assert "Traceback" in dump
        out.add("redis dump", dump)
        client.close()

    out.add("tables", _dump_tables(database_url))
    out.add_tree("dagster home", home)
    out.add_tree("log dir", log_dir)
    assert {"scheduler.log", "async_content_executor.log"} <= {p.name for p in log_dir.iterdir()}
    compute_logs = [p for p in home.rglob("*") if p.suffix in (".out", ".err", ".complete")]
    assert compute_logs, "the runs wrote compute logs"

    leaks = out.leaks()
    assert not leaks, "secrets leaked:\n" + "\n".join(leaks)
    # The paths really ran: what they say is there, masked.
    everything = b"\n".join(out.items.values()).decode(errors="replace")
    assert "Incorrect API key provided: ***" in everything
    assert "redis://:***@127.0.0.1" in everything
    assert os.environ.get("OPENAI_API_KEY") == OPENAI_KEY
