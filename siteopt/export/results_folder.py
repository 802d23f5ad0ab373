"""A result folder: summary.json, campus_month.csv, leases.csv and plan.xlsx.

Files are written atomically; summary.json is written last and lists the files of its run,
so a folder whose summary exists holds one complete run.
"""

from __future__ import annotations

import math
from pathlib import Path

from siteopt.export.files import write_csv, write_json
from siteopt.export.workbook import write_plan_workbook
from siteopt.results import Results


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


RESULT_FILES = {"campus_month.csv", "leases.csv", "company_month.csv", "kpis.csv", "plan.xlsx"}


def write_results(results: Results, outdir: Path, workbook: bool = True) -> list[Path]:
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    tables = [("campus_month.csv", results.campus_month), ("leases.csv", results.leases),
              ("company_month.csv", results.company_month)]
    if results.kpis is not None:
        tables.append(("kpis.csv", results.kpis))
    for name, frame in tables:
        write_csv(frame, outdir / name)
        written.append(outdir / name)
    for name, frame in results.assumptions.items():
        write_csv(frame, outdir / "inputs" / f"{name}.csv")
    if workbook:
        write_plan_workbook(results, outdir / "plan.xlsx")
        written.append(outdir / "plan.xlsx")
    for stale in RESULT_FILES - {p.name for p in written}:
        (outdir / stale).unlink(missing_ok=True)  # a folder holds one run, never a mix
    summary = _clean({**results.summary, "files": [p.name for p in written]})
    write_json(summary, outdir / "summary.json")
    return [*written, outdir / "summary.json"]


def load_results(outdir: Path) -> Results:
    """Read a result folder back (for `siteopt report` and `siteopt compare`)."""
    import json

    import pandas as pd

    from siteopt.errors import InputError, Problem

    summary_path = outdir / "summary.json"
    if not summary_path.is_file():
        raise InputError([Problem(str(outdir), "not a result folder (no summary.json)")])
    summary = json.loads(summary_path.read_text(encoding="utf-8"))

    def table(name: str) -> pd.DataFrame:
        path = outdir / name
        return pd.read_csv(path, keep_default_na=False, na_values=[""]) if path.is_file() \
            else pd.DataFrame()

    inputs_dir = outdir / "inputs"
    assumptions = {p.stem: pd.read_csv(p, keep_default_na=False, na_values=[""])
                   for p in sorted(inputs_dir.glob("*.csv"))} if inputs_dir.is_dir() else {}
    kpis = table("kpis.csv")
    return Results(summary, table("campus_month.csv"), table("leases.csv"),
                   table("company_month.csv"), kpis if len(kpis) else None, assumptions)
