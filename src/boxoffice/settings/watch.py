"""Settings of the `watch` job (section [watch], env BOXOFFICE_WATCH_<KEY>)."""

from __future__ import annotations

from pydantic import BaseModel


class WatchSettings(BaseModel):
    """Settings of the watch job."""

    def secret_values(self) -> list[str]:
        """Secret values of this section in clear, for redaction only."""
        return []
