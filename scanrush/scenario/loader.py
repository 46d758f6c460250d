"""Scenario files -> a validated ``Scenario``, with every problem located.

Three phases, so that each error can say where it came from:

1. *read*: each YAML file is composed to a node tree and rebuilt as `Map`/`Seq`/`Leaf`
   nodes that remember the file, line and column of every value and every key;
2. *merge*: an ``extends:`` chain merges base-first, then ``--set`` overrides apply.
   Merged nodes keep their own marks, so a bad value inherited from a base file is
   reported in the base file, and a bad override is reported as ``--set``;
3. *validate*: the plain data goes through pydantic; each error is mapped back through
   the marks to a `Problem`, cross-references are checked, and everything found is
   raised together in one `ScenarioError`.

Merge rules (``extends: base.yaml``, relative to the extending file; chains allowed):
mappings merge key by key; a list whose items are all mappings with a ``name`` (zones)
or a ``version`` (firmware) merges item by item: items named again are merged, new ones
appended, ``{name: x, remove: true}`` deletes x; any other list is replaced whole.

Overrides (``--set PATH=VALUE``): VALUE is YAML (``96``, ``5s``, ``[{at: 0, rate: 100/h}]``);
PATH segments are keys, list indices or item names: ``mall.zones.fashion.network=wired``.
"""

from __future__ import annotations

import difflib
import os
import re
import types
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from scanrush.errors import MISSING, Problem, ScenarioError
from scanrush.scenario.schema import Scenario

__all__ = ["SET", "DataPath", "Document", "Mark", "format_path", "load_document", "load_scenario"]

Key = str | int
DataPath = tuple[Key, ...]
SET = "--set"
"""The "file" named by problems found in command-line overrides."""

_REMOVE = "remove"
_ITEM_KEYS = ("name", "version")  # lists of mappings keyed by these merge item by item
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_SHOWN_MAX = 60  # longer list values are left out of messages; the line number finds them


# --------------------------------------------------------------------------- located nodes


@dataclass(frozen=True, slots=True)
class Mark:
    """Where a value was written: 1-based line and column (none for ``--set``)."""

    file: str
    line: int | None = None
    column: int | None = None


@dataclass(frozen=True, slots=True)
class Leaf:
    value: object
    mark: Mark


@dataclass(frozen=True, slots=True)
class Seq:
    items: tuple[Node, ...]
    mark: Mark


@dataclass(frozen=True, slots=True)
class Map:
    items: dict[str, Node]
    keys: dict[str, Mark]  # where each key was written: unknown and missing keys point there
    mark: Mark


Node = Leaf | Seq | Map


@dataclass(frozen=True, slots=True)
class Document:
    """The merged scenario as plain data, and where each value and key was written."""

    data: dict[str, object]
    marks: dict[DataPath, Mark]
    key_marks: dict[DataPath, Mark]
    files: tuple[str, ...]
    """The file given, then its bases in ``extends`` order."""

    def locate(self, path: DataPath) -> Mark:
        """The best place to point at for ``path``, or its nearest written ancestor.

        A scalar points at its value; a mapping or list at the key that introduces it,
        which is the line a reader looks for ("terminals:").
        """
        while path and path not in self.marks:
            path = path[:-1]
        if path in self.key_marks and isinstance(_value_at(self.data, path), dict | list | None):
            return self.key_marks[path]
        return self.marks.get(path, Mark(self.files[0]))


def format_path(path: DataPath) -> str:
    """``("mall", "zones", 1, "network")`` -> ``mall.zones[1].network``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{part!r}]"
    return text


# --------------------------------------------------------------------------- public API


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, merge (``extends``, then ``overrides``) and validate a scenario file.

    Raises `ScenarioError` carrying every problem found, sorted by file and line.
    """
    document, problems = _Session().load(Path(path), str(path), _as_list(overrides))
    return _validate(document, problems)


def load_document(path: str | Path, overrides: Sequence[str] = ()) -> Document:
    """The merged plain data with its marks, before schema validation."""
    document, problems = _Session().load(Path(path), str(path), _as_list(overrides))
    if problems:
        raise ScenarioError(_sorted(problems, document.files))
    return document


