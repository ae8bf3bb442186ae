#!/usr/bin/env python3
"""Serve the real test pretix (with the secondhand marketplace plugin) over HTTPS until Ctrl-C.

Usage: .venv/bin/python scripts/pretix_up.py [--listing ITEM[:PRICE]]... [--dir DIR]

Installs pretix into .pretix/ on first use (cached), builds the shop, prints the URL, the CA
file to trust, and a ready-to-paste ``boxoffice watch run`` command. Same code as the pytest
fixture (tests/integration/pretix/pretix_peer.py).
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "integration" / "pretix"))

import pretix_peer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--listing",
        action="append",
        default=[],
        metavar="ITEM[:PRICE]",
        help="list a ticket for resale at start (e.g. Standard:45.00)",
    )
    parser.add_argument("--dir", type=Path, default=None, help="run dir (default: a temp dir)")
    args = parser.parse_args()
    # Explicit handlers: a shell starting us in the background may have set SIGINT to ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    run_dir = args.dir or Path(tempfile.mkdtemp(prefix="boxoffice-pretix-"))
    print(f"bringing up pretix {pretix_peer.PRETIX_VERSION} in {run_dir} …", flush=True)
    try:
        peer = pretix_peer.start(run_dir)
    except pretix_peer.PretixPeerError as exc:
        print(exc, file=sys.stderr)
        return 1
    try:
        for spec in args.listing:
            item, _, price = spec.partition(":")
            listing = peer.add_listing(item, price or None)
            print(f"listed {listing['item']} at {listing['price']} (id {listing['id']})")
        times = ", ".join(f"{k} {v:.1f} s" for k, v in peer.timings.items())
        print(f"pretix ready at {peer.event_url} ({times})")
        print(f"marketplace:  {peer.marketplace_url}")
        print(f"CA to trust:  {peer.ca_file}")
        print(f"test token:   {peer.token} (header X-Boxoffice-Test-Token)")
        print(f"server log:   {peer.log_path}")
        print(
            "try:  SSL_CERT_FILE="
            + str(peer.ca_file)
            + f" boxoffice watch run --url {peer.base_url} --event {peer.event_slug}"
        )
        print("Ctrl-C stops the server.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("stopping pretix …", flush=True)
    finally:
        peer.stop()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    sys.exit(main())
