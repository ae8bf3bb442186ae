"""Bring up a real pretix (PyPI ``pretix``) over HTTPS for the watch integration tests.

Steps (DESIGN §8), each cached under ``<repo>/.pretix/`` (git-ignored) so a rerun is fast:

1. ``venv-<version>/``: a venv of its own (pretix's pins clash with ours) with
   ``pretix==<version> gunicorn whitenoise``, installed with uv when there is one (≈15 s),
   else pip (≈35-90 s). A marker file says the install finished; the test plugin is made
   importable by a ``.pth`` file plus a tiny ``dist-info`` carrying the ``pretix.plugin`` entry
   point (what ``pip install -e`` would do, without a build step).
2. ``db-<version>-<hash>/``: a template SQLite database — schema built with migrations
   disabled (``migrate --run-syncdb``, ~10 s instead of ~110 s) and the shop created by the
   plugin's ``boxoffice_test_setup`` command. The hash covers the plugin source, so editing
   the plugin rebuilds it.
3. Per run, in a temp dir: a copy of the template DB, a ``pretix.cfg`` (sqlite, data dir,
   ``url=https://127.0.0.1:<port>``), a self-signed CA + server certificate (trustme), and
   gunicorn (``--no-control-socket``, WhiteNoise-wrapped WSGI) serving HTTPS on 127.0.0.1.

Any failure raises :class:`PretixPeerError` naming the step and the tail of its log.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PRETIX_VERSION = "2026.8.0"
EXTRA_PACKAGES = ("gunicorn==27.0.1", "whitenoise==6.12.0")
REPO = Path(__file__).resolve().parents[3]
CACHE_ROOT = Path(os.environ.get("BOXOFFICE_PRETIX_CACHE", REPO / ".pretix"))
PLUGIN_SRC = REPO / "tests" / "integration" / "pretix_plugin_src"
PLUGIN = "boxoffice_test_secondhand"
SETTINGS_MODULE = f"{PLUGIN}.pretix_settings"
READY_MARKER = ".boxoffice-ready"
ORGANIZER = "boxoffice"
EVENT = "resale26"
INSTALL_TIMEOUT = 600.0
STEP_TIMEOUT = 300.0
START_TIMEOUT = 90.0


class PretixPeerError(RuntimeError):
    """Bring-up failed: the message names the step and ends with its log tail."""


def log_tail(path: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log file ("" when it does not exist)."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _fail(step: str, log: Path, detail: str = "") -> PretixPeerError:
    tail = log_tail(log)
    msg = f"pretix bring-up failed at step '{step}'"
    if detail:
        msg += f": {detail}"
    msg += f"\n--- {log} (tail) ---\n{tail or '(empty)'}"
    return PretixPeerError(msg)


def _run(
    args: list[str],
    *,
    step: str,
    log: Path,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = STEP_TIMEOUT,
) -> str:
    """Run a command, append its output to ``log``; return stdout. Raises PretixPeerError."""
    with log.open("a") as fh:
        fh.write(f"\n$ {' '.join(args)}\n")
        fh.flush()
        try:
            proc = subprocess.run(
                args,
                env=env,
                cwd=cwd,
                stdout=subprocess.PIPE,
                stderr=fh,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise _fail(step, log, f"timed out after {timeout:.0f} s") from exc
        except OSError as exc:
            raise _fail(step, log, str(exc)) from exc
        fh.write(proc.stdout)
    if proc.returncode != 0:
        raise _fail(step, log, f"exit code {proc.returncode}")
    return proc.stdout


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive file lock, so two test processes do not build the same cache at once."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _find_uv() -> str | None:
    for candidate in (shutil.which("uv"), REPO / ".tools" / "uv-venv" / "bin" / "uv"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return None


def _base_python() -> str:
    """A python >= 3.11 to base the pretix venv on (ours: pretix supports it)."""
    return sys.executable


def venv_dir(version: str = PRETIX_VERSION) -> Path:
    return CACHE_ROOT / f"venv-{version}"


def _site_packages(venv: Path) -> Path:
    found = sorted((venv / "lib").glob("python3.*/site-packages"))
    if not found:
        raise PretixPeerError(f"no site-packages under {venv}/lib")
    return found[0]


def _register_plugin(venv: Path) -> None:
    """Make the plugin importable and announce its ``pretix.plugin`` entry point."""
    site = _site_packages(venv)
    (site / f"{PLUGIN}.pth").write_text(f"{PLUGIN_SRC}\n")
    dist = site / f"{PLUGIN}-0.1.0.dist-info"
    dist.mkdir(exist_ok=True)
    (dist / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: boxoffice-test-secondhand\nVersion: 0.1.0\n"
    )
    (dist / "entry_points.txt").write_text(
        f"[pretix.plugin]\n{PLUGIN} = {PLUGIN}:PretixPluginMeta\n"
    )
    (dist / "top_level.txt").write_text(f"{PLUGIN}\n")


def ensure_venv(version: str = PRETIX_VERSION) -> Path:
    """The pretix venv (installed once per version); returns its python."""
    venv = venv_dir(version)
    python = venv / "bin" / "python"
    log = CACHE_ROOT / f"install-{version}.log"
    with _locked(CACHE_ROOT / f".lock-venv-{version}"):
        marker = venv / READY_MARKER
        if not (marker.is_file() and python.exists()):
            shutil.rmtree(venv, ignore_errors=True)
            log.write_text(f"installing pretix {version} into {venv}\n")
            packages = [f"pretix=={version}", *EXTRA_PACKAGES]
            uv = _find_uv()
            if uv:
                _run(
                    [uv, "venv", "--quiet", "--python", _base_python(), str(venv)],
                    step="create venv (uv)",
                    log=log,
                )
                _run(
                    [uv, "pip", "install", "--quiet", "--python", str(python), *packages],
                    step="pip install pretix (uv)",
                    log=log,
                    timeout=INSTALL_TIMEOUT,
                )
            else:
                _run([_base_python(), "-m", "venv", str(venv)], step="create venv", log=log)
                _run(
                    [
                        str(python),
                        "-m",
                        "pip",
                        "install",
                        "--quiet",
                        "--disable-pip-version-check",
                        *packages,
                    ],
                    step="pip install pretix",
                    log=log,
                    timeout=INSTALL_TIMEOUT,
                )
            marker.write_text(version + "\n")
        _register_plugin(venv)
    return python


def _plugin_hash(version: str) -> str:
    digest = hashlib.sha256(version.encode())
    for path in sorted(PLUGIN_SRC.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".html") and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(PLUGIN_SRC)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def write_config(path: Path, *, data_dir: Path, url: str, secret: str) -> None:
    """A pretix.cfg: SQLite in ``data_dir``, production mode (DEBUG off), site URL ``url``."""
    path.write_text(
        "[pretix]\n"
        "instance_name=boxoffice test pretix\n"
        f"url={url}\n"
        "currency=EUR\n"
        f"datadir={data_dir}\n"
        "ecb_rates=off\n"
        "[database]\n"
        "backend=sqlite3\n"
        f"name={data_dir / 'db.sqlite3'}\n"
        "[django]\n"
        f"secret={secret}\n"
        "debug=off\n"
        "[mail]\n"
        "from=pretix@localhost\n"
        "[locale]\n"
        "default=en\n"
        "timezone=UTC\n"
    )


def pretix_env(config: Path, **extra: str) -> dict[str, str]:
    """Environment for pretix commands: our settings module and config file, no user site."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PRETIX_", "DJANGO_", "VIRTUAL_ENV", "PYTHON"))
    }
    env.update(
        PRETIX_CONFIG_FILE=str(config),
        DJANGO_SETTINGS_MODULE=SETTINGS_MODULE,
        PYTHONNOUSERSITE="1",
        **extra,
    )
    return env


