"""The Python API behind the CLI: load → prepare → build → solve → extract."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from siteopt.audit import audit_plan
from siteopt.diagnose import explain_infeasibility, undeliverable_signed_leases
from siteopt.inputs import Inputs, load_inputs
from siteopt.model import build_model, prepare
from siteopt.results import Results, extract, infeasible, unsolved, with_kpis
from siteopt.solve import solve
from siteopt.transform import mining_only


def with_solver_options(inputs: Inputs, **overrides: Any) -> Inputs:
    """Inputs with some `solver` keys replaced (None leaves a key as it is)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return inputs
    from dataclasses import replace

    from siteopt.schema import Solver

    solver = Solver.model_validate({**inputs.scenario.solver.model_dump(), **given})
    return replace(inputs, scenario=inputs.scenario.model_copy(update={"solver": solver}))


def solve_inputs(inputs: Inputs, log: bool = False, baseline: bool = True) -> Results:
    """Solve a scenario and, unless told not to, its mining-only baseline for the KPIs."""
    results = solve_plan(inputs, log=log)
    if results.summary["status"] not in ("optimal", "feasible"):
        return results
    base = solve_plan(mining_only(inputs)) if baseline else None
    return with_kpis(inputs, results, base)


def solve_plan(inputs: Inputs, log: bool = False) -> Results:
    started = time.perf_counter()
    data = prepare(inputs)
    impossible = undeliverable_signed_leases(data)
    if impossible:
        return infeasible(inputs, impossible, {"build": time.perf_counter() - started,
                                               "solve": 0.0})
    built = build_model(data)
    built_at = time.perf_counter()
    outcome = solve(built.model, inputs.scenario.solver, log=log)
    solved_at = time.perf_counter()
    timings = {"build": built_at - started + outcome.compile_seconds,
               "solve": outcome.solve_seconds}
    if outcome.status == "infeasible":
        return unsolved(inputs, outcome, timings, explain_infeasibility(inputs))
    if outcome.status not in ("optimal", "feasible"):
        return unsolved(inputs, outcome, timings)
    results = extract(inputs, built, outcome, timings)
    results.summary["extract_seconds"] = round(time.perf_counter() - solved_at, 4)
    violations = audit_plan(inputs, results.campus_month, results.leases,
                            results.company_month, results.summary["npv_usd"])
    results.summary["audit"] = {"passed": not violations, "violations": violations[:20]}
    return results


def solve_scenario(path: str | Path, log: bool = False, **solver_overrides: Any) -> Results:
    return solve_inputs(with_solver_options(load_inputs(path), **solver_overrides), log=log)
