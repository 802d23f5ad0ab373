r"""Tenant capex family: the tenant's share of the fit-out of the blocks built for its lease.

Built only when some offer has ``tenant_capex_pct`` > 0.

A tenant reimburses fit-out capex spent for it: the blocks built for its delivery. A block
started in τ becomes ready in τ + L_c; the deliveries of that month are the first to use it,
so it is theirs to fund. A hall that was ready before — built for an earlier lease, re-let,
or standing idle — was built for someone else and brings no tenant capex. For each phase k
of each lease unit u (an accepted offer at a campus, or a block of a split offer) the
variable f_{u,k} ∈ [0, x_u] is the share of its W_{u,k} IT MW whose fit-out its tenant pays:

.. math::

    \text{tenant\_funded\_within\_lease}_{u,k}: \; f_{u,k} \le x_u

    \text{tenant\_capex\_within\_new\_blocks}_{c,d}: \;
        \sum_{(u,k) \text{ at } c:\; \min(s_u + a_k, H-1) = d} W_{u,k} \, f_{u,k}
        \le b_c \, B_{c,\, d - L_c}

for every month d in which such a phase can be delivered at c (B_{c,t} = 0 for t < 0; a
phase due after the horizon needs its capacity by H-1, as in the leases family, so it funds
blocks ready then). Each block funds at most its own IT MW, once: a plan never collects
more tenant capex than θ times the capex it paid, campus by campus.

Cash: ``tenant_capex_usd`` is θ_o W_{u,k} K_c / L_c per unit of f_{u,k} in each of the L_c
months before the delivery s + a_k — the build months of the blocks it funds, so never before
that capex is paid. Months whose cash is not counted are the company's
``tenant_capex_receivable_usd`` in month H-1, at present value (the capex was paid inside
the horizon; the tenant's share of it is owed).

What this leaves to the plan: a block built earlier than its first lease needs it (ready
before the delivery month) brings no tenant capex; and a block shared in one delivery month
by a lease with tenant capex and one without is funded for the first lease's MW only.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData
from siteopt.model.leases import LeaseEntries, LeaseUnit, lease_units


def has_tenant_capex(data: ModelData) -> bool:
    return bool((data.offers["tenant_capex_pct"] > 0).any())


def tenant_funded_phases(m: pyo.ConcreteModel,
                         data: ModelData) -> list[tuple[tuple, LeaseUnit, float, int]]:
    """(index, lease unit, IT MW per unit, months after start) of every phase of a lease
    unit whose offer has tenant capex, in a fixed order; index = (offer, campus, start, phase)."""
    share = data.offers["tenant_capex_pct"].to_dict()
    out = []
    for unit in lease_units(m, data):
        if not share[unit.offer_id]:
            continue
        for k, (mw, after) in zip(unit.phase_ids, unit.phases):
            out.append(((unit.offer_id, unit.campus_id, unit.start, k), unit, mw, after))
    return out


def define_tenant_capex(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    phases = tenant_funded_phases(m, data)
    lease_var = {index: unit.var for index, unit, _, _ in phases}
    m.TENANT_FUNDED_PHASES = pyo.Set(initialize=list(lease_var), dimen=4, ordered=True,
                                     doc="offer × campus × start × phase with tenant capex")
    m.tenant_funded = pyo.Var(m.TENANT_FUNDED_PHASES,
                              bounds=lambda _, *k: (0.0, lease_var[k].ub),
                              doc="units of a lease phase whose blocks were built for it "
                                  "[lease units]")

    @m.Constraint(m.TENANT_FUNDED_PHASES, doc="funded share ≤ the lease unit accepted")
    def tenant_funded_within_lease(m, *index):
        return m.tenant_funded[index] <= lease_var[index]

    block = data.campuses["hpc_block_it_mw"].to_dict()
    build = data.campuses["build_months"].astype(int).to_dict()
    last = data.horizon_months - 1
    delivered: dict[tuple[str, int], list] = defaultdict(list)
    for index, unit, mw, after in phases:
        delivered[unit.campus_id, min(unit.start + after, last)].append(
            mw * m.tenant_funded[index])

    @m.Constraint(sorted(delivered), doc="IT MW whose fit-out tenants fund in a delivery "
                                         "month ≤ IT MW of the blocks ready that month [IT MW]")
    def tenant_capex_within_new_blocks(m, c, d):
        new = block[c] * m.blocks_started[c, d - build[c]] if d >= build[c] else 0.0
        return pyo.quicksum(delivered[c, d]) <= new


def record_tenant_capex_cash(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    share = (data.offers["tenant_capex_pct"] / 100).to_dict()
    capex = data.campuses["capex_usd_per_it_mw"].to_dict()
    build = data.campuses["build_months"].astype(int).to_dict()
    entries = LeaseEntries()
    for position, (index, unit, mw, after) in enumerate(tenant_funded_phases(m, data)):
        c, delivery = unit.campus_id, unit.start + after
        funded = LeaseUnit("tenant_funded", position, m.tenant_funded[index], unit.offer_id, c,
                           unit.start, ((mw, after),), unit.offer_share, (index[3],))
        entries.add("tenant_capex_usd", funded, np.arange(delivery - build[c], delivery),
                    share[unit.offer_id] * mw * capex[c] / build[c], phase=index[3])
    entries.flush(cash)
