"""Solving a scenario with an `uncertainty` section: the stochastic plan and its measures.

futures (each future's inputs) → ensemble (model data, here-and-now decisions) → extensive
form (mpi-sppy, one siteopt model per future) → compile and solve (HiGHS, the scenario's
options) → each future's tables and audit → the mining-only baseline (the same extensive
form with conversion fixed at 0) → wait-and-see (each future alone) and the expected-value
plan (the average future solved, its here-and-now decisions fixed in every future) → the
expected tables and the `stochastic` summary.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from siteopt.contract import (
    CAMPUS_MONTH_COLUMNS,
    COMPANY_MONTH_COLUMNS,
    HERE_AND_NOW_COLUMNS,
    SCENARIO_COLUMNS,
)
from siteopt.inputs import Inputs
from siteopt.model import BuiltModel
from siteopt.model.objective import USD_PER_OBJECTIVE_UNIT
from siteopt.results.audit import audit_plan
from siteopt.results.diagnose import undeliverable_signed_leases
from siteopt.results.extract import Results, extract
from siteopt.results.summary import infeasible, run_summary, unsolved, with_kpis
from siteopt.solve import (
    BoundChanges,
    Compiled,
    SolveOutcome,
    _component_values,
    compile_model,
    solve_compiled,
)
from siteopt.stochastic.futures import (
    FutureInputs,
    describe_changes,
    expected_value_inputs,
    future_inputs,
)
from siteopt.stochastic.here_and_now import describe
from siteopt.stochastic.metrics import cvar, expected
from siteopt.stochastic.sampling import futures_table
from siteopt.stochastic.scenario_model import (
    Ensemble,
    ensemble,
    expected_objective,
    extensive_form,
    withdrawn,
)

StageCallback = Callable[[str, float], None]


@dataclass
class _Solved:
    """The extensive form as solved: its model, compiled form and each future's model."""

    ens: Ensemble
    ef: pyo.ConcreteModel
    compiled: Compiled
    built: list[BuiltModel]
    outcome: SolveOutcome
    expected: Compiled  # the same with the expected NPV as objective (`compiled` when w = 0)


def _stages(on_stage: StageCallback | None):
    from siteopt.api import _Stages

    return _Stages(on_stage)


def solve_stochastic(inputs: Inputs, log: bool = False, baseline: bool = True,
                     on_stage: StageCallback | None = None, measures: bool = True
                     ) -> Results:
    """The stochastic plan of a scenario with an uncertainty section. `measures`: also the
    wait-and-see and expected-value solves (VSS and EVPI)."""
    uncertainty = inputs.scenario.uncertainty
    stages = _stages(on_stage)
    with stages.stage("prepare"):
        futures = future_inputs(inputs)
        ens = ensemble(futures, uncertainty.commit_months, uncertainty.risk.cvar_alpha_pct,
                       uncertainty.risk.cvar_weight_pct)
    with stages.stage("precheck"):
        impossible = [f"{f.name}: {line}" for f, data in zip(ens.futures, ens.data)
                      for line in undeliverable_signed_leases(data)]
    if impossible:
        return infeasible(inputs, impossible, {"build": sum(stages.seconds.values()),
                                               "solve": 0.0})
    with stages.stage("build"):
        ef, built = extensive_form(ens)
    with stages.stage("compile"):
        compiled = compile_model(ef)
        expected_form = compiled
        if ens.cvar_weight > 0:
            with expected_objective(ef):
                expected_form = compile_model(ef)
    outcome = solve_compiled(ef, compiled, inputs.scenario.solver, log=log)
    if ens.cvar_weight >= 1 and outcome.status in ("optimal", "feasible"):
        outcome = _best_recourse(ef, expected_form, outcome, inputs.scenario.solver)
    if on_stage is not None:
        on_stage("solve", outcome.solve_seconds)
    timings = {"build": sum(stages.seconds.values()), "solve": outcome.solve_seconds}
    if outcome.status not in ("optimal", "feasible"):
        diagnosis = _why_infeasible(ens) if outcome.status == "infeasible" else []
        return unsolved(inputs, outcome, timings, diagnosis)
    solved = _Solved(ens, ef, compiled, built, outcome, expected_form)
    with stages.stage("extract"):
        plans = [_future_results(solved, i, outcome, timings) for i in range(len(futures))]
        here_and_now = _here_and_now_table(solved)
    bases: list[Results | None] = [None] * len(futures)
    if baseline:
        with stages.stage("baseline"):
            bases = _baselines(solved)
    plans = [with_kpis(f.inputs, plan, base) for f, plan, base in zip(futures, plans, bases)]
    values: dict[str, Any] = {}
    if measures:
        with stages.stage("measures"):
            values = _measures(inputs, solved, futures)
    results = _combined(inputs, solved, plans, bases, here_and_now, values, timings)
    results.summary["stochastic"]["stage_seconds"] = {
        name: round(seconds, 3) for name, seconds in
        {**stages.seconds, "solve": outcome.solve_seconds}.items()}
    return results


