r"""Spot family: ready IT MW that no lease uses can be let at a market rate.

Built only when ``market.hpc_spot_rate_usd_per_kw_month`` and ``market.hpc_spot_share_pct``
are both positive (by default nothing is built on speculation).

.. math::

    0 \le \text{spot\_mw}_{c,t}, \quad \text{spot\_mw}_{c,t} = 0 \text{ for } t < a

    \text{spot\_within\_unleased\_ready}: \;
        \text{spot\_mw}_{c,t} \le \sigma \, (R_{c,t} - Q_{c,t})

    \text{spot\_after\_absorption}: \; \text{spot\_mw}_{c,t} \le \sigma \, R_{c,t-a}

    \text{spot\_revenue}_{c,t} = \text{spot\_mw}_{c,t} \cdot 1000 \cdot r^{spot} \quad (t < H)

σ is the share of the unleased ready capacity the market absorbs, and a the absorption
delay: only capacity ready for at least a months is let. Spot lettings end with the horizon
(unleased capacity has no value after it).
"""

from __future__ import annotations

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData


def has_spot_market(data: ModelData) -> bool:
    return spot_market_on(data.spot_rate_usd_per_kw_month, data.spot_share)


def spot_market_on(rate_usd_per_kw_month: float, share: float) -> bool:
    return rate_usd_per_kw_month > 0 and share > 0


def define_spot_market(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    delay = data.spot_absorption_months
    max_it = data.campuses["hpc_max_it_mw"].to_dict()
    m.spot_mw = pyo.Var(m.CAMPUS_MONTHS,
                        bounds=lambda _, c, t: (0.0, max_it[c] if t >= delay else 0.0),
                        doc="ready, unleased IT MW let at the spot rate [IT MW]")

    @m.Constraint(m.CAMPUS_MONTHS, doc="spot ≤ share × (IT MW ready − leased) [IT MW]")
    def spot_within_unleased_ready(m, c, t):
        if t < delay:
            return pyo.Constraint.Skip
        return m.spot_mw[c, t] <= data.spot_share * (m.it_ready_mw[c, t] - m.it_leased_mw[c, t])

    @m.Constraint(m.CAMPUS_MONTHS, doc="spot ≤ share × IT MW ready a months ago [IT MW]")
    def spot_after_absorption(m, c, t):
        if t < delay:
            return pyo.Constraint.Skip
        return m.spot_mw[c, t] <= data.spot_share * m.it_ready_mw[c, t - delay]


def record_spot_cash(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    position, campus_id, month = data.campus_month_arrays()
    cash.add("spot_revenue_usd", m.spot_mw, position, campus_id, month,
             1000.0 * data.spot_rate_usd_per_kw_month)
