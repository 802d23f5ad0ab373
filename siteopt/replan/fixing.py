"""Fixing a plan's decisions on a compiled model, and saying in words which ones cannot be.

A decision is fixed by setting its column's bounds to its value for one solve
(`BoundChanges`); the compiled model stays as it is. Before that, each decision is checked
against the new inputs: its variable and index must exist (an offer withdrawn, a campus no
longer eligible, a start outside the window make a lease option disappear) and its value must
lie within the variable's bounds (a permit that slipped under a block already started sets
that month's `blocks_started` bound to 0). Each conflict is one plain sentence naming the
decision and the input that forbids it.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyomo.environ as pyo

from siteopt.inputs.months import label
from siteopt.model.data import ModelData
from siteopt.replan.decisions import Decision
from siteopt.solve import BoundChanges, Compiled

TOLERANCE = 1e-6
# lease variables whose options the past fixes completely: the ones the plan took are 1,
# every other option starting before --from is 0
LEASE_VARIABLES = ("lease_accepted", "split_start", "split_blocks")


def column_index(compiled: Compiled) -> dict[tuple[str, tuple], int]:
    """(variable name, index as a tuple) → column."""
    out = {}
    for j, ((name, _), var) in enumerate(zip(compiled.positions, compiled.columns)):
        index = var.index()
        out[name, index if isinstance(index, tuple) else (index,)] = j
    return out


def with_closed_lease_options(decisions: list[Decision], m: pyo.ConcreteModel,
                              until: int) -> list[Decision]:
    """The decisions plus a 0 for every lease option starting before `until` that the plan did
    not take (what did not start before --from can no longer start then)."""
    taken = {(d.variable, d.index) for d in decisions}
    closed = []
    for name in LEASE_VARIABLES:
        var = m.component(name)
        if var is None:
            continue
        for index in var:
            key = index if isinstance(index, tuple) else (index,)
            if key[-1] < until and (name, key) not in taken:
                closed.append(Decision(name, key, 0.0, key[-1], ""))
    return decisions + closed


def conflicts(decisions: list[Decision], m: pyo.ConcreteModel, data: ModelData,
              where: str) -> list[str]:
    """Every fixed decision the new inputs make impossible, in words. `where` names the
    source of the decisions ("the plan in out/base (before 2027-06)")."""
    problems = []
    for d in decisions:
        if abs(d.value) <= TOLERANCE:
            continue  # "nothing happened" is always possible
        var = m.component(d.variable)
        index = d.index if len(d.index) > 1 else d.index[0]
        if var is None or index not in var:
            problems.append(f"{d.what} ({where}) is not possible with the new inputs: "
                            f"{_missing_reason(d, data)}")
            continue
        v = var[index]
        lower = -np.inf if v.lb is None else v.lb
        upper = np.inf if v.ub is None else v.ub
        if d.value < lower - TOLERANCE or d.value > upper + TOLERANCE:
            problems.append(f"{d.what} ({where}) is not possible with the new inputs: "
                            f"{_bound_reason(d, data, upper)}")
    return problems


def bound_changes(decisions: list[Decision], compiled: Compiled) -> BoundChanges:
    """Bounds that fix every decision that is a column of the model (others are zeros of
    variables no row uses, or were refused by `conflicts`)."""
    where = column_index(compiled)
    columns, values = [], []
    for d in decisions:
        j = where.get((d.variable, d.index))
        if j is None:
            continue
        value = round(d.value) if compiled.integer[j] else d.value
        columns.append(j)
        values.append(float(np.clip(value, compiled.lp.col_lower_[j],
                                    compiled.lp.col_upper_[j])))
    columns_array = np.array(columns, dtype=np.int32)
    level = np.array(values, dtype=float)
    empty = np.array([], dtype=np.int32)
    return BoundChanges(columns_array, level, level.copy(), empty, np.array([]), np.array([]))


def groups(decisions: list[Decision]) -> dict[str, list[Decision]]:
    """Decisions in the groups a person would name: one campus's block starts, one lease,
    one campus's mining, the debt draws, the BTC sales."""
    out: dict[str, list[Decision]] = defaultdict(list)
    for d in decisions:
        if d.variable in LEASE_VARIABLES:
            key = f"lease {d.index[0]}"
        elif d.variable in ("debt_draw", "btc_sold"):
            key = {"debt_draw": "the debt drawn", "btc_sold": "the BTC sold"}[d.variable]
        else:
            noun = {"blocks_started": "block starts", "mining_mw": "mining",
                    "miners_sold_mw": "miners sold", "spot_mw": "spot letting"}[d.variable]
            key = f"{d.index[0]} {noun}"
        out[key].append(d)
    return dict(out)


