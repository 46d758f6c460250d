"""Write a report's files: ``report.html``, ``charts/*.png``, ``junit.xml``, ``series.csv``, ``replications.csv``.

Every file is written atomically (a temporary file in the same folder, then ``os.replace``), so CI
never picks up half a JUnit file or a truncated image.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterable
from pathlib import Path

from reports.context import ReportContext, build_context
from scanrush.errors import InfrastructureError
from scanrush.results import RunResult, write_text_atomic

FORMATS = ("html", "png", "junit", "csv")


def parse_formats(text: str) -> tuple[str, ...]:
    """'html,png' → ('html', 'png'); ``ValueError`` naming the unknown ones."""
    chosen = tuple(dict.fromkeys(f.strip().lower() for f in text.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in FORMATS]
    if unknown or not chosen:
        raise ValueError(f"unknown report format {', '.join(unknown) or repr(text)}; choose from {','.join(FORMATS)}")
    return chosen


def default_out_dir(result_path: str | os.PathLike[str]) -> Path:
    """``results/mall_promo.json`` → ``results/mall_promo-report/``."""
    path = Path(result_path)
    return path.with_name(f"{path.stem}-report")


def write_report(result: RunResult | ReportContext, out_dir: str | os.PathLike[str],
                 formats: Iterable[str] = FORMATS) -> list[Path]:
    """Write the chosen formats into ``out_dir``; returns the files written, in a fixed order."""
    ctx = result if isinstance(result, ReportContext) else build_context(result)
    chosen, out = set(formats), Path(out_dir)
    written: list[Path] = []
    charts: dict[str, bytes] = {}
    if chosen & {"html", "png"}:
        from reports.charts import render_charts  # matplotlib only when a chart is wanted

        charts = render_charts(ctx)
    if "html" in chosen:
        from reports.html import render_html

        written.append(write_text_atomic(out / "report.html", render_html(ctx, charts)))
    if "png" in chosen:
        written.extend(write_bytes_atomic(out / "charts" / f"{name}.png", data) for name, data in charts.items())
    if "junit" in chosen:
        from reports.junit import render_junit

        written.append(write_text_atomic(out / "junit.xml", render_junit(ctx)))
    if "csv" in chosen:
        from reports.csvs import replications_csv, series_csv

        written.append(write_text_atomic(out / "series.csv", series_csv(ctx)))
        written.append(write_text_atomic(out / "replications.csv", replications_csv(ctx)))
    return written


def write_bytes_atomic(path: Path, data: bytes) -> Path:
    """Like ``write_text_atomic``, for bytes (PNG)."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise InfrastructureError(f"{path}: cannot write the report file: {exc.strerror or exc}") from exc
    return path
