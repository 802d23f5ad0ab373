"""The decomposition's time limit, held inside PH iterations and by the spokes.

mpi-sppy checks its `time_limit` only between the hub's PH iterations, and no subproblem solve
has a limit of its own: one iteration solves every future of a hub rank to its MIP gap (at M
with 10 futures, iteration 0 alone took 16 minutes of a 5-minute limit). Here every
subproblem solve of every cylinder gets a share of the time left:

    budget = (deadline − now) / solves left in this loop   (the hub's iteration 0: ≥ MIN_SOLVE_S)

so a loop over the futures ends near the deadline. Past the deadline the spokes and the hub's
later iterations skip their solves (a skipped future has no solution: an xhat candidate it
belongs to is not an incumbent, a Lagrangian bound it belongs to is +∞, no bound), and the
hub stops at its next check. The hub's iteration 0 cannot skip — PH needs every future's
solution — so a future that reaches its budget without a feasible plan is solved again until
HiGHS's first feasible plan. Each scenario keeps one HiGHS (appsi's persistent solver), whose
run time accumulates from run to run (HiGHS < 2.0 compares time_limit to its total run time),
so the limit passed is that total plus the budget.

The classes are mpi-sppy's own with this one change (`timed(PH)`, …): its hub and spoke
dictionaries name the class their cylinder builds (`opt_class`, `spoke_class`).
"""

from __future__ import annotations

import math
import sys
import time
from typing import Any

MIN_SOLVE_S = 1.0  # the hub's iteration 0 gives each future at least this long
DEADLINE_KEY = "siteopt_deadline"  # the wall-clock deadline (time.time()) in opt options
_FIRST_PLAN = 1  # HiGHS's mip_max_improving_sols: stop at the first feasible plan
_EVERY_PLAN = 2147483647  # its default (no such stop)
_clock = time.time  # wall clock: ranks on several machines share the deadline


class WithinDeadline:
    """Mixed in before an mpi-sppy SPOpt class (PH, Xhat_Eval): each subproblem solve gets
    its share of the time left before `options[DEADLINE_KEY]`."""

    _siteopt_left = 1  # solves left in the current solve_loop
    _siteopt_hub = False  # the PH hub's class (its iteration 0 must solve every future)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        deadline = self.options.get(DEADLINE_KEY)
        if deadline is not None:  # mpi-sppy's own check (hub, between iterations) at it too
            self.options["time_limit"] = max(0.0, deadline - _clock()) + \
                (time.perf_counter() - self.start_time)

    def solve_loop(self, *args: Any, **kwargs: Any) -> Any:
        self._siteopt_left = max(1, len(self.local_scenarios))
        return super().solve_loop(*args, **kwargs)

    def solve_one(self, solver_options: Any, k: str, s: Any, *args: Any, **kwargs: Any
                  ) -> float:
        deadline = self.options.get(DEADLINE_KEY)
        if deadline is None:
            return super().solve_one(solver_options, k, s, *args, **kwargs)
        left, self._siteopt_left = self._siteopt_left, max(1, self._siteopt_left - 1)
        remaining = deadline - _clock()
        must_solve = self._must_solve()
        if remaining <= 0 and not must_solve:
            return self._skipped(s)
        budget = max(remaining / left, MIN_SOLVE_S if must_solve else 0.0)
        if not solver_options and hasattr(self, "_effective_solver_options"):
            # mpi-sppy evaluates the xhat spoke's first candidate with no options at all
            # (HiGHS's default gap of 0.01 %): the later iterations' ones, the scenario's gap
            solver_options = self._effective_solver_options(1)
        seconds = super().solve_one(_limited(solver_options, s, budget, _EVERY_PLAN), k, s,
                                    *args, **kwargs)
        if not s._mpisppy_data.solution_available:
            if must_solve:  # PH's iteration 0 needs a plan of every future: the first one
                return seconds + super().solve_one(
                    _limited(solver_options, s, math.inf, _FIRST_PLAN), k, s, *args, **kwargs)
            self._no_bound(s)
        return seconds

    def _must_solve(self) -> bool:
        """Only the hub's iteration 0 must have every future solved (mpi-sppy stops with
        "Infeasibility detected" otherwise)."""
        return self._siteopt_hub and getattr(self, "_PHIter", 0) == 0

    def _skipped(self, s: Any) -> float:
        s._mpisppy_data.solution_available = False
        self._no_bound(s)
        return 0.0

    def _no_bound(self, s: Any) -> None:
        """A solve without a plan leaves the scenario's bound of an earlier solve (other
        prices W) in place, which would make a Lagrangian bound wrong: no bound instead."""
        s._mpisppy_data.outer_bound = -math.inf if self.is_minimizing else math.inf


def _limited(solver_options: Any, s: Any, budget: float, plans: int) -> dict[str, Any]:
    """The solve's options with HiGHS's time limit at `budget` seconds from now (its clock
    runs on across the solves of one persistent HiGHS) and its stop after `plans` plans (set
    on every solve: options stay on the persistent solver)."""
    highs = getattr(s._solver_plugin, "_solver_model", None)
    spent = float(highs.getRunTime()) if highs is not None else 0.0
    return {**(solver_options or {}), "time_limit": spent + budget,
            "mip_max_improving_sols": plans}


def timed(cls: type, hub: bool = False) -> type:
    """mpi-sppy's `cls` (PH, Xhat_Eval, …) whose solves keep to the deadline; `hub`: the
    PH hub's."""
    return type(f"Timed{cls.__name__}", (WithinDeadline, cls), {"_siteopt_hub": hub})


def timed_xhatshuffle(cls: type) -> type:
    """The xhatshuffle spoke whose first candidate (the average future solved, mpi-sppy's
    Jensen start) keeps to the deadline too: that solve has a solver of its own, given the
    time left; when it stops at the limit the candidate is skipped, not the run."""

    def _jensens_solve(self: Any, avg_scenario: Any) -> Any:
        options = self.opt.options.setdefault("iterk_solver_options", {})
        saved = dict(options)
        options["time_limit"] = max(0.0, self.opt.options[DEADLINE_KEY] - _clock())
        # that solver gets the options as they are: mpi-sppy's canonical `mipgap` is no
        # HiGHS option (ignored, the solve would run to HiGHS's default gap of 0.01 %)
        if "mipgap" in options:
            options["mip_rel_gap"] = options.pop("mipgap")
        try:
            return cls._jensens_solve(self, avg_scenario)
        finally:
            options.clear()
            options.update(saved)

    def _try_average_scenario_xhat(self: Any) -> None:
        try:
            cls._try_average_scenario_xhat(self)
        except RuntimeError as exc:
            if "maxTimeLimit" not in str(exc):
                raise
            print("xhatshuffle: the average future did not solve within the time left; "
                  "its candidate is skipped", file=sys.stderr)

    return type(f"Timed{cls.__name__}", (cls,), {
        "_jensens_solve": _jensens_solve,
        "_try_average_scenario_xhat": _try_average_scenario_xhat})


def stop_reason(rel_gap_pct: float | None, gap_pct: float, deadline: float, ended: float,
                iterations: int, max_iterations: int) -> str:
    """Why the decomposition stopped, in the order mpi-sppy tests (gap first)."""
    if rel_gap_pct is not None and rel_gap_pct <= gap_pct + 1e-9:
        return "gap"
    if ended >= deadline:
        return "time_limit"
    if iterations >= max_iterations:
        return "iterations"
    return "stalled"  # no better bound for max_stalled_iterations, or PH's copies agreed
