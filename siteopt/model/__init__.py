"""The conversion model. `build_model` lists the families in the order they are built."""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.conversion import define_conversion
from siteopt.model.data import ModelData, prepare
from siteopt.model.debt import define_debt
from siteopt.model.funding import define_capex_budget, define_cash_balance
from siteopt.model.leases import define_leases
from siteopt.model.limits import define_supply_chain_caps, define_tenant_concentration
from siteopt.model.mining import define_mining
from siteopt.model.objective import define_objective
from siteopt.model.offer_choice import define_offer_choice
from siteopt.model.power import define_power_sharing
from siteopt.model.salvage import define_salvage, has_salvage
from siteopt.model.sets import define_sets
from siteopt.model.spot import define_spot_market, has_spot_market
from siteopt.model.tenant_capex import define_tenant_capex, has_tenant_capex
from siteopt.model.terminal import define_terminal_value, uses_ebitda_multiple
from siteopt.model.treasury import define_btc_treasury
from siteopt.model.whole_blocks import define_whole_blocks


@dataclass(frozen=True)
class BuiltModel:
    model: pyo.ConcreteModel
    data: ModelData
    cash: CashLedger


def build_model(data: ModelData) -> BuiltModel:
    """Formulation, in build order (docs/formulation.md follows the same order)."""
    m = pyo.ConcreteModel(name="siteopt")
    cash = CashLedger(data.cash_months, data.discount_factor)
    define_sets(m, data)
    define_mining(m, data, cash)
    define_conversion(m, data, cash)
    define_power_sharing(m, data)
    if has_salvage(data):
        define_salvage(m, data, cash)
    define_leases(m, data, cash)
    if has_tenant_capex(data):
        define_tenant_capex(m, data, cash)
    define_offer_choice(m, data)
    define_whole_blocks(m, data)
    if has_spot_market(data):
        define_spot_market(m, data, cash)
    if data.max_tenant_share is not None:
        define_tenant_concentration(m, data)
    define_supply_chain_caps(m, data)
    finance = data.finance
    if uses_ebitda_multiple(data):
        define_terminal_value(data, cash)
    if finance.btc_treasury_btc > 0:
        define_btc_treasury(m, data, cash)
    if finance.debt is not None:
        define_debt(m, data, cash)
    if finance.capex_budget_usd_per_year is not None:
        define_capex_budget(m, data, cash)
    if finance.opening_cash_usd is not None:
        define_cash_balance(m, data, cash)
    define_objective(m, data, cash)
    return BuiltModel(m, data, cash)


__all__ = ["BuiltModel", "ModelData", "build_model", "prepare"]
