"""ContentHub scheduled content generation on Dagster.

The code location is :mod:`contenthub_dagster.definitions`; importing this package loads
nothing else, so the worker and the CLI's light commands stay free of Dagster.
"""
