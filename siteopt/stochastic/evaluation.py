"""`siteopt evaluate`: a result folder's plan on N fresh futures, written to its own folder.

The folder (default `<RESULT_DIR>-evaluation`) holds evaluation.json (the measures and how
they were made), evaluation.csv (one row per future) and evaluation.xlsx. It is staged
beside the target and swapped in whole (siteopt.export.swap); the plan's own folder is only
read, and an existing folder is replaced only when it holds an evaluation and nothing else.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from siteopt.inputs import Inputs, load_inputs
from siteopt.inputs.errors import InputError, Problem, Problems
from siteopt.stochastic.evaluate import (
    commitments,
    measures,
    plan_jobs,
    run_jobs,
)

MARKER = "evaluation.json"
FILES = (MARKER, "evaluation.csv", "evaluation.xlsx")
CSV_COLUMNS = ["future", "status", "npv_usd", "cash_floor", "reason", "changes", "seconds"]


def _plan_summary(result_dir: Path) -> dict[str, Any]:
    import json

    marker = result_dir / "summary.json"
    if not marker.is_file():
        raise InputError([Problem(str(result_dir), "is not a siteopt result folder (no "
                                                   "summary.json)")])
    try:
        return json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError([Problem(str(marker), f"cannot be read ({exc})")]) from None


def _scenario(result_dir: Path, summary: dict[str, Any], scenario: Path | None) -> Inputs:
    """The scenario whose uncertainty.sample draws the futures: --scenario, else the one
    the plan was solved from."""
    path = scenario or summary.get("scenario_file_resolved") or summary.get("scenario_file")
    if not path or not Path(path).is_file():
        raise InputError([Problem(str(result_dir), f"was solved from {path or 'a scenario'}, "
                                                   f"which is not found here; give the "
                                                   f"scenario to draw futures from: "
                                                   f"--scenario FILE")])
    inputs = load_inputs(path)
    uncertainty = inputs.scenario.uncertainty
    if uncertainty is None or uncertainty.sample is None:
        raise InputError([Problem(f"scenario {Path(path).name}: uncertainty.sample",
                                  "required to draw futures (the distributions of "
                                  "docs/uncertainty.md); give a scenario that has one with "
                                  "--scenario FILE")])
    return inputs


def evaluate_plan(result_dir: Path, futures: int, seed: int, workers: int = 1,
                  scheduler: str | None = None, scenario: Path | None = None,
                  alpha_pct: float | None = None, solver: dict[str, Any] | None = None,
                  on_row: Callable[[dict[str, Any]], None] | None = None,
                  spawn: bool = False
                  ) -> tuple[dict[str, Any], list[dict[str, Any]], list[str]]:
    """(summary, rows, months) of the plan in `result_dir` on `futures` fresh futures
    (`spawn`: solve in worker processes also with one worker, as the benchmark does)."""
    from siteopt.stochastic.futures import load_future

    started = time.perf_counter()
    plan = _plan_summary(result_dir)
    inputs = _scenario(result_dir, plan, scenario)
    uncertainty = inputs.scenario.uncertainty
    problems = Problems()
    base = load_future(inputs, [], f"scenario {inputs.scenario_path.name}", problems)
    problems.raise_if_any()
    commits = commitments(result_dir, base, uncertainty.commit_months)
    sample = uncertainty.sample.model_copy(update={"count": futures, "seed": seed})
    jobs = plan_jobs(inputs, sample, commits, solver)
    rows = run_jobs(jobs, workers=workers, scheduler=scheduler, on_row=on_row, spawn=spawn)
    alpha = uncertainty.risk.cvar_alpha_pct if alpha_pct is None else alpha_pct
    found = measures(rows, alpha)
    kind = "stochastic" if plan.get("stochastic") else "deterministic"
    planned_seed = uncertainty.sample.seed
    summary = {
        "plan": str(result_dir), "plan_kind": kind, "plan_name": plan.get("scenario"),
        "plan_npv_usd": plan.get("npv_usd"), "scenario_file": str(inputs.scenario_path),
        "futures": futures, "seed": seed, "planning_seed": planned_seed,
        "in_sample": kind == "stochastic" and seed == planned_seed,
        "commit_months": commits.commit_months,
        "fixed_decisions": len(commits.decisions),
        "workers": 0 if scheduler else workers, "scheduler": scheduler,
        "measures": found,
        "seconds": round(time.perf_counter() - started, 3),
        "note": _note(found, kind, seed == planned_seed),
    }
    return summary, rows, list(base.months)


def _note(found: dict[str, Any], kind: str, same_seed: bool) -> str:
    parts = [f"Expected NPV is the mean over the {found['futures_with_npv']} futures with a "
             f"plan, each equally likely; its 95 % interval is mean ± 1.96 × sd / √n (normal "
             f"approximation)."]
    if found["infeasible"]:
        parts.append(f"{found['infeasible']} future(s) cannot keep the decisions taken now "
                     f"(listed in evaluation.csv) and are left out of the mean.")
    if kind == "stochastic" and same_seed:
        parts.append("The seed is the one the plan was made with: these futures are in "
                     "sample only if the count is the same too; use another seed for an "
                     "out-of-sample test.")
    return " ".join(parts)


# -- writing --------------------------------------------------------------------------------


def default_outdir(result_dir: Path) -> Path:
    return result_dir.parent / f"{result_dir.resolve().name}-evaluation"


def check_evaluation_outdir(outdir: Path, result_dir: Path) -> None:
    """Refuse the plan's own folder (or one inside it) and a folder holding anything but an
    earlier evaluation."""
    target, plan = outdir.resolve(), result_dir.resolve()
    if target == plan or plan in target.parents:
        raise InputError([Problem(f"-o {outdir}", "is the plan's folder or inside it: an "
                                                  "evaluation never writes into the plan")])
    if target.exists() and not target.is_dir():
        raise InputError([Problem(f"-o {outdir}", "exists and is not a folder")])
    if target.is_dir():
        entries = {e.name for e in target.iterdir()}
        if entries and (MARKER not in entries or entries - set(FILES)):
            raise InputError([Problem(f"-o {outdir}", "exists and holds more than an "
                                                      "evaluation; choose another folder")])


def write_evaluation(outdir: Path, summary: dict[str, Any], rows: list[dict[str, Any]],
                     months: list[str]) -> None:
    from siteopt.export.evaluation_workbook import write_evaluation_workbook
    from siteopt.export.files import write_csv, write_json
    from siteopt.export.swap import folder_lock, swap_in

    outdir.parent.mkdir(parents=True, exist_ok=True)
    stage = outdir.parent / f".{outdir.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    stage.mkdir()
    try:
        table = pd.DataFrame([{c: r.get(c) for c in CSV_COLUMNS} for r in rows],
                             columns=CSV_COLUMNS)
        write_csv(table, stage / "evaluation.csv")
        write_evaluation_workbook(summary, rows, months, stage / "evaluation.xlsx")
        write_json({**summary, "files": list(FILES)}, stage / MARKER)  # last: complete
        with folder_lock(outdir):
            swap_in(stage, outdir)
    finally:
        if stage.exists():
            shutil.rmtree(stage, ignore_errors=True)
