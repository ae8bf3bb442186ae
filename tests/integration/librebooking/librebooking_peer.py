"""Bring up a real LibreBooking 2.8.6.2 (PHP built-in server + a private MariaDB) for the tests.

Steps, each with a timeout; a failure raises :class:`LibreBookingPeerError` naming the step and
ending with the tail of its log:

1. ``source``: the release tarball (``librebooking-2.8.6.2.tar.gz``, an unmodified
   ``git archive`` of the public LibreBooking/app tag). Looked up in
   ``$BOXOFFICE_LIBREBOOKING_SOURCE`` (a tarball or an unpacked folder), then the vendor folder
   next to this repository's checkout. Missing → :class:`SourceMissing` (tests skip with it).
2. ``unpack`` (cached): ``<cache>/app-<sha12>/`` — the source plus what composer would add,
   taken from Debian packages: a tiny ``vendor/autoload.php`` requiring smarty4 and monolog,
   and ``vendor/smarty/smarty/libs/plugins`` linked to smarty4's plugins. The cache is
   ``$BOXOFFICE_LIBREBOOKING_CACHE`` or ``<repo>/.librebooking/`` (git-ignored), keyed by the
   tarball's sha256.
3. Per run, in a temp dir: a hard-linked copy of the app with its own ``config/config.php``,
   a private MariaDB (``mariadb-install-db`` + ``mariadbd`` on a free 127.0.0.1 port, never
   the system service), the schema loaded in the installer's order (create-db, create-schema,
   create-user, upgrades 2.1…2.8 schema+data, create-data, sample-data), then
   ``PHP_CLI_SERVER_WORKERS=8 php -S 127.0.0.1:PORT`` and users + resources created through
   the admin API.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

VERSION = "2.8.6.2"
TARBALL_NAME = f"librebooking-{VERSION}.tar.gz"
TARBALL_SHA256 = "361ed6eb7205de2bec81d80fb24a6c82d46c98d2de30d0ca18c8d70b0ce67b08"
REPO = Path(__file__).resolve().parents[3]
CACHE_ROOT = Path(os.environ.get("BOXOFFICE_LIBREBOOKING_CACHE", REPO / ".librebooking"))
VENDOR_DIR = REPO.parent / "shared" / "vendor"
SOURCE_HINT = (
    f"LibreBooking {VERSION} source not found: put {TARBALL_NAME} (a `git archive` of tag "
    f"{VERSION} of https://github.com/LibreBooking/app) in {VENDOR_DIR}/, or point "
    "BOXOFFICE_LIBREBOOKING_SOURCE at that tarball or an unpacked checkout of the tag"
)
TIMEZONE = "Europe/Zurich"
ADMIN = ("admin", "password")  # the installer's sample admin
SAMPLE_USER = ("user", "password")  # the installer's sample user (literally "password")
RESOURCE_COUNT = 32
STEP_TIMEOUT = 120.0
START_TIMEOUT = 60.0
SMARTY = Path("/usr/share/php/smarty4")
MONOLOG = Path("/usr/share/php/Monolog/autoload.php")
API_PREFIX = "/Web/Services/index.php"


class LibreBookingPeerError(RuntimeError):
    """Bring-up failed: the message names the step and ends with its log tail."""


class SourceMissing(LibreBookingPeerError):
    """The LibreBooking source tarball is not available (the tests skip with this)."""


def log_tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _fail(step: str, log: Path, detail: str = "") -> LibreBookingPeerError:
    msg = f"LibreBooking bring-up failed at step '{step}'"
    if detail:
        msg += f": {detail}"
    msg += f"\n--- {log} (tail) ---\n{log_tail(log) or '(empty)'}"
    return LibreBookingPeerError(msg)


def _run(
    args: list[str],
    *,
    step: str,
    log: Path,
    stdin: Path | None = None,
    timeout: float = STEP_TIMEOUT,
) -> str:
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(args)}{f' < {stdin}' if stdin else ''}\n")
        fh.flush()
        try:
            with contextlib.ExitStack() as stack:
                source = stack.enter_context(stdin.open("rb")) if stdin else subprocess.DEVNULL
                proc = subprocess.run(
                    args,
                    stdin=source,
                    stdout=subprocess.PIPE,
                    stderr=fh,
                    timeout=timeout,
                    check=False,
                )
        except subprocess.TimeoutExpired as exc:
            raise _fail(step, log, f"timed out after {timeout:.0f} s") from exc
        except OSError as exc:
            raise _fail(step, log, str(exc)) from exc
        out = proc.stdout.decode(errors="replace")
        fh.write(out)
    if proc.returncode != 0:
        raise _fail(step, log, f"exit code {proc.returncode}")
    return out


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def find_source(explicit: Path | None = None) -> Path:
    """The tarball or unpacked folder to use; :class:`SourceMissing` when there is none."""
    candidates: list[Path] = []
    if explicit is not None:
        candidates.append(explicit)
    elif os.environ.get("BOXOFFICE_LIBREBOOKING_SOURCE"):
        candidates.append(Path(os.environ["BOXOFFICE_LIBREBOOKING_SOURCE"]))
    else:
        candidates.append(VENDOR_DIR / TARBALL_NAME)
    for path in candidates:
        if path.is_file() or (path / "Web" / "Services" / "index.php").is_file():
            return path
    raise SourceMissing(SOURCE_HINT + f" (looked at {', '.join(map(str, candidates))})")


def source_key(source: Path) -> str:
    """12 hex digits naming the cache: the tarball's sha256, or a folder's path + mtime."""
    if source.is_file():
        digest = hashlib.sha256()
        with source.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        return digest.hexdigest()[:12]
    stamp = f"{source.resolve()}:{(source / 'Web' / 'Services' / 'index.php').stat().st_mtime}"
    return "dir-" + hashlib.sha256(stamp.encode()).hexdigest()[:8]


def _check_debian_packages(log: Path) -> None:
    missing = [
        what
        for what, ok in (
            ("php-cli", shutil.which("php") is not None),
            ("mariadb-server", shutil.which("mariadbd") or Path("/usr/sbin/mariadbd").exists()),
            ("smarty4", (SMARTY / "bootstrap.php").is_file()),
            ("php-monolog", MONOLOG.is_file()),
        )
        if not ok
    ]
    if missing:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("")
        raise _fail("check Debian packages", log, f"missing: {' '.join(missing)} (apt-get install)")


def ensure_app(source: Path) -> Path:
    """The unpacked app with composer's stand-ins, cached under the source's key."""
    key = source_key(source)
    app = CACHE_ROOT / f"app-{key}"
    log = CACHE_ROOT / f"unpack-{key}.log"
    _check_debian_packages(log)
    with _locked(CACHE_ROOT / f".lock-app-{key}"):
        marker = app / ".boxoffice-ready"
        if marker.is_file():
            return app
        shutil.rmtree(app, ignore_errors=True)
        log.write_text(f"unpacking {source} into {app}\n")
        build = CACHE_ROOT / f"unpack-{os.getpid()}"
        shutil.rmtree(build, ignore_errors=True)
        try:
            if source.is_file():
                if key != TARBALL_SHA256[:12]:
                    with log.open("a") as fh:
                        fh.write(f"note: sha256 {key}… differs from the {VERSION} release\n")
                with tarfile.open(source) as tar:
                    tar.extractall(build, filter="data")
                tops = [p for p in build.iterdir() if p.is_dir()]
                if len(tops) != 1:
                    raise _fail("unpack", log, f"expected one top folder, found {len(tops)}")
                tops[0].rename(app)
            else:
                shutil.copytree(source, app, symlinks=True)
        except (OSError, tarfile.TarError) as exc:
            raise _fail("unpack", log, str(exc)) from exc
        finally:
            shutil.rmtree(build, ignore_errors=True)
        vendor = app / "vendor"
        (vendor / "smarty" / "smarty" / "libs").mkdir(parents=True, exist_ok=True)
        (vendor / "autoload.php").write_text(
            f"<?php\nrequire_once '{SMARTY / 'bootstrap.php'}';\nrequire_once '{MONOLOG}';\n"
        )
        plugins = vendor / "smarty" / "smarty" / "libs" / "plugins"
        if not plugins.exists():
            plugins.symlink_to(SMARTY / "plugins")
        marker.write_text(VERSION + "\n")
    return app


def _link_copy(src: Path, dst: Path) -> None:
    """A per-run copy of the app: hard links (the app never edits its own files), or copies."""
    try:
        shutil.copytree(src, dst, symlinks=True, copy_function=os.link)
    except OSError:
        shutil.rmtree(dst, ignore_errors=True)
        shutil.copytree(src, dst, symlinks=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def _popen(
    args: list[str], *, log: Path, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.Popen[bytes]:
    with log.open("a") as fh:
        return subprocess.Popen(
            args,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )


def _stop(
    proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, wait: float = 10
) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    try:
        proc.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _set_conf(text: str, keys: list[str], value: str) -> str:
    pattern = re.compile(
        r"^(\$conf\['settings'\]"
        + "".join(rf"\['{re.escape(k)}'\]" for k in keys)
        + r"\s*=\s*)'[^']*'",
        re.M,
    )
    text, count = pattern.subn(lambda m: m.group(1) + "'" + value + "'", text)
    if count != 1:
        raise LibreBookingPeerError(f"config.dist.php has no setting {keys!r}")
    return text


@dataclass
class LibreBookingPeer:
    """A running LibreBooking: where it is, its users and resources, and test controls."""

    root_url: str
    port: int
    db_port: int
    run_dir: Path
    app_dir: Path
    log_path: Path
    db_log_path: Path
    users: dict[str, str]
    user_ids: dict[str, str]
    resources: dict[str, int]
    timezone: str = TIMEZONE
    php: subprocess.Popen[bytes] | None = None
    db: subprocess.Popen[bytes] | None = None
    timings: dict[str, float] = field(default_factory=dict)
    _config_stamp: int = 0

    @property
    def base_url(self) -> str:
        """The ``…/Web`` folder, what ``boxoffice book --url`` takes."""
        return f"{self.root_url}/Web"

    @property
    def api_url(self) -> str:
        return f"{self.root_url}{API_PREFIX}"

    @property
    def config_path(self) -> Path:
        return self.app_dir / "config" / "config.php"

    @property
    def room_ids(self) -> list[int]:
        """The 32 plain rooms, in creation order."""
        return [rid for name, rid in self.resources.items() if name.startswith("Room ")]

    # --- test controls -------------------------------------------------------------------
    def sql(self, statement: str) -> list[list[str]]:
        """Run SQL as the database root; rows as lists of strings (tab-separated output)."""
        proc = subprocess.run(
            [
                "mariadb",
                "--no-defaults",
                "-h127.0.0.1",
                f"-P{self.db_port}",
                "-uroot",
                "--batch",
                "--skip-column-names",
                "librebooking",
                "-e",
                statement,
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if proc.returncode != 0:
            raise LibreBookingPeerError(f"SQL failed: {statement!r}: {proc.stderr.strip()}")
        return [line.split("\t") for line in proc.stdout.splitlines()]

    def set_api(self, enabled: bool) -> None:
        """Switch the REST API on or off (config.php is read on every request)."""
        text = self.config_path.read_text()
        text = _set_conf(text, ["api", "enabled"], "true" if enabled else "false")
        tmp = self.config_path.with_suffix(".tmp")
        tmp.write_text(text)
        # PHP's opcache revalidates by mtime (whole seconds): give every version its own second
        stamp = max(math.ceil(time.time()), self._config_stamp + 1)
        self._config_stamp = stamp
        os.utime(tmp, (stamp, stamp))
        tmp.replace(self.config_path)

    def set_max_notice(self, resource_id: int, seconds: int | None) -> None:
        """A resource's maximum notice: a reservation may end at most this far ahead."""
        value = "NULL" if seconds is None else str(int(seconds))
        self.sql(
            f"UPDATE resources SET max_notice_time={value} WHERE resource_id={int(resource_id)}"  # noqa: S608
        )

    def clear_reservations(self) -> None:
        """Delete every reservation (instances and resources go with their series)."""
        self.sql("DELETE FROM reservation_series")

    def reservations(self) -> list[dict[str, Any]]:
        """Every reservation instance server side: reference, resource, owner, status."""
        rows = self.sql(
            "SELECT ri.reference_number, rr.resource_id, rs.owner_id, rs.status_id,"
            " ri.start_date, ri.end_date FROM reservation_instances ri"
            " JOIN reservation_series rs ON rs.series_id = ri.series_id"
            " JOIN reservation_resources rr ON rr.series_id = rs.series_id"
        )
        return [
            {
                "reference": r[0],
                "resource": int(r[1]),
                "owner": r[2],
                "status": int(r[3]),
                "start": r[4],
                "end": r[5],
            }
            for r in rows
        ]

    def active_reservations(self) -> list[dict[str, Any]]:
        """Reservations not deleted (status 2 is deleted in LibreBooking)."""
        return [r for r in self.reservations() if r["status"] != 2]

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def stop(self) -> None:
        _stop(self.php, signal.SIGTERM, wait=5)
        _stop(self.db, signal.SIGTERM, wait=20)


