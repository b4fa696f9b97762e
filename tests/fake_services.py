"""Real HTTP servers on 127.0.0.1 for tests: content-creator's task API and an OpenAI-compatible
chat-completions endpoint, each with a programmable script of what to do with each call.

Actions (per call): ``ok``; ``fail`` (content-creator: 201 with ``data.status == "failed"``;
OpenAI: 500); ``nocontent`` (201 completed without content / an empty completion); ``hang``
(never answer until the server stops); ``close`` (drop the connection without a reply); ``empty``
(an empty body); ``reject`` (400); ``unauthorized`` (401, echoing the request's key);
``ratelimit`` (429); ``slow:<seconds>`` (answer ok after a delay).
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAILURE_REASON = "upstream LLM quota exhausted"
HANG_LIMIT_SECONDS = 300.0


@dataclass
class Call:
    """One request the server received."""

    key: str
    body: dict[str, Any]
    headers: dict[str, str]  # names lower-cased
    action: str
    received_at: float = field(default_factory=time.monotonic)
    finished: bool = False


class Script:
    """Per-key action lists, consumed call by call (the last action repeats), and a default."""

    def __init__(self, default: str = "ok") -> None:
        self._lock = threading.Lock()
        self._rules: dict[str, list[str]] = {}
        self._seen: dict[str, int] = {}
        self.default = default

    def rule(self, key: str, *actions: str) -> None:
        with self._lock:
            self._rules[key] = list(actions)

    def set_default(self, action: str) -> None:
        with self._lock:
            self.default = action

    def next_action(self, key: str) -> str:
        with self._lock:
            n = self._seen.get(key, 0)
            self._seen[key] = n + 1
            actions = self._rules.get(key)
            if not actions:
                return self.default
            return actions[min(n, len(actions) - 1)]


class FakeServer(ThreadingHTTPServer):
    """A threaded HTTP server that records calls and follows a script."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.script = Script()
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self.calls: list[Call] = []
        self._in_flight: dict[int, Call] = {}

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def record(self, call: Call) -> int:
        with self._lock:
            self.calls.append(call)
            self._in_flight[id(call)] = call
            return id(call)

    def finish(self, token: int) -> None:
        with self._lock:
            call = self._in_flight.pop(token, None)
            if call is not None:
                call.finished = True

    def in_flight(self) -> list[str]:
        """Keys of the calls being handled right now."""
        with self._lock:
            return [c.key for c in self._in_flight.values()]

    def keys(self) -> list[str]:
        """Keys of every call, in arrival order."""
        with self._lock:
            return [c.key for c in self.calls]

    def count(self, key: str) -> int:
        return self.keys().count(key)

    def calls_for(self, key: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.key == key]


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    def _send(self, status: int, payload: Any | None) -> None:
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _hang(self) -> None:
        self.server.stopping.wait(HANG_LIMIT_SECONDS)
        self.close_connection = True

    def _run(self, key: str, body: Any, respond: Any) -> None:
        action = self.server.script.next_action(key)
        headers = {k.lower(): v for k, v in self.headers.items()}
        call = Call(key, body if isinstance(body, dict) else {}, headers, action)
        token = self.server.record(call)
        try:
            if action.startswith("slow:"):
                if self.server.stopping.wait(float(action.split(":", 1)[1])):
                    self.close_connection = True
                    return
                action = "ok"
            if action == "hang":
                self._hang()
            elif action == "close":
                self.close_connection = True  # no status line at all: the client sees a drop
            elif action == "empty":
                self._send(201, None)
            else:
                respond(action)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client is gone (killed worker, timed-out call)
        finally:
            self.server.finish(token)


