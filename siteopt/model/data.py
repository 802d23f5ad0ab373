"""The numbers the model reads, prepared once from validated inputs: index lists and arrays.

Months are integers m = 0..H-1 inside the horizon; months H.. carry only cash already
committed inside it (rest of lease terms, rest of started capex).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from siteopt.inputs import Inputs
from siteopt.inputs.as_built import running_offer_ids
from siteopt.inputs.months import days, label, parse_month
from siteopt.inputs.schema import Finance


@dataclass(frozen=True)
class LeaseOption:
    """Offer o accepted at campus c starting in month s (0-based, inside the horizon)."""

    offer_id: str
    campus_id: str
    start: int


@dataclass(frozen=True)
class SplitBlock:
    """Blocks of campus c serving phase k of split offer o when the lease starts in month s."""

    offer_id: str
    phase: int
    campus_id: str
    start: int
    max_blocks: int


@dataclass(frozen=True)
class Hall:
    """A hall under construction at the horizon start: ready from month `ready` (≥ 1)."""

    campus_id: str
    it_mw: float
    ready: int
    capex_remaining_usd: float


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
    phases: dict[str, tuple[tuple[int, float, int], ...]]  # offer → (phase, IT MW, months after)
    latest_start: dict[str, int]  # offer → latest start without penalty (may be < 0)
    signing_month: dict[str, int]  # offer → month the prepayment arrives (< 0: already paid)
    lease_options: tuple[LeaseOption, ...]  # offers not split
    split_starts: tuple[tuple[str, int], ...]  # (offer, start) of split offers
    split_blocks: tuple[SplitBlock, ...]
    value_beyond_horizon: bool  # committed cash after the horizon counts
    finance: Finance
    btc_price_usd: np.ndarray  # [horizon_months]
    spot_rate_usd_per_kw_month: float
    spot_absorption_months: int
    spot_share: float
    max_tenant_share: float | None
    max_it_mw_started_per_year: float | None
    max_it_mw_started_per_year_by_region: dict[str, float]
    ready_it_mw: dict[str, float]  # IT MW ready at the horizon start, per campus
    halls: tuple[Hall, ...]  # halls under construction at the horizon start
    running: frozenset[str]  # offers whose lease runs at the horizon start
    # first month IT MW can be ready at a campus: as built (0 or a hall's ready month), or
    # permit + build; a delivery before it can never be covered
    first_ready: dict[str, int]
    # re-planning: decisions before this month are fixed (siteopt.replan), so no dominance
    # rule may close them
    fixed_before: int = 0

    def initial_it_mw(self, campus_id: str) -> float:
        """IT MW built or under construction at the horizon start (reserving grid power)."""
        return self.ready_it_mw[campus_id] + sum(h.it_mw for h in self.halls
                                                 if h.campus_id == campus_id)

    def as_built_ready_mw(self, campus_id: str, month: int) -> float:
        """IT MW of the as-built state ready in `month` (ready halls and halls finished)."""
        return self.ready_it_mw[campus_id] + sum(h.it_mw for h in self.halls
                                                 if h.campus_id == campus_id
                                                 and h.ready <= month)

    def month_label(self, m: int) -> str:
        return label(self.first_month + m)

    def campus_month_arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Position in CAMPUS_MONTHS, campus id and month of every campus × month element,
        in the set's (campus-major) order: the arrays families record cash with."""
        n, horizon = len(self.campus_ids), self.horizon_months
        return (np.arange(n * horizon),
                np.repeat(np.array(self.campus_ids, dtype=object), horizon),
                np.tile(np.arange(horizon), n))

    def per_campus_month(self, column: str) -> np.ndarray:
        """A campus column repeated for each month, aligned with campus_month_arrays."""
        return np.repeat(self.campuses[column].to_numpy(), self.horizon_months)

    @property
    def cash_months(self) -> int:
        """Months whose cash counts in NPV."""
        return self.total_months if self.value_beyond_horizon else self.horizon_months


