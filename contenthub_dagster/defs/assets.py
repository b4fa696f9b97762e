"""Per-account submission counts as asset observations, so the UI plots them over time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg

from contenthub_dagster.defs import tags

ACCOUNTS_PARTITIONS = dg.DynamicPartitionsDefinition(name="contenthub_accounts")

ACCOUNT_SUBMISSIONS = dg.AssetSpec(
    key="account_submissions",
    description=(
        "Generation tasks submitted and failed per account (partition = account id), observed "
        "by every task run. The Plots tab charts `submitted` and `failed` over time."
    ),
    partitions_def=ACCOUNTS_PARTITIONS,
    group_name="contenthub",
    kinds={"bullmq"},
)


def account_observations(result: Mapping[str, Any], task_key: str) -> list[dg.AssetObservation]:
    """One observation per account in the result's ``account_stats``."""
    return [
        dg.AssetObservation(
            asset_key=ACCOUNT_SUBMISSIONS.key,
            partition=account_id,
            metadata={
                "submitted": dg.MetadataValue.int(stats["success"]),
                "failed": dg.MetadataValue.int(stats["failed"]),
                "total": dg.MetadataValue.int(stats["total"]),
                "account_name": dg.MetadataValue.text(str(stats["account_name"])),
                "task": dg.MetadataValue.text(task_key),
            },
            tags={tags.TASK: task_key},
        )
        for account_id, stats in result["data"]["account_stats"].items()
    ]
