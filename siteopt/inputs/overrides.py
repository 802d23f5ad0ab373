"""Changes to a scenario's inputs given on the command line (sweeps): applied before validation.

A change names a scenario key (`market.btc_price_usd`) or a table column
(`campuses.capex_usd_per_it_mw`, optionally one row: `campuses[TX-ROCK].capex_usd_per_it_mw`)
and either scales (`*1.2`), shifts (`+5000`) or sets (`=90000`, or a bare number) its value.
Targets are checked against the schema when a change is parsed, so a misspelt key is refused
before anything is solved; a key the scenario leaves out is scaled or shifted from its default.
"""

from __future__ import annotations

import copy
import decimal
import difflib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from types import UnionType
from typing import Any, Union, get_args, get_origin

import numpy as np
import pandas as pd
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from siteopt.inputs.errors import InputError, Problem
from siteopt.inputs.schema import TABLES, Scenario
from siteopt.inputs.tables import parse_cell

MAX_VARIANTS = 1000  # default of `sweep --max-variants`: more runs than a sweep is meant for

_TARGET = re.compile(r"^(?P<table>[A-Za-z_]+)(\[(?P<row>[^\]]+)\])?\.(?P<column>[\w.\-]+)$")
# No input of any unit is this large (the schema's ranges are far tighter); past it a range
# cannot even be counted exactly, so it is refused before the values are checked one by one.
MAX_MAGNITUDE = 1e15
_OPS = {"*": "scale", "+": "shift", "=": "set"}


@dataclass(frozen=True)
class Override:
    target: str  # 'market.btc_price_usd' or 'campuses.capex_usd_per_it_mw'
    op: str  # scale | shift | set
    value: Any
    row: str | None = None  # one row id of a table, or all rows

    @property
    def label(self) -> str:
        symbol = {"scale": "*", "shift": "+", "set": ""}[self.op]
        where = self.target if self.row is None else self.target.replace(
            ".", f"[{self.row}].", 1)
        return f"{where}={symbol}{show_value(self.value)}"

    @property
    def table(self) -> str | None:
        head = self.target.split(".", 1)[0]
        return head if head in TABLES else None

    def apply(self, old: Any) -> Any:
        if self.op == "set":
            return self.value
        if isinstance(old, np.generic):
            old = old.item()  # table cells come as numpy scalars
        if not isinstance(old, (int, float)) or isinstance(old, bool):
            raise ValueError(f"cannot {self.op} {old!r}: not a number")
        new = old * self.value if self.op == "scale" else old + self.value
        return int(new) if isinstance(old, int) and float(new).is_integer() else new


def show_value(value: Any) -> str:
    """Exact text of a value: the shortest repr that reads back as the same float, so two
    values never share a label (`:g` showed 900000.1 and 900000.4 both as 900000)."""
    return repr(value) if isinstance(value, float) else str(value)


# -- targets against the schema ----------------------------------------------------------


def _section_model(annotation: Any) -> type[BaseModel] | None:
    for candidate in (annotation, *get_args(annotation)):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _members(annotation: Any) -> list[Any]:
    """The types a field accepts: the members of a union (`float | None`), or itself."""
    if get_origin(annotation) in (Union, UnionType):
        return [a for a in get_args(annotation) if a is not type(None)]
    return [annotation]


def _is_numeric(annotation: Any) -> bool:
    return any(m in (int, float) for m in _members(annotation))


