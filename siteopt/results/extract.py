"""Solved model → tidy DataFrames. Writers see only what this module returns.

`component_frame` turns any variable component into a frame indexed by its set's column
names; `extract` assembles the stable result tables (documented in README):
campus_month, leases and the summary dict.
"""

from __future__ import annotations

import datetime as dt
import platform
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from siteopt import __version__
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
from siteopt.model.debt import repayment_schedule
from siteopt.model.leases import rent_schedule
from siteopt.results import kpis
from siteopt.solve import SolveOutcome

INDEX_COLUMNS = {
    "CAMPUS_MONTHS": ("campus_id", "month"),
    "LEASE_OPTIONS": ("offer_id", "campus_id", "start"),
    "SPLIT_STARTS": ("offer_id", "start"),
    "SPLIT_BLOCKS": ("offer_id", "phase", "campus_id", "start"),
}



@dataclass(frozen=True)
class Results:
    summary: dict[str, Any]
    campus_month: pd.DataFrame
    leases: pd.DataFrame
    company_month: pd.DataFrame
    kpis: pd.DataFrame | None = None
    assumptions: dict[str, pd.DataFrame] = field(default_factory=dict)


def assumptions(inputs: Inputs) -> dict[str, pd.DataFrame]:
    """Every input that drove a run: scenario keys after `extends` and defaults, each table,
    and the market path — so a result folder (and its workbook) stands alone."""
    flat: list[tuple[str, Any]] = []

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict) and value:
            for key, item in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), item)
        else:
            flat.append((prefix, value if not isinstance(value, (list, dict)) else
                         ", ".join(map(str, value)) if isinstance(value, list) else ""))

    walk("", inputs.scenario.model_dump(mode="json"))
    offers = inputs.offers.reset_index()
    offers["campuses"] = [";".join(ids) for ids in offers["campuses"]]
    return {"scenario": pd.DataFrame(flat, columns=["key", "value"]),
            "campuses": inputs.campuses.reset_index(), "offers": offers,
            "offer_phases": inputs.offer_phases.copy(), "market": inputs.market.copy()}


def component_frame(var: pyo.Var, values: np.ndarray) -> pd.DataFrame:
    """One row per element of `var`: its index columns and `value`."""
    names = INDEX_COLUMNS.get(var.index_set().local_name, ("index",))
    keys = list(var.keys())
    frame = pd.DataFrame.from_records(keys if keys and isinstance(keys[0], tuple)
                                      else [(k,) for k in keys], columns=list(names))
    frame["value"] = values
    return frame


def extract(inputs: Inputs, built: BuiltModel, outcome: SolveOutcome,
            timings: dict[str, float]) -> Results:
    data = built.data
    m = built.model
    values = outcome.values
    frames = {name: component_frame(m.component(name), values[name])
              for name in ("mining_mw", "blocks_started", "spot_mw", "miners_sold_mw")
              if m.component(name) is not None}
    deliveries = _deliveries(m, data, values)
    deliveries["tenant_funded_mw"] = _tenant_funded_mw(m, data, values, deliveries)
    cash = built.cash.evaluate(values)

    campus_month = _campus_month(data, _timeline(data, frames, deliveries),
                                 cash[cash["campus_id"] != COMPANY])
    company_month = _company_month(data, campus_month, cash, values)
    leases = _leases(inputs, data, deliveries)
    npv = float((company_month["net_cash_usd"] * company_month["discount_factor"]).sum())
    summary = _summary(inputs, outcome, npv, timings)
    return Results(summary, campus_month, leases, company_month,
                   assumptions=assumptions(inputs))


def _wide(cash: pd.DataFrame, index: list[str]) -> pd.DataFrame:
    return cash.pivot_table(index=index, columns="line", values="usd", aggfunc="sum",
                            fill_value=0.0)


def _campus_month(data, timeline: pd.DataFrame, cash: pd.DataFrame) -> pd.DataFrame:
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


