"""Server clock offset and precise waiting (CONTRACT — being implemented).

Public API:

``ClockEstimate`` (frozen dataclass): offset (seconds, server − local), uncertainty (seconds,
    half-width of the bracket), samples (int), rtt (seconds of the tightest bracketing pair).
    ``server_time(local: float) -> float`` and ``local_time(server: float) -> float``.

``async estimate_offset(client: httpx.AsyncClient, url: str, *, method="HEAD",
    clock=time.time, max_probes=40, spacing=0.005) -> ClockEstimate``
    htpdate-style: find the instant the server's ``Date`` header ticks to the next second
    with probes a few ms apart around the edge; offset from the RTT midpoint of the tightest
    bracketing pair. Raises ProtocolError if the server sends no usable Date header.

``async wait_until(t: float, *, clock=time.time, spin=0.002) -> float``
    Wake within 1 ms of local epoch time ``t`` (asyncio sleep, then a short spin); returns
    the lateness in seconds. Honours ``pacing.is_instant()`` (returns at once).
"""

from __future__ import annotations
