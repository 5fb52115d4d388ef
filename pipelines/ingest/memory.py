"""Give the memory a finished load held back to the operating system.

A load parses millions of objects and passes its rows through arrow buffers. Once it ends, Python
frees them, but the allocators keep the pages for reuse: arrow's memory pool its own, glibc's
malloc its arenas. In the process that goes on to start dbt (``deskpulse run``) those pages stay
resident beside dbt's DuckDB for the whole build unless they are handed back.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

import pyarrow as pa


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
