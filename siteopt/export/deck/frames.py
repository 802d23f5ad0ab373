"""The figures of the deck's charts and tables, from a plan's tables (as a result folder
holds them): the NPV bridge by driver, MW by use per quarter, the conversion timeline with
its permit phase, funding by year, the headline KPIs against mining-only."""

from __future__ import annotations

import datetime as dt
from typing import Any

import numpy as np
import pandas as pd

from siteopt.contract import LINE
from siteopt.export import plan_frames
from siteopt.export import plan_inputs as pi
from siteopt.export.narrative import month_text, usd
from siteopt.results.extract import Results

# The bridge's drivers: the cash lines (siteopt.contract) each adds up; their present values
# and the baseline's NPV add up to the plan's NPV exactly.
DRIVERS = {
    "Lease rent": ("lease_revenue_usd", "spot_revenue_usd", "prepayment_usd",
                   "prepayment_credit_usd", "late_penalty_usd", "prepayment_liability_usd"),
    "Capex (net of tenant)": ("capex_usd", "tenant_capex_usd", "tenant_capex_receivable_usd"),
    "HPC opex": ("hpc_opex_usd",),
    "ASIC salvage": ("asic_salvage_usd",),
    "Financing": ("debt_draw_usd", "interest_usd", "principal_usd", "debt_outstanding_usd"),
    "Terminal value": ("hpc_terminal_value_usd",),
}
MINING = ("mining_revenue_usd", "power_cost_usd", "mining_opex_usd",
          "mining_terminal_value_usd", "btc_sale_usd", "btc_treasury_value_usd")


def present_value(co: pd.DataFrame, names: tuple[str, ...]) -> float:
    discount = co["discount_factor"].astype(float)
    return float(sum((LINE[n].sign * co[n].astype(float) * discount).sum()
                     for n in names if n in co))


def npv_bridge(results: Results) -> pd.DataFrame | None:
    """step, usd: mining-only NPV, then each driver's change, then the plan's NPV. The
    mining step is what the plan's mining (and BTC treasury) is worth less the mining-only
    NPV: the margin given up. None without a baseline."""
    k = results.summary.get("kpis") or {}
    base = k.get("baseline_npv_usd")
    if base is None:
        return None
    co = results.company_month
    steps = [("Mining-only NPV", float(base)),
             ("Mining margin given up", present_value(co, MINING) - float(base))]
    steps += [(name, present_value(co, lines)) for name, lines in DRIVERS.items()]
    steps = [s for s in steps if s[0] == "Mining-only NPV" or abs(s[1]) >= 0.5e6]
    npv = float(results.summary.get("npv_usd") or k.get("npv_usd") or 0.0)
    steps.append(("Plan NPV", npv))
    return pd.DataFrame(steps, columns=["step", "usd"])


def waterfall(bridge: pd.DataFrame, scale: float) -> dict[str, list[float | None]]:
    """The bridge as stacked bars: an invisible base, rises, falls and the two totals (in
    units of `scale`). A step that crosses zero is drawn from zero (base 0)."""
    base, up, down, total = [], [], [], []
    level = 0.0
    last = len(bridge) - 1
    for i, value in enumerate(bridge["usd"].astype(float) / scale):
        if i in (0, last):
            base.append(0.0)
            up.append(None)
            down.append(None)
            total.append(value)
            level = value
            continue
        new = level + value
        low, high = min(level, new), max(level, new)
        if low < 0 < high:
            low = 0.0
        base.append(low if low > 0 else 0.0)
        (up if value >= 0 else down).append(high - low)
        (down if value >= 0 else up).append(None)
        total.append(None)
        level = new
    # a bar too thin to hold its number gets it just above, on an invisible series on top
    tallest = max((abs(v) for v in up + down + total if v is not None), default=1.0)
    thin = [max(x or 0.0 for x in (u, d, t)) < 0.08 * tallest for u, d, t in zip(up, down, total)]
    labels = [0.07 * tallest if small else None for small in thin]
    return {"base": base, "Increase": up, "Decrease": down, "Total": total, "labels": labels}


