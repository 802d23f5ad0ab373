"""Out-of-sample evaluation: a solved plan's here-and-now decisions kept in fresh futures.

plan folder → its here-and-now decisions (blocks started, miners sold, debt drawn and BTC
sold before month C = commit_months; every offer signed before C: taken with its campus and
start, or declined) → N futures drawn from the scenario's `uncertainty.sample` with another
seed → one job per future (plain data: the scenario file, the future's changes and path
factors, the decisions) → each worker loads the future, fixes the decisions and re-optimises
the rest (siteopt.api.solve_inputs with fixings) → NPV per future, and over all: expected
NPV with its 95 % confidence interval, CVaR, the chance of breaching the cash floor, and
how many futures cannot keep the commitments at all.

A future that cannot keep the decisions with its cash floor is solved again without the
floor (finance.opening_cash_usd unset): if that has a plan, the future *breaches the cash
floor* (its NPV is counted, from that plan); if not, it is *infeasible* (a block before a
permit that slipped there, a lease that cannot be delivered) and has no NPV — counted and
listed, never averaged in. An offer withdrawn in a future is not fixed there (accepting it
now means "take it if the tenant signs"), as in the stochastic plan.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siteopt.inputs import Inputs, load_inputs
from siteopt.inputs.errors import InputError, Problem, Problems
from siteopt.inputs.overrides import Override
from siteopt.inputs.schema import Sample
from siteopt.model import BuiltModel, prepare
from siteopt.replan.decisions import Decision, plan_decisions
from siteopt.replan.fixing import LEASE_VARIABLES, bound_changes, conflicts
from siteopt.solve import Compiled
from siteopt.stochastic import sampling
from siteopt.stochastic.metrics import cvar

SUCCESS = ("optimal", "feasible")
# decisions taken now when they take effect before month C (leases: by signing month)
NOW_VARIABLES = ("blocks_started", "miners_sold_mw", "debt_draw", "btc_sold")
Z_95 = 1.959963984540054  # two-sided 95 % normal quantile


@dataclass(frozen=True)
class Commitments:
    """The here-and-now decisions of a plan and the offers decided now (taken or not)."""

    decisions: tuple[Decision, ...]
    decided_offers: frozenset[str]
    commit_months: int
    source: str  # where they come from, for messages


@dataclass(frozen=True)
class HereAndNowFixings:
    """siteopt.api's Fixings: the commitments fixed in one future's model."""

    commitments: Commitments

    @property
    def until(self) -> int:
        return self.commitments.commit_months

    def fixed(self, built: BuiltModel) -> list[Decision]:
        offers = built.data.offers
        gone = {o for o in self.commitments.decided_offers
                if o not in offers.index or bool(offers.at[o, "withdrawn"])}
        kept = [d for d in self.commitments.decisions
                if d.variable not in LEASE_VARIABLES or d.index[0] not in gone]
        taken = {(d.variable, d.index) for d in kept}
        closed = []
        for name in LEASE_VARIABLES:  # an offer decided now and not taken: declined for good
            var = built.model.component(name)
            for index in (var if var is not None else ()):
                key = index if isinstance(index, tuple) else (index,)
                if key[0] in self.commitments.decided_offers and (name, key) not in taken:
                    closed.append(Decision(name, key, 0.0, int(key[-1]), ""))
        return kept + closed

    def changes(self, built: BuiltModel, compiled: Compiled):
        fixed = self.fixed(built)
        found = conflicts(fixed, built.model, built.data, self.commitments.source)
        return (None, found) if found else (bound_changes(fixed, compiled), [])

    def diagnose(self, inputs: Inputs, built: BuiltModel, compiled: Compiled) -> list[str]:
        return [f"the decisions taken now ({self.commitments.source}) leave this future no "
                f"feasible plan"]


# -- the plan's commitments -------------------------------------------------------------------


def commitments(result_dir: Path, inputs: Inputs, commit_months: int) -> Commitments:
    """The here-and-now decisions of the plan in `result_dir`, indexed for `inputs`' model:
    a stochastic plan's are those of its futures (the same in each), a plain plan's those of
    its one plan that take effect before `commit_months`."""
    from siteopt.export.results_folder import load_results

    plan = load_results(result_dir)
    summary = plan.summary
    if summary.get("status") not in SUCCESS or not len(plan.campus_month):
        raise InputError([Problem(str(result_dir), f"holds no plan to evaluate (status "
                                                   f"{summary.get('status')})")])
    stochastic = summary.get("stochastic")
    if stochastic:
        commit_months = int(stochastic["commit_months"])
    data = prepare(inputs)
    decided = frozenset(o for o, s in data.signing_month.items() if s < commit_months)
    sources = list(plan.futures.values()) if stochastic else [plan]
    if not sources:
        raise InputError([Problem(str(result_dir), "a plan across futures without its "
                                                   "futures' folders (scenarios/)")])
    first = plan_decisions(sources[0].campus_month, sources[0].leases,
                           sources[0].company_month, data)
    now = [d for d in first.decisions if d.variable in NOW_VARIABLES and d.month < commit_months]
    leases: dict[str, list[Decision]] = {}
    for source in sources:  # an offer may be withdrawn in some futures: take it where it is
        found = first if source is sources[0] else plan_decisions(
            source.campus_month, source.leases, source.company_month, data)
        mine: dict[str, list[Decision]] = {}
        for d in found.decisions:
            if d.variable in LEASE_VARIABLES and d.index[0] in decided:
                mine.setdefault(d.index[0], []).append(d)
        for offer, ds in mine.items():
            leases.setdefault(offer, ds)  # the same decision in every future that has it
    taken = [d for ds in leases.values() for d in ds]
    return Commitments(tuple(now + taken), decided, commit_months, f"the plan in {result_dir}")


# -- jobs: one future each, plain data ------------------------------------------------------


@dataclass(frozen=True)
class FutureJob:
    position: int
    name: str
    scenario_file: str
    portfolio: str | None
    changes: tuple[Override, ...]
    btc_factor: tuple[float, ...]
    hashrate_factor: tuple[float, ...]
    commitments: Commitments
    solver: tuple[tuple[str, Any], ...] = ()


def plan_jobs(inputs: Inputs, sample: Sample, commits: Commitments,
              solver: dict[str, Any] | None = None) -> list[FutureJob]:
    """One job per sampled future of `sample` (drawn here, in one process)."""
    where = f"scenario {inputs.scenario_path.name}: uncertainty.sample"
    draws = sampling.draws(inputs, sample, where)
    portfolio = str(inputs.portfolio_path)
    return [FutureJob(i, d.name, str(inputs.scenario_path), portfolio,
                      (*inputs.overrides, *d.changes), tuple(map(float, d.btc_factor)),
                      tuple(map(float, d.hashrate_factor)), commits,
                      tuple(sorted((solver or {}).items())))
            for i, d in enumerate(draws)]


@functools.lru_cache(maxsize=8)
def _scenario_inputs(scenario_file: str, portfolio: str | None) -> Inputs:
    return load_inputs(scenario_file, portfolio)


def future_of(job: FutureJob) -> Inputs:
    """The job's future as inputs (raises InputError when they cannot be loaded)."""
    from siteopt.api import with_solver_options
    from siteopt.stochastic.futures import load_future

    base = _scenario_inputs(job.scenario_file, job.portfolio)
    problems = Problems()
    own = [c for c in job.changes if c not in base.overrides]
    loaded = load_future(base, own, f"future {job.name}", problems)
    problems.raise_if_any()
    draw = sampling.Draw(job.name, job.changes, np.array(job.btc_factor),
                         np.array(job.hashrate_factor), "")
    ready = sampling.with_market(loaded, sampling.drawn_market(loaded, draw),
                                 f"future {job.name}", problems)
    problems.raise_if_any()
    return with_solver_options(ready, **dict(job.solver))


