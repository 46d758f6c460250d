"""Keeps ``scenarios/README.md`` honest against the schema and the loader.

* every field of every schema model (walked from ``Scenario``, keyed as written in YAML:
  ``for``, not ``for_``) appears in the README's field tables;
* each field table (marked ``<!-- fields: PATH ... -->``) lists exactly the fields of the
  models at PATH, with the schema's defaults, the right unit kinds and real cause names;
* every YAML block parses, and every complete scenario in it (``name:`` and ``seed:``, or a
  twin with ``extends:``) validates with ``load_scenario``;
* every ``--set`` example in a shell block loads, and every gate names a real metric;
* every file in ``scenarios/*.yaml`` validates.
"""

from __future__ import annotations

import glob
import re
import shlex
import shutil
import types
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Union, get_args, get_origin

import pytest
import yaml
from pydantic import BaseModel, BeforeValidator, TypeAdapter
from pydantic.fields import FieldInfo

from scanrush.domain.outcomes import CAUSES
from scanrush.results import ReplicationStats
from scanrush.scenario.loader import load_scenario
from scanrush.scenario.schema import AmountDistribution, DurationDistribution, Scenario
from scanrush.units import parse_bandwidth, parse_duration, parse_fraction, parse_rate, parse_size

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "scenarios"
README = SCENARIOS / "README.md"

LOADER_KEYS = {(): {"extends"}, ("mall", "zones"): {"remove"}, ("terminals", "firmware"): {"remove"}}
"""Keys the loader reads before the schema sees the data, documented in the tables they belong to."""
UNIT_KINDS = {parse_duration: "duration", parse_fraction: "fraction", parse_rate: "rate",
              parse_bandwidth: "bandwidth", parse_size: "size"}
CAUSE_NAMES = {cause.value for cause in CAUSES}


# --------------------------------------------------------------------------- the schema, walked


