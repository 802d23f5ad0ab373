"""Company lines: campus totals, BTC treasury, debt, terminal value, amounts settled at the
horizon, net cash and the cash balance, the funding limits, discounting and the NPV."""

from __future__ import annotations

import numpy as np
import pandas as pd

from siteopt.contract import CAMPUS_SIGN, CASH_LINES, SIGN, Business
from siteopt.inputs.months import days
from siteopt.results.audit.plan import MW_TOL, SHOWN, USD_TOL, Plan, differs, limit_tol


def check_company(plan: Plan, company_month: pd.DataFrame, npv_usd: float,
                  settled: dict[str, float]) -> list[str]:
    """`settled`: valuation line → its expected amount at the horizon's last month."""
    co = company_month.copy()
    co["t"] = plan.month_numbers(co["month"])
    return [*_campus_totals(plan, co), *_treasury(plan, co), *_debt(plan, co),
            *_terminal_value(plan, co), *_settled_lines(plan, co, settled),
            *_cash(plan, co), *_capex_budget(plan, co), *_discounting(plan, co, npv_usd)]


def _column(co: pd.DataFrame, column: str, expected, tol: float = USD_TOL) -> list[str]:
    bad = differs(co[column], expected, tol)
    if not bad.any():  # the usual case: no rows to name (itertuples of the frame is slow)
        return []
    return [f"company {month}: {column} differs from its formula"
            for month in co.loc[bad, "month"].head(SHOWN)]


def _campus_totals(plan: Plan, co: pd.DataFrame) -> list[str]:
    totals = plan.cm.groupby("month")[list(CAMPUS_SIGN)].sum()
    return [problem for line in CAMPUS_SIGN
            for problem in _column(co, line, co["month"].map(totals[line]).fillna(0.0))]


def _treasury(plan: Plan, co: pd.DataFrame) -> list[str]:
    """BTC sold from the treasury at the month's price; the rest valued at the last price."""
    held = plan.scenario.finance.btc_treasury_btc
    sold = co["btc_sold_btc"].where(co["t"] < plan.horizon, 0.0)
    problems = []
    if (sold < -MW_TOL).any() or sold.sum() > held + 1e-9:
        problems.append(f"BTC sold {sold.sum():g} is negative or exceeds the treasury "
                        f"{held:g}")
    price = plan.inputs.market.set_index("month")["btc_price_usd"]
    problems += _column(co, "btc_sale_usd", sold * co["month"].map(price).fillna(0.0))
    last_price = float(plan.inputs.market["btc_price_usd"].iloc[-1])
    return problems + _column(co, "btc_treasury_value_usd", np.where(
        co["t"] == plan.horizon - 1, (held - sold.sum()) * last_price, 0.0))


def _debt(plan: Plan, co: pd.DataFrame) -> list[str]:
    """Draws within max_ltc_pct of the landlord capex paid so far; interest, principal and
    the balance outstanding at the horizon's end from each draw's schedule."""
    debt = plan.scenario.finance.debt
    if debt is None:
        return [problem for line in ("debt_draw_usd", "interest_usd", "principal_usd",
                                     "debt_outstanding_usd")
                for problem in _column(co, line, 0.0)]
    draws = co["debt_draw_usd"].to_numpy()
    landlord = (co["capex_usd"] - co["tenant_capex_usd"]).to_numpy()
    allowed = debt.max_ltc_pct / 100 * np.cumsum(landlord)
    over = np.cumsum(draws) > allowed + limit_tol(allowed)
    problems = [f"company {row.month}: debt drawn so far above max_ltc_pct of the landlord "
                f"capex paid so far" for row in co[over].head(SHOWN).itertuples()]
    interest, principal, outstanding = _debt_schedule(debt, draws, plan.horizon)
    return problems + _column(co, "interest_usd", interest) \
        + _column(co, "principal_usd", principal) \
        + _column(co, "debt_outstanding_usd", outstanding)