def _fixing(compiled: Compiled, names: set[str], values: dict[str, np.ndarray]
            ) -> BoundChanges:
    """Columns of `names` fixed at `values` (by component name, then position)."""
    columns = compiled.columns_of(names)
    level = np.array([values[compiled.positions[j][0]][compiled.positions[j][1]]
                      for j in columns], dtype=float)
    none = np.zeros(0, dtype=np.int64)
    return BoundChanges(columns, level, level, none, np.zeros(0), np.zeros(0))


def _best_recourse(ef: pyo.ConcreteModel, expected_form: Compiled, outcome: SolveOutcome,
                   solver) -> SolveOutcome:
    """At a CVaR weight of 100 % the futures outside the tail do not count, so their plans
    could be anything: with what is decided now and the value at risk kept, each future is
    planned again for its own NPV. No future's NPV falls, so the CVaR stays optimal."""
    first = {name: outcome.values[name] for name in ("here_and_now", "value_at_risk_musd")
             if name in outcome.values}
    changes = _fixing(expected_form, set(first), first)
    again = solve_compiled(ef, expected_form, solver, changes=changes)
    if again.status not in ("optimal", "feasible"):
        return outcome  # cannot happen (the first plan is feasible); keep it if it does
    return dataclasses.replace(again, npv_objective_usd=outcome.npv_objective_usd,
                               best_bound_usd=outcome.best_bound_usd,
                               mip_gap_pct=outcome.mip_gap_pct,
                               solve_seconds=outcome.solve_seconds + again.solve_seconds)


def _why_infeasible(ens: Ensemble) -> list[str]:
    from siteopt.api import _solve

    alone = [f.name for f in ens.futures
             if _solve(f.inputs, plan_only=True).status not in ("optimal", "feasible")]
    if alone:
        return [f"future {name} has no feasible plan even on its own" for name in alone]
    return [f"every future has a plan on its own, but no decisions taken before month "
            f"{ens.commit_months} of the horizon suit them all: a signed lease or a cash "
            f"floor needs in one future what another forbids; lower "
            f"uncertainty.commit_months or review the futures"]


def _block_values(built: BuiltModel) -> tuple[dict[str, np.ndarray], float]:
    npv = pyo.value(built.model.npv.expr) * USD_PER_OBJECTIVE_UNIT
    return _component_values(built.model), npv


def _future_results(solved: _Solved, i: int, outcome: SolveOutcome,
                    timings: dict[str, float]) -> Results:
    future, built = solved.ens.futures[i], solved.built[i]
    values, npv = _block_values(built)
    mine = dataclasses.replace(outcome, values=values, npv_objective_usd=npv)
    results = extract(future.inputs, built, mine, timings)
    violations = audit_plan(future.inputs, results.campus_month, results.leases,
                            results.company_month, results.summary["npv_usd"])
    results.summary["audit"] = {"passed": not violations, "violations": violations[:20]}
    results.summary["scenario"] = future.name
    results.summary["probability_pct"] = round(future.probability * 100, 9)
    results.summary["changes"] = describe_changes(future)
    return results


