"""Capacity charts are PNGs whose bytes depend on the data alone."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reports.capacity_charts import sweep_charts, tornado_chart


def _ci(estimate: float, half: float) -> dict[str, Any]:
    return {"estimate": estimate, "low": estimate - half, "high": estimate + half, "half_width": half, "n": 3,
            "method": "t"}


def _doc() -> dict[str, Any]:
    points = []
    for i, (w, s) in enumerate((w, s) for w in ("4", "8") for s in ("40%", "80%")):
        metrics = {"huabei_success_rate": _ci(0.8 + 0.05 * i, 0.01), "checkout_time_p95": _ci(100 - 10 * i, 5.0)}
        points.append({"index": i, "settings": {"gateway.workers": w, "shoppers.huabei_share": s}, "metrics": metrics})
    axes = [{"path": "gateway.workers", "values": ["4", "8"]},
            {"path": "shoppers.huabei_share", "values": ["40%", "80%"]}]
    return {"scenario": "t", "replications": 3, "axes": axes, "points": points}


def test_sweep_charts_are_deterministic(tmp_path: Path) -> None:
    metrics = ("huabei_success_rate", "checkout_time_p95")
    first = sweep_charts(_doc(), tmp_path / "a", metrics)
    second = sweep_charts(_doc(), tmp_path / "b", metrics)
    assert len(first) == 6  # a line chart per parameter and metric, a heatmap per metric
    for one, two in zip(first, second, strict=True):
        assert one.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert one.read_bytes() == two.read_bytes()


def test_tornado(tmp_path: Path) -> None:
    rows = [{"cause": "merchant", "gain": _ci(0.11, 0.02)}, {"cause": "risk", "gain": _ci(-0.002, 0.01)},
            {"cause": "all", "gain": _ci(0.2, 0.03)}]
    path = tornado_chart(rows, "t", tmp_path / "tornado.png")
    assert path.read_bytes() == tornado_chart(rows, "t", tmp_path / "again.png").read_bytes()
