"""JUnit XML: one testcase per gate and evidence, validated with junitparser."""

from __future__ import annotations

from pathlib import Path

import pytest
from junitparser import Failure, JUnitXml, Skipped, TestSuite

from reports.context import build_context
from reports.junit import render_junit
from scanrush.results import RunResult

from .conftest import sim_result


def parse(tmp_path: Path, result: RunResult) -> TestSuite:
    path = tmp_path / "junit.xml"
    path.write_text(render_junit(build_context(result)), encoding="utf-8")
    xml = JUnitXml.fromfile(str(path))
    suites = [xml] if isinstance(xml, TestSuite) else list(xml)
    assert len(suites) == 1
    return suites[0]


def test_one_testcase_per_gate_with_stable_names_and_evidence_classnames(tmp_path: Path,
                                                                          checked: RunResult) -> None:
    suite = parse(tmp_path, checked)
    assert suite.name == "promo"
    cases = {(case.classname, case.name): case for case in suite}
    assert set(cases) == {("promo.sim", "huabei_success_rate >= 97%"), ("promo.sim", "checkout_time_p95 <= 3m"),
                          ("promo.live", "checkout_time_p95 <= 3m"), ("promo.sim", "double_charges == 0")}
    assert suite.tests == 4
    assert suite.failures == 2
    assert suite.skipped == 0
    assert suite.errors == 0
    failing = cases[("promo.sim", "huabei_success_rate >= 97%")].result
    assert len(failing) == 1
    assert isinstance(failing[0], Failure)
    assert failing[0].type == "GateFailed"
    for text in ("80.00%", "78.00%", ">= 97.00%", "n=4"):  # observed, bound, threshold, sample size
        assert text in (failing[0].message or ""), text
    assert "fails >= 97%" in (failing[0].text or "")
    inconclusive = cases[("promo.live", "checkout_time_p95 <= 3m")].result
    assert inconclusive[0].type == "GateInconclusive"  # documented: a gate not shown to hold fails the build
    assert cases[("promo.sim", "double_charges == 0")].is_passed


def test_properties_carry_seed_hash_and_versions(tmp_path: Path, checked: RunResult) -> None:
    props = {p.name: p.value for p in parse(tmp_path, checked).properties()}
    assert props["seed"] == "20261212"
    assert props["scenario_hash"] == "sha256:" + "ab" * 32
    assert props["decision"] == "NO-GO"
    assert props["version.scanrush"]
    assert props["version.python"]
    assert props["cpu_warning"] == "false"


def test_gates_without_a_verdict_are_skipped_with_the_reason(tmp_path: Path) -> None:
    result = sim_result()
    result.metadata.scenario["gates"] = ["huabei_success_rate >= 97%", "not a gate"]
    result.metadata.scenario["gates"][0] = "no_such_metric >= 1"
    suite = parse(tmp_path, result)
    assert suite.tests == 2
    assert suite.skipped == 2
    for case in suite:
        assert isinstance(case.result[0], Skipped)
        assert "could not be judged" in (case.result[0].message or "")


@pytest.mark.parametrize("name", ["a & b <c>", "zoned \"quote\""])
def test_names_are_escaped(tmp_path: Path, name: str) -> None:
    result = sim_result(name=name)
    assert parse(tmp_path, result).name == name
