"""One run at a time: an exclusive lock on a file that dies with its process.

:class:`RunLock` takes ``flock(LOCK_EX)`` on a lock file (mode 0600) and writes who holds it
(pid, host, since, what) into the file. The kernel releases the lock when the holder exits for
any reason — Ctrl-C, a crash, ``kill -9`` — so a stale lock cannot outlive its process and
there is nothing to clean up. A second process asking for the same lock either gets a
:class:`~boxoffice.errors.BusyError` naming the holder, or (``wait=True``) blocks until the
holder is gone.

The lock file is never deleted (deleting it while another process waits on it would let two
processes hold "the" lock on two different files).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from boxoffice.core.state import make_private_dirs
from boxoffice.core.timefmt import utc_iso
from boxoffice.errors import BusyError, StorageError


@dataclass(frozen=True)
class Holder:
    """Who holds a lock (as written into the lock file by the holder)."""

    pid: int | None
    host: str
    since: str
    what: str

    def describe(self) -> str:
        """``pid 4242 on host-a since 2026-11-22T03:23:05Z``."""
        pid = f"pid {self.pid}" if self.pid is not None else "an unknown process"
        host = f" on {self.host}" if self.host else ""
        since = f" since {self.since}" if self.since else ""
        return f"{pid}{host}{since}"


def read_holder(path: Path) -> Holder:
    """The holder recorded in ``path`` (fields empty when it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        data = {}
    if not isinstance(data, dict):
        data = {}
    pid = data.get("pid")
    return Holder(
        pid=pid if isinstance(pid, int) else None,
        host=str(data.get("host") or ""),
        since=str(data.get("since") or ""),
        what=str(data.get("what") or ""),
    )


class RunLock:
    """An exclusive, process-lifetime lock on ``path`` for the work named ``what``."""

    def __init__(self, path: Path, what: str) -> None:
        self.path = path
        self.what = what
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._fd is not None

    def _open(self) -> int:
        try:
            make_private_dirs(self.path.parent)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StorageError(
                f"cannot open lock file {self.path}: {exc.strerror}",
                hint="the state dir must be writable (BOXOFFICE_STATE_DIR)",
            ) from exc
        return fd

    def acquire(
        self, *, wait: bool = False, on_wait: Callable[[Holder], None] | None = None
    ) -> None:
        """Take the lock; if another process holds it raise :class:`BusyError`, or with
        ``wait`` call ``on_wait(holder)`` once and block until it is free."""
        if self._fd is not None:
            return
        fd = self._open()
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = read_holder(self.path)
                if not wait:
                    raise BusyError(
                        f"another run is already doing this: {self.what} — held by "
                        f"{holder.describe()}",
                        hint="wait for it to finish, or run the same command with --wait "
                        "to start when it is done",
                    ) from None
                if on_wait is not None:
                    on_wait(holder)
                fcntl.flock(fd, fcntl.LOCK_EX)  # interruptible: Ctrl-C raises here
            self._record(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _record(self, fd: int) -> None:
        info = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "since": utc_iso(),
            "what": self.what,
        }
        data = json.dumps(info).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    def release(self) -> None:
        """Give the lock up (also happens when the process ends)."""
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the last descriptor releases the flock

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
