"""sync push under 20 random kill -9: nothing lost, redeliveries only with the same id and at
most one per kill, nothing dead. (The 5-kill version runs in the test suite.)"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._results import record
from boxoffice.platforms.vivenu.envelope import envelope_id
from boxoffice.sandbox import vivenu, webhook_receiver
from boxoffice.sandbox.server import SandboxServer

SECRET = "kill9-bench-secret"
EVENT = "6900000000000000000000bb"
TICKETS = 1_000
KILLS = 20


def main() -> int:
    apps = {
        "vivenu": vivenu.create_app(seed=20),
        "webhook": webhook_receiver.create_app(seed=0, secret=SECRET),
    }
    apps["vivenu"].state.vivenu.events[EVENT] = TICKETS
    receiver = apps["webhook"].state.receiver
    rng = random.Random(int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 7)
    with SandboxServer(apps) as urls, tempfile.TemporaryDirectory(prefix="bench-kill9-") as tmp:
        target = urls["webhook"] + "/ticket-created"
        rows = [vivenu.make_ticket(20, EVENT, i) for i in range(TICKETS)]
        want = {
            envelope_id(target, r["_id"])
            for r in rows
            if r["status"] in ("VALID", "DETAILSREQUIRED") and "charity" in r["ticketName"].lower()
        }
        env = {
            **os.environ,
            "PROD_API": "sandbox-key",
            "PROD_BASE_URL": urls["vivenu"],
            "VIVENU_SECRET": SECRET,
            "BOXOFFICE_STATE_DIR": str(Path(tmp) / "state"),
            "BOXOFFICE_SYNC_INTERVAL": "0.003",
        }
        command = [
            sys.executable, "-m", "boxoffice.cli", "sync", "push", "PROD", EVENT,
            "--target", target, "--json",
        ]  # fmt: skip
        started = time.perf_counter()
        kills = runs = 0
        while kills < KILLS:
            before = receiver.accepted
            proc = subprocess.Popen(
                command, cwd=tmp, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            runs += 1
            share = max(1, (len(want) - before) // (KILLS - kills + 1))
            goal = before + rng.randint(1, share)
            while receiver.accepted < goal and proc.poll() is None:
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 0.003))
            if proc.poll() is not None:
                break
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            kills += 1
        final = subprocess.run(command, cwd=tmp, env=env, capture_output=True, text=True)
        runs += 1
        stats = httpx.get(urls["webhook"] + "/_sandbox/stats").json()
    summary = json.loads(final.stdout) if final.returncode == 0 else {}
    lost = len(want - set(stats["accepted_ids"]))
    foreign = len(set(stats["accepted_ids"]) - want)
    ok = (
        final.returncode == 0
        and lost == 0
        and foreign == 0
        and stats["duplicates"] <= kills
        and set(stats["duplicate_ids"]) <= want
        and summary.get("dead") == 0
    )
    print(f"{kills} kills, {runs} runs, {time.perf_counter() - started:.1f} s, {len(want)} tickets")
    print(
        f"  receiver accepted {stats['accepted']}, lost {lost}, foreign {foreign}, "
        f"redeliveries {stats['duplicates']} (≤ {kills} allowed, all with a known id), "
        f"dead {summary.get('dead')}: {'OK' if ok else 'FAILED'}"
    )
    record(
        "sync",
        f"kill -9 {kills}× mid-push, then resume: tickets lost / duplicates beyond the kills",
        lost + max(0, stats["duplicates"] - kills),
        "",
        goal="0",
        met=ok,
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
