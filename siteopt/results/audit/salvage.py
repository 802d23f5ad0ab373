"""Salvage: miners are sold only as far as conversion displaces them, never bought back, and
each MW sold brings its campus's salvage value once."""

from __future__ import annotations

import numpy as np

from siteopt.results.audit.conversion import Capacity
from siteopt.results.audit.plan import MW_TOL, Plan


def check_salvage(plan: Plan, capacity: Capacity) -> tuple[dict[str, object], list[str]]:
    """Expected asic_salvage_usd per campus_month row, and problems. Miners are tracked as
    sold only when some campus gives them a salvage value."""
    cm = plan.cm
    sold = cm["miners_sold_mw"]
    if not (plan.inputs.campuses["asic_salvage_usd_per_mw"] > 0).any():
        return ({"asic_salvage_usd": plan.zeros()},
                plan.at_rows(sold.abs() > MW_TOL, "miners sold without any salvage value"))
    inside = cm["t"] < plan.horizon
    facility = cm["hpc_pue"] * capacity.started
    headroom = (cm["grid_mw"] - cm["miner_mw"]).clip(lower=0)
    previous = sold.groupby(cm["campus_id"]).shift(1).fillna(0.0)
    problems = [
        *plan.at_rows(inside & (sold < facility - headroom - MW_TOL),
                      "miners that no longer fit beside conversion were not sold"),
        *plan.at_rows(inside & (sold > facility + MW_TOL),
                      "more miners sold than conversion displaced"),
        *plan.at_rows(sold < previous - MW_TOL, "miners_sold_mw fell"),
    ]
    sale = np.where(cm["t"] == 0, sold, sold - previous)
    return ({"asic_salvage_usd": np.where(inside, sale * cm["asic_salvage_usd_per_mw"], 0.0)},
            problems)
