"""Process memory: hand freed heap back to the system once start-up garbage is gone."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import sys

_released = False


def release_free_memory() -> None:
    """Once per process: collect garbage, then ask glibc's allocator to return its free pages
    (``malloc_trim``) — what start-up left behind (import-time objects, parsed settings)
    stops counting in the RSS. Later calls do nothing (the pages given back are faulted in
    again when needed: not something to repeat near a race). A no-op without glibc."""
    global _released
    if _released:
        return
    _released = True
    gc.collect()
    if not sys.platform.startswith("linux"):
        return
    name = ctypes.util.find_library("c") or "libc.so.6"
    try:
        trim = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # musl and others: nothing to ask
        return
    trim(0)