def _here_and_now_values(solved: _Solved) -> np.ndarray:
    block = solved.built[0].model
    return np.array([0.0 if v.value is None else float(v.value)
                     for v in block.here_and_now.values()])


def _here_and_now_table(solved: _Solved) -> pd.DataFrame:
    """Every here-and-now decision taken (the zeros — what is not done — left out); miners
    sold are shown as the MW sold in each month (the model holds the MW sold so far)."""
    data = solved.ens.data[0]
    values = _here_and_now_values(solved)
    sold_before: dict[str, float] = {}
    rows = []
    for key, value in zip(solved.ens.keys, values):
        if key.kind == "miners_sold_mw":
            campus = key.index[0]
            value, sold_before[campus] = value - sold_before.get(campus, 0.0), value
        # described from a future where the offer exists (it may be withdrawn in others)
        where = next((d for d in solved.ens.data
                      if key.offer_id is None or key.offer_id in d.offers.index), data)
        if abs(value) > 1e-9 and key.offer_id not in where.running:  # running: decided
            rows.append(describe(key, value, where))
    return pd.DataFrame(rows, columns=HERE_AND_NOW_COLUMNS)


def _block_of(compiled: Compiled, built: list[BuiltModel]) -> np.ndarray:
    """The future (position) of every column of the extensive form (-1: none)."""
    position = {id(b.model): i for i, b in enumerate(built)}
    out = np.full(len(compiled.columns), -1)
    for j, var in enumerate(compiled.columns):
        parent = var.parent_block()
        out[j] = position.get(id(parent), -1)
    return out


def _baselines(solved: _Solved) -> list[Results | None]:
    """The mining-only plan of every future under the same non-anticipativity: conversion
    fixed at 0 (leases already running stay), solved as one extensive form."""
    from siteopt.api import mining_only_changes

    compiled, ens = solved.expected, solved.ens
    owner = _block_of(compiled, solved.built)
    changes = mining_only_changes(compiled, lambda j: ens.data[owner[j]].running)
    outcome = solve_compiled(solved.ef, compiled, ens.futures[0].inputs.scenario.solver,
                             changes=changes)
    timings = {"build": 0.0, "solve": outcome.solve_seconds}
    if outcome.status not in ("optimal", "feasible"):
        return [unsolved(f.inputs, outcome, timings) for f in ens.futures]
    out = []
    for future, built in zip(ens.futures, solved.built):
        values, npv = _block_values(built)
        mine = dataclasses.replace(outcome, values=values, npv_objective_usd=npv)
        out.append(extract(future.inputs, built, mine, timings))
    return out


# -- wait-and-see and the expected-value plan --------------------------------------------


def _alone(inputs: Inputs) -> tuple[float | None, dict | None]:
    from siteopt.api import _solve

    run = _solve(inputs, plan_only=True)
    if run.status not in ("optimal", "feasible"):
        return None, None
    return run.npv_usd, run.solution


def _measures(inputs: Inputs, solved: _Solved, futures: list[FutureInputs]) -> dict[str, Any]:
    probabilities = [f.probability for f in futures]
    alone = [_alone(f.inputs)[0] for f in futures]
    wait_and_see = None if any(v is None for v in alone) else \
        math.fsum(p * v for p, v in zip(probabilities, alone))
    ev_npv, ev_note = _expected_value_plan(inputs, solved, futures)
    return {"wait_and_see_npv_usd": wait_and_see, "wait_and_see_by_scenario": alone,
            "ev_plan_expected_npv_usd": ev_npv, "ev_plan_note": ev_note}


def _cannot_follow(ens: Ensemble, fixed: np.ndarray) -> str | None:
    """Why some future cannot take the expected-value plan's decisions, in words (None: no
    decision is missing from a future; the solve then tells)."""
    for key, value in zip(ens.keys, fixed):
        if abs(value) <= 1e-9:
            continue
        unable = [f.name for f, present in zip(ens.futures, ens.present)
                  if key not in present and key.offer_id not in withdrawn(f)]
        if unable:
            where = next(d for d, present in zip(ens.data, ens.present) if key in present)
            return (f"the expected-value plan would {describe(key, value, where)['description']}"
                    f", which {', '.join(unable)} cannot (a permit, a deadline or a campus "
                    f"that differs there)")
    return None