def _debt_schedule(debt, draws: np.ndarray,
                   horizon: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interest and principal per month of each draw inside the horizon (level annuity or
    bullet), and what is owed at its last month."""
    i = (1 + debt.rate_pct_per_year / 100) ** (1 / 12) - 1
    n, last = debt.tenor_months, horizon - 1
    interest, principal, outstanding = (np.zeros(len(draws)) for _ in range(3))
    for t, draw in enumerate(draws[:horizon]):
        if draw <= 0:
            continue
        owed = draw
        payment = draw * (i / (1 - (1 + i) ** -n) if i > 0 else 1 / n)
        for j in range(1, min(n, last - t) + 1):
            interest[t + j] += owed * i
            repaid = (payment - owed * i) if debt.amortisation == "level" else \
                (owed if j == n else 0.0)
            principal[t + j] += repaid
            owed -= repaid
        outstanding[last] += max(owed, 0.0)
    return interest, principal, outstanding


def _terminal_value(plan: Plan, co: pd.DataFrame) -> list[str]:
    """With an exit multiple: each business's multiple × the EBITDA of the horizon's last
    12 months (a shorter horizon annualised: by its days for lines earned by the day, by
    its months for the monthly lines)."""
    tv = plan.scenario.finance.terminal_value
    horizon, last = plan.horizon, plan.horizon - 1
    cm = plan.cm
    window = cm[(cm["t"] > last - 12) & (cm["t"] <= last)]
    window_months = min(12, horizon)
    window_days = sum(days(plan.first + t) for t in range(horizon - window_months, horizon))
    by_month = 12 / window_months
    by_day = 365.25 / window_days if window_months < 12 else 1.0

    def ebitda(business: Business) -> float:
        return sum(line.sign * (by_day if line.per_day else by_month)
                   * window[line.name].sum() for line in CASH_LINES
                   if line.business == business and line.ebitda)

    at_exit = (co["t"] == last) & (tv.method == "ebitda_multiple")
    return _column(co, "hpc_terminal_value_usd",
                   np.where(at_exit, tv.hpc_ebitda_multiple * ebitda("hpc"), 0.0)) \
        + _column(co, "mining_terminal_value_usd",
                  np.where(at_exit, tv.mining_ebitda_multiple * ebitda("mining"), 0.0))


def _settled_lines(plan: Plan, co: pd.DataFrame, settled: dict[str, float]) -> list[str]:
    """Valuation lines taking amounts due after the horizon (contract `settles_to`)."""
    last = co["t"] == plan.horizon - 1
    return [problem for line in CASH_LINES if line.settles_to
            for problem in _column(co, line.settles_to,
                                   np.where(last, settled.get(line.settles_to, 0.0), 0.0))]


def _cash(plan: Plan, co: pd.DataFrame) -> list[str]:
    """Net cash the signed sum of every line; the balance from the opening cash, never
    below min_cash_usd when the cash balance is modelled."""
    finance = plan.scenario.finance
    inside = co["t"] < plan.horizon
    net = sum(sign * co[line] for line, sign in SIGN.items())
    flows = (co["operating_cash_usd"] + co["investing_cash_usd"]
             + co["financing_cash_usd"]).where(inside, 0.0)
    balance = (finance.opening_cash_usd or 0.0) + flows.cumsum()
    problems = _column(co, "net_cash_usd", net) + \
        _column(co, "cash_balance_usd", balance.where(inside))
    if finance.opening_cash_usd is not None:
        low = co[inside & (co["cash_balance_usd"] < finance.min_cash_usd
                           - limit_tol(co["cash_balance_usd"]))]
        problems += [f"company {row.month}: cash {row.cash_balance_usd:,.2f} below "
                     f"min_cash_usd" for row in low.head(SHOWN).itertuples()]
    return problems


def _capex_budget(plan: Plan, co: pd.DataFrame) -> list[str]:
    budget = plan.scenario.finance.capex_budget_usd_per_year
    if budget is None:
        return []
    spent = (co["capex_usd"] - co["tenant_capex_usd"]).groupby(
        (plan.first + co["t"]) // 12).sum()
    problems = []
    for year, usd in spent.items():
        cap = budget.get(year) if isinstance(budget, dict) else budget
        if cap is not None and usd > cap + limit_tol(cap):
            problems.append(f"{year}: landlord capex {usd:,.2f} exceeds the budget "
                            f"{cap:,.2f}")
    return problems


def _discounting(plan: Plan, co: pd.DataFrame, npv_usd: float) -> list[str]:
    problems = _column(co, "discount_factor", plan.discount_factor(co["t"]), 1e-12)
    discounted = float((co["net_cash_usd"] * co["discount_factor"]).sum())
    if abs(discounted - npv_usd) > USD_TOL:
        problems.append(f"Σ company net_cash × discount_factor = {discounted:,.2f} but "
                        f"npv_usd = {npv_usd:,.2f}")
    return problems
