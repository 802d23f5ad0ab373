"""Why a re-plan is infeasible: the new inputs alone, or a fixed decision they cannot keep.

First the new inputs are solved with nothing fixed (for feasibility only); if that is
infeasible too, the scenario's own diagnosis (siteopt.results.diagnose) says what to relax.
Otherwise each group of fixed decisions (one campus's block starts, one lease, one campus's
mining, the debt drawn, the BTC sold) is released in turn: a group whose release makes the
re-plan feasible is named, in words, as a decision the new inputs cannot keep.
"""

from __future__ import annotations

import numpy as np

from siteopt.inputs import Inputs
from siteopt.model import BuiltModel
from siteopt.replan.fixing import bound_changes, groups
from siteopt.solve import Compiled, solve_compiled

# seconds HiGHS may take to decide each feasibility question
FEASIBILITY_TIME_LIMIT_S = 30.0


def explain_fixed_infeasibility(inputs: Inputs, built: BuiltModel, compiled: Compiled,
                                fixed: list, where: str) -> list[str]:
    from siteopt.results.diagnose import explain_infeasibility

    if _feasible(inputs, built, compiled, []) is False:
        return ["The new inputs are infeasible on their own, before any decision is fixed:",
                *explain_infeasibility(inputs, built)]
    named = []
    grouped = groups([d for d in fixed if d.what])
    for name, members in grouped.items():
        released = {id(d) for d in members}
        others = [d for d in fixed if id(d) not in released]
        if _feasible(inputs, built, compiled, others):
            shown = "; ".join(d.what for d in members if abs(d.value) > 1e-9)[:400]
            named.append(f"Keeping {name} as in {where} makes the re-plan infeasible: "
                         f"with it free a plan exists. Fixed: {shown or 'nothing started'}.")
    if named:
        return named
    return [f"The decisions fixed from {where} together make the re-plan infeasible, though "
            f"none alone does: {', '.join(grouped)}."]


def _feasible(inputs: Inputs, built: BuiltModel, compiled: Compiled, fixed: list) -> bool | None:
    """Whether some plan keeps `fixed` (None: not decided in the time allowed)."""
    options = inputs.scenario.solver.model_copy(update={
        "time_limit_s": FEASIBILITY_TIME_LIMIT_S, "mip_gap_pct": 100.0})
    cost, offset = compiled.lp.col_cost_, compiled.lp.offset_
    compiled.lp.col_cost_ = np.zeros(len(compiled.columns))  # any plan will do
    try:
        outcome = solve_compiled(built.model, compiled, options,
                                 changes=bound_changes(fixed, compiled))
    finally:
        compiled.lp.col_cost_, compiled.lp.offset_ = cost, offset
    if outcome.status in ("optimal", "feasible"):
        return True
    return False if outcome.status == "infeasible" else None
