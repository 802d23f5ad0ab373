r"""Leases family: which offers are accepted, where and from when, and the cash they bring.

An offer o delivers phases k of W_{o,k} IT MW at a_{o,k} months after its start s (one phase
of W_o at 0 when no ramp is given) and ends T_o months after s; its hall is free for another
lease or the spot market V_o months later (vacant_months_after_end, 0 unless a tenant's
default leaves the hall to be recommissioned): Q_{c,t} counts IT MW leased or so held empty.

.. math::

    A_{o,c,s} \in \{0,1\}   \quad \text{(offer not split, at one campus)}

    Y_{o,s} \in \{0,1\}, \; N_{o,k,c,s} \in \mathbb{Z}_{\ge 0}  \quad \text{(split offer)}

    \text{offer\_accepted\_once}: \sum_{c,s} A_{o,c,s} + \sum_s Y_{o,s}
        \;(= 1 \text{ signed}, \le 1 \text{ otherwise})

    \text{split\_mw\_adds\_up}: \sum_c b_c N_{o,k,c,s} = W_{o,k} Y_{o,s}

    \text{it\_leased\_balance}: Q_{c,t} = Q_{c,t-1} + \text{delivered}_{c,t} - \text{ended}_{c,t}

    \text{ended}_{c,t} = \sum_{o,s:\, s + T_o + V_o = t} W_o A_{o,c,s} \;\text{(split blocks alike)}

    \text{leases\_within\_ready\_capacity}: Q_{c,t} \le R_{c,t}

Starts run from earliest_start to latest_start + max_delay_months (inside the horizon), and
only where the first delivery can be covered (start ≥ the first month with capacity ready:
0 with ready halls, a hall's ready month, else permit + build). A running lease (signed,
started before the horizon) has one option: its campus and its real start s < 0; phases it
delivered before the horizon count as delivered in month 0, and its cash before month 0 is
history (dropped by the ledger), so rent, escalator steps (from s) and credits run on. A
phase due after the horizon is counted as delivered in the horizon's last month, so capacity
for it must be ready by then (capacity built after the horizon is not modelled). A lease
running past the horizon already ran at H-1, and ready capacity never falls, so coverage is
checked inside the horizon.

Cash of one accepted lease starting in s (for a split offer, per block, with offer-level
amounts shared by MW: b_c / W_o):

- ``lease_revenue_usd``: W_{o,k} × 1000 × rate × (1 + e)^floor((t − s)/12) for
  s + a_k ≤ t < s + T
- ``hpc_opex_usd`` after the horizon: W_{o,k} × o^hpc_c for max(H, s + a_k) ≤ t < s + T
- ``late_penalty_usd``: penalty in each month latest_start ≤ t < s
- ``prepayment_usd``: the prepayment in the signing month (not counted if before the horizon)
- ``prepayment_credit_usd``: prepayment / n in s ≤ t < s + n; credits in months whose cash
  is not counted (after the horizon, when nothing after it is valued) are the company's
  ``prepayment_liability_usd`` in month H-1, at their present value there: rent already
  received must be given back against later rent, whatever values the years after.

Tenant capex is the tenant_capex family's (it depends on the blocks built for a lease).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData


def define_leases(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    offers = data.offers
    block = data.campuses["hpc_block_it_mw"]
    max_it = data.campuses["hpc_max_it_mw"].to_dict()
    horizon = data.horizon_months

    m.LEASE_OPTIONS = pyo.Set(initialize=[(o.offer_id, o.campus_id, o.start)
                                          for o in data.lease_options],
                              dimen=3, ordered=True, doc="offer × campus × start month")
    m.lease_accepted = pyo.Var(m.LEASE_OPTIONS, domain=pyo.Binary,
                               doc="offer accepted at the campus from the month [0/1]")
    m.SPLIT_STARTS = pyo.Set(initialize=data.split_starts, dimen=2, ordered=True,
                             doc="split offer × start month")
    m.split_start = pyo.Var(m.SPLIT_STARTS, domain=pyo.Binary,
                            doc="split offer accepted from the month [0/1]")
    m.SPLIT_BLOCKS = pyo.Set(initialize=[(b.offer_id, b.phase, b.campus_id, b.start)
                                         for b in data.split_blocks],
                             dimen=4, ordered=True, doc="split offer × phase × campus × start")
    bounds = {(b.offer_id, b.phase, b.campus_id, b.start): b.max_blocks
              for b in data.split_blocks}
    m.split_blocks = pyo.Var(m.SPLIT_BLOCKS, domain=pyo.NonNegativeIntegers,
                             bounds=lambda _, *k: (0, bounds[k]),
                             doc="campus blocks serving a phase of a split offer [blocks]")
    m.it_leased_mw = pyo.Var(m.CAMPUS_MONTHS, bounds=lambda _, c, t: (0.0, max_it[c]),
                             doc="IT MW under lease (phases due after the horizon counted "
                                 "in its last month) [IT MW]")

    accepted_terms: dict[str, list] = defaultdict(list)
    for key in m.LEASE_OPTIONS:
        accepted_terms[key[0]].append(m.lease_accepted[key])
    for key in m.SPLIT_STARTS:
        accepted_terms[key[0]].append(m.split_start[key])
    m.offer_accepted = pyo.Expression(
        data.offer_ids, rule=lambda m, o: pyo.quicksum(accepted_terms[o]),
        doc="1 if the offer is accepted anywhere, from any month [0/1]")

    signed = offers["signed"].to_dict()

    @m.Constraint(data.offer_ids, doc="each offer at most once; signed leases exactly once")
    def offer_accepted_once(m, o):
        if not accepted_terms[o]:
            return pyo.Constraint.Skip
        total = pyo.quicksum(accepted_terms[o])
        return total == 1 if signed[o] else total <= 1

    phase_mw = {(o, k): mw for o, ramp in data.phases.items() for k, mw, _ in ramp}
    blocks_of: dict[tuple, list] = defaultdict(list)
    for key in m.SPLIT_BLOCKS:
        offer_id, phase, campus_id, start = key
        blocks_of[offer_id, phase, start].append(block[campus_id] * m.split_blocks[key])

    @m.Constraint(list(blocks_of), doc="split offer: campus shares add up to each phase [IT MW]")
    def split_mw_adds_up(m, o, k, s):
        return pyo.quicksum(blocks_of[o, k, s]) == phase_mw[o, k] * m.split_start[o, s]

    delivered: dict[tuple, list] = defaultdict(list)
    ended: dict[tuple, list] = defaultdict(list)
    for unit in lease_units(m, data):
        term = int(offers.at[unit.offer_id, "term_months"])
        for mw, after in unit.phases:
            delivered[unit.campus_id, unit.delivery_month(after, horizon)].append(mw * unit.var)
        freed = unit.start + term + int(offers.at[unit.offer_id, "vacant_months_after_end"])
        if freed < horizon:
            ended[unit.campus_id, freed].append(unit.total_mw * unit.var)

    @m.Constraint(m.CAMPUS_MONTHS, doc="IT MW leased: deliveries add, lease ends remove [IT MW]")
    def it_leased_balance(m, c, t):
        before = m.it_leased_mw[c, t - 1] if t > 0 else 0.0
        return m.it_leased_mw[c, t] == before + pyo.quicksum(delivered[c, t]) - pyo.quicksum(
            ended[c, t])

    @m.Constraint(m.CAMPUS_MONTHS, doc="leased IT MW ≤ ready IT MW [IT MW]")
    def leases_within_ready_capacity(m, c, t):
        return m.it_leased_mw[c, t] <= m.it_ready_mw[c, t]


def record_lease_cash(m: pyo.ConcreteModel, data: ModelData, cash: CashLedger) -> None:
    _record_lease_cash(lease_units(m, data), data, cash)


@dataclass(frozen=True)
class LeaseUnit:
    """One variable's share of a lease: a whole offer at a campus, or one block of a split."""

    var_name: str
    position: int
    var: pyo.Var
    offer_id: str
    campus_id: str
    start: int
    phases: tuple[tuple[float, int], ...]  # (IT MW per unit, months after start)
    offer_share: float  # share of offer-level amounts (penalty, prepayment) per unit
    phase_ids: tuple[int, ...]  # offer_phases.phase of each of `phases`

    @property
    def total_mw(self) -> float:
        return sum(mw for mw, _ in self.phases)

    def delivery_month(self, after: int, horizon: int) -> int:
        """Month a phase counts as delivered: due after the horizon → its last month; a
        running lease's phases delivered before the horizon → its first month."""
        return max(0, min(self.start + after, horizon - 1))

    def delivered_mw(self, month: int, horizon: int) -> float:
        """IT MW this unit has delivered by `month` (not counting its end)."""
        return sum(mw for mw, after in self.phases
                   if self.delivery_month(after, horizon) <= month)