def _missing_reason(d: Decision, data: ModelData) -> str:
    if d.variable in LEASE_VARIABLES:
        offer_id = d.index[0]
        if offer_id not in data.offers.index:
            return f"offers has no offer {offer_id} any more (withdrawn?)"
        offer = data.offers.loc[offer_id]
        campus_id = d.index[2] if d.variable == "split_blocks" else \
            d.index[1] if d.variable == "lease_accepted" else None
        if campus_id is not None and campus_id not in data.campuses.index:
            return f"campuses has no campus {campus_id} any more"
        if campus_id is not None and campus_id not in offer["campuses"] \
                and "*" not in offer["campuses"]:
            return (f"offers {offer_id}: campuses {';'.join(offer['campuses'])} no longer "
                    f"includes {campus_id}")
        if bool(offer["split"]) != (d.variable != "lease_accepted"):
            return f"offers {offer_id}: split is now {str(bool(offer['split'])).lower()}"
        start = d.index[-1]
        if campus_id is not None and start < data.first_ready[campus_id]:
            return (f"{campus_id} cannot have IT MW ready by {label(data.first_month + start)}"
                    f" (campuses {campus_id}: permit_ready "
                    f"{data.campuses.at[campus_id, 'permit_ready'] or 'none'}, build_months "
                    f"{int(data.campuses.at[campus_id, 'build_months'])})")
        return (f"offers {offer_id}: a start in {label(data.first_month + start)} is outside "
                f"its window (earliest_start {offer['earliest_start']}, latest_start "
                f"{offer['latest_start']}, max_delay_months {int(offer['max_delay_months'])})")
    if d.variable in ("miners_sold_mw",):
        return "the new inputs give no campus an asic_salvage_usd_per_mw, so selling miners " \
               "is not part of the model"
    if d.variable == "spot_mw":
        return "the new inputs have no spot market (market.hpc_spot_rate_usd_per_kw_month)"
    if d.variable in ("debt_draw", "btc_sold"):
        what = "finance.debt" if d.variable == "debt_draw" else "finance.btc_treasury_btc"
        return f"the new scenario has no {what}"
    campus_id = d.index[0]
    if campus_id not in data.campuses.index:
        return f"campuses has no campus {campus_id} any more"
    return "the new inputs do not have this decision"


def _bound_reason(d: Decision, data: ModelData, upper: float) -> str:
    if d.variable == "blocks_started":
        campus_id, t = d.index
        c = data.campuses.loc[campus_id]
        build = int(c["build_months"])
        if t < data.permit_month[campus_id]:
            return (f"campuses {campus_id}: permit_ready is {c['permit_ready']}, so construction "
                    f"may not start in {label(data.first_month + t)}. If the block really "
                    f"started, the permit was there: correct permit_ready; if it did not, say "
                    f"so with --actuals (blocks_started 0 in that month)")
        if t + build > data.horizon_months - 1:
            return (f"with build_months {build} a block started in "
                    f"{label(data.first_month + t)} is not ready inside the horizon")
        return (f"at most {upper:g} blocks fit in campuses {campus_id}: hpc_max_it_mw "
                f"{c['hpc_max_it_mw']:g} (blocks of {c['hpc_block_it_mw']:g} IT MW)")
    if d.variable in ("mining_mw", "miners_sold_mw"):
        campus_id = d.index[0]
        return (f"campuses {campus_id}: miner_mw is {data.campuses.at[campus_id, 'miner_mw']:g}"
                f" MW")
    if d.variable == "split_blocks":
        return f"at most {upper:g} blocks of that campus fit the phase"
    if d.variable == "btc_sold":
        return f"the treasury holds at most {upper:g} BTC (finance.btc_treasury_btc)"
    return f"the new bounds are at most {upper:g}"

