"""Keep pages that differ from what was seen before (and cart-add exchanges) for diagnosis."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import httpx

from boxoffice.core.http import ResponseArchive
from boxoffice.platforms.pretix.parser import page_fingerprint


class PageArchiver:
    """Saves a page when its fingerprint is new (bounded); files are redacted and 0600."""

    def __init__(self, directory: Path, secrets: Iterable[str] = (), *, limit: int = 50) -> None:
        self.archive = ResponseArchive(directory, secrets)
        self.limit = limit
        self.seen: set[str] = set()
        self.saved: list[Path] = []
        self.last_path: Path | None = None

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
