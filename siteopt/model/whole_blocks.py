r"""Whole-blocks family: two valid inequalities that say, in terms of the lease variables
themselves, that capacity comes in whole blocks. Every integer plan already satisfies both
(they are implied by ``it_leased_balance``, ``leases_within_ready_capacity`` and the integer
block starts), so the optimum is unchanged; they tighten the LP relaxation and give HiGHS
pure knapsack rows over the lease binaries to derive cover and clique cuts from.

.. math::

    \text{leases\_fit\_in\_whole\_blocks}_{c,d}: \;
        \sum_{u \text{ at } c \text{ active at } d} W_u(d) \, x_u
        \le b_c \lfloor \bar I_c / b_c \rfloor

    \text{lease\_needs\_whole\_blocks}_{o,c,d}: \;
        \sum_s b_c \lceil C_{o,s}(d) / b_c \rceil \, A_{o,c,s} \le R_{c,d}

The first holds for every campus c and every month d in which some lease phase can be
delivered there (leased IT MW only rises in such months): u runs over the lease units at c
(an accepted offer, or a block of a split offer) that started by d and end after it, W_u(d)
is the IT MW they have delivered by d (phases due after the horizon count in its last month,
as in the leases family). A row whose terms can never exceed the cap (each offer at its
largest start) is left out. The second holds for each offer o that is not split, campus c
and month d in which a phase of o can be delivered at c; the sum runs over the start months
s active in d and C_{o,s}(d) is the IT MW the lease started in s has delivered by d. At most
one start is chosen, so the row says: the chosen lease needs its MW ready, rounded up to
whole blocks. Summing over the starts (rather than a row per start) is what stops the LP
from spreading an offer over neighbouring months to dodge the rounding. A row with a single
start whose MW is already whole blocks is left out (``leases_within_ready_capacity`` says it).

With an as-built state (I^0_c IT MW ready or under construction at the horizon start, in any
size), capacity is I^0_c plus whole blocks: the cap is I^0_c + b_c ⌊(Ī_c − I^0_c) / b_c⌋, and
the second family is not built at such a campus (ready MW need not be a multiple of b_c).
"""

from __future__ import annotations

import math
from collections import defaultdict

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData
from siteopt.model.leases import lease_units
from siteopt.model.start_months import delivery_months


def define_whole_blocks(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    block = data.campuses["hpc_block_it_mw"].to_dict()
    max_it = data.campuses["hpc_max_it_mw"].to_dict()
    initial = {c: data.initial_it_mw(c) for c in data.campus_ids}
    capacity = {c: initial[c] + block[c] * math.floor((max_it[c] - initial[c]) / block[c] + 1e-9)
                for c in data.campus_ids}
    term = data.offers["term_months"].astype(int).to_dict()
    horizon = data.horizon_months
    deliveries = {c: sorted(months) for c, months in delivery_months(data).items()}

    terms: dict[tuple[str, int], list] = defaultdict(list)
    # most IT MW the terms can reach: an offer is accepted from one start month at most
    most: dict[tuple[str, int], dict] = defaultdict(lambda: defaultdict(float))
    own_deliveries: dict[tuple[str, str], set[int]] = defaultdict(set)
    options: dict[tuple[str, str], list] = defaultdict(list)
    for unit in lease_units(m, data):
        c, s = unit.campus_id, unit.start
        upper = unit.var.ub
        for d in deliveries.get(c, ()):
            if not s <= d < s + term[unit.offer_id]:
                continue
            mw = unit.delivered_mw(d, horizon)
            if mw > 0:
                terms[c, d].append(mw * unit.var)
                most[c, d][unit.offer_id, s] += mw * upper
        if unit.var_name == "lease_accepted":
            own_deliveries[unit.offer_id, c].update(unit.delivery_month(after, horizon)
                                                    for _, after in unit.phases)
            options[unit.offer_id, c].append(unit)

    needs: dict[tuple[str, str, int], list] = {}
    for (offer_id, c), units in options.items():
        if initial[c] > 0:
            continue  # halls as built need not be whole blocks: no rounding to claim
        for d in sorted(own_deliveries[offer_id, c]):
            row = _rounded_row(units, d, term[offer_id], block[c], horizon)
            # a row without rounding is implied by leases_within_ready_capacity; rows over
            # several starts are kept anyway because the benchmark was measured with them
            if any(rounded for _, _, rounded in row) or len(row) > 1:
                needs[offer_id, c, d] = [whole * var for whole, var, _ in row]

    binding = [key for key in terms if _most(most[key]) > capacity[key[0]] + 1e-9]
    m.leases_fit_in_whole_blocks = pyo.Constraint(
        binding, rule=lambda m, c, d: pyo.quicksum(terms[c, d]) <= capacity[c],
        doc="IT MW delivered by leases active in a delivery month ≤ whole blocks that fit [IT MW]")
    m.lease_needs_whole_blocks = pyo.Constraint(
        list(needs), rule=lambda m, o, c, d: pyo.quicksum(needs[o, c, d]) <= m.it_ready_mw[c, d],
        doc="an accepted lease needs its MW ready, rounded up to whole blocks [IT MW]")


def _rounded_row(units: list, d: int, term: int, block: float, horizon: int) -> list:
    """(IT MW rounded up to whole blocks, variable, whether rounding added MW) of each start
    of one offer at one campus that is active in month d."""
    row = []
    for unit in units:
        if unit.start <= d < unit.start + term:
            mw = unit.delivered_mw(d, horizon)
            whole = block * math.ceil(mw / block - 1e-9)
            if whole > 0:
                row.append((whole, unit.var, whole > mw + 1e-9))
    return row


def _most(by_offer_start: dict[tuple[str, int], float]) -> float:
    best: dict[str, float] = defaultdict(float)
    for (offer_id, _), mw in by_offer_start.items():
        best[offer_id] = max(best[offer_id], mw)
    return sum(best.values())