def _as_list(overrides: Sequence[str]) -> list[str]:
    # A lone string is a Sequence[str] too; iterating it would set one character at a time.
    return [overrides] if isinstance(overrides, str) else list(overrides)


# --------------------------------------------------------------------------- phase 1 and 2: read, merge


class _FatalError(Exception):
    """A problem after which there is nothing sensible left to check in that input."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.render())
        self.problem = problem


class _BadPathError(Exception):
    """An override path that leads nowhere in the scenario."""

    def __init__(self, path: DataPath, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.path, self.message, self.hint = path, message, hint


@dataclass
class _Session:
    """One load: the problems found so far and the files read, in order."""

    problems: list[Problem] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    def load(self, path: Path, label: str, overrides: list[str]) -> tuple[Document, list[Problem]]:
        try:
            root = self._read(path, label, ())
        except _FatalError as fatal:
            raise ScenarioError(_sorted([*self.problems, fatal.problem], tuple(self.files))) from None
        for text in overrides:
            root = self._override(root, text)
        marks: dict[DataPath, Mark] = {}
        key_marks: dict[DataPath, Mark] = {}
        data = _flatten(root, (), marks, key_marks)
        if not isinstance(data, dict):  # _read only returns mappings; keeps the type checker honest
            raise TypeError("scenario root is not a mapping")
        return Document(data, marks, key_marks, tuple(self.files)), self.problems

    def _read(self, path: Path, label: str, chain: tuple[tuple[Path, str], ...]) -> Map:
        self.files.append(label)
        root = _parse(_read_text(path, label), label, located=True, problems=self.problems)
        if not isinstance(root, Map):
            raise _FatalError(_not_a_mapping(root, label))
        extends = root.items.get("extends")
        if extends is None:
            return root
        base_path, base_label = _base_of(extends, path, label)
        seen = [*chain, (path.resolve(), label)]
        if base_path.resolve() in {resolved for resolved, _ in seen}:
            names = " -> ".join([*(name for _, name in seen), base_label])
            raise _FatalError(_at(extends.mark, ("extends",), _written(extends), f"extends cycle: {names}"))
        if not base_path.is_file():
            raise _FatalError(_at(extends.mark, ("extends",), _written(extends), "extends a file that does not exist",
                             f"looked for {os.path.abspath(base_path)}; the path is relative to {label}"))
        own = Map({k: v for k, v in root.items.items() if k != "extends"},
                  {k: m for k, m in root.keys.items() if k != "extends"}, root.mark)
        base = self._read(base_path, base_label, tuple(seen))
        return _merge_maps(base, own, self.problems, ())

    def _override(self, root: Map, text: str) -> Map:
        target, sep, value_text = text.partition("=")
        target = target.strip()
        if not sep or not target:
            self.problems.append(Problem(SET, None, None, text, MISSING, "expected PATH=VALUE",
                                         "for example --set gateway.workers=96"))
            return root
        try:
            value = _parse(value_text, SET, located=False, problems=self.problems) or Leaf(None, Mark(SET))
            node = _set_in(root, target.split("."), value, Scenario, ())
        except _FatalError as fatal:
            self.problems.append(Problem(SET, None, None, target, value_text.strip(),
                                         f"cannot read the value: {fatal.problem.message}", fatal.problem.hint))
            return root
        except _BadPathError as bad:
            self.problems.append(Problem(SET, None, None, format_path(bad.path) or target, MISSING,
                                         bad.message, bad.hint))
            return root
        return node if isinstance(node, Map) else root


def _read_text(path: Path, label: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        message, hint = "no such file", ""
    except IsADirectoryError:
        message, hint = "is a directory, not a scenario file", ""
    except UnicodeDecodeError as exc:
        message, hint = "is not UTF-8 text", f"undecodable byte at offset {exc.start}"
    except OSError as exc:
        message, hint = f"cannot read the file: {exc.strerror}", ""
    raise _FatalError(Problem(label, None, None, "", MISSING, message, hint))


def _not_a_mapping(root: Node | None, label: str) -> Problem:
    required = ", ".join(f.alias or name for name, f in Scenario.model_fields.items() if f.is_required())
    if root is None:
        return Problem(label, None, None, "", MISSING, "the file is empty", f"a scenario needs at least {required}")
    kind = "a list" if isinstance(root, Seq) else "a single value"
    return _at(root.mark, (), MISSING, f"a scenario file must be a mapping of keys, not {kind}",
               f"a scenario needs at least {required}")


def _written(node: Node) -> object:
    return node.value if isinstance(node, Leaf) else MISSING


def _base_of(extends: Node, path: Path, label: str) -> tuple[Path, str]:
    if not isinstance(extends, Leaf) or not isinstance(extends.value, str) or not extends.value.strip():
        raise _FatalError(_at(extends.mark, ("extends",), _written(extends), "extends must name one scenario file",
                         "for example extends: saturday.yaml"))
    name = extends.value.strip()
    return path.parent / name, os.path.normpath(os.path.join(os.path.dirname(label), name))


def _at(mark: Mark, path: DataPath, value: object, message: str, hint: str = "") -> Problem:
    return Problem(mark.file, mark.line, mark.column, format_path(path), value, message, hint)


def _parse(text: str, file: str, *, located: bool, problems: list[Problem]) -> Node | None:
    """YAML text -> located nodes (``None`` for an empty document)."""
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        return None if root is None else _Builder(loader, file, located, problems).build(root, ())
    except yaml.MarkedYAMLError as exc:
        raise _FatalError(_yaml_problem(exc, file, located)) from exc
    except yaml.YAMLError as exc:
        raise _FatalError(Problem(file, None, None, "", MISSING, f"invalid YAML: {exc}")) from exc
    finally:
        loader.dispose()


def _yaml_problem(exc: yaml.MarkedYAMLError, file: str, located: bool) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if located and mark is not None else None
    column = mark.column + 1 if located and mark is not None else None
    message = f"invalid YAML: {exc.problem or exc.context}"
    hint = ""
    if exc.problem and exc.context:
        hint = exc.context + (f" at line {exc.context_mark.line + 1}" if located and exc.context_mark else "")
    if "'\\t'" in message:
        hint = "indent with spaces; YAML does not allow tabs"
    elif "mapping values are not allowed" in message:
        hint = "check this line's indentation, or quote a value that contains ': '"
    return Problem(file, line, column, "", MISSING, message, hint)


class _Builder:
    """Rebuilds one composed YAML tree as located nodes."""

    def __init__(self, loader: yaml.SafeLoader, file: str, located: bool, problems: list[Problem]) -> None:
        self.loader, self.file, self.located, self.problems = loader, file, located, problems
        self.active: set[int] = set()  # nodes on the current branch: catches aliases that contain themselves
        self.merged: dict[int, int] = {}

    def mark(self, node: yaml.Node) -> Mark:
        start = node.start_mark
        return Mark(self.file, start.line + 1, start.column + 1) if self.located else Mark(self.file)

    def build(self, node: yaml.Node, path: DataPath) -> Node:
        if id(node) in self.active:
            raise _FatalError(_at(self.mark(node), path, MISSING, "this alias contains itself"))
        self.active.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                return self._mapping(node, path)
            if isinstance(node, yaml.SequenceNode):
                self._check_tag(node, path, "tag:yaml.org,2002:seq")
                return Seq(tuple(self.build(item, (*path, i)) for i, item in enumerate(node.value)), self.mark(node))
            return self._scalar(node, path)
        finally:
            self.active.discard(id(node))

    def _scalar(self, node: yaml.Node, path: DataPath) -> Leaf:
        try:
            value = self.loader.construct_object(node, deep=True)
        except ValueError as exc:  # e.g. an impossible date such as 2026-13-45
            raise _FatalError(_at(self.mark(node), path, MISSING, f"invalid value: {exc}")) from exc
        if isinstance(value, int | float) and ":" in str(node.value):
            # YAML 1.1 reads 1:30 as 90 (base 60): never what a duration in a scenario means.
            self.problems.append(_at(self.mark(node), path, node.value, f"YAML reads this as the number {value}",
                                     "write a duration with units, such as 1h30m or 90s, or quote it"))
        return Leaf(value, self.mark(node))

    def _mapping(self, node: yaml.MappingNode, path: DataPath) -> Map:
        self._check_tag(node, path, "tag:yaml.org,2002:map")
        merged = self._flatten_merge_keys(node)
        items: dict[str, Node] = {}
        keys: dict[str, Mark] = {}
        written: set[str] = set()  # keys written here, not merged in: only these can be duplicates
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                self.problems.append(_at(self.mark(key_node), path, MISSING, "a key must be a plain name"))
                continue
            key = str(key_node.value)  # the text as written: `on:` stays "on", `2.8:` stays "2.8"
            if key in written:
                first = f"also written at line {keys[key].line}; " if keys[key].line else ""
                self.problems.append(_at(self.mark(key_node), (*path, key), MISSING, f"duplicate key '{key}'",
                                         f"{first}this later one wins"))
            if index >= merged:
                written.add(key)
            items[key] = self.build(value_node, (*path, key))
            keys[key] = self.mark(key_node)
        return Map(items, keys, self.mark(node))

    def _flatten_merge_keys(self, node: yaml.MappingNode) -> int:
        """Resolve ``<<: *defaults`` in place; returns how many leading pairs came from merges."""
        if id(node) not in self.merged:  # an aliased mapping is built again, but flattened once
            explicit = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
            self.loader.flatten_mapping(node)
            self.merged[id(node)] = len(node.value) - explicit
        return self.merged[id(node)]

    def _check_tag(self, node: yaml.Node, path: DataPath, plain: str) -> None:
        # Scalars with unknown tags fail in the constructor; collections would silently lose the tag.
        if node.tag != plain:
            self.problems.append(_at(self.mark(node), path, MISSING, f"unsupported YAML tag {node.tag}",
                                     "scenario files hold plain mappings, lists and values"))


DISTRIBUTION_FORMS = frozenset({"fixed", "exponential", "lognormal", "uniform"})


def _merge(base: Node, over: Node, problems: list[Problem], path: DataPath) -> Node:
    """``over`` (the extending file) on top of ``base``, by the rules in the module docstring."""
    if isinstance(base, Map) and isinstance(over, Map):
        if DISTRIBUTION_FORMS & set(over.items) and set(over.items) != set(base.items):
            return over  # a distribution of another form replaces the inherited one whole
        return _merge_maps(base, over, problems, path)
    if isinstance(base, Seq) and isinstance(over, Seq):
        key = _item_key(over)
        if key is not None and (not base.items or _item_key(base) == key):
            return _merge_keyed(base, over, key, problems, path)
    return over  # scalars, plain lists and changes of kind: the extending file wins outright


def _merge_maps(base: Map, over: Map, problems: list[Problem], path: DataPath) -> Map:
    items = dict(base.items)
    for key, node in over.items.items():
        items[key] = _merge(base.items[key], node, problems, (*path, key)) if key in base.items else node
    return Map(items, {**base.keys, **over.keys}, over.mark)


def _merge_keyed(base: Seq, over: Seq, key: str, problems: list[Problem], path: DataPath) -> Seq:
    """Zones by name, firmware by version: change, add (appended) or ``remove: true`` items."""
    merged: list[Node | None] = list(base.items)  # None marks a removed item until the end
    position: dict[str | None, int] = {}
    for index, node in enumerate(base.items):
        position.setdefault(_identity(node, key), index)
    for raw in over.items:
        if not isinstance(raw, Map):
            continue
        name = _identity(raw, key)
        remove, item = _pop_remove(raw, problems, (*path, str(name)))
        at = position.get(name)
        old = None if at is None else merged[at]
        if remove and old is None:
            known = ", ".join(str(_identity(n, key)) for n in merged if n is not None) or "none"
            problems.append(_at(item.mark, path, name, f"there is no inherited item with {key} '{name}' to remove",
                                f"inherited: {known}"))
        elif remove and at is not None:
            merged[at] = None
        elif at is None or old is None:
            position[name] = len(merged)
            merged.append(item)
        else:
            merged[at] = _merge(old, item, problems, (*path, at))
    return Seq(tuple(node for node in merged if node is not None), over.mark)


def _item_key(seq: Seq) -> str | None:
    for key in _ITEM_KEYS:
        if seq.items and all(isinstance(item, Map) and key in item.items for item in seq.items):
            return key
    return None


def _identity(item: Node, key: str) -> str | None:
    if isinstance(item, Map) and isinstance(named := item.items.get(key), Leaf):
        return str(named.value)  # version: 2.8 (a float in YAML) and "2.8" are the same firmware
    return None


def _pop_remove(item: Map, problems: list[Problem], path: DataPath) -> tuple[bool, Map]:
    flag = item.items.get(_REMOVE)
    if flag is None:
        return False, item
    rest = Map({k: v for k, v in item.items.items() if k != _REMOVE},
               {k: m for k, m in item.keys.items() if k != _REMOVE}, item.mark)
    if isinstance(flag, Leaf) and isinstance(flag.value, bool):
        return flag.value, rest
    shown = flag.value if isinstance(flag, Leaf) else MISSING
    problems.append(_at(flag.mark, (*path, _REMOVE), shown, "remove must be true or false"))
    return False, rest


def _set_in(node: Node | None, segments: list[str], value: Node, schema: object, path: DataPath) -> Node:
    """``node`` with ``value`` put at ``segments`` (keys, list indices or item names)."""
    if not segments:
        return value
    if node is None or (isinstance(node, Leaf) and node.value is None):
        node = Map({}, {}, Mark(SET))
    if isinstance(node, Map):
        key, rest = _match_key(node, segments, schema, path)
        child = _set_in(node.items.get(key), rest, value, _child_type(schema, key), (*path, key))
        return Map({**node.items, key: child}, {**node.keys, key: node.keys.get(key, Mark(SET))}, node.mark)
    if isinstance(node, Seq):
        index, rest = _match_item(node, segments, path)
        child = _set_in(node.items[index], rest, value, _child_type(schema, index), (*path, index))
        return Seq((*node.items[:index], child, *node.items[index + 1:]), node.mark)
    raise _BadPathError(path, f"holds the single value {node.value!r}, so it has no '{segments[0]}' inside",
                   f"set {format_path(path)}=... as a whole")


def _match_key(node: Map, segments: list[str], schema: object, path: DataPath) -> tuple[str, list[str]]:
    # Longest match first: a network or firmware may itself be named with a dot ("2.8").
    for count in range(len(segments), 0, -1):
        key = ".".join(segments[:count])
        if key in node.items:
            return key, segments[count:]
    key = segments[0]
    known = _known_keys(schema)
    if known is not None and key not in known and key not in _python_names(schema):
        raise _BadPathError((*path, key), f"unknown key '{key}'", _suggest(key, known))
    return key, segments[1:]


def _match_item(node: Seq, segments: list[str], path: DataPath) -> tuple[int, list[str]]:
    key = _item_key(node)
    names = [_identity(item, key) for item in node.items] if key else []
    for count in range(len(segments), 0, -1):
        if ".".join(segments[:count]) in names:
            return names.index(".".join(segments[:count])), segments[count:]
    if segments[0].isdigit():
        if int(segments[0]) < len(node.items):
            return int(segments[0]), segments[1:]
        raise _BadPathError((*path, int(segments[0])), f"index out of range: {format_path(path)} has {len(node.items)} "
                       f"item{'s' if len(node.items) != 1 else ''}", "indices start at 0")
    known = [name for name in names if name is not None]
    close = difflib.get_close_matches(segments[0], known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'?" if close else f"items: {', '.join(known)}" if known else ""
    raise _BadPathError(path, f"no item named '{segments[0]}'", hint or "use an index: 0, 1, ...")


def _flatten(node: Node, path: DataPath, marks: dict[DataPath, Mark], key_marks: dict[DataPath, Mark]) -> object:
    marks[path] = node.mark
    if isinstance(node, Map):
        plain: dict[str, object] = {}
        for key, child in node.items.items():
            key_marks[(*path, key)] = node.keys[key]
            plain[key] = _flatten(child, (*path, key), marks, key_marks)
        return plain
    if isinstance(node, Seq):
        return [_flatten(child, (*path, i), marks, key_marks) for i, child in enumerate(node.items)]
    return node.value


def _value_at(data: object, path: DataPath) -> object:
    for part in path:
        data = _child(data, part)
    return data


def _child(data: object, part: Key) -> object:
    """``data[part]`` for plain YAML data, or MISSING."""
    if isinstance(data, dict):
        return data.get(part, MISSING)
    if isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
        return data[part]
    return MISSING


# --------------------------------------------------------------------------- the schema, walked by path


def _arms(annotation: object) -> Iterator[object]:
    """The concrete types behind ``Annotated[...]`` and unions such as ``X | None``."""
    origin = get_origin(annotation)
    if origin is Annotated:
        yield from _arms(get_args(annotation)[0])
    elif origin is Union or origin is types.UnionType:
        for arm in get_args(annotation):
            yield from _arms(arm)
    else:
        yield annotation


def _models(annotation: object) -> list[type[BaseModel]]:
    return [arm for arm in _arms(annotation) if isinstance(arm, type) and issubclass(arm, BaseModel)]


def _field(model: type[BaseModel], key: str) -> FieldInfo | None:
    for name, info in model.model_fields.items():
        if key in (info.alias or name, name):
            return info
    return None


def _child_type(annotation: object, key: Key) -> object:
    """The annotation of ``key`` inside a value of type ``annotation`` (None when unknown)."""
    for arm in _arms(annotation):
        origin, args = get_origin(arm), get_args(arm)
        if isinstance(arm, type) and issubclass(arm, BaseModel) and isinstance(key, str):
            info = _field(arm, key)
            if info is not None:
                return info.annotation
        elif origin is dict and isinstance(key, str):
            return args[1]
        elif origin in (tuple, list) and isinstance(key, int):
            if origin is list or (len(args) == 2 and args[1] is Ellipsis):
                return args[0]
            if key < len(args):
                return args[key]
    return None


def _type_at(path: DataPath) -> object:
    annotation: object = Scenario
    for part in path:
        annotation = _child_type(annotation, part)
    return annotation


def _known_keys(annotation: object) -> list[str] | None:
    """Keys a mapping of this type may hold as written in YAML; None when any key goes."""
    if annotation is None or any(get_origin(arm) is dict for arm in _arms(annotation)):
        return None
    return [info.alias or name for model in _models(annotation) for name, info in model.model_fields.items()]


def _python_names(annotation: object) -> list[str]:
    return [name for model in _models(annotation) for name in model.model_fields]


def _suggest(key: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return f"known keys: {', '.join(sorted(known))}" if known else ""


# --------------------------------------------------------------------------- phase 3: validate


def _validate(document: Document, found: list[Problem]) -> Scenario:
    problems = list(found)
    try:
        scenario = Scenario.model_validate(document.data)
    except ValidationError as exc:
        raise ScenarioError(_sorted([*problems, *_from_pydantic(exc, document)], document.files)) from exc
    for path, value, message, hint in scenario.cross_reference_problems():
        problems.append(_at(document.locate(path), path, _shown(_written_at(document, path, value)), message, hint))
    if problems:
        raise ScenarioError(_sorted(problems, document.files))
    return scenario


def _from_pydantic(exc: ValidationError, document: Document) -> list[Problem]:
    errors = [(error, _data_path(document.data, error)) for error in exc.errors(include_url=False)]
    # `rt: 20ms` is one mistake: report "unknown key 'rt' (did you mean 'rtt'?)", not also "rtt missing".
    meant = {(*path[:-1], _closest(path)) for error, path in errors if error["type"] == "extra_forbidden"}
    # A list whose item failed is also "too short after validation": noise next to the real error.
    failed = [path for error, path in errors if error["type"] != "too_short"]
    problems = [_problem(error, path, document) for error, path in errors
                if not (error["type"] == "missing" and path in meant)
                and not (error["type"] == "too_short" and any(p[:len(path)] == path for p in failed))]
    return _combine(problems)


def _data_path(data: object, error: ErrorDetails) -> DataPath:
    """Pydantic's location as a path into the data, skipping union arm names and ``[key]`` markers."""
    path: list[Key] = []
    loc = error["loc"]
    for index, part in enumerate(loc):
        child = _child(data, part)
        if child is not MISSING:
            data = child
            path.append(part)
        elif error["type"] == "missing" and index == len(loc) - 1 and isinstance(data, dict):
            path.append(part)
    return tuple(path)


