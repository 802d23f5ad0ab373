r"""BTC treasury family (``finance.btc_treasury_btc`` > 0): sell held BTC to fund the plan.

.. math::

    \text{btc\_sold}_t \ge 0, \quad
    \text{btc\_sold\_within\_treasury}: \sum_t \text{btc\_sold}_t \le \text{BTC}_0

    \text{btc\_sale}_t = \text{btc\_sold}_t \cdot \text{price}_t

    \text{btc\_treasury\_value}_{H-1} = (\text{BTC}_0 - \sum_t \text{btc\_sold}_t)
        \cdot \text{price}_{H-1}

What is left at the horizon's end counts at the last month's price. Mined BTC is sold as it is
mined (it is in mining revenue).
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from siteopt.model.cash import COMPANY, CashLedger
from siteopt.model.data import ModelData


def define_btc_treasury(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    held = data.finance.btc_treasury_btc
    m.btc_sold = pyo.Var(m.MONTHS, bounds=(0.0, held), doc="BTC sold from the treasury [BTC]")
    m.btc_sold_within_treasury = pyo.Constraint(
        expr=pyo.quicksum(m.btc_sold[t] for t in m.MONTHS) <= held,
        doc="no more BTC sold than held [BTC]")


def record_treasury_cash(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    held = data.finance.btc_treasury_btc
    months = np.arange(data.horizon_months)
    price = data.btc_price_usd
    last = data.horizon_months - 1
    cash.add("btc_sale_usd", m.btc_sold, months, COMPANY, months, price)
    cash.add_constant("btc_treasury_value_usd", COMPANY, last, held * price[last])
    cash.add("btc_treasury_value_usd", m.btc_sold, months, COMPANY, np.full(len(months), last),
             -price[last])
