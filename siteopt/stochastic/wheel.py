"""The decomposition's MPI program: `mpiexec -n N python -m siteopt.stochastic.wheel JOB.json`.

Every rank loads the scenario and builds the same ensemble (siteopt.stochastic.scenario_model);
mpi-sppy's WheelSpinner then splits the ranks into three cylinders — the progressive hedging
hub, an inner-bound spoke (xhatshuffle: it fixes the here-and-now decisions of one future's
PH solution in every future and re-solves them, an incumbent and its expected objective) and
an outer-bound spoke (Lagrangian: each future alone with PH's prices on the here-and-now
decisions, a bound on the best objective) — each with N/3 ranks sharing the futures. HiGHS
(appsi_highs) solves every subproblem; it has no quadratic objective in MIPs, so PH's
proximal term is linearised (mpi-sppy's `linearize_proximal_terms`). The job file and the
answer (decompose.Incumbent as JSON) are siteopt.stochastic.decompose's contract with this
program; nothing here writes the result folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

SOLVER = "appsi_highs"


ITER0_GAP_FACTOR = 5  # the hub's iteration 0 solves each future to 5 × the scenario's gap


def config(job: dict[str, Any], mip_gap_pct: float, threads: int, time_left_s: float) -> Any:
    """mpi-sppy's options for the hub and spokes (its own Config, as its drivers build it).
    `time_left_s`: until the deadline (mpi-sppy's own check between PH iterations)."""
    from mpisppy.utils import config as mpisppy_config

    cfg = mpisppy_config.Config()
    cfg.popular_args()
    cfg.two_sided_args()
    cfg.ph_args()
    cfg.xhatshuffle_args()
    cfg.lagrangian_args()
    cfg.add_mipgap_specs()
    cfg.solver_name = SOLVER
    cfg.default_rho = float(job["rho"])
    cfg.max_iterations = int(job["max_iterations"])
    cfg.time_limit = max(1, int(time_left_s))
    cfg.rel_gap = float(job["gap_pct"]) / 100
    cfg.max_stalled_iters = int(job["max_stalled_iterations"])
    cfg.intra_hub_conv_thresh = float(job.get("convergence_threshold", 1e-10))
    cfg.linearize_proximal_terms = True
    cfg.max_solver_threads = threads
    # each subproblem to the scenario's MIP gap (the bounds are then that loose at most),
    # but the hub's iteration 0 — every future alone, the longest loop of the run — to a
    # looser one: its solutions only start PH; the Lagrangian spoke solves the same
    # futures to the scenario's gap for the bound. (As mpi-sppy's canonical `mipgap`:
    # a native mip_rel_gap in solver_options would override every per-iteration gap.)
    gap = mip_gap_pct / 100
    cfg.iter0_mipgap = min(ITER0_GAP_FACTOR * gap, 0.5)
    cfg.iterk_mipgap = gap
    cfg.lagrangian_iter0_mipgap = gap
    cfg.lagrangian_iterk_mipgap = gap
    cfg.xhatshuffle = True
    cfg.lagrangian = True
    cfg.fixer_args()
    cfg.fixer = bool(job.get("fixer", True))
    cfg.add_to_config("id_fix_list_fct", description="the fixer's decisions (siteopt)",
                      domain=None, default=whole_decisions_to_fix)
    return cfg


FIX_AFTER = 3  # PH iterations a whole-number decision agrees across futures before it is fixed


def whole_decisions_to_fix(scenario: Any) -> tuple[list, list]:
    """The fixer extension's list (Watson–Woodruff): in the hub, a whole-number here-and-now
    decision (blocks, a lease accepted) that has had the same value in every future for
    FIX_AFTER iterations is fixed there, so PH stops re-deciding what all futures agree on
    and converges in fewer iterations. Nothing is fixed at iteration 0 (each future alone
    would fix "not now" for every hedge no single future takes). The Lagrangian spoke keeps
    its own unfixed models, so the outer bound stays valid."""
    from mpisppy.extensions.fixer import Fixer_tuple

    iterk = [Fixer_tuple(var, th=0.01, nb=FIX_AFTER, lb=FIX_AFTER, ub=FIX_AFTER)
             for var in scenario.here_and_now.values() if var.is_integer() or var.is_binary()]
    return [], iterk


def cylinders(cfg: Any, names: list[str], creator: Any, kwargs: dict[str, Any],
              deadline: float) -> tuple[dict, list[dict]]:
    """The hub and the two spokes, each of whose subproblem solves keeps to `deadline`
    (time.time(); siteopt.stochastic.time_budget)."""
    from mpisppy.utils import cfg_vanilla as vanilla

    from siteopt.stochastic.time_budget import DEADLINE_KEY, timed, timed_xhatshuffle

    beans = (cfg, creator, None, names)
    hub = vanilla.ph_hub(*beans, scenario_creator_kwargs=kwargs)
    if cfg.fixer:
        vanilla.add_fixer(hub, cfg)
    average = average_scenario_creator if kwargs.get("average") is not None else None
    cfg.xhatshuffle_try_jensens_first = average is not None
    spokes = [vanilla.xhatshuffle_spoke(*beans, scenario_creator_kwargs=kwargs,
                                        average_scenario_creator=average),
              vanilla.lagrangian_spoke(*beans, scenario_creator_kwargs=kwargs)]
    for cylinder in (hub, *spokes):
        cylinder["opt_class"] = timed(cylinder["opt_class"], hub=cylinder is hub)
        cylinder["opt_kwargs"]["options"][DEADLINE_KEY] = deadline
    spokes[0]["spoke_class"] = timed_xhatshuffle(spokes[0]["spoke_class"])
    return hub, spokes


def average_ensemble(inputs: Any, ens: Any) -> Any:
    """The average future (solve --expected-value's) with the ensemble's here-and-now
    decisions, for the xhat spoke's first candidate: the expected-value plan's decisions
    fixed in every future (mpi-sppy's "Jensen" start). When every future can follow it,
    that plan is an incumbent before PH's first iteration. None when the futures cannot be
    averaged (changes to a whole table)."""
    import dataclasses

    from siteopt.inputs.errors import InputError
    from siteopt.model import prepare
    from siteopt.stochastic.futures import FutureInputs, expected_value_inputs
    from siteopt.stochastic.here_and_now import decisions

    try:
        average = expected_value_inputs(inputs, list(ens.futures))
    except InputError:
        return None
    data = dataclasses.replace(prepare(average), fixed_before=ens.commit_months)
    return dataclasses.replace(
        ens, futures=(FutureInputs("average", 1.0, average, ()),), data=(data,),
        present=(frozenset(decisions(data, ens.commit_months)),))


def average_scenario_creator(_name: str, ensemble: Any, average: Any) -> Any:
    return scenario_creator("future_0", average)


def scenario_creator(name: str, ensemble: Any, average: Any = None) -> Any:
    """The extensive form's scenario model, named after its future (mpi-sppy's messages
    name the model), with a value on every here-and-now copy: a copy no constraint holds
    (a decision this future cannot take, an offer withdrawn here) is not sent to the solver
    before PH prices it, and mpi-sppy refuses a decision without a value."""
    from siteopt.stochastic.scenario_model import scenario_creator as creator

    m = creator(name, ensemble)
    m.name = name
    for var in m.here_and_now.values():
        if var.value is None:
            var.set_value(0, skip_validation=True)
    return m


# mpi-sppy modules that open a log file in the working directory when first imported
_LOGGING_MODULES = ("mpisppy.cylinders.hub", "mpisppy.cylinders.xhatshufflelooper_bounder",
                    "mpisppy.cylinders.xhatlooper_bounder", "mpisppy.cylinders.slam_heuristic",
                    "mpisppy.utils.xhat_eval", "mpisppy.utils.cfg_vanilla")


@contextlib.contextmanager
def _logs_out_of_the_working_folder() -> Iterator[None]:
    """Import mpi-sppy's cylinders from a temporary folder: they open hub.log, xhatclp.log
    and xhateval.log where they are imported, which would litter the user's folder (run in
    place under a cluster's srun, the working folder is the user's)."""
    import atexit
    import importlib
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="siteopt-mpisppy-")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    here = os.getcwd()
    os.chdir(folder)
    try:
        for name in _LOGGING_MODULES:
            importlib.import_module(name)
        yield
    finally:
        os.chdir(here)


