"""The Python API behind the CLI: load → prepare → build → solve → extract."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from siteopt.inputs import Inputs, load_inputs
from siteopt.inputs.transform import mining_only
from siteopt.model import BuiltModel, build_model, prepare
from siteopt.model.objective import USD_PER_OBJECTIVE_UNIT
from siteopt.model.reuse import record_cash, reuse_key
from siteopt.results.audit import audit_plan
from siteopt.results.diagnose import explain_infeasibility, undeliverable_signed_leases
from siteopt.results.extract import Results, extract, infeasible, unsolved, with_kpis
from siteopt.solve import Compiled, compile_model, set_objective, solve_compiled


def with_solver_options(inputs: Inputs, **overrides: Any) -> Inputs:
    """Inputs with some `solver` keys replaced (None leaves a key as it is)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    if not given:
        return inputs
    from dataclasses import replace

    from pydantic import ValidationError

    from siteopt.inputs.errors import InputError, Problem
    from siteopt.inputs.schema import Solver

    try:
        solver = Solver.model_validate({**inputs.scenario.solver.model_dump(), **given})
    except ValidationError as exc:  # options from the command line get the schema's ranges
        raise InputError([Problem(f"solver.{'.'.join(map(str, e['loc']))} (command line)",
                                  str(e.get("ctx", {}).get("error", e["msg"])))
                          for e in exc.errors()]) from None
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
    built, compiled, reused = _built_and_compiled(inputs, data)
    outcome = solve_compiled(built.model, compiled, inputs.scenario.solver, log=log)
    solved_at = time.perf_counter()
    timings = {"build": solved_at - started - outcome.solve_seconds,
               "solve": outcome.solve_seconds}
    if outcome.status == "infeasible":
        return unsolved(inputs, outcome, timings, explain_infeasibility(inputs))
    if outcome.status not in ("optimal", "feasible"):
        return unsolved(inputs, outcome, timings)
    results = extract(inputs, built, outcome, timings)
    results.summary["extract_seconds"] = round(time.perf_counter() - solved_at, 4)
    results.summary["model_reused"] = reused
    violations = audit_plan(inputs, results.campus_month, results.leases,
                            results.company_month, results.summary["npv_usd"])
    results.summary["audit"] = {"passed": not violations, "violations": violations[:20]}
    return results


# Price-only variants solved one after another in a process (sweeps, batches on a worker)
# reuse the last models built: key → (built model, compiled form). Two entries: a plan and
# its mining-only baseline alternate.
_REUSABLE: dict[str, tuple[BuiltModel, Compiled]] = {}


def _built_and_compiled(inputs: Inputs, data) -> tuple[BuiltModel, Compiled, bool]:
    key = reuse_key(inputs)
    if key is not None and key in _REUSABLE:
        built, compiled = _REUSABLE[key]
        cash = record_cash(built.model, data)
        set_objective(compiled, *_objective_units(cash))
        return BuiltModel(built.model, data, cash), compiled, True
    built = build_model(data)
    compiled = compile_model(built.model)
    if key is not None:
        if len(_REUSABLE) >= 2:
            _REUSABLE.pop(next(iter(_REUSABLE)))
        _REUSABLE[key] = (built, compiled)
    return built, compiled, False


def _objective_units(cash) -> tuple[dict, float]:
    coefficients, constant = cash.objective_coefficients()
    return ({name: series / USD_PER_OBJECTIVE_UNIT for name, series in coefficients.items()},
            constant / USD_PER_OBJECTIVE_UNIT)


def solve_scenario(path: str | Path, log: bool = False, **solver_overrides: Any) -> Results:
    return solve_inputs(with_solver_options(load_inputs(path), **solver_overrides), log=log)
