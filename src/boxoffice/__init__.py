"""boxoffice: event tickets and bookable slots — watch, book, sync, track."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("boxoffice")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
