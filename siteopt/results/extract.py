"""Solved model → tidy result tables, read from the solution values and the cash ledger.

Extraction prices nothing: cash comes from the ledger the objective was built from, MW from
the solved variables. `extract` assembles the stable tables (README "Results"): campus_month,
company_month and leases (lease_table); the summary is summary.py's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from siteopt.contract import (
    CAMPUS_MONTH_COLUMNS,
    CAMPUS_SIGN,
    COMPANY_MONTH_COLUMNS,
    KINDS,
    LEASE_COLUMNS,
    LINE,
    SIGN,
    subtotal_column,
)
from siteopt.inputs import Inputs
from siteopt.model import BuiltModel
from siteopt.model.cash import COMPANY, USD_PER_MUSD
from siteopt.model.data import ModelData
from siteopt.model.debt import repayment_schedule
from siteopt.results.lease_table import UnitCash, lease_table, leased_mw, taken_units
from siteopt.results.summary import assumptions, run_summary
from siteopt.results.tables import Results
from siteopt.solve import SolveOutcome

__all__ = ["LEASE_COLUMNS", "Results", "extract"]


def extract(inputs: Inputs, built: BuiltModel, outcome: SolveOutcome,
            timings: dict[str, float]) -> Results:
    data, values = built.data, outcome.values
    taken = taken_units(built.model, data, values)
    cash = built.cash.evaluate(values)
    campus_month = _campus_month(data, _timeline(data, values, leased_mw(data, taken)),
                                 cash[cash["campus_id"] != COMPANY])
    company_month = _company_month(data, campus_month, cash, values)
    leases = lease_table(data, taken, UnitCash(built.model, built.cash, values))
    npv = float((company_month["net_cash_usd"] * company_month["discount_factor"]).sum())
    return Results(run_summary(inputs, outcome, npv, timings), campus_month, leases,
                   company_month, assumptions=assumptions(inputs))


def _by_campus_month(data: ModelData, values: dict[str, np.ndarray], name: str,
                     hold: bool = False) -> np.ndarray:
    """A campus × month variable as [campus, month] over every month of the tables (0 where
    the model has no such variable). Nothing is decided after the horizon: there a flow
    (MW mined or let spot, blocks started) is 0 and a stock (`hold`: miners sold so far, IT
    MW started or ready — every block is ready by H-1) keeps its value at H-1."""
    campuses, horizon = len(data.campus_ids), data.horizon_months
    out = np.zeros((campuses, data.total_months))
    if name in values:
        inside = values[name].reshape(campuses, horizon)  # CAMPUS_MONTHS is campus-major
        out[:, :horizon] = inside
        if hold:
            out[:, horizon:] = inside[:, -1:]
    return out


def _timeline(data: ModelData, values: dict[str, np.ndarray],
              leased: dict[str, np.ndarray]) -> pd.DataFrame:
    """MW by use per campus and month, inside the horizon and after it."""
    mining = _by_campus_month(data, values, "mining_mw")
    # IT MW started and ready are whole blocks (their balance rows add b_c × blocks); the
    # solver's values carry its feasibility tolerance, so they are read on that grid: an
    # empty construction site then shows 0 MW, not 1e-12
    # (beyond the IT MW as built, which is whatever size the user entered)
    block = data.campuses["hpc_block_it_mw"].to_numpy(float)[:, None]
    months = np.arange(data.total_months)
    as_built_started = np.array([[data.initial_it_mw(c)] for c in data.campus_ids], dtype=float)
    as_built_ready = np.array([[data.as_built_ready_mw(c, t) for t in months]
                               for c in data.campus_ids], dtype=float).reshape(-1, len(months))
    started, ready = (base + np.round((_by_campus_month(data, values, name, hold=True) - base)
                                      / block) * block
                      for name, base in (("it_started_mw", as_built_started),
                                         ("it_ready_mw", as_built_ready)))
    efficiency = data.campuses["fleet_efficiency_j_per_th"].to_numpy(float)[:, None]
    n = data.total_months
    return pd.DataFrame({
        "campus_id": np.repeat(np.array(data.campus_ids, dtype=object), n),
        "month": np.tile(np.arange(n), len(data.campus_ids)),
        "mining_mw": mining.ravel(),
        "hashrate_ph_s": (mining * 1000.0 / efficiency).ravel(),
        "miners_sold_mw": _by_campus_month(data, values, "miners_sold_mw", hold=True).ravel(),
        "blocks_started": _by_campus_month(data, values, "blocks_started").ravel().astype(int),
        "it_under_construction_mw": (started - ready).ravel(),
        "it_ready_mw": ready.ravel(),
        "it_leased_mw": np.concatenate([leased[c] for c in data.campus_ids]),
        "spot_mw": _by_campus_month(data, values, "spot_mw").ravel()})


def _wide(cash: pd.DataFrame, index: list[str]) -> pd.DataFrame:
    return cash.pivot_table(index=index, columns="line", values="usd", aggfunc="sum",
                            fill_value=0.0)


def _campus_month(data: ModelData, timeline: pd.DataFrame, cash: pd.DataFrame) -> pd.DataFrame:
    table = timeline.join(_wide(cash, ["campus_id", "month"]), on=["campus_id", "month"],
                          how="outer")
    for line in CAMPUS_SIGN:
        if line not in table:
            table[line] = 0.0
    table = table.fillna({c: 0.0 for c in table.columns if c not in ("campus_id", "month")})
    lines = list(CAMPUS_SIGN)
    keep = (table["month"] < data.horizon_months) | (table[lines].abs().sum(axis=1) > 0)
    table = table[keep & (table["month"] < data.cash_months)].copy()
    table["net_cash_usd"] = sum(sign * table[line] for line, sign in CAMPUS_SIGN.items())
    table["discount_factor"] = data.discount_factor[table["month"].to_numpy()]
    table["in_horizon"] = table["month"] < data.horizon_months
    order = {c: i for i, c in enumerate(data.campus_ids)}
    table = table.sort_values(["campus_id", "month"], key=lambda s: s.map(order)
                              if s.name == "campus_id" else s).reset_index(drop=True)
    table["month"] = [data.month_label(int(t)) for t in table["month"]]
    return table[CAMPUS_MONTH_COLUMNS]


def _company_month(data: ModelData, campus_month: pd.DataFrame, cash: pd.DataFrame,
                   values: dict[str, np.ndarray]) -> pd.DataFrame:
    """Company totals per month: every cash line, cash balance, debt and BTC held."""
    months = np.arange(data.cash_months)
    table = pd.DataFrame({"month": months})
    table = table.join(_wide(cash, ["month"]), on="month")
    for line in SIGN:
        if line not in table:
            table[line] = 0.0
    table[list(SIGN)] = table[list(SIGN)].fillna(0.0)
    mw_columns = ["mining_mw", "it_under_construction_mw", "it_ready_mw", "it_leased_mw",
                  "spot_mw"]
    totals = campus_month.groupby("month", sort=False)[mw_columns].sum()
    labels = [data.month_label(int(t)) for t in months]
    for column in mw_columns:
        table[column] = totals[column].reindex(labels).fillna(0.0).to_numpy()
    for kind in KINDS:
        table[subtotal_column(kind)] = sum(line.sign * table[line.name]
                                           for line in LINE.values() if line.kind == kind)
    table["net_cash_usd"] = sum(sign * table[line] for line, sign in SIGN.items())
    in_horizon = months < data.horizon_months
    flows = (table["operating_cash_usd"] + table["investing_cash_usd"]
             + table["financing_cash_usd"]).where(in_horizon, 0.0)
    opening = data.finance.opening_cash_usd or 0.0
    table["cash_balance_usd"] = np.where(in_horizon, opening + flows.cumsum(), np.nan)
    table["landlord_capex_usd"] = table["capex_usd"] - table["tenant_capex_usd"]
    draws = values.get("debt_draw")
    table["debt_balance_usd"] = _debt_balance(
        data, None if draws is None else draws * USD_PER_MUSD, len(months))
    sold = np.zeros(len(months))
    if "btc_sold" in values:
        sold[: data.horizon_months] = values["btc_sold"]
    table["btc_sold_btc"] = sold
    table["btc_held_btc"] = np.where(in_horizon,
                                     data.finance.btc_treasury_btc - np.cumsum(sold), np.nan)
    table["discount_factor"] = data.discount_factor[months]
    table["in_horizon"] = in_horizon
    table["month"] = labels
    return table[COMPANY_MONTH_COLUMNS]


def _debt_balance(data: ModelData, draws: np.ndarray | None, length: int) -> np.ndarray:
    """Principal owed at each month end inside the horizon (settled at its end: the last
    month's balance is the debt_outstanding_usd valuation line)."""
    balance = np.zeros(length)
    balance[data.horizon_months:] = np.nan
    if draws is None:
        return balance
    debt = data.finance.debt
    _, _, owed = repayment_schedule(debt.rate_pct_per_year, debt.tenor_months,
                                    debt.amortisation)
    horizon = data.horizon_months
    for t, draw in enumerate(draws):
        if draw <= 0:
            continue
        balance[t] += draw
        span = min(len(owed), horizon - 1 - t)
        balance[t + 1: t + 1 + span] += draw * owed[:span]
    return balance
