"""Solved model → tidy DataFrames. Writers see only what this module returns.

`component_frame` turns any variable component into a frame indexed by its set's column
names; `extract` assembles the stable result tables (documented in README):
campus_month, leases and the summary dict.
"""

from __future__ import annotations

import platform
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyomo.environ as pyo

from siteopt import __version__
from siteopt.inputs import Inputs
from siteopt.model import BuiltModel
from siteopt.model.cash import LINES
from siteopt.solve import SolveOutcome

INDEX_COLUMNS = {
    "CAMPUS_MONTHS": ("campus_id", "month"),
    "LEASE_OPTIONS": ("offer_id", "campus_id", "start"),
}

CAMPUS_MONTH_COLUMNS = [
    "campus_id", "month", "in_horizon", "mining_mw", "hashrate_ph_s", "blocks_started",
    "it_under_construction_mw", "it_ready_mw", "it_leased_mw", *LINES, "net_cash_usd",
    "discount_factor",
]
LEASE_COLUMNS = [
    "offer_id", "tenant", "signed", "accepted", "campus_id", "start_month", "end_month", "it_mw",
    "rate_usd_per_kw_month", "escalator_pct_per_year", "term_months", "lease_npv_usd",
]


@dataclass(frozen=True)
class Results:
    summary: dict[str, Any]
    campus_month: pd.DataFrame
    leases: pd.DataFrame


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
              for name in ("mining_mw", "blocks_started")}
    accepted = component_frame(m.lease_accepted, values["lease_accepted"])
    accepted = accepted[accepted["value"] > 0.5]

    timeline = _timeline(data, frames["mining_mw"], frames["blocks_started"], accepted)
    cash = built.cash.evaluate(values)
    wide = cash.pivot_table(index=["campus_id", "month"], columns="line", values="usd",
                            aggfunc="sum", fill_value=0.0)
    table = timeline.join(wide, on=["campus_id", "month"], how="outer")
    for line in LINES:
        if line not in table:
            table[line] = 0.0
    table = table.fillna({c: 0.0 for c in table.columns if c not in ("campus_id", "month")})
    keep = (table["month"] < data.horizon_months) | (table[list(LINES)].abs().sum(axis=1) > 0)
    table = table[keep & (table["month"] < data.cash_months)].copy()
    table["net_cash_usd"] = sum(sign * table[line] for line, sign in LINES.items())
    table["discount_factor"] = data.discount_factor[table["month"].to_numpy()]
    table["in_horizon"] = table["month"] < data.horizon_months
    order = {c: i for i, c in enumerate(data.campus_ids)}
    table = table.sort_values(["campus_id", "month"], key=lambda s: s.map(order)
                              if s.name == "campus_id" else s).reset_index(drop=True)
    table["month"] = [data.month_label(int(t)) for t in table["month"]]
    campus_month = table[CAMPUS_MONTH_COLUMNS]

    leases = _leases(inputs, data, accepted, cash_by_option=built.cash)
    npv = float((campus_month["net_cash_usd"] * campus_month["discount_factor"]).sum())
    summary = _summary(inputs, outcome, npv, timings)
    return Results(summary, campus_month, leases)


def _timeline(data, mining: pd.DataFrame, blocks: pd.DataFrame,
              accepted: pd.DataFrame) -> pd.DataFrame:
    """MW by use per campus and month, inside the horizon and after it."""
    campuses = data.campuses
    months = np.arange(data.total_months)
    rows = []
    for campus_id in data.campus_ids:
        c = campuses.loc[campus_id]
        starts = np.zeros(data.total_months)
        mine = blocks[blocks["campus_id"] == campus_id]
        starts[mine["month"].to_numpy()] = mine["value"].to_numpy()
        started_mw = np.cumsum(starts) * c["hpc_block_it_mw"]
        build = int(c["build_months"])
        ready_mw = np.concatenate([np.zeros(build), started_mw[:-build]])[: data.total_months]
        leased = np.zeros(data.total_months + 1)
        for lease in accepted[accepted["campus_id"] == campus_id].itertuples():
            offer = data.offers.loc[lease.offer_id]
            end = min(lease.start + int(offer["term_months"]), data.total_months)
            leased[lease.start:end] += offer["it_mw"]
        mining_mw = np.zeros(data.total_months)
        here = mining[mining["campus_id"] == campus_id]
        mining_mw[here["month"].to_numpy()] = here["value"].to_numpy()
        rows.append(pd.DataFrame({
            "campus_id": campus_id, "month": months, "mining_mw": mining_mw,
            "hashrate_ph_s": mining_mw * 1000.0 / c["fleet_efficiency_j_per_th"],
            "blocks_started": starts.astype(int),
            "it_under_construction_mw": started_mw - ready_mw,
            "it_ready_mw": ready_mw, "it_leased_mw": leased[:-1]}))
    return pd.concat(rows, ignore_index=True)


def _leases(inputs: Inputs, data, accepted: pd.DataFrame, cash_by_option) -> pd.DataFrame:
    offers = inputs.offers
    rent = cash_by_option.frame
    rent = rent[(rent["var"] == "lease_accepted") & (rent["line"] == "lease_revenue_usd")]
    pv_by_option = (rent["usd_per_unit"] * data.discount_factor[rent["month"].to_numpy()]
                    ).groupby(rent["position"]).sum()
    option_position = {(o.offer_id, o.campus_id, o.start): i
                       for i, o in enumerate(data.lease_options)}
    chosen = {row.offer_id: row for row in accepted.itertuples()}
    records = []
    for offer_id, offer in offers.iterrows():
        row = chosen.get(offer_id)
        record = {
            "offer_id": offer_id, "tenant": offer["tenant"], "signed": bool(offer["signed"]),
            "accepted": row is not None, "campus_id": None, "start_month": None,
            "end_month": None, "it_mw": float(offer["it_mw"]),
            "rate_usd_per_kw_month": float(offer["rate_usd_per_kw_month"]),
            "escalator_pct_per_year": float(offer["escalator_pct_per_year"]),
            "term_months": int(offer["term_months"]), "lease_npv_usd": 0.0,
        }
        if row is not None:
            record.update(
                campus_id=row.campus_id, start_month=data.month_label(row.start),
                end_month=data.month_label(row.start + int(offer["term_months"]) - 1),
                lease_npv_usd=float(pv_by_option.get(
                    option_position[(offer_id, row.campus_id, row.start)], 0.0)))
        records.append(record)
    return pd.DataFrame.from_records(records, columns=LEASE_COLUMNS)


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
    }


def unsolved(inputs: Inputs, outcome: SolveOutcome, timings: dict[str, float]) -> Results:
    """Results of a run without a plan: the summary says why; the tables are empty."""
    summary = _summary(inputs, outcome, float("nan"), timings)
    summary["npv_usd"] = None
    return Results(summary, pd.DataFrame(columns=CAMPUS_MONTH_COLUMNS),
                   pd.DataFrame(columns=LEASE_COLUMNS))
