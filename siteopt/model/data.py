"""The numbers the model reads, prepared once from validated inputs: index lists and arrays.

Months are integers m = 0..H-1 inside the horizon; months H.. carry only cash already
committed inside it (rest of lease terms, rest of started capex).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from siteopt.inputs import Inputs
from siteopt.months import days, label, parse_month


@dataclass(frozen=True)
class LeaseOption:
    """Offer o accepted at campus c starting in month s (0-based, inside the horizon)."""

    offer_id: str
    campus_id: str
    start: int


@dataclass(frozen=True)
class ModelData:
    campus_ids: tuple[str, ...]
    offer_ids: tuple[str, ...]
    horizon_months: int
    total_months: int  # horizon plus months that carry committed cash
    first_month: int  # ordinal of month 0
    days: np.ndarray  # [total_months]
    discount_factor: np.ndarray  # [total_months], (1 + r)^-((m + 1) / 12)
    hashprice_usd_per_ph_day: np.ndarray  # [horizon_months]
    campuses: pd.DataFrame  # indexed by campus_id
    offers: pd.DataFrame  # indexed by offer_id
    permit_month: dict[str, int]  # first month construction may start, clipped at 0
    lease_options: tuple[LeaseOption, ...]
    value_beyond_horizon: bool

    def month_label(self, m: int) -> str:
        return label(self.first_month + m)

    @property
    def cash_months(self) -> int:
        """Months whose cash counts in NPV."""
        return self.total_months if self.value_beyond_horizon else self.horizon_months


def prepare(inputs: Inputs) -> ModelData:
    scenario = inputs.scenario
    first = parse_month(scenario.horizon.start)
    horizon = scenario.horizon.months
    campuses, offers = inputs.campuses, inputs.offers

    permit = {c: max(0, parse_month(p) - first) if p else 0
              for c, p in campuses["permit_ready"].items()}
    options = []
    for offer_id, offer in offers.iterrows():
        early = max(0, parse_month(offer["earliest_start"]) - first)
        late = min(horizon - 1, parse_month(offer["latest_start"]) - first)
        for campus_id in offer["campuses"]:
            if campuses.at[campus_id, "hpc_max_it_mw"] + 1e-9 < offer["it_mw"]:
                continue  # the offer can never fit here
            # A start before permit + build can never be covered by ready capacity.
            ready = permit[campus_id] + int(campuses.at[campus_id, "build_months"])
            options += [LeaseOption(offer_id, campus_id, s) for s in range(max(early, ready),
                                                                          late + 1)]

    tail = max([o.start + int(offers.at[o.offer_id, "term_months"]) for o in options]
               + [horizon - 1 + int(b) for b in campuses["build_months"]] + [horizon])
    ordinals = first + np.arange(tail)
    rate = scenario.finance.discount_rate_pct_per_year / 100
    return ModelData(
        campus_ids=tuple(campuses.index),
        offer_ids=tuple(offers.index),
        horizon_months=horizon,
        total_months=tail,
        first_month=first,
        days=np.array([days(int(o)) for o in ordinals], dtype=float),
        discount_factor=(1 + rate) ** (-(np.arange(tail) + 1) / 12),
        hashprice_usd_per_ph_day=inputs.market["hashprice_usd_per_ph_day"].to_numpy(float),
        campuses=campuses,
        offers=offers,
        permit_month=permit,
        lease_options=tuple(options),
        value_beyond_horizon=scenario.finance.value_beyond_horizon,
    )
