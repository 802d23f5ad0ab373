"""Turning the finance start into a plan the funded model accepts.

The finance start is the plan under the capex budget alone (siteopt.api). Its blocks and
leases may need more money than the cash floor, the debt and the treasury can find; HiGHS,
given such a start, fixes its whole numbers, finds the LP infeasible and drops it, and then
searches from nothing (on one L portfolio its first plan came after 34 s and was worth
≈ 0). So before the funded solve the start is checked the same way, and when it fails, the
funded model is solved with the leases limited to those the start took, at its campuses and
start months (each may still be dropped; the blocks and the finance are free): a far
smaller MIP, whose plan is feasible in the funded model (it only adds bounds)
and becomes the start. Either way the funded model itself is solved whole afterwards: the
repair only changes how soon a good plan is known, never the answer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from siteopt.inputs.schema import Solver
from siteopt.solve import BoundChanges, Compiled, highs_for, run_interruptibly

LEASE_DECISIONS = {"lease_accepted", "split_start", "split_blocks"}
FEASIBLE = 2  # HiGHS's kSolutionStatusFeasible


@dataclass(frozen=True)
class Repair:
    """The start to hand to the funded solve, and how it was made: `kept` (the start with
    its continuous values found by an LP), `restricted` (the funded model's plan over the
    start's leases) or `as given` (neither worked: HiGHS gets the start as it was)."""

    start: np.ndarray
    how: str
    seconds: float


def repair_start(compiled: Compiled, start: np.ndarray, options: Solver, share: float,
                 changes: BoundChanges | None = None) -> Repair:
    """A feasible start for the funded model from the finance start `start`; the restricted
    MIP (the lease options `start` takes, each free to be dropped) may use `share` of the
    time limit and stops at the start's gap (2 % or looser)."""
    began = time.perf_counter()
    integer = np.flatnonzero(compiled.integer)
    fixed = _solve(compiled, options, changes, (integer, start[integer], start[integer]),
                   options.time_limit_s * share, options.mip_gap_pct)
    if fixed is not None:
        return Repair(fixed, "kept", time.perf_counter() - began)
    # the start's own lease options only: letting its offers move to other months or
    # campuses made the MIP as hard as the whole (L seed 1: a near-empty plan after 30 s,
    # against the start's own options solved to optimality in 13 s)
    leases = compiled.columns_of(LEASE_DECISIONS)
    dropped = leases[start[leases] < 0.5]
    lower = np.asarray(compiled.lp.col_lower_)[dropped]
    remaining = max(1.0, options.time_limit_s * share - (time.perf_counter() - began))
    restricted = _solve(compiled, options, changes, (dropped, lower, np.zeros(len(dropped))),
                        remaining, max(options.mip_gap_pct, 2.0))
    if restricted is not None:
        return Repair(restricted, "restricted", time.perf_counter() - began)
    return Repair(start, "as given", time.perf_counter() - began)


def _solve(compiled: Compiled, options: Solver, changes: BoundChanges | None,
           bounds: tuple[np.ndarray, np.ndarray, np.ndarray], time_limit_s: float,
           gap_pct: float) -> np.ndarray | None:
    """The compiled model with `bounds` (columns, lower, upper) on top of `changes`, solved
    quietly; its solution vector, or None when it has none."""
    h = highs_for(compiled, options, time_limit_s, gap_pct, changes)
    columns, lower, upper = bounds
    if len(columns):
        h.changeColsBounds(len(columns), columns, lower, upper)
    run_interruptibly(h)
    if h.getInfo().primal_solution_status != FEASIBLE:
        return None
    x = np.array(h.getSolution().col_value, dtype=float)
    x[compiled.integer] = np.round(x[compiled.integer])
    return x
