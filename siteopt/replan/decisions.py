"""The decisions of a written plan, as values of the model's variables.

A plan's decisions are read back from its result tables (what the user has, and may have
corrected with actuals): per campus and month `mining_mw`, `blocks_started`,
`miners_sold_mw` (cumulative MW sold) and `spot_mw`; per accepted lease its campus, start
and, for a split offer, the blocks of each phase at each campus; per month `debt_draw`
(million USD in the model) and `btc_sold`. Each becomes one `Decision`: a model variable,
its index and the value the plan gave it, with a phrase that names it for people.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from siteopt.inputs.months import label, parse_month
from siteopt.model.data import ModelData
from siteopt.model.objective import USD_PER_MUSD

# campus × month columns of campus_month.csv that are decisions, and their model variables
CAMPUS_MONTH_DECISIONS = {"mining_mw": "mining_mw", "blocks_started": "blocks_started",
                          "miners_sold_mw": "miners_sold_mw", "spot_mw": "spot_mw"}
UNITS = {"mining_mw": "MW", "blocks_started": "blocks", "miners_sold_mw": "MW sold in all",
         "spot_mw": "IT MW", "debt_draw": "M USD", "btc_sold": "BTC",
         "lease_accepted": "", "split_start": "", "split_blocks": "blocks"}


@dataclass(frozen=True)
class Decision:
    variable: str  # model variable name
    index: tuple
    value: float
    month: int  # month it takes effect (horizon month; a running lease's start is < 0)
    what: str  # for people: "NY-ERIE 2027-03: 1 block started"


@dataclass(frozen=True)
class PlanDecisions:
    """Every decision of a plan, and the accepted leases by offer (campus, start month)."""

    decisions: tuple[Decision, ...]
    leases: dict[str, list[tuple[str, int]]]  # offer_id → [(campus_id, start month)]

    def before(self, month: int) -> list[Decision]:
        return [d for d in self.decisions if d.month < month]


def plan_decisions(campus_month: pd.DataFrame, leases: pd.DataFrame,
                   company_month: pd.DataFrame, data: ModelData) -> PlanDecisions:
    """The decisions of the written plan, indexed for the model of `data` (its campuses'
    block sizes turn a split lease's IT MW into blocks)."""
    first, horizon = data.first_month, data.horizon_months
    found: list[Decision] = []
    cm = campus_month[campus_month["in_horizon"].astype(bool)]
    months = cm["month"].map(parse_month) - first
    for column, variable in CAMPUS_MONTH_DECISIONS.items():
        if column not in cm:
            continue
        for campus_id, t, value in zip(cm["campus_id"], months, cm[column]):
            if 0 <= t < horizon:
                found.append(Decision(variable, (campus_id, int(t)), float(value), int(t),
                                      f"{campus_id} {label(first + t)}: {column} "
                                      f"{float(value):g}"))
    found += _lease_decisions(leases, data)
    company = company_month[company_month["in_horizon"].astype(bool)]
    for t, row in zip(company["month"].map(parse_month) - first, company.itertuples()):
        if not 0 <= t < horizon:
            continue
        draw = float(getattr(row, "debt_draw_usd", 0.0) or 0.0)
        found.append(Decision("debt_draw", (int(t),), draw / USD_PER_MUSD, int(t),
                              f"{label(first + t)}: debt drawn {draw:,.0f} USD"))
        sold = float(getattr(row, "btc_sold_btc", 0.0) or 0.0)
        found.append(Decision("btc_sold", (int(t),), sold, int(t),
                              f"{label(first + t)}: {sold:g} BTC sold"))
    accepted = leases[leases["accepted"].astype(bool)]
    by_offer: dict[str, list[tuple[str, int]]] = {}
    for row in accepted.drop_duplicates(["offer_id", "campus_id"]).itertuples():
        by_offer.setdefault(row.offer_id, []).append(
            (row.campus_id, parse_month(row.start_month) - first))
    return PlanDecisions(tuple(found), by_offer)


def _lease_decisions(leases: pd.DataFrame, data: ModelData) -> list[Decision]:
    first = data.first_month
    accepted = leases[leases["accepted"].astype(bool)]
    out: list[Decision] = []
    for offer_id, rows in accepted.groupby("offer_id", sort=False):
        start = parse_month(rows["start_month"].iloc[0]) - first
        when = label(first + start)
        if not bool(rows["split"].iloc[0]):
            campus_id = rows["campus_id"].iloc[0]
            out.append(Decision("lease_accepted", (offer_id, campus_id, start), 1.0, start,
                                f"lease {offer_id} at {campus_id} from {when}"))
            continue
        out.append(Decision("split_start", (offer_id, start), 1.0, start,
                            f"split lease {offer_id} from {when}"))
        for row in rows.itertuples():
            block = data.campuses.at[row.campus_id, "hpc_block_it_mw"] \
                if row.campus_id in data.campuses.index else float("nan")
            out.append(Decision("split_blocks", (offer_id, int(row.phase), row.campus_id, start),
                                float(row.it_mw) / block, start,
                                f"split lease {offer_id} phase {int(row.phase)}: "
                                f"{float(row.it_mw):g} IT MW at {row.campus_id} from {when}"))
    return out