def _creator_validation_error(body: Any) -> str | None:
    """content-creator's request schema (zod), as its source declares it."""
    if not isinstance(body, dict):
        return "body must be a JSON object"
    for name, limit in (("topic", 500), ("requirements", 2000), ("targetAudience", 500)):
        value = body.get(name)
        if not isinstance(value, str) or not 1 <= len(value) <= limit:
            return f"{name} is required (1-{limit} characters)"
    if body.get("mode", "sync") not in ("sync", "async"):
        return "mode must be sync or async"
    keywords = body.get("keywords")
    if keywords is not None and not (
        isinstance(keywords, list) and all(isinstance(k, str) for k in keywords)
    ):
        return "keywords must be an array of strings"
    tone = body.get("tone")
    if tone is not None and not (isinstance(tone, str) and len(tone) <= 100):
        return "tone must be a string of at most 100 characters"
    priority = body.get("priority")
    if priority is not None and not (
        isinstance(priority, int) and not isinstance(priority, bool) and 1 <= priority <= 4
    ):
        return "priority must be an integer from 1 to 4"
    return None


class CreatorHandler(_Handler):
    """``POST /api/tasks`` as content-creator's Express API answers it."""

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/api/tasks":
            self._send(404, {"success": False, "error": {"message": "Not found"}})
            return
        body = self._read_json()
        problem = _creator_validation_error(body)
        if problem:
            self._send(
                400,
                {"success": False, "error": {"message": problem, "code": "VALIDATION_ERROR"}},
            )
            return
        if body.get("mode") == "async":
            self.close_connection = True  # its async HTTP mode kills the process
            return
        key = str(body.get("idempotencyKey") or uuid.uuid4())
        self._run(key, body, lambda action: self._respond(action, body))

    def _respond(self, action: str, body: dict[str, Any]) -> None:
        data: dict[str, Any] = {"taskId": str(uuid.uuid4())}
        if action == "ok":
            content = creator_article(body["topic"])
            data.update(
                status="completed",
                content=content,
                htmlContent=f"<h1>{body['topic']}</h1>",
                images=[{"url": "http://img/1.png", "prompt": "p", "width": 1, "height": 1}],
                qualityScore=8.5,
                wordCount=len(content),
                metrics={"tokensUsed": 10, "cost": 0.01, "duration": 1, "stepsCompleted": []},
            )
        elif action == "fail":
            data.update(status="failed", error=FAILURE_REASON)
        elif action == "nocontent":
            data.update(status="completed", content="")
        elif action == "reject":
            self._send(400, {"success": False, "error": {"message": "Invalid task"}})
            return
        else:
            self._send(500, {"success": False, "error": {"message": f"unknown action {action}"}})
            return
        self._send(201, {"success": True, "data": data, "timestamp": "2026-11-28T00:00:00Z"})


def creator_article(topic: str) -> str:
    """The article the fake content-creator writes for a topic."""
    return f"# {topic}：深度解读\n\n这是一篇关于{topic}的文章。\n"


_TOPIC_LINE = re.compile(r"^选题：(.*)$", re.MULTILINE)


class OpenAIHandler(_Handler):
    """``POST /v1/chat/completions`` as an OpenAI-compatible server answers it."""

    def do_POST(self) -> None:
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})
            return
        body = self._read_json()
        messages = body.get("messages") if isinstance(body, dict) else None
        user = next((m.get("content", "") for m in messages or [] if m.get("role") == "user"), "")
        match = _TOPIC_LINE.search(user)
        key = match.group(1) if match else "?"
        self._run(key, body, lambda action: self._respond(action, body, key))

    def _respond(self, action: str, body: dict[str, Any], topic: str) -> None:
        if action in ("ok", "nocontent"):
            content = "" if action == "nocontent" else f"# {topic}\n\n关于{topic}的正文。\n"
            self._send(
                200,
                {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 1,
                    "model": body.get("model"),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
                },
            )
            return
        status, message = {
            "fail": (500, "The server had an error"),
            "reject": (400, "Invalid request"),
            "ratelimit": (429, "Rate limit reached"),
            # Some compatible servers echo the credential they refused.
            "unauthorized": (401, f"Incorrect API key provided: {self._bearer()}"),
        }.get(action, (500, f"unknown action {action}"))
        self._send(status, {"error": {"message": message, "type": "error", "code": None}})

    def _bearer(self) -> str:
        return (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip()


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[FakeServer]:
    """Run a fake server on a free port for the duration of the block."""
    server = FakeServer(handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()  # releases hanging and slow calls
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
