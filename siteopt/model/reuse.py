"""Solving scenarios that differ only in prices on one built model.

Many sweep and batch variants change only numbers that enter the objective — BTC price and
network growth, power prices, fleet efficiency, capex, opex, rents, penalties, the discount
rate. Their constraints, bounds and variables are those of the first variant, so the Pyomo
model and its compiled matrices can be kept and only the cash ledger (hence the objective)
recomputed: no Pyomo build, no compile. `reuse_key` names that structure; two inputs with the
same key have identical constraint matrices, bounds and right-hand sides. Which inputs are
objective-only is said once, in the schema (`objective_only`); anything else changes the key,
and models whose constraint rows hold cash (debt, budget, cash floor) are never reused.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

import pandas as pd
import pyomo.environ as pyo

from siteopt.inputs import Inputs
from siteopt.inputs.schema import TABLES, objective_only_columns, objective_only_keys
from siteopt.model import FAMILIES, families_for
from siteopt.model.cash import CashLedger
from siteopt.model.data import ModelData, prepare
from siteopt.model.spot import spot_market_on
from siteopt.model.start_months import reduction_applies

# Settings of the solve, not of the model: never part of its structure.
SOLVE_SETTINGS = {("solver",)}


def reuse_key(inputs: Inputs, data: ModelData | None = None) -> str | None:
    """Hash of everything that shapes the constraints; None when cash enters constraints
    (then a price changes a right-hand side or a row: the model cannot be kept)."""
    finance = inputs.scenario.finance
    if finance.debt is not None or finance.capex_budget_usd_per_year is not None \
            or finance.opening_cash_usd is not None:
        return None
    return structure_key(inputs, data)


def structure_key(inputs: Inputs, data: ModelData | None = None) -> str:
    """Hash of the model's structure but for the numbers cash brings into constraints: two
    inputs with the same key have the same variables, so one's plan is a start for the
    other (a funded sweep's variants) — feasible or not, HiGHS decides."""
    data = data if data is not None else prepare(inputs)
    finance = inputs.scenario.finance
    settings = inputs.scenario.model_dump(mode="json")
    for key in objective_only_keys() | SOLVE_SETTINGS:
        node = settings
        for part in key[:-1]:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):  # an optional section left out has no keys to drop
            node.pop(key[-1], None)
    market = inputs.scenario.market
    spot = spot_market_on(market.hpc_spot_rate_usd_per_kw_month, market.hpc_spot_share_pct)
    structure = {
        # whether an optional family exists is structure, even when its price is objective-only
        "families": [family.name for family in families_for(data)],
        # a spot rate without a share builds no spot family; keyed anyway, to stay on the
        # safe side of reuse (a wrong reuse would solve the wrong model)
        "spot_rate_set": market.hpc_spot_rate_usd_per_kw_month > 0,
        # prices decide whether block starts are reduced (start_months), so it is structure
        "reduced_starts": reduction_applies(finance, inputs.campuses, spot),
        "fixed_before": data.fixed_before,
        # which offers have tenant capex decides which phases get tenant_funded columns
        "tenant_capex": sorted(inputs.offers.index[inputs.offers["tenant_capex_pct"] > 0]),
    }
    digest = hashlib.sha256(json.dumps([settings, structure], sort_keys=True).encode())
    for name, frame in (("campuses", inputs.campuses), ("offers", inputs.offers),
                        ("offer_phases", inputs.offer_phases),
                        ("construction", inputs.construction)):
        digest.update(frame.drop(columns=objective_only_columns(TABLES[name])).to_csv().encode())
    digest.update(pd.Series(inputs.market["month"]).to_csv().encode())
    return digest.hexdigest()


def record_cash(m: pyo.ConcreteModel, data: ModelData) -> CashLedger:
    """The cash ledger of `data` on an already built model: the same families' cash, in the
    same order as build_model."""
    cash = CashLedger(data.cash_months, data.discount_factor)
    for family in FAMILIES:
        if family.record_cash is not None and family.applies(data):
            family.record_cash(m, data, cash)
    return cash


class ModelCache:
    """The last few models built in this process, by reuse key: price-only variants solved
    one after another (sweeps, batches on a worker) take the model and its compiled form
    from here. Two entries by default: a plan and its mining-only baseline alternate."""

    def __init__(self, size: int = 2):
        self.size = size
        self._entries: OrderedDict[str, Any] = OrderedDict()

    def get(self, key: str | None) -> Any:
        return None if key is None else self._entries.get(key)

    def put(self, key: str | None, entry: Any) -> None:
        if key is None:
            return
        self._entries[key] = entry
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def drop(self, key: str | None) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
