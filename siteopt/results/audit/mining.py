"""Mining: one row per campus and month of the horizon, no mining after it, never more MW
mined than the miners not sold."""

from __future__ import annotations

from siteopt.results.audit.plan import MW_TOL, Plan


def check_mining(plan: Plan) -> list[str]:
    cm, horizon = plan.cm, plan.horizon
    problems = []
    inside = cm[cm["t"] < horizon]
    expected_rows = len(plan.inputs.campuses) * horizon
    if len(inside) != expected_rows:
        problems.append(f"campus_month has {len(inside)} rows inside the horizon, "
                        f"expected {expected_rows}")
    problems += plan.at_rows((cm["t"] >= horizon) & (cm["mining_mw"] > MW_TOL),
                             "mining after the horizon")
    problems += plan.at_rows(cm["mining_mw"] < -MW_TOL, "negative mining_mw")
    problems += plan.at_rows(cm["mining_mw"] > cm["miner_mw"] - cm["miners_sold_mw"] + MW_TOL,
                             "mining_mw above the miners not sold")
    return problems