def _closest(path: DataPath) -> str:
    known = _known_keys(_type_at(path[:-1])) or []
    close = difflib.get_close_matches(str(path[-1]), known, n=1, cutoff=0.6)
    return close[0] if close else ""


def _problem(error: ErrorDetails, path: DataPath, document: Document) -> Problem:
    kind, value = error["type"], error["input"]
    if kind == "missing" and isinstance(error["loc"][-1], int):  # a fixed-length list, such as a window
        return _at(document.locate(path), path, _shown(value), f"too few items: [{error['loc'][-1]}] is missing")
    if kind == "missing":
        return _at(document.locate(path[:-1]), path, MISSING, f"missing required key '{path[-1]}'")
    if kind == "extra_forbidden":
        mark = document.key_marks.get(path, document.locate(path))
        return _at(mark, path, _shown(value), f"unknown key '{path[-1]}'", _unknown_key_hint(path))
    message, hint = _humanize(error)
    # Model-level checks name the field they are about first: "prefixes: the range 30-25 is empty".
    named = re.match(r"^(\w+): (.+)$", message, re.DOTALL)
    if named and isinstance(value, dict) and named.group(1) in value:
        path, value, message = (*path, named.group(1)), value[named.group(1)], named.group(2)
    return _at(document.locate(path), path, _shown(_written_at(document, path, value)), message, hint)


