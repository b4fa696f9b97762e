"""Per-account submission counts: one asset observation per run, the accounts as a table.

One observation per run, not one per account: each observation is an event-log write, and
Dagster 1.13 does not batch ``context.log_event`` (BENCHMARKS.md, "Submitting a run"). No job
materializes the asset: Dagster shows it as an external asset.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from contenthub_dagster.lib import tags

ACCOUNT_SUBMISSIONS_DESCRIPTION = (
    "Observation-only: a record of what task runs submitted, not data that Dagster builds. "
    "Every task run that submits adds one observation; nothing materializes this asset, so "
    "Dagster shows it as an External Asset, its Materialize button stays disabled and "
    "'Never materialized' is expected. Each observation holds an `account_stats` table of every "
    "account's submitted, failed and total, and the run's `submitted`, `failed` and `accounts` "
    "(the Metadata section's Plots view charts them over the observations). The full per-task "
    "history is the content_generation_tasks table."
)

# The spec without a storage kind; definitions use account_submissions_spec(mode).
ACCOUNT_SUBMISSIONS = dg.AssetSpec(
    key="account_submissions",
    description=ACCOUNT_SUBMISSIONS_DESCRIPTION,
    group_name="contenthub",
)


def account_submissions_spec(mode: str | None) -> dg.AssetSpec:
    """The asset as served: kind ``bullmq`` only in queue mode (sync mode submits to no queue)."""
    if mode == "queue":
        return ACCOUNT_SUBMISSIONS.replace_attributes(kinds={"bullmq"})
    return ACCOUNT_SUBMISSIONS


ACCOUNTS_TABLE = dg.TableSchema(
    columns=[
        dg.TableColumn("account_id", "int"),
        dg.TableColumn("account_name", "string"),
        dg.TableColumn("submitted", "int"),
        dg.TableColumn("failed", "int"),
        dg.TableColumn("total", "int"),
    ]
)


def account_observation(result: Mapping[str, Any], task_key: str) -> dg.AssetObservation | None:
    """One observation holding every account of the result's ``account_stats``; None if none."""
    stats = result["data"]["account_stats"]
    if not stats:
        return None
    rows = [
        dg.TableRecord(
            {
                "account_id": int(account_id),
                "account_name": str(row["account_name"]),
                "submitted": row["success"],
                "failed": row["failed"],
                "total": row["total"],
            }
        )
        for account_id, row in stats.items()
    ]
    return dg.AssetObservation(
        asset_key=ACCOUNT_SUBMISSIONS.key,
        metadata={
            "accounts": dg.MetadataValue.int(len(rows)),
            "submitted": dg.MetadataValue.int(sum(r["success"] for r in stats.values())),
            "failed": dg.MetadataValue.int(sum(r["failed"] for r in stats.values())),
            "account_stats": dg.MetadataValue.table(rows, schema=ACCOUNTS_TABLE),
            "task": dg.MetadataValue.text(task_key),
        },
        tags={tags.TASK: task_key},
    )
