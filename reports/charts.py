"""The report's charts as PNG bytes: matplotlib's Agg canvas, no pyplot, no display, deterministic.

Each ``*_chart`` function returns a ``Figure`` or None when the result has nothing to show there
(no live part, no comparison).  ``render_charts`` renders the applicable ones in a fixed order;
the same bytes become the ``*.png`` files and the HTML's data URIs.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence

from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from reports.context import MinuteSeries, ReportContext
from reports.faults import FAULT_COLOURS
from scanrush.domain.outcomes import CAUSES
from scanrush.stats.histogram import Histogram

SIM_COLOUR, LIVE_COLOUR, BAND_COLOUR = "#1f77b4", "#2ca02c", "#aec7e8"
DPI = 100
PERCENTILE_MARKS = (50.0, 95.0, 99.0)

ChartFn = Callable[[ReportContext], Figure | None]


def png_bytes(figure: Figure) -> bytes:
    """PNG of ``figure``; the 'Software' tag (matplotlib's version) is left out so bytes depend on data only."""
    FigureCanvasAgg(figure)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def render_charts(ctx: ReportContext) -> dict[str, bytes]:
    """chart name → PNG bytes, for every chart that applies to this result, in report order."""
    out = {}
    for name, make in CHARTS.items():
        figure = make(ctx)
        if figure is not None:
            out[name] = png_bytes(figure)
    return out


def _figure(height: float = 4.0, rows: int = 1, sharex: bool = False) -> tuple[Figure, list[Axes]]:
    figure = Figure(figsize=(10, height), layout="constrained")
    axes = figure.subplots(rows, 1, sharex=sharex, squeeze=False)
    return figure, [ax for row in axes for ax in row]


def _empty(figure: Figure, ax: Axes, text: str) -> Figure:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes)
    ax.set_axis_off()
    return figure


# --------------------------------------------------------------------------------------------
# Failure causes
# --------------------------------------------------------------------------------------------


def pareto_chart(ctx: ReportContext) -> Figure:
    """Failed Huabei checkouts per replication by cause, most first, with the cumulative share."""
    aggregate = ctx.result.aggregate
    figure, (ax,) = _figure()
    ax.set_title("Why Huabei checkouts failed (Pareto)")
    ranked = sorted(((n, c) for c, n in aggregate.cause_totals.items() if n > 0), key=lambda t: (-t[0], t[1]))
    if not ranked:
        return _empty(figure, ax, "no failed Huabei checkouts")
    per_rep = max(aggregate.n, 1)
    counts, causes = [n / per_rep for n, _ in ranked], [c for _, c in ranked]
    ax.bar(causes, counts, color=SIM_COLOUR)
    ax.set_ylabel("failed checkouts per replication")
    total, running, cumulative = sum(counts), 0.0, []
    for count in counts:
        running += count
        cumulative.append(100.0 * running / total)
    share = ax.twinx()
    share.plot(causes, cumulative, color="#d62728", marker="o")
    share.set_ylim(0, 105)
    share.set_ylabel("cumulative share (%)")
    return figure


# --------------------------------------------------------------------------------------------
# Over time
# --------------------------------------------------------------------------------------------


def _mark_faults(ax: Axes, ctx: ReportContext) -> None:
    for window in ctx.faults:
        ax.axvspan(window.start / 60.0, window.end / 60.0, color=FAULT_COLOURS[window.kind], alpha=0.15, lw=0)
    if ctx.window and ctx.live is not None:
        for edge in ctx.window:
            ax.axvline(edge / 60.0, color=LIVE_COLOUR, ls=":", lw=1)


def _fault_legend(ax: Axes, ctx: ReportContext, extra: Sequence[tuple[Artist, str]] = ()) -> None:
    handles: list[Artist] = [h for h, _ in extra]
    labels = [label for _, label in extra]
    for window in ctx.faults:
        start, end = window.start / 60.0, window.end / 60.0
        handles.append(Patch(color=FAULT_COLOURS[window.kind], alpha=0.3))
        labels.append(f"{window.label}, min {start:g}–{end:g}")
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)


