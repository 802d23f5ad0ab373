"""The conversion model: its families in build order (docs/formulation.md follows them).

`FAMILIES` is the one list of families. `build_model` builds each that applies and records
its cash; the reuse path (siteopt.model.reuse) records the cash of the same families on a
model already built; the formulation page is checked against it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from siteopt.model.cash import CashLedger
from siteopt.model.conversion import define_conversion, record_conversion_cash
from siteopt.model.data import ModelData, prepare
from siteopt.model.debt import define_debt, record_debt_cash
from siteopt.model.family import Family
from siteopt.model.funding import define_capex_budget, define_cash_balance
from siteopt.model.leases import define_leases, record_lease_cash
from siteopt.model.limits import define_supply_chain_caps, define_tenant_concentration
from siteopt.model.mining import define_mining, record_mining_cash
from siteopt.model.objective import define_objective
from siteopt.model.offer_choice import define_offer_choice
from siteopt.model.power import define_power_sharing
from siteopt.model.salvage import define_salvage, has_salvage, record_salvage_cash
from siteopt.model.sets import define_sets
from siteopt.model.spot import define_spot_market, has_spot_market, record_spot_cash
from siteopt.model.tenant_capex import (
    define_tenant_capex,
    has_tenant_capex,
    record_tenant_capex_cash,
)
from siteopt.model.terminal import record_terminal_value, uses_ebitda_multiple
from siteopt.model.treasury import define_btc_treasury, record_treasury_cash
from siteopt.model.whole_blocks import define_whole_blocks


def _has_tenant_share_cap(data: ModelData) -> bool:
    return data.max_tenant_share is not None


def _has_supply_caps(data: ModelData) -> bool:
    return data.max_it_mw_started_per_year is not None \
        or bool(data.max_it_mw_started_per_year_by_region)


def _has_treasury(data: ModelData) -> bool:
    return data.finance.btc_treasury_btc > 0


def _has_debt(data: ModelData) -> bool:
    return data.finance.debt is not None


def _has_capex_budget(data: ModelData) -> bool:
    return data.finance.capex_budget_usd_per_year is not None


def _has_cash_floor(data: ModelData) -> bool:
    return data.finance.opening_cash_usd is not None


FAMILIES: tuple[Family, ...] = (
    Family("sets", define_sets),
    Family("mining", define_mining, record_mining_cash),
    Family("conversion", define_conversion, record_conversion_cash,
           commitments=("blocks_started",)),
    Family("power", define_power_sharing),
    Family("salvage", define_salvage, record_salvage_cash, applies=has_salvage,
           commitments=("miners_sold_mw",), when="some campus has asic_salvage_usd_per_mw > 0"),
    Family("leases", define_leases, record_lease_cash,
           commitments=("lease_accepted", "split_start", "split_blocks")),
    Family("tenant capex", define_tenant_capex, record_tenant_capex_cash,
           applies=has_tenant_capex, when="some offer has tenant_capex_pct > 0"),
    Family("offer choice", define_offer_choice),
    Family("whole blocks", define_whole_blocks),
    Family("spot market", define_spot_market, record_spot_cash, applies=has_spot_market,
           when="market.hpc_spot_rate_usd_per_kw_month and hpc_spot_share_pct > 0"),
    Family("tenant concentration", define_tenant_concentration,
           applies=_has_tenant_share_cap, when="limits.max_tenant_share_pct is set"),
    Family("supply-chain caps", define_supply_chain_caps, applies=_has_supply_caps,
           when="a limits.max_it_mw_started_per_year(_by_region) cap is set"),
    Family("terminal value", None, record_terminal_value, applies=uses_ebitda_multiple,
           when="finance.terminal_value.method is ebitda_multiple"),
    Family("BTC treasury", define_btc_treasury, record_treasury_cash, applies=_has_treasury,
           commitments=("btc_sold",), when="finance.btc_treasury_btc > 0"),
    Family("project debt", define_debt, record_debt_cash, applies=_has_debt,
           commitments=("debt_draw",), when="finance.debt is set"),
    Family("capex budget", define_capex_budget, applies=_has_capex_budget,
           when="finance.capex_budget_usd_per_year is set"),
    Family("cash balance", define_cash_balance, applies=_has_cash_floor,
           when="finance.opening_cash_usd is set"),
    Family("objective", define_objective),
)


@dataclass(frozen=True)
class BuiltModel:
    model: pyo.ConcreteModel
    data: ModelData
    cash: CashLedger


def families_for(data: ModelData) -> list[Family]:
    """The families a model of `data` has, in build order."""
    return [family for family in FAMILIES if family.applies(data)]


def build_model(data: ModelData) -> BuiltModel:
    """Every family that applies, in the order of FAMILIES: its variables and constraints,
    then the cash its variables move."""
    m = pyo.ConcreteModel(name="siteopt")
    cash = CashLedger(data.cash_months, data.discount_factor)
    for family in families_for(data):
        if family.build is not None:
            family.build(m, data, cash)
        if family.record_cash is not None:
            family.record_cash(m, data, cash)
    return BuiltModel(m, data, cash)


def commitments(data: ModelData) -> tuple[str, ...]:
    """Names of the decision variables that commit the company, in a model of `data`."""
    return tuple(name for family in families_for(data) for name in family.commitments)


__all__ = ["FAMILIES", "BuiltModel", "Family", "ModelData", "build_model", "commitments",
           "families_for", "prepare"]
