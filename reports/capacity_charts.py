"""Charts of capacity studies: sweep line charts and heatmaps, the what-if tornado.

Matplotlib with the Agg backend (no display), PNG at a fixed size and DPI with no
timestamp or version metadata, so the same data gives the same bytes.  The functions take
the plain data of the sweep / what-if JSON documents, so charts can be redrawn from a file.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # after use("Agg"): the backend is chosen before pyplot loads
from matplotlib.figure import Figure
from matplotlib.typing import RcKeyType

_STYLE: dict[RcKeyType, Any] = {
    "font.size": 9, "axes.grid": True, "grid.alpha": 0.3, "figure.dpi": 100, "savefig.dpi": 100,
    "axes.spines.top": False, "axes.spines.right": False,
}
_LABELS = {"huabei_success_rate": "Huabei success rate", "checkout_time_p95": "checkout time p95 (s)"}
_MAX_SERIES = 8  # more lines than this are unreadable; the heatmap shows the full grid


def _label(metric: str) -> str:
    return _LABELS.get(metric, metric.replace("_", " "))


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-")


def _is_rate(metric: str) -> bool:
    return metric.endswith("_rate") or metric.startswith("failure_rate_")


def _scale(metric: str) -> float:
    return 100.0 if _is_rate(metric) else 1.0


def _save(figure: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # metadata None: no "Software" version stamp, so the bytes depend on the data alone.
    figure.savefig(path, format="png", metadata={"Software": None})
    plt.close(figure)
    return path


def _numeric(values: Sequence[str]) -> list[float] | None:
    try:
        return [float(v) for v in values]
    except ValueError:
        return None


def _cell(point: Mapping[str, Any], metric: str) -> tuple[float, float]:
    ci = point["metrics"].get(metric, {})
    scale = _scale(metric)
    estimate = float(ci.get("estimate", math.nan)) * scale
    half = float(ci.get("half_width", math.nan)) * scale
    return estimate, half if math.isfinite(half) else 0.0


def sweep_line_chart(doc: Mapping[str, Any], axis_path: str, metric: str, path: Path) -> Path:
    """``metric`` against one varied parameter, with CI bars; one line per value of the other axes."""
    axes = doc["axes"]
    values = next(a["values"] for a in axes if a["path"] == axis_path)
    numeric = _numeric(values)
    xs = numeric if numeric is not None else list(range(len(values)))
    groups: dict[str, dict[str, Mapping[str, Any]]] = {}
    for point in doc["points"]:
        rest = ", ".join(f"{k}={v}" for k, v in point["settings"].items() if k != axis_path)
        groups.setdefault(rest, {})[point["settings"][axis_path]] = point
    with plt.rc_context(_STYLE):
        figure, ax = plt.subplots(figsize=(7, 4.2))
        for name, by_value in list(groups.items())[:_MAX_SERIES]:
            shown = [(x, _cell(by_value[v], metric)) for x, v in zip(xs, values, strict=True) if v in by_value]
            ax.errorbar([x for x, _ in shown], [c[0] for _, c in shown], yerr=[c[1] for _, c in shown],
                        marker="o", capsize=3, label=name or None)
        if numeric is None:
            ax.set_xticks(xs, values)
        ax.set_xlabel(axis_path)
        ax.set_ylabel(_label(metric) + (" (%)" if _is_rate(metric) else ""))
        ax.set_title(f"{doc['scenario']}: {_label(metric)} by {axis_path} (95% CI, {doc['replications']} reps)")
        if len(groups) > 1:
            ax.legend(fontsize=7)
        figure.tight_layout()
        return _save(figure, path)


def sweep_heatmap(doc: Mapping[str, Any], metric: str, path: Path) -> Path:
    """Two varied parameters: rows the first, columns the second; each cell 'estimate ±half-width'."""
    first, second = doc["axes"][0], doc["axes"][1]
    grid = [[math.nan] * len(second["values"]) for _ in first["values"]]
    notes = [[""] * len(second["values"]) for _ in first["values"]]
    for point in doc["points"]:
        row = first["values"].index(point["settings"][first["path"]])
        col = second["values"].index(point["settings"][second["path"]])
        estimate, half = _cell(point, metric)
        grid[row][col] = estimate
        notes[row][col] = f"{estimate:.1f}\n±{half:.1f}" if math.isfinite(estimate) else "n/a"
    with plt.rc_context(_STYLE):
        figure, ax = plt.subplots(figsize=(max(5.0, 0.8 * len(second["values"]) + 2), max(3.5, 0.6 * len(grid) + 1.5)))
        cmap = "RdYlGn" if _is_rate(metric) and "failure" not in metric else "RdYlGn_r"
        image = ax.imshow(grid, cmap=cmap, aspect="auto", origin="lower")
        ax.grid(False)
        ax.set_xticks(range(len(second["values"])), second["values"])
        ax.set_yticks(range(len(first["values"])), first["values"])
        ax.set_xlabel(second["path"])
        ax.set_ylabel(first["path"])
        for row, texts in enumerate(notes):
            for col, text in enumerate(texts):
                ax.text(col, row, text, ha="center", va="center", fontsize=7)
        figure.colorbar(image, ax=ax, label=_label(metric) + (" (%)" if _is_rate(metric) else ""))
        ax.set_title(f"{doc['scenario']}: {_label(metric)}\n(estimate ±95% CI half-width)", fontsize=9)
        figure.tight_layout()
        return _save(figure, path)


def sweep_charts(doc: Mapping[str, Any], directory: Path, metrics: Sequence[str]) -> list[Path]:
    """Line charts for each parameter and metric, plus heatmaps when exactly two parameters vary."""
    written = [sweep_line_chart(doc, axis["path"], metric, directory / f"{metric}-by-{_slug(axis['path'])}.png")
               for axis in doc["axes"] for metric in metrics]
    if len(doc["axes"]) == 2:
        written += [sweep_heatmap(doc, metric, directory / f"{metric}-heatmap.png") for metric in metrics]
    return written


def tornado_chart(rows: Sequence[Mapping[str, Any]], title: str, path: Path) -> Path:
    """Gain in Huabei success rate (pp) of each remediation with its paired CI, largest on top."""
    ordered = list(reversed(rows))  # barh draws bottom-up; rows come ranked best first
    labels = ["all together" if r["cause"] == "all" else str(r["cause"]) for r in ordered]
    gains = [float(r["gain"]["estimate"]) * 100 for r in ordered]
    halves = [float(r["gain"]["half_width"]) * 100 for r in ordered]
    halves = [h if math.isfinite(h) else 0.0 for h in halves]
    with plt.rc_context(_STYLE):
        figure, ax = plt.subplots(figsize=(7, 1.0 + 0.5 * max(1, len(rows))))
        colours = ["#2a9d8f" if g >= 0 else "#e76f51" for g in gains]
        ax.barh(range(len(ordered)), gains, xerr=halves, color=colours, capsize=3)
        ax.set_yticks(range(len(ordered)), labels)
        ax.axvline(0.0, color="black", linewidth=0.8)
        ax.set_xlabel("gain in Huabei success rate (pp, paired 95% CI)")
        ax.set_title(title, fontsize=9)
        figure.tight_layout()
        return _save(figure, path)