def ensure_template_db(python: Path, version: str = PRETIX_VERSION) -> Path:
    """The cached template database dir (``db.sqlite3`` + ``shop.json``), built when missing."""
    target = CACHE_ROOT / f"db-{version}-{_plugin_hash(version)}"
    with _locked(CACHE_ROOT / f".lock-db-{version}"):
        if (target / "shop.json").is_file() and (target / "db.sqlite3").is_file():
            return target
        build = CACHE_ROOT / f"build-{os.getpid()}"
        shutil.rmtree(build, ignore_errors=True)
        data = build / "data"
        data.mkdir(parents=True)
        config = build / "pretix.cfg"
        write_config(config, data_dir=data, url="https://127.0.0.1", secret=secrets.token_hex(16))
        env = pretix_env(config)
        log = CACHE_ROOT / f"build-db-{version}.log"
        log.write_text(f"building the template database in {build}\n")
        _run(
            [str(python), "-m", "pretix", "migrate", "--run-syncdb", "--noinput"],
            step="build schema (migrate --run-syncdb)",
            log=log,
            env=env,
            cwd=build,
        )
        out = _run(
            [
                str(python),
                "-m",
                "pretix",
                "boxoffice_test_setup",
                "--organizer",
                ORGANIZER,
                "--event",
                EVENT,
            ],
            step="create shop data",
            log=log,
            env=env,
            cwd=build,
        )
        shop = json.loads(out.strip().splitlines()[-1])
        (data / "shop.json").write_text(json.dumps(shop))
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        shutil.copy2(data / "db.sqlite3", target / "db.sqlite3")
        shutil.copy2(data / "shop.json", target / "shop.json")
        shutil.rmtree(build, ignore_errors=True)
        # Older template databases of this version are stale now.
        for old in CACHE_ROOT.glob(f"db-{version}-*"):
            if old != target:
                shutil.rmtree(old, ignore_errors=True)
    return target