def lease_units(m: pyo.ConcreteModel, data: ModelData) -> list[LeaseUnit]:
    units = []
    for position, (key, var) in enumerate(m.lease_accepted.items()):
        offer_id, campus_id, start = key
        ramp = tuple((mw, after) for _, mw, after in data.phases[offer_id])
        units.append(LeaseUnit("lease_accepted", position, var, offer_id, campus_id, start,
                               ramp, 1.0, tuple(k for k, _, _ in data.phases[offer_id])))
    block = data.campuses["hpc_block_it_mw"]
    after_of = {(o, k): after for o, ramp in data.phases.items() for k, _, after in ramp}
    for position, (key, var) in enumerate(m.split_blocks.items()):
        offer_id, phase, campus_id, start = key
        mw = float(block[campus_id])
        units.append(LeaseUnit("split_blocks", position, var, offer_id, campus_id, start,
                               ((mw, after_of[offer_id, phase]),),
                               mw / float(data.offers.at[offer_id, "it_mw"]), (phase,)))
    return units


def rent_schedule(it_mw: float, rate_usd_per_kw_month: float, escalator_pct: float,
                  term_months: int) -> np.ndarray:
    """Monthly rent over a lease's term, month 0 = lease start (USD)."""
    years = np.arange(term_months) // 12
    return it_mw * 1000.0 * rate_usd_per_kw_month * (1 + escalator_pct / 100) ** years