def _expected_value_plan(inputs: Inputs, solved: _Solved, futures: list[FutureInputs]
                         ) -> tuple[float | None, str]:
    """Expected NPV when the average future's here-and-now decisions are taken and every
    future then does its best with them (None, and why, when some future cannot)."""
    average = expected_value_inputs(inputs, futures)
    npv, plan = _alone(average)
    if plan is None:
        return None, "the expected-value scenario has no plan"
    fixed = np.array([plan.get((key.kind, key.index), 0.0) for key in solved.ens.keys])
    blocked = _cannot_follow(solved.ens, fixed)
    if blocked:
        return None, blocked
    compiled = solved.expected
    changes = _fixing(compiled, {"here_and_now"}, {"here_and_now": fixed})
    outcome = solve_compiled(solved.ef, compiled, inputs.scenario.solver, changes=changes)
    if outcome.status not in ("optimal", "feasible"):
        return None, ("the expected-value plan's here-and-now decisions cannot be kept in "
                      "every future")
    probabilities = [f.probability for f in futures]
    npvs = [_block_values(b)[1] for b in solved.built]
    return math.fsum(p * v for p, v in zip(probabilities, npvs)), \
        f"expected-value scenario NPV {npv:,.0f} USD"


def _gap_note(solved: _Solved) -> str:
    gap = solved.ens.futures[0].inputs.scenario.solver.mip_gap_pct
    outcome = solved.outcome
    spread = None if outcome.best_bound_usd is None or outcome.npv_objective_usd is None \
        else abs(outcome.best_bound_usd - outcome.npv_objective_usd)
    shown = "" if spread is None else f" (here {spread:,.0f} USD)"
    return (f"Every solve stops within a MIP gap of {gap:g} %{shown}: the expected NPV, the "
            f"wait-and-see NPV and the expected-value plan's NPV are each that close to their "
            f"optimum, so a VSS or EVPI smaller than the gap is not told apart from 0.")


# -- the combined result --------------------------------------------------------------------


def _scenario_rows(futures: list[FutureInputs], plans: list[Results],
                   bases: list[Results | None]) -> pd.DataFrame:
    rows = []
    for future, plan, base in zip(futures, plans, bases):
        cm, leases = plan.campus_month, plan.leases
        horizon = cm[cm["in_horizon"]]
        last = horizon["month"].max()
        started = horizon.loc[horizon["blocks_started"] > 0, "month"]
        taken = leases.loc[leases["accepted"].astype(bool), "offer_id"] \
            if len(leases) else pd.Series([], dtype=object)
        base_npv = None if base is None else base.summary.get("npv_usd")
        npv = plan.summary["npv_usd"]
        rows.append({
            "scenario": future.name, "probability_pct": future.probability * 100,
            "status": plan.summary["status"], "npv_usd": npv, "baseline_npv_usd": base_npv,
            "value_added_usd": None if base_npv is None else npv - base_npv,
            "it_mw_ready_at_end": float(horizon.loc[horizon["month"] == last,
                                                    "it_ready_mw"].sum()),
            "leases_taken": ";".join(dict.fromkeys(taken)),
            "first_block_month": started.min() if len(started) else None,
            "changes": describe_changes(future)})
    return pd.DataFrame(rows, columns=SCENARIO_COLUMNS)


def _expected_results(inputs: Inputs, plans: list[Results], probabilities: list[float],
                      summary: dict[str, Any]) -> Results:
    campus_month = expected([p.campus_month for p in plans], probabilities,
                            ["campus_id", "month"], CAMPUS_MONTH_COLUMNS)
    company_month = expected([p.company_month for p in plans], probabilities, ["month"],
                             COMPANY_MONTH_COLUMNS)
    # the leases signed now are the same in every future: the first future's rows of them
    leases = plans[0].leases
    now = set(summary.get("here_and_now_offers") or ())
    leases = leases[leases["offer_id"].isin(now) & leases["accepted"].astype(bool)]
    return Results(summary, campus_month, leases.reset_index(drop=True), company_month,
                   assumptions=plans[0].assumptions)


