"""Keep pages that differ from what was seen before (and cart-add exchanges) for diagnosis."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import httpx

from boxoffice.core.http import ResponseArchive
from boxoffice.errors import BoxofficeError, map_exception
from boxoffice.platforms.pretix.parser import page_fingerprint


class PageArchiver:
    """Saves a page when its fingerprint is new (bounded); files are redacted and 0600."""

    def __init__(self, directory: Path, secrets: Iterable[str] = (), *, limit: int = 50) -> None:
        self.archive = ResponseArchive(directory, secrets)
        self.limit = limit
        self.seen: set[str] = set()
        self.saved: list[Path] = []
        self.last_path: Path | None = None
        self.failures: list[str] = []

    def consider(self, response: httpx.Response, label: str) -> Path | None:
        """Archive ``response`` if its page is unlike every page seen so far; the path or None."""
        try:
            fingerprint = page_fingerprint(response.text)
        except (UnicodeDecodeError, LookupError):
            fingerprint = str(hash(response.content))
        if fingerprint in self.seen:
            return None
        self.seen.add(fingerprint)
        if len(self.saved) >= self.limit:
            return None
        return self.save(response, label)

    def save(self, response: httpx.Response, label: str) -> Path:
        """Archive ``response`` unconditionally."""
        path = self.archive.save(response, label)
        self.saved.append(path)
        self.last_path = path
        return path

    def save_quietly(self, response: httpx.Response, label: str) -> Path | None:
        """Like :meth:`save`, but a failure to write is recorded in ``failures`` instead of
        raised — for what is archived after the cart add, which must never undo it."""
        try:
            return self.save(response, label)
        except (BoxofficeError, OSError) as exc:
            self.failures.append(map_exception(exc, context=f"archiving {label}").one_line())
            return None

    def consider_quietly(self, response: httpx.Response, label: str) -> Path | None:
        """Like :meth:`consider`, recording a write failure instead of raising it."""
        try:
            return self.consider(response, label)
        except (BoxofficeError, OSError) as exc:
            self.failures.append(map_exception(exc, context=f"archiving {label}").one_line())
            return None