def prepare(inputs: Inputs) -> ModelData:
    scenario = inputs.scenario
    first = parse_month(scenario.horizon.start)
    horizon = scenario.horizon.months
    campuses, offers = inputs.campuses, inputs.offers
    # a withdrawn offer does not exist in this future: no option, no variable, no row
    offers = offers[~offers["withdrawn"].astype(bool)]

    permit = {c: max(0, parse_month(p) - first) if p else 0
              for c, p in campuses["permit_ready"].items()}
    halls = tuple(Hall(h.campus_id, float(h.it_mw), parse_month(h.ready_month) - first,
                       float(h.capex_remaining_usd))
                  for h in inputs.construction.itertuples())
    running = frozenset(running_offer_ids(offers, first))
    # A delivery before any capacity can be ready there (as built, or permit + build) can
    # never be covered.
    first_ready = {c: min([permit[c] + int(campuses.at[c, "build_months"])]
                          + ([0] if campuses.at[c, "hpc_ready_it_mw"] > 0 else [])
                          + [h.ready for h in halls if h.campus_id == c])
                   for c in campuses.index}
    phases = {o: tuple((int(p.phase), float(p.it_mw), int(p.months_after_start))
                       for p in ramp.itertuples())
              for o, ramp in inputs.offer_phases.groupby("offer_id", sort=False)}
    latest = {o: parse_month(offer["latest_start"]) - first for o, offer in offers.iterrows()}
    # a running lease without a signing month was signed by its start
    signing = {o: (parse_month(offer["signing_month"]) - first if offer["signing_month"]
                   else min(0, latest[o]) if o in running else 0)
               for o, offer in offers.iterrows()}
    options, split_starts, split_blocks = [], [], []
    for offer_id, offer in offers.iterrows():
        if offer_id in running:  # at its one campus, from its real start (validated)
            options.append(LeaseOption(offer_id, offer["campuses"][0], latest[offer_id]))
            continue
        # a lease starts once it is signed, so its prepayment always arrives by its start
        early = max(0, parse_month(offer["earliest_start"]) - first, signing[offer_id])
        late = min(horizon - 1, latest[offer_id] + int(offer["max_delay_months"]))
        eligible = [c for c in offer["campuses"] if campuses.at[c, "hpc_max_it_mw"] > 0]
        if offer["split"]:
            for s in range(early, late + 1):
                blocks = [SplitBlock(offer_id, k, c, s, int(mw // campuses.at[c, "hpc_block_it_mw"]
                                                            + 1e-9))
                          for k, mw, after in phases[offer_id] for c in eligible
                          if s + after >= first_ready[c]
                          and mw >= campuses.at[c, "hpc_block_it_mw"] - 1e-9]
                # every phase needs some campus block, or the offer cannot start then
                if {b.phase for b in blocks} == {k for k, _, _ in phases[offer_id]}:
                    split_starts.append((offer_id, s))
                    split_blocks += blocks
            continue
        for campus_id in eligible:
            if campuses.at[campus_id, "hpc_max_it_mw"] + 1e-9 < offer["it_mw"]:
                continue  # the offer can never fit here
            options += [LeaseOption(offer_id, campus_id, s)
                        for s in range(max(early, first_ready[campus_id]), late + 1)]

    starts = [o.start for o in options] + [s for _, s in split_starts]
    terms = [int(offers.at[o.offer_id, "term_months"]) for o in options] + \
        [int(offers.at[o, "term_months"]) for o, _ in split_starts]
    tail = max([s + n for s, n in zip(starts, terms)]
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
        phases=phases,
        latest_start=latest,
        signing_month=signing,
        lease_options=tuple(options),
        split_starts=tuple(split_starts),
        split_blocks=tuple(split_blocks),
        value_beyond_horizon=(scenario.finance.value_beyond_horizon
                              and scenario.finance.terminal_value.method == "beyond_horizon"),
        finance=scenario.finance,
        btc_price_usd=inputs.market["btc_price_usd"].to_numpy(float),
        spot_rate_usd_per_kw_month=scenario.market.hpc_spot_rate_usd_per_kw_month,
        spot_absorption_months=scenario.market.hpc_spot_absorption_months,
        spot_share=scenario.market.hpc_spot_share_pct / 100,
        max_tenant_share=(None if scenario.limits.max_tenant_share_pct is None
                          else scenario.limits.max_tenant_share_pct / 100),
        max_it_mw_started_per_year=scenario.limits.max_it_mw_started_per_year,
        max_it_mw_started_per_year_by_region=dict(
            scenario.limits.max_it_mw_started_per_year_by_region),
        ready_it_mw=campuses["hpc_ready_it_mw"].astype(float).to_dict(),
        halls=halls,
        running=running,
        first_ready=first_ready,
    )