class LeaseEntries:
    """Cash entries gathered per line and variable, handed to the ledger once per line;
    `phase` is the entries' detail (0: the lease unit as a whole)."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], list] = defaultdict(list)

    def add(self, line: str, unit: LeaseUnit, months, usd, phase: int = 0) -> None:
        months = np.atleast_1d(np.asarray(months, dtype=np.int64))
        usd = np.broadcast_to(np.asarray(usd, dtype=float), months.shape)
        self.rows[line, unit.var_name].append((unit.position, unit.campus_id, months, usd,
                                               unit.var, phase))

    def flush(self, cash: CashLedger) -> None:
        for (line, _), parts in self.rows.items():
            var = parts[0][4].parent_component()
            sizes = [len(p[2]) for p in parts]
            cash.add(line, var, np.repeat([p[0] for p in parts], sizes),
                     np.repeat(np.array([p[1] for p in parts], dtype=object), sizes),
                     np.concatenate([p[2] for p in parts]),
                     np.concatenate([p[3] for p in parts]),
                     detail=np.repeat([p[5] for p in parts], sizes))


def _record_lease_cash(units: list[LeaseUnit], data: ModelData, cash: CashLedger) -> None:
    # plain dicts: a pandas lookup per unit costs more than the arithmetic on large portfolios
    offers = data.offers.to_dict("index")
    campuses = data.campuses[["hpc_opex_usd_per_it_mw_month"]].to_dict("index")
    horizon = data.horizon_months
    entries = LeaseEntries()
    rents: dict[str, np.ndarray] = {}
    for unit in units:
        offer = offers[unit.offer_id]
        campus = campuses[unit.campus_id]
        term = int(offer["term_months"])
        s = unit.start
        rent = rents.get(unit.offer_id)
        if rent is None:
            rent = rents[unit.offer_id] = rent_schedule(
                1.0, offer["rate_usd_per_kw_month"], offer["escalator_pct_per_year"], term)
        opex = campus["hpc_opex_usd_per_it_mw_month"]
        for k, (mw, after) in zip(unit.phase_ids, unit.phases):
            months = np.arange(s + after, s + term)
            entries.add("lease_revenue_usd", unit, months, mw * rent[after:], phase=k)
            beyond = months[months >= horizon]
            entries.add("hpc_opex_usd", unit, beyond, mw * opex, phase=k)
        late_from = max(0, data.latest_start[unit.offer_id])
        if offer["late_penalty_usd_per_month"] and s > late_from:
            entries.add("late_penalty_usd", unit, np.arange(late_from, s),
                        unit.offer_share * offer["late_penalty_usd_per_month"])
        prepayment = offer["prepayment_usd"] * unit.offer_share
        if prepayment:
            signing = data.signing_month[unit.offer_id]
            if signing >= 0:
                entries.add("prepayment_usd", unit, signing, prepayment)
            credit = int(offer["prepayment_credit_months"])
            entries.add("prepayment_credit_usd", unit, np.arange(s, s + credit),
                        prepayment / credit)
    entries.flush(cash)