def _company_month(data, campus_month: pd.DataFrame, cash: pd.DataFrame,
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


def _debt_balance(data, draws: np.ndarray | None, length: int) -> np.ndarray:
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


def _deliveries(m: pyo.ConcreteModel, data, values: dict[str, np.ndarray]) -> pd.DataFrame:
    """One row per accepted offer, campus and phase: IT MW and months (0-based)."""
    rows = []
    accepted = component_frame(m.lease_accepted, values["lease_accepted"])
    for lease in accepted[accepted["value"] > 0.5].itertuples():
        for phase, mw, after in data.phases[lease.offer_id]:
            rows.append((lease.offer_id, lease.campus_id, phase, mw, lease.start, after))
    split = component_frame(m.split_blocks, values["split_blocks"])
    block = data.campuses["hpc_block_it_mw"]
    after_of = {(o, k): a for o, ramp in data.phases.items() for k, _, a in ramp}
    for piece in split[split["value"] > 0.5].itertuples():
        rows.append((piece.offer_id, piece.campus_id, piece.phase,
                     piece.value * block[piece.campus_id], piece.start,
                     after_of[piece.offer_id, piece.phase]))
    frame = pd.DataFrame(rows, columns=["offer_id", "campus_id", "phase", "it_mw", "start",
                                        "months_after_start"])
    frame["term_months"] = frame["offer_id"].map(data.offers["term_months"]).astype(int)
    return frame


def _tenant_funded_mw(m: pyo.ConcreteModel, data, values: dict[str, np.ndarray],
                      deliveries: pd.DataFrame) -> np.ndarray:
    """IT MW of each delivery row whose fit-out its tenant funds (tenant_capex family)."""
    if m.component("tenant_funded") is None or deliveries.empty:
        return np.zeros(len(deliveries))
    block = data.campuses["hpc_block_it_mw"]
    mw_per_unit = {}
    for key, value in zip(m.tenant_funded.keys(), values["tenant_funded"]):
        offer_id, campus_id, start, phase = key
        per_unit = float(block[campus_id]) if data.offers.at[offer_id, "split"] else \
            next(mw for k, mw, _ in data.phases[offer_id] if k == phase)
        mw_per_unit[key] = per_unit * value
    return np.array([mw_per_unit.get((d.offer_id, d.campus_id, d.start, d.phase), 0.0)
                     for d in deliveries.itertuples()])


def _series(frame: pd.DataFrame | None, campus_id: str, length: int) -> np.ndarray:
    out = np.zeros(length)
    if frame is not None:
        here = frame[frame["campus_id"] == campus_id]
        out[here["month"].to_numpy()] = here["value"].to_numpy()
    return out


def _timeline(data, frames: dict[str, pd.DataFrame], deliveries: pd.DataFrame) -> pd.DataFrame:
    """MW by use per campus and month, inside the horizon and after it."""
    campuses = data.campuses
    n = data.total_months
    rows = []
    for campus_id in data.campus_ids:
        c = campuses.loc[campus_id]
        starts = _series(frames["blocks_started"], campus_id, n)
        started_mw = np.cumsum(starts) * c["hpc_block_it_mw"]
        build = int(c["build_months"])
        ready_mw = np.concatenate([np.zeros(build), started_mw[:-build]])[:n]
        leased = np.zeros(n + 1)
        for d in deliveries[deliveries["campus_id"] == campus_id].itertuples():
            leased[min(d.start + d.months_after_start, n):min(d.start + d.term_months, n)] += \
                d.it_mw
        mining_mw = _series(frames["mining_mw"], campus_id, n)
        sold = _series(frames.get("miners_sold_mw"), campus_id, data.horizon_months)
        rows.append(pd.DataFrame({
            "campus_id": campus_id, "month": np.arange(n), "mining_mw": mining_mw,
            "hashrate_ph_s": mining_mw * 1000.0 / c["fleet_efficiency_j_per_th"],
            "miners_sold_mw": np.concatenate([sold, np.full(n - len(sold), sold[-1])]),
            "blocks_started": starts.astype(int),
            "it_under_construction_mw": started_mw - ready_mw,
            "it_ready_mw": ready_mw, "it_leased_mw": leased[:-1],
            "spot_mw": _series(frames.get("spot_mw"), campus_id, n)}))
    return pd.concat(rows, ignore_index=True)


def _leases(inputs: Inputs, data, deliveries: pd.DataFrame) -> pd.DataFrame:
    """One row per accepted offer, campus and phase; one row per declined offer."""
    records = []
    for offer_id, offer in inputs.offers.iterrows():
        base = {
            "offer_id": offer_id, "tenant": offer["tenant"], "signed": bool(offer["signed"]),
            "split": bool(offer["split"]), "offer_it_mw": float(offer["it_mw"]),
            "rate_usd_per_kw_month": float(offer["rate_usd_per_kw_month"]),
            "escalator_pct_per_year": float(offer["escalator_pct_per_year"]),
            "term_months": int(offer["term_months"]),
        }
        mine = deliveries[deliveries["offer_id"] == offer_id]
        if mine.empty:
            records.append({**base, "accepted": False, "it_mw": 0.0, "late_months": 0,
                            "late_penalty_usd": 0.0, "prepayment_usd": 0.0,
                            "tenant_capex_usd": 0.0, "lease_npv_usd": 0.0})
            continue
        start = int(mine["start"].iloc[0])
        term = int(offer["term_months"])
        latest = data.latest_start[offer_id]
        penalty_months = max(0, start - max(0, latest))
        received = data.signing_month[offer_id] >= 0
        for d in mine.itertuples():
            share = d.it_mw / offer["it_mw"]
            delivery = start + d.months_after_start
            rent = rent_schedule(d.it_mw, offer["rate_usd_per_kw_month"],
                                 offer["escalator_pct_per_year"], term)[d.months_after_start:]
            months = np.arange(delivery, start + term)
            counted = months < data.cash_months
            capex = data.campuses.at[d.campus_id, "capex_usd_per_it_mw"]
            records.append({
                **base, "accepted": True, "campus_id": d.campus_id, "phase": int(d.phase),
                "it_mw": float(d.it_mw), "start_month": data.month_label(start),
                "delivery_month": data.month_label(delivery),
                "end_month": data.month_label(start + term - 1),
                "late_months": max(0, start - latest),
                "late_penalty_usd": share * offer["late_penalty_usd_per_month"] * penalty_months,
                "prepayment_usd": share * offer["prepayment_usd"] if received else 0.0,
                "tenant_capex_usd": offer["tenant_capex_pct"] / 100 * d.tenant_funded_mw
                * capex,
                "lease_npv_usd": float((rent[counted] * data.discount_factor[months[counted]]
                                        ).sum()),
            })
    return pd.DataFrame.from_records(records, columns=LEASE_COLUMNS)


def with_kpis(inputs: Inputs, plan: Results, baseline: Results | None) -> Results:
    """The plan with its KPI table, and the headline KPIs in its summary."""
    solved = baseline is not None and baseline.summary["status"] in ("optimal", "feasible")
    cm = plan.campus_month
    block = cm["campus_id"].map(inputs.campuses["hpc_block_it_mw"])
    started = (cm["blocks_started"] * block).groupby(cm["month"].str[:4].astype(int)).sum()
    table, headline = kpis.compute(
        plan.company_month, baseline.company_month if solved else None,
        plan.summary["npv_usd"], baseline.summary["npv_usd"] if solved else None,
        inputs.scenario.finance.terminal_value.method, started)
    summary = {**plan.summary, "kpis": headline}
    if baseline is not None:
        summary["baseline"] = {k: baseline.summary[k] for k in
                               ("status", "npv_usd", "mip_gap_pct", "solve_seconds")}
    return replace(plan, summary=summary, kpis=table)


def versions() -> dict[str, str]:
    import highspy
    import pyomo.version

    h = highspy.Highs()
    return {"siteopt": __version__, "pyomo": pyomo.version.version,
            "highs": h.version(), "python": platform.python_version()}


def _summary(inputs: Inputs, outcome: SolveOutcome, npv: float,
             timings: dict[str, float]) -> dict[str, Any]:
    scenario = inputs.scenario
    return {
        "scenario": scenario.name,
        "description": scenario.description,
        "scenario_file": str(inputs.scenario_path),
        "status": outcome.status,
        "highs_status": outcome.highs_status,
        "npv_usd": npv,
        "objective_usd": outcome.npv_objective_usd,
        "best_bound_usd": outcome.best_bound_usd,
        "mip_gap_pct": outcome.mip_gap_pct,
        "horizon": {"start": scenario.horizon.start, "months": scenario.horizon.months},
        "value_beyond_horizon": scenario.finance.value_beyond_horizon,
        "discount_rate_pct_per_year": scenario.finance.discount_rate_pct_per_year,
        "solver_options": scenario.solver.model_dump(),
        "size": {"variables": outcome.columns, "constraints": outcome.rows,
                 "integers": outcome.integers},
        **{f"{k}_seconds": round(v, 4) for k, v in timings.items()},
        "solver": "HiGHS",
        "versions": versions(),
        "input_hash": inputs.input_hash,
        "warnings": list(inputs.warnings),
        "finished_at": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def unsolved(inputs: Inputs, outcome: SolveOutcome, timings: dict[str, float],
             diagnosis: list[str] | None = None) -> Results:
    """Results of a run without a plan: the summary says why; the tables are empty."""
    summary = _summary(inputs, outcome, float("nan"), timings)
    summary["npv_usd"] = None
    summary["diagnosis"] = list(diagnosis or [])
    return Results(summary, pd.DataFrame(columns=CAMPUS_MONTH_COLUMNS),
                   pd.DataFrame(columns=LEASE_COLUMNS),
                   pd.DataFrame(columns=COMPANY_MONTH_COLUMNS), assumptions=assumptions(inputs))


def infeasible(inputs: Inputs, diagnosis: list[str], timings: dict[str, float]) -> Results:
    """Found infeasible before solving: no model was passed to HiGHS."""
    outcome = SolveOutcome("infeasible", "not solved: infeasible by construction", None, None,
                           None, 0.0, 0.0)
    return unsolved(inputs, outcome, timings, diagnosis)
