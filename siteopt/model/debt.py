r"""Project debt family (``finance.debt``): drawn as landlord capex is paid.

.. math::

    \text{debt\_within\_ltc}: \; \sum_{\tau \le t} \text{debt\_draw}_\tau \le \lambda
        \sum_{\tau \le t} (\text{capex}_\tau - \text{tenant\_capex}_\tau)

Debt follows capex as it is paid: what has been drawn never exceeds the loan-to-cost share of
the landlord's capex paid so far. (Counted cumulatively because a month can bring more tenant
capex than capex — a phase's reimbursement after its hall was built — and a debt limit must
never force spending.)

A draw of 1 USD in month t is repaid from t + 1 over n months at the monthly rate
i = (1 + r)^{1/12} - 1: *level* pays the annuity i / (1 - (1 + i)^{-n}) a month, *bullet* pays
interest i a month and the principal at t + n. Interest and principal paid inside the horizon
are cash lines; the principal still owed after the horizon's last payment is
``debt_outstanding_usd`` in month H - 1, subtracted from the value.
"""

from __future__ import annotations

import numpy as np
import pyomo.environ as pyo

from siteopt.model.cash import COMPANY, USD_PER_MUSD, CashLedger
from siteopt.model.data import ModelData
from siteopt.model.funding import landlord_capex_flows


def repayment_schedule(rate_pct_per_year: float, tenor_months: int,
                       amortisation: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per USD drawn: interest, principal paid in months 1..n after the draw, and the
    balance owed after each of those months."""
    i = (1 + rate_pct_per_year / 100) ** (1 / 12) - 1
    n = tenor_months
    interest, principal, balance = np.zeros(n), np.zeros(n), np.zeros(n)
    owed = 1.0
    payment = (i / (1 - (1 + i) ** -n) if i > 0 else 1 / n) if amortisation == "level" else 0.0
    for j in range(n):
        interest[j] = owed * i
        principal[j] = payment - interest[j] if amortisation == "level" else \
            (owed if j == n - 1 else 0.0)
        owed -= principal[j]
        balance[j] = owed
    return interest, principal, balance


def define_debt(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    debt = data.finance.debt
    m.debt_draw = pyo.Var(m.MONTHS, domain=pyo.NonNegativeReals,
                          doc="debt drawn [million USD]")
    landlord_capex = landlord_capex_flows(m, cash)  # tenant capex − capex: minus the landlord's
    share = debt.max_ltc_pct / 100
    m.debt_drawn_musd = pyo.Var(m.MONTHS, doc="debt drawn up to the month [million USD]")
    m.landlord_capex_paid_musd = pyo.Var(m.MONTHS,
                                         doc="landlord capex paid up to the month [million USD]")

    @m.Constraint(m.MONTHS, doc="debt drawn so far accumulates the draws [M USD]")
    def debt_drawn_balance(m, t):
        before = m.debt_drawn_musd[t - 1] if t > 0 else 0.0
        return m.debt_drawn_musd[t] == before + m.debt_draw[t]

    @m.Constraint(m.MONTHS, doc="landlord capex paid so far accumulates the months' [M USD]")
    def landlord_capex_paid_balance(m, t):
        before = m.landlord_capex_paid_musd[t - 1] if t > 0 else 0.0
        return m.landlord_capex_paid_musd[t] == before - landlord_capex.get(t, 0.0)

    @m.Constraint(m.MONTHS, doc="debt drawn so far ≤ LTC × landlord capex paid so far [M USD]")
    def debt_within_ltc(m, t):
        return m.debt_drawn_musd[t] <= share * m.landlord_capex_paid_musd[t]


def record_debt_cash(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    debt = data.finance.debt
    interest, principal, balance = repayment_schedule(debt.rate_pct_per_year,
                                                      debt.tenor_months, debt.amortisation)
    horizon = data.horizon_months
    positions, months, paid_i, paid_p = [], [], [], []
    owed_pos, owed_usd = [], []
    for t in range(horizon):
        paid = min(debt.tenor_months, horizon - 1 - t)  # payments inside the horizon
        positions.append(np.full(paid, t))
        months.append(t + 1 + np.arange(paid))
        paid_i.append(interest[:paid])
        paid_p.append(principal[:paid])
        left = 1.0 if paid == 0 else balance[paid - 1]
        if left > 0:
            owed_pos.append(t)
            owed_usd.append(left)
    t_all = np.arange(horizon)
    unit = USD_PER_MUSD  # a unit of debt_draw is a million USD
    cash.add("debt_draw_usd", m.debt_draw, t_all, COMPANY, t_all, unit)
    pos, mon = np.concatenate(positions), np.concatenate(months)
    cash.add("interest_usd", m.debt_draw, pos, COMPANY, mon, unit * np.concatenate(paid_i))
    cash.add("principal_usd", m.debt_draw, pos, COMPANY, mon, unit * np.concatenate(paid_p))
    cash.add("debt_outstanding_usd", m.debt_draw, owed_pos, COMPANY,
             np.full(len(owed_pos), horizon - 1), unit * np.asarray(owed_usd))
