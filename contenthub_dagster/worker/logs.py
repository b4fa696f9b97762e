"""The worker's log lines, written by a thread of their own rather than by the event loop.

The worker logs a line per job. Written from the event loop, each line's write and flush gives
up the GIL, and under load the loop then waits for a generation thread to hand it back before
it can serve BullMQ again. Handing the record to a queue costs the loop nothing of the kind.
"""

from __future__ import annotations

import logging
import queue
from logging.handlers import QueueHandler, QueueListener
from typing import TextIO

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

_listener: QueueListener | None = None


def start_worker_logging(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Route the root logger through a queue to ``stream`` (stderr by default)."""
    global _listener
    stop_worker_logging()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    records: queue.SimpleQueue[logging.LogRecord] = queue.SimpleQueue()
    root = logging.getLogger()
    root.setLevel(level)
    root.addHandler(QueueHandler(records))
    _listener = QueueListener(records, handler)
    _listener.start()


def stop_worker_logging() -> None:
    """Write out every queued line and stop the writer thread (also before ``os._exit``)."""
    global _listener
    if _listener is None:
        return
    listener, _listener = _listener, None
    listener.stop()
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, QueueHandler)]:
        root.removeHandler(handler)
    for handler in listener.handlers:
        handler.flush()
