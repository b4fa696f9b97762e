"""Helpers of the scheduling tests: task files, and a real HTTP server that receives alerts."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from contenthub_dagster.tasks.loader import TaskCatalog, load_catalog


def task_entry(key: str, **fields: Any) -> dict[str, Any]:
    """A valid task entry; ``fields`` override or add to it."""
    entry: dict[str, Any] = {
        "key": key,
        "name": f"task {key}",
        "task_type": "async_content_generation",
        "params": {"account_ids": [49], "count_per_account": 1},
        "is_active": True,
    }
    entry.update(fields)
    return entry


def write_tasks(path: Path, *entries: dict[str, Any]) -> Path:
    """Write a task file holding ``entries``."""
    path.write_text(
        yaml.safe_dump({"tasks": list(entries)}, allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    return path


def catalog_of(directory: Path, *entries: dict[str, Any]) -> TaskCatalog:
    """The catalog loaded from a task file holding ``entries``."""
    return load_catalog(write_tasks(directory / "tasks.yaml", *entries))


class AlertServer:
    """An HTTP server on 127.0.0.1 that records the JSON bodies POSTed to it."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.status = status
        self.delay = delay
        self.received: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                with server._lock:
                    server.received.append(
                        {
                            "path": self.path,
                            "content_type": self.headers["Content-Type"],
                            "body": body,
                        }
                    )
                time.sleep(server.delay)
                try:
                    self.send_response(server.status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting, as it should with a timeout

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/hooks/secret-token-123"

    def __enter__(self) -> AlertServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def wait_for(self, count: int, timeout: float) -> list[dict[str, Any]]:
        """The bodies received once there are ``count`` of them (or when ``timeout`` passes)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.2)
        with self._lock:
            return list(self.received)