def _die_with_parent() -> None:
    """In the gunicorn child before exec: get SIGTERM when the test process dies (Linux), so a
    killed pytest run leaves no server behind."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_certificates(run_dir: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1/localhost: (ca, cert, key)."""
    import trustme

    ca = trustme.CA(organization_name="boxoffice test CA")
    server = ca.issue_cert("127.0.0.1", "localhost")
    ca_file, cert_file, key_file = run_dir / "ca.pem", run_dir / "cert.pem", run_dir / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server.private_key_pem.write_to_path(str(key_file))
    key_file.chmod(0o600)
    with cert_file.open("wb") as fh:
        for blob in server.cert_chain_pems:
            fh.write(blob.bytes())
    return ca_file, cert_file, key_file


@dataclass
class PretixPeer:
    """A running pretix: where it is, how to trust it, and test controls for listings."""

    base_url: str
    port: int
    ca_file: Path
    run_dir: Path
    log_path: Path
    token: str
    organizer: str
    event: str
    items: dict[str, int]
    process: subprocess.Popen[bytes] | None = None
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def event_slug(self) -> str:
        """``organizer/event`` as ``--event`` takes it."""
        return f"{self.organizer}/{self.event}"

    @property
    def event_url(self) -> str:
        return f"{self.base_url}/{self.organizer}/{self.event}/"

    @property
    def marketplace_url(self) -> str:
        return f"{self.event_url}secondhand/"

    def ssl_context(self) -> ssl.SSLContext:
        """A client TLS context trusting this server's throwaway CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def _admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            verify=self.ssl_context(),
            headers={"X-Boxoffice-Test-Token": self.token},
            timeout=30.0,
        )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        with self._admin() as client:
            response = client.request(method, path, **kwargs)
        if response.status_code >= 400:
            raise PretixPeerError(
                f"test API {method} {path} -> HTTP {response.status_code}: {response.text[:300]}"
            )
        return response.json()

    def add_listing(self, item: str, price: str | None = None) -> dict[str, Any]:
        """List one ticket of ``item`` (name or id) for resale; returns the listing as JSON."""
        body: dict[str, Any] = {"organizer": self.organizer, "event": self.event, "item": item}
        if price is not None:
            body["price"] = price
        return dict(self._call("POST", "/_boxoffice_test/listings", json=body))

    def remove_listing(self, listing_id: int) -> None:
        """Withdraw a listing (as if its seller took it back)."""
        self._call("DELETE", f"/_boxoffice_test/listings/{listing_id}")

    def listings(self) -> list[dict[str, Any]]:
        params = {"organizer": self.organizer, "event": self.event}
        return list(self._call("GET", "/_boxoffice_test/listings", params=params)["listings"])

    def set_marketplace(self, active: bool) -> None:
        """Turn the marketplace plugin on or off for the event (off: /secondhand/ is a 404)."""
        body = {"organizer": self.organizer, "event": self.event, "active": active}
        self._call("POST", "/_boxoffice_test/marketplace", json=body)

    def cart_positions(self) -> list[dict[str, Any]]:
        """Every cart position of the event, server side: item, price, voucher, cart id."""
        params = {"organizer": self.organizer, "event": self.event}
        return list(self._call("GET", "/_boxoffice_test/carts", params=params)["positions"])

    def log_tail(self, lines: int = 40) -> str:
        return log_tail(self.log_path, lines)

    def stop(self) -> None:
        """Stop gunicorn (INT = quick shutdown, then KILL after 3 s: the data is throwaway)."""
        proc = self.process
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=3)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def _wait_ready(peer: PretixPeer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    assert peer.process is not None
    with httpx.Client(verify=peer.ssl_context(), timeout=5.0) as client:
        while time.monotonic() < deadline:
            code = peer.process.poll()
            if code is not None:
                raise _fail("start gunicorn", peer.log_path, f"gunicorn exited with code {code}")
            try:
                response = client.get(peer.event_url)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 200 and "secondhand/" in response.text:
                    return
                last = f"HTTP {response.status_code} for {peer.event_url}"
            time.sleep(0.2)
    raise _fail("wait for pretix", peer.log_path, f"not ready after {timeout:.0f} s ({last})")


def start(
    run_dir: Path, *, version: str = PRETIX_VERSION, workers: int = 1, threads: int = 4
) -> PretixPeer:
    """Install (cached), build the template DB (cached), then serve pretix over HTTPS."""
    timings: dict[str, float] = {}
    started = time.monotonic()
    CACHE_ROOT.mkdir(parents=True, exist_ok=True)
    python = ensure_venv(version)
    timings["venv"] = time.monotonic() - started
    mark = time.monotonic()
    template = ensure_template_db(python, version)
    timings["template_db"] = time.monotonic() - mark
    mark = time.monotonic()

    run_dir.mkdir(parents=True, exist_ok=True)
    data = run_dir / "data"
    data.mkdir(exist_ok=True)
    shutil.copy2(template / "db.sqlite3", data / "db.sqlite3")
    shop = json.loads((template / "shop.json").read_text())
    ca_file, cert_file, key_file = make_certificates(run_dir)
    token = secrets.token_urlsafe(24)
    log_path = run_dir / "gunicorn.log"
    gunicorn = python.parent / "gunicorn"

    last_error: PretixPeerError | None = None
    for _attempt in range(3):  # a free port can be taken between probe and bind: retry
        port = free_port()
        base_url = f"https://127.0.0.1:{port}"
        config = run_dir / "pretix.cfg"
        write_config(config, data_dir=data, url=base_url, secret=secrets.token_hex(24))
        env = pretix_env(config, BOXOFFICE_TEST_TOKEN=token)
        peer = PretixPeer(
            base_url=base_url,
            port=port,
            ca_file=ca_file,
            run_dir=run_dir,
            log_path=log_path,
            token=token,
            organizer=shop["organizer"],
            event=shop["event"],
            items={k: int(v) for k, v in shop["items"].items()},
            timings=timings,
        )
        with log_path.open("a") as fh:
            peer.process = subprocess.Popen(
                [
                    str(gunicorn),
                    "--no-control-socket",
                    "--bind",
                    f"127.0.0.1:{port}",
                    "--certfile",
                    str(cert_file),
                    "--keyfile",
                    str(key_file),
                    "--worker-class",
                    "gthread",
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                    "--timeout",
                    "120",
                    "--graceful-timeout",
                    "5",
                    "--access-logfile",
                    "-",
                    f"{PLUGIN}.wsgi:application",
                ],
                env=env,
                cwd=run_dir,
                stdout=fh,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        try:
            _wait_ready(peer, START_TIMEOUT)
        except PretixPeerError as exc:
            peer.stop()
            last_error = exc
            if "in use" in log_tail(log_path, 10).lower():
                continue
            raise
        except BaseException:
            peer.stop()
            raise
        timings["serve"] = time.monotonic() - mark
        timings["total"] = time.monotonic() - started
        return peer
    assert last_error is not None
    raise last_error
