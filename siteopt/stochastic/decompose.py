"""`siteopt solve --decompose`: the stochastic plan by progressive hedging over MPI.

launch (or, already under mpiexec/srun, run in this process) → siteopt.stochastic.wheel on
every rank: mpi-sppy's PH hub, an xhat spoke (incumbents) and a Lagrangian spoke (bounds)
→ the incumbent's here-and-now decisions → each future re-solved alone with them fixed (its
own plan, as in the extensive form once those decisions are known) → the result folder of
the extensive form (siteopt.stochastic.run's tables), its objective the incumbent's and its
bound the best outer bound, so the gap is the decomposition's.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from siteopt.inputs import Inputs
from siteopt.model.objective import USD_PER_OBJECTIVE_UNIT
from siteopt.results.extract import Results
from siteopt.results.summary import unsolved
from siteopt.solve import SolveOutcome, compile_model, solve_compiled

MPI_EXTRA = "pip install 'siteopt[mpi]'"
CYLINDERS = 3  # PH hub, xhat spoke, Lagrangian spoke: mpi-sppy needs a multiple of 3 ranks
# environment variables an MPI launcher sets for its ranks (MPICH/hydra and srun --mpi=pmi2:
# PMI_SIZE; Open MPI: OMPI_COMM_WORLD_SIZE; Intel MPI/hydra: MPI_LOCALNRANKS; srun:
# SLURM_STEP_NUM_TASKS)
_WORLD_SIZE = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS", "SLURM_STEP_NUM_TASKS")


class MpiUnavailable(RuntimeError):
    """MPI cannot be used here: the message says what to install."""


@dataclass(frozen=True)
class Decomposition:
    """How the decomposition runs. Stop rule: the relative gap between the incumbent and the
    best outer bound reaches `gap_pct` (default: the scenario's solver.mip_gap_pct), or the
    time limit (default: solver.time_limit_s), or `max_iterations` PH iterations, or
    `max_stalled_iterations` iterations without a better bound, or when PH's copies agree
    (its convergence metric below `convergence_threshold`; negative: never)."""

    ranks: int = CYLINDERS
    rho: float = 1.0  # PH's penalty per unit of a here-and-now decision [million USD]
    max_iterations: int = 500
    max_stalled_iterations: int = 100
    gap_pct: float | None = None
    time_limit_s: float | None = None
    rank_peak_mb: float | None = None  # the largest rank's peak resident memory
    futures_per_rank: int | None = None  # the most futures (models) one rank held
    convergence_threshold: float = 1e-10  # mpi-sppy's intra_hub_conv_thresh (its default)

    def job(self, inputs: Inputs) -> dict[str, Any]:
        solver = inputs.scenario.solver
        return {"rho": self.rho, "max_iterations": self.max_iterations,
                "max_stalled_iterations": self.max_stalled_iterations,
                "convergence_threshold": self.convergence_threshold,
                "gap_pct": solver.mip_gap_pct if self.gap_pct is None else self.gap_pct,
                "time_limit_s": solver.time_limit_s if self.time_limit_s is None
                else self.time_limit_s}


def under_mpi() -> bool:
    """Whether this process is one rank of several started by mpiexec or srun."""
    return any(int(os.environ.get(name, "1") or 1) > 1 for name in _WORLD_SIZE)


def mpiexec() -> str | None:
    """The MPI launcher: SITEOPT_MPIEXEC, else the one next to this Python (pip's mpich
    puts it in the environment's bin), else mpiexec on the PATH."""
    given = os.environ.get("SITEOPT_MPIEXEC")
    if given:
        return shutil.which(given) or given
    beside = Path(sys.executable).parent / "mpiexec"
    return str(beside) if beside.exists() else shutil.which("mpiexec")


def installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def check_available() -> None:
    """Raise MpiUnavailable, naming the extra to install, when MPI cannot run here."""
    if not installed("mpi4py"):
        raise MpiUnavailable(f"--decompose needs mpi4py and an MPI runtime, which are not "
                             f"installed: {MPI_EXTRA} (brings mpi4py and mpich)")
    if not under_mpi() and mpiexec() is None:
        raise MpiUnavailable(f"--decompose needs an MPI launcher (mpiexec), none was found: "
                             f"{MPI_EXTRA} (brings mpich's mpiexec), or start siteopt under "
                             f"your site's mpiexec/srun")


def check_ranks(ranks: int) -> None:
    if ranks < CYLINDERS or ranks % CYLINDERS:
        raise MpiUnavailable(f"--ranks {ranks}: the decomposition runs three cylinders (PH "
                             f"hub, inner-bound and outer-bound spokes) on equal shares of "
                             f"the ranks; give a multiple of {CYLINDERS}")


@dataclass(frozen=True)
class Incumbent:
    """What the MPI run found: the here-and-now decisions of its best plan (in the
    ensemble's key order, the value at risk last with a CVaR weight) and the bounds on the
    objective (objective units), with how long and how far it went."""

    first_stage: list[float] | None
    inner_bound: float | None
    outer_bound: float | None
    rel_gap_pct: float | None
    iterations: int
    ranks: int
    prepare_seconds: float
    seconds: float
    # why it stopped: "gap" (reached the target), "time_limit", "iterations" or "stalled"
    stop_reason: str = "unknown"
    time_limit_s: float | None = None
    rank_peak_mb: float | None = None  # the largest rank's peak resident memory
    futures_per_rank: int | None = None  # the most futures (models) one rank held


STOP_REASONS = {"gap": "the gap between the bounds reached the target",
                "time_limit": "time limit reached",
                "iterations": "the iteration limit reached",
                "stalled": "no better bound for many iterations (or PH's copies agreed)"}


def incumbent(inputs: Inputs, scenario: Path, portfolio: Path | None,
              solver_overrides: dict[str, Any], options: Decomposition,
              quiet: bool = False) -> Incumbent | None:
    """The decomposition's incumbent: run in this process when it is one of several MPI
    ranks (None on every rank but 0), else launched on `options.ranks` local ranks."""
    check_available()
    # started_at: the time limit counts from here, the MPI launch and each rank's build in it
    job = {**options.job(inputs), "quiet": quiet, "started_at": time.time()}
    if under_mpi():
        from siteopt.stochastic import wheel

        answer = wheel.run(inputs, job)
        return None if answer is None else Incumbent(**answer,
                                                     time_limit_s=job["time_limit_s"])
    check_ranks(options.ranks)
    return launch(scenario, portfolio, solver_overrides, job, options.ranks)


def launch(scenario: Path, portfolio: Path | None, solver_overrides: dict[str, Any],
           job: dict[str, Any], ranks: int) -> Incumbent:
    """`mpiexec -n RANKS python -m siteopt.stochastic.wheel JOB.json`; its progress goes to
    stderr (stdout may carry a --json summary)."""
    with tempfile.TemporaryDirectory(prefix="siteopt-decompose-") as folder:
        answer = Path(folder) / "incumbent.json"
        path = Path(folder) / "job.json"
        path.write_text(json.dumps({
            **job, "scenario": str(Path(scenario).resolve()),
            "portfolio": None if portfolio is None else str(Path(portfolio).resolve()),
            "solver": {k: v for k, v in solver_overrides.items() if v is not None},
            "answer": str(answer)}), encoding="utf-8")
        command = [mpiexec() or "mpiexec", "-n", str(ranks), sys.executable, "-m",
                   "siteopt.stochastic.wheel", str(path)]
        # in the job's folder: mpi-sppy opens hub.log, xhatclp.log … in the working
        # directory when imported, and they are no business of the user's folder
        done = subprocess.run(command, stdout=sys.stderr, stderr=sys.stderr, check=False,
                              cwd=folder)
        if done.returncode != 0 or not answer.exists():
            raise MpiUnavailable(f"the MPI run ended with exit code {done.returncode} "
                                 f"without an incumbent (its messages are above)")
        return Incumbent(**json.loads(answer.read_text(encoding="utf-8")),
                         time_limit_s=job["time_limit_s"])


# -- the result folder from the incumbent ------------------------------------------------


def solve_decomposed(inputs: Inputs, found: Incumbent, measures: bool = True,
                     baseline: bool = True) -> Results:
    """The extensive form's results for the incumbent's here-and-now decisions: each future
    planned alone with them fixed; the summary's objective, bound and gap are the
    decomposition's. `baseline`: the mining-only plan under the same non-anticipativity, as
    the extensive form solves it (`baselines`), so the KPIs against it mean the same;
    `measures`: the wait-and-see and the expected-value plan, solved future by future."""
    from siteopt.stochastic import run
    from siteopt.stochastic.futures import future_inputs
    from siteopt.stochastic.scenario_model import ensemble

    started = time.perf_counter()
    uncertainty, solver = inputs.scenario.uncertainty, inputs.scenario.solver
    futures = future_inputs(inputs)
    ens = ensemble(futures, uncertainty.commit_months, uncertainty.risk.cvar_alpha_pct,
                   uncertainty.risk.cvar_weight_pct)
    if found.first_stage is None:
        return unsolved(inputs, _outcome(found, solver, "no_solution", []),
                        {"build": 0.0, "solve": found.seconds})
    fixed = _here_and_now(ens, found.first_stage)
    timings = {"build": found.prepare_seconds, "solve": found.seconds}
    plans, outcomes, first = [], [], None
    for i, (built, solved_i) in enumerate(recourse(ens, fixed, solver)):
        outcomes.append(solved_i)
        if solved_i.status not in ("optimal", "feasible"):
            break
        one = run._Solved(ens, None, None, [built] * len(ens.names), solved_i, None)
        plans.append(run._future_results(one, i, solved_i, timings))
        first = first if first is not None else one  # its model holds the decisions
    outcome = _outcome(found, solver, "optimal", outcomes)
    if len(plans) < len(futures):
        return unsolved(inputs, dataclasses.replace(outcome, status="no_solution"), timings)
    solved = dataclasses.replace(first, outcome=outcome)
    here_and_now = run._here_and_now_table(solved)
    baseline_started = time.perf_counter()
    bases, how = baselines(ens, solver) if baseline else ([None] * len(futures), None)
    baseline_seconds = time.perf_counter() - baseline_started
    plans = [run.with_kpis(f.inputs, plan, base) for f, plan, base in zip(futures, plans, bases)]
    values = _measures(ens, solved, inputs) if measures else {}
    results = run._combined(inputs, solved, plans, bases, here_and_now, values, timings)
    results.summary["stochastic"]["decomposition"] = {
        "engine": "mpi-sppy progressive hedging (hub) + xhatshuffle (inner bound) + "
                  "Lagrangian (outer bound), HiGHS, linearised proximal terms",
        "ranks": found.ranks, "iterations": found.iterations,
        "incumbent_objective_usd": _usd(found.inner_bound),
        "outer_bound_usd": _usd(found.outer_bound), "gap_pct": found.rel_gap_pct,
        "seconds": round(found.seconds, 3), "time_limit_s": found.time_limit_s,
        "stop_reason": found.stop_reason,
        "rank_peak_mb": found.rank_peak_mb, "futures_per_rank": found.futures_per_rank,
        "recourse_seconds": round(time.perf_counter() - started, 3),
        "baseline": how, "baseline_seconds": round(baseline_seconds, 3) if how else None}
    return results


def baselines(ens: Any, solver: Any) -> tuple[list[Results | None], str]:
    """The mining-only baseline of every future as the extensive form has it (run._baselines:
    conversion fixed at 0, the leases already running kept, the expected NPV maximised under
    the same non-anticipativity), and how it was solved. When every here-and-now decision is
    a conversion one (no miners sold, BTC sold or debt drawn now), conversion at 0 leaves
    nothing tying the futures together and the program separates: each future is solved
    alone, one model at a time ("future by future"). Otherwise the decisions still shared
    are continuous and the futures are solved together as one extensive form, the
    extensive form's memory ("extensive form")."""
    from siteopt.api import CONVERSION_VARIABLES

    risk_neutral = dataclasses.replace(ens, cvar_weight=0.0)
    if any(key.kind not in CONVERSION_VARIABLES for key in ens.keys):
        return _baselines_together(risk_neutral), "extensive form"
    return [_baseline_alone(risk_neutral, i, solver) for i in range(len(ens.names))], \
        "future by future"


def _baselines_together(ens: Any) -> list[Results | None]:
    from siteopt.stochastic import run
    from siteopt.stochastic.scenario_model import extensive_form

    ef, built = extensive_form(ens)
    compiled = compile_model(ef)  # risk-neutral: its objective is the expected NPV
    return run._baselines(run._Solved(ens, ef, compiled, built, None, compiled))


def _baseline_alone(ens: Any, i: int, solver: Any) -> Results:
    from siteopt.api import mining_only_changes
    from siteopt.results.extract import extract
    from siteopt.stochastic.run import _block_values
    from siteopt.stochastic.scenario_model import scenario_creator

    future = ens.futures[i]
    m = scenario_creator(ens.names[i], ens)
    compiled = compile_model(m)
    changes = mining_only_changes(compiled, lambda _: ens.data[i].running)
    outcome = solve_compiled(m, compiled, solver, changes=changes)
    timings = {"build": 0.0, "solve": outcome.solve_seconds}
    if outcome.status not in ("optimal", "feasible"):
        return unsolved(future.inputs, outcome, timings)
    values, npv = _block_values(m._siteopt_built)
    mine = dataclasses.replace(outcome, values=values, npv_objective_usd=npv)
    return extract(future.inputs, m._siteopt_built, mine, timings)


def _usd(value: float | None) -> float | None:
    return None if value is None else value * USD_PER_OBJECTIVE_UNIT


def _here_and_now(ens: Any, first_stage: list[float]) -> np.ndarray:
    """The incumbent's here-and-now values as a fixing: whole numbers rounded, round-off
    below 0 (every domain is non-negative) cut."""
    from siteopt.stochastic.here_and_now import _BINARY, _INTEGER

    values = np.asarray(first_stage[:len(ens.keys)], dtype=float)
    whole = np.array([k.kind in _INTEGER or k.kind in _BINARY for k in ens.keys], dtype=bool)
    values[whole] = np.round(values[whole])
    return np.maximum(np.round(values, 9), 0.0)


def recourse(ens: Any, fixed: np.ndarray, solver: Any) -> Iterator[tuple[Any, SolveOutcome]]:
    """Each future's own best plan (its NPV) with the here-and-now decisions at `fixed`, one
    model at a time (memory: one future's model, not the extensive form's). With the value
    at risk also fixed, a future's risk-adjusted objective only grows with its NPV, so its
    NPV is what each future maximises."""
    from siteopt.stochastic.run import _fixing
    from siteopt.stochastic.scenario_model import scenario_creator

    risk_neutral = dataclasses.replace(ens, cvar_weight=0.0)
    for name in ens.names:
        m = scenario_creator(name, risk_neutral)
        compiled = compile_model(m)
        changes = _fixing(compiled, {"here_and_now"}, {"here_and_now": fixed})
        outcome = solve_compiled(m, compiled, solver, changes=changes)
        yield m._siteopt_built, outcome


def _outcome(found: Incumbent, solver: Any, status: str, outcomes: list[SolveOutcome]
             ) -> SolveOutcome:
    """The decomposition as one solve: its incumbent's objective and the best outer bound;
    optimal when the gap reached the target (as HiGHS says of a MIP within its gap)."""
    gap = found.rel_gap_pct
    if status == "optimal" and (gap is None or gap > solver.mip_gap_pct + 1e-9):
        status = "feasible"
    return SolveOutcome(
        status=status, highs_status=f"mpi-sppy PH, {found.iterations} iterations: "
                                    f"{STOP_REASONS.get(found.stop_reason, 'stopped')}",
        npv_objective_usd=_usd(found.inner_bound), best_bound_usd=_usd(found.outer_bound),
        mip_gap_pct=gap, compile_seconds=found.prepare_seconds, solve_seconds=found.seconds,
        columns=sum(o.columns for o in outcomes), rows=sum(o.rows for o in outcomes),
        integers=sum(o.integers for o in outcomes))


def _measures(ens: Any, solved: Any, inputs: Inputs) -> dict[str, Any]:
    """Wait-and-see (each future alone) and the expected-value plan (the average future's
    here-and-now decisions fixed, each future re-solved), future by future."""
    from siteopt.stochastic.futures import expected_value_inputs
    from siteopt.stochastic.run import _alone, _cannot_follow

    futures = list(ens.futures)
    probabilities = [f.probability for f in futures]
    alone = [_alone(f.inputs)[0] for f in futures]
    wait_and_see = None if any(v is None for v in alone) else \
        math.fsum(p * v for p, v in zip(probabilities, alone))
    out = {"wait_and_see_npv_usd": wait_and_see, "wait_and_see_by_scenario": alone,
           "ev_plan_expected_npv_usd": None}
    npv, plan = _alone(expected_value_inputs(inputs, futures))
    if plan is None:
        return {**out, "ev_plan_note": "the expected-value scenario has no plan"}
    fixed = np.array([plan.get((key.kind, key.index), 0.0) for key in ens.keys])
    blocked = _cannot_follow(ens, fixed)
    if blocked:
        return {**out, "ev_plan_note": blocked}
    outcomes = [outcome for _, outcome in recourse(ens, fixed, inputs.scenario.solver)]
    if any(o.status not in ("optimal", "feasible") for o in outcomes):
        return {**out, "ev_plan_note": "the expected-value plan's here-and-now decisions "
                                       "cannot be kept in every future"}
    npvs = [o.npv_objective_usd for o in outcomes]
    return {**out, "ev_plan_expected_npv_usd": math.fsum(p * v for p, v in
                                                         zip(probabilities, npvs)),
            "ev_plan_note": f"expected-value scenario NPV {npv:,.0f} USD"}
