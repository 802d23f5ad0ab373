r"""Terminal value by EBITDA multiple (``finance.terminal_value.method: ebitda_multiple``).

.. math::

    \text{hpc\_terminal\_value}_{H-1} = \mu^{hpc} \sum_{t=H-12}^{H-1}
        (\text{lease\_revenue} + \text{spot\_revenue} - \text{hpc\_opex})_t

    \text{mining\_terminal\_value}_{H-1} = \mu^{mine} \sum_{t=H-12}^{H-1}
        (\text{mining\_revenue} - \text{power\_cost} - \text{mining\_opex})_t

Both count at the horizon's last month, discounted from there. With this method nothing
after the horizon is counted otherwise: the multiple values the business from then on. A
horizon shorter than a year is annualised (a multiple is a price per year of earnings): the
lines earned by the day (mining revenue, power) times 365.25 / the days of its n < 12 months,
the monthly ones (rent, opex) times 12 / n — so a stationary business is worth the same
whatever the horizon's length, to within the 365 or 366 days of a last full year.

The multiple values the run-rate of rent; amounts already settled inside the horizon but
owed or due after it are valued beside it, at present value, by the families that own them
(``prepayment_liability_usd``: rent already received as a prepayment and still to be
credited; ``tenant_capex_receivable_usd``: the tenant's share of capex already paid).
"""

from __future__ import annotations

import pyomo.environ as pyo

from siteopt.contract import LINE, lines
from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData


def uses_ebitda_multiple(data: ModelData) -> bool:
    return data.finance.terminal_value.method == "ebitda_multiple"


def record_terminal_value(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    """A ledger step: the multiples of the EBITDA the other families recorded, in month
    H-1; it adds nothing to the model."""
    last = data.horizon_months - 1
    months = range(max(0, last - 11), last + 1)
    per_year = annualisation(len(months), float(data.days[list(months)].sum()))
    tv = data.finance.terminal_value
    for name, ebitda, multiple in (
            ("hpc_terminal_value_usd", lines(business="hpc", ebitda=True),
             tv.hpc_ebitda_multiple),
            ("mining_terminal_value_usd", lines(business="mining", ebitda=True),
             tv.mining_ebitda_multiple)):
        for line in ebitda:
            scale = per_year["day" if LINE[line].per_day else "month"]
            cash.derive(name, (line,), months, last, multiple * scale)


def annualisation(months: int, days: float) -> dict[str, float]:
    """Factors that turn the EBITDA of the window into a year's: 1 for a full 12 months;
    12 / n for lines paid by the month and 365.25 / days for lines earned by the day when
    the horizon is shorter (a multiple is a price per year of earnings)."""
    if months >= 12:
        return {"month": 1.0, "day": 1.0}
    return {"month": 12 / months, "day": 365.25 / days}
