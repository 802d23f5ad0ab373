"""Scenario YAML files: `extends` chains, deep merge, and validation located by file and key."""

from __future__ import annotations

import difflib
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, ValidationError

from siteopt.inputs.errors import (
    EXCERPT_CHARS,
    InputError,
    Problem,
    Problems,
    excerpt,
    not_found,
)
from siteopt.inputs.schema import EntryProblems, Scenario

MAX_SCENARIO_BYTES = 1_000_000
MAX_EXTENDS_DEPTH = 20
MAX_YAML_DEPTH = 50
MAX_YAML_VALUES = 10_000  # values after aliases are expanded; a scenario has a few dozen

KeyPath = tuple[str, ...]


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario, the merged settings behind it and where each key came from."""

    scenario: Scenario
    path: Path
    settings: dict[str, Any]
    origins: dict[KeyPath, Path]

    def origin_dir(self, *key: str) -> Path:
        """Folder of the file that set `key`; relative paths in that key resolve against it."""
        return self.origins.get(tuple(key), self.path).parent


def _read_yaml(path: Path, shown: str) -> dict[str, Any]:
    where = f"scenario {shown}"
    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError
        if not stat.S_ISREG(mode):  # a FIFO or a device would block or never end
            raise InputError([Problem(where, f"not a regular file ({path})")])
        with path.open("rb") as f:  # stat's size can be stale: read at most one byte more
            raw = f.read(MAX_SCENARIO_BYTES + 1)
        if len(raw) > MAX_SCENARIO_BYTES:
            raise InputError([Problem(where, f"file is larger than {MAX_SCENARIO_BYTES:,} bytes")])
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise InputError([Problem(where, not_found(path, "file not found"))]) from None
    except IsADirectoryError:
        raise InputError([Problem(where, "is a folder, expected a .yaml file")]) from None
    except UnicodeDecodeError as exc:
        raise InputError([Problem(where, f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                                         f"offset {exc.start}); save the file as UTF-8")]) from None
    except OSError as exc:  # permissions, symlink loops, ...
        raise InputError([Problem(where, f"cannot be read ({exc.strerror or exc})")]) from None
    try:
        data = yaml.load(text, Loader=_BoundedSafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        reason = (getattr(exc, "problem", None) or str(exc).splitlines()[0])[:200]
        raise InputError([Problem(where, f"not valid YAML{at}: {reason}")]) from None
    except RecursionError:
        raise InputError([Problem(where, "not valid YAML: nested too deeply")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError([Problem(where,
                                  f"expected a mapping of keys (got {type(data).__name__})")])
    return data


class _BoundedSafeLoader(yaml.SafeLoader):
    """Safe loader that refuses YAML bombs (few aliases can expand to billions of values: the
    'billion laughs'), aliases that contain themselves, deep nesting (which would exhaust
    Python's stack) and keys given twice in one mapping (YAML would silently keep the last)."""

    max_aliases = 100

    def compose_document(self) -> Any:
        node = super().compose_document()
        self._check_expansion(node, 1, {}, set())
        return node

    def _check_expansion(self, node: Any, depth: int, seen: dict[int, tuple[int, int]],
                         open_: set[int]) -> tuple[int, int]:
        """(values, height) of a node with aliases expanded; nodes shared by aliases are
        measured once, so this is linear in the size of the file."""
        def refuse(problem: str) -> yaml.YAMLError:
            return yaml.composer.ComposerError(None, None, problem, node.start_mark)

        if depth > MAX_YAML_DEPTH:
            raise refuse(f"nested more than {MAX_YAML_DEPTH} levels deep")
        if id(node) in open_:
            raise refuse("an alias refers to a node that contains it")
        if id(node) not in seen:
            open_.add(id(node))
            children = node.value if isinstance(node, yaml.SequenceNode) else \
                [part for pair in node.value for part in pair] \
                if isinstance(node, yaml.MappingNode) else []
            values, height = 1, 1
            for child in children:
                child_values, child_height = self._check_expansion(child, depth + 1, seen, open_)
                values, height = values + child_values, max(height, child_height + 1)
                if values > MAX_YAML_VALUES:
                    raise refuse(f"expands to more than {MAX_YAML_VALUES:,} values (YAML bomb?)")
            open_.discard(id(node))
            seen[id(node)] = values, height
        values, height = seen[id(node)]
        if depth + height - 1 > MAX_YAML_DEPTH:
            raise refuse(f"nested more than {MAX_YAML_DEPTH} levels deep")
        return values, height

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            self._aliases = getattr(self, "_aliases", 0) + 1
            if self._aliases > self.max_aliases:
                raise yaml.YAMLError(f"more than {self.max_aliases} aliases (YAML bomb?)")
        self._depth = getattr(self, "_depth", 0) + 1
        try:
            if self._depth > MAX_YAML_DEPTH:
                raise yaml.composer.ComposerError(
                    None, None, f"nested more than {MAX_YAML_DEPTH} levels deep",
                    self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        # YAML reads 2027-02-30 as a date and 5,000 digits as an integer; both raise
        # ValueError, which is not a YAMLError
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError) as exc:
            shown = excerpt(node.value) if isinstance(node.value, str) else "a value"
            raise yaml.constructor.ConstructorError(
                None, None, f"{shown} cannot be read ({str(exc)[:100]})",
                node.start_mark) from None

    def construct_mapping(self, node: Any, deep: bool = False) -> Any:
        if isinstance(node, yaml.MappingNode):
            first: dict[Any, Any] = {}
            for key_node, _ in node.value:
                if not isinstance(key_node, yaml.ScalarNode) or key_node.tag.endswith(":merge"):
                    continue
                key = self.construct_object(key_node)
                if key in first:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key!r} (first on line {first[key] + 1})",
                        key_node.start_mark)
                first[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def _merge(base: dict, override: dict, origins: dict, source: Path, prefix: KeyPath = ()) -> dict:
    merged = dict(base)
    for key, value in override.items():
        path = (*prefix, str(key))
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, origins, source, path)
        else:
            merged[key] = value
            for known in [k for k in origins if k[: len(path)] == path]:
                del origins[known]
            _record(value, path, origins, source)
        origins.setdefault(path, source)
    return merged