def _combined(inputs: Inputs, solved: _Solved, plans: list[Results],
              bases: list[Results | None], here_and_now: pd.DataFrame,
              values: dict[str, Any], timings: dict[str, float]) -> Results:
    futures = list(solved.ens.futures)
    probabilities = [f.probability for f in futures]
    npvs = [p.summary["npv_usd"] for p in plans]
    expected_npv = math.fsum(p * v for p, v in zip(probabilities, npvs))
    outcome = solved.outcome
    summary = run_summary(inputs, outcome, expected_npv, timings)
    from siteopt.api import _search_summary

    summary["search"] = _search_summary(outcome)
    risk = inputs.scenario.uncertainty.risk
    summary["stochastic"] = _stochastic_block(solved, plans, bases, npvs, expected_npv,
                                              risk.cvar_alpha_pct, risk.cvar_weight_pct, values)
    violations = [f"{f.name}: {v}" for f, p in zip(futures, plans)
                  for v in p.summary["audit"]["violations"]]
    summary["audit"] = {"passed": all(p.summary["audit"]["passed"] for p in plans),
                        "violations": violations[:20]}
    summary["here_and_now_offers"] = sorted(
        {str(o) for o in here_and_now["offer_id"].dropna()
         if here_and_now.loc[here_and_now["offer_id"] == o, "kind"].isin(
             ["lease_accepted", "split_start"]).any()})
    top = _expected_results(inputs, plans, probabilities, summary)
    base_top = None
    if all(b is not None and b.summary["status"] in ("optimal", "feasible") for b in bases):
        base_npv = math.fsum(p * b.summary["npv_usd"] for p, b in zip(probabilities, bases))
        base_top = _expected_results(inputs, bases, probabilities,
                                     {**bases[0].summary, "npv_usd": base_npv})
    top = with_kpis(inputs, top, base_top)
    extra = {"here_and_now": here_and_now,
             "scenarios": _scenario_rows(futures, plans, bases)}
    if any(f.drawn_path for f in futures):  # sampled or read paths: shown, and reusable
        extra["futures"] = futures_table([f.name for f in futures],
                                         [f.inputs.market for f in futures])
    return dataclasses.replace(top, extra=extra,
                               futures={f.name: p for f, p in zip(futures, plans)})


def _stochastic_block(solved: _Solved, plans: list[Results], bases: list[Results | None],
                      npvs: list[float], expected_npv: float, alpha_pct: float,
                      weight_pct: float, values: dict[str, Any]) -> dict[str, Any]:
    futures = solved.ens.futures
    probabilities = [f.probability for f in futures]
    ws, ev = values.get("wait_and_see_npv_usd"), values.get("ev_plan_expected_npv_usd")
    alone = values.get("wait_and_see_by_scenario") or [None] * len(futures)
    objective = solved.outcome.npv_objective_usd
    return {
        "expected_npv_usd": expected_npv,
        "cvar_npv_usd": cvar(npvs, probabilities, alpha_pct / 100),
        "cvar_alpha_pct": alpha_pct,
        "cvar_weight_pct": weight_pct,
        "objective_usd": objective,
        "commit_months": solved.ens.commit_months,
        "here_and_now_decisions": len(solved.ens.keys),
        "ev_plan_expected_npv_usd": ev,
        "ev_plan_note": values.get("ev_plan_note"),
        "vss_usd": None if ev is None else expected_npv - ev,
        "wait_and_see_npv_usd": ws,
        "evpi_usd": None if ws is None else ws - expected_npv,
        "note": _gap_note(solved),
        "scenarios": [{"name": f.name, "probability_pct": f.probability * 100,
                       "npv_usd": p.summary["npv_usd"], "status": p.summary["status"],
                       "baseline_npv_usd": None if b is None else b.summary.get("npv_usd"),
                       "wait_and_see_npv_usd": a, "changes": describe_changes(f)}
                      for f, p, b, a in zip(futures, plans, bases, alone)],
    }
