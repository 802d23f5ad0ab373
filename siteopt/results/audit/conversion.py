"""Conversion: block starts (whole, after the permit, early enough to be ready inside the
horizon, within the campus's maximum and the supply-chain caps), the IT MW they become, and
power shared with mining."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from siteopt.inputs.months import parse_month
from siteopt.results.audit.plan import MW_TOL, Plan


@dataclass(frozen=True)
class Capacity:
    """IT MW per campus_month row, from the written block starts."""

    started: pd.Series  # under construction or ready
    ready: pd.Series
    blocks_building: pd.Series  # IT MW of blocks of the plan under construction
    as_built_capex: pd.Series  # remaining capex of the halls under construction at the start


def check_conversion(plan: Plan) -> tuple[Capacity, list[str]]:
    cm = plan.cm
    problems: list[str] = []
    started, ready, building, hall_capex = plan.zeros(), plan.zeros(), plan.zeros(), \
        plan.zeros()
    by_year: dict[int, float] = defaultdict(float)
    by_region_year: dict[tuple[str, int], float] = defaultdict(float)
    for campus_id, rows in cm.groupby("campus_id"):
        c = plan.inputs.campuses.loc[campus_id]
        starts = rows.set_index("t")["blocks_started"]
        problems += _campus_starts(plan, campus_id, c, starts)
        for t, n in starts[starts > 0].items():
            year = (plan.first + t) // 12
            by_year[year] += n * c["hpc_block_it_mw"]
            by_region_year[c["region"], year] += n * c["hpc_block_it_mw"]
        full = np.zeros(int(rows["t"].max()) + 1)
        full[starts.index.to_numpy()] = starts.to_numpy()
        cum = np.cumsum(full) * c["hpc_block_it_mw"]
        done = np.concatenate([np.zeros(int(c["build_months"])), cum])[: len(cum)]
        t = rows["t"].to_numpy()
        # as built: ready halls from month 0; halls under construction take power from
        # month 0, are ready from their ready month, and are paid evenly until then
        halls = plan.halls(campus_id)
        ready0 = float(c["hpc_ready_it_mw"])
        started[rows.index] = cum[t] + ready0 + sum(mw for _, mw, _ in halls)
        ready[rows.index] = done[t] + ready0 + sum(
            np.where(t >= r, mw, 0.0) for r, mw, _ in halls)
        building[rows.index] = cum[t] - done[t]
        hall_capex[rows.index] = sum(np.where(t < r, usd / r, 0.0) for r, _, usd in halls)
    problems += _supply_chain_caps(plan, by_year, by_region_year)
    problems += plan.at_rows((cm["it_ready_mw"] - ready).abs() > MW_TOL,
                             "it_ready_mw differs from block starts")
    problems += plan.at_rows(
        (cm["it_under_construction_mw"] + cm["it_ready_mw"] - started).abs() > MW_TOL,
        "IT MW under construction + ready differs from block starts")
    problems += plan.at_rows(
        cm["mining_mw"] + cm["hpc_pue"] * started > cm["grid_mw"] + MW_TOL,
        "mining + PUE × IT MW started exceeds grid_mw (power_shared_with_mining)")
    return Capacity(started, ready, building, hall_capex), problems


def _campus_starts(plan: Plan, campus_id: str, c: pd.Series, starts: pd.Series) -> list[str]:
    problems = []
    if (starts != np.round(starts)).any() or (starts < 0).any():
        problems.append(f"{campus_id}: blocks_started not a whole number >= 0")
    permit = parse_month(c["permit_ready"]) - plan.first if c["permit_ready"] else 0
    if starts[starts.index < permit].sum() > 0:
        problems.append(f"{campus_id}: construction starts before permit {c['permit_ready']}")
    late = starts.index > plan.horizon - 1 - int(c["build_months"])
    if starts[late].sum() > 0:
        problems.append(f"{campus_id}: a block starts too late to be ready inside the horizon")
    total = starts.sum() * c["hpc_block_it_mw"] + c["hpc_ready_it_mw"] \
        + sum(mw for _, mw, _ in plan.halls(campus_id))
    if total > c["hpc_max_it_mw"] + MW_TOL:
        problems.append(f"{campus_id}: {total:g} IT MW started or built exceeds hpc_max_it_mw")
    return problems


def _supply_chain_caps(plan: Plan, by_year: dict[int, float],
                       by_region_year: dict[tuple[str, int], float]) -> list[str]:
    """IT MW started per year, company-wide and per region, within the limits."""
    limits = plan.scenario.limits
    problems = []
    cap = limits.max_it_mw_started_per_year
    for year, mw in by_year.items():
        if cap is not None and mw > cap + MW_TOL:
            problems.append(f"{year}: {mw:g} IT MW started exceeds "
                            f"max_it_mw_started_per_year {cap:g}")
    for (region, year), mw in by_region_year.items():
        region_cap = limits.max_it_mw_started_per_year_by_region.get(region)
        if region_cap is not None and mw > region_cap + MW_TOL:
            problems.append(f"{region} {year}: {mw:g} IT MW started exceeds its cap "
                            f"{region_cap:g}")
    return problems