def run(inputs: Any, job: dict[str, Any]) -> dict[str, Any] | None:
    """Spin the wheel on every rank; the incumbent (decompose.Incumbent's fields) on global
    rank 0, None on the others."""
    started = time.perf_counter()
    from siteopt.stochastic.futures import future_inputs
    from siteopt.stochastic.scenario_model import ensemble, sputils
    from siteopt.stochastic.time_budget import stop_reason

    sputils()  # mpi-sppy's banner kept off stdout
    with _logs_out_of_the_working_folder():
        from mpisppy.spin_the_wheel import WheelSpinner

    uncertainty, solver = inputs.scenario.uncertainty, inputs.scenario.solver
    ens = ensemble(future_inputs(inputs), uncertainty.commit_months,
                   uncertainty.risk.cvar_alpha_pct, uncertainty.risk.cvar_weight_pct)
    prepared = time.perf_counter()
    # the limit counts from siteopt's start (decompose.incumbent), launch and build included
    deadline = float(job.get("started_at") or time.time()) + float(job["time_limit_s"])
    cfg = config(job, solver.mip_gap_pct, solver.threads, deadline - time.time())
    kwargs = {"ensemble": ens, "average": average_ensemble(inputs, ens)
              if job.get("average_first", True) else None}
    hub, spokes = cylinders(cfg, ens.names, scenario_creator, kwargs, deadline)
    wheel = WheelSpinner(hub, spokes)
    with _progress_on_stderr(quiet=bool(job.get("quiet"))):
        wheel.spin()
    ended = time.time()
    first_stage = _incumbent_first_stage(wheel)
    memory = _ranks_memory(wheel)
    if wheel.global_rank != 0:
        return None
    spcomm = wheel.spcomm
    _, rel_gap = spcomm.compute_gaps()
    gap_pct, iterations = _finite(rel_gap * 100), int(spcomm.opt._PHIter)
    return {"first_stage": first_stage,
            "inner_bound": _finite(wheel.BestInnerBound),
            "outer_bound": _finite(wheel.BestOuterBound),
            "rel_gap_pct": gap_pct,
            "iterations": iterations,
            "ranks": int(spcomm.fullcomm.Get_size()),
            "prepare_seconds": prepared - started,
            "seconds": time.perf_counter() - started,
            "stop_reason": stop_reason(gap_pct, float(job["gap_pct"]), deadline, ended,
                                       iterations, int(job["max_iterations"])),
            **memory}


