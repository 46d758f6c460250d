"""A table of broken scenarios: each must produce one located, helpful problem.

Every case edits the valid ``BASE`` below (line numbers are fixed, so the expected
line is the line you see here) and names the exact path, line and a fragment of the
rendered message a QA engineer would read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scanrush.errors import Problem, ScenarioError
from scanrush.scenario.loader import load_scenario

BASE = """\
name: bad-inputs
seed: 7
duration: 2h
mall:
  zones:
    - {name: supermarket, stores: 1, terminals_per_store: 4, network: wired}
    - {name: fashion, stores: 5, terminals_per_store: 2, network: mall-wifi}
networks:
  wired: {rtt: 20ms}
  mall-wifi:
    rtt: 120ms
    jitter: 60ms
    loss: 3%
    outages: [{at: 1h, for: 2m}]
terminals:
  firmware:
    - {version: "2.8", share: 30%, accepts: [{prefixes: 25-30, lengths: 16-24}]}
    - {version: "3.2", share: 70%}
shoppers:
  arrivals:
    - {at: 0, rate: 600/h}
    - {at: 1h, rate: 1200/h}
  huabei_share: 45%
  patience: 5m
gateway: {workers: 8, service_time: 80ms}
pos:
  query: {every: 5s, times: 5}
gates:
  - huabei_success_rate >= 97%
