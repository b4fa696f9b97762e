"""Deterministic generation task ids, so retries and re-executions never submit twice."""

from __future__ import annotations

import hashlib


def generation_task_id(root_run_id: str, account_id: int, topic_index: int) -> str:
    """``task-`` + 12 hex digits derived from the root run, the account and the topic index."""
    digest = hashlib.sha256(f"{root_run_id}:{account_id}:{topic_index}".encode()).hexdigest()
    return f"task-{digest[:12]}"