def _api(
    client: httpx.Client,
    method: str,
    path: str,
    *,
    step: str,
    log: Path,
    token: dict[str, str] | None = None,
    body: Any = None,
) -> Any:
    try:
        response = client.request(method, f"{API_PREFIX}/{path}", json=body, headers=token or {})
    except httpx.HTTPError as exc:
        raise _fail(step, log, f"{method} {path}: {type(exc).__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise _fail(
            step, log, f"{method} {path}: HTTP {response.status_code} {response.text[:200]}"
        )
    if not response.content.strip():
        return None  # 2.8.6.2 answers POST Resources/ with an empty body after a PHP notice
    try:
        return response.json()
    except ValueError as exc:
        raise _fail(step, log, f"{method} {path}: not JSON: {response.text[:200]}") from exc


def _authenticate(client: httpx.Client, user: str, password: str, *, log: Path) -> dict[str, str]:
    data = _api(
        client,
        "POST",
        "Authentication/Authenticate",
        step=f"log in as {user}",
        log=log,
        body={"username": user, "password": password},
    )
    if not isinstance(data, dict) or not data.get("isAuthenticated"):
        raise _fail(f"log in as {user}", log, f"refused: {data!r}")
    return {
        "X-Booked-SessionToken": str(data["sessionToken"]),
        "X-Booked-UserId": str(data["userId"]),
    }


