"""Spot letting: a share of the ready capacity nobody leases, once it has been ready for the
absorption delay, only inside the horizon, at the spot rate."""

from __future__ import annotations

import pandas as pd

from siteopt.results.audit.conversion import Capacity
from siteopt.results.audit.plan import MW_TOL, Plan


def check_spot(plan: Plan, capacity: Capacity,
               occupied: pd.Series) -> tuple[dict[str, object], list[str]]:
    """Expected spot_revenue_usd per campus_month row, and problems (`occupied`: IT MW
    leased or held empty after a lease)."""
    cm = plan.cm
    market = plan.scenario.market
    share = market.hpc_spot_share_pct / 100
    ready = capacity.ready
    ready_before = ready.groupby(cm["campus_id"]).shift(
        market.hpc_spot_absorption_months).fillna(0.0)
    inside = cm["t"] < plan.horizon
    problems = [
        *plan.at_rows(inside & (cm["spot_mw"] > share * (ready - occupied) + MW_TOL),
                      "spot_mw above the share of unleased ready capacity"),
        *plan.at_rows(inside & (cm["spot_mw"] > share * ready_before + MW_TOL),
                      "spot_mw above the share of capacity ready for the absorption delay"),
        *plan.at_rows(~inside & (cm["spot_mw"] > MW_TOL), "spot letting after the horizon"),
    ]
    rate = market.hpc_spot_rate_usd_per_kw_month
    return {"spot_revenue_usd": cm["spot_mw"] * 1000 * rate}, problems
