"""Pause Python's cyclic garbage collector around the engine's hot loops.

The engine allocates many short-lived tuples and big ints but builds no reference cycles; the collector's
generation scans are pure overhead whose cost grows with the heap, which made time grow faster than the
cluster. Reference counting still frees everything; the collector is restored afterwards.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