def quarterly_mw(results: Results) -> pd.DataFrame:
    """MW by use, averaged per quarter: label ('2027 Q1') and one column per use."""
    frame = plan_frames.mw_by_use(results.company_month)
    uses = ["Mining (MW)", "Under construction (IT MW)", "HPC leased (IT MW)",
            "HPC idle (IT MW)", "Spot let (IT MW)"]
    quarter = [f"{d.year} Q{(d.month - 1) // 3 + 1}" for d in frame["month"]]
    out = frame[uses].groupby(pd.Series(quarter, name="quarter"), sort=False).mean()
    out = out.loc[:, (out.abs() > 1e-6).any()]
    return out.reset_index()


def timeline(results: Results) -> pd.DataFrame:
    """Per converting campus, in years from the horizon start: permit pending, permitted but
    not started, under construction (its build months), ready but not let, and let — the
    new halls: IT MW let beyond what the campus let before its first construction start
    (halls as built at the horizon start are not part of the conversion)."""
    cm = plan_frames.inside(results.campus_month)
    dates = plan_frames.horizon_dates(results)
    if cm.empty or dates is None:
        return pd.DataFrame()
    start, end = dates
    total = _years(start, end)
    campuses = pi.rows_by_id(results, "campuses", "campus_id")
    rows = []
    for campus_id, group in cm.groupby("campus_id", sort=False):
        group = group.sort_values("month").reset_index(drop=True)
        begun = group.index[group["blocks_started"].astype(float) > 0]
        if not len(begun):
            continue
        first = int(begun[0])
        campus = campuses.get(str(campus_id), {})
        build = int(pi.number(campus.get("build_months")) or 0)
        permit = plan_frames.first_of_month(campus.get("permit_ready", "")) or start
        built = plan_frames.first_of_month(group.at[first, "month"])
        permit = min(max(permit, start), built)
        leased = group["it_leased_mw"].astype(float)
        before = float(leased.iloc[first - 1]) if first else 0.0
        ready = min(first + build, len(group))
        let = group.index[(group.index >= ready) & (leased > before + 1e-6)]
        let_at = int(let[0]) if len(let) else len(group)
        rows.append({"campus": str(campus_id),
                     "Permit pending": _years(start, permit),
                     "Permitted, not started": _years(permit, built),
                     "Under construction": (ready - first) / 12,
                     "Ready, not let": (let_at - ready) / 12,
                     "Let": (len(group) - let_at) / 12})
    frame = pd.DataFrame(rows)
    frame.attrs["start_year"] = start.year + (start.month - 1) / 12
    frame.attrs["years"] = total
    return frame


def _years(a: dt.date, b: dt.date) -> float:
    return ((b.year - a.year) * 12 + b.month - a.month) / 12


def funding_by_year(results: Results) -> pd.DataFrame:
    """Per year: landlord and tenant-funded capex, year-end cash and debt balance, BTC sold."""
    co = plan_frames.inside(results.company_month)
    year = co["month"].astype(str).str[:4].astype(int)
    column = {c: co[c].astype(float) if c in co else 0.0 * year
              for c in ("landlord_capex_usd", "tenant_capex_usd", "cash_balance_usd",
                        "debt_balance_usd", "btc_sold_btc", "btc_sale_usd")}
    frame = pd.DataFrame({"year": year, **column})
    out = frame.groupby("year").agg(landlord_capex_usd=("landlord_capex_usd", "sum"),
                                    tenant_capex_usd=("tenant_capex_usd", "sum"),
                                    cash_balance_usd=("cash_balance_usd", "last"),
                                    debt_balance_usd=("debt_balance_usd", "last"),
                                    btc_sold_btc=("btc_sold_btc", "sum"),
                                    btc_sale_usd=("btc_sale_usd", "sum"))
    return out.reset_index()


def kpi_rows(results: Results) -> list[list[str]]:
    """Measure | plan | mining-only | difference, in board units."""
    k = results.summary.get("kpis") or {}
    base = k.get("baseline_npv_usd")
    payback = plan_frames.payback_shown(k)
    irr = k.get("irr_pct")
    converted = float(plan_frames.mw_started_by_year(results).sum())
    gross, tenant = k.get("capex_gross_usd") or 0.0, k.get("capex_tenant_funded_usd") or 0.0
    return [
        ["Measure", "Plan", "Mining-only", "Difference"],
        ["NPV of equity cash", usd(k.get("npv_usd")), usd(base), usd(k.get("value_added_usd"))],
        ["IRR of converting", "—" if irr is None else f"{irr:.1f} %", "—", ""],
        ["Payback of converting", payback if isinstance(payback, str)
         else f"{payback:%b %Y}", "—", ""],
        ["Peak funding need", usd(k.get("peak_funding_usd")), "0",
         usd(k.get("peak_funding_usd"))],
        ["Capex (gross)", usd(gross), "0", usd(gross)],
        ["Capex net of tenant capex", usd(gross - tenant), "0", usd(gross - tenant)],
        ["IT MW converted", f"{converted:,.0f} MW", "0 MW", f"+{converted:,.0f} MW"],
    ]


