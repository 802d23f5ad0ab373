"""Solving scenarios that differ only in prices on one built model.

Many sweep and batch variants change only numbers that enter the objective — BTC price and
network growth, power prices, fleet efficiency, capex, opex, rents, penalties, the discount
rate. Their constraints, bounds and variables are those of the first variant, so the Pyomo
model and its compiled matrices can be kept and only the cash ledger (hence the objective)
recomputed: no Pyomo build, no compile. `reuse_key` names that structure; two inputs with the
same key have identical constraint matrices, bounds and right-hand sides. Anything not known
to be objective-only changes the key, and models whose constraint rows hold cash (debt,
budget, cash floor) are never reused.
"""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pyomo.environ as pyo

from siteopt.inputs import Inputs
from siteopt.model.cash import CashLedger
from siteopt.model.conversion import record_conversion_cash
from siteopt.model.data import ModelData
from siteopt.model.leases import record_lease_cash
from siteopt.model.mining import record_mining_cash
from siteopt.model.salvage import record_salvage_cash
from siteopt.model.spot import record_spot_cash, spot_market_on
from siteopt.model.start_months import reduction_applies
from siteopt.model.tenant_capex import record_tenant_capex_cash
from siteopt.model.terminal import define_terminal_value, uses_ebitda_multiple
from siteopt.model.treasury import record_treasury_cash

# Inputs that only enter cash (so the objective), never a constraint, bound or index set.
OBJECTIVE_ONLY_SCENARIO_KEYS = {
    ("market", k) for k in ("btc_price_usd", "btc_price_growth_pct_per_year",
                            "network_hashrate_ehs", "network_hashrate_growth_pct_per_year",
                            "fees_btc_per_block", "block_subsidy_btc", "halving_months",
                            "hashprice_usd_per_ph_day", "paths",
                            "hpc_spot_rate_usd_per_kw_month")
} | {("finance", "discount_rate_pct_per_year"), ("finance", "value_beyond_horizon"),
     ("finance", "terminal_value"), ("solver",), ("name",), ("description",), ("portfolio",)}
OBJECTIVE_ONLY_COLUMNS = {
    "campuses": ["name", "power_price_usd_per_mwh", "fleet_efficiency_j_per_th",
                 "mining_opex_usd_per_mw_month", "capex_usd_per_it_mw",
                 "hpc_opex_usd_per_it_mw_month", "asic_salvage_usd_per_mw"],
    "offers": ["rate_usd_per_kw_month", "escalator_pct_per_year", "late_penalty_usd_per_month",
               "prepayment_usd", "prepayment_credit_months", "tenant_capex_pct",
               "signing_month"],
}


def reuse_key(inputs: Inputs) -> str | None:
    """Hash of everything that shapes the constraints; None when cash enters constraints."""
    finance = inputs.scenario.finance
    if finance.debt is not None or finance.capex_budget_usd_per_year is not None \
            or finance.opening_cash_usd is not None:
        return None
    settings = inputs.scenario.model_dump(mode="json")
    for key in OBJECTIVE_ONLY_SCENARIO_KEYS:
        node = settings
        for part in key[:-1]:
            node = node[part]
        node.pop(key[-1], None)
    # whether an optional family exists is structure, even when its price is objective-only
    market = inputs.scenario.market
    spot = spot_market_on(market.hpc_spot_rate_usd_per_kw_month, market.hpc_spot_share_pct)
    flags = {"spot": market.hpc_spot_rate_usd_per_kw_month > 0,
             # prices decide whether block starts are reduced (start_months), so it is structure
             "reduced_starts": reduction_applies(finance, inputs.campuses, spot),
             "salvage": bool((inputs.campuses["asic_salvage_usd_per_mw"] > 0).any()),
             "ebitda_multiple": finance.terminal_value.method == "ebitda_multiple",
             # which offers have tenant capex decides which phases get tenant_funded columns
             "tenant_capex": sorted(inputs.offers.index[inputs.offers["tenant_capex_pct"] > 0])}
    digest = hashlib.sha256(json.dumps([settings, flags], sort_keys=True).encode())
    for name, frame in (("campuses", inputs.campuses), ("offers", inputs.offers),
                        ("offer_phases", inputs.offer_phases)):
        kept = frame.drop(columns=OBJECTIVE_ONLY_COLUMNS.get(name, []))
        digest.update(kept.to_csv().encode())
    digest.update(pd.Series(inputs.market["month"]).to_csv().encode())
    return digest.hexdigest()


def record_cash(m: pyo.ConcreteModel, data: ModelData) -> CashLedger:
    """The cash ledger of `data` on an already built model, in build_model's order."""
    cash = CashLedger(data.cash_months, data.discount_factor)
    record_mining_cash(m, data, cash)
    record_conversion_cash(m, data, cash)
    if m.component("miners_sold_mw") is not None:
        record_salvage_cash(m, data, cash)
    record_lease_cash(m, data, cash)
    if m.component("tenant_funded") is not None:
        record_tenant_capex_cash(m, data, cash)
    if m.component("spot_mw") is not None:
        record_spot_cash(m, data, cash)
    if uses_ebitda_multiple(data):
        define_terminal_value(data, cash)
    if m.component("btc_sold") is not None:
        record_treasury_cash(m, data, cash)
    return cash
