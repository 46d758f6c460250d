"""The loader: extends chains, keyed-list merges, --set overrides, located problems."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanrush.errors import InputError, ScenarioError
from scanrush.scenario.loader import SET, Mark, format_path, load_document, load_scenario
from scanrush.scenario.schema import Scenario

DATA = Path(__file__).parent / "data"
Write = Callable[[str, str], Path]


def problems_of(path: Path | str, overrides: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, overrides)
    return [problem.render() for problem in caught.value.problems]


# --------------------------------------------------------------------------- valid files


@pytest.mark.parametrize("name", ["minimal.yaml", "promo.yaml", "twin.yaml"])
def test_shipped_test_scenarios_load(name: str) -> None:
    assert isinstance(load_scenario(DATA / name), Scenario)


def test_minimal_scenario_values_are_in_base_units() -> None:
    scenario = load_scenario(DATA / "minimal.yaml")
    assert [zone.name for zone in scenario.mall.zones] == ["supermarket", "fashion"]
    assert scenario.duration == 3600.0
    assert scenario.networks["mall-wifi"].loss == pytest.approx(0.03)
    assert scenario.shoppers.arrivals[0].rate == pytest.approx(600 / 3600)


# --------------------------------------------------------------------------- extends and merging


def test_keyed_lists_merge_by_name_and_version() -> None:
    twin = load_scenario(DATA / "twin.yaml")
    zones = {zone.name: zone for zone in twin.mall.zones}
    assert list(zones) == ["supermarket", "fashion", "cinema"]  # food-court removed, cinema appended
    assert zones["fashion"].network == "wired"  # changed by the twin
    assert (zones["fashion"].stores, zones["fashion"].merchants) == (180, "boutiques")  # kept from the base
    assert [f.version for f in twin.terminals.firmware] == ["3.2"]
    assert twin.gateway.workers == 96
    assert twin.gateway.service_time.mean() == pytest.approx(0.08)  # sibling key inherited


def test_merged_values_remember_their_file_and_line() -> None:
    document = load_document(DATA / "twin.yaml")
    twin, base = str(DATA / "twin.yaml"), str(DATA / "promo.yaml")
    assert document.marks[("mall", "zones", 1, "network")] == Mark(twin, 6, 32)
    assert document.marks[("mall", "zones", 1, "stores")] == Mark(base, 10, 15)
    assert document.marks[("gateway", "service_time")].file == base
    assert document.files == (twin, base)
    assert "extends" not in document.data


def test_plain_lists_are_replaced_wholesale(tmp_scenario: Write) -> None:
    tmp_scenario("base.yaml", (DATA / "promo.yaml").read_text())
    path = tmp_scenario("twin.yaml", """\
        extends: base.yaml
        gates: [double_charges == 0]
        shoppers:
          arrivals: [{at: 0, rate: 10/h}]
        """)
    scenario = load_scenario(path)
    assert scenario.gates == ("double_charges == 0",)
    assert len(scenario.shoppers.arrivals) == 1
    assert scenario.shoppers.huabei_share == pytest.approx(0.45)  # the rest of the mapping is kept


def test_extends_chains_resolve_relative_to_each_file(tmp_scenario: Write, tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    tmp_scenario("lib/promo.yaml", (DATA / "promo.yaml").read_text())
    tmp_scenario("lib/middle.yaml", "extends: promo.yaml\ngateway: {workers: 10}\n")
    path = tmp_scenario("top.yaml", "extends: lib/middle.yaml\nname: top\n")
    scenario = load_scenario(path)
    assert (scenario.name, scenario.gateway.workers) == ("top", 10)


def test_error_inside_a_base_file_points_into_the_base(tmp_scenario: Write) -> None:
    base = (DATA / "minimal.yaml").read_text().replace("jitter: 60ms", "jitter: 60 ms ish")
    tmp_scenario("base.yaml", base)
    path = tmp_scenario("twin.yaml", "extends: base.yaml\nseed: -3\n")
    assert problems_of(path) == [
        "twin.yaml:2:7: seed = -3: should be greater than or equal to 0",
        "base.yaml:12:35: networks.mall-wifi.jitter = '60 ms ish': expected a duration such as 120ms, 15s, "
        "5m or 1h30m",
    ]


def test_removing_an_item_that_is_not_inherited(tmp_scenario: Write) -> None:
    tmp_scenario("base.yaml", (DATA / "minimal.yaml").read_text())
    path = tmp_scenario("twin.yaml", """\
        extends: base.yaml
        mall:
          zones:
            - {name: cinema, remove: true}
        """)
    assert problems_of(path) == [
        "twin.yaml:4:7: mall.zones = 'cinema': there is no inherited item with name 'cinema' to remove "
        "(inherited: supermarket, fashion)"]


def test_remove_must_be_a_boolean(tmp_scenario: Write) -> None:
    tmp_scenario("base.yaml", (DATA / "minimal.yaml").read_text())
    path = tmp_scenario("twin.yaml", "extends: base.yaml\nmall:\n  zones:\n    - {name: fashion, remove: yes please}\n")
    assert problems_of(path) == [
        "twin.yaml:4:31: mall.zones.fashion.remove = 'yes please': remove must be true or false"]


def test_yaml_merge_keys_are_not_duplicates(tmp_scenario: Write) -> None:
    text = (DATA / "minimal.yaml").read_text().replace(
        "  wired: {rtt: 20ms}", "  wired: &wired {rtt: 20ms, loss: 1%}\n  backup: {<<: *wired, rtt: 40ms}")
    scenario = load_scenario(tmp_scenario("anchors.yaml", text))
    assert scenario.networks["backup"].rtt == pytest.approx(0.04)
    assert scenario.networks["backup"].loss == pytest.approx(0.01)


# --------------------------------------------------------------------------- --set


@pytest.mark.parametrize(("override", "read", "expected"), [
    ("gateway.workers=96", lambda s: s.gateway.workers, 96),
    ("mall.zones.1.network=wired", lambda s: s.mall.zones[1].network, "wired"),
    ("mall.zones.fashion.network=wired", lambda s: s.mall.zones[1].network, "wired"),
    ("shoppers.arrivals=[{at: 0, rate: 100/h}]", lambda s: len(s.shoppers.arrivals), 1),
    ("terminals.firmware.3.2.bad_request=1%", lambda s: s.terminals.firmware[0].bad_request, 0.01),
    ("networks.mall-wifi.jitter=5ms", lambda s: s.networks["mall-wifi"].jitter, 0.005),
    ("gateway.queue_timeout=5s", lambda s: s.gateway.queue_timeout, 5.0),  # not in the file: added
    ("networks.wired.congestion.knee=7", lambda s: s.networks["wired"].congestion.knee, 7),  # new mapping
    ("networks.lte={rtt: 80ms}", lambda s: s.networks["lte"].rtt, 0.08),  # new dictionary entry
    ("networks.mall-wifi.outages=[{at: 10m, for: 2m}]", lambda s: s.networks["mall-wifi"].outages[0].for_, 120.0),
])
def test_set_overrides_one_value(override: str, read: Callable[[Scenario], object], expected: object) -> None:
    assert read(load_scenario(DATA / "minimal.yaml", [override])) == pytest.approx(expected)


def test_set_uses_the_yaml_key_of_an_alias() -> None:
    scenario = load_scenario(DATA / "promo.yaml", ["networks.mall-wifi.outages.0.for=5m"])
    assert scenario.networks["mall-wifi"].outages[0].for_ == 300.0


def test_set_applies_after_extends() -> None:
    scenario = load_scenario(DATA / "twin.yaml", ["gateway.workers=5", "mall.zones.cinema.stores=2"])
    assert scenario.gateway.workers == 5
    assert scenario.mall.zones[2].stores == 2


def test_later_set_wins() -> None:
    assert load_scenario(DATA / "minimal.yaml", ["seed=1", "seed=2"]).seed == 2


def test_one_override_may_be_given_as_a_string() -> None:
    assert load_scenario(DATA / "minimal.yaml", "seed=9").seed == 9


def test_set_errors_say_set_and_come_last() -> None:
    problems = problems_of(DATA / "minimal.yaml", ("gateway.workres=1", "gateway.workers=-2"))
    assert problems == [
        "--set: gateway.workres: unknown key 'workres' (did you mean 'workers'?)",
        "--set: gateway.workers = -2: should be greater than or equal to 1",
    ]


# --------------------------------------------------------------------------- reporting


def test_every_problem_is_reported_together_sorted_by_file_and_line(tmp_scenario: Write) -> None:
    base = (DATA / "minimal.yaml").read_text().replace("rtt: 120ms", "rtt: fast").replace("seed: 1", "seed: x")
    tmp_scenario("base.yaml", base)
    path = tmp_scenario("twin.yaml", "extends: base.yaml\ngateway: {workers: 0}\nduration: soon\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path, ["live.windw=[1m, 2m]"])
    located = [(p.file, p.line, p.path) for p in caught.value.problems]
    assert located == [
        ("twin.yaml", 2, "gateway.workers"),
        ("twin.yaml", 3, "duration"),
        ("base.yaml", 3, "seed"),
        ("base.yaml", 12, "networks.mall-wifi.rtt"),
        (SET, None, "live.windw"),
    ]
    assert str(caught.value).startswith("5 problems found:\n  twin.yaml:2:20: gateway.workers = 0:")


def test_a_misspelt_required_key_is_one_problem_not_two(tmp_scenario: Write) -> None:
    path = tmp_scenario("s.yaml", (DATA / "minimal.yaml").read_text().replace("{rtt: 20ms}", "{rtl: 20ms}"))
    assert problems_of(path) == ["s.yaml:11:11: networks.wired.rtl = '20ms': unknown key 'rtl' (did you mean 'rtt'?)"]


def test_a_missing_key_points_at_its_parent_mapping(tmp_scenario: Write) -> None:
    path = tmp_scenario("s.yaml", (DATA / "minimal.yaml").read_text().replace("  wired: {rtt: 20ms}\n", "  wired:\n"))
    # `wired:` with nothing after it is null, which is not a mapping
    assert problems_of(path) == ["s.yaml:11:3: networks.wired = None: should be a mapping of keys to values"]


@pytest.mark.parametrize(("text", "message"), [
    ("", "s.yaml: the file is empty (a scenario needs at least name, seed, duration"),
    ("- a\n- b\n", "s.yaml:1:1: a scenario file must be a mapping of keys, not a list"),
    ("just words\n", "s.yaml:1:1: a scenario file must be a mapping of keys, not a single value"),
    ("a: &x [*x]\n", "s.yaml:1:4: a[0]: this alias contains itself"),
    ("a: !!python/name:os.system ''\n", "s.yaml:1:4: invalid YAML: could not determine a constructor"),
    ("name: a\n---\nname: b\n", "s.yaml:2:1: invalid YAML: but found another document"),
])
def test_files_that_are_not_scenarios(tmp_scenario: Write, text: str, message: str) -> None:
    (problem,) = problems_of(tmp_scenario("s.yaml", text))
    assert problem.startswith(message)


def test_tags_on_mappings_are_not_silently_dropped(tmp_scenario: Write) -> None:
    text = (DATA / "minimal.yaml").read_text().replace("gateway: {", "gateway: !!python/object:os.system {")
    assert problems_of(tmp_scenario("s.yaml", text)) == [
        "s.yaml:20:10: gateway: unsupported YAML tag tag:yaml.org,2002:python/object:os.system "
        "(scenario files hold plain mappings, lists and values)"]


def test_a_missing_file_is_a_clean_scenario_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert problems_of(missing) == [f"{missing}: no such file"]


def test_a_directory_is_not_a_scenario(tmp_path: Path) -> None:
    assert problems_of(tmp_path) == [f"{tmp_path}: is a directory, not a scenario file"]


def test_scenario_error_is_bad_input() -> None:
    with pytest.raises(InputError) as caught:
        load_scenario(DATA / "does-not-exist.yaml")
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("path", "text"), [
    (("mall", "zones", 1, "network"), "mall.zones[1].network"),
    (("networks", "mall-wifi", "outages", 0, "for"), "networks.mall-wifi.outages[0].for"),
    (("merchants", "a.b"), "merchants['a.b']"),
    ((), ""),
])
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text


def test_load_document_reports_structural_problems(tmp_scenario: Write) -> None:
    with pytest.raises(ScenarioError, match="duplicate key 'seed'"):
        load_document(tmp_scenario("s.yaml", "seed: 1\nseed: 2\n"))


# --------------------------------------------------------------------------- property


def _percent(low: int = 0) -> st.SearchStrategy[tuple[str, float]]:
    return st.integers(low, 100).map(lambda n: (f"{n}%", n / 100))


def _count(low: int, high: int) -> st.SearchStrategy[tuple[str, float]]:
    return st.integers(low, high).map(lambda n: (str(n), float(n)))


def _millis(low: int, high: int) -> st.SearchStrategy[tuple[str, float]]:
    return st.integers(low, high).map(lambda n: (f"{n}ms", n / 1000))


NUMERIC_FIELDS: dict[str, tuple[st.SearchStrategy[tuple[str, float]], Callable[[Scenario], float]]] = {
    "seed": (_count(0, 2**40), lambda s: s.seed),
    "replications": (_count(1, 10_000), lambda s: s.replications),
    "gateway.workers": (_count(1, 5000), lambda s: s.gateway.workers),
    "gateway.queue_timeout": (_millis(1, 60_000), lambda s: s.gateway.queue_timeout),
    "gateway.risk.reject": (_percent(), lambda s: s.gateway.risk.reject),
    "mall.zones.supermarket.stores": (_count(1, 1000), lambda s: s.mall.zones[0].stores),
    "mall.zones.1.terminals_per_store": (_count(1, 50), lambda s: s.mall.zones[1].terminals_per_store),
    "networks.wired.rtt": (_millis(0, 5000), lambda s: s.networks["wired"].rtt),
    "networks.wired.loss": (_percent(), lambda s: s.networks["wired"].loss),
    "shoppers.huabei_share": (_percent(), lambda s: s.shoppers.huabei_share),
    "pos.read_timeout": (_millis(1, 120_000), lambda s: s.pos.read_timeout),
    "pos.query.times": (_count(0, 100), lambda s: s.pos.query.times),
}


@settings(max_examples=60, deadline=None)
@given(
    file=st.sampled_from(["minimal.yaml", "promo.yaml", "twin.yaml"]),
    changes=st.lists(st.sampled_from(sorted(NUMERIC_FIELDS)), min_size=1, max_size=4, unique=True).flatmap(
        lambda names: st.tuples(*(st.tuples(st.just(n), NUMERIC_FIELDS[n][0]) for n in names))),
)
def test_setting_numeric_fields_to_valid_values_still_loads(
    file: str, changes: tuple[tuple[str, tuple[str, float]], ...],
) -> None:
    overrides = [f"{name}={text}" for name, (text, _) in changes]
    scenario = load_scenario(DATA / file, overrides)
    for name, (_, value) in changes:
        assert NUMERIC_FIELDS[name][1](scenario) == pytest.approx(value)
