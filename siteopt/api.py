"""The Python API behind the CLI: load → prepare → build → solve → extract."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from siteopt.inputs import Inputs, load_inputs
from siteopt.inputs.transform import mining_only
from siteopt.model import BuiltModel, build_model, prepare
from siteopt.model.objective import USD_PER_OBJECTIVE_UNIT
from siteopt.model.reuse import record_cash, reuse_key
from siteopt.results.audit import audit_plan
from siteopt.results.diagnose import explain_infeasibility, undeliverable_signed_leases
from siteopt.results.extract import Results, extract
from siteopt.results.summary import infeasible, unsolved, with_kpis
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


StageCallback = Callable[[str, float], None]  # stage name, seconds


def solve_inputs(inputs: Inputs, log: bool = False, baseline: bool = True,
                 on_stage: StageCallback | None = None) -> Results:
    """Solve a scenario and, unless told not to, its mining-only baseline for the KPIs."""
    results = solve_plan(inputs, log=log, on_stage=on_stage)
    if results.summary["status"] not in ("optimal", "feasible"):
        return results
    base = solve_plan(mining_only(inputs)) if baseline else None
    with _Stages(on_stage).stage("kpis"):
        return with_kpis(inputs, results, base)


class _Stages:
    """Times named stages; tells `on_stage` each one's seconds as it ends."""

    def __init__(self, on_stage: StageCallback | None):
        self.on_stage = on_stage
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            took = time.perf_counter() - started
            self.seconds[name] = self.seconds.get(name, 0.0) + took
            if self.on_stage is not None:
                self.on_stage(name, took)


def solve_plan(inputs: Inputs, log: bool = False,
               on_stage: StageCallback | None = None) -> Results:
    """One scenario, in these stages (each timed, `on_stage(name, seconds)`):

    prepare (inputs → model data) → precheck (signed leases no campus can deliver) →
    build (Pyomo model and cash ledger, or only the ledger on a reused model) → compile
    (to HiGHS's matrices) → solve (HiGHS) → diagnose (infeasible only: what to relax) →
    extract (tables) → audit (independent re-check of the written plan).
    """
    stages = _Stages(on_stage)
    with stages.stage("prepare"):
        data = prepare(inputs)
    with stages.stage("precheck"):
        impossible = undeliverable_signed_leases(data)
    if impossible:
        return infeasible(inputs, impossible, {"build": sum(stages.seconds.values()),
                                               "solve": 0.0})
    built, compiled, reused = _built_and_compiled(inputs, data, stages)
    outcome = solve_compiled(built.model, compiled, inputs.scenario.solver, log=log)
    if on_stage is not None:
        on_stage("solve", outcome.solve_seconds)
    timings = {"build": sum(stages.seconds.values()) + outcome.compile_seconds
               - compiled.compile_seconds,
               "solve": outcome.solve_seconds}
    if outcome.status == "infeasible":
        with stages.stage("diagnose"):
            diagnosis = explain_infeasibility(inputs)
        return unsolved(inputs, outcome, timings, diagnosis)
    if outcome.status not in ("optimal", "feasible"):
        return unsolved(inputs, outcome, timings)
    with stages.stage("extract"):
        results = extract(inputs, built, outcome, timings)
    with stages.stage("audit"):
        violations = audit_plan(inputs, results.campus_month, results.leases,
                                results.company_month, results.summary["npv_usd"])
    results.summary["extract_seconds"] = round(stages.seconds["extract"]
                                               + stages.seconds["audit"], 4)
    results.summary["model_reused"] = reused
    results.summary["audit"] = {"passed": not violations, "violations": violations[:20]}
    return results


# Price-only variants solved one after another in a process (sweeps, batches on a worker)
# reuse the last models built: key → (built model, compiled form). Two entries: a plan and
# its mining-only baseline alternate.
_REUSABLE: dict[str, tuple[BuiltModel, Compiled]] = {}


def _built_and_compiled(inputs: Inputs, data, stages: _Stages
                        ) -> tuple[BuiltModel, Compiled, bool]:
    key = reuse_key(inputs)
    if key is not None and key in _REUSABLE:
        built, compiled = _REUSABLE[key]
        with stages.stage("build"):
            cash = record_cash(built.model, data)
            set_objective(compiled, *_objective_units(cash))
        compiled.compile_seconds = 0.0
        return BuiltModel(built.model, data, cash), compiled, True
    with stages.stage("build"):
        built = build_model(data)
    with stages.stage("compile"):
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