def _arms(annotation: object) -> Iterator[object]:
    """Every type inside an annotation: through Annotated, unions, tuples, lists and dict values."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _arms(get_args(annotation)[0])
    elif origin in (Union, types.UnionType, tuple, list):
        for arg in get_args(annotation):
            if arg is not Ellipsis:
                yield from _arms(arg)
    elif origin is dict:
        yield from _arms(get_args(annotation)[1])
    else:
        yield annotation


def _models_in(annotation: object) -> list[type[BaseModel]]:
    found: list[type[BaseModel]] = []
    for arm in _arms(annotation):
        if isinstance(arm, type) and issubclass(arm, BaseModel) and arm not in found:
            found.append(arm)
    return found


def _yaml_key(name: str, info: FieldInfo) -> str:
    return info.alias or name


def _fields(model: type[BaseModel]) -> dict[str, FieldInfo]:
    return {_yaml_key(name, info): info for name, info in model.model_fields.items()}


def all_models() -> list[type[BaseModel]]:
    seen: list[type[BaseModel]] = []
    pending: list[type[BaseModel]] = [Scenario]
    while pending:
        model = pending.pop()
        if model in seen:
            continue
        seen.append(model)
        for info in model.model_fields.values():
            pending.extend(_models_in(info.annotation))
    return seen


def resolve(path: str) -> tuple[tuple[str, ...], list[type[BaseModel]]]:
    """``mall.zones[]`` -> the models there; ``<name>`` segments stand for any dict key."""
    if path == "(root)":
        return (), [Scenario]
    keys: list[str] = []
    models: list[type[BaseModel]] = [Scenario]
    for segment in path.split("."):
        if segment.startswith("<") and segment.endswith(">"):
            continue  # a dict key: the models were already found through the dict's value type
        key = segment.removesuffix("[]")
        infos = [_fields(model)[key] for model in models if key in _fields(model)]
        if not infos:
            raise AssertionError(f"README table path {path!r}: no field {key!r} at that point of the schema")
        keys.append(key)
        models = [found for info in infos for found in _models_in(info.annotation)]
    if not models:
        raise AssertionError(f"README table path {path!r} does not lead to a mapping")
    return tuple(keys), models


def _full_annotation(info: FieldInfo) -> Any:
    return Annotated[info.annotation, *info.metadata] if info.metadata else info.annotation


def _unit_kinds(annotation: object, metadata: list[Any]) -> set[str]:
    kinds = {UNIT_KINDS[m.func] for m in metadata if isinstance(m, BeforeValidator) and m.func in UNIT_KINDS}
    origin = get_origin(annotation)
    if origin is Annotated:
        args = get_args(annotation)
        kinds |= _unit_kinds(args[0], list(args[1:]))
    elif origin is not None:
        for arg in get_args(annotation):
            kinds |= _unit_kinds(arg, [])
    return kinds


# --------------------------------------------------------------------------- the README, parsed


@dataclass(frozen=True)
class Table:
    paths: tuple[str, ...]
    line: int
    header: list[str]
    rows: list[list[str]]

    def column(self, word: str) -> int | None:
        return next((i for i, name in enumerate(self.header) if word in name.lower()), None)

    def __str__(self) -> str:
        return f"README.md:{self.line} ({' '.join(self.paths)})" if self.paths else f"README.md:{self.line}"


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in re.split(r"(?<!\\)\|", line.strip().strip("|"))]


def _first_code(cell: str) -> str | None:
    match = re.match(r"^`([^`]+)`", cell.strip())
    return match.group(1) if match else None


def readme_text() -> str:
    return README.read_text(encoding="utf-8")


def tables() -> list[Table]:
    """Every markdown table, with the paths of the ``<!-- fields: ... -->`` comment right above it."""
    lines = readme_text().splitlines()
    found: list[Table] = []
    index = 0
    while index < len(lines):
        if not lines[index].startswith("|"):
            index += 1
            continue
        start = index
        while index < len(lines) and lines[index].startswith("|"):
            index += 1
        block = lines[start:index]
        before = next((lines[i] for i in range(start - 1, -1, -1) if lines[i].strip()), "")
        marker = re.match(r"^<!--\s*fields:\s*(.+?)\s*-->$", before.strip())
        paths = tuple(marker.group(1).split()) if marker else ()
        found.append(Table(paths, start + 1, [c.lower() for c in _cells(block[0])],
                           [_cells(row) for row in block[2:]]))
    return found


def field_tables() -> list[Table]:
    return [table for table in tables() if table.paths]


def code_blocks(language: str) -> list[tuple[int, str]]:
    blocks = []
    for match in re.finditer(rf"^```{language}\n(.*?)^```", readme_text(), re.DOTALL | re.MULTILINE):
        blocks.append((readme_text().count("\n", 0, match.start()) + 1, match.group(1)))
    return blocks


# --------------------------------------------------------------------------- fields


def test_every_schema_field_is_in_a_field_table() -> None:
    documented = {_first_code(row[0]) for table in field_tables() for row in table.rows}
    missing = [f"{model.__name__}.{key}" for model in all_models() for key in _fields(model)
               if key not in documented]
    assert not missing, f"schema fields missing from the field tables of {README}: {missing}"


@pytest.mark.parametrize("table", field_tables(), ids=str)
def test_field_table_matches_the_schema(table: Table) -> None:
    resolved = [resolve(path) for path in table.paths]
    models = [model for _, found in resolved for model in found]
    allowed_extra = set().union(*(LOADER_KEYS.get(keys, set()) for keys, _ in resolved))
    expected = {key for model in models for key in _fields(model)}
    names = [_first_code(row[0]) or "" for row in table.rows]
    assert "" not in names, f"{table}: every row must start with a `field`"
    assert len(names) == len(set(names)), f"{table}: a field is listed twice"
    listed = set(names) - allowed_extra
    assert listed == expected, f"{table}: missing {sorted(expected - listed)}, unknown {sorted(listed - expected)}"


def _check_default(table: Table, key: str, cell: str, info: FieldInfo) -> None:
    literal = _first_code(cell)
    if info.is_required():
        assert cell.startswith("required"), f"{table}: `{key}` is required, the table says {cell!r}"
    elif literal is not None:
        adapter: TypeAdapter[Any] = TypeAdapter(_full_annotation(info))
        value = adapter.validate_python(yaml.safe_load(literal))
        assert value == info.default, f"{table}: `{key}` defaults to {info.default!r}, the table says {literal}"
    else:
        assert cell.startswith("none"), f"{table}: `{key}`: write the default as `yaml`, 'required' or 'none'"
        assert info.default is None, f"{table}: `{key}` defaults to {info.default!r}, the table says none"


@pytest.mark.parametrize("table", field_tables(), ids=str)
def test_field_table_defaults_units_and_causes(table: Table) -> None:
    models = [model for path in table.paths for model in resolve(path)[1]]
    default_col, type_col, cause_col = table.column("default"), table.column("type"), table.column("cause")
    for row in table.rows:
        key = _first_code(row[0]) or ""
        infos = [_fields(model)[key] for model in models if key in _fields(model)]
        for info in infos:
            if default_col is not None:
                _check_default(table, key, row[default_col], info)
            if type_col is not None:
                described = row[type_col].lower()
                for kind in _unit_kinds(info.annotation, list(info.metadata)):
                    assert kind in described, f"{table}: `{key}` is a {kind}, the table says {row[type_col]!r}"
                distributions = set(_models_in(info.annotation))
                if DurationDistribution in distributions:
                    assert "duration distribution" in described, f"{table}: `{key}` is a duration distribution"
                if AmountDistribution in distributions:
                    assert "distribution" in described, f"{table}: `{key}` is an amount distribution"
                    assert "yuan" in described, f"{table}: `{key}` is in yuan"
        if cause_col is not None:
            named = set(re.findall(r"[a-z]+", row[cause_col]))
            assert named <= CAUSE_NAMES, f"{table}: `{key}`: {sorted(named - CAUSE_NAMES)} are not causes"


def _path_rows() -> list[tuple[Table, list[str]]]:
    """Rows of other tables that name a field by its full path (``shoppers.basket``) and quote a default."""
    rows = []
    for table in tables():
        if table.paths or table.column("default") is None:
            continue
        rows += [(table, row) for row in table.rows if "." in (_first_code(row[0]) or "")]
    return rows


def test_tables_by_path_quote_the_schema_defaults() -> None:
    rows = _path_rows()
    assert rows, "expected the table of distribution fields"
    for table, row in rows:
        path = _first_code(row[0]) or ""
        parent, _, key = path.rpartition(".")
        for model in resolve(parent)[1]:
            _check_default(table, path, row[table.column("default") or 0], _fields(model)[key])


# --------------------------------------------------------------------------- examples


@pytest.fixture
def scenario_dir(tmp_path: Path) -> Path:
    """A copy of ``scenarios/*.yaml``, so README twins can extend the shipped files."""
    for file in SCENARIOS.glob("*.yaml"):
        shutil.copy(file, tmp_path / file.name)
    return tmp_path


def _yaml_blocks() -> list[tuple[int, str]]:
    return code_blocks("yaml")


@pytest.mark.parametrize(("line", "text"), _yaml_blocks(), ids=[f"README.md:{n}" for n, _ in _yaml_blocks()])
def test_readme_yaml_blocks_are_valid(line: int, text: str, scenario_dir: Path) -> None:
    data = yaml.safe_load(text)
    assert isinstance(data, dict), f"README.md:{line}: a YAML block should be a mapping"
    if not ({"name", "seed"} <= data.keys() or "extends" in data):
        return  # a fragment: parsing is all that can be checked
    path = scenario_dir / f"readme-{line}.yaml"
    path.write_text(text, encoding="utf-8")
    load_scenario(path)


def test_readme_has_a_complete_example_and_a_twin() -> None:
    blocks = [yaml.safe_load(text) for _, text in _yaml_blocks()]
    assert any({"name", "seed"} <= block.keys() for block in blocks)
    assert any("extends" in block for block in blocks)


def _set_examples() -> list[tuple[int, list[str], list[str]]]:
    """(line, files, overrides) of each ``scanrush validate|sim ... --set`` in a shell block."""
    examples = []
    for start, text in code_blocks("sh"):
        for offset, command in enumerate(text.splitlines()):
            if not re.match(r"^\s*(\S*/)?scanrush\s+(validate|sim)\s.*--set", command):
                continue
            words = shlex.split(command, comments=True)
            overrides = [words[i + 1] for i, word in enumerate(words) if word == "--set"]
            files = [word for word in words if word.endswith(".yaml")]
            examples.append((start + 1 + offset, files, overrides))
    return examples