def _line(ax: Axes, series: MinuteSeries, name: str, *, scale: float = 1.0, **style: object) -> Artist | None:
    values = series.columns.get(name)
    if not values:
        return None
    (line,) = ax.plot(series.times()[: len(values)], [v * scale for v in values], **style)  # type: ignore[arg-type]
    return line


def _band(ax: Axes, ctx: ReportContext, name: str, scale: float = 1.0) -> None:
    """Min–max over replications: how much one promotion day can differ from the mean."""
    runs = [s.columns.get(name, []) for s in ctx.replication_series]
    runs = [r for r in runs if r]
    if len(runs) < 2:
        return
    length = min(len(r) for r in runs)
    low = [scale * min((r[i] for r in runs if not math.isnan(r[i])), default=math.nan) for i in range(length)]
    high = [scale * max((r[i] for r in runs if not math.isnan(r[i])), default=math.nan) for i in range(length)]
    ax.fill_between(ctx.sim_series.times()[:length], low, high, color=BAND_COLOUR, alpha=0.5, lw=0)


def timeline_chart(ctx: ReportContext) -> Figure:
    """Huabei success rate and queue length per minute, fault windows shaded."""
    figure, (rate_ax, queue_ax) = _figure(height=6.5, rows=2, sharex=True)
    rate_ax.set_title("Huabei success rate and queue length over the promotion")
    legend: list[tuple[Artist, str]] = []
    _band(rate_ax, ctx, "huabei_success_rate", 100.0)
    sim_label = "simulated (mean)" if ctx.result.kind == "sim" else "live"
    line = _line(rate_ax, ctx.sim_series, "huabei_success_rate", scale=100.0, color=SIM_COLOUR)
    if line is not None:
        legend.append((line, sim_label))
    if len(ctx.replication_series) > 1:
        legend.append((Patch(color=BAND_COLOUR, alpha=0.5), "range over replications"))
    _band(queue_ax, ctx, "queue_length")
    _line(queue_ax, ctx.sim_series, "queue_length", color=SIM_COLOUR)
    if ctx.live_series is not None:
        live = _line(rate_ax, ctx.live_series, "huabei_success_rate", scale=100.0, color=LIVE_COLOUR, marker="o")
        _line(queue_ax, ctx.live_series, "queue_length", color=LIVE_COLOUR, marker="o")
        if live is not None:
            legend.append((live, "live window"))
    for ax in (rate_ax, queue_ax):
        _mark_faults(ax, ctx)
        ax.grid(alpha=0.3)
    rate_ax.set_ylabel("Huabei success (%)")
    queue_ax.set_ylabel("shoppers queueing")
    queue_ax.set_xlabel("minutes after opening")
    _fault_legend(rate_ax, ctx, legend)
    return figure


def utilisation_chart(ctx: ReportContext) -> Figure:
    """Gateway utilisation per minute (busy worker-seconds over capacity), fault windows shaded."""
    figure, (ax,) = _figure()
    ax.set_title("Payment gateway utilisation")
    _band(ax, ctx, "gateway_utilisation", 100.0)
    line = _line(ax, ctx.sim_series, "gateway_utilisation", scale=100.0, color=SIM_COLOUR)
    ax.axhline(100.0, color="black", lw=0.8, ls="--")
    _mark_faults(ax, ctx)
    ax.set_ylabel("busy workers (% of capacity)")
    ax.set_xlabel("minutes after opening")
    ax.grid(alpha=0.3)
    _fault_legend(ax, ctx, [(line, "utilisation (mean)")] if line is not None else [])
    return figure


# --------------------------------------------------------------------------------------------
# Distributions
# --------------------------------------------------------------------------------------------


def _cdf(ax: Axes, histogram: Histogram, log: bool, **style: object) -> None:
    points = [(v, p) for v, p in histogram.cdf_points() if v > 0 or not log]
    if points:
        xs, ys = zip(*points, strict=True)
        ax.step(xs, [100.0 * y for y in ys], where="post", **style)  # type: ignore[arg-type]


