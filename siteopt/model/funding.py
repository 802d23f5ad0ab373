r"""Funding limits: the yearly capex budget and the cash floor.

.. math::

    \text{capex\_within\_budget}_y: \sum_{t \in y} (\text{capex}_t - \text{tenant\_capex}_t)
        \le \text{budget}_y

    \text{cash\_balance}_t: \; \text{cash}_t = \text{cash}_{t-1} + \text{operating}_t
        + \text{investing}_t + \text{financing}_t, \quad \text{cash}_{-1} = \text{opening}

    \text{cash}_t \ge \text{min\_cash}

The budget applies to every counted month of a calendar year, after the horizon too; the
cash balance runs inside the horizon. Financing is debt drawn and BTC sold less interest and
principal paid.
"""

from __future__ import annotations

from collections import defaultdict

import pyomo.environ as pyo

from siteopt.contract import lines
from siteopt.model.cash import USD_PER_MUSD, CashLedger
from siteopt.model.data import ModelData
from siteopt.model.flows import monthly_flows


def landlord_capex_flows(m: pyo.ConcreteModel, cash: CashLedger) -> dict[int, object]:
    """Tenant capex − capex per month (signed: minus the landlord's capex), million USD."""
    return monthly_flows(m, cash, ("capex_usd", "tenant_capex_usd"), "landlord_capex_flow_musd",
                         "tenant capex less capex of the month, carried by its changes "
                         "[million USD]")


def define_capex_budget(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    budget = data.finance.capex_budget_usd_per_year
    signed = landlord_capex_flows(m, cash)
    by_year: dict[int, list] = defaultdict(list)
    for t, expr in signed.items():
        by_year[(data.first_month + t) // 12].append(expr)
    caps = {y: (budget.get(y) if isinstance(budget, dict) else budget) for y in by_year}
    years = sorted(y for y, cap in caps.items() if cap is not None)

    @m.Constraint(years, doc="landlord capex paid in a calendar year ≤ budget [M USD]")
    def capex_within_budget(m, year):
        return -pyo.quicksum(by_year[year]) <= caps[year] / USD_PER_MUSD


def define_cash_balance(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    finance = data.finance
    flows = monthly_flows(m, cash, [*lines("operating"), *lines("investing"),
                                    *lines("financing")], "net_cash_flow_musd",
                          "operating, investing and financing cash of the month, carried by "
                          "its changes [million USD]")
    m.cash_musd = pyo.Var(m.MONTHS, bounds=(finance.min_cash_usd / USD_PER_MUSD, None),
                          doc="cash at month end [million USD]")

    @m.Constraint(m.MONTHS, doc="cash rolls forward with the month's cash flows [M USD]")
    def cash_balance(m, t):
        before = m.cash_musd[t - 1] if t > 0 else finance.opening_cash_usd / USD_PER_MUSD
        return m.cash_musd[t] == before + flows.get(t, 0.0)
