r"""Mining family: how many MW mine at each campus in each month, and the cash it makes.

.. math::

    0 \le \text{mining\_mw}_{c,t} \le \text{miner\_mw}_c

    \text{hashrate}_{c,t} = \text{mining\_mw}_{c,t} \times 1000 / \text{eff}_c  \quad [PH/s]

    \text{mining\_revenue}_{c,t} = hp_t \times \text{hashrate}_{c,t} \times d_t

    \text{power\_cost}_{c,t} = \text{mining\_mw}_{c,t} \times 24 \times d_t \times p_c

    \text{mining\_opex}_{c,t} = \text{mining\_mw}_{c,t} \times o^{mine}_c

Miners switch off at no cost, so a month with a negative margin simply mines nothing.
"""

from __future__ import annotations

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData


def define_mining(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    campuses = data.campuses
    miner_mw = campuses["miner_mw"].to_dict()
    m.mining_mw = pyo.Var(m.CAMPUS_MONTHS, domain=pyo.NonNegativeReals,
                          bounds=lambda _, c, t: (0.0, miner_mw[c]),
                          doc="MW mining [MW]")


def record_mining_cash(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    position, campus_id, month = data.campus_month_arrays()
    days = data.days[month]
    ph_per_mw = 1000.0 / data.per_campus_month("fleet_efficiency_j_per_th")
    power_price = data.per_campus_month("power_price_usd_per_mwh")
    opex = data.per_campus_month("mining_opex_usd_per_mw_month")

    revenue = data.hashprice_usd_per_ph_day[month] * ph_per_mw * days
    cash.add("mining_revenue_usd", m.mining_mw, position, campus_id, month, revenue)
    cash.add("power_cost_usd", m.mining_mw, position, campus_id, month, 24.0 * days * power_price)
    cash.add("mining_opex_usd", m.mining_mw, position, campus_id, month, opex)
