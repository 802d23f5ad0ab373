"""Changes to a scenario's inputs given on the command line (sweeps): applied before validation.

A change names a scenario key (`market.btc_price_usd`) or a table column
(`campuses.capex_usd_per_it_mw`, optionally one row: `campuses[TX-ROCK].capex_usd_per_it_mw`)
and either scales (`*1.2`), shifts (`+5000`) or sets (`=90000`, or a bare number) its value.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from siteopt.errors import InputError, Problem
from siteopt.schema import TABLES
from siteopt.tables import parse_cell

_TARGET = re.compile(r"^(?P<table>[a-z_]+)(\[(?P<row>[^\]]+)\])?\.(?P<column>[a-z_0-9.]+)$")
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
        return f"{where}={symbol}{_show(self.value)}"

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


def _show(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _number(text: str) -> Any:
    text = text.strip().replace("_", "")
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return text


def parse_vary(spec: str) -> tuple[str, str | None, list[Override]]:
    """`KEY=VALUES` → (target, row, overrides). VALUES is `start:stop:step` (inclusive) or a
    comma list of `*x`, `+x`, `=x` or plain values (set)."""
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
    items: list[Override] = []
    if re.fullmatch(r"\s*[-\d.e_]+:[-\d.e_]+:[-\d.e_]+\s*", values):
        start, stop, step = (float(v) for v in values.split(":"))
        if step <= 0 or stop < start:
            raise InputError([Problem(where, "a range needs start <= stop and step > 0")])
        count = int(np.floor((stop - start) / step + 1e-9)) + 1
        grid = [start + i * step for i in range(count)]
        items = [Override(target, "set", int(v) if float(v).is_integer() else v, row)
                 for v in grid]
    else:
        for part in values.split(","):
            part = part.strip()
            if not part:
                continue
            op = _OPS.get(part[0], "set")
            raw = part[1:] if part[0] in _OPS else part
            value = _number(raw)
            if op != "set" and not isinstance(value, (int, float)):
                raise InputError([Problem(where, f"{part!r}: expected a number after "
                                                 f"{part[0]}")])
            items.append(Override(target, op, value, row))
    if not items:
        raise InputError([Problem(where, "no values given")])
    return target, row, items


def apply_to_settings(settings: dict[str, Any], overrides: list[Override]) -> dict[str, Any]:
    """Scenario-key changes on the merged settings (before validation)."""
    out = copy.deepcopy(settings)
    for change in overrides:
        if change.table is not None:
            continue
        *parents, leaf = change.target.split(".")
        node = out
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise InputError([Problem(f"--vary {change.label}",
                                          f"{part} is not a section")])
        try:
            node[leaf] = change.apply(node.get(leaf))
        except ValueError as exc:
            raise InputError([Problem(f"--vary {change.label}", str(exc))]) from None
    return out


def apply_to_tables(frames: dict[str, pd.DataFrame], overrides: list[Override]) -> None:
    """Column changes on parsed tables (in place, before the cross-table checks)."""
    for change in overrides:
        if change.table is None:
            continue
        table = TABLES[change.table]
        column = change.target.split(".", 1)[1]
        where = f"--vary {change.label}"
        if column not in table.column_names:
            raise InputError([Problem(where, f"{change.table} has no column {column!r}")])
        kind = table.column(column).kind
        if change.op != "set" and kind not in ("float", "int"):
            raise InputError([Problem(where, f"{column} is not numeric")])
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