def _ranks_memory(wheel: Any) -> dict[str, float | int]:
    """The largest rank's peak memory and the most futures one rank held, on global rank
    0 (empty elsewhere): how a run is sized for a cluster, since a rank holds a model of
    each of its futures (its cylinder's futures over its ranks)."""
    import resource

    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak_mb = peak_kb / 2**20 if sys.platform == "darwin" else peak_kb / 1024  # bytes there
    held = len(wheel.spcomm.opt.local_scenarios)
    ranks = wheel.spcomm.fullcomm.gather((peak_mb, held), root=0)
    if wheel.global_rank != 0:
        return {}
    return {"rank_peak_mb": round(max(mb for mb, _ in ranks), 1),
            "futures_per_rank": max(n for _, n in ranks)}


@contextlib.contextmanager
def _progress_on_stderr(quiet: bool) -> Iterator[None]:
    """mpi-sppy's progress table on stderr (stdout may carry a --json summary), or nowhere.
    Moved at the file-descriptor level: Pyomo's HiGHS interface captures fds 1 and 2 while
    it solves, and a Python-level sys.stdout = sys.stderr feeds that capture its own
    output (a deadlock)."""
    sys.stdout.flush()
    saved = os.dup(1)
    target = os.open(os.devnull, os.O_WRONLY) if quiet else os.dup(2)
    os.dup2(target, 1)
    os.close(target)
    try:
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


def _incumbent_first_stage(wheel: Any) -> list[float] | None:
    """The best incumbent's root-node values — here_and_now[0..K-1], then the value at risk
    with a CVaR weight — sent to global rank 0 by the cylinder that found it (as
    WheelSpinner.write_first_stage_solution picks it, without a file: ranks on other
    machines share no folder)."""
    spcomm = wheel.spcomm
    winner = spcomm.last_ib_idx if wheel.global_rank == 0 else None
    winner = spcomm.fullcomm.bcast(winner, root=0)
    values = None
    if winner is not None and wheel.strata_rank == winner and wheel.cylinder_rank == 0 \
            and spcomm.opt.load_best_solution():
        scenario = next(iter(spcomm.opt.local_scenarios.values()))
        root = scenario._mpisppy_node_list[0]
        values = [0.0 if v.value is None else float(v.value) for v in root.nonant_vardata_list]
    found = spcomm.fullcomm.gather(values, root=0)
    if wheel.global_rank != 0:
        return None
    return next((v for v in found if v is not None), None)


def _finite(value: float) -> float | None:
    import math

    return float(value) if value is not None and math.isfinite(value) else None


def main(argv: list[str]) -> int:
    """The job file (decompose.launch): scenario, portfolio, solver overrides, options and
    where rank 0 writes the incumbent as JSON."""
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    try:
        from siteopt.api import with_solver_options
        from siteopt.inputs import load_inputs

        portfolio = job.get("portfolio")
        inputs = with_solver_options(
            load_inputs(Path(job["scenario"]), Path(portfolio) if portfolio else None),
            **job["solver"])
        answer = run(inputs, job)
        if answer is not None:
            Path(job["answer"]).write_text(json.dumps(answer), encoding="utf-8")
    except BaseException:
        # one rank failing leaves the others waiting on it for ever: end them all
        import traceback

        from mpi4py import MPI

        traceback.print_exc()
        sys.stderr.flush()
        MPI.COMM_WORLD.Abort(1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
