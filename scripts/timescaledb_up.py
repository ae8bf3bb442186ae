"""Start the test suite's TimescaleDB by hand: build it if needed, serve until Ctrl-C.

Usage: .venv/bin/python scripts/timescaledb_up.py [--source TARBALL_OR_DIR]

Prints a connection URL to use as `--db` / BOXOFFICE_DB_URL (a fresh database `track`) and
stops the server (and removes its data) on Ctrl-C. The build is cached (see
tests/integration/timescale/timescale_peer.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.integration.timescale.timescale_peer import (
    WHERE_TO_GET,
    TimescalePeerError,
    TimescaleServer,
    build,
    source_path,
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", help="TimescaleDB source tarball or unpacked folder")
    args = parser.parse_args()
    if args.source:
        os.environ["BOXOFFICE_TIMESCALEDB_SOURCE"] = args.source
    if source_path() is None:
        print(f"no TimescaleDB source: {WHERE_TO_GET}", file=sys.stderr)
        return 2
    try:
        print("building TimescaleDB (cached after the first time; ~2.5 min)…", flush=True)
        bindir = build()
    except TimescalePeerError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    with TimescaleServer(bindir) as server:
        url = server.create_database("track")
        print(f"TimescaleDB ready: {url}")
        print(f"  try: boxoffice track init-db --db {url}")
        print("  Ctrl-C stops the server and removes its data")
        try:
            signal.sigwait({signal.SIGINT, signal.SIGTERM})
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    sys.exit(main())
