"""A result folder: summary.json, the CSV tables, inputs/ and plan.xlsx — one run, whole.

A run is written into a hidden staging folder beside OUTDIR and swapped into place
(`siteopt.export.swap`: one writer at a time, recoverable after a kill), so OUTDIR always
holds one complete run. A folder is replaced only when everything in it is a file its
summary.json lists (or the plan.xlsx `report` rebuilt): siteopt never deletes what it did
not write. `load_results` reads a folder back and checks it (`result_checks`).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import pandas as pd

from siteopt.contract import FUTURES_COLUMNS, HERE_AND_NOW_COLUMNS, SCENARIO_COLUMNS
from siteopt.export import leftovers, result_checks, swap
from siteopt.export.files import (
    WriteError,
    check_name_lengths,
    probe_writable,
    reason,
    restored,
    write_csv,
    write_json,
)
from siteopt.export.narrative import narrative
from siteopt.export.result_checks import UnreadableResults
from siteopt.export.targets import MARKER, enclosing_result_folder, is_siteopt_workbook
from siteopt.export.workbook import write_plan_workbook
from siteopt.inputs.errors import InputError, Problem
from siteopt.results.extract import Results

_UMASK = os.umask(0)
os.umask(_UMASK)
# inputs/ of folders written before summary.json listed them
_LEGACY_INPUTS = {f"inputs/{n}.csv" for n in result_checks.INPUT_KEYS}
_SHOWN_ENTRIES = 8


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def _real(outdir: Path) -> Path:
    """OUTDIR itself when it is a symbolic link to a folder: the run replaces that folder."""
    outdir = Path(outdir)
    return outdir.resolve() if outdir.is_symlink() and outdir.is_dir() else outdir


def check_outdir(outdir: Path, probe: bool = True) -> None:
    """Refuse a target the run may not replace, before any work; with `probe`, also one
    whose folder cannot be written (a file is created and removed there)."""
    check_name_lengths(outdir)
    outdir = _real(outdir)
    where = str(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise InputError([Problem(where, "exists and is not a folder")])
    inside = enclosing_result_folder(outdir)
    if inside is not None:
        raise InputError([Problem(where, f"is inside the result folder {inside}; choose an "
                                         "output folder outside it")])
    if outdir.is_dir():
        _check_replaceable(outdir)
    if probe:
        probe_writable(outdir.parent)


def _check_replaceable(outdir: Path) -> None:
    where = str(outdir)
    try:
        entries = list(outdir.iterdir())
    except OSError as exc:
        raise WriteError(outdir, reason(exc), exc.errno) from None
    if not entries:
        return
    if not (outdir / MARKER).is_file():
        raise InputError([Problem(where, "exists, is not empty and is not a siteopt result "
                                         "folder; choose another output folder")])
    try:
        summary = json.loads((outdir / MARKER).read_text(encoding="utf-8"))
        files = summary["files"]
        if not isinstance(files, list):
            raise TypeError("'files' is not a list")
        listed = {str(f) for f in files} | {MARKER}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InputError([Problem(where, f"its summary.json cannot be read ({exc}), so "
                                         "siteopt cannot tell the files of its run from "
                                         "others and will not replace it; choose another "
                                         "output folder")]) from None
    if not any(f.startswith("inputs/") for f in listed):
        listed |= _LEGACY_INPUTS
    foreign = _foreign(outdir, listed)
    if foreign:
        shown = ", ".join(foreign[:_SHOWN_ENTRIES])
        more = f" and {len(foreign) - _SHOWN_ENTRIES} more" if len(foreign) > _SHOWN_ENTRIES \
            else ""
        raise InputError([Problem(where, f"holds {shown}{more}, which siteopt did not write; "
                                         "it replaces a result folder only when it holds "
                                         "nothing else: move them out, or choose another "
                                         "output folder")])


def _foreign(outdir: Path, listed: set[str]) -> list[str]:
    """Entries of `outdir` that are not files of its run (relative names, folders with /)."""
    out = []

    def walk(folder: Path, prefix: str) -> None:
        for entry in sorted(folder.iterdir()):
            name = f"{prefix}{entry.name}"
            if entry.is_symlink() or not (entry.is_file() or entry.is_dir()):
                out.append(name)
            elif entry.is_dir():
                if any(f.startswith(f"{name}/") for f in listed):
                    walk(entry, f"{name}/")
                else:
                    out.append(f"{name}/")
            elif name not in listed and not _ours(entry, name):
                out.append(name)

    walk(outdir, "")
    return out


def _ours(entry: Path, name: str) -> bool:
    """A file siteopt wrote though the run did not list it: the plan.xlsx `report` rebuilt,
    or a temporary file of a siteopt process that was killed."""
    if name == "plan.xlsx":
        return is_siteopt_workbook(entry)
    if name.endswith(".log") and "/" not in name:  # `solve --solver-log NAME.log`
        return _is_highs_log(entry)
    return leftovers.is_stale_temp_file(entry)


def _is_highs_log(entry: Path) -> bool:
    from siteopt.contract import SOLVER_LOG_BANNER

    try:
        with entry.open("rb") as f:
            return f.read(len(SOLVER_LOG_BANNER)) == SOLVER_LOG_BANNER.encode()
    except OSError:
        return False


def write_results(results: Results, outdir: Path, workbook: bool = True) -> list[str]:
    """Write a run to `outdir`, replacing a previous run there as a whole.

    Raises InputError when `outdir` may not be replaced, `WriteError` (an OSError) naming
    the path and the reason when writing fails; the previous run then stays as it was."""
    outdir = _real(outdir)
    check_outdir(outdir, probe=False)
    try:
        outdir.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WriteError(exc.filename or outdir.parent, reason(exc), exc.errno) from None
    with swap.folder_lock(outdir):
        swap.recover(outdir)
        check_outdir(outdir, probe=False)  # again: another run may have written it meanwhile
        stage = _make_stage(outdir)
        try:
            files = _write_into(results, stage, workbook)
            try:
                swap.swap_in(stage, outdir)
            except KeyboardInterrupt as exc:  # held back during the swap, delivered after it
                if not stage.exists():
                    exc.written = outdir  # type: ignore[attr-defined]
                raise
        except WriteError as exc:
            raise WriteError(_shown(exc.path, stage, outdir), exc.reason, exc.errno) from None
        except OSError as exc:
            raise WriteError(_shown(Path(exc.filename or outdir), stage, outdir),
                             reason(exc), exc.errno) from None
        finally:
            if stage.exists():
                shutil.rmtree(stage, ignore_errors=True)
    return files


def _make_stage(outdir: Path) -> Path:
    try:
        stage = Path(tempfile.mkdtemp(prefix=leftovers.temp_prefix(outdir), suffix=".tmp",
                                      dir=outdir.parent))
        os.chmod(stage, 0o777 & ~_UMASK)  # mkdtemp makes 0700; results are ordinary folders
    except OSError as exc:
        raise WriteError(outdir.parent, reason(exc), exc.errno) from None
    return stage


def _shown(path: Path, stage: Path, outdir: Path) -> Path:
    """A path inside the staging folder as the user will know it: inside OUTDIR."""
    try:
        return outdir / Path(path).relative_to(stage)
    except ValueError:
        return Path(path)


def _write_into(results: Results, folder: Path, workbook: bool) -> list[str]:
    tables = [("campus_month.csv", results.campus_month), ("leases.csv", results.leases),
              ("company_month.csv", results.company_month)]
    if results.kpis is not None:
        tables.append(("kpis.csv", results.kpis))
    tables += [(f"{name}.csv", frame) for name, frame in results.extra.items()]
    tables += [(f"inputs/{name}.csv", frame) for name, frame in results.assumptions.items()]
    for name, frame in tables:
        write_csv(frame, folder / name)
    written = [name for name, _ in tables]
    # the plan in plain words, from these tables: made once for summary.json and plan.xlsx
    results = replace(results, summary={**results.summary, "narrative": narrative(results)})
    if workbook:
        write_plan_workbook(results, folder / "plan.xlsx")
        written.append("plan.xlsx")
    rows = {name: len(frame) for name, frame in tables}
    for name, future in results.futures.items():
        inner = _write_into(future, folder / FUTURES / name, workbook=False)
        written += [f"{FUTURES}/{name}/{file}" for file in inner]
    write_json(_clean({**results.summary, "result_format": result_checks.RESULT_FORMAT,
                       "files": written, "table_rows": rows}), folder / MARKER)
    return [*written, MARKER]


def _text_columns() -> dict[str, type]:
    from siteopt.inputs.schema import TABLES

    names = {"campus_id", "offer_id", "tenant", "month", "start_month", "delivery_month",
             "end_month", "kpi", "unit", "key", "value"}
    names |= {c.name for t in TABLES.values() for c in t.columns
              if c.kind in ("id", "text", "id_list", "month")}
    return dict.fromkeys(sorted(names), str)


_TEXT_COLUMNS = _text_columns()


def _recover_for_reading(outdir: Path) -> None:
    """A folder killed in its swap is repaired before reading (when it can be)."""
    if not leftovers.found(outdir):
        return
    try:
        with swap.folder_lock(outdir):
            swap.recover(outdir)
    except OSError:
        pass  # a read-only place, or a writer still busy: read what is there


def load_results(outdir: Path) -> Results:
    """Read a result folder back (for `siteopt report` and `siteopt compare`), checked:
    a damaged or foreign folder raises `UnreadableResults` with every problem located."""
    outdir = Path(outdir)
    if not (outdir / MARKER).is_file():
        _recover_for_reading(outdir)
    if outdir.exists() and not outdir.is_dir():
        raise UnreadableResults([Problem(str(outdir), "not a result folder (it is a file)")])
    summary_path = outdir / MARKER
    if not summary_path.is_file():
        raise UnreadableResults([Problem(str(outdir), "not a result folder (no summary.json)")])
    try:
        return _load(outdir, result_checks.read_summary(summary_path))
    except UnreadableResults:
        raise
    except OSError as exc:
        raise UnreadableResults([Problem(str(exc.filename or outdir),
                                         f"cannot be read: {reason(exc)}")]) from None


def _load(outdir: Path, summary: dict) -> Results:
    status = summary["status"]
    listed = set(summary.get("files") or [])

    def table(name: str) -> pd.DataFrame:
        spec = result_checks.TABLES[name]
        frame = result_checks.read_csv(outdir / name, _TEXT_COLUMNS, spec.columns, summary,
                                       name)
        return restored(result_checks.check_table(outdir / name, frame, spec, status))

    frames = {name: table(name) for name in ("campus_month.csv", "leases.csv",
                                             "company_month.csv")}
    has_kpis = (outdir / "kpis.csv").exists() or "kpis.csv" in listed
    kpis = table("kpis.csv") if has_kpis else None
    inputs_dir = outdir / "inputs"
    names = {p.stem for p in inputs_dir.glob("*.csv")} if inputs_dir.is_dir() else set()
    names |= {f[len("inputs/"):-len(".csv")] for f in listed
              if f.startswith("inputs/") and f.endswith(".csv")}
    assumptions = {}
    for name in sorted(names):
        rel = f"inputs/{name}.csv"
        frame = result_checks.read_csv(outdir / rel, _TEXT_COLUMNS,
                                       result_checks.INPUT_KEYS.get(name, []), summary, rel)
        assumptions[name] = restored(frame)
    extra = {}
    for name, columns in EXTRA_TABLES.items():  # a re-plan's tables, when it wrote them
        if f"{name}.csv" in listed:
            extra[name] = result_checks.read_csv(outdir / f"{name}.csv", _TEXT_COLUMNS | {
                c: str for c in ("kind", "unit", "description", "step", "note", "scenario",
                                 "status", "leases_taken", "first_block_month", "changes")},
                columns, summary, f"{name}.csv")
    futures = {}
    for entry in (summary.get("stochastic") or {}).get("scenarios") or []:
        name = str(entry.get("name") if isinstance(entry, dict) else "")
        if _safe_name(name) and f"{FUTURES}/{name}/{MARKER}" in listed:
            futures[name] = load_results(outdir / FUTURES / name)
    return Results(summary, frames["campus_month.csv"], frames["leases.csv"],
                   frames["company_month.csv"], kpis if kpis is not None and len(kpis) else None,
                   assumptions, extra, futures)


FUTURES = "scenarios"  # a stochastic plan's per-future result folders


def _safe_name(name: str) -> bool:
    """A future's folder name read from a summary.json: never a path elsewhere."""
    from siteopt.inputs.schema import check_scenario_name

    try:
        check_scenario_name(name)
    except ValueError:
        return False
    return True
# tables only some runs write, and the columns they must have
EXTRA_TABLES = {"here_and_now": HERE_AND_NOW_COLUMNS, "scenarios": SCENARIO_COLUMNS,
                "futures": FUTURES_COLUMNS,
                "changes": ["kind", "campus_id", "offer_id", "month", "old_value", "new_value",
                            "unit", "description"],
                "npv_bridge": ["step", "usd", "note"]}
