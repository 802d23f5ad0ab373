"""Campus cash: mining revenue, power, opex and capex from their formulas; every campus cash
line as expected; net cash the signed sum of its lines; discount factors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from siteopt.contract import CAMPUS_SIGN
from siteopt.inputs.months import days
from siteopt.results.audit.conversion import Capacity
from siteopt.results.audit.plan import MW_TOL, USD_TOL, Plan


def operating_lines(plan: Plan, capacity: Capacity,
                    opex_after: pd.Series) -> dict[str, object]:
    """Expected hashrate, mining and HPC operating lines and capex per campus_month row."""
    cm = plan.cm
    hashprice = plan.inputs.market.set_index("month")["hashprice_usd_per_ph_day"]
    day_count = np.array([days(plan.first + t) for t in cm["t"]], dtype=float)
    inside = (cm["t"] < plan.horizon).to_numpy()
    hp = np.where(inside, cm["month"].map(hashprice).fillna(0.0).to_numpy(), 0.0)
    ph = cm["mining_mw"] * 1000 / cm["fleet_efficiency_j_per_th"]
    return {
        "hashrate_ph_s": ph,
        "mining_revenue_usd": hp * ph * day_count,
        "power_cost_usd": cm["mining_mw"] * 24 * day_count * cm["power_price_usd_per_mwh"],
        "mining_opex_usd": cm["mining_mw"] * cm["mining_opex_usd_per_mw_month"],
        "hpc_opex_usd": np.where(inside, capacity.ready * cm["hpc_opex_usd_per_it_mw_month"],
                                 opex_after),
        # ready halls cost nothing more; halls under construction their remaining capex
        "capex_usd": capacity.blocks_building * cm["capex_usd_per_it_mw"]
        / cm["build_months"] + capacity.as_built_capex,
    }


def check_campus_cash(plan: Plan, expected: dict[str, object]) -> list[str]:
    """Each written column against `expected` (column → value per row), then the net and
    the discounting of every row."""
    cm = plan.cm
    problems = []
    for column, value in expected.items():
        tol = MW_TOL if column == "hashrate_ph_s" else USD_TOL
        unit = "" if column.endswith("_s") else "USD "
        problems += plan.at_rows((cm[column] - value).abs() > tol + 1e-9 * np.abs(value),
                                 f"{column} {unit}differs from its formula")
    net = sum(sign * cm[line] for line, sign in CAMPUS_SIGN.items())
    problems += plan.at_rows((cm["net_cash_usd"] - net).abs() > USD_TOL,
                             "net_cash_usd is not the sum of its lines")
    problems += plan.at_rows((cm["discount_factor"] - plan.discount_factor(cm["t"])).abs()
                             > 1e-12, "discount_factor differs from (1 + r)^-((m + 1) / 12)")
    if not plan.counts_after and (cm["t"] >= plan.horizon).any():
        problems.append("months after the horizon are counted although neither "
                        "value_beyond_horizon nor its method asks for it")
    return problems
