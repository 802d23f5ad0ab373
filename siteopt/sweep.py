"""Sensitivity sweeps: scenario variants from `--vary` specs, solved through the batch path."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pandas as pd

from siteopt.batch import Task
from siteopt.overrides import Override, parse_vary

_UNSAFE = re.compile(r"[^A-Za-z0-9_.=+\-]+")


def folder_name(overrides: tuple[Override, ...]) -> str:
    """A portable folder name for a variant ('*' and brackets are not allowed everywhere)."""
    if not overrides:
        return "base"
    text = "__".join(o.label.replace("*", "x") for o in overrides)
    return _UNSAFE.sub("_", text)[:150]


def sweep_tasks(scenario: Path, specs: list[str], outdir: Path, grid: bool = False,
                workbook: bool = False) -> list[Task]:
    """The base scenario, then one variant per value (one at a time) or per combination."""
    axes = [parse_vary(spec)[2] for spec in specs]
    if grid:
        combos = [tuple(c) for c in itertools.product(*axes)]
    else:
        combos = [(o,) for axis in axes for o in axis]
    variants: list[tuple[Override, ...]] = [()]
    for combo in combos:
        if combo not in variants:
            variants.append(combo)
    return [Task(folder_name(v), str(scenario), str(outdir / folder_name(v)), v,
                 workbook=workbook) for v in variants]


def tornado(rows: list[dict[str, Any]], tasks: list[Task]) -> pd.DataFrame:
    """Per varied input: NPV at its lowest and highest outcome against the base NPV."""
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
                        "change": change.label.split("=", 1)[1], "npv_usd": row.get("npv_usd"),
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
