r"""Objective: net present value of all counted cash, in million USD for HiGHS.

.. math::

    \max \; \text{NPV} = \sum_{c} \sum_{t < T} \text{net\_cash}_{c,t} \cdot (1 + r)^{-(t+1)/12}

    \text{net\_cash} = \text{mining\_revenue} - \text{power\_cost} - \text{mining\_opex}
        + \text{lease\_revenue} - \text{hpc\_opex} - \text{capex}

Cash falls at month end; r is the annual effective discount rate. T is the horizon H, or, with
`value_beyond_horizon`, the last month that carries committed cash.
"""

from __future__ import annotations

import pyomo.environ as pyo

from siteopt.model.cash import USD_PER_MUSD, CashLedger
from siteopt.model.data import ModelData

USD_PER_OBJECTIVE_UNIT = USD_PER_MUSD  # HiGHS sees million USD: coefficients 1e-2 to 1e3


def define_objective(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    coefficients, constant = cash.objective_coefficients()
    terms = [constant / USD_PER_OBJECTIVE_UNIT]
    for name, by_position in coefficients.items():
        var_data = list(m.component(name).values())
        terms += [(coef / USD_PER_OBJECTIVE_UNIT) * var_data[pos]
                  for pos, coef in by_position.items()]
    m.npv = pyo.Objective(expr=pyo.quicksum(terms), sense=pyo.maximize,
                          doc="net present value of equity cash [million USD]")
