"""The Python API behind the CLI: load → prepare → build → solve → extract."""

from __future__ import annotations

import contextlib
import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from siteopt.inputs import Inputs, load_inputs
from siteopt.inputs.transform import mining_only
from siteopt.model import BuiltModel, build_model, prepare
from siteopt.model.objective import USD_PER_OBJECTIVE_UNIT
from siteopt.model.reuse import ModelCache, record_cash, reuse_key, structure_key
from siteopt.results.audit import audit_plan
from siteopt.results.diagnose import explain_infeasibility, undeliverable_signed_leases
from siteopt.results.extract import Results, extract
from siteopt.results.summary import infeasible, unsolved, with_kpis
from siteopt.solve import (
    INF,
    BoundChanges,
    Compiled,
    compile_model,
    set_objective,
    solution_by_name,
    solve_compiled,
    start_vector,
)
from siteopt.start_repair import repair_start


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
                 on_stage: StageCallback | None = None, fixings: Fixings | None = None
                 ) -> Results:
    """Solve a scenario and, unless told not to, its mining-only baseline for the KPIs.

    The baseline is the same model with conversion switched off — no blocks, no leases
    (signed ones released, except leases already running), the as-built halls as they are —
    solved again in HiGHS: no second build. `fixings` (re-planning) fix some decisions for
    this solve only; the baseline is solved without them. A scenario with an `uncertainty`
    section is solved as a stochastic program (siteopt.stochastic)."""
    if inputs.scenario.uncertainty is not None and fixings is None:
        from siteopt.stochastic.run import solve_stochastic

        return solve_stochastic(inputs, log=log, baseline=baseline, on_stage=on_stage)
    run = _solve(inputs, log=log, on_stage=on_stage, fixings=fixings)
    results = run.results
    if results.summary["status"] not in ("optimal", "feasible"):
        return results
    stages = _Stages(on_stage)
    base = None
    if baseline:
        with stages.stage("baseline"):
            base = _mining_only_baseline(inputs, run)
    with stages.stage("kpis"):
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


class Fixings(Protocol):
    """Decisions fixed for one solve (siteopt.replan): their bound changes on the compiled
    model, or the sentences saying why the inputs forbid some; and, when the fixed model is
    infeasible, what made it so. Months before `until` are fixed."""

    until: int

    def changes(self, built: BuiltModel, compiled: Compiled
                ) -> tuple[BoundChanges | None, list[str]]: ...

    def diagnose(self, inputs: Inputs, built: BuiltModel, compiled: Compiled) -> list[str]: ...


@dataclass
class _Run:
    results: Results | None  # None: asked for the plan only (a start for another solve)
    built: BuiltModel | None = None
    compiled: Compiled | None = None
    solution: dict | None = None  # every variable's value by (name, index), when solved
    npv_usd: float | None = None
    status: str = ""


def solve_plan(inputs: Inputs, log: bool = False,
               on_stage: StageCallback | None = None) -> Results:
    """One scenario, in these stages (each timed, `on_stage(name, seconds)`):

    prepare (inputs → model data) → precheck (signed leases no campus can deliver) →
    build (Pyomo model and cash ledger, or only the ledger on a reused model) → compile
    (to HiGHS's matrices) → solve (HiGHS, from the last plan of the same structure when
    there is one) → diagnose (infeasible only: what to relax) → extract (tables) → audit
    (independent re-check of the written plan).
    """
    return _solve(inputs, log=log, on_stage=on_stage).results


