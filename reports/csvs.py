"""CSV of the per-minute series and of per-replication metrics, for spreadsheets and notebooks.

Numbers are written with ``repr`` precision (no rounding: CSV and HTML must not disagree,
load-testing.md §3.4 item 5); undefined values are empty cells.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable, Sequence

from reports.context import MinuteSeries, ReportContext


def _cell(value: float | int | str) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def _write(header: Sequence[str], rows: Iterable[Sequence[float | int | str]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def series_csv(ctx: ReportContext) -> str:
    """One row per scenario minute: ``sim_<series>`` (mean over replications) and ``live_<series>``.

    Rows are on the promotion's clock (``minute`` after opening); a live window's columns are
    filled only for its minutes.  For a live-only result the live series are the ``live_`` columns.
    """
    parts: list[tuple[str, MinuteSeries]] = [("live" if ctx.result.kind == "live" else "sim", ctx.sim_series)]
    if ctx.live_series is not None:
        parts.append(("live", ctx.live_series))
    first = min(int(s.start // 60) for _, s in parts)
    last = max(int(s.start // 60) + s.minutes for _, s in parts)
    header = ["minute", "start_seconds"]
    columns: list[tuple[MinuteSeries, str]] = []
    for prefix, series in parts:
        for name in series.columns:
            header.append(f"{prefix}_{name}")
            columns.append((series, name))
    rows = []
    for minute in range(first, last):
        row: list[float | int | str] = [minute, 60.0 * minute]
        for series, name in columns:
            index = minute - int(series.start // 60)
            values = series.columns[name]
            row.append(values[index] if 0 <= index < len(values) else math.nan)
        rows.append(row)
    return _write(header, rows)


def replications_csv(ctx: ReportContext) -> str:
    """One row per replication (and per live run): seed and every metric of ``metrics()``."""
    runs = [("live" if ctx.result.kind == "live" else "sim", ctx.result)]
    if ctx.live is not None and ctx.live is not ctx.result:
        runs.append(("live", ctx.live))
    names: list[str] = []
    for _, run in runs:
        for metrics in run.replication_metrics:
            names.extend(n for n in metrics if n not in names)
    rows: list[list[float | int | str]] = []
    for evidence, run in runs:
        for rep, metrics in zip(run.replications, run.replication_metrics, strict=True):
            seed = " ".join(str(s) for s in rep.seed)
            rows.append([evidence, rep.index, seed, rep.mechanism, *(metrics.get(n, math.nan) for n in names)])
    return _write(["evidence", "replication", "seed", "mechanism", *names], rows)