def _paths(results, inputs: Inputs) -> dict[str, list[float]]:
    cm = results.company_month
    cm = cm[cm["in_horizon"].astype(bool)]
    opening = inputs.scenario.finance.opening_cash_usd or 0.0
    cash = opening + np.cumsum(cm["net_cash_usd"].to_numpy(float))
    campus = results.campus_month
    campus = campus[campus["in_horizon"].astype(bool)]
    ready = campus.groupby("month", sort=True)["it_ready_mw"].sum()
    return {"cash_usd": [float(v) for v in cash],
            "it_ready_mw": [float(v) for v in ready.to_numpy(float)]}


def evaluate_future(job: FutureJob) -> dict[str, Any]:
    """Solve one future with the commitments fixed; never raises for a bad future."""
    from siteopt.api import solve_inputs

    started = time.perf_counter()
    row: dict[str, Any] = {"position": job.position, "future": job.name,
                           "changes": "; ".join(c.label for c in job.changes
                                                if c.label) or "as the scenario",
                           "npv_usd": None, "cash_floor": None, "reason": ""}
    try:
        inputs = future_of(job)
    except InputError as exc:
        return {**row, "status": "input_error", "reason": str(exc.problems[0]),
                "seconds": time.perf_counter() - started}
    fixings = HereAndNowFixings(job.commitments)
    results = solve_inputs(inputs, baseline=False, fixings=fixings)
    status = results.summary["status"]
    floor = inputs.scenario.finance.opening_cash_usd is not None
    row["cash_floor"] = "kept" if floor else None
    if status == "infeasible" and floor:
        finance = inputs.scenario.finance.model_copy(update={"opening_cash_usd": None})
        relaxed = dataclasses.replace(inputs, scenario=inputs.scenario.model_copy(
            update={"finance": finance}))
        again = solve_inputs(relaxed, baseline=False, fixings=fixings)
        if again.summary["status"] in SUCCESS:
            row.update(cash_floor="breached", reason="the cash floor cannot be kept")
            results, status = again, "cash_floor_breached"
    if results.summary["status"] in SUCCESS:
        row.update(npv_usd=float(results.summary["npv_usd"]), **_paths(results, inputs))
    else:
        reasons = results.summary.get("diagnosis") or [f"status {status}"]
        row.update(cash_floor=None, reason=str(reasons[0]))
    return {**row, "status": status, "seconds": time.perf_counter() - started}


