"""Memory a finished stage freed, given back to the system.

glibc keeps what a process freed in its heaps for the next allocation, so after training (a
few hundred MB of activations churned each step) the process stays at its high-water mark while
evaluation loads its own models on top. `release()` collects Python's garbage and asks glibc to
return free pages (malloc_trim); elsewhere (macOS, musl) it only collects.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def _libc() -> Any:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release() -> None:
    """Collect garbage, then return the heaps' free pages to the system where glibc can."""
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)
