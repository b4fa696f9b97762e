"""The Dagster layer: the ContentTasks component, ops, config, resources, schedules, sensors.

The code location (:mod:`contenthub_dagster.definitions`) loads the ``defs/`` folder, which
declares what of this package it serves.
"""