# -- running the jobs: local processes or a Dask cluster ------------------------------------


def run_jobs(jobs: list[FutureJob], workers: int = 1, scheduler: str | None = None,
             on_row: Callable[[dict[str, Any]], None] | None = None,
             spawn: bool = False) -> list[dict[str, Any]]:
    """Every job's row, in job order, solved on `workers` local processes (1: in this
    process, unless `spawn`) or on the Dask cluster at `scheduler`."""
    notify = on_row or (lambda row: None)
    rows: dict[int, dict[str, Any]] = {}
    for job, row in _answers(jobs, workers, scheduler, spawn):
        rows[job.position] = row
        notify(row)
    return [rows[j.position] for j in jobs]


def _failed_row(job: FutureJob, error: str) -> dict[str, Any]:
    return {"position": job.position, "future": job.name, "status": "error", "npv_usd": None,
            "cash_floor": None, "reason": error, "seconds": 0.0, "changes": ""}


def _answers(jobs: list[FutureJob], workers: int, scheduler: str | None, spawn: bool
             ) -> Iterator[tuple[FutureJob, dict[str, Any]]]:
    if scheduler:
        yield from _dask_answers(jobs, scheduler)
        return
    if workers <= 1 and not spawn:
        for job in jobs:
            yield job, evaluate_future(job)
        return
    from siteopt.runs.local_pool import Died, Raised
    from siteopt.runs.local_pool import run_jobs as pool_jobs

    for job, answer in pool_jobs(jobs, evaluate_future, min(workers, len(jobs))):
        if isinstance(answer, Died):
            yield job, _failed_row(job, f"worker died ({answer.reason})")
        elif isinstance(answer, Raised):
            yield job, _failed_row(job, answer.error)
        else:
            yield job, answer


def _dask_answers(jobs: list[FutureJob], scheduler: str
                  ) -> Iterable[tuple[FutureJob, dict[str, Any]]]:
    from siteopt.runs.batch import reachable_scheduler

    try:
        from distributed import Client
    except ImportError:
        raise InputError([Problem("--scheduler", "Dask is not installed: pip install "
                                                 "'siteopt[dask]'")]) from None
    address = reachable_scheduler(scheduler)
    client = Client(address, timeout="20s", set_as_default=False)
    try:
        futures = client.map(evaluate_future, jobs, pure=False,
                             key=[f"siteopt-evaluate-{j.name}-{j.position}" for j in jobs])
        for future, job in zip(futures, jobs):  # in order: each waits for its own
            exc = future.exception()  # waits for the future
            if exc is not None:
                yield job, _failed_row(job, f"{type(exc).__name__}: {exc}")
            else:
                yield job, future.result()
    finally:
        client.close()


# -- the measures -----------------------------------------------------------------------------


def measures(rows: list[dict[str, Any]], alpha_pct: float) -> dict[str, Any]:
    """Expected NPV (mean over the futures with an NPV, each equally likely) with its 95 %
    confidence interval (normal approximation, sample standard deviation), CVaR of the
    worst alpha, percentiles, the share breaching the cash floor and the count that cannot
    keep the commitments."""
    npvs = [r["npv_usd"] for r in rows if r.get("npv_usd") is not None]
    n, total = len(npvs), len(rows)
    out: dict[str, Any] = {
        "futures": total, "futures_with_npv": n,
        "infeasible": sum(r["status"] == "infeasible" for r in rows),
        "errors": sum(r["status"] not in (*SUCCESS, "infeasible", "cash_floor_breached")
                      for r in rows),
        "cash_floor_tracked": any(r.get("cash_floor") is not None for r in rows),
        "cash_floor_breached": sum(r.get("cash_floor") == "breached" for r in rows),
        "cvar_alpha_pct": alpha_pct}
    out["p_cash_floor_breach_pct"] = 100 * out["cash_floor_breached"] / total \
        if out["cash_floor_tracked"] and total else None
    out["p_infeasible_pct"] = 100 * out["infeasible"] / total if total else None
    if not n:
        return {**out, "expected_npv_usd": None, "ci95_low_usd": None, "ci95_high_usd": None,
                "std_npv_usd": None, "cvar_npv_usd": None}
    values = np.array(npvs, dtype=float)
    mean = float(values.mean())
    sd = float(values.std(ddof=1)) if n > 1 else 0.0
    half = Z_95 * sd / math.sqrt(n) if n > 1 else None
    p5, p50, p95 = (float(v) for v in np.percentile(values, [5, 50, 95]))
    return {**out, "expected_npv_usd": mean, "std_npv_usd": sd,
            "ci95_low_usd": None if half is None else mean - half,
            "ci95_high_usd": None if half is None else mean + half,
            "cvar_npv_usd": float(cvar(list(values), [1 / n] * n, alpha_pct / 100)),
            "p5_npv_usd": p5, "median_npv_usd": p50, "p95_npv_usd": p95,
            "min_npv_usd": float(values.min()), "max_npv_usd": float(values.max())}
