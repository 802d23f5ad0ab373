"""Independent audit of a written plan: every constraint and every cash line, from the inputs.

This recomputes from the inputs and the result tables alone — not from the model — so a
mistake in the model's bookkeeping shows up as a violation here. It runs after every solve
(its verdict goes into summary.json) and in the tests on every scenario.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siteopt.inputs import Inputs
from siteopt.months import days, parse_month

MW_TOL = 1e-6
USD_TOL = 0.005  # half a cent


def audit_plan(inputs: Inputs, campus_month: pd.DataFrame, leases: pd.DataFrame,
               npv_usd: float) -> list[str]:
    """Violations found (empty = the plan holds every constraint and reconciles to the cent)."""
    problems: list[str] = []
    scenario = inputs.scenario
    first = parse_month(scenario.horizon.start)
    horizon = scenario.horizon.months
    cm = campus_month.copy()
    cm["t"] = [parse_month(m) - first for m in cm["month"]]
    cm = cm.join(inputs.campuses, on="campus_id")
    inside = cm[cm["t"] < horizon]

    def report(mask: pd.Series, text: str) -> None:
        for row in cm[mask].head(5).itertuples():
            problems.append(f"{row.campus_id} {row.month}: {text}")

    expected_rows = len(inputs.campuses) * horizon
    if len(inside) != expected_rows:
        problems.append(f"campus_month has {len(inside)} rows inside the horizon, "
                        f"expected {expected_rows}")
    report((cm["t"] >= horizon) & (cm["mining_mw"] > MW_TOL), "mining after the horizon")
    report(cm["mining_mw"] < -MW_TOL, "negative mining_mw")
    report(cm["mining_mw"] > cm["miner_mw"] + MW_TOL, "mining_mw above miner_mw")

    # Conversion: integer starts after the permit, capacity from the starts, max IT MW.
    started_mw = pd.Series(0.0, index=cm.index)
    ready_mw = pd.Series(0.0, index=cm.index)
    for campus_id, rows in cm.groupby("campus_id"):
        c = inputs.campuses.loc[campus_id]
        starts = rows.set_index("t")["blocks_started"]
        if (starts != np.round(starts)).any() or (starts < 0).any():
            problems.append(f"{campus_id}: blocks_started not a whole number >= 0")
        permit = parse_month(c["permit_ready"]) - first if c["permit_ready"] else 0
        if starts[starts.index < permit].sum() > 0:
            problems.append(f"{campus_id}: construction starts before permit {c['permit_ready']}")
        total = starts.sum() * c["hpc_block_it_mw"]
        if total > c["hpc_max_it_mw"] + MW_TOL:
            problems.append(f"{campus_id}: {total:g} IT MW started exceeds hpc_max_it_mw")
        full = np.zeros(int(rows["t"].max()) + 1)
        full[starts.index.to_numpy()] = starts.to_numpy()
        cum = np.cumsum(full) * c["hpc_block_it_mw"]
        build = int(c["build_months"])
        ready = np.concatenate([np.zeros(build), cum])[: len(cum)]
        started_mw[rows.index] = cum[rows["t"].to_numpy()]
        ready_mw[rows.index] = ready[rows["t"].to_numpy()]
    report((cm["it_ready_mw"] - ready_mw).abs() > MW_TOL, "it_ready_mw differs from block starts")
    report((cm["it_under_construction_mw"] + cm["it_ready_mw"] - started_mw).abs() > MW_TOL,
           "IT MW under construction + ready differs from block starts")
    report(cm["mining_mw"] + cm["hpc_pue"] * started_mw > cm["grid_mw"] + MW_TOL,
           "mining + PUE × IT MW started exceeds grid_mw (power_shared_with_mining)")

    # Leases: windows, eligibility, once; leased MW within ready MW.
    leased = pd.Series(0.0, index=cm.index)
    rent = pd.Series(0.0, index=cm.index)
    leased_opex = pd.Series(0.0, index=cm.index)
    for lease in leases.itertuples():
        offer = inputs.offers.loc[lease.offer_id]
        if bool(offer["signed"]) and not lease.accepted:
            problems.append(f"signed lease {lease.offer_id} not delivered")
        if not lease.accepted:
            continue
        s = parse_month(lease.start_month) - first
        if lease.campus_id not in offer["campuses"]:
            problems.append(f"{lease.offer_id}: campus {lease.campus_id} not eligible")
        if not (parse_month(offer["earliest_start"]) - first <= s
                <= parse_month(offer["latest_start"]) - first) or not 0 <= s < horizon:
            problems.append(f"{lease.offer_id}: start {lease.start_month} outside its window")
        term = int(offer["term_months"])
        here = (cm["campus_id"] == lease.campus_id) & (cm["t"] >= s) & (cm["t"] < s + term)
        years = (cm.loc[here, "t"] - s) // 12
        leased[here] += offer["it_mw"]
        rent[here] += offer["it_mw"] * 1000 * offer["rate_usd_per_kw_month"] \
            * (1 + offer["escalator_pct_per_year"] / 100) ** years
        after = here & (cm["t"] >= horizon)
        leased_opex[after] += offer["it_mw"] * cm.loc[after, "hpc_opex_usd_per_it_mw_month"]
    report((cm["it_leased_mw"] - leased).abs() > MW_TOL, "it_leased_mw differs from leases")
    report(leased > ready_mw + MW_TOL, "leased IT MW exceeds ready IT MW")

    # Cash lines by their formulas.
    hashprice = inputs.market.set_index("month")["hashprice_usd_per_ph_day"]
    day_count = np.array([days(first + t) for t in cm["t"]], dtype=float)
    in_h = (cm["t"] < horizon).to_numpy()
    hp = np.where(in_h, cm["month"].map(hashprice).fillna(0.0).to_numpy(), 0.0)
    expected = {
        "hashrate_ph_s": cm["mining_mw"] * 1000 / cm["fleet_efficiency_j_per_th"],
        "mining_revenue_usd": hp * cm["mining_mw"] * 1000 / cm["fleet_efficiency_j_per_th"]
        * day_count,
        "power_cost_usd": cm["mining_mw"] * 24 * day_count * cm["power_price_usd_per_mwh"],
        "mining_opex_usd": cm["mining_mw"] * cm["mining_opex_usd_per_mw_month"],
        "lease_revenue_usd": rent,
        "hpc_opex_usd": np.where(in_h, ready_mw * cm["hpc_opex_usd_per_it_mw_month"],
                                 leased_opex),
        "capex_usd": (started_mw - ready_mw) * cm["capex_usd_per_it_mw"] / cm["build_months"],
    }
    for column, value in expected.items():
        tol = MW_TOL if column == "hashrate_ph_s" else USD_TOL
        report((cm[column] - value).abs() > tol + 1e-9 * np.abs(value),
               f"{column} {'' if column.endswith('_s') else 'USD '}differs from its formula")
    net = (cm["mining_revenue_usd"] - cm["power_cost_usd"] - cm["mining_opex_usd"]
           + cm["lease_revenue_usd"] - cm["hpc_opex_usd"] - cm["capex_usd"])
    report((cm["net_cash_usd"] - net).abs() > USD_TOL, "net_cash_usd is not the sum of its lines")
    rate = scenario.finance.discount_rate_pct_per_year / 100
    report((cm["discount_factor"] - (1 + rate) ** (-(cm["t"] + 1) / 12)).abs() > 1e-12,
           "discount_factor differs from (1 + r)^-((m + 1) / 12)")
    if not scenario.finance.value_beyond_horizon and (cm["t"] >= horizon).any():
        problems.append("months after the horizon are counted with value_beyond_horizon off")
    discounted = float((cm["net_cash_usd"] * cm["discount_factor"]).sum())
    if abs(discounted - npv_usd) > USD_TOL:
        problems.append(f"Σ net_cash × discount_factor = {discounted:,.2f} but npv_usd = "
                        f"{npv_usd:,.2f}")
    return problems