def _solve(inputs: Inputs, log: bool = False, on_stage: StageCallback | None = None,
           fixings: Fixings | None = None, plan_only: bool = False) -> _Run:
    stages = _Stages(on_stage)
    with stages.stage("prepare"):
        data = prepare(inputs)
        if fixings is not None:
            data = dataclasses.replace(data, fixed_before=fixings.until)
    with stages.stage("precheck"):
        impossible = undeliverable_signed_leases(data)
    if impossible:
        return _Run(infeasible(inputs, impossible, {"build": sum(stages.seconds.values()),
                                                    "solve": 0.0}))
    built, compiled, reused = _built_and_compiled(inputs, data, stages)
    changes = None
    if fixings is not None:
        with stages.stage("precheck"):
            changes, conflicts = fixings.changes(built, compiled)
        if conflicts:
            return _Run(infeasible(inputs, conflicts, {"build": sum(stages.seconds.values()),
                                                       "solve": 0.0}))
    plan_key = structure_key(inputs, data)
    last = LAST_PLANS.get(plan_key) if inputs.scenario.solver.warm_start else None
    start = start_vector(compiled, last) if last is not None else None
    presolve = repair = None
    if start is None and _finance_start_applies(inputs):
        with stages.stage("finance_start"):
            presolve = _finance_start(inputs, fixings)
            if presolve is not None:
                repair = repair_start(compiled, start_vector(compiled, presolve.solution),
                                      inputs.scenario.solver, START_SHARE, changes)
                start = repair.start
    outcome = solve_compiled(built.model, compiled, inputs.scenario.solver, log=log,
                             start=start, changes=changes)
    if on_stage is not None:
        on_stage("solve", outcome.solve_seconds)
    timings = {"build": sum(stages.seconds.values()) + outcome.compile_seconds
               - compiled.compile_seconds,
               "solve": outcome.solve_seconds}
    if outcome.status == "infeasible":
        with stages.stage("diagnose"):
            # the elastic re-solve changes the model: it is no use to anyone after it
            MODEL_CACHE.drop(reuse_key(inputs, data))
            diagnosis = explain_infeasibility(inputs, built) if fixings is None else \
                fixings.diagnose(inputs, built, compiled)
        return _Run(unsolved(inputs, outcome, timings, diagnosis))
    if outcome.status not in ("optimal", "feasible"):
        return _Run(unsolved(inputs, outcome, timings))
    solution = solution_by_name(built.model)
    LAST_PLANS.put(plan_key, solution)
    if plan_only:  # no tables, no audit: the plan is a start, not a result
        return _Run(None, built, compiled, solution, outcome.npv_objective_usd, outcome.status)
    with stages.stage("extract"):
        results = extract(inputs, built, outcome, timings)
    with stages.stage("audit"):
        violations = audit_plan(inputs, results.campus_month, results.leases,
                                results.company_month, results.summary["npv_usd"])
    results.summary["extract_seconds"] = round(stages.seconds["extract"]
                                               + stages.seconds["audit"], 4)
    results.summary["model_reused"] = reused
    results.summary["search"] = _search_summary(outcome)
    if presolve is not None:
        results.summary["search"]["finance_start"] = {
            "seconds": round(stages.seconds["finance_start"], 3),
            "npv_usd": presolve.npv_usd, "status": presolve.status,
            "repair": repair.how, "repair_seconds": round(repair.seconds, 3)}
    results.summary["audit"] = {"passed": not violations, "violations": violations[:20]}
    return _Run(results, built, compiled)


# a start need not be proven near-optimal: its plan is improved by the funded solve
START_GAP_PCT = 2.0
# share of the time limit the start may use, and its repair as much again
START_SHARE = 0.25


def _finance_start_applies(inputs: Inputs) -> bool:
    finance = inputs.scenario.finance
    return inputs.scenario.solver.finance_start and (
        finance.debt is not None or finance.opening_cash_usd is not None
        or finance.btc_treasury_btc > 0)


def _finance_start(inputs: Inputs, fixings: Fixings | None) -> _Run | None:
    """The plan under the capex budget alone (no debt, cash floor or treasury), as a start
    for the funded model: its LP relaxation is far tighter, so its plan comes in seconds, and
    HiGHS, given its blocks and leases, finds the debt draws and BTC sales (or drops it when
    no financing can carry it). A start never changes the answer, only how soon a good plan
    is known. It may use a quarter of the time limit, and its repair (siteopt.start_repair)
    as much again."""
    scenario = inputs.scenario
    finance = scenario.finance.model_copy(update={
        "debt": None, "opening_cash_usd": None, "btc_treasury_btc": 0.0})
    solver = scenario.solver.model_copy(update={
        "time_limit_s": scenario.solver.time_limit_s * START_SHARE, "finance_start": False,
        "mip_gap_pct": max(scenario.solver.mip_gap_pct, START_GAP_PCT)})
    plain = dataclasses.replace(inputs, scenario=scenario.model_copy(
        update={"finance": finance, "solver": solver}))
    run = _solve(plain, fixings=fixings, plan_only=True)
    return run if run.solution is not None else None


# Variables of conversion: fixed at 0 for the mining-only baseline.
CONVERSION_VARIABLES = {"blocks_started", "lease_accepted", "split_start", "split_blocks",
                        "offer_at_campus", "tenant_funded", "spot_mw"}


def mining_only_changes(compiled: Compiled, running: Callable[[int], frozenset[str]]
                        ) -> BoundChanges:
    """The bound changes that make a compiled model its mining-only baseline: every
    conversion variable at 0 but the leases already running (`running(j)`: the running
    offers of column j's model), which are signed and what the company has today; signed
    leases' `= 1` rows become `≤ 1`."""
    columns = compiled.columns_of(CONVERSION_VARIABLES)
    keep = np.array([compiled.positions[j][0] == "lease_accepted"
                     and compiled.columns[j].index()[0] in running(j) for j in columns],
                    dtype=bool)
    level = keep.astype(float)
    rows = compiled.rows_of({"offer_accepted_once"})
    return BoundChanges(columns, level, level, rows, np.full(len(rows), -INF),
                        np.asarray(compiled.lp.row_upper_)[rows])


def _mining_only_baseline(inputs: Inputs, run: _Run) -> Results:
    compiled = run.compiled
    changes = mining_only_changes(compiled, lambda _: run.built.data.running)
    solver = inputs.scenario.solver
    outcome = solve_compiled(run.built.model, compiled, solver, changes=changes)
    timings = {"build": 0.0, "solve": outcome.solve_seconds}
    if outcome.status not in ("optimal", "feasible"):
        return unsolved(mining_only(inputs), outcome, timings)
    return extract(inputs, run.built, outcome, timings)