def _record(value: Any, path: KeyPath, origins: dict, source: Path) -> None:
    origins[path] = source
    if isinstance(value, dict):
        for key, item in value.items():
            _record(item, (*path, str(key)), origins, source)


def _resolve_chain(path: Path) -> list[tuple[Path, dict[str, Any]]]:
    """Files from the root ancestor down to `path`, each with its own keys (without extends)."""
    chain: list[tuple[Path, dict[str, Any]]] = []
    seen: list[Path] = []
    current = path
    while True:
        resolved = resolve(current, f"scenario {current.name}")
        if resolved in seen:
            loop = " → ".join(p.name for p in [*seen, resolved])
            closing = chain[-1][0].name  # the file whose `extends` closes the loop
            raise InputError([Problem(f"scenario {closing}: extends", f"circular extends: {loop}")])
        if len(seen) >= MAX_EXTENDS_DEPTH:
            raise InputError([Problem(f"scenario {path.name}: extends",
                                      f"more than {MAX_EXTENDS_DEPTH} levels of extends")])
        seen.append(resolved)
        data = _read_yaml(current, current.name)
        parent = data.pop("extends", None)
        chain.append((current, data))
        if parent is None:
            break
        if not isinstance(parent, str) or not parent.strip():
            raise InputError([Problem(f"scenario {current.name}: extends",
                                      f"expected a file name (got {parent!r})")])
        if not (current.parent / parent).exists():
            raise InputError([Problem(f"scenario {current.name}: extends",
                                      not_found(current.parent / parent,
                                                "file not found"))])
        guard_path(current.parent / parent, project_root(path),
                   f"scenario {current.name}: extends")
        current = current.parent / parent
    return list(reversed(chain))


PROJECT_MARKERS = (".git", "pyproject.toml", ".siteopt")


def project_root(scenario: Path) -> Path:
    """The project a scenario belongs to: the nearest folder above it holding .git,
    pyproject.toml or .siteopt; without one, the parent of the scenario's folder."""
    folder = resolve(scenario, f"scenario {scenario.name}").parent
    for candidate in (folder, *folder.parents):
        if any((candidate / marker).exists() for marker in PROJECT_MARKERS):
            return candidate
    return folder.parent


def resolve(path: Path, where: str) -> Path:
    """`path.resolve()`, with a symlink loop reported instead of raised."""
    try:
        return path.resolve()
    # Python < 3.13 raises RuntimeError on a loop; a NUL byte in a path raises ValueError
    except (OSError, RuntimeError, ValueError) as exc:
        raise InputError([Problem(where, f"{path} cannot be resolved ({exc})")]) from None


def guard_path(path: Path, root: Path, where: str, inside: str = "the project folder",
               hint: str = "; a portfolio elsewhere can be given on the command line with "
                           "--portfolio", named: bool = False) -> Path:
    """Paths read from inputs stay inside `root`, links and `..` resolved; returns the
    resolved path. Nothing of the file is read before this check, so nothing of it is shown.
    `named`: `where` already names the file, the message need not repeat it."""
    resolved = resolve(path, where)
    if resolved != root and root not in resolved.parents:
        subject = "links outside" if named else f"{path} leaves"
        raise InputError([Problem(where, f"{subject} {inside} {root} (resolves to "
                                         f"{resolved}){hint}")])
    return resolved


