r"""Leases family: which offers are accepted, where and from when, and the rent they pay.

.. math::

    \text{lease\_accepted}_{o,c,s} \in \{0, 1\} \quad
        (c \text{ eligible}, s \in [\text{earliest}_o, \text{latest}_o] \cap [0, H),
         s \ge \text{permit}_c + L_c)

    \text{offer\_accepted\_once}: \; \sum_{c,s} \text{lease\_accepted}_{o,c,s}
        \;\begin{cases} = 1 & o \text{ signed} \\ \le 1 & \text{otherwise} \end{cases}

    \text{it\_leased\_balance}: \; Q_{c,t} = Q_{c,t-1}
        + \sum_{o} \text{it\_mw}_o \cdot \text{lease\_accepted}_{o,c,t}
        - \sum_{o} \text{it\_mw}_o \cdot \text{lease\_accepted}_{o,c,t-T_o}

    \text{leases\_within\_ready\_capacity}: \; Q_{c,t} \le R_{c,t}

    \text{lease\_revenue}_{c,t} = \sum_{o,s:\, s \le t < s+T_o} \text{lease\_accepted}_{o,c,s}
        \cdot \text{it\_mw}_o \cdot 1000 \cdot r_o \cdot (1 + e_o)^{\lfloor (t-s)/12 \rfloor}

    \text{hpc\_opex}_{c,t} = \sum_{o,s:\, s \le t < s+T_o} \text{lease\_accepted}_{o,c,s}
        \cdot \text{it\_mw}_o \cdot o^{hpc}_c \quad (t \ge H)

Q is IT MW leased. A lease running past the horizon was already covered at H-1, and ready
capacity never falls, so coverage needs checking only inside the horizon. After the horizon
the landlord's opex follows the leased MW (unleased capacity has no value there).
Starts before permit + build can never be covered and are not created.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData


def define_leases(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    offers = data.offers
    options = data.lease_options
    it_mw = offers["it_mw"].to_dict()
    term = offers["term_months"].astype(int).to_dict()
    max_it = data.campuses["hpc_max_it_mw"].to_dict()

    m.LEASE_OPTIONS = pyo.Set(initialize=[(o.offer_id, o.campus_id, o.start) for o in options],
                              dimen=3, ordered=True, doc="offer × campus × start month")
    m.lease_accepted = pyo.Var(m.LEASE_OPTIONS, domain=pyo.Binary,
                               doc="offer accepted at the campus from the month [0/1]")
    m.it_leased_mw = pyo.Var(m.CAMPUS_MONTHS, bounds=lambda _, c, t: (0.0, max_it[c]),
                             doc="IT MW under lease [IT MW]")

    by_offer: dict[str, list] = defaultdict(list)
    starts: dict[tuple[str, int], list] = defaultdict(list)
    ends: dict[tuple[str, int], list] = defaultdict(list)
    for key in m.LEASE_OPTIONS:
        offer_id, campus_id, start = key
        by_offer[offer_id].append(key)
        starts[campus_id, start].append(key)
        ends[campus_id, start + term[offer_id]].append(key)

    signed = offers["signed"].to_dict()

    @m.Constraint(data.offer_ids, doc="each offer at most once; signed leases exactly once")
    def offer_accepted_once(m, o):
        if not by_offer[o]:
            return pyo.Constraint.Skip
        total = pyo.quicksum(m.lease_accepted[k] for k in by_offer[o])
        return total == 1 if signed[o] else total <= 1

    @m.Constraint(m.CAMPUS_MONTHS, doc="IT MW leased: starts add, ends remove [IT MW]")
    def it_leased_balance(m, c, t):
        before = m.it_leased_mw[c, t - 1] if t > 0 else 0.0
        start = pyo.quicksum(it_mw[k[0]] * m.lease_accepted[k] for k in starts[c, t])
        end = pyo.quicksum(it_mw[k[0]] * m.lease_accepted[k] for k in ends[c, t])
        return m.it_leased_mw[c, t] == before + start - end

    @m.Constraint(m.CAMPUS_MONTHS, doc="leased IT MW ≤ ready IT MW [IT MW]")
    def leases_within_ready_capacity(m, c, t):
        return m.it_leased_mw[c, t] <= m.it_ready_mw[c, t]

    _record_lease_cash(m, data, cash)


def rent_schedule(it_mw: float, rate_usd_per_kw_month: float, escalator_pct: float,
                  term_months: int) -> np.ndarray:
    """Monthly rent over a lease's term, month 0 = lease start (USD)."""
    years = np.arange(term_months) // 12
    return it_mw * 1000.0 * rate_usd_per_kw_month * (1 + escalator_pct / 100) ** years


def _record_lease_cash(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    options = data.lease_options
    if not options:
        return
    offers = data.offers
    horizon = data.horizon_months
    term = np.array([int(offers.at[o.offer_id, "term_months"]) for o in options])
    position = np.repeat(np.arange(len(options)), term)
    campus_id = np.repeat(np.array([o.campus_id for o in options], dtype=object), term)
    start = np.array([o.start for o in options])
    month = np.repeat(start, term) + np.concatenate([np.arange(n) for n in term])
    rent = np.concatenate([
        rent_schedule(*offers.loc[o.offer_id, ["it_mw", "rate_usd_per_kw_month",
                                               "escalator_pct_per_year"]], n)
        for o, n in zip(options, term)])
    cash.add("lease_revenue_usd", m.lease_accepted, position, campus_id, month, rent)

    after = month >= horizon
    opex = data.campuses["hpc_opex_usd_per_it_mw_month"].to_dict()
    leased_opex = np.array([offers.at[o.offer_id, "it_mw"] * opex[o.campus_id] for o in options])
    cash.add("hpc_opex_usd", m.lease_accepted, position[after], campus_id[after], month[after],
             np.repeat(leased_opex, term)[after])
