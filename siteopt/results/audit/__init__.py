"""Independent audit of a written plan: every constraint and every cash line, from the inputs.

This recomputes from the inputs and the result tables alone — not from the model (only the
output contract, siteopt.contract, for the lines' signs, kinds and settlement) — so a
mistake in the model's bookkeeping shows up as a violation here. It runs after every solve
(its verdict goes into summary.json) and in the tests on every scenario.

Each family is a pure check: it takes the plan and what earlier checks returned, and gives
back what it expects (capacity, cash per line) and the problems it found. `audit_plan`
composes them in the one order below.
"""

from __future__ import annotations

import pandas as pd

from siteopt.inputs import Inputs
from siteopt.results.audit.campus_cash import check_campus_cash, operating_lines
from siteopt.results.audit.company import check_company
from siteopt.results.audit.conversion import check_conversion
from siteopt.results.audit.leases import check_leases
from siteopt.results.audit.mining import check_mining
from siteopt.results.audit.plan import read_plan
from siteopt.results.audit.salvage import check_salvage
from siteopt.results.audit.spot import check_spot


def audit_plan(inputs: Inputs, campus_month: pd.DataFrame, leases: pd.DataFrame,
               company_month: pd.DataFrame, npv_usd: float) -> list[str]:
    """Violations found (empty = the plan holds every constraint and reconciles to the cent)."""
    plan = read_plan(inputs, campus_month, leases)
    mining = check_mining(plan)
    capacity, conversion = check_conversion(plan)
    salvage_cash, salvage = check_salvage(plan, capacity)
    lease_cash, lease = check_leases(plan, capacity)
    spot_cash, spot = check_spot(plan, capacity, lease_cash.occupied)
    expected = {**salvage_cash, **lease_cash.expected, **spot_cash,
                **operating_lines(plan, capacity, lease_cash.opex_after)}
    campus = check_campus_cash(plan, expected)
    company = check_company(plan, company_month, npv_usd, lease_cash.settled)
    return [*mining, *conversion, *salvage, *lease, *spot, *campus, *company]


__all__ = ["audit_plan"]
