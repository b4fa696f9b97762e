"""Cyclic garbage collection paused while thousands of long-lived objects are built at once.

Each generation-0 collection triggered during a bulk build is cheap, but the objects it
survives are promoted and later rescanned by generation-1 and -2 collections, which also walk
every object Dagster's import left behind (~200,000). Loading 1,000 tasks and building their
jobs triggered ~230 collections costing ~0.25 s of a ~1 s load (benchmarks/load_definitions.py).
Nothing built there is garbage until the code location is reloaded, so pausing loses nothing:
reference counting still frees what it can, and the next collection after the pause finds any
cycles left over.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic collector for the block; it resumes only if it was running before."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
