"""`sync pull` writes the seed's layout, privately, with safe names and flat memory."""

from __future__ import annotations

import json
import stat
import tracemalloc
from pathlib import Path
from typing import Any

import httpx
import pytest

from boxoffice.jobs.sync.files import safe_name, ticket_file_name
from boxoffice.jobs.sync.pull import run_pull
from boxoffice.platforms.vivenu.tickets import TicketsClient
from boxoffice.sandbox import vivenu as sim

pytestmark = pytest.mark.usefixtures("instant_waits")


async def _pull(app: Any, out: Path, event: str, **kw: Any) -> Any:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app)) as http:
        client = TicketsClient(http, "http://vivenu.test", "sandbox-key")
        return await run_pull(client, event, out, region="PROD", **kw)


async def test_layout_counts_and_permissions(tmp_path: Path) -> None:
    app = sim.create_app(seed=0)
    result = await _pull(app, tmp_path, sim.DEV_EVENT, top=200)
    folder = tmp_path / "purchased_tickets" / sim.DEV_EVENT
    assert result.directory == folder
    tickets = json.loads((folder / "all_tickets.json").read_text(encoding="utf-8"))
    assert len(tickets) == 500
    assert len({t["_id"] for t in tickets}) == 500
    meta = json.loads((folder / "metadata.json").read_text())
    assert meta["total"] == 500
    assert sum(meta["counts_by_status"].values()) == 500
    assert sum(meta["counts_by_ticket_type"].values()) == 500
    assert meta["pulled_at"].endswith("Z")
    files = list((folder / "individual").iterdir())
    assert len(files) == 500
    one = tickets[0]
    single = folder / "individual" / ticket_file_name(one)
    assert json.loads(single.read_text(encoding="utf-8")) == one
    for path in (folder / "all_tickets.json", folder / "metadata.json", single):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not (folder / "all_tickets.json.part").exists()


async def test_total_change_is_recorded_in_metadata(tmp_path: Path) -> None:
    app = sim.create_app(seed=0)
    app.state.vivenu.growth[sim.DEV_EVENT] = sim.Growth(after_requests=1, add=3)
    result = await _pull(app, tmp_path, sim.DEV_EVENT, top=100, individual=False)
    assert result.pulled == 503
    meta = json.loads((result.directory / "metadata.json").read_text())
    assert meta["total_changed"] == [[500, 503]]
    assert list((result.directory / "individual").iterdir()) == []


def test_safe_names() -> None:
    assert safe_name("Paddy McCann") == "Paddy McCann"
    assert safe_name("Zoë Ñúñez 王") == "Zoë Ñúñez 王"
    assert "/" not in safe_name("Ana/Beatriz ../../etc")
    assert safe_name("..") == ""
    assert safe_name("CON") == "_CON"
    assert len(safe_name("x" * 500)) == 80
    assert ticket_file_name({"_id": "abc", "firstname": "A", "lastname": "B"}) == "abc_A B.json"
    assert ticket_file_name({"_id": "abc", "name": "../.."}) == "abc__.json"
    assert ticket_file_name({"_id": "abc", "name": " .. "}) == "abc.json"
    assert ticket_file_name({"_id": "../x", "name": "n"}) == "_x_n.json"


async def test_event_id_cannot_escape_the_folder(tmp_path: Path) -> None:
    app = sim.create_app(seed=0)
    result = await _pull(app, tmp_path / "out", "../../evil", individual=False)
    assert result.directory.resolve().is_relative_to((tmp_path / "out").resolve())


async def test_memory_stays_flat_in_the_number_of_tickets(tmp_path: Path) -> None:
    template = sim.make_ticket(0, "e", 0)

    def handler(request: httpx.Request) -> httpx.Response:
        total = int(request.url.params["event"])
        skip, top = int(request.url.params["skip"]), int(request.url.params["top"])
        rows = [{**template, "_id": f"t{i}"} for i in range(skip, min(total, skip + top))]
        return httpx.Response(200, json={"rows": rows, "total": total})

    peaks = []
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        for total in (300, 2_400):
            client = TicketsClient(http, "http://vivenu.test", "k")
            tracemalloc.start()
            result = await run_pull(
                client, str(total), tmp_path, region="PROD", top=100, individual=False
            )
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
            assert result.pulled == total
    # eight times the tickets may not cost anywhere near ten times the memory (pages are streamed)
    assert peaks[1] < peaks[0] * 2.5