def cdf_chart(ctx: ReportContext, name: str, title: str) -> Figure:
    """Empirical CDF of a duration histogram merged over replications, p50/p95/p99 marked."""
    figure, (ax,) = _figure()
    histogram = ctx.result.merged_histogram(name)
    ax.set_title(title)
    if histogram.count == 0:
        return _empty(figure, ax, "no samples")
    marks = histogram.percentiles(list(PERCENTILE_MARKS))
    positive = [v for v in (histogram.min, *marks) if v > 0]
    log = bool(positive) and histogram.max / min(positive) > 50
    _cdf(ax, histogram, log, color=SIM_COLOUR, label=f"{'simulated' if ctx.result.kind == 'sim' else 'live'} "
                                                   f"(n={histogram.count:,})")
    live = ctx.live.merged_histogram(name) if ctx.live is not None and ctx.live is not ctx.result else None
    if live is not None and live.count:
        _cdf(ax, live, log, color=LIVE_COLOUR, ls="--", label=f"live window (n={live.count:,})")
    for q, value in zip(PERCENTILE_MARKS, marks, strict=True):
        if math.isfinite(value) and (value > 0 or not log):
            ax.axvline(value, color="#555555", ls=":", lw=1)
            ax.annotate(f"p{q:g} {_duration(value)}", (value, 100.0 * q / 100.0), xytext=(4, -12),
                        textcoords="offset points", fontsize="small")
    if log:
        ax.set_xscale("log")
    ax.set_ylim(0, 101)
    ax.set_xlabel("seconds" + (" (log scale)" if log else ""))
    ax.set_ylabel("share of samples ≤ x (%)")
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return figure


def _duration(seconds: float) -> str:
    if seconds >= 100:
        return f"{seconds:.0f} s"
    if seconds >= 1:
        return f"{seconds:.1f} s"
    return f"{1000 * seconds:.0f} ms"


# --------------------------------------------------------------------------------------------
# Money, sim vs live, comparison
# --------------------------------------------------------------------------------------------


def money_chart(ctx: ReportContext) -> Figure:
    """Revenue lost and fees per replication, with their confidence intervals."""
    metrics = ctx.result.aggregate.metrics
    figure, (ax,) = _figure(height=2.8)
    ax.set_title(f"Revenue lost and fees per replication ({100 * ctx.result.confidence:g}% CI)")
    labels, values, errors = [], [], []
    for name, label in (("revenue_lost", "revenue lost"), ("fees", "Huabei fees")):
        interval = metrics.get(name)
        if interval is None or math.isnan(interval.estimate):
            continue
        labels.append(label)
        values.append(interval.estimate)
        errors.append(interval.half_width if interval.finite else 0.0)
    if not labels:
        return _empty(figure, ax, "no revenue figures")
    ax.barh(labels, values, xerr=errors, color=["#d62728", "#7f7f7f"][: len(labels)], capsize=4)
    ax.set_xlabel("amount (CNY)")
    ax.grid(axis="x", alpha=0.3)
    return figure


