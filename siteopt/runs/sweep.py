"""Sensitivity sweeps: scenario variants from `--vary` specs, solved through the batch path."""

from __future__ import annotations

import hashlib
import itertools
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from siteopt.inputs.errors import InputError, Problem
from siteopt.inputs.overrides import MAX_VARIANTS, Override, parse_vary, show_value
from siteopt.runs.batch import Task

_UNSAFE = re.compile(r"[^A-Za-z0-9_.=+\-]+")
MAX_NAME = 150  # characters of a folder name; leaves room under the 255-byte limit


def _digest(variant: tuple[Override, ...]) -> str:
    return hashlib.sha256(_label(variant).encode()).hexdigest()[:10]


def _label(variant: tuple[Override, ...]) -> str:
    return "__".join(o.label for o in variant)


def folder_name(overrides: tuple[Override, ...]) -> str:
    """A portable folder name for a variant ('*' and brackets are not allowed everywhere);
    a name cut short ends in a digest of the whole label, so the cut never merges two."""
    if not overrides:
        return "base"
    text = _UNSAFE.sub("_", _label(overrides).replace("*", "x"))
    if len(text) > MAX_NAME:
        text = f"{text[: MAX_NAME - 11]}-{_digest(overrides)}"
    return text


def folder_names(variants: list[tuple[Override, ...]]) -> list[str]:
    """One distinct folder name per variant. Sanitising can map two labels to one name
    (`a/b` and `a:b`), and so can a case-insensitive file system (macOS, Windows): those
    names get a digest of their exact label, and a clash that still remains a counter."""
    names = [folder_name(v) for v in variants]
    clashes = Counter(n.casefold() for n in names)
    names = [f"{n[: MAX_NAME - 11]}-{_digest(v)}" if clashes[n.casefold()] > 1 else n
             for n, v in zip(names, variants)]
    taken: set[str] = set()
    unique = []
    for name in names:
        candidate, n = name, 2
        while candidate.casefold() in taken:
            candidate, n = f"{name}-{n}", n + 1
        taken.add(candidate.casefold())
        unique.append(candidate)
    return unique


def count_variants(lengths: list[int], grid: bool) -> int:
    """Variants besides the base: every combination (grid) or each value alone."""
    return math.prod(lengths) if grid else sum(lengths)


def _count_text(count: int) -> str:
    return f"{count:,}" if count < 10**15 else f"about 10^{len(str(count)) - 1}"


def sweep_tasks(scenario: Path, specs: list[str], outdir: Path, grid: bool = False,
                workbook: bool = False, max_variants: int = MAX_VARIANTS) -> list[Task]:
    """The base scenario, then one variant per value (one at a time) or per combination.
    The variants are counted from the specs before any is made, and refused above
    `max_variants`; making them is linear in their number."""
    axes = [parse_vary(spec, max_values=max_variants)[2] for spec in specs]
    lengths = [len(axis) for axis in axes]
    count = count_variants(lengths, grid)
    if count > max_variants:
        how = " × ".join(map(str, lengths)) if grid else " + ".join(map(str, lengths))
        raise InputError([Problem("--vary", f"{_count_text(count)} variants ({how}); at most "
                                            f"{max_variants:,} (raise --max-variants to run "
                                            f"more)")])
    combos = itertools.product(*axes) if grid else ((o,) for axis in axes for o in axis)
    variants: list[tuple[Override, ...]] = [(), *dict.fromkeys(combos)]  # repeats once
    return [Task(name, str(scenario), str(outdir / name), v, workbook=workbook)
            for name, v in zip(folder_names(variants), variants)]


def _number(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.4g}"


def change_text(change: Override, base: Any = None) -> str:
    """A change as people read it: `*0.8` → `−20 % (72,000)`, `+6` → `+6 (18)`, `=15` → `15`
    (the value it gives in parentheses when the base value is one number)."""
    if change.op == "set":
        numeric = isinstance(change.value, (int, float)) and not isinstance(change.value, bool)
        return _number(change.value) if numeric else show_value(change.value)
    if change.op == "scale":
        pct = (change.value - 1) * 100
        text = "±0 %" if pct == 0 else f"{'+' if pct > 0 else '−'}{abs(pct):g} %"
    else:
        text = f"{'+' if change.value >= 0 else '−'}{_number(abs(change.value))}"
    if isinstance(base, (int, float)) and not isinstance(base, bool):
        text += f" ({_number(change.apply(base))})"
    return text


def base_value(inputs: Any, change: Override) -> Any:
    """The value `change` starts from in the base inputs: a scenario key's, or one row's
    cell; None for a whole column (its rows differ) or what cannot be found."""
    try:
        if change.table is None:
            value: Any = inputs.scenario
            for part in change.target.split("."):
                value = getattr(value, part)
            return value
        if change.row is not None:
            frame = getattr(inputs, change.table)
            return frame.loc[change.row, change.target.split(".", 1)[1]].item()
    except (AttributeError, KeyError, ValueError, TypeError):
        return None
    return None


def tornado(rows: list[dict[str, Any]], tasks: list[Task], inputs: Any = None) -> pd.DataFrame:
    """Per varied input: NPV at its lowest and highest outcome against the base NPV; the
    changes as people read them (`change_text`), from the base `inputs` when given."""
    by_name = {r["scenario"]: r for r in rows}
    base = by_name.get("base", {}).get("npv_usd")
    records = []
    for task in tasks:
        if not task.overrides:
            continue
        (change,) = task.overrides
        row = by_name.get(task.name, {})
        records.append({"input": change.target if change.row is None else
                        change.target.replace(".", f"[{change.row}].", 1),
                        "change": change_text(change, None if inputs is None else
                                              base_value(inputs, change)),
                        "npv_usd": row.get("npv_usd"),
                        "status": row.get("status")})
    frame = pd.DataFrame(records, columns=["input", "change", "npv_usd", "status"])
    if frame.empty or base is None:
        return pd.DataFrame(columns=["input", "low_change", "low_npv_usd", "high_change",
                                     "high_npv_usd", "base_npv_usd", "swing_usd"])
    out = []
    for name, group in frame.dropna(subset=["npv_usd"]).groupby("input", sort=False):
        low = group.loc[group["npv_usd"].idxmin()]
        high = group.loc[group["npv_usd"].idxmax()]
        out.append({"input": name, "low_change": low["change"], "low_npv_usd": low["npv_usd"],
                    "high_change": high["change"], "high_npv_usd": high["npv_usd"],
                    "base_npv_usd": base, "swing_usd": high["npv_usd"] - low["npv_usd"]})
    return pd.DataFrame(out).sort_values("swing_usd", ascending=False, ignore_index=True)


def grid_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per combination: the changes and its NPV and status."""
    return pd.DataFrame([{"scenario": r["scenario"], "changes": r.get("changes", ""),
                          "status": r.get("status"), "npv_usd": r.get("npv_usd"),
                          "mip_gap_pct": r.get("mip_gap_pct")} for r in rows])


def check_variants(tasks: list[Task]) -> None:
    """Load every variant's inputs before anything is solved; raise once with every problem
    (a value out of range for one variant is the same problem in all that carry it)."""
    from siteopt.inputs import load_inputs

    problems: dict[str, Problem] = {}
    for task in tasks:
        try:
            load_inputs(task.scenario_file, overrides=list(task.overrides))
        except InputError as exc:
            problems.update((str(p), p) for p in exc.problems)
    if problems:
        raise InputError(list(problems.values()))