def load_scenario(path: str | Path, overrides: list | None = None) -> LoadedScenario:
    """Read a scenario and its `extends` ancestors, merge them, apply command-line changes
    (siteopt.inputs.overrides) and validate the result."""
    from siteopt.inputs.overrides import apply_to_settings

    path = Path(path)
    origins: dict[KeyPath, Path] = {}
    settings: dict[str, Any] = {}
    for source, data in _resolve_chain(path):
        settings = _merge(settings, data, origins, source)
    if overrides:
        settings = apply_to_settings(settings, overrides)
    problems = Problems()
    try:
        scenario = Scenario.model_validate(settings)
    except ValidationError as exc:
        for err in exc.errors():
            loc = _field_loc(err)
            if loc is None:
                continue
            error = err.get("ctx", {}).get("error")
            # a mapping's entries (years of a budget, regions) are located one by one
            entries = error.entries if isinstance(error, EntryProblems) else [(None, None)]
            for key, message in entries:
                at = loc if key is None else (*loc, key)
                source = _origin_of(at, origins, path)
                shown = ".".join(_key_text(part) for part in at)
                problems.add(f"scenario {source.name}: {shown}", message or _message(err, loc))
        problems.raise_if_any()
        raise
    return LoadedScenario(scenario, path, settings, origins)


def _key_text(key: str) -> str:
    """A key as a location shows it: keys come from the file, so long or odd ones are cut."""
    return key if len(key) <= EXCERPT_CHARS and key.isprintable() else excerpt(key)


def _field_loc(err: dict[str, Any]) -> KeyPath | None:
    """The keys of an error without the names pydantic gives the members of a union field
    (`float`, `dict[int,float]`) and dict keys (`[key]`); None for the error of a member that
    does not fit the kind of value given (a number where a mapping was written, or back)."""
    parts = [str(p) for p in err["loc"]]
    loc: list[str] = []
    model: type[BaseModel] | None = Scenario
    while parts:
        part = parts.pop(0)
        loc.append(part)
        field = model.model_fields.get(part) if model else None
        model = _section_model(field.annotation) if field else None
        members = [a for a in get_args(field.annotation) if a is not type(None)] if field else []
        if model is None and len(members) > 1 and parts:
            member = parts.pop(0)
            if member.startswith("dict["):
                if not parts and err["type"] == "dict_type":
                    return None  # not a mapping: the other member's error says what is wrong
            elif isinstance(err.get("input"), dict):
                return None  # a mapping: its errors come from the mapping member
            break
    return (*loc, *(p for p in parts if p != "[key]"))


def _origin_of(loc: KeyPath, origins: dict[KeyPath, Path], default: Path) -> Path:
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in origins:
            return origins[loc[:cut]]
    return default


def _model_at(loc: KeyPath) -> type[BaseModel] | None:
    model: type[BaseModel] | None = Scenario
    for part in loc:
        field = model.model_fields.get(part) if model else None
        model = _section_model(field.annotation) if field else None
    return model


def _section_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a section, also when it is optional (`Debt | None`)."""
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _show(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return excerpt(value)


# what a value of the wrong type was expected to be, by pydantic's error type
_EXPECTED = {
    **dict.fromkeys(("float_parsing", "float_type", "finite_number"), "a number"),
    **dict.fromkeys(("int_parsing", "int_type", "int_from_float"), "a whole number"),
    **dict.fromkeys(("bool_parsing", "bool_type"), "true or false"),
    "string_type": "text",
    **dict.fromkeys(("model_type", "dict_type", "model_attributes_type"), "a mapping of keys"),
    **dict.fromkeys(("tuple_type", "list_type"), "a list"),
}


def _message(err: dict[str, Any], loc: KeyPath) -> str:
    kind, ctx, got = err["type"], err.get("ctx", {}), err.get("input")
    bounds = {"greater_than_equal": ">=", "greater_than": ">", "less_than_equal": "<=",
              "less_than": "<"}
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(loc[-1], allowed, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"unknown key ({hint}expected one of: {', '.join(allowed)})"
    if kind == "literal_error":
        return f"expected {ctx.get('expected', '')} (got {_show(got)})"
    if kind == "missing":
        return "required key is missing"
    if kind in bounds:
        limit = next(iter(ctx.values()))
        return f"must be {bounds[kind]} {_show(limit)} (got {_show(got)})"
    expected = _EXPECTED.get(kind)
    if expected is not None:
        return f"expected {expected} (got {_show(got)})"
    if kind == "string_too_short":
        return "must not be empty"
    if kind == "value_error":
        return str(ctx.get("error", err["msg"]))
    return str(err["msg"])