live: {window: [1h, 1h3m]}
"""


@dataclass(frozen=True)
class Bad:
    id: str
    edit: tuple[str, str]  # (text in BASE, its replacement); ("", "") leaves BASE as is
    path: str
    line: int | None
    message: str  # a fragment of the rendered problem (message and hint)
    file: str = "scenario.yaml"
    overrides: tuple[str, ...] = ()
    others: dict[str, str] = field(default_factory=dict)  # more files next to scenario.yaml


CASES = [
    Bad("wrong unit", ("jitter: 60ms", "jitter: 60 parsecs"), "networks.mall-wifi.jitter", 12,
        "= '60 parsecs': expected a duration such as 120ms"),
    Bad("negative duration", ("duration: 2h", "duration: -5"), "duration", 3, "cannot be negative"),
    Bad("zero duration", ("duration: 2h", "duration: 0"), "duration", 3, "should be greater than 0"),
    Bad("unknown key with suggestion", ("jitter: 60ms", "jiter: 60ms"), "networks.mall-wifi.jiter", 12,
        "unknown key 'jiter' (did you mean 'jitter'?)"),
    Bad("misspelt nested key", ("{every: 5s", "{evry: 5s"), "pos.query.evry", 27,
        "unknown key 'evry' (did you mean 'every'?)"),
    Bad("misspelt required section", ("gateway: {", "gatway: {"), "gatway", 25, "did you mean 'gateway'?"),
    Bad("misspelt required field", ("wired: {rtt: 20ms}", "wired: {rt: 20ms}"), "networks.wired.rt", 9,
        "did you mean 'rtt'?"),
    Bad("unknown key, nothing close", ("seed: 7", "seed: 7\nxyzzy: 1"), "xyzzy", 3, "known keys: "),
    Bad("shares not summing to 100%", ("share: 70%", "share: 60%"), "terminals.firmware", 16,
        "shares add up to 90.0%, not 100%"),
    Bad("on_failure not summing to 100%", ("patience: 5m", "on_failure: {retry_new_code: 50%, leave: 20%}"),
        "shoppers.on_failure", 24, "add up to 110.0%"),
    Bad("dangling network reference", ("network: mall-wifi}", "network: mall-wlan}"), "mall.zones[1].network", 7,
        "= 'mall-wlan': no such network (known networks: mall-wifi, wired)"),
    Bad("dangling merchant profile", ("network: wired}", "network: wired, merchants: luxury}"),
        "mall.zones[0].merchants", 6, "no such merchant profile (known profiles: default)"),
    Bad("duplicate zone name", ("{name: fashion", "{name: supermarket"), "mall.zones[1].name", 7,
        "zone names must be unique"),
    Bad("duplicate key", ("seed: 7", "seed: 7\nseed: 8"), "seed", 3, "duplicate key 'seed' (also written at line 2"),
    Bad("bad YAML syntax", ("jitter: 60ms", "jitter: 60ms: 5"), "", 12, "invalid YAML: mapping values are not allowed"),
    Bad("unclosed flow mapping", ("service_time: 80ms}", "service_time: 80ms"), "", 26, "invalid YAML"),
    Bad("tab indentation", ("    rtt: 120ms", "\trtt: 120ms"), "", 11, "YAML does not allow tabs"),
    Bad("wrong type", ("stores: 1,", "stores: many,"), "mall.zones[0].stores", 6, "should be a whole number"),
    Bad("mapping expected", ("gateway: {workers: 8, service_time: 80ms}", "gateway: 8"), "gateway", 25,
        "should be a mapping"),
    Bad("list expected", ("outages: [{at: 1h, for: 2m}]", "outages: 1h"), "networks.mall-wifi.outages", 14,
        "should be a list"),
    Bad("fraction > 1 without %", ("huabei_share: 45%", "huabei_share: 45"), "shoppers.huabei_share", 23,
        "write 45% for a percentage"),
    Bad("percentage over 100%", ("loss: 3%", "loss: 300%"), "networks.mall-wifi.loss", 13, "between 0% and 100%"),
    Bad("empty zones list", (BASE[BASE.index("  zones:"):BASE.index("networks:")], "  zones: []\n"), "mall.zones", 5,
        "= []: must not be empty"),
    Bad("unordered arrivals", ("{at: 0, rate: 600/h}", "{at: 2h, rate: 600/h}"), "shoppers.arrivals", 20,
        "points must be in time order"),
    Bad("first arrival after opening", ("{at: 0, rate: 600/h}", "{at: 10m, rate: 600/h}"), "shoppers.arrivals[0].at",
        21, "the first arrival point must be at 0 (add {at: 0, rate: ...})"),
    Bad("bad rate", ("rate: 600/h", "rate: 600 per hour"), "shoppers.arrivals[0].rate", 21, "expected a rate"),
    Bad("bad bandwidth", ("loss: 3%", "loss: 3%\n    bandwidth: lots"), "networks.mall-wifi.bandwidth", 14,
        "expected a bandwidth such as 2Mbps"),
    Bad("bad code prefix range", ("prefixes: 25-30", "prefixes: 30-25"),
        "terminals.firmware[0].accepts[0].prefixes", 17, "= '30-25': the range 30-25 is empty"),
    Bad("unquoted version number", ('version: "2.8"', "version: 2.8"), "terminals.firmware[0].version", 17,
        'put it in quotes: "2.8"'),
    Bad("bad gate text", ("huabei_success_rate >= 97%", "huabei success rate is high"), "gates[0]", 29,
        "expected a gate such as 'huabei_success_rate >= 97%'"),
    Bad("gate on an unknown metric", ("huabei_success_rate >= 97%", "huabei_sucess_rate >= 97%"), "gates[0]", 29,
        "= 'huabei_sucess_rate >= 97%': unknown metric 'huabei_sucess_rate' (did you mean huabei_success_rate?)"),
    Bad("gate: duration metric with a percentage", ("huabei_success_rate >= 97%", "checkout_time_p95 <= 45%"),
        "gates[0]", 29, "checkout_time_p95 is a duration: write one such as 45s"),
    Bad("gate: duration without a unit", ("huabei_success_rate >= 97%", "checkout_time_p95 <= 45"), "gates[0]", 29,
        "write it with its unit, such as 45s or 45ms"),
    Bad("gate: rate with a duration", ("huabei_success_rate >= 97%", "huabei_success_rate >= 45s"), "gates[0]", 29,
        "huabei_success_rate is a rate: write a percentage such as 97%"),
    Bad("gate: rate as a bare percentage", ("huabei_success_rate >= 97%", "huabei_success_rate >= 97"), "gates[0]",
        29, "write 97% for a percentage"),
    Bad("gate: count with a percentage", ("huabei_success_rate >= 97%", "double_charges == 0%"), "gates[0]", 29,
        "double_charges is a count: write a plain number"),
    Bad("gate: misspelt zone", ("huabei_success_rate >= 97%", "huabei_success_rate[zone=fashon] >= 90%"), "gates[0]",
        29, "no zone 'fashon' in this scenario (did you mean fashion?)"),
    Bad("gate: zone on a metric without zones",
        ("huabei_success_rate >= 97%", "checkout_time_p95[zone=fashion] <= 45s"), "gates[0]", 29,
        "checkout_time_p95 is not reported per zone"),
    Bad("gate: reversed operator", ("huabei_success_rate >= 97%", "huabei_success_rate => 97%"), "gates[0]", 29,
        "unknown operator '=>' (did you mean '>='?)"),
    Bad("gate: not text", ("- huabei_success_rate >= 97%", "- 97"), "gates[0]", 29, "written as text"),
    Bad("gate: the same gate twice",
        ("- huabei_success_rate >= 97%", "- huabei_success_rate >= 97%\n  - huabei_success_rate >= 0.97"),
        "gates[1]", 30, "the same gate as gates[0]"),
    Bad("sexagesimal time", ("{at: 1h, for: 2m}", "{at: 1:30, for: 2m}"), "networks.mall-wifi.outages[0].at", 14,
        "= '1:30': YAML reads this as the number 90 (write a duration with units"),
    Bad("window length uses the YAML key", ("for: 2m", "for: 0"), "networks.mall-wifi.outages[0].for", 14,
        "should be greater than 0"),
    Bad("missing required field", ("wired: {rtt: 20ms}", "wired: {loss: 1%}"), "networks.wired.rtt", 9,
        "missing required key 'rtt'"),
    Bad("missing top-level field", ("seed: 7\n", ""), "seed", 1, "missing required key 'seed'"),
    Bad("two distributions at once", ("patience: 5m", "patience: {fixed: 5m, exponential: {mean: 1m}}"),
        "shoppers.patience", 24, "give exactly one of fixed, exponential, lognormal, uniform"),
    Bad("window of one value", ("window: [1h, 1h3m]", "window: [1h]"), "live.window", 30, "too few items"),
    Bad("live window outside the promotion", ("window: [1h, 1h3m]", "window: [1h, 3h]"), "live.window", 30,
        "the live window must be [start, end] inside the promotion"),
    Bad("union of int and 'all'", ("live: {window", "live: {terminals: some, window"), "live.terminals", 30,
        "should be a whole number or 'all'"),
    Bad("remove without extends", ('- {version: "3.2", share: 70%}', '- {version: "3.2", share: 70%, remove: true}'),
        "terminals.firmware[1].remove", 18, "only works in a file that uses extends:"),
    Bad("extends cycle", ("name: bad-inputs", "extends: other.yaml\nname: bad-inputs"), "extends", 1,
        "extends cycle: scenario.yaml -> other.yaml -> scenario.yaml", file="other.yaml",
        others={"other.yaml": "extends: scenario.yaml\n"}),
    Bad("extends a missing file", ("name: bad-inputs", "extends: nowhere.yaml\nname: bad-inputs"), "extends", 1,
        "= 'nowhere.yaml': extends a file that does not exist"),
    Bad("extends not a file name", ("name: bad-inputs", "extends: [a.yaml, b.yaml]\nname: bad-inputs"), "extends",
        1, "extends must name one scenario file"),
    Bad("error in the base file", ("name: bad-inputs", "extends: base.yaml\nname: bad-inputs"),
        "gateway.queue_timeout", 2, "= '2 fortnights': expected a duration", file="base.yaml",
        others={"base.yaml": "gateway:\n  queue_timeout: 2 fortnights\n"}),
    Bad("--set unknown key", ("", ""), "gateway.wrokers", None, "unknown key 'wrokers' (did you mean 'workers'?)",
        file="--set", overrides=("gateway.wrokers=9",)),
    Bad("--set bad value", ("", ""), "gateway.workers", None, "= 0: should be greater than or equal to 1",
        file="--set", overrides=("gateway.workers=0",)),
    Bad("--set unknown zone", ("", ""), "mall.zones", None, "no item named 'fashon' (did you mean 'fashion'?)",
        file="--set", overrides=("mall.zones.fashon.network=wired",)),
    Bad("--set index out of range", ("", ""), "mall.zones[7]", None, "index out of range: mall.zones has 2 items",
        file="--set", overrides=("mall.zones.7.network=wired",)),
    Bad("--set without =", ("", ""), "gateway.workers", None, "expected PATH=VALUE", file="--set",
        overrides=("gateway.workers",)),
    Bad("--set unparsable value", ("", ""), "gateway", None, "cannot read the value: invalid YAML", file="--set",
        overrides=("gateway={workers: 8",)),
    Bad("--set into a single value", ("", ""), "seed", None, "holds the single value 7", file="--set",
        overrides=("seed.low=1",)),
]


def only_problem(case: Bad, write: Callable[[str, str], Path]) -> Problem:
    old, new = case.edit
    assert old in BASE, f"the edit of case {case.id!r} no longer matches BASE"
    for name, text in case.others.items():
        write(name, text)
    path = write("scenario.yaml", BASE.replace(old, new, 1))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, case.overrides)
    problems = caught.value.problems
    assert len(problems) == 1, "expected one problem, got:\n" + "\n".join(p.render() for p in problems)
    return problems[0]


def test_base_is_valid(tmp_scenario: Callable[[str, str], Path]) -> None:
    scenario = load_scenario(tmp_scenario("scenario.yaml", BASE))
    assert scenario.terminal_count == 14


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_located(case: Bad, tmp_scenario: Callable[[str, str], Path]) -> None:
    problem = only_problem(case, tmp_scenario)
    assert (problem.file, problem.path, problem.line) == (case.file, case.path, case.line)
    assert case.message in problem.render()


def test_there_are_enough_cases() -> None:
    assert len(CASES) >= 25
    assert len({case.id for case in CASES}) == len(CASES)
