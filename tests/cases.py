"""The hand-worked cases' common numbers, and helpers that solve them and read the plan.

test_model_cases, test_deal_terms and test_funding work their optima out by hand from these
numbers. Each of those files repeats them in its own docstring, so that its arithmetic reads
next to them, and says there which numbers it changes. `run` and `solve` lay MARKET, CAMPUS
and OFFER over the conftest defaults (which fill the columns left out here); the rows and keys
a test passes override them in turn.

* MARKET: BTC 100,000 USD, network 900 EH/s, fees 0, subsidy 3.125 BTC, no halving →
  hashprice = 144 × 3.125 × 100,000 ÷ (900 × 1000) = 50 USD/PH/day.
* CAMPUS (C1 unless a row names another): 20 J/TH → 50 PH/s per MW → revenue 2,500 USD/MW-day;
  power 62.5 USD/MWh → 1,500 USD/MW-day; margin 1,000 USD/MW-day. grid 100 MW = miner 100 MW,
  PUE 1.25, blocks of 10 IT MW (max 50), capex 300,000 USD/IT MW (3,000,000 per block), build
  6 months, HPC opex 0, mining opex 0, no permit needed.
* OFFER (O1 unless a row names another): 10 IT MW at 150 USD/kW-month (1,500,000 USD a
  month), escalator 0, term 120 months, may start in any month of 2027 at any campus, unsigned.
* scenario (conftest): horizon 12 months from 2027-01, discount 0 %, value_beyond_horizon
  off, MIP gap 0.
"""

from __future__ import annotations

import pandas as pd
from click.testing import CliRunner

from siteopt.api import solve_scenario
from siteopt.cli import main

MARKET = {"btc_price_usd": 100_000, "network_hashrate_ehs": 900, "fees_btc_per_block": 0,
          "block_subsidy_btc": 3.125, "halving_months": []}
CAMPUS = {"power_price_usd_per_mwh": 62.5, "fleet_efficiency_j_per_th": 20, "grid_mw": 100,
          "miner_mw": 100, "hpc_pue": 1.25, "hpc_block_it_mw": 10, "hpc_max_it_mw": 50,
          "capex_usd_per_it_mw": 300_000, "hpc_opex_usd_per_it_mw_month": 0,
          "mining_opex_usd_per_mw_month": 0, "build_months": 6, "permit_ready": ""}
OFFER = {"it_mw": 10, "rate_usd_per_kw_month": 150, "escalator_pct_per_year": 0,
         "term_months": 120, "earliest_start": "2027-01", "latest_start": "2027-12",
         "campuses": "*", "signed": "false"}
# Annual rate whose monthly discount factor is exactly 1/1.01: (1.01^12 − 1) × 100 %.
ONE_PCT_A_MONTH = (1.01**12 - 1) * 100


def ramp(it_mw_by_month: dict[int, float], offer_id: str = "O1") -> list[dict]:
    """offer_phases rows from {months after the lease start: IT MW delivered then}, numbered
    1, 2, … in that order: ramp({0: 10, 3: 10}) is 10 MW at the start and 10 three months on."""
    return [{"offer_id": offer_id, "phase": n, "it_mw": mw, "months_after_start": month}
            for n, (month, mw) in enumerate(it_mw_by_month.items(), start=1)]


def run(case, campuses=None, offers=None, phases=None, construction=None, **scenario):
    """Write the case with MARKET, CAMPUS and OFFER under the given rows and keys, and solve it
    (whatever the status)."""
    campuses = [{**CAMPUS, **c} for c in (campuses or [{}])]
    offers = [{**OFFER, **o} for o in (offers or [])]
    scenario["market"] = {**MARKET, **scenario.get("market", {})}
    return solve_scenario(case(campuses=campuses, offers=offers, phases=phases,
                               construction=construction, **scenario))


def optimal(results):
    """The results, once the solve is checked to be optimal."""
    assert results.summary["status"] == "optimal", results.summary.get("diagnosis")
    return results


def audited(results):
    """The results, once the independent audit (siteopt.results.audit) is checked to have
    found nothing."""
    assert results.summary["audit"] == {"passed": True, "violations": []}, \
        results.summary["audit"]
    return results


def solve(case, campuses=None, offers=None, phases=None, construction=None, **scenario):
    """`run`, solved to optimality; the written plan must pass the independent audit."""
    return audited(optimal(run(case, campuses, offers, phases, construction, **scenario)))


def npv(results):
    return results.summary["npv_usd"]


def column(results, name, campus="C1", in_horizon=True):
    """One campus's column over the months, as a list."""
    cm = results.campus_month
    rows = cm[(cm["campus_id"] == campus) & (cm["in_horizon"] == in_horizon)]
    return [float(x) for x in rows[name]]


def blocks_by_month(results, campus="C1"):
    """{month: blocks started} of one campus, months without a start left out."""
    cm = results.campus_month
    rows = cm[(cm["campus_id"] == campus) & (cm["blocks_started"] > 0)]
    return dict(zip(rows["month"], rows["blocks_started"].astype(int)))


def lease(results, offer_id="O1"):
    """(accepted, campus_id, start_month) of a single-row offer; declined: (False, None, None)."""
    rows = results.leases[results.leases["offer_id"] == offer_id]
    assert len(rows) == 1, rows
    row = rows.iloc[0]
    return (bool(row["accepted"]), None if pd.isna(row["campus_id"]) else row["campus_id"],
            None if pd.isna(row["start_month"]) else row["start_month"])


def rows_of(results, offer_id="O1"):
    """An offer's rows of the leases table (one per phase and campus), numbered from 0."""
    return results.leases[results.leases["offer_id"] == offer_id].reset_index(drop=True)


def cli(*args):
    """`siteopt ARGS…` in-process; fails the test on any exception but the exit itself."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exc_info
    return result
