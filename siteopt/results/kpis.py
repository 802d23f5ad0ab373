"""The figures a board reads, from the result tables of a plan and of its mining-only baseline.

Definitions (documented in README):
- npv_usd: NPV of equity cash (the objective); unlevered_npv_usd: the same without debt and
  BTC-treasury flows (operating + investing cash and the business's terminal value).
- value_added_usd = npv_usd − baseline_npv_usd, the baseline being the same scenario with no
  conversion and no offers.
- irr_pct: annual IRR, (1 + monthly IRR)^12 − 1, of the incremental equity cash (plan minus
  baseline) month by month; empty when the flows do not change sign.
- payback_month: first month from which cumulative incremental equity cash stays ≥ 0,
  counted from the first month the plan's cash differs from the baseline's; empty when there
  is none, and payback_note says why: "none (same as baseline)" or "never (incremental cash
  stays negative)".
- peak_funding_usd: the deepest cumulative deficit of the plan's operating + investing cash
  inside the horizon (what must be funded from cash, debt or BTC).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from siteopt.contract import LINE, SIGN, lines

# Revenue and EBITDA by business, from the output contract (siteopt.contract)
HPC_REVENUE = tuple(n for n in lines(business="hpc", ebitda=True) if SIGN[n] > 0)
HPC_EBITDA = {n: SIGN[n] for n in lines(business="hpc", ebitda=True)}
MINING_EBITDA = {n: SIGN[n] for n in lines(business="mining", ebitda=True)}
UNLEVERED_KINDS = ("operating", "investing")


def irr_annual_pct(flows: np.ndarray) -> float | None:
    """Annual IRR in percent of monthly flows; None without a sign change or a root."""
    flows = np.asarray(flows, dtype=float)
    nonzero = flows[np.abs(flows) > 1e-6]
    if len(nonzero) < 2 or (nonzero > 0).all() or (nonzero < 0).all():
        return None
    months = np.arange(len(flows))

    def npv(rate: float) -> float:
        return float((flows / (1 + rate) ** (months + 1)).sum())

    # monthly rates from −50 % (≈ −100 %/yr) to +500 %
    grid = np.concatenate([np.linspace(-0.5, 0, 60, endpoint=False),
                           np.geomspace(1e-6, 5.0, 200)])
    values = [npv(r) for r in grid]
    for a, b, fa, fb in zip(grid, grid[1:], values, values[1:]):
        if fa == 0:
            return ((1 + a) ** 12 - 1) * 100
        if fa * fb < 0:
            monthly = _bisect(npv, a, b)
            return ((1 + monthly) ** 12 - 1) * 100
    return None


PAYBACK_SAME = "none (same as baseline)"
PAYBACK_NEVER = "never (incremental cash stays negative)"
# A month whose incremental cash is within this of zero has the baseline's cash: what is left
# is solver round-off (the ledger itself reconciles to the cent).
SAME_CASH_USD = 1.0
NEGATIVE_USD = 1e-6


def _bisect(f, a: float, b: float, tol: float = 1e-14) -> float:
    """A root of f in [a, b] where f changes sign (a scipy import is 0.8 s a process)."""
    fa = f(a)
    for _ in range(200):
        mid = (a + b) / 2
        fm = f(mid)
        if fm == 0 or (b - a) / 2 < tol:
            return mid
        if (fm > 0) == (fa > 0):
            a, fa = mid, fm
        else:
            b = mid
    return (a + b) / 2


def payback(flows: np.ndarray, labels: list[str]) -> tuple[str | None, str | None]:
    """(payback month, None), or (None, why there is none).

    The month is the first from which the cumulative flow stays at or above zero, and never
    before the first month the flow differs from zero: a plan that only departs from its
    baseline in 2030 cannot have paid back in 2027."""
    flows = np.asarray(flows, dtype=float)
    differs = np.nonzero(np.abs(flows) > SAME_CASH_USD)[0]
    if len(differs) == 0:
        return None, PAYBACK_SAME
    cumulative = np.cumsum(flows)
    negative = np.nonzero(cumulative < -NEGATIVE_USD)[0]
    if len(negative) and negative[-1] == len(flows) - 1:
        return None, PAYBACK_NEVER
    index = differs[0] if len(negative) == 0 else max(differs[0], negative[-1] + 1)
    return labels[index], None


def payback_month(flows: np.ndarray, labels: list[str]) -> str | None:
    """First month from which the cumulative flow stays at or above zero (see `payback`)."""
    return payback(flows, labels)[0]


def _aligned(plan: pd.DataFrame, base: pd.DataFrame, column: str) -> pd.DataFrame:
    both = pd.merge(plan[["month", column, "discount_factor"]],
                    base[["month", column]], on="month", how="outer",
                    suffixes=("_plan", "_base")).sort_values("month")
    return both.fillna({f"{column}_plan": 0.0, f"{column}_base": 0.0})


def compute(plan: pd.DataFrame, baseline: pd.DataFrame | None, npv_usd: float,
            baseline_npv_usd: float | None, terminal_method: str,
            it_mw_started_by_year: pd.Series) -> tuple[pd.DataFrame, dict[str, Any]]:
    """kpis table (kpi, year, value, unit) and the headline dict for summary.json."""
    co = plan
    inside = co[co["in_horizon"]]
    # the business without its financing: operating and investing cash and the terminal value
    # of its two businesses (BTC treasury and debt outstanding are financing's)
    unlevered = sum(line.sign * co[line.name] for line in LINE.values()
                    if line.kind in UNLEVERED_KINDS) \
        + co["hpc_terminal_value_usd"] + co["mining_terminal_value_usd"]
    headline: dict[str, Any] = {
        "npv_usd": npv_usd,
        "unlevered_npv_usd": float((unlevered * co["discount_factor"]).sum()),
        "baseline_npv_usd": baseline_npv_usd,
        "value_added_usd": None if baseline_npv_usd is None else npv_usd - baseline_npv_usd,
    }
    if baseline is not None:
        both = _aligned(co, baseline, "net_cash_usd")
        incremental = (both["net_cash_usd_plan"] - both["net_cash_usd_base"]).to_numpy()
        headline["irr_pct"] = irr_annual_pct(incremental)
        headline["payback_month"], headline["payback_note"] = payback(
            incremental, list(both["month"]))
    cumulative = (inside["operating_cash_usd"] + inside["investing_cash_usd"]).cumsum()
    headline["peak_funding_usd"] = float(max(0.0, -cumulative.min())) if len(cumulative) else 0.0
    headline.update({
        "capex_gross_usd": float(co["capex_usd"].sum()),
        "capex_tenant_funded_usd": float(co["tenant_capex_usd"].sum()),
        "capex_net_usd": float(co["landlord_capex_usd"].sum()),
        "debt_drawn_usd": float(co["debt_draw_usd"].sum()),
        "btc_sold_btc": float(co["btc_sold_btc"].sum()),
        "btc_sold_usd": float(co["btc_sale_usd"].sum()),
        "terminal_value_method": terminal_method,
        "terminal_value_usd": float((co["hpc_terminal_value_usd"]
                                     + co["mining_terminal_value_usd"]).sum()),
        "committed_after_horizon_usd": float(co.loc[~co["in_horizon"], "net_cash_usd"].sum()),
    })
    if len(inside):
        low = inside["cash_balance_usd"].idxmin()
        headline["min_cash_usd"] = float(inside.at[low, "cash_balance_usd"])
        headline["min_cash_month"] = str(inside.at[low, "month"])
    units = {"btc_sold_btc": "BTC", "irr_pct": "%", "payback_month": "YYYY-MM",
             "payback_note": "", "min_cash_month": "YYYY-MM", "terminal_value_method": ""}
    rows = [(k, None, v, units.get(k, "USD")) for k, v in headline.items()]
    rows += _by_year(inside, it_mw_started_by_year)
    kpis = pd.DataFrame(rows, columns=["kpi", "year", "value", "unit"])
    kpis["year"] = kpis["year"].astype("Int64")
    return kpis, headline


def _by_year(inside: pd.DataFrame, it_mw_started_by_year: pd.Series) -> list[tuple]:
    year = inside["month"].str[:4].astype(int)
    frame = pd.DataFrame({
        "year": year,
        "mining_revenue_usd": inside["mining_revenue_usd"],
        "hpc_revenue_usd": sum(inside[c] for c in HPC_REVENUE),
        "mining_ebitda_usd": sum(s * inside[c] for c, s in MINING_EBITDA.items()),
        "hpc_ebitda_usd": sum(s * inside[c] for c, s in HPC_EBITDA.items()),
        "capex_usd": inside["capex_usd"],
        "landlord_capex_usd": inside["landlord_capex_usd"],
    }).groupby("year").sum()
    frame["ebitda_usd"] = frame["mining_ebitda_usd"] + frame["hpc_ebitda_usd"]
    frame["it_mw_started"] = it_mw_started_by_year.reindex(frame.index).fillna(0.0)
    rows = []
    for y, values in frame.iterrows():
        rows += [(name, int(y), float(v), "IT MW" if name == "it_mw_started" else "USD")
                 for name, v in values.items()]
    return rows