def _written_at(document: Document, path: DataPath, fallback: object) -> object:
    """The value as the file wrote it ('10m'), not as a validator converted it (600.0)."""
    written = _value_at(document.data, path)
    return fallback if written is MISSING else written


def _unknown_key_hint(path: DataPath) -> str:
    if path[-1] == _REMOVE:
        return "remove: true deletes an inherited item; it only works in a file that uses extends:"
    return _suggest(str(path[-1]), _known_keys(_type_at(path[:-1])) or [])


def _humanize(error: ErrorDetails) -> tuple[str, str]:
    kind, message, value = error["type"], error["msg"], error["input"]
    context = error.get("ctx", {})
    if kind == "value_error":
        return message.removeprefix("Value error, "), ""
    if kind == "too_short" and context.get("actual_length") == 0:
        return "must not be empty", ""
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return "should be a mapping of keys to values", ""
    if kind in ("tuple_type", "list_type"):
        return "should be a list", ""
    if kind in _PLAIN_MESSAGES:
        return _PLAIN_MESSAGES[kind], ""
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        return "should be text", f'put it in quotes: "{value}"'
    return message.replace("Input should be", "should be"), ""


_PLAIN_MESSAGES = {
    "int_type": "should be a whole number", "int_parsing": "should be a whole number",
    "int_from_float": "should be a whole number", "float_type": "should be a number",
    "float_parsing": "should be a number", "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
}


