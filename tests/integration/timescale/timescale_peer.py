"""Bring up a real TimescaleDB: build the extension from its source tarball into a private copy
of this machine's PostgreSQL 15, and start that server with the extension preloaded.

Steps, each cached under ``<repo>/.timescaledb/`` (git-ignored; ``BOXOFFICE_TIMESCALEDB_CACHE``
moves it) in a folder named by the tarball's sha256 and the PostgreSQL minor version, so a
rerun costs nothing and a PostgreSQL upgrade rebuilds:

1. ``prefix/``: a copy of Debian's ``/usr/lib/postgresql/15``, ``/usr/share/postgresql/15`` and
   ``/usr/include/postgresql`` in the same layout. PostgreSQL finds its share dir relative to
   its binary, and ``CREATE EXTENSION`` reads the control file only from that share dir, so the
   extension is installed into the copy and the system's directories stay untouched.
2. ``src/``: the unpacked tarball, configured (``./bootstrap`` with the copy's ``pg_config``,
   no regression/TAP checks, no telemetry), built with ``make -j`` and installed into the copy.
   About 2.5 min on two idle cores, once per machine.
3. Per run: :class:`TimescaleServer` — a :class:`PostgresServer` on the copy's binaries with
   ``shared_preload_libraries = 'timescaledb'``.

The tarball is ``../shared/vendor/timescaledb-2.28.3.tar.gz`` beside this repository (the
public timescale/timescaledb tag 2.28.3, the newest release supporting PostgreSQL 15), or
``BOXOFFICE_TIMESCALEDB_SOURCE`` (a tarball or an unpacked source dir). Any failure raises
:class:`TimescalePeerError` naming the step and the tail of its log.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.integration.postgres.pg_server import PostgresServer

REPO = Path(__file__).resolve().parents[3]
VERSION = "2.28.3"
DEFAULT_SOURCE = REPO.parent / "shared" / "vendor" / f"timescaledb-{VERSION}.tar.gz"
PG_MAJOR = "15"
SYSTEM_DIRS = (
    Path(f"/usr/lib/postgresql/{PG_MAJOR}"),
    Path(f"/usr/share/postgresql/{PG_MAJOR}"),
    Path("/usr/include/postgresql"),
)
BUILD_TIMEOUT = 1500.0
STEP_TIMEOUT = 300.0
READY = ".boxoffice-ready"
WHERE_TO_GET = (
    f"get the source of TimescaleDB {VERSION} (https://github.com/timescale/timescaledb, tag "
    f"{VERSION}, e.g. `git archive --prefix=timescaledb-{VERSION}/ {VERSION} | gzip`) and "
    "point BOXOFFICE_TIMESCALEDB_SOURCE at the tarball or the unpacked folder"
)


class TimescalePeerError(RuntimeError):
    """Bring-up failed: the message names the step and ends with its log tail."""


def source_path() -> Path | None:
    """The configured or vendored source (tarball or folder), or None when there is none."""
    configured = os.environ.get("BOXOFFICE_TIMESCALEDB_SOURCE")
    path = Path(configured) if configured else DEFAULT_SOURCE
    return path if path.exists() else None


def pg_minor(bindir: Path) -> str:
    """``15.20`` from ``postgres --version`` of ``bindir``."""
    out = subprocess.run(
        [str(bindir / "postgres"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    found = re.search(r"\(PostgreSQL\) (\d+\.\d+)", out)
    if not found:
        raise TimescalePeerError(f"cannot read the PostgreSQL version from {out!r}")
    return found.group(1)


def _digest(source: Path) -> str:
    if source.is_dir():
        return "dir-" + hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    sha = hashlib.sha256()
    with source.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()[:12]


def _tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _run(step: str, cmd: list[str], log: Path, *, cwd: Path, timeout: float) -> None:
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        try:
            proc = subprocess.run(
                cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, timeout=timeout, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise TimescalePeerError(
                f"{step}: timed out after {timeout:.0f} s — log {log}:\n{_tail(log)}"
            ) from exc
    if proc.returncode != 0:
        raise TimescalePeerError(
            f"{step} failed (exit {proc.returncode}) — log {log}:\n{_tail(log)}"
        )


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One bring-up at a time per cache folder (parallel test runs, a script and the tests)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build(source: Path | None = None, *, jobs: int | None = None) -> Path:
    """The private prefix with TimescaleDB installed (built on first use); returns its bin dir."""
    src = source or source_path()
    if src is None:
        raise TimescalePeerError(f"no TimescaleDB source at {DEFAULT_SOURCE} — {WHERE_TO_GET}")
    system_bin = SYSTEM_DIRS[0] / "bin"
    if not (system_bin / "postgres").exists():
        raise TimescalePeerError(
            f"no PostgreSQL {PG_MAJOR} server in {system_bin} — apt-get install postgresql "
            f"postgresql-server-dev-{PG_MAJOR} (bash .ci/run does)"
        )
    if (
        not (system_bin / "pg_config").exists()
        or not Path(f"/usr/include/postgresql/{PG_MAJOR}/server/postgres.h").exists()
    ):
        raise TimescalePeerError(
            f"no PostgreSQL {PG_MAJOR} headers — apt-get install postgresql-server-dev-{PG_MAJOR} "
            "cmake gcc make libssl-dev libkrb5-dev (bash .ci/run does)"
        )
    cache_root = Path(os.environ.get("BOXOFFICE_TIMESCALEDB_CACHE", REPO / ".timescaledb"))
    home = cache_root / f"tsdb-{VERSION}-{_digest(src)}-pg{pg_minor(system_bin)}"
    prefix = home / "prefix"
    bindir = prefix / SYSTEM_DIRS[0].relative_to("/") / "bin"
    if not (home / READY).exists():
        _build(src, cache_root, home, prefix, bindir, jobs)
    return _reachable(bindir, prefix, home.name)


def _reachable(bindir: Path, prefix: Path, key: str) -> Path:
    """``bindir``, or the same in a copy of ``prefix`` under the temp dir when the server's
    user cannot reach it: as root the server runs as ``postgres`` (see PostgresServer), which
    cannot enter a checkout inside a private folder (``mktemp -d`` makes them 0700)."""
    if os.geteuid() != 0 or _postgres_can_run(bindir / "postgres"):
        return bindir
    copy = Path(tempfile.gettempdir()) / f"boxoffice-{key}"
    with _locked(Path(tempfile.gettempdir()) / f"boxoffice-{key}.lock"):
        if not (copy / READY).exists():
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(prefix, copy / "prefix", symlinks=True)
            copy.chmod(0o755)
            (copy / READY).write_text(VERSION)
    return copy / "prefix" / bindir.relative_to(prefix)


def _postgres_can_run(binary: Path) -> bool:
    test = ["runuser", "-u", "postgres", "--", "test", "-x", str(binary)]
    return subprocess.run(test, capture_output=True, timeout=30, check=False).returncode == 0


def _build(
    src: Path, cache_root: Path, home: Path, prefix: Path, bindir: Path, jobs: int | None
) -> None:
    """Steps 1 and 2 of the module docstring, under the cache's lock."""
    with _locked(cache_root / ".lock"):
        if (home / READY).exists():
            return
        shutil.rmtree(home, ignore_errors=True)
        home.mkdir(parents=True)
        log = home / "build.log"
        for system in SYSTEM_DIRS:  # step 1: the private copy
            shutil.copytree(system, prefix / system.relative_to("/"), symlinks=True)
        tree = home / "src"  # step 2: the source
        if src.is_dir():
            shutil.copytree(src, tree, symlinks=True)
        else:
            try:
                with tarfile.open(src) as tar:
                    top = tar.getnames()[0].split("/")[0]
                    tar.extractall(home, filter="data")
            except (OSError, tarfile.TarError) as exc:
                raise TimescalePeerError(f"unpacking {src} failed: {exc}") from exc
            (home / top).rename(tree)
        pg_config = str(bindir / "pg_config")
        _run(
            "configure (./bootstrap)",
            [
                "./bootstrap",
                "-DREGRESS_CHECKS=OFF",
                "-DTAP_CHECKS=OFF",
                "-DWARNINGS_AS_ERRORS=OFF",
                "-DCMAKE_BUILD_TYPE=Release",
                "-DSEND_TELEMETRY_DEFAULT=OFF",
                "-DGENERATE_DOWNGRADE_SCRIPT=OFF",
                f"-DPG_CONFIG={pg_config}",
            ],
            log,
            cwd=tree,
            timeout=STEP_TIMEOUT,
        )
        n = str(jobs or os.cpu_count() or 2)
        _run("build (make)", ["make", "-C", "build", "-j", n], log, cwd=tree, timeout=BUILD_TIMEOUT)
        _run("install into the private prefix", ["make", "-C", "build", "install"], log,
             cwd=tree, timeout=STEP_TIMEOUT)  # fmt: skip
        control = prefix / SYSTEM_DIRS[1].relative_to("/") / "extension" / "timescaledb.control"
        if not control.exists():
            raise TimescalePeerError(f"install step left no {control} — log {log}:\n{_tail(log)}")
        shutil.rmtree(tree / "build" / "src", ignore_errors=True)  # objects: ~200 MB, not needed
        (home / READY).write_text(VERSION)


class TimescaleServer(PostgresServer):
    """A private PostgreSQL on the prefix's binaries with TimescaleDB preloaded."""

    def __init__(self, bindir: Path, *, preload: bool = True) -> None:
        super().__init__(bindir=bindir)
        if preload:
            self.extra_options = (
                "-c shared_preload_libraries=timescaledb -c timescaledb.telemetry_level=off "
                "-c max_worker_processes=24 -c timescaledb.max_background_workers=16"
            )
