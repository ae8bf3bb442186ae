"""File helpers for pulled tickets: safe file names and private (0600) streamed writes."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path
from types import TracebackType
from typing import Any

_UNSAFE = re.compile(r"[^\w .,'()+@-]", re.UNICODE)
_SPACES = re.compile(r"\s+")
_RESERVED = frozenset(
    {
        "CON",
        "PRN",
        "AUX",
        "NUL",
        *(f"COM{i}" for i in range(1, 10)),
        *(f"LPT{i}" for i in range(1, 10)),
    }
)


def safe_name(text: str, limit: int = 80) -> str:
    """A file-name component from arbitrary text: letters (any script), digits, space and
    ``.,'()+@-_`` kept; everything else (``/``, ``\\``, ``:``, control chars…) becomes ``_``;
    no leading dots, no reserved Windows names, at most ``limit`` characters."""
    normal = unicodedata.normalize("NFC", text)
    cleaned = _UNSAFE.sub("_", normal)
    cleaned = _SPACES.sub(" ", cleaned).strip(" .")
    if cleaned.upper().split(".")[0] in _RESERVED:
        cleaned = "_" + cleaned
    return cleaned[:limit].rstrip(" .")


def ticket_file_name(ticket: dict[str, Any]) -> str:
    """``<id>_<name>.json`` for a ticket (name from ``name`` or first + last name)."""
    ticket_id = safe_name(str(ticket.get("_id") or "unknown"), 40) or "unknown"
    name = str(ticket.get("name") or "").strip()
    if not name:
        name = f"{ticket.get('firstname') or ''} {ticket.get('lastname') or ''}".strip()
    cleaned = safe_name(name)
    return f"{ticket_id}_{cleaned}.json" if cleaned else f"{ticket_id}.json"


def write_private_fast(path: Path, data: bytes) -> None:
    """Write a small file with mode 0600 (no fsync: for many per-ticket files)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


class JsonArrayWriter:
    """Stream objects into a JSON array file (``path`` appears only once complete).

    Writes to ``<path>.part`` (mode 0600) and renames on :meth:`close`; one object per line.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.part = path.with_name(path.name + ".part")
        fd = os.open(self.part, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._fh = os.fdopen(fd, "wb", buffering=1 << 20)
        self._fh.write(b"[")
        self.count = 0

    def write_raw(self, encoded: bytes) -> None:
        """Append one already-encoded JSON value."""
        self._fh.write(b"\n" if self.count == 0 else b",\n")
        self._fh.write(encoded)
        self.count += 1

    def close(self) -> None:
        """Finish the array and move it into place."""
        self._fh.write(b"\n]\n" if self.count else b"]\n")
        self._fh.close()
        os.replace(self.part, self.path)

    def abort(self) -> None:
        """Stop without publishing (the ``.part`` file is left for inspection)."""
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> JsonArrayWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
