"""A result folder: summary.json, the CSV tables, inputs/ and plan.xlsx — one run, whole.

A run is written into a hidden staging folder beside OUTDIR and swapped into place with two
renames while Ctrl-C is held back, so OUTDIR always holds one complete run: the previous one
until the swap, the new one after. A folder that is not a siteopt result folder is never
replaced.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import signal
import tempfile
from pathlib import Path

import pandas as pd

from siteopt.errors import InputError, Problem
from siteopt.export.files import write_csv, write_json
from siteopt.export.workbook import write_plan_workbook
from siteopt.results import Results

MARKER = "summary.json"
_UMASK = os.umask(0)
os.umask(_UMASK)


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def check_outdir(outdir: Path) -> None:
    """Refuse a target that exists and is not a result folder (it would be replaced)."""
    if outdir.exists() and not outdir.is_dir():
        raise InputError([Problem(str(outdir), "exists and is not a folder")])
    if outdir.is_dir() and any(outdir.iterdir()) and not (outdir / MARKER).is_file():
        raise InputError([Problem(str(outdir), "exists, is not empty and is not a siteopt "
                                               "result folder; choose another output folder")])


def write_results(results: Results, outdir: Path, workbook: bool = True) -> list[str]:
    """Write a run to `outdir`, replacing a previous run there as a whole."""
    check_outdir(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{outdir.name}.", suffix=".tmp", dir=outdir.parent))
    os.chmod(stage, 0o777 & ~_UMASK)  # mkdtemp makes 0700; results are ordinary folders
    try:
        files = _write_into(results, stage, workbook)
        _swap(stage, outdir)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
    return files


def _write_into(results: Results, folder: Path, workbook: bool) -> list[str]:
    written = []
    tables = [("campus_month.csv", results.campus_month), ("leases.csv", results.leases),
              ("company_month.csv", results.company_month)]
    if results.kpis is not None:
        tables.append(("kpis.csv", results.kpis))
    for name, frame in tables:
        write_csv(frame, folder / name)
        written.append(name)
    for name, frame in results.assumptions.items():
        write_csv(frame, folder / "inputs" / f"{name}.csv")
    if workbook:
        write_plan_workbook(results, folder / "plan.xlsx")
        written.append("plan.xlsx")
    write_json(_clean({**results.summary, "files": written}), folder / MARKER)
    return [*written, MARKER]


@contextlib.contextmanager
def _no_interrupts():
    """Hold SIGINT/SIGTERM back for the two renames (main thread on POSIX only)."""
    can_block = hasattr(signal, "pthread_sigmask") and \
        signal.getsignal(signal.SIGINT) is not None
    if not can_block:
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _swap(stage: Path, outdir: Path) -> None:
    old = outdir.with_name(f".{outdir.name}.old-{os.getpid()}")
    with _no_interrupts():
        if outdir.exists():
            os.replace(outdir, old)
        os.replace(stage, outdir)
    if old.exists():
        shutil.rmtree(old, ignore_errors=True)


def _text_columns() -> dict[str, type]:
    from siteopt.schema import TABLES

    names = {"campus_id", "offer_id", "tenant", "month", "start_month", "delivery_month",
             "end_month", "kpi", "unit", "key", "value"}
    names |= {c.name for t in TABLES.values() for c in t.columns
              if c.kind in ("id", "text", "id_list", "month")}
    return dict.fromkeys(sorted(names), str)


_TEXT_COLUMNS = _text_columns()


def load_results(outdir: Path) -> Results:
    """Read a result folder back (for `siteopt report` and `siteopt compare`)."""
    summary_path = outdir / MARKER
    if not summary_path.is_file():
        raise InputError([Problem(str(outdir), "not a result folder (no summary.json)")])
    summary = json.loads(summary_path.read_text(encoding="utf-8"))

    def table(path: Path) -> pd.DataFrame:
        # ids, names and months stay text ('-2' is a campus id, '+1' a tenant, not numbers)
        return pd.read_csv(path, keep_default_na=False, na_values=[""], dtype=_TEXT_COLUMNS) \
            if path.is_file() else pd.DataFrame()

    inputs_dir = outdir / "inputs"
    assumptions = {p.stem: table(p) for p in sorted(inputs_dir.glob("*.csv"))} \
        if inputs_dir.is_dir() else {}
    kpis = table(outdir / "kpis.csv")
    return Results(summary, table(outdir / "campus_month.csv"), table(outdir / "leases.csv"),
                   table(outdir / "company_month.csv"), kpis if len(kpis) else None,
                   assumptions)
