"""PNG charts: deterministic bytes, each one a decodable image, only the ones that apply."""

from __future__ import annotations

import io

from PIL import Image

from reports.charts import render_charts
from reports.context import build_context
from scanrush.results import RunResult

BASE = ["pareto", "timeline", "checkout_time_cdf", "payment_latency_cdf", "gateway_utilisation", "money"]


def test_charts_of_a_sim_result_are_deterministic_pngs(sim: RunResult) -> None:
    first = render_charts(build_context(sim))
    assert list(first) == BASE
    assert render_charts(build_context(sim)) == first  # same result, same bytes
    for name, data in first.items():
        image = Image.open(io.BytesIO(data))
        image.verify()
        assert image.format == "PNG", name
        assert image.size[0] >= 800, name


def test_live_part_and_comparison_add_their_charts(checked: RunResult, compared: RunResult) -> None:
    assert list(render_charts(build_context(checked))) == [*BASE, "sim_vs_live"]
    assert list(render_charts(build_context(compared))) == [*BASE, "comparison"]
