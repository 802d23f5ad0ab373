r"""Salvage family: miners displaced by conversion are sold, once.

Built only when some campus has ``asic_salvage_usd_per_mw`` > 0.

.. math::

    \text{miners\_displaced\_by\_conversion}: \;
        F_{c,t} \ge \text{pue}_c S_{c,t} - \max(0, G_c - \bar M_c)

    \text{miners\_sold\_from\_converted\_halls}: \; F_{c,t} \le \text{pue}_c S_{c,t}

    \text{miners\_sold\_stay\_sold}: \; F_{c,t} \ge F_{c,t-1}

    \text{mining\_within\_remaining\_fleet}: \; M_{c,t} \le \bar M_c - F_{c,t}

    \text{asic\_salvage}_{c,t} = s_c \, (F_{c,t} - F_{c,t-1})

F is the cumulative MW of miners sold, 0 ≤ F ≤ M̄. Conversion forces out the miners that no
longer fit the grid beside the halls under construction — beyond what the grid's spare
headroom G − M̄ absorbs (first row); the second row lets the plan also sell, rather than keep
idle, miners of halls taken for conversion, never more. Miners that never fitted the grid
(M̄ > G) are not displaced by conversion and are not sold.
"""

from __future__ import annotations

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData


def has_salvage(data: ModelData) -> bool:
    return bool((data.campuses["asic_salvage_usd_per_mw"] > 0).any())


def define_salvage(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    campuses = data.campuses
    miner = campuses["miner_mw"].to_dict()
    grid = campuses["grid_mw"].to_dict()
    pue = campuses["hpc_pue"].to_dict()
    m.miners_sold_mw = pyo.Var(m.CAMPUS_MONTHS, bounds=lambda _, c, t: (0.0, miner[c]),
                               doc="cumulative MW of miners sold [MW]")

    @m.Constraint(m.CAMPUS_MONTHS, doc="miners that no longer fit beside conversion are sold")
    def miners_displaced_by_conversion(m, c, t):
        headroom = max(0.0, grid[c] - miner[c])
        return m.miners_sold_mw[c, t] >= pue[c] * m.it_started_mw[c, t] - headroom

    @m.Constraint(m.CAMPUS_MONTHS, doc="miners sold ≤ facility MW taken by conversion")
    def miners_sold_from_converted_halls(m, c, t):
        return m.miners_sold_mw[c, t] <= pue[c] * m.it_started_mw[c, t]

    @m.Constraint(m.CAMPUS_MONTHS, doc="miners sold are sold once")
    def miners_sold_stay_sold(m, c, t):
        if t == 0:
            return pyo.Constraint.Skip
        return m.miners_sold_mw[c, t] >= m.miners_sold_mw[c, t - 1]

    @m.Constraint(m.CAMPUS_MONTHS, doc="mining ≤ miners not sold")
    def mining_within_remaining_fleet(m, c, t):
        return m.mining_mw[c, t] <= miner[c] - m.miners_sold_mw[c, t]


def record_salvage_cash(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    position, campus_of, month = data.campus_month_arrays()
    value = data.per_campus_month("asic_salvage_usd_per_mw").astype(float)
    # F_t enters month t with +s and month t+1 with −s: the sale is the increase of F.
    cash.add("asic_salvage_usd", m.miners_sold_mw, position, campus_of, month, value)
    nxt = month + 1 < data.horizon_months
    cash.add("asic_salvage_usd", m.miners_sold_mw, position[nxt], campus_of[nxt], month[nxt] + 1,
             -value[nxt])