def stamp(results: Results, folder: Any) -> str:
    """The footer: source and the run's stamp (scenario, input hash, status and gap, date)."""
    s = results.summary
    gap = s.get("mip_gap_pct")
    status = str(s.get("status", "")).capitalize()
    quality = f"{status}, gap {gap:.2f} %" if isinstance(gap, (int, float)) else status
    when = str(s.get("finished_at", ""))[:10]
    return (f"Source: siteopt result folder {folder} · scenario {s.get('scenario', '')} · "
            f"input hash {s.get('input_hash', '')} · {quality} · {when}")


def assumption_rows(results: Results) -> list[list[str]]:
    """The inputs that matter most, as read from the run's scenario."""
    def value(key: str) -> str:
        v = pi.scenario_value(results, key)
        return "—" if v is None else str(v)

    def money(key: str) -> str:
        v = pi.number(pi.scenario_value(results, key))
        return "—" if v is None else usd(v)

    horizon = results.summary.get("horizon") or {}
    budget = pi.capex_budgets(results)
    rows = [["Assumption", "Value"],
            ["Horizon", f"{horizon.get('months', '')} months from "
                        f"{month_text(horizon.get('start', ''))}"],
            ["BTC price", f"{_number(value('market.btc_price_usd'))} USD, growing "
                          f"{value('market.btc_price_growth_pct_per_year')} %/yr"],
            ["Network hashrate", f"{_number(value('market.network_hashrate_ehs'))} EH/s, "
                                 f"growing {value('market.network_hashrate_growth_pct_per_year')}"
                                 f" %/yr"],
            ["Halvings", value("market.halving_months")],
            ["Discount rate", f"{value('finance.discount_rate_pct_per_year')} %/yr"],
            ["Terminal value", value("finance.terminal_value.method").replace("_", " ")],
            ["Tenant share limit", _pct(value("limits.max_tenant_share_pct"))],
            ["IT MW started per year", _started_limits(results)],
            ["Capex budget per year", _budget_text(budget)],
            ["Opening cash / floor", "cash not tracked (no opening cash set)"
             if pi.scenario_value(results, "finance.opening_cash_usd") is None else
             f"{money('finance.opening_cash_usd')} / {money('finance.min_cash_usd')}"],
            ["BTC treasury", f"{_number(value('finance.btc_treasury_btc'))} BTC"],
            ["Project debt", "none" if pi.scenario_value(results, "finance.debt.max_ltc_pct")
             is None else f"up to {value('finance.debt.max_ltc_pct')} % of landlord capex at "
                          f"{value('finance.debt.rate_pct_per_year')} %/yr over "
                          f"{_number(value('finance.debt.tenor_months'))} months"]]
    return rows


def _started_limits(results: Results) -> str:
    cap = pi.number(pi.scenario_value(results, "limits.max_it_mw_started_per_year"))
    parts = [] if cap is None else [f"{cap:,.0f} IT MW/yr company-wide"]
    parts += [f"{region} {float(v):,.0f}" for region, v in pi.scenario_map(
        results, "limits.max_it_mw_started_per_year_by_region").items()]
    return "; ".join(parts) if parts else "none"


def _budget_text(budget: dict[int, float]) -> str:
    if not budget:
        return "none"
    if len(set(budget.values())) == 1:
        return f"{usd(next(iter(budget.values())))} every year"
    return ", ".join(f"{y}: {usd(b)}" for y, b in list(budget.items())[:3]) + \
        (" …" if len(budget) > 3 else "")


def _number(text: str) -> str:
    v = pi.number(text)
    return text if v is None else f"{v:,.0f}"


def _pct(text: str) -> str:
    return "none" if text == "—" else f"{text} %"


def nice_scale(values: np.ndarray | list[float]) -> tuple[float, str]:
    """B USD when the largest value is a billion or more, else M USD."""
    big = max((abs(v) for v in values if v is not None and np.isfinite(v)), default=0.0)
    return (1e9, "B USD") if big >= 1e9 else (1e6, "M USD")
