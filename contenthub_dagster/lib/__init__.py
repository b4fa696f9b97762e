"""The Dagster layer: ops, config, resources, schedules, sensors, the observed asset, tags.

:mod:`contenthub_dagster.definitions` builds the code location from it.
"""