def _search_summary(outcome) -> dict[str, Any]:
    """How the MIP search went: first plan, bound after the root, time to 1 %."""
    trace = outcome.trace
    if trace is None:
        return {"start_used": outcome.start_used}
    root = None if trace.root_bound is None else trace.root_bound * USD_PER_OBJECTIVE_UNIT
    npv = outcome.npv_objective_usd
    return {"first_plan_seconds": trace.first_plan_seconds, "root_bound_usd": root,
            "root_gap_pct": None if root is None or not npv else 100 * (root - npv) / abs(npv),
            "seconds_to_1pct": trace.seconds_to_gap(1.0), "start_used": outcome.start_used}


# Price-only variants solved one after another in this process reuse the models built last,
# and every solve starts from the last plan of the same structure (a sweep's variants).
MODEL_CACHE = ModelCache(size=2)
LAST_PLANS = ModelCache(size=2)


def _built_and_compiled(inputs: Inputs, data, stages: _Stages
                        ) -> tuple[BuiltModel, Compiled, bool]:
    key = reuse_key(inputs, data)
    cached = MODEL_CACHE.get(key)
    if cached is not None:
        built, compiled = cached
        with stages.stage("build"):
            cash = record_cash(built.model, data)
            set_objective(compiled, *_objective_units(cash))
        compiled.compile_seconds = 0.0
        return BuiltModel(built.model, data, cash), compiled, True
    with stages.stage("build"):
        built = build_model(data)
    with stages.stage("compile"):
        compiled = compile_model(built.model)
    MODEL_CACHE.put(key, (built, compiled))
    return built, compiled, False


def _objective_units(cash) -> tuple[dict, float]:
    coefficients, constant = cash.objective_coefficients()
    return ({name: series / USD_PER_OBJECTIVE_UNIT for name, series in coefficients.items()},
            constant / USD_PER_OBJECTIVE_UNIT)


def expected_value_scenario(inputs: Inputs) -> Inputs:
    """The single scenario of a scenario's average future (`solve --expected-value`): each
    number its futures change averaged by probability, anything else at its most probable
    value; without the uncertainty section."""
    from siteopt.stochastic.futures import expected_value_inputs, future_inputs

    if inputs.scenario.uncertainty is None:
        return inputs
    average = expected_value_inputs(inputs, future_inputs(inputs))
    return dataclasses.replace(average, scenario=average.scenario.model_copy(update={
        "name": inputs.scenario.name,
        "description": (inputs.scenario.description + " (expected-value scenario)").strip()}))


def solve_scenario(path: str | Path, log: bool = False, **solver_overrides: Any) -> Results:
    return solve_inputs(with_solver_options(load_inputs(path), **solver_overrides), log=log)


def forced_in(inputs: Inputs, plan: Results, offer_ids: list[str],
              budget_s: float) -> dict[str, dict[str, Any]]:
    """Each declined offer solved again as a signed lease (it must then be delivered), each
    with an equal share of `budget_s` seconds: its NPV and how much worse the plan is with
    it. For the narrative, when no limit read from the tables explains a decline."""
    out: dict[str, dict[str, Any]] = {}
    if not offer_ids or plan.summary.get("npv_usd") is None:
        return out
    share = max(1.0, budget_s / len(offer_ids))
    for offer_id in offer_ids:
        offers = inputs.offers.copy()
        offers.loc[offer_id, "signed"] = True
        variant = with_solver_options(dataclasses.replace(inputs, offers=offers),
                                      time_limit_s=min(share,
                                                       inputs.scenario.solver.time_limit_s))
        result = solve_plan(variant)
        status = result.summary["status"]
        npv = result.summary.get("npv_usd") if status in ("optimal", "feasible") else None
        out[offer_id] = {"status": status, "npv_usd": npv, "seconds": round(share, 1),
                         "worse_by_usd": None if npv is None
                         else float(plan.summary["npv_usd"]) - float(npv),
                         "diagnosis": list(result.summary.get("diagnosis") or [])[:1]}
    return out


FORCED_IN_MAX_OFFERS = 3


def declines_to_force_in(plan: Results) -> list[str]:
    """The declined offers worth solving again forced in: those whose cause the tables do
    not show (at most FORCED_IN_MAX_OFFERS), and only on a plan proven to its MIP gap — on
    one stopped by its time limit, the difference would be as much the search's as the
    offer's."""
    from siteopt.export.narrative import unexplained_declines

    if plan.summary.get("status") != "optimal":
        return []
    return unexplained_declines(plan)[:FORCED_IN_MAX_OFFERS]


def explain_declines(inputs: Inputs, plan: Results, budget_s: float | None = None) -> Results:
    """The plan with `summary["forced_in"]` for each of `declines_to_force_in`, solved
    within `budget_s` seconds in all (default: twice the plan's own solve time, at least
    10 s)."""
    ids = declines_to_force_in(plan)
    if not ids:
        return plan
    budget = budget_s if budget_s is not None else \
        max(10.0, 2 * float(plan.summary.get("solve_seconds") or 0.0))
    return dataclasses.replace(plan, summary={**plan.summary,
                                              "forced_in": forced_in(inputs, plan, ids, budget)})
