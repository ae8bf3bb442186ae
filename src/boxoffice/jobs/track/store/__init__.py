"""The time-series store of `track`: one interface, SQLite (default) and PostgreSQL backends."""

from __future__ import annotations

from pathlib import Path

from boxoffice.jobs.track.store.base import (
    BucketStats,
    ClaimedRun,
    HeldClaim,
    SectionStats,
    Store,
    StoredEvent,
    StoredListing,
)

__all__ = [
    "BucketStats",
    "ClaimedRun",
    "HeldClaim",
    "SectionStats",
    "Store",
    "StoredEvent",
    "StoredListing",
    "open_store",
]


def is_postgres_url(target: str) -> bool:
    """Whether ``target`` names a PostgreSQL database rather than a SQLite file."""
    return target.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def open_store(
    target: str | Path,
    *,
    compress_after: str | None = "7 days",
    migrate: bool = True,
    read_only: bool = False,
) -> Store:
    """Open (and migrate) the store at ``target``: a PostgreSQL URL or a SQLite file path.

    ``compress_after`` is the TimescaleDB compression policy (None = no policy); it only
    matters when the server has the extension. ``read_only`` opens an existing store for
    reading: nothing is created or migrated, a missing store is a :class:`NotFoundError` and
    one of another schema version a :class:`StorageError`.
    """
    text = str(target)
    if is_postgres_url(text):
        from boxoffice.jobs.track.store.postgres import PostgresStore

        return PostgresStore(
            text, compress_after=compress_after, migrate=migrate, read_only=read_only
        )
    from boxoffice.jobs.track.store.sqlite import SqliteStore

    return SqliteStore(Path(text), migrate=migrate, read_only=read_only)