def _scenario_keys(model: type[BaseModel] = Scenario, prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        section = _section_model(field.annotation)
        keys += _scenario_keys(section, f"{prefix}{name}.") if section else [f"{prefix}{name}"]
    return keys


def _known_targets() -> list[str]:
    return _scenario_keys() + [f"{t.name}.{c}" for t in TABLES.values() for c in t.column_names]


def _unknown(target: str, what: str) -> str:
    """`what`, with the known names nearest to `target`: the nearest keys of its section, the
    same key in another section, or else the nearest full names."""
    known = _known_targets()
    section, _, leaf = target.rpartition(".")
    siblings = [k.rpartition(".")[2] for k in known if k.rpartition(".")[0] == section]
    near = [f"{section}.{k}" for k in difflib.get_close_matches(leaf, siblings, n=3)]
    near += [k for k in known if k.rpartition(".")[2] == leaf and k not in near]
    near = near or difflib.get_close_matches(target, known, n=3)
    hint = f"did you mean {' or '.join(near)}?" if near else \
        "see `siteopt schema` for every key and column"
    return f"{what} ({hint})"


def scenario_field(target: str) -> tuple[FieldInfo | None, Any, str | None]:
    """(schema field, type of the value, problem) of a scenario key. An entry of a mapping key
    (`limits.max_it_mw_started_per_year_by_region.ercot`) belongs to the mapping's field."""
    parts = target.split(".")
    model: type[BaseModel] = Scenario
    for i, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None, None, _unknown(target, f"unknown key {target}")
        section = _section_model(field.annotation)
        if i == len(parts) - 1:
            if section is not None:
                keys = ", ".join(section.model_fields)
                return None, None, f"{target} is a section; vary one of its keys ({keys})"
            return field, field.annotation, None
        if section is None:
            mapping = [m for m in _members(field.annotation) if get_origin(m) is dict]
            if mapping and i == len(parts) - 2:
                return field, get_args(mapping[0])[1], None
            return None, None, f"{'.'.join(parts[: i + 1])} is a value, not a section"
        model = section
    raise AssertionError("unreachable: a target has at least one dot")


def target_problem(target: str, op: str) -> str | None:
    """Why `op` cannot change `target` (unknown key or column, text scaled), or None."""
    head, column = target.split(".", 1)
    if head in TABLES:
        table = TABLES[head]
        if column not in table.column_names:
            near = difflib.get_close_matches(column, table.column_names, n=3, cutoff=0.6)
            hint = f"did you mean {' or '.join(near)}?" if near else \
                f"its columns: {', '.join(table.column_names)}"
            return f"{head} has no column {column!r} ({hint})"
        if op != "set" and table.column(column).kind not in ("float", "int"):
            return f"{target} is not numeric: it can only be set (=VALUE)"
        return None
    _, kind, problem = scenario_field(target)
    if problem:
        return problem
    if op != "set" and not _is_numeric(kind):
        return f"{target} is not a number: it can only be set (=VALUE)"
    return None


def _default(target: str) -> Any:
    """The schema default of a scenario key the scenario leaves out (None: no default)."""
    field, kind, _ = scenario_field(target)
    if field is None or field.is_required() or kind is not field.annotation:  # mapping entry
        return None
    return field.get_default(call_default_factory=True)


# -- `--vary` specs -----------------------------------------------------------------------


class ValueRange(Sequence):
    """`start:stop:step` as overrides made on demand, counted without being listed. Decimal
    arithmetic keeps 0.1:0.3:0.1 at 0.1, 0.2, 0.3 (floats would give 0.30000000000000004)."""

    def __init__(self, target: str, row: str | None, start: Decimal, step: Decimal, size: int):
        self.target, self.row, self.start, self.step, self.size = target, row, start, step, size

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.size))]
        if not -self.size <= index < self.size:
            raise IndexError(index)
        return Override(self.target, "set", _plain(self.value(index % self.size)), self.row)

    def value(self, index: int) -> Decimal:
        return _EXACT.add(self.start, _EXACT.multiply(index, self.step))


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# Exact for the few digits a user types, and no exponent a float can hold overflows it.
_EXACT = decimal.Context(prec=60, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)


def _range(where: str, text: str, target: str, row: str | None,
           max_values: int) -> ValueRange:
    parts = [p.strip().replace("_", "") for p in text.split(":")]
    if len(parts) != 3:
        raise InputError([Problem(where, "a range is start:stop:step, e.g. 50000:150000:25000")])
    bounds = []
    for name, part in zip(("start", "stop", "step"), parts):
        try:
            number = float(part)
        except ValueError:
            raise InputError([Problem(where, f"range {name} {part!r} is not a number")]) from None
        if not math.isfinite(number):
            raise InputError([Problem(where, f"range {name} must be a finite number "
                                             f"(got {part})")])
        if abs(number) > MAX_MAGNITUDE:
            raise InputError([Problem(where, f"range {name} {part} is beyond any input "
                                             f"(at most {MAX_MAGNITUDE:g} in size)")])
        bounds.append(Decimal(part) if number else Decimal(0))  # 1e-400 is a float's 0
    start, stop, step = bounds
    if step <= 0 or stop < start:
        raise InputError([Problem(where, "a range needs start <= stop and step > 0")])
    # the steps are counted, never listed: 1:1e15:1e-300 costs one division
    steps = _EXACT.divide(_EXACT.subtract(stop, start), step).to_integral_value(
        rounding=decimal.ROUND_FLOOR)
    if steps >= max_values:
        size = int(steps) + 1 if steps < 10**15 else None
        shown = f"{size:,}" if size else f"about 10^{steps.adjusted()}"
        raise InputError([Problem(where, f"{shown} values; a sweep runs at most "
                                         f"{max_values:,} variants (--max-variants)")])
    values = ValueRange(target, row, start, step, int(steps) + 1)
    widest = max(abs(float(start)), abs(float(values.value(len(values) - 1))))
    if len(values) > 1 and float(step) < math.ulp(widest):
        raise InputError([Problem(where, f"step {parts[2]} is below the precision of numbers "
                                         f"near {widest:g} (neighbouring values would be the "
                                         f"same number)")])
    return values