@pytest.mark.parametrize(("line", "files", "overrides"), _set_examples(),
                         ids=[f"README.md:{n}" for n, _, _ in _set_examples()])
def test_readme_set_examples_load(line: int, files: list[str], overrides: list[str]) -> None:
    assert files, f"README.md:{line}: no scenario file in the example"
    for pattern in files:
        matched = sorted(glob.glob(str(ROOT / pattern)))
        assert matched, f"README.md:{line}: {pattern} does not exist"
        for file in matched:
            load_scenario(file, overrides)


def _gates() -> list[tuple[str, str]]:
    found = [(f"README.md:{line}", gate) for line, text in _yaml_blocks()
             for gate in (yaml.safe_load(text) or {}).get("gates", [])]
    for file in sorted(SCENARIOS.glob("*.yaml")):
        found += [(file.name, gate) for gate in load_scenario(file).gates]
    return found


def test_gates_and_the_metric_table_name_real_metrics() -> None:
    metrics = set(ReplicationStats().metrics())
    bad = [(where, gate) for where, gate in _gates() if re.split(r"[\s<>=\[]", gate.strip())[0] not in metrics]
    assert not bad, f"gates on metrics the result file does not have: {bad}"
    table = next(t for t in tables() if t.header and t.header[0] == "metric")
    named = {name for row in table.rows for name in re.findall(r"`([a-z0-9_]+)`", row[0])}
    assert named, "the gate metric table is empty"
    unknown = sorted(named - metrics)
    assert not unknown, f"the README's metric table names metrics the result file does not have: {unknown}"


# --------------------------------------------------------------------------- shipped scenarios


@pytest.mark.parametrize("file", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_scenarios_validate(file: Path) -> None:
    assert isinstance(load_scenario(file), Scenario)
