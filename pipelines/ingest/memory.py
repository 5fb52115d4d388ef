"""A load's memory: collected rarely while it runs, handed back to the operating system after.

A load parses millions of short-lived objects; at the default thresholds Python's cycle collector
keeps re-scanning everything alive, which took about 40% of the extract's CPU (``few_collections``
around a load; ``collect_rarely`` in a worker process that builds rows). Once it ends, Python frees
them, but the allocators keep the pages for reuse: arrow's memory pool its own, glibc's malloc its
arenas. In the process that goes on to start dbt (``deskpulse run``) those pages stay resident
beside dbt's DuckDB for the whole build unless they are handed back (``release_memory``).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import gc
from collections.abc import Iterator

import pyarrow as pa

BULK_GC_THRESHOLDS = (100_000, 50, 1_000)


def _glibc() -> ctypes.CDLL | None:
    """The C library, when it is glibc (the only one with ``malloc_trim``)."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


_LIBC = _glibc()


def release_memory() -> bool:
    """Collect garbage, then return the free pages of arrow's pool and of malloc's arenas to the
    operating system; whether malloc's were (False where the C library is not glibc)."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is None:
        return False
    _LIBC.malloc_trim(0)
    return True


def collect_rarely() -> tuple[int, int, int]:
    """Freeze the objects alive now out of the collector's scans and collect rarely from here on;
    the thresholds before."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*BULK_GC_THRESHOLDS)
    return thresholds


@contextlib.contextmanager
def few_collections() -> Iterator[None]:
    """Collect garbage rarely while a load runs (``collect_rarely``), as usual after."""
    thresholds = collect_rarely()
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