def _resource_body(name: str, *, requires_approval: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "location": None,
        "contact": None,
        "notes": None,
        "minLength": None,
        "maxLength": None,
        "requiresApproval": requires_approval,
        "allowMultiday": False,
        "maxParticipants": None,
        "minNotice": None,
        "maxNotice": None,
        "description": None,
        "scheduleId": 1,
        "autoAssignPermissions": True,
        "customAttributes": [],
        "sortOrder": None,
        "statusId": 1,
        "statusReasonId": None,
        "autoReleaseMinutes": None,
        "requiresCheckIn": False,
        "color": None,
        "creditsPerSlot": None,
        "peakCreditsPerSlot": None,
        "maxConcurrentReservations": 1,
        "bufferTime": "",
        "groupIds": [],
        "icsUrl": None,
        "minNoticeAdd": "",
        "minNoticeDelete": "",
        "minNoticeUpdate": "",
        "typeId": None,
    }


def _populate(peer: LibreBookingPeer, log: Path) -> None:
    """Users (alice, bob with random passwords) and resources, through the admin API."""
    with httpx.Client(base_url=peer.root_url, timeout=30.0) as client:
        admin = _authenticate(client, *ADMIN, log=log)
        for name in ("alice", "bob"):
            password = "pw-" + secrets.token_urlsafe(12)
            _api(
                client,
                "POST",
                "Users/",
                step=f"create user {name}",
                log=log,
                token=admin,
                body={
                    "firstName": name.title(),
                    "lastName": "Test",
                    "emailAddress": f"{name}@example.com",
                    "userName": name,
                    "timezone": peer.timezone,
                    "language": "en_us",
                    "password": password,
                    "phone": "",
                    "organization": "",
                    "position": "",
                    "customAttributes": [],
                    "groups": [],
                },
            )
            peer.users[name] = password
        peer.users[SAMPLE_USER[0]] = SAMPLE_USER[1]
        names = [f"Room {i:02d}" for i in range(1, RESOURCE_COUNT + 1)]
        for name in names:
            _api(
                client,
                "POST",
                "Resources/",
                step=f"create {name}",
                log=log,
                token=admin,
                body=_resource_body(name),
            )
        _api(
            client,
            "POST",
            "Resources/",
            step="create Approval Room",
            log=log,
            token=admin,
            body=_resource_body("Approval Room", requires_approval=True),
        )
    for rid, name in peer.sql("SELECT resource_id, name FROM resources ORDER BY resource_id"):
        peer.resources[name] = int(rid)
    for uid, name in peer.sql("SELECT user_id, username FROM users"):
        peer.user_ids[name] = uid
    missing = [n for n in [*names, "Approval Room"] if n not in peer.resources]
    if missing:
        raise _fail("create resources", log, f"not in the database: {', '.join(missing)}")


