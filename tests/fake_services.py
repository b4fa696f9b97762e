"""Real HTTP servers on 127.0.0.1 for tests: content-creator's task API and an OpenAI-compatible
chat-completions endpoint, each with a programmable script of what to do with each call.

Actions (per call): ``ok``; ``fail`` (content-creator: 201 with ``data.status == "failed"``, as
when its LLM fails; OpenAI: 500); ``nocontent`` (201 completed without content / an empty
completion); ``hang`` (never answer until the server stops); ``close`` (drop the connection
without any reply, as its process does when it crashes); ``reset`` (the same, but with a TCP
reset, as a proxy may); ``ok_close`` (answer ok, then close the connection as a server's
keep-alive idle limit does, without saying so); ``empty`` (a reply without a body);
``reject`` (400, content-creator: field details like its schema's); ``unauthorized`` (401,
echoing the request's key); ``fail_echo`` (OpenAI: 500 echoing the key); ``ratelimit`` (429); ``slow:<seconds>`` (answer ok after a delay).

The content-creator fake also behaves like the real service where no script is needed: its zod
schema's 400s, its task ids taken from ``idempotencyKey`` (a reused key fails as in its SQLite
mode), Markdown with image markers next to a separate ``images`` list, an unrounded score.
Every call is logged (:meth:`FakeServer.request_log`) with the key it sent and what it got.

Both speak HTTP/1.1 and keep connections alive, as the real services do, and count the
connections they accept and see closed, so a test can tell whether a client reuses them.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

FAILURE_REASON = "upstream LLM quota exhausted"
HANG_LIMIT_SECONDS = 300.0


@dataclass
class Call:
    """One request the server received, and what it answered."""

    key: str  # what scripts and counts go by: our task id for content-creator, else the topic
    body: dict[str, Any]
    headers: dict[str, str]  # names lower-cased
    action: str
    idempotency_key: str = ""  # content-creator: exactly as sent
    received_at: float = field(default_factory=time.monotonic)
    finished: bool = False
    status: int | None = None  # None: no reply (dropped or hung); set even if the client left
    reply: Any = None


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
        self.tasks: dict[str, str] = {}  # content-creator's task rows: id -> status
        self.connections_opened = 0
        self.connections_closed = 0

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self.connections_opened += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        super().shutdown_request(request)
        with self._lock:
            self.connections_closed += 1

    def open_connections(self) -> int:
        """Connections accepted and not closed yet (by either side)."""
        with self._lock:
            return self.connections_opened - self.connections_closed

    def create_task(self, task_id: str) -> bool:
        """Insert a running task row; False when the id exists (its primary key)."""
        with self._lock:
            if task_id in self.tasks:
                return False
            self.tasks[task_id] = "running"
            return True

    def set_task(self, task_id: str, status: str) -> None:
        with self._lock:
            self.tasks[task_id] = status

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

    def request_log(self, key: str | None = None) -> list[str]:
        """One line per call (of ``key``, else all): the key sent, the action, the answer."""
        with self._lock:
            calls = [c for c in self.calls if key is None or c.key == key]
        return [
            f"#{n} idempotencyKey={c.idempotency_key or '-'} action={c.action} -> {_outcome(c)}"
            for n, c in enumerate(calls, start=1)
        ]


def _outcome(call: Call) -> str:
    if call.status is None:
        return "no reply (connection dropped)" if call.finished else "no reply yet"
    reply = call.reply
    if reply is None:
        return f"{call.status}, empty body"
    data = reply.get("data") if isinstance(reply, dict) else None
    if isinstance(data, dict):
        error = f": {data['error']}" if data.get("error") else ""
        return f"{call.status} data.status={data.get('status')}{error}"
    error = reply.get("error") if isinstance(reply, dict) else None
    return f"{call.status} {json.dumps(error, ensure_ascii=False)}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeServer
    protocol_version = "HTTP/1.1"  # keep-alive, as content-creator's Express server and OpenAI
    # As Node's HTTP server does: with Nagle's algorithm a kept-alive connection waits for the
    # client's delayed ACK between the headers and the body (~40 ms a call).
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw or b"null")
        except ValueError:
            return None

    _call: Call | None = None

    def _send(self, status: int, payload: Any | None) -> None:
        if self._call is not None:
            # Before writing: a client that has its answer may look at the log at once.
            self._call.status, self._call.reply = status, payload
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _hang(self) -> None:
        self.server.stopping.wait(HANG_LIMIT_SECONDS)
        self.close_connection = True

    def _run(
        self,
        key: str,
        body: Any,
        respond: Callable[[str], None],
        *,
        action: str | None = None,
        idempotency_key: str = "",
    ) -> None:
        """Record the call, then answer it with ``action`` (else the script's next one)."""
        action = action or self.server.script.next_action(key)
        headers = {k.lower(): v for k, v in self.headers.items()}
        call = Call(key, body if isinstance(body, dict) else {}, headers, action, idempotency_key)
        self._call = call
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
            elif action == "reset":
                # Linger 0 makes the close send RST. Closed here, the socket is really closed
                # with the handler's files, before the server's shutdown() could send a FIN.
                linger = struct.pack("ii", 1, 0)
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
                self.connection.close()
                self.close_connection = True
            elif action == "ok_close":
                respond("ok")
                self.close_connection = True
            elif action == "empty":
                self._send(201, None)
            else:
                respond(action)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client is gone (killed worker, timed-out call)
        finally:
            self.server.finish(token)


# content-creator's request schema (src/validators/taskValidators.ts), with zod 4's messages.
_CREATOR_STRINGS = {
    "topic": (500, "Topic is required"),
    "requirements": (2000, "Requirements are required"),
    "targetAudience": (500, "Target audience is required"),
}
UNIQUE_ERROR = "UNIQUE constraint failed: tasks.id"
IMAGE_HOST = "https://images.example.com"
QUALITY_SCORE = 8.399999999999999  # as its score arithmetic returns it


def _js_type(value: Any) -> str:
    if value is None:
        return "undefined"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _js_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _string_issue(value: Any, limit: int, required: str | None) -> str | None:
    if not isinstance(value, str):
        return f"Invalid input: expected string, received {_js_type(value)}"
    if required and _js_length(value) < 1:
        return required
    if _js_length(value) > limit:
        return f"Too big: expected string to have <={limit} characters"
    return None


def creator_validation_issues(body: Any) -> list[dict[str, str]]:
    """The ``{"path", "message"}`` list its zod schema reports for a request body."""
    if not isinstance(body, dict):
        return [
            {"path": "", "message": f"Invalid input: expected object, received {_js_type(body)}"}
        ]
    issues = []
    for name, (limit, required) in _CREATOR_STRINGS.items():
        problem = _string_issue(body.get(name), limit, required)
        if problem:
            issues.append({"path": name, "message": problem})
    if body.get("mode", "sync") not in ("sync", "async"):
        issues.append({"path": "mode", "message": 'Invalid option: expected one of "sync"|"async"'})
    keywords = body.get("keywords")
    if keywords is not None:
        if not isinstance(keywords, list):
            message = f"Invalid input: expected array, received {_js_type(keywords)}"
            issues.append({"path": "keywords", "message": message})
        else:
            issues += [
                {
                    "path": f"keywords.{i}",
                    "message": f"Invalid input: expected string, received {_js_type(k)}",
                }
                for i, k in enumerate(keywords)
                if not isinstance(k, str)
            ]
    for name in ("tone", "idempotencyKey"):
        if body.get(name) is not None:
            problem = _string_issue(body[name], 100 if name == "tone" else 10**9, None)
            if problem:
                issues.append({"path": name, "message": problem})
    priority = body.get("priority")
    if priority is not None:
        if isinstance(priority, bool) or not isinstance(priority, int | float):
            problem = f"Invalid input: expected number, received {_js_type(priority)}"
        elif priority != int(priority):
            problem = "Invalid input: expected int, received number"
        elif priority < 1:
            problem = "Too small: expected number to be >=1"
        elif priority > 4:
            problem = "Too big: expected number to be <=4"
        else:
            problem = None
        if problem:
            issues.append({"path": "priority", "message": problem})
    return issues


def _timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def creator_error_body(message: str, code: str, fields: list[dict[str, str]] | None = None) -> dict:
    """An error body exactly as its error handler (src/middleware/errorHandler.ts) writes it."""
    error: dict[str, Any] = {"message": message, "code": code}
    if fields is not None:
        error["details"] = {"fields": fields}
    return {"success": False, "error": error, "timestamp": _timestamp()}


def creator_content(topic: str) -> str:
    """The Markdown its writer produces: image markers where the images go (three of them)."""
    return (
        f"# {topic}：深度解读\n\n"
        "![背景示意](image-placeholder-1)\n\n"
        f"这是一篇关于{topic}的文章。\n\n"
        "![数据图表](image-placeholder-2)\n\n"
        "## 结语\n\n"
        "![总结配图](image-placeholder-3)\n\n"
        "值得期待。\n"
    )


def creator_images(key: str) -> list[dict[str, Any]]:
    """Its images for task ``key``: only two, so the third marker has none."""
    return [
        {
            "url": f"{IMAGE_HOST}/{key}/{n}.png",
            "localPath": f"data/images/{key}_{n - 1}.png",
            "prompt": prompt,
            "width": 1024,
            "height": 576,
            "format": "png",
        }
        for n, prompt in ((1, "城市道路上的汽车，清晨光线"), (2, "简洁的数据图表，蓝色调"))
    ]


def published_article(topic: str, key: str) -> str:
    """What we must store for :func:`creator_content` of task ``key``, written out by hand."""
    return (
        f"# {topic}：深度解读\n\n"
        f"![背景示意]({IMAGE_HOST}/{key}/1.png)\n\n"
        f"这是一篇关于{topic}的文章。\n\n"
        f"![数据图表]({IMAGE_HOST}/{key}/2.png)\n\n"
        "## 结语\n\n"
        "值得期待。\n"
    )


_OUR_TASK_ID = re.compile(r"task-[0-9a-f]{12}")


class CreatorHandler(_Handler):
    """``POST /api/tasks`` as content-creator's Express API answers it in its default (SQLite)
    storage: the ``idempotencyKey`` becomes the id of a new task row, and a key seen before is a
    primary-key violation that also marks the earlier task failed.

    Calls are scripted and counted by our task id (the key's ``task-<12 hex>`` start), so a test
    can script "this task fails twice, then succeeds" whatever keys its attempts send.
    """

    def do_POST(self) -> None:
        body = self._read_json()  # even for a 404: the next request on the connection follows it
        if self.path.rstrip("/") != "/api/tasks":
            self._send(404, creator_error_body(f"Route not found: POST {self.path}", "NOT_FOUND"))
            return
        sent_key = str(body.get("idempotencyKey") or "") if isinstance(body, dict) else ""
        key = sent_key or str(uuid.uuid4())
        match = _OUR_TASK_ID.match(key)
        group = match.group(0) if match else key
        issues = creator_validation_issues(body)
        if not issues and body.get("mode") == "async":
            self.close_connection = True  # its async HTTP mode kills the process
            return
        if issues:
            action = "invalid"  # refused by its schema before any task row exists
        elif key in self.server.tasks:
            action = "duplicate"
        else:
            action = self.server.script.next_action(group)
            if action != "reject" and not self.server.create_task(key):
                action = "duplicate"  # the same key twice at once
        self._run(
            group,
            body,
            lambda act: self._respond(act, body, key, issues),
            action=action,
            idempotency_key=sent_key,
        )

    def _invalid(self, issues: list[dict[str, str]]) -> None:
        self._send(400, creator_error_body("Request validation failed", "VALIDATION_ERROR", issues))

    def _duplicate(self, key: str) -> None:
        # SyncExecutor.execute: createTask throws, its catch block finds the earlier row by the
        # same id, marks it failed and answers like any failed generation.
        self.server.set_task(key, "failed")
        self._send(201, _failed_reply(key, UNIQUE_ERROR))

    def _respond(
        self, action: str, body: dict[str, Any], key: str, issues: list[dict[str, str]]
    ) -> None:
        if action == "invalid":
            self._invalid(issues)
        elif action == "duplicate":
            self._duplicate(key)
        elif action == "ok":
            content = creator_content(body["topic"])
            images = creator_images(key)
            html = content.replace("![总结配图](image-placeholder-3)", "")
            for n, image in enumerate(images, start=1):
                html = html.replace(f"image-placeholder-{n}", image["localPath"])
            self.server.set_task(key, "completed")
            data = {
                "taskId": key,
                "status": "completed",
                "content": content,
                "htmlContent": html,
                "images": images,
                "qualityScore": QUALITY_SCORE,
                "wordCount": len(content),
                "metrics": {"tokensUsed": 10, "cost": 0.01, "duration": 1, "stepsCompleted": []},
            }
            self._send(201, {"success": True, "data": data, "timestamp": _timestamp()})
        elif action == "fail":
            self.server.set_task(key, "failed")
            self._send(201, _failed_reply(key, FAILURE_REASON))
        elif action == "nocontent":
            self.server.set_task(key, "completed")
            data = {"taskId": key, "status": "completed", "content": "", "wordCount": 0}
            self._send(201, {"success": True, "data": data, "timestamp": _timestamp()})
        elif action == "reject":
            # As if its schema had refused the body; no task row was created.
            message = "Too big: expected string to have <=2000 characters"
            self._invalid([{"path": "requirements", "message": message}])
        else:
            self._send(500, creator_error_body(f"unknown action {action}", "INTERNAL"))


def _failed_reply(key: str, error: str) -> dict[str, Any]:
    """201 with ``data.status == "failed"``: content, images and score are absent (undefined)."""
    data = {
        "taskId": key,
        "status": "failed",
        "wordCount": 0,
        "metrics": {"tokensUsed": 0, "cost": 0, "duration": 3, "stepsCompleted": []},
        "error": error,
    }
    return {"success": True, "data": data, "timestamp": _timestamp()}


_TOPIC_LINE = re.compile(r"^选题：(.*)$", re.MULTILINE)


class OpenAIHandler(_Handler):
    """``POST /v1/chat/completions`` as an OpenAI-compatible server answers it."""

    def do_POST(self) -> None:
        body = self._read_json()  # even for a 404: the next request on the connection follows it
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})
            return
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
            "fail_echo": (500, f"Internal error handling the request with key {self._bearer()}"),
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
