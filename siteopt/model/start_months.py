r"""Block starts worth considering: a dominance reduction that leaves the optimum unchanged.

Leased IT MW only rises in a month some lease phase is delivered (``it_leased_balance``) and
ready IT MW never falls, so ready capacity is only ever *needed* from a delivery month d on. A
block started in month t whose ready month t + L_c is not a possible delivery month at its
campus can therefore start later — at the next month u > t with u + L_c a possible delivery
month — without making any lease undeliverable, and when the yearly supply caps are set, no
later than December of t's year, so it stays in the same cap year. If no such u exists the
block serves nothing and can be dropped. Delaying a block by k months changes the plan's NPV by

- capex: paid k months later, a gain of b K (1 − ρ^k) / L · Σ_j δ_{t+j} ≥ b K ρ^{L−1} (1 − ρ^k) δ_t
- mining: the hall's grid power is free k months longer, so mining can only rise (≥ 0)
- HPC opex: the block is ready k months later (≥ 0; the EBITDA terminal value only rises)
- salvage: miners displaced by the block are sold k months later, a loss of at most
  pue_c b s_c (1 − ρ^k) δ_t
- tenant capex: a block funds the deliveries of the month it becomes ready; t + L_c is no
  delivery month, so it funded nothing and can only gain (≥ 0)

with ρ = (1 + r)^{-1/12} the monthly discount factor (δ_t = ρ^{t+1}). So the delay never
lowers NPV when every campus has  K_c ρ^{L_c − 1} ≥ pue_c s_c  — true for any realistic
campus (8–11 M USD capex per IT MW against a few hundred k USD of salvage per MW).

With a cash floor (and a BTC treasury) the delay also keeps every month's cash balance at or
above the original plan's: by any month m the delayed plan has paid b K / L · min(m − t + 1,
k) less capex, mined as much or more, paid no more HPC opex, and received the salvage of the
displaced miners at most k months later — a cumulative shortfall of at most pue_c b s_c,
covered from the first month on when  K_c / L_c ≥ pue_c s_c . It keeps the original BTC sales.

The argument fails when ready-but-unleased capacity earns money (the spot market), when a
yearly capex budget binds (a delay moves capex into later years), and with project debt
(draws follow capex, and a debt cheaper than the discount rate makes delaying a draw cost
NPV); the reduction is then not applied. When it
applies, `blocks_started` is fixed at 0 outside the allowed months: the model keeps all its
plans' optimal value and loses most of its symmetric, useless start months, which is what
lets HiGHS close the gap on large portfolios (bench/README.md).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

from siteopt.inputs.schema import Finance
from siteopt.model.data import ModelData
from siteopt.model.spot import has_spot_market


def reduction_applies(finance: Finance, campuses: pd.DataFrame, spot_market: bool) -> bool:
    """Whether delaying a block to its next useful month can never lower NPV nor make a
    funding limit fail."""
    if spot_market or finance.debt is not None \
            or finance.capex_budget_usd_per_year is not None:
        return False
    rho = (1 + finance.discount_rate_pct_per_year / 100) ** (-1 / 12)
    build = campuses["build_months"].to_numpy(float)
    capex = campuses["capex_usd_per_it_mw"].to_numpy(float)
    salvage = campuses["hpc_pue"].to_numpy(float) \
        * campuses["asic_salvage_usd_per_mw"].to_numpy(float)
    if not np.all(capex * rho ** (build - 1) >= salvage):
        return False
    # with a cash floor, cash at every month must not fall: a month's capex not yet paid
    # must cover the sale of displaced miners that waits for the delayed block
    return finance.opening_cash_usd is None or bool(np.all(capex / build >= salvage))


def delivery_months(data: ModelData) -> dict[str, set[int]]:
    """Months in which some lease phase may be delivered at each campus (inside the horizon:
    a phase due after it counts in its last month, as in the leases family)."""
    last = data.horizon_months - 1
    months: dict[str, set[int]] = defaultdict(set)
    for option in data.lease_options:
        for _, _, after in data.phases[option.offer_id]:
            months[option.campus_id].add(min(option.start + after, last))
    after_of = {(o, k): after for o, ramp in data.phases.items() for k, _, after in ramp}
    for b in data.split_blocks:
        months[b.campus_id].add(min(b.start + after_of[b.offer_id, b.phase], last))
    return months


def allowed_block_starts(data: ModelData) -> dict[str, frozenset[int]] | None:
    """Per campus, the months a block may start in; None when every month is allowed."""
    if not reduction_applies(data.finance, data.campuses, has_spot_market(data)):
        return None
    yearly_caps = data.max_it_mw_started_per_year is not None \
        or bool(data.max_it_mw_started_per_year_by_region)
    decembers = {t for t in range(data.horizon_months) if (data.first_month + t) % 12 == 11} \
        if yearly_caps else set()
    build = data.campuses["build_months"].astype(int).to_dict()
    deliveries = delivery_months(data)
    return {c: frozenset({d - build[c] for d in deliveries.get(c, ()) if d >= build[c]}
                         | decembers)
            for c in data.campus_ids}
