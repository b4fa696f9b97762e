"""Generators (offline, openai, content-creator) and the code path that runs one task."""