def sim_vs_live_chart(ctx: ReportContext) -> Figure | None:
    """Per cause: the simulated rate for the live window beside the live one, drift flagged."""
    if not ctx.drift:
        return None
    rows = ctx.drift[1:]  # causes; overall success is on another scale (the HTML table has it)
    figure, (ax,) = _figure()
    ax.set_title(f"Simulated vs live failure rate in the live window ({100 * ctx.result.confidence:g}% CI)")
    xs = range(len(rows))
    for offset, side, colour, label in ((-0.2, "sim", SIM_COLOUR, "simulated"), (0.2, "live", LIVE_COLOUR, "live")):
        intervals = [getattr(row, side) for row in rows]
        heights = [100.0 * (i.estimate if math.isfinite(i.estimate) else 0.0) for i in intervals]
        lower = [max(h - 100.0 * i.low, 0.0) if i.finite else 0.0 for h, i in zip(heights, intervals, strict=True)]
        upper = [max(100.0 * i.high - h, 0.0) if i.finite else 0.0 for h, i in zip(heights, intervals, strict=True)]
        ax.bar([x + offset for x in xs], heights, width=0.4, yerr=[lower, upper], color=colour, label=label,
               capsize=3)
    top = max((100.0 * max(r.sim.high, r.live.high) for r in rows if r.sim.finite and r.live.finite), default=1.0)
    for x, row in zip(xs, rows, strict=True):
        if row.drift:
            ax.annotate("drift", (x, top * 1.02), ha="center", color="#d62728", fontweight="bold")
    ax.set_xticks(list(xs), [r.label.removeprefix("failed: ") for r in rows])
    ax.set_ylim(0, top * 1.12 + 0.1)
    ax.set_ylabel("of Huabei checkouts (%)")
    ax.legend(loc="upper right")
    ax.grid(axis="y", alpha=0.3)
    return figure


COMPARISON_METRICS = ("huabei_success_rate", "abandonment_rate", *(f"failure_rate_{c.value}" for c in CAUSES))


def comparison_chart(ctx: ReportContext) -> Figure | None:
    """Paired differences twin − base of the rates, in percentage points, with their CIs."""
    comparison = ctx.result.comparison
    if comparison is None:
        return None
    rows = [(name, comparison.differences[name]) for name in COMPARISON_METRICS if name in comparison.differences]
    figure, (ax,) = _figure(height=1.2 + 0.45 * max(len(rows), 1))
    ax.set_title(f"{comparison.twin_scenario} − {comparison.base_scenario}: paired differences "
                 f"({100 * comparison.confidence:g}% CI)")
    if not rows:
        return _empty(figure, ax, "no comparable metrics")
    ys = list(range(len(rows)))[::-1]
    for y, (_, diff) in zip(ys, rows, strict=True):
        estimate = 100.0 * diff.estimate
        error = 100.0 * diff.half_width if diff.finite else 0.0
        colour = "#555555" if not diff.finite or not diff.excludes_zero() else SIM_COLOUR
        ax.errorbar([estimate], [y], xerr=[error], fmt="o", color=colour, capsize=4)
    ax.axvline(0.0, color="black", lw=0.8)
    ax.set_yticks(ys, [name for name, _ in rows])
    ax.set_xlabel("twin − base (percentage points)")
    ax.grid(axis="x", alpha=0.3)
    return figure


CHARTS: dict[str, ChartFn] = {
    "pareto": pareto_chart,
    "timeline": timeline_chart,
    "checkout_time_cdf": lambda ctx: cdf_chart(ctx, "checkout_time", "Checkout time (arrival to leaving the till)"),
    "payment_latency_cdf": lambda ctx: cdf_chart(ctx, "payment_latency", "Payment latency (scan to result)"),
    "gateway_utilisation": utilisation_chart,
    "money": money_chart,
    "sim_vs_live": sim_vs_live_chart,
    "comparison": comparison_chart,
}
"""Chart name (PNG file stem, HTML anchor) → how to draw it, in report order."""

CAPTIONS: dict[str, str] = {
    "pareto": "Failure causes, most frequent first; the line is the cumulative share of failures.",
    "timeline": "Per minute, mean over replications (band: range over replications); shaded: fault windows.",
    "checkout_time_cdf": "Share of checkouts finished within x seconds, all replications pooled.",
    "payment_latency_cdf": "Share of payments answered within x seconds, all replications pooled.",
    "gateway_utilisation": "Gateway busy time over its capacity (workers × 60 s) per minute; shaded: fault windows.",
    "money": "Baskets of shoppers who left unpaid or abandoned the queue, and Huabei merchant fees.",
    "sim_vs_live": "The model's prediction for the live window beside the live measurement; "
                   "'drift' where the intervals do not overlap.",
    "comparison": "Twin minus base, same seeds (common random numbers); blue: the interval excludes 0.",
}