def _start_database(run_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    data = run_dir / "db"
    user = ["--user=root"] if os.geteuid() == 0 else []
    _run(
        [
            "mariadb-install-db",
            "--no-defaults",
            f"--datadir={data}",
            *user,
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
            "--skip-name-resolve",
        ],
        step="initialise the MariaDB data dir",
        log=log,
        timeout=60,
    )
    last = ""
    for _attempt in range(3):
        port = free_port()
        proc = _popen(
            [
                "/usr/sbin/mariadbd" if Path("/usr/sbin/mariadbd").exists() else "mariadbd",
                "--no-defaults",
                f"--datadir={data}",
                *user,
                "--bind-address=127.0.0.1",
                f"--port={port}",
                f"--socket={run_dir / 'mysql.sock'}",
                f"--pid-file={run_dir / 'mysql.pid'}",
                "--skip-name-resolve",
                "--skip-log-bin",
                "--innodb-buffer-pool-size=64M",
                "--innodb-flush-log-at-trx-commit=2",
                "--max-connections=200",
            ],
            log=log,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            if "ready for connections" in log.read_text(errors="replace"):
                return proc, port
            time.sleep(0.1)
        _stop(proc)
        last = log_tail(log, 5)
        if "in use" not in last.lower():
            break
    raise _fail(
        "start mariadbd",
        log,
        "not ready"
        + (
            f" ({START_TIMEOUT:.0f} s)" if proc.poll() is None else f", exit code {proc.returncode}"
        ),
    )


def _load_schema(app: Path, db_port: int, log: Path) -> None:
    schema = app / "database_schema"
    client = ["mariadb", "--no-defaults", "-h127.0.0.1", f"-P{db_port}", "-uroot"]
    scripts: list[tuple[Path, bool]] = [
        (schema / "create-db.sql", False),
        (schema / "create-schema.sql", True),
        (schema / "create-user.sql", True),
    ]
    upgrades = sorted(
        (p for p in (schema / "upgrades").iterdir() if p.is_dir()),
        key=lambda p: tuple(int(x) for x in p.name.split(".")),
    )
    for upgrade in upgrades:
        scripts += [(upgrade / "schema.sql", True), (upgrade / "data.sql", True)]
    scripts += [(schema / "create-data.sql", True), (schema / "sample-data-utf8.sql", True)]
    for script, in_db in scripts:
        _run(
            [*client, *(["librebooking"] if in_db else [])],
            step=f"load {script.relative_to(app)}",
            log=log,
            stdin=script,
        )
    # create-data.sql names the installer's default zone for the default layout
    _run(
        [*client, "librebooking", "-e", f"UPDATE layouts SET timezone='{TIMEZONE}'"],  # noqa: S608
        step="set the schedule's zone",
        log=log,
    )


def _write_config(app: Path, *, url: str, db_port: int) -> None:
    text = (app / "config" / "config.dist.php").read_text()
    for keys, value in (
        (["script.url"], url),
        (["default.timezone"], TIMEZONE),
        (["api", "enabled"], "true"),
        (["registration.captcha.enabled"], "false"),
        (["enable.email"], "false"),
        (["database", "hostspec"], f"127.0.0.1:{db_port}"),
    ):
        text = _set_conf(text, keys, value)
    target = app / "config" / "config.php"
    with contextlib.suppress(FileNotFoundError):
        target.unlink()  # a hard link into the cache: never write through it
    target.write_text(text)


def _wait_ready(peer: LibreBookingPeer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    assert peer.php is not None
    with httpx.Client(timeout=5.0) as client:
        while time.monotonic() < deadline:
            if peer.php.poll() is not None:
                raise _fail(
                    "start php -S", peer.log_path, f"php exited with code {peer.php.returncode}"
                )
            try:
                response = client.post(
                    f"{peer.api_url}/Authentication/Authenticate",
                    json={"username": ADMIN[0], "password": ADMIN[1]},
                )
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200 and '"isAuthenticated":true' in response.text:
                    return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            time.sleep(0.2)
    raise _fail("wait for LibreBooking", peer.log_path, f"not ready after {timeout:.0f} s ({last})")


def start(run_dir: Path, *, source: Path | None = None, workers: int = 8) -> LibreBookingPeer:
    """Unpack (cached), start MariaDB, load the schema, serve, create users and resources."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    src = find_source(source)
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    cached = ensure_app(src)
    timings["unpack"] = time.monotonic() - started
    mark = time.monotonic()
    run_dir.mkdir(parents=True, exist_ok=True)
    app = run_dir / "app"
    _link_copy(cached, app)
    db_log = run_dir / "mariadb.log"
    db, db_port = _start_database(run_dir, db_log)
    peer: LibreBookingPeer | None = None
    try:
        _load_schema(app, db_port, run_dir / "schema.log")
        timings["database"] = time.monotonic() - mark
        mark = time.monotonic()
        log_path = run_dir / "php.log"
        for _attempt in range(3):
            port = free_port()
            root_url = f"http://127.0.0.1:{port}"
            _write_config(app, url=f"{root_url}/Web", db_port=db_port)
            env = {k: v for k, v in os.environ.items() if not k.startswith("PHP")}
            env["PHP_CLI_SERVER_WORKERS"] = str(workers)
            peer = LibreBookingPeer(
                root_url=root_url,
                port=port,
                db_port=db_port,
                run_dir=run_dir,
                app_dir=app,
                log_path=log_path,
                db_log_path=db_log,
                users={},
                user_ids={},
                resources={},
                db=db,
                timings=timings,
            )
            peer.php = _popen(
                [
                    "php",
                    "-d",
                    "display_errors=stderr",
                    "-d",
                    "opcache.revalidate_freq=0",
                    "-S",
                    f"127.0.0.1:{port}",
                    "-t",
                    str(app),
                ],
                log=log_path,
                env=env,
                cwd=app,
            )
            try:
                _wait_ready(peer, START_TIMEOUT)
            except LibreBookingPeerError:
                _stop(peer.php)
                if "in use" in log_tail(log_path, 5).lower():
                    continue
                raise
            break
        assert peer is not None
        timings["serve"] = time.monotonic() - mark
        mark = time.monotonic()
        _populate(peer, run_dir / "populate.log")
        timings["populate"] = time.monotonic() - mark
        timings["total"] = time.monotonic() - started
        (run_dir / "peer.json").write_text(
            json.dumps({"url": peer.base_url, "resources": peer.resources}, indent=1)
        )
        return peer
    except BaseException:
        if peer is not None:
            _stop(peer.php)
        _stop(db)
        raise