def _number(text: str) -> Any:
    text = text.strip().replace("_", "")
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def _listed(where: str, text: str, target: str, row: str | None) -> list[Override]:
    items = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        op = _OPS.get(part[0], "set")
        raw = part[1:] if part[0] in _OPS else part
        value = _number(raw)
        number = isinstance(value, (int, float))
        if op != "set" and not number:
            raise InputError([Problem(where, f"{part!r}: expected a number after {part[0]}")])
        if number and not math.isfinite(value):
            raise InputError([Problem(where, f"{part!r}: must be a finite number")])
        if number and abs(value) > MAX_MAGNITUDE:
            raise InputError([Problem(where, f"{part!r}: beyond any input (at most "
                                             f"{MAX_MAGNITUDE:g} in size)")])
        items.append(Override(target, op, value, row))
    return items


def parse_vary(spec: str, max_values: int = MAX_VARIANTS
               ) -> tuple[str, str | None, Sequence[Override]]:
    """`KEY=VALUES` → (target, row, overrides). VALUES is `start:stop:step` (inclusive) or a
    comma list of `*x`, `+x`, `=x` or plain values (set). The target is checked against the
    schema (did-you-mean), a range against `max_values` before any value is made."""
    where = f"--vary {spec}"
    if "=" not in spec:
        raise InputError([Problem(where, "expected KEY=VALUES, e.g. market.btc_price_usd="
                                         "50000:150000:25000")])
    key, values = spec.split("=", 1)
    key = key.strip()
    match = _TARGET.match(key)
    if not match:
        raise InputError([Problem(where, f"{key!r} is not a scenario key or table.column")])
    row = match.group("row")
    target = f"{match.group('table')}.{match.group('column')}"
    if row is not None and match.group("table") not in TABLES:
        raise InputError([Problem(where, f"a row id only goes with a table "
                                         f"({', '.join(TABLES)})")])
    if ":" in values:
        items: Sequence[Override] = _range(where, values, target, row, max_values)
    else:
        items = _listed(where, values, target, row)
    if not items:
        raise InputError([Problem(where, "no values given")])
    for op in sorted({items[0].op} if isinstance(items, ValueRange) else
                     {o.op for o in items}):
        problem = target_problem(target, op)
        if problem:
            raise InputError([Problem(where, problem)])
    return target, row, items


# -- applying changes ---------------------------------------------------------------------


def apply_to_settings(settings: dict[str, Any], overrides: list[Override]) -> dict[str, Any]:
    """Scenario-key changes on the merged settings (before validation)."""
    out = copy.deepcopy(settings)
    for change in overrides:
        if change.table is not None:
            continue
        where = f"--vary {change.label}"
        problem = target_problem(change.target, change.op)
        if problem:
            raise InputError([Problem(where, problem)])
        *parents, leaf = change.target.split(".")
        node = out
        for part in parents:
            if node.get(part) is None:
                node[part] = {}
            node = node[part]
            if not isinstance(node, dict):
                raise InputError([Problem(where, f"{part} is not a section")])
        old = node.get(leaf)
        if old is None and change.op != "set":
            old = _default(change.target)
            if old is None:
                raise InputError([Problem(where, f"{change.target} is not set and has no "
                                                 f"default to {change.op}; set it (=VALUE)")])
        try:
            node[leaf] = change.apply(old)
        except ValueError as exc:
            raise InputError([Problem(where, str(exc))]) from None
    return out


def apply_to_tables(frames: dict[str, pd.DataFrame], overrides: list[Override]) -> None:
    """Column changes on parsed tables (in place, before the cross-table checks)."""
    for change in overrides:
        if change.table is None:
            continue
        table = TABLES[change.table]
        column = change.target.split(".", 1)[1]
        where = f"--vary {change.label}"
        problem = target_problem(change.target, change.op)
        if problem:
            raise InputError([Problem(where, problem)])
        frame = frames.get(change.table)
        if frame is None:
            raise InputError([Problem(where, f"the portfolio has no {change.table} table")])
        key = table.key_columns[0]
        rows = frame.index if change.row is None else frame.index[frame[key] == change.row]
        if change.row is not None and len(rows) == 0:
            raise InputError([Problem(where, f"no {change.table} row {change.row!r}")])
        for i in rows:
            try:
                value = parse_cell(table.column(column), change.apply(frame.at[i, column]))
            except ValueError as exc:
                raise InputError([Problem(where, str(exc))]) from None
            frame.at[i, column] = value
