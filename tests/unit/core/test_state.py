"""Local state: state/data dirs, private files (0600, atomic), SQLite in WAL with migrations."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from boxoffice.core import state
from boxoffice.core.state import connect, data_dir, state_dir, write_private
from boxoffice.errors import StorageError

MIGRATIONS = [
    # v0 -> v1
    """
    CREATE TABLE ledger (id TEXT PRIMARY KEY, status TEXT NOT NULL);
    CREATE INDEX ledger_status ON ledger (status);
    """,
    # v1 -> v2: not idempotent on purpose (a re-run would fail or duplicate)
    """
    ALTER TABLE ledger ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
    CREATE TABLE runs (n INTEGER);
    INSERT INTO runs VALUES (1);
    CREATE TRIGGER ledger_touch AFTER UPDATE ON ledger BEGIN
        UPDATE runs SET n = n + 1;
    END;
    """,
]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _version(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _tables(path: Path) -> set[str]:
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """A careless umask: files must still end up private."""
    old = os.umask(0)
    try:
        yield
    finally:
        os.umask(old)


# --- dirs ------------------------------------------------------------------------------------


def test_state_dir_configured_is_created_private(tmp_path: Path, umask_zero: None) -> None:
    path = state_dir(tmp_path / "a" / "state")
    assert path == tmp_path / "a" / "state"
    assert path.is_dir()
    assert _mode(path) == 0o700
    assert _mode(tmp_path / "a") == 0o700  # missing parents too


def test_existing_directories_keep_their_mode(tmp_path: Path, umask_zero: None) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    write_private(shared / "new" / "f", b"x")
    assert _mode(shared) == 0o755
    assert _mode(shared / "new") == 0o700


def test_state_dir_follows_env_then_platform_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BOXOFFICE_STATE_DIR", str(tmp_path / "from-env"))
    assert state_dir() == tmp_path / "from-env"
    assert state_dir(tmp_path / "configured") == tmp_path / "configured"  # config wins
    monkeypatch.delenv("BOXOFFICE_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "boxoffice"


def test_data_dir_follows_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOFFICE_DATA_DIR", str(tmp_path / "data"))
    assert data_dir() == tmp_path / "data"
    assert (tmp_path / "data").is_dir()


def test_unusable_state_dir_is_a_storage_error_with_advice(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError) as info:
        state_dir(blocker / "state")
    assert "BOXOFFICE_STATE_DIR" in info.value.one_line()


# --- private files ---------------------------------------------------------------------------


def test_write_private_is_0600_even_with_a_careless_umask(tmp_path: Path, umask_zero: None) -> None:
    target = write_private(tmp_path / "sub" / "deeper" / "cookies.json", b'{"session": "abc"}')
    assert target.read_bytes() == b'{"session": "abc"}'
    assert _mode(target) == 0o600
    assert _mode(tmp_path / "sub") == 0o700
    assert _mode(tmp_path / "sub" / "deeper") == 0o700


def test_write_private_under_a_file_is_a_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StorageError, match="cannot create"):
        write_private(blocker / "sub" / "f", b"x")


def test_write_private_tightens_an_existing_world_readable_file(tmp_path: Path) -> None:
    target = tmp_path / "session.json"
    target.write_text("old")
    target.chmod(0o644)
    write_private(target, b"new")
    assert target.read_text() == "new"
    assert _mode(target) == 0o600


def test_write_private_leaves_no_temp_files(tmp_path: Path) -> None:
    for i in range(3):
        write_private(tmp_path / "f", str(i).encode())
    assert [p.name for p in tmp_path.iterdir()] == ["f"]


def test_a_failed_write_keeps_the_old_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "ledger.json"
    write_private(target, b"complete old content")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(state.os, "replace", broken_replace)
    with pytest.raises(StorageError, match="No space left"):
        write_private(target, b"half")
    monkeypatch.undo()
    assert target.read_bytes() == b"complete old content"
    assert [p.name for p in tmp_path.iterdir()] == ["ledger.json"]


# --- SQLite ----------------------------------------------------------------------------------


def test_connect_uses_wal_and_a_busy_timeout(tmp_path: Path) -> None:
    conn = connect(tmp_path / "db" / "state.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == state.BUSY_TIMEOUT_MS
        assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    finally:
        conn.close()
    # WAL is persistent: a plain connection sees it too
    with sqlite3.connect(tmp_path / "db" / "state.sqlite3") as plain:
        assert plain.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_new_database_is_private_with_a_careless_umask(tmp_path: Path, umask_zero: None) -> None:
    db = tmp_path / "sync" / "ledgers" / "ledger.sqlite3"
    conn = connect(db, MIGRATIONS)
    try:
        conn.execute("INSERT INTO ledger (id, status) VALUES ('t1', 'pending')")
        sidecars = [db.with_name(db.name + s) for s in ("-wal", "-shm")]
        assert all(p.exists() for p in sidecars)  # WAL mode, still open
        assert [_mode(p) for p in [db, *sidecars]] == [0o600, 0o600, 0o600]
    finally:
        conn.close()
    assert _mode(tmp_path / "sync") == 0o700
    assert _mode(tmp_path / "sync" / "ledgers") == 0o700
    assert _version(db) == len(MIGRATIONS)


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    sqlite3.connect(db).close()
    db.chmod(0o640)
    connect(db, MIGRATIONS).close()
    assert _mode(db) == 0o640


def test_migrations_apply_in_order_and_are_idempotent(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    conn = connect(db, MIGRATIONS[:1])
    conn.execute("INSERT INTO ledger (id, status) VALUES ('t1', 'pending')")
    conn.close()
    assert _version(db) == 1

    conn = connect(db, MIGRATIONS)  # upgrade: only v2 runs
    conn.execute("UPDATE ledger SET status = 'delivered' WHERE id = 't1'")  # fires the trigger
    conn.close()
    assert _version(db) == 2

    for _ in range(3):  # re-opening does nothing (v2 is not re-runnable, so it must be skipped)
        connect(db, MIGRATIONS).close()
    with sqlite3.connect(db) as plain:
        assert plain.execute("SELECT id, status, attempts FROM ledger").fetchall() == [
            ("t1", "delivered", 0)
        ]
        assert plain.execute("SELECT n FROM runs").fetchall() == [(2,)]


def test_a_failing_migration_rolls_back_to_the_previous_whole_version(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    broken = [
        MIGRATIONS[0],
        "CREATE TABLE half_done (x INTEGER);\nINSERT INTO no_such_table VALUES (1);",
    ]
    with pytest.raises(StorageError) as info:
        connect(db, broken)
    line = info.value.one_line()
    assert "version 2" in line
    assert "no_such_table" in line
    assert "left at version 1" in line
    assert _version(db) == 1
    assert "half_done" not in _tables(db)  # the first statement of v2 was rolled back too
    assert "ledger" in _tables(db)
    # the fixed migration then applies cleanly
    connect(db, MIGRATIONS).close()
    assert _version(db) == 2


def test_a_database_newer_than_this_code_is_refused(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    connect(db, MIGRATIONS).close()
    with pytest.raises(StorageError) as info:
        connect(db, MIGRATIONS[:1])
    assert "version 2 is newer" in info.value.one_line()
    assert "upgrade boxoffice" in info.value.one_line()


def test_a_file_that_is_not_a_database_is_a_storage_error(tmp_path: Path) -> None:
    db = tmp_path / "state.sqlite3"
    db.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match=r"state\.sqlite3"):
        connect(db, MIGRATIONS)


_WORKER = """
import json, sys, time
from pathlib import Path
from boxoffice.core.state import connect
db, tmp, me = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
migrations = json.loads((tmp / "migrations.json").read_text())
(tmp / f"ready-{me}").touch()
while not (tmp / "go").exists():
    time.sleep(0.001)
conn = connect(db, migrations)
print(conn.execute("PRAGMA user_version").fetchone()[0])
conn.close()
"""

# v2 -> v3: holds the write lock for a while so the racers really overlap
SLOW = """
CREATE TABLE slow (n INTEGER);
WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 100000)
INSERT INTO slow SELECT n FROM c;
"""


def test_processes_migrating_at_once_apply_each_version_exactly_once(tmp_path: Path) -> None:
    db = tmp_path / "shared.sqlite3"
    (tmp_path / "migrations.json").write_text(json.dumps([*MIGRATIONS, SLOW]))
    workers = 4
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(db), str(tmp_path), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    deadline = time.monotonic() + 30
    while len(list(tmp_path.glob("ready-*"))) < workers and time.monotonic() < deadline:
        time.sleep(0.01)
    (tmp_path / "go").touch()  # all start together
    results = [p.communicate(timeout=60) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err
        assert out.strip() == "3"
    assert _version(db) == 3
    with sqlite3.connect(db) as plain:
        assert plain.execute("SELECT n FROM runs").fetchall() == [(1,)]
        assert plain.execute("SELECT count(*) FROM slow").fetchone()[0] == 100000
