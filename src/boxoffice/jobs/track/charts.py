"""Price-history charts: PNG (matplotlib, Agg) or a self-contained HTML page (inline SVG).

The chart shows the min–max band, the median line and, on a second axis, the number of
listings per bucket.
"""

from __future__ import annotations

import html
import importlib
import io
from datetime import tzinfo
from pathlib import Path
from typing import Any

from boxoffice.errors import ConfigurationError, StorageError
from boxoffice.jobs.track.analytics import History, local


def _figure(history: History, tz: tzinfo | None) -> object:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mdates: Any = importlib.import_module("matplotlib.dates")

    rows = [r for r in history.rows if r.bucket is not None]
    times: Any = [
        r.bucket.astimezone(tz) if tz else r.bucket.astimezone() for r in rows if r.bucket
    ]
    fig, ax = plt.subplots(figsize=(10, 5.5), dpi=110)
    if times:
        ax.fill_between(
            times,
            [r.min for r in rows],
            [r.max for r in rows],
            alpha=0.25,
            color="tab:blue",
            label="min–max",
            step="mid" if len(times) == 1 else None,
        )
        ax.plot(times, [r.median for r in rows], color="tab:blue", marker="o", lw=2, label="median")
        ax.plot(times, [r.min for r in rows], color="tab:green", lw=1, label="min")
        ax.plot(times, [r.max for r in rows], color="tab:red", lw=1, label="max")
        counts = ax.twinx()
        counts.bar(
            times,
            [r.count for r in rows],
            width=history.bucket.total_seconds() / 86400 * 0.6,
            alpha=0.18,
            color="tab:gray",
            label="listings",
        )
        counts.set_ylabel("listings per bucket")
        counts.set_ylim(bottom=0)
        ax.set_zorder(counts.get_zorder() + 1)
        ax.patch.set_visible(False)
        handles, labels = ax.get_legend_handles_labels()
        h2, l2 = counts.get_legend_handles_labels()
        ax.legend(handles + h2, labels + l2, loc="upper left", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no listings in this window", ha="center", va="center")
    ax.set_ylabel("price per ticket")
    zone_name = str(getattr(tz, "key", tz)) if tz else local(history.since, None).split()[-1]
    ax.set_xlabel(f"time ({zone_name}), buckets of {history.bucket_label}")
    event = history.event
    ax.set_title(
        f"{event.name} — {event.venue}, {event.city}\nprice history (viagogo {event.viagogo_id})"
    )
    ax.grid(True, alpha=0.3)
    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    fig.tight_layout()
    return fig


def plot(history: History, path: Path, *, tz: tzinfo | None = None) -> Path:
    """Write the chart to ``path``: ``.png`` or ``.html`` (self-contained, inline SVG)."""
    suffix = path.suffix.lower()
    if suffix not in (".png", ".html", ".htm"):
        raise ConfigurationError(
            f"cannot plot to {path.name}", hint="use a .png or .html file name"
        )
    import matplotlib.pyplot as plt

    fig = _figure(history, tz)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if suffix == ".png":
            fig.savefig(path, format="png")  # type: ignore[attr-defined]
        else:
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg")  # type: ignore[attr-defined]
            path.write_text(_page(history, buffer.getvalue(), tz), encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"cannot write chart {path}: {exc.strerror}") from exc
    finally:
        plt.close(fig)  # type: ignore[arg-type]
    return path


def _page(history: History, svg: str, tz: tzinfo | None) -> str:
    svg = svg[svg.find("<svg") :]
    title = html.escape(f"{history.event.name} — price history")
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(str(v))}</td>"
            for v in (
                local(r.bucket, tz),
                f"{r.min:.2f}",
                f"{r.avg:.2f}",
                f"{r.median:.2f}",
                f"{r.max:.2f}",
                r.count,
                r.quantity,
            )
        )
        + "</tr>"
        for r in history.rows
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}</style></head>
<body><h1>{title}</h1>
<p>{html.escape(history.event.venue)}, {html.escape(history.event.city)} —
buckets of {html.escape(history.bucket_label)}</p>
<figure>{svg}</figure>
<table><thead><tr><th>bucket</th><th>min</th><th>avg</th><th>median</th><th>max</th>
<th>listings</th><th>tickets</th></tr></thead><tbody>
{rows}
</tbody></table></body></html>
"""
