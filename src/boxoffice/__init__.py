"""boxoffice: event tickets and bookable slots — watch, book, sync, track."""

from __future__ import annotations


def __getattr__(name: str) -> str:
    """``__version__`` is read from the installed metadata on first use (it costs ~50 ms)."""
    if name != "__version__":
        raise AttributeError(f"module 'boxoffice' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        value = version("boxoffice")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        value = "0.0.0"
    globals()["__version__"] = value
    return value
