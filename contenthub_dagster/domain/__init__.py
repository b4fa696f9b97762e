"""Pure domain logic: params rules, topic building, result aggregation. No Dagster, no I/O."""
