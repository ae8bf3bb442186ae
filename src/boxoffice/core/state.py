"""Local state: the per-user state dir, private files (0600), and SQLite with migrations.

Every job keeps its state under :func:`state_dir` (``BOXOFFICE_STATE_DIR`` or ``state_dir`` in
the config overrides the platform default). SQLite databases are opened in WAL mode with a
busy timeout, and migrated by version number (``PRAGMA user_version``).

Whatever is created here is private to the user: missing directories get mode 0700, private
files and new SQLite databases (with their ``-wal`` / ``-shm`` files) mode 0600. Existing
directories are left as they are.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from boxoffice.core import pacing
from boxoffice.errors import StorageError

APP_NAME = "boxoffice"
BUSY_TIMEOUT_MS = 30_000


STATE_DIR_ENV = "BOXOFFICE_STATE_DIR"
DATA_DIR_ENV = "BOXOFFICE_DATA_DIR"


def _from_env(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser() if value else None


def make_private_dirs(path: Path) -> Path:
    """Create ``path`` and any missing parents with mode 0700 (existing ones are left alone).

    Raises :class:`OSError` like :meth:`Path.mkdir` (e.g. a file is in the way).
    """
    missing: list[Path] = []
    current = path
    while not current.exists() and current.parent != current:
        missing.append(current)
        current = current.parent
    for directory in reversed(missing):
        directory.mkdir(mode=0o700, exist_ok=True)  # another process may have made it meanwhile
    if not path.is_dir():
        path.mkdir()  # raises the OSError that says why (FileExistsError, NotADirectoryError)
    return path


def state_dir_path(configured: Path | None = None) -> Path:
    """Where the state dir is (:func:`state_dir` without creating it)."""
    return configured or _from_env(STATE_DIR_ENV) or Path(platformdirs.user_state_dir(APP_NAME))


def state_dir(configured: Path | None = None) -> Path:
    """The state dir (created, mode 0700).

    ``configured`` (the ``state_dir`` setting) wins, then env ``BOXOFFICE_STATE_DIR``, then the
    per-user default (platformdirs).
    """
    path = state_dir_path(configured)
    try:
        make_private_dirs(path)
    except OSError as exc:
        raise StorageError(
            f"cannot create state dir {path}: {exc.strerror}",
            hint="set BOXOFFICE_STATE_DIR to a writable folder",
        ) from exc
    return path


def data_dir(configured: Path | None = None) -> Path:
    """The data dir (created, mode 0700): ``configured``, env ``BOXOFFICE_DATA_DIR``, or the
    default. It holds track's store, whose rows are the user's own collected data."""
    path = configured or _from_env(DATA_DIR_ENV) or Path(platformdirs.user_data_dir(APP_NAME))
    try:
        make_private_dirs(path)
    except OSError as exc:
        raise StorageError(
            f"cannot create data dir {path}: {exc.strerror}",
            hint="set BOXOFFICE_DATA_DIR to a writable folder",
        ) from exc
    return path


def unwritable_reason(path: Path) -> str | None:
    """Why files could not be created in the folder ``path`` (which may not exist yet), or
    None when they can.

    Nothing is left behind: an existing folder gets a probe file that is removed at once; a
    missing one is judged by its nearest existing parent (it would be created there).
    """
    current = path
    while not current.exists():
        if current.parent == current:
            break
        current = current.parent
    if not current.is_dir():
        return f"{current} is not a folder"
    try:
        fd, probe = tempfile.mkstemp(dir=current, prefix=".boxoffice-probe-")
    except OSError as exc:
        return f"cannot create files in {current}: {exc.strerror or exc}"
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return None


def write_private(path: Path, data: bytes) -> Path:
    """Write ``data`` atomically to ``path`` with mode 0600 (never readable by others).

    Missing parent directories are created with mode 0700.
    """
    try:
        make_private_dirs(path.parent)
    except OSError as exc:
        raise StorageError(f"cannot create {path.parent}: {exc.strerror}") from exc
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise StorageError(f"cannot write {path}: {exc.strerror}") from exc
    return path


def connect(path: Path, migrations: Sequence[str] = ()) -> sqlite3.Connection:
    """Open (and migrate) a SQLite database in WAL mode.

    A new database is created with mode 0600 (its ``-wal`` and ``-shm`` files too), in parent
    directories created with mode 0700.

    ``migrations[i]`` is the SQL script that takes the schema from version ``i`` to ``i + 1``;
    each runs in its own transaction together with the version bump, so a crash leaves the
    database at a whole version.
    """
    try:
        make_private_dirs(path.parent)
        created = _create_private(path)
    except OSError as exc:
        raise StorageError(f"cannot create {exc.filename or path}: {exc.strerror}") from exc
    try:
        conn = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite database {path}: {exc}") from exc
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        _set_wal(conn)
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, migrations)
        if created:
            _chmod_sidecars(path)
    except StorageError as exc:
        conn.close()
        raise StorageError(f"SQLite database {path}: {exc.message}", hint=exc.hint) from exc
    except sqlite3.Error as exc:
        conn.close()
        raise StorageError(f"SQLite database {path}: {exc}") from exc
    return conn


def _set_wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode (a no-op once it is).

    While another process opens or migrates the same new file, SQLite can answer this pragma
    "database is locked" at once, without waiting for its busy timeout (it does so where
    waiting could deadlock). So it is retried, with short growing pauses, up to that timeout.
    """
    pauses = pacing.Backoff(base=0.005, factor=2.0, cap=0.1)
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pauses.next())


def _create_private(path: Path) -> bool:
    """Create ``path`` empty with mode 0600 unless it exists (SQLite takes an empty file as a
    new database); whether it was created here."""
    if path.exists():
        return False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    try:
        os.fchmod(fd, 0o600)  # exactly 0600 whatever the umask
    finally:
        os.close(fd)
    return True


def _chmod_sidecars(path: Path) -> None:
    """The ``-wal`` / ``-shm`` files of a new database: 0600 like the database itself."""
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            os.chmod(sidecar, 0o600)


def migrate(conn: sqlite3.Connection, migrations: Sequence[str]) -> int:
    """Apply pending migrations; returns the resulting schema version."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > len(migrations):
        raise StorageError(
            f"database schema version {version} is newer than this boxoffice knows "
            f"({len(migrations)})",
            hint="upgrade boxoffice",
        )
    for index in range(version, len(migrations)):
        conn.execute("BEGIN IMMEDIATE")
        try:
            # re-check under the write lock: another process may have migrated meanwhile
            current = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if current > index:
                conn.execute("COMMIT")
                continue
            for statement in _split(migrations[index]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {index + 1}")
            conn.execute("COMMIT")
        except BaseException as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise StorageError(
                    f"migration to schema version {index + 1} failed: {exc}",
                    hint=f"the database was left at version {index}",
                ) from exc
            raise
    return len(migrations)


def _split(script: str) -> list[str]:
    statements, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            statements.append(buf.strip())
            buf = ""
    if buf.strip():
        statements.append(buf.strip())
    return statements
