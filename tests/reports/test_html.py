"""The self-contained HTML report: offline by construction, every section and chart present."""

from __future__ import annotations

import base64
import dataclasses
import io
import re
from html.parser import HTMLParser

from PIL import Image

from reports.charts import render_charts
from reports.context import build_context
from reports.html import render_html
from scanrush.results import RunResult

from .conftest import sim_result


class Page(HTMLParser):
    """Collects what the tests look at: resource URLs, images, table classes, ids."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.images: dict[str, str] = {}
        self.tables: list[str] = []
        self.ids: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.urls.extend(v or "" for k, v in attrs if k in ("src", "href"))
        if tag == "img":
            self.images[a.get("data-chart") or ""] = a.get("src") or ""
        if tag == "table":
            self.tables.append(a.get("class") or "")
        if a.get("id"):
            self.ids.append(a["id"] or "")


def render(result: RunResult) -> tuple[str, Page]:
    ctx = build_context(result)
    text = render_html(ctx, render_charts(ctx))
    page = Page()
    page.feed(text)
    return text, page


def test_report_is_self_contained_and_has_every_section(checked: RunResult) -> None:
    text, page = render(checked)
    assert "Content-Security-Policy" in text
    assert "default-src 'none'" in text
    assert all(url.startswith("data:image/png;base64,") for url in page.urls)
    assert not re.search(r"https?://|url\(|@import", text)  # no external resource anywhere
    assert set(page.images) == {"pareto", "timeline", "checkout_time_cdf", "payment_latency_cdf",
                                "gateway_utilisation", "money", "sim_vs_live"}
    for name, uri in page.images.items():
        assert Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).format == "PNG", name
    assert {"verdict", "faults", "drift-table"} <= set(page.tables)
    for expected in ("NO-GO", "✗", "✓", "?", "huabei_success_rate &gt;= 97%", "at most 82%", "98.3%",
                     "20261212", "sha256:" + "ab" * 32, "toxic-approximation", "model drift",
                     "outage: boutiques (mall-wifi)", "revenue lost", "network improvement"):
        assert expected in text, expected


def test_banners_for_partial_and_interrupted_runs_and_a_note_without_verdict() -> None:
    result = sim_result()
    result.partial = result.interrupted = True
    result.metadata = dataclasses.replace(result.metadata, replications=20)
    result.metadata.scenario.pop("gates")
    text, page = render(result)
    assert "PARTIAL" in text
    assert "INTERRUPTED" in text
    assert "4 of 20" in text
    assert "verdict" not in page.tables
    assert "declares no gates" in text


def test_comparison_section(compared: RunResult) -> None:
    text, page = render(compared)
    assert "comparison" in page.images
    assert "comparison" in page.tables
    assert "promo-fixed" in text
    assert "clearly better" in text


def test_a_run_with_no_finished_replication_still_renders() -> None:
    result = sim_result(n=1)
    result.replications = []
    result.refresh()
    text, page = render(result)
    assert "no samples" not in text  # the words are drawn in the image, not the HTML
    assert "pareto" in page.images
