"""The Dagster layer: jobs, config, resources, schedules, sensors, the observed asset, tags.

Everything Dagster-specific lives below this package; :mod:`.definitions` assembles it.
"""
