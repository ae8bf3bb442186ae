"""Process memory: hand freed heap back to the system once start-up garbage is gone."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys


def release_free_memory() -> None:
    """Collect garbage, then ask glibc's allocator to return its free pages (``malloc_trim``)
    — what start-up left behind (import-time objects, parsed settings) stops counting in the
    RSS. A no-op where there is no glibc."""
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # musl and others: nothing to ask
        return
    trim(0)
