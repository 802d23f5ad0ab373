"""summary.json and what travels with it: the run's facts, the versions that produced it, the
inputs that drove it (assumptions) and the KPIs against the mining-only baseline."""

from __future__ import annotations

import datetime as dt
import platform
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from siteopt import __version__
from siteopt.inputs import Inputs
from siteopt.results import kpis
from siteopt.results.tables import Results, empty_tables
from siteopt.solve import SolveOutcome


def assumptions(inputs: Inputs) -> dict[str, pd.DataFrame]:
    """Every input that drove a run: scenario keys after `extends` and defaults, each table,
    and the market path — so a result folder (and its workbook) stands alone."""
    flat: list[tuple[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            flat.append((prefix, value if not isinstance(value, (list, dict)) else
                         ", ".join(map(str, value)) if isinstance(value, list) else ""))

    walk("", inputs.scenario.model_dump(mode="json"))
    offers = inputs.offers.reset_index()
    offers["campuses"] = [";".join(ids) for ids in offers["campuses"]]
    return {"scenario": pd.DataFrame(flat, columns=["key", "value"]),
            "campuses": inputs.campuses.reset_index(), "offers": offers,
            "offer_phases": inputs.offer_phases.copy(), "market": inputs.market.copy(),
            **({"construction": inputs.construction.copy()} if len(inputs.construction)
               else {})}


def versions() -> dict[str, str]:
    import highspy
    import pyomo.version

    h = highspy.Highs()
    return {"siteopt": __version__, "pyomo": pyomo.version.version,
            "highs": h.version(), "python": platform.python_version()}


def run_summary(inputs: Inputs, outcome: SolveOutcome, npv: float,
                timings: dict[str, float]) -> dict[str, Any]:
    scenario = inputs.scenario
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "scenario_file": str(inputs.scenario_path),
        # where it was, wherever the run was started from (siteopt replan re-reads it)
        "scenario_file_resolved": str(Path(inputs.scenario_path).resolve()),
        "status": outcome.status,
        "highs_status": outcome.highs_status,
        "npv_usd": npv,
        "objective_usd": outcome.npv_objective_usd,
        "best_bound_usd": outcome.best_bound_usd,
        "mip_gap_pct": outcome.mip_gap_pct,
        "horizon": {"start": scenario.horizon.start, "months": scenario.horizon.months},
        "value_beyond_horizon": scenario.finance.value_beyond_horizon,
        "discount_rate_pct_per_year": scenario.finance.discount_rate_pct_per_year,
        "solver_options": scenario.solver.model_dump(),
        "size": {"variables": outcome.columns, "constraints": outcome.rows,
                 "integers": outcome.integers},
        **{f"{k}_seconds": round(v, 4) for k, v in timings.items()},
        "solver": "HiGHS",
        "versions": versions(),
        "input_hash": inputs.input_hash,
        "warnings": list(inputs.warnings),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def with_kpis(inputs: Inputs, plan: Results, baseline: Results | None) -> Results:
    """The plan with its KPI table, and the headline KPIs in its summary."""
    solved = baseline is not None and baseline.summary["status"] in ("optimal", "feasible")
    cm = plan.campus_month
    block = cm["campus_id"].map(inputs.campuses["hpc_block_it_mw"])
    started = (cm["blocks_started"] * block).groupby(cm["month"].str[:4].astype(int)).sum()
    table, headline = kpis.compute(
        plan.company_month, baseline.company_month if solved else None,
        plan.summary["npv_usd"], baseline.summary["npv_usd"] if solved else None,
        inputs.scenario.finance.terminal_value.method, started)
    summary = {**plan.summary, "kpis": headline}
    if baseline is not None:
        summary["baseline"] = {k: baseline.summary[k] for k in
                               ("status", "npv_usd", "mip_gap_pct", "solve_seconds")}
    return replace(plan, summary=summary, kpis=table)


def unsolved(inputs: Inputs, outcome: SolveOutcome, timings: dict[str, float],
             diagnosis: list[str] | None = None) -> Results:
    """Results of a run without a plan: the summary says why; the tables are empty."""
    summary = run_summary(inputs, outcome, float("nan"), timings)
    summary["npv_usd"] = None
    summary["diagnosis"] = list(diagnosis or [])
    return Results(summary, *empty_tables(), assumptions=assumptions(inputs))


def infeasible(inputs: Inputs, diagnosis: list[str], timings: dict[str, float]) -> Results:
    """Found infeasible before solving: no model was passed to HiGHS."""
    outcome = SolveOutcome("infeasible", "not solved: infeasible by construction", None, None,
                           None, 0.0, 0.0)
    return unsolved(inputs, outcome, timings, diagnosis)
