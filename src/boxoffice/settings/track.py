"""Settings of the `track` job (section [track], env BOXOFFICE_TRACK_<KEY>)."""

from __future__ import annotations

from pydantic import BaseModel


class TrackSettings(BaseModel):
    """Settings of the track job."""

    def secret_values(self) -> list[str]:
        """Secret values of this section in clear, for redaction only."""
        return []
