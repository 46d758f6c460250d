"""The self-contained HTML report: one file, no network (a CSP forbids it), charts as PNG data URIs."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Mapping, Sequence

from reports.charts import CAPTIONS
from reports.context import ReportContext
from reports.faults import FAULT_COLOURS
from reports.formatting import fmt, fmt_ci, level
from reports.verdicts import MARKS, ordered
from scanrush.summary import CAUSE_FIXES, KEY_METRICS, verdict

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"
"""Content-Security-Policy: the page may load nothing but its own inline style and data-URI images."""

STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1100px;color:#222;
padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{margin-top:1.8em;border-bottom:1px solid #ddd;padding-bottom:.2em}
table{border-collapse:collapse;margin:.6em 0}th,td{border:1px solid #ddd;padding:.3em .6em;text-align:left;
vertical-align:top}th{background:#f4f4f4}td.num{text-align:right;font-variant-numeric:tabular-nums}
.banner{padding:.6em 1em;margin:.6em 0;border-radius:4px;font-weight:600}
.warn{background:#fff3cd;border:1px solid #e0c060}.note{background:#eef3fb;border:1px solid #b8c9e8}
.GO{color:#1a7f37}.NO-GO{color:#c62828}.INCONCLUSIVE{color:#a86b00}.mark{font-size:1.2em;text-align:center}
.decision{font-size:1.3em;font-weight:700}figure{margin:1em 0}figure img{max-width:100%;height:auto}
figcaption{color:#555;font-size:.9em}.drift{color:#c62828;font-weight:700}.swatch{display:inline-block;
width:.9em;height:.9em;margin-right:.3em;vertical-align:middle}
"""


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def table(headers: Sequence[str], rows: Iterable[Sequence[str]], *, numeric: Iterable[int] = (),
          cls: str = "") -> str:
    """A table of already-escaped cells; columns in ``numeric`` are right-aligned."""
    right = set(numeric)
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    thead = f"<thead><tr>{head}</tr></thead>" if any(headers) else ""
    body = "".join(
        "<tr>" + "".join(f"<td{' class=num' if i in right else ''}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    attr = f' class="{cls}"' if cls else ""
    return f"<table{attr}>{thead}<tbody>{body}</tbody></table>"


def render_html(ctx: ReportContext, charts: Mapping[str, bytes]) -> str:
    """The whole report as one HTML document."""
    title = f"scanrush report: {ctx.result.metadata.scenario_name}"
    sections = [
        _header(ctx), _verdict(ctx), _figure(charts, "pareto", "Failure causes"), _causes_table(ctx),
        _figure(charts, "timeline", "Over time"), _fault_list(ctx),
        _figure(charts, "checkout_time_cdf", "Checkout time"),
        _figure(charts, "payment_latency_cdf", "Payment latency"),
        _percentiles(ctx), _figure(charts, "gateway_utilisation", "Gateway utilisation"),
        _figure(charts, "money", "Revenue lost and fees"), _money(ctx), _sim_vs_live(ctx, charts),
        _comparison(ctx, charts),
    ]
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{CSP}\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>\n"
        f"<h1>{esc(title)}</h1>\n" + "\n".join(s for s in sections if s) + "\n</body></html>\n"
    )


def _header(ctx: ReportContext) -> str:
    result, meta = ctx.result, ctx.result.metadata
    done = len(result.replications)
    rows = [
        ("scenario", f"{meta.scenario_name} ({result.kind} run) — {meta.scenario_path}"),
        ("scenario hash", meta.scenario_hash),
        ("seed", str(meta.seed)),
        ("replications", f"{done} of {meta.replications}" if done != meta.replications else str(done)),
        ("mechanism", result.mechanism + _packet_loss(ctx)),
        ("confidence", level(result.confidence)),
        ("created", meta.created),
        ("versions", ", ".join(f"{k} {v}" for k, v in sorted(meta.versions.items()))),
    ]
    if ctx.window:
        rows.append(("live window", f"minute {ctx.window[0] / 60:g} to {ctx.window[1] / 60:g}"))
    out = [table(("", ""), ([f"<b>{esc(k)}</b>", esc(v)] for k, v in rows), cls="meta")]
    for flag, text in ((result.partial, "PARTIAL: only the replications that finished are counted."),
                       (result.interrupted, "INTERRUPTED: the run was stopped; this is what had finished.")):
        if flag:
            out.append(f'<div class="banner warn">{esc(text)}</div>')
    if ctx.live is not None and any(r.extra.get("cpu_saturated") for r in ctx.live.replications):
        out.append('<div class="banner warn">The load generator\'s CPU saturated: live timings cannot be '
                   "trusted.</div>")
    return "\n".join(out)


def _packet_loss(ctx: ReportContext) -> str:
    if ctx.live is None:
        return ""
    for rep in ctx.live.replications:
        loss = rep.extra.get("packet_loss")
        if isinstance(loss, Mapping) and loss.get("mechanism"):
            return f" (packet loss: {loss['mechanism']})"
    return ""


def _verdict(ctx: ReportContext) -> str:
    out = ['<h2 id="verdict">Verdict</h2>']
    v = ctx.verdict
    if v is None:
        out.append(f'<div class="banner note">{esc(ctx.verdict_note or "No verdict.")}</div>')
        return "\n".join(out)
    out.append(f'<p class="decision {esc(v.decision.value)}">{esc(v.decision.value)} '
               f"<span>({esc(level(v.confidence))} family confidence, {v.replications} replications)</span></p>")
    headers = ("", "gate", "evidence", "decision", "observed", "bound", "threshold", "confidence", "n", "method",
               "reason")
    rows = []
    for row in ordered(v.gates):
        metric = row.gate.metric
        rows.append([
            f'<span class="mark {esc(row.decision.value)}">{MARKS[row.decision]}</span>', esc(row.gate.name),
            esc(row.evidence), f'<span class="{esc(row.decision.value)}">{esc(row.decision.value)}</span>',
            esc(fmt(metric, row.observed)), esc(fmt(metric, row.bound)),
            esc(f"{row.gate.op} {fmt(metric, row.gate.threshold)}"), esc(level(row.confidence)), str(row.n),
            esc(row.method), esc(row.reason),
        ])
    out.append(table(headers, rows, numeric=(4, 5, 6, 7, 8), cls="verdict"))
    out.extend(f'<div class="banner note">{esc(note)}</div>' for note in v.notes)
    return "\n".join(out)


def _figure(charts: Mapping[str, bytes], name: str, heading: str) -> str:
    data = charts.get(name)
    if data is None:
        return ""
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    return (f'<h2 id="{name}">{esc(heading)}</h2><figure><img data-chart="{name}" alt="{esc(heading)}" '
            f'src="{uri}"><figcaption>{esc(CAPTIONS.get(name, ""))}</figcaption></figure>')


def _causes_table(ctx: ReportContext) -> str:
    aggregate = ctx.result.aggregate
    ranked = sorted(((n, c) for c, n in aggregate.cause_totals.items() if n > 0), key=lambda t: (-t[0], t[1]))
    rows = []
    for count, cause in ranked:
        rate = aggregate.cause_rates.get(cause)
        metric = f"failure_rate_{cause}"
        rows.append([esc(cause), f"{count:,}", esc(fmt(metric, rate.estimate)) if rate else "n/a",
                     esc(fmt_ci(metric, rate)) if rate else "", esc(CAUSE_FIXES.get(cause, ""))])
    headers = ("cause", "failed (all replications)", "of Huabei checkouts", f"{level(aggregate.confidence)} CI", "fix")
    return table(headers, rows, numeric=(1, 2, 3)) if rows else "<p>No failed Huabei checkouts.</p>"


def _fault_list(ctx: ReportContext) -> str:
    if not ctx.faults:
        return "<p>The scenario has no fault windows.</p>"
    rows = [[f'<span class="swatch" style="background:{FAULT_COLOURS[w.kind]}"></span>{esc(w.kind)}',
             esc(w.label), f"{w.start / 60:g}", f"{w.end / 60:g}"] for w in ctx.faults]
    return table(("kind", "fault", "from minute", "to minute"), rows, numeric=(2, 3), cls="faults")


def _percentiles(ctx: ReportContext) -> str:
    pooled = ctx.result.aggregate.histograms
    rows = []
    for name in ("checkout_time", "queue_wait", "payment_latency"):
        stats = pooled.get(name, {})
        cells = [esc(fmt(f"{name}_p50", stats.get(k, float("nan")))) for k in ("p50", "p95", "p99", "p99_9", "max")]
        rows.append([esc(name.replace("_", " ")), f"{int(stats.get('count', 0)):,}", *cells])
    return table(("distribution (pooled)", "samples", "p50", "p95", "p99", "p99.9", "max"), rows,
                 numeric=range(1, 7))


def _money(ctx: ReportContext) -> str:
    metrics, totals = ctx.result.aggregate.metrics, ctx.result.aggregate.totals
    rows = []
    for name, label in (("revenue", "revenue"), ("revenue_lost", "revenue lost"), ("fees", "Huabei fees")):
        interval = metrics.get(name)
        if interval is not None:
            rows.append([esc(label), esc(fmt(name, interval.estimate)), esc(fmt_ci(name, interval)),
                         esc(fmt(name, totals.get(name, float("nan"))))])
    headers = ("", "per replication", f"{level(ctx.result.confidence)} CI", "all replications")
    return table(headers, rows, numeric=(1, 2, 3))


def _sim_vs_live(ctx: ReportContext, charts: Mapping[str, bytes]) -> str:
    if not ctx.drift:
        return ""
    rows = []
    for row in ctx.drift:
        flag = {True: '<span class="drift">model drift</span>', False: "consistent", None: "n/a"}[row.drift]
        rows.append([esc(row.label), esc(fmt(row.metric, row.sim.estimate)), esc(fmt_ci(row.metric, row.sim)),
                     esc(fmt(row.metric, row.live.estimate)), esc(fmt_ci(row.metric, row.live)), flag])
    headers = ("", "simulated (window)", "CI", "live", "CI", "")
    return (_figure(charts, "sim_vs_live", "Simulated vs live")
            + table(headers, rows, numeric=(1, 2, 3, 4), cls="drift-table"))


def _comparison(ctx: ReportContext, charts: Mapping[str, bytes]) -> str:
    comparison = ctx.result.comparison
    if comparison is None:
        return ""
    rows = []
    for name, label in KEY_METRICS:
        diff = comparison.differences.get(name)
        if diff is not None:
            rows.append([esc(label), esc(fmt(name, diff.estimate, signed=True)),
                         esc(fmt_ci(name, diff, signed=True)), esc(verdict(name, diff))])
    headers = ("metric", "twin − base", f"{level(comparison.confidence)} CI", "")
    intro = (f"<p>Twin <b>{esc(comparison.twin_scenario)}</b> against base <b>{esc(comparison.base_scenario)}</b> "
             f"({esc(comparison.base_hash[:19])}), same seed {comparison.seed}: paired differences.</p>")
    return (_figure(charts, "comparison", "Comparison") + intro
            + table(headers, rows, numeric=(1, 2), cls="comparison"))
