r"""Limits family: tenant concentration and supply-chain caps on construction starts.

Each constraint is built only when its limit is set in ``limits``.

.. math::

    \text{tenant\_share\_cap}_\tau: \;
        \sum_{o \in \tau} W_o \, \text{accepted}_o \le \kappa \sum_{o} W_o \, \text{accepted}_o

    \text{it_started_per_year_cap}_y: \; \sum_{c} \sum_{t \in y} b_c B_{c,t} \le \text{cap}

    \text{region\_it\_started\_per\_year\_cap}_{g,y}: \;
        \sum_{c \in g} \sum_{t \in y} b_c B_{c,t} \le \text{cap}_g

Concentration counts each accepted lease once at its full IT MW over the whole plan, so the
first lease signed is not "100 % of the portfolio" before the others start. Leases already
running are signed: where a tenant's running leases alone exceed κ of all running IT MW, the
excess E_τ is added to its cap (right-hand side + E_τ), so the cap limits what is added.
Supply caps apply per calendar year; a year only partly inside the horizon gets the full cap.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData


def define_tenant_concentration(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    it_mw = data.offers["it_mw"].to_dict()
    tenants = data.offers["tenant"].to_dict()
    total = pyo.quicksum(it_mw[o] * m.offer_accepted[o] for o in data.offer_ids)
    share = data.max_tenant_share

    excess = grandfathered_excess_mw(data)

    @m.Constraint(sorted(set(tenants.values())), doc="one tenant's IT MW ≤ share of all leased")
    def tenant_share_cap(m, tenant):
        own = [o for o in data.offer_ids if tenants[o] == tenant]
        return pyo.quicksum(it_mw[o] * m.offer_accepted[o] for o in own) \
            <= share * total + excess.get(tenant, 0.0)


def grandfathered_excess_mw(data: ModelData) -> dict[str, float]:
    """IT MW by which a tenant's running leases already exceed the share cap of the running
    leases alone: signed and running, they stay; the cap limits what is added to them."""
    it_mw = data.offers["it_mw"].to_dict()
    tenants = data.offers["tenant"].to_dict()
    running_total = sum(it_mw[o] for o in data.running)
    own: dict[str, float] = defaultdict(float)
    for o in data.running:
        own[tenants[o]] += it_mw[o]
    return {t: mw - data.max_tenant_share * running_total for t, mw in own.items()
            if mw > data.max_tenant_share * running_total + 1e-9}


def _starts_by_year(m: pyo.ConcreteModel, data: ModelData, campus_ids) -> dict[int, list]:
    block = data.campuses["hpc_block_it_mw"].to_dict()
    by_year: dict[int, list] = defaultdict(list)
    for c in campus_ids:
        for t in range(data.horizon_months):
            by_year[(data.first_month + t) // 12].append(block[c] * m.blocks_started[c, t])
    return by_year


def define_supply_chain_caps(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    if data.max_it_mw_started_per_year is not None:
        by_year = _starts_by_year(m, data, data.campus_ids)
        cap = data.max_it_mw_started_per_year

        @m.Constraint(sorted(by_year), doc="IT MW starting construction per year ≤ cap")
        def it_started_per_year_cap(m, year):
            return pyo.quicksum(by_year[year]) <= cap

    caps = data.max_it_mw_started_per_year_by_region
    if caps:
        region = data.campuses["region"].to_dict()
        keys, terms = [], {}
        for name, cap in caps.items():
            members = [c for c in data.campus_ids if region[c] == name]
            for year, starts in _starts_by_year(m, data, members).items():
                keys.append((name, year))
                terms[name, year] = (starts, cap)

        @m.Constraint(keys, doc="IT MW starting construction per region and year ≤ cap")
        def region_it_started_per_year_cap(m, name, year):
            starts, cap = terms[name, year]
            return pyo.quicksum(starts) <= cap