def _shown(value: object) -> object:
    if isinstance(value, dict) or (isinstance(value, list) and len(repr(value)) > _SHOWN_MAX):
        return MISSING  # a whole mapping is noise; the line number finds it
    return value


def _combine(problems: list[Problem]) -> list[Problem]:
    """One problem per place: a union reports each arm (`int` or `'all'`); join them with "or"."""
    by_place: dict[tuple[str, int | None, int | None, str], Problem] = {}
    for problem in problems:
        place = (problem.file, problem.line, problem.column, problem.path)
        first = by_place.get(place)
        if first is None:
            by_place[place] = problem
        elif problem.message not in first.message:
            alternative = problem.message
            if first.message.startswith("should be "):  # "should be a whole number or 'all'"
                alternative = alternative.removeprefix("should be ")
            by_place[place] = Problem(*place, first.value, f"{first.message} or {alternative}",
                                      first.hint or problem.hint)
    return list(by_place.values())


def _sorted(problems: list[Problem], files: Sequence[str]) -> list[Problem]:
    """By file (the file given, its bases, then ``--set``), then line and column."""
    rank = {name: index for index, name in enumerate(files)}
    rank.setdefault(SET, len(files) + 1)

    def order(problem: Problem) -> tuple[int, str, int, int]:
        return (rank.get(problem.file, len(files)), problem.file, problem.line or 0, problem.column or 0)

    return sorted(problems, key=order)
