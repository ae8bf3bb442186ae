#!/usr/bin/env python3
"""Serve a real LibreBooking 2.8.6.2 (PHP + a private MariaDB) on 127.0.0.1 until Ctrl-C.

Usage: .venv/bin/python scripts/librebooking_up.py [--source DIR|TARBALL] [--dir DIR]

Unpacks the release source into .librebooking/ on first use (cached by its sha256), starts a
private MariaDB and ``php -S``, creates users and 32 rooms through the admin API, prints the
URL, the users and a ready-to-paste ``boxoffice book`` command. Same code as the pytest fixture
(tests/integration/librebooking/librebooking_peer.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "librebooking")
)

import librebooking_peer as lbp


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--source",
        type=Path,
        default=None,
        metavar="DIR|TARBALL",
        help=f"LibreBooking {lbp.VERSION} source (default: {lbp.VENDOR_DIR / lbp.TARBALL_NAME})",
    )
    parser.add_argument("--dir", type=Path, default=None, help="run dir (default: a temp dir)")
    args = parser.parse_args()
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        lbp.find_source(args.source)
    except lbp.SourceMissing as exc:
        print(exc, file=sys.stderr)
        print("then run again with --source PATH", file=sys.stderr)
        return 2
    run_dir = args.dir or Path(tempfile.mkdtemp(prefix="boxoffice-librebooking-"))
    print(f"bringing up LibreBooking {lbp.VERSION} in {run_dir} …", flush=True)
    try:
        peer = lbp.start(run_dir, source=args.source)
    except lbp.LibreBookingPeerError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        times = ", ".join(f"{k} {v:.1f} s" for k, v in peer.timings.items())
        print(f"LibreBooking ready at {peer.base_url}/ ({times})")
        print(f"API:        {peer.api_url}/  (help: {peer.api_url}/)")
        print(f"schedule:   1 (Default), zone {peer.timezone}, 30-minute slots 08:00–18:00")
        for name, password in peer.users.items():
            print(f"user:       {name} / {password}  (id {peer.user_ids.get(name, '?')})")
        print(f"admin:      {lbp.ADMIN[0]} / {lbp.ADMIN[1]}")
        rooms = peer.room_ids
        print(f"resources:  Room 01…{len(rooms):02d} = ids {rooms[0]}…{rooms[-1]};", end=" ")
        print(f"Approval Room = id {peer.resources['Approval Room']} (needs approval)")
        print(f"logs:       {peer.log_path}, {peer.db_log_path}")
        print(
            "try:  BOXOFFICE_BOOK_PASSWORD='"
            + peer.users["alice"]
            + f"' boxoffice book availability --dialect librebooking --url {peer.base_url}"
            + f" --username alice --timezone {peer.timezone} --date $(date -d tomorrow +%F)"
        )
        print("Ctrl-C stops PHP and MariaDB (the run dir is throwaway).", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping LibreBooking …", flush=True)
    finally:
        peer.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
