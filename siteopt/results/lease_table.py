"""leases.csv and the IT MW under lease, read from the solution and the cash ledger.

The solution is read through the model's own lease units (`siteopt.model.leases.lease_units`):
a unit is one variable's share of a lease — a whole offer at a campus (`lease_accepted`, one
row per phase) or a number of blocks of one phase of a split offer (`split_blocks`, one row).
Its cash is the ledger's (`CashLedger.evaluate_units`), per line and detail: the phase, or 0
for amounts of the unit as a whole (late penalty, prepayment and its credit). A phase's
tenant capex is recorded on `tenant_funded`, indexed (offer, campus, start, phase).
Nothing here prices a lease: rent, penalties and capex are the model's numbers.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from siteopt.contract import LEASE_COLUMNS, LINE
from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData
from siteopt.model.leases import LeaseUnit, lease_units

LEASE_VARS = ("lease_accepted", "split_blocks")
TENANT_FUNDED = "tenant_funded"
TENANT_CAPEX_LINES = ("tenant_capex_usd", LINE["tenant_capex_usd"].settles_to)
DECLINED = {"accepted": False, "it_mw": 0.0, "late_months": 0, "late_penalty_usd": 0.0,
            "prepayment_usd": 0.0, "tenant_capex_usd": 0.0, "lease_npv_usd": 0.0}


@dataclass(frozen=True)
class Taken:
    """A lease unit accepted in the solution, `value` times (1 for an offer, n blocks)."""

    unit: LeaseUnit
    value: float


def taken_units(m: pyo.ConcreteModel, data: ModelData,
                values: dict[str, np.ndarray]) -> list[Taken]:
    units = lease_units(m, data)
    return [Taken(u, float(values[u.var_name][u.position])) for u in units
            if values[u.var_name][u.position] > 0.5]


def leased_mw(data: ModelData, taken: list[Taken]) -> dict[str, np.ndarray]:
    """IT MW under lease per campus, months 0 .. total_months − 1: each phase from the month
    it is due to the lease's end. A phase due after the horizon is not leased inside it here,
    although the model's capacity rows count it at H-1 (its capacity must be ready by then)."""
    n = data.total_months
    leased = {c: np.zeros(n) for c in data.campus_ids}
    term = data.offers["term_months"]
    for t in taken:
        u = t.unit
        end = min(u.start + int(term[u.offer_id]), n)
        for mw, after in u.phases:
            # a running lease's phases delivered before the horizon lease from month 0
            leased[u.campus_id][max(0, min(u.start + after, n)):end] += mw * t.value
    return leased


class UnitCash:
    """The ledger's cash of the solved lease units, looked up by unit, detail and line."""

    def __init__(self, m: pyo.ConcreteModel, cash: CashLedger, values: dict[str, np.ndarray]):
        names = [*LEASE_VARS, TENANT_FUNDED] if TENANT_FUNDED in values else list(LEASE_VARS)
        frame = cash.evaluate_units(values, names)
        keys = list(zip(frame["var"], frame["position"], frame["detail"], frame["line"]))
        self._usd = dict(zip(keys, frame["usd"]))
        self._pv = dict(zip(keys, frame["pv_usd"]))
        self._nominal = dict(zip(keys, frame["nominal_usd"]))
        funded = m.component(TENANT_FUNDED)
        self._funded_at = {} if funded is None else \
            {key: position for position, key in enumerate(funded.keys())}

    def usd(self, unit: LeaseUnit, detail: int, line: str) -> float:
        return float(self._usd.get((unit.var_name, unit.position, detail, line), 0.0))

    def pv(self, unit: LeaseUnit, detail: int, line: str) -> float:
        return float(self._pv.get((unit.var_name, unit.position, detail, line), 0.0))

    def tenant_capex(self, unit: LeaseUnit, phase: int) -> float:
        """A phase's tenant capex as it falls due, after the horizon too (nominal USD)."""
        position = self._funded_at.get((unit.offer_id, unit.campus_id, unit.start, phase))
        if position is None:
            return 0.0
        return float(sum(self._nominal.get((TENANT_FUNDED, position, phase, line), 0.0)
                         for line in TENANT_CAPEX_LINES))


def lease_table(data: ModelData, taken: list[Taken], cash: UnitCash) -> pd.DataFrame:
    """One row per accepted lease unit and phase, in offer order; one per declined offer."""
    units_of: dict[str, list[Taken]] = defaultdict(list)
    for t in taken:
        units_of[t.unit.offer_id].append(t)
    records = []
    for offer_id, offer in data.offers.iterrows():
        base = {
            "offer_id": offer_id, "tenant": offer["tenant"], "signed": bool(offer["signed"]),
            "split": bool(offer["split"]), "offer_it_mw": float(offer["it_mw"]),
            "rate_usd_per_kw_month": float(offer["rate_usd_per_kw_month"]),
            "escalator_pct_per_year": float(offer["escalator_pct_per_year"]),
            "term_months": int(offer["term_months"]),
        }
        if not units_of[offer_id]:
            records.append({**base, **DECLINED})
        for t in units_of[offer_id]:
            records += _unit_rows(base, data, t, cash)
    return pd.DataFrame.from_records(records, columns=LEASE_COLUMNS)


def _unit_rows(base: dict, data: ModelData, t: Taken, cash: UnitCash) -> list[dict]:
    """A unit's phases. Its late penalty and prepayment (of the unit as a whole) are shown
    per row by IT MW: the row's share of the offer over the unit's share of it."""
    u = t.unit
    start, term = u.start, base["term_months"]
    penalty = cash.usd(u, 0, "late_penalty_usd")
    prepayment = cash.usd(u, 0, "prepayment_usd")
    rows = []
    for phase, (mw, after) in zip(u.phase_ids, u.phases):
        it_mw = mw * t.value
        share = it_mw / base["offer_it_mw"] / (u.offer_share * t.value)
        rows.append({
            **base, "accepted": True, "campus_id": u.campus_id, "phase": int(phase),
            "it_mw": float(it_mw), "start_month": data.month_label(start),
            "delivery_month": data.month_label(start + after),
            "end_month": data.month_label(start + term - 1),
            "late_months": max(0, start - data.latest_start[u.offer_id]),
            "late_penalty_usd": share * penalty, "prepayment_usd": share * prepayment,
            "tenant_capex_usd": cash.tenant_capex(u, phase),
            "lease_npv_usd": cash.pv(u, phase, "lease_revenue_usd"),
        })
    return rows
