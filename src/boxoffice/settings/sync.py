"""Settings of the `sync` job (section [sync], env BOXOFFICE_SYNC_<KEY>)."""

from __future__ import annotations

from pydantic import BaseModel


class SyncSettings(BaseModel):
    """Settings of the sync job."""

    def secret_values(self) -> list[str]:
        """Secret values of this section in clear, for redaction only."""
        return []
