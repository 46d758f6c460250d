"""JUnit XML of the gates, for GitLab, Jenkins and Azure DevOps (load-testing.md §4).

One ``<testsuite>`` per result, named after the scenario, with the seed, scenario hash, mechanism
and tool versions as ``<properties>``.  One ``<testcase>`` per gate and body of evidence:
``name`` is ``Gate.name`` (stable across runs, so CI keeps each gate's history) and ``classname``
is ``<scenario>.sim`` or ``<scenario>.live``.

* GO → a passing testcase (the reason in ``system-out``);
* NO-GO → ``<failure type="GateFailed">`` whose message has the observed value, the bound and the
  threshold;
* INCONCLUSIVE → ``<failure type="GateInconclusive">`` too: the gate was judged and was *not* shown
  to hold, and a release gated on it must not look green (``scanrush check`` exits 4).
  ``<skipped>`` is kept for gates that were never judged: when no verdict could be had, every
  scenario gate is listed as skipped with the reason.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from reports.context import ReportContext
from reports.formatting import fmt, level
from reports.verdicts import ordered, unjudged_gates
from scanrush.verdict import Decision, GateVerdict

FAILURE_TYPES = {Decision.NO_GO: "GateFailed", Decision.INCONCLUSIVE: "GateInconclusive"}


def render_junit(ctx: ReportContext) -> str:
    """The JUnit XML document (UTF-8, with declaration)."""
    meta = ctx.result.metadata
    suite = ET.Element("testsuite", name=meta.scenario_name, timestamp=meta.created, time="0")
    _properties(suite, ctx)
    cases = _verdict_cases(ctx) if ctx.verdict is not None else _skipped_cases(ctx)
    suite.extend(cases)
    suite.set("tests", str(len(cases)))
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))
    suite.set("errors", "0")
    ET.indent(suite)
    return ET.tostring(suite, encoding="unicode", xml_declaration=False).join(
        ('<?xml version="1.0" encoding="UTF-8"?>\n', "\n"))


def _properties(suite: ET.Element, ctx: ReportContext) -> None:
    result, meta = ctx.result, ctx.result.metadata
    props = {
        "seed": str(meta.seed),
        "scenario_hash": meta.scenario_hash,
        "scenario_path": meta.scenario_path,
        "kind": result.kind,
        "mechanism": result.mechanism,
        "replications": str(len(result.replications)),
        "confidence": f"{result.confidence:g}",
        "partial": str(result.partial).lower(),
        "interrupted": str(result.interrupted).lower(),
        **{f"version.{k}": v for k, v in sorted(meta.versions.items())},
    }
    if ctx.verdict is not None:
        props["decision"] = ctx.verdict.decision.value
    if ctx.live is not None:
        saturated = any(bool(r.extra.get("cpu_saturated")) for r in ctx.live.replications)
        props["cpu_warning"] = str(saturated).lower()
    element = ET.SubElement(suite, "properties")
    for name, value in props.items():
        ET.SubElement(element, "property", name=name, value=value)


def _case(ctx: ReportContext, name: str, evidence: str) -> ET.Element:
    meta = ctx.result.metadata
    return ET.Element("testcase", name=name, classname=f"{meta.scenario_name}.{evidence}",
                      file=meta.scenario_path, time="0")


def _verdict_cases(ctx: ReportContext) -> list[ET.Element]:
    assert ctx.verdict is not None
    cases = []
    for row in ordered(ctx.verdict.gates):
        case = _case(ctx, row.gate.name, row.evidence)
        if row.decision is Decision.GO:
            ET.SubElement(case, "system-out").text = f"{failure_message(row)}\n{row.reason}"
        else:
            failure = ET.SubElement(case, "failure", type=FAILURE_TYPES[row.decision], message=failure_message(row))
            failure.text = row.reason
        cases.append(case)
    return cases


def _skipped_cases(ctx: ReportContext) -> list[ET.Element]:
    cases = []
    for name, _text in unjudged_gates(ctx.result):
        case = _case(ctx, name, ctx.result.kind)
        ET.SubElement(case, "skipped", message=ctx.verdict_note or "not judged")
        cases.append(case)
    return cases


def failure_message(row: GateVerdict) -> str:
    """'NO-GO: observed 91.20%, 95% bound 89.70% vs >= 97.00% (n=20, t)' — what CI shows first."""
    metric = row.gate.metric
    return (f"{row.decision.value}: {row.gate.metric} observed {fmt(metric, row.observed)}, "
            f"{level(row.confidence)} bound {fmt(metric, row.bound)} vs threshold "
            f"{row.gate.op} {fmt(metric, row.gate.threshold)} (n={row.n}, {row.method})")
