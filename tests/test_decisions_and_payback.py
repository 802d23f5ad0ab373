"""What a plan says about each campus and about payback, read from the plan's own tables.

Campus decisions are derived from hand-built campus_month rows (one label each: keeps
mining, converts, stops mining and why, mines part-time, no miners); the Summary sheet's
decisions table and the terminal print the same text. Payback is derived from hand-built
incremental flows: a plan identical to its baseline has none, a plan whose incremental cash
ends negative never pays back, and payback never precedes the first month that differs.

The hand-built campus (this file's own CAMPUS, not the tests/cases.py one): grid 100 MW,
PUE 1.25, 100 MW of miners at 20 J/TH, power 40 USD/MWh, no mining opex; its hashprice is
given month by month. One MW mining makes hashprice × 1000 / 20 PH/s × days − 24 × days × 40 USD
= days × (50 × hashprice − 960): at 30 USD/PH/day +540 a day, at 15 USD/PH/day −210 a day
(−5,880 in February's 28 days, −6,300 in April's 30).
"""

from __future__ import annotations

import calendar
import math

import numpy as np
import pandas as pd
import pytest

from siteopt.api import solve_scenario
from siteopt.contract import LINE as LINE_KINDS
from siteopt.export import plan_frames
from siteopt.export.plan_frames import campus_decision, campus_decision_texts, payback_shown
from siteopt.export.terminal import print_plan
from siteopt.results.extract import LEASE_COLUMNS, Results
from siteopt.results.kpis import PAYBACK_NEVER, PAYBACK_SAME, compute, payback, payback_month

CAMPUS = pd.Series({"campus_id": "C1", "grid_mw": 100.0, "hpc_pue": 1.25, "miner_mw": 100.0,
                    "fleet_efficiency_j_per_th": 20.0, "power_price_usd_per_mwh": 40.0,
                    "mining_opex_usd_per_mw_month": 0.0})


def months(n: int) -> list[str]:
    return [f"2027-{i + 1:02d}" for i in range(n)]


def market(hashprice: list[float]) -> pd.DataFrame:
    labels = months(len(hashprice))
    return pd.DataFrame({"month": labels,
                         "days": [calendar.monthrange(2027, int(m[5:]))[1] for m in labels],
                         "hashprice_usd_per_ph_day": hashprice})


def rows(mining: list[float], built: list[float] | None = None,
         sold: list[float] | None = None) -> pd.DataFrame:
    n = len(mining)
    built = built or [0.0] * n
    step = np.diff([0.0, *built])
    return pd.DataFrame({"campus_id": "C1", "month": months(n), "in_horizon": True,
                         "mining_mw": mining, "it_under_construction_mw": built,
                         "it_ready_mw": 0.0, "miners_sold_mw": sold or [0.0] * n,
                         "blocks_started": (step > 0).astype(float)})


GOOD = market([30.0] * 4)
FALLS_IN_APRIL = market([30.0, 30.0, 30.0, 15.0])
FALLS_IN_FEBRUARY = market([30.0, 15.0, 15.0, 15.0])


def test_keeps_mining_only_when_it_mines_every_month():
    assert campus_decision(rows([100, 100, 100]), CAMPUS, GOOD) == "Keeps mining"
    assert campus_decision(rows([100, 100, 100])) == "Keeps mining"


def test_converts_with_the_mw_that_keep_mining_beside_the_halls():
    """40 IT MW from February take 50 MW of the 100 MW grid; 50 MW keep mining."""
    text = campus_decision(rows([100, 50, 50], built=[0, 40, 40]), CAMPUS, GOOD)
    assert text == "Converts 40 IT MW from Feb 2027, 50 MW keep mining"


def test_stops_mining_when_the_margin_turns_negative():
    """Hashprice 15 from April: −210 × 30 = −6,300 USD per MW that month."""
    text = campus_decision(rows([100, 100, 100, 0]), CAMPUS, FALLS_IN_APRIL)
    assert text == "Stops mining from Apr 2027 (mining margin −6,300 USD/MW-month)"


def test_stops_mining_before_converting():
    """The margin turns negative in February (−5,880); 40 IT MW start in March."""
    text = campus_decision(rows([100, 0, 0, 0], built=[0, 0, 40, 40]), CAMPUS,
                           FALLS_IN_FEBRUARY)
    assert text == ("Converts 40 IT MW from Mar 2027; stops mining from Feb 2027 "
                    "(mining margin −5,880 USD/MW-month)")


def test_stops_mining_because_the_conversion_took_the_power():
    """80 IT MW × PUE 1.25 = 100 MW: the whole grid, while mining would still pay."""
    text = campus_decision(rows([100, 0, 0], built=[0, 80, 80]), CAMPUS, GOOD)
    assert text == ("Converts 80 IT MW from Feb 2027; stops mining from Feb 2027 "
                    "(conversion took the power)")


def test_stops_mining_because_the_miners_were_sold():
    """50 MW of miners, all sold for 40 IT MW (50 MW of facility power); the grid keeps 50 MW
    of room, so it is the sale, not the power, that ends mining."""
    small = CAMPUS.copy()
    small["miner_mw"] = 50.0
    text = campus_decision(rows([50, 0, 0], built=[0, 40, 40], sold=[0, 50, 50]), small, GOOD)
    assert text == ("Converts 40 IT MW from Feb 2027; stops mining from Feb 2027 "
                    "(miners sold for the conversion)")


def test_both_reasons_when_both_hold():
    text = campus_decision(rows([100, 0, 0], built=[0, 80, 80]), CAMPUS, FALLS_IN_FEBRUARY)
    assert text.endswith("(conversion took the power; mining margin −5,880 USD/MW-month)")


def test_stops_mining_without_a_reason_when_the_inputs_are_not_at_hand():
    assert campus_decision(rows([100, 0, 0])) == "Stops mining from Feb 2027"
    # a positive margin and room on the grid: no reason can be read, none is made up
    assert campus_decision(rows([100, 0, 0]), CAMPUS, GOOD) == "Stops mining from Feb 2027"


def test_never_mining_stops_from_the_first_month_and_a_campus_without_miners_says_so():
    text = campus_decision(rows([0, 0, 0]), CAMPUS, market([15.0] * 3))
    assert text == "Stops mining from Jan 2027 (mining margin −6,510 USD/MW-month)"
    none = CAMPUS.copy()
    none["miner_mw"] = 0.0
    assert campus_decision(rows([0, 0, 0]), none, GOOD) == "No miners"


@pytest.mark.parametrize(("mining", "label"), [
    ([100, 0, 100], "Mines part-time (2 of 3 months)"),
    ([0, 100, 100], "Mines part-time (2 of 3 months)"),
    ([100, 0, 100, 0], "Mines part-time (2 of 4 months, last in Mar 2027)"),
])
def test_mines_part_time_when_it_stops_and_restarts(mining, label):
    assert campus_decision(rows(mining), CAMPUS, GOOD) == label


def test_round_off_is_not_mining():
    assert campus_decision(rows([100, 1e-9, 0]), CAMPUS, GOOD) == "Stops mining from Feb 2027"


def plan(campus_month: pd.DataFrame, kpis: dict | None = None) -> Results:
    summary = {"scenario": "hand", "status": "optimal", "npv_usd": 1e6, "mip_gap_pct": 0.0,
               "build_seconds": 0.1, "solve_seconds": 0.1, "kpis": kpis or {}}
    return Results(summary, campus_month, pd.DataFrame(columns=LEASE_COLUMNS), pd.DataFrame(),
                   assumptions={"campuses": pd.DataFrame([CAMPUS]), "market": FALLS_IN_APRIL})


def test_summary_table_and_terminal_say_the_same(capsys, monkeypatch):
    """Two campuses: C1 stops mining in April (margin), C2 keeps mining."""
    monkeypatch.setenv("COLUMNS", "200")  # the words, not the wrapping (pytest-xdist sets 80)
    c2 = rows([100, 100, 100, 100]).assign(campus_id="C2")
    results = plan(pd.concat([rows([100, 100, 100, 0]), c2], ignore_index=True),
                   kpis={"value_added_usd": 0.0, "payback_month": None,
                         "payback_note": PAYBACK_SAME})
    texts = campus_decision_texts(results)
    assert texts == {"C1": "Stops mining from Apr 2027 (mining margin −6,300 USD/MW-month)",
                     "C2": "Keeps mining"}  # C2 has no input row: no reason needed
    table = plan_frames.campus_decisions(results).set_index("Campus")["Decision"]
    assert table.to_dict() == texts
    print_plan(results)
    printed = " ".join(capsys.readouterr().err.split())
    assert "Stops mining from Apr 2027" in printed and "Keeps mining" in printed
    assert "payback of converting: none (same as baseline)" in printed


# ---------------------------------------------------------------------------------------------
# Payback
# ---------------------------------------------------------------------------------------------

LABELS = ["M0", "M1", "M2", "M3", "M4"]


def test_a_plan_identical_to_its_baseline_has_no_payback():
    """All incremental cash 0 (or solver round-off under 1 USD a month): none, not M0."""
    assert payback(np.zeros(5), LABELS) == (None, PAYBACK_SAME)
    assert payback(np.array([0.3, -0.2, 0.0, 0.4, -0.5]), LABELS) == (None, PAYBACK_SAME)
    assert payback_month(np.zeros(5), LABELS) is None


def test_incremental_cash_that_ends_negative_never_pays_back():
    """[−100, 30, 30]: cumulative −100, −70, −40."""
    assert payback(np.array([-100.0, 30, 30]), LABELS[:3]) == (None, PAYBACK_NEVER)


def test_payback_is_never_before_the_plan_departs_from_its_baseline():
    """[0, 0, 50, 10]: the plan differs from M2 on and is ahead from then: M2, not M0.
    [0, 0, −100, 150]: cumulative 0, 0, −100, 50 → M3."""
    assert payback(np.array([0.0, 0, 50, 10]), LABELS[:4]) == ("M2", None)
    assert payback(np.array([0.0, 0, -100, 150]), LABELS[:4]) == ("M3", None)
    assert payback(np.array([-100.0, 150, -80, 50]), LABELS[:4]) == ("M3", None)


def company(net: list[float]) -> pd.DataFrame:
    n = len(net)
    zero = [0.0] * n
    frame = {"month": months(n), "in_horizon": True, "net_cash_usd": net,
             "discount_factor": 1.0, "operating_cash_usd": net, "investing_cash_usd": zero,
             "cash_balance_usd": np.cumsum(net), "hpc_terminal_value_usd": zero,
             "mining_terminal_value_usd": zero}
    for line in LINE_KINDS:
        frame.setdefault(line, zero)
    for name in ("capex_usd", "tenant_capex_usd", "landlord_capex_usd", "debt_draw_usd",
                 "btc_sold_btc", "btc_sale_usd"):
        frame.setdefault(name, zero)
    return pd.DataFrame(frame)


def test_kpis_of_a_plan_identical_to_its_baseline():
    """kpis.csv keeps payback_month empty and says why in payback_note (a text, no unit)."""
    flows = company([10.0, 20.0, 30.0])
    table, headline = compute(flows, flows.copy(), 60.0, 60.0, "none", pd.Series(dtype=float))
    assert headline["payback_month"] is None
    assert headline["payback_note"] == "none (same as baseline)"
    rows_ = table[table["year"].isna()].set_index("kpi")
    assert rows_.at["payback_note", "value"] == "none (same as baseline)"
    assert rows_.at["payback_note", "unit"] == ""
    assert rows_.at["payback_month", "unit"] == "YYYY-MM"


def test_kpis_of_a_plan_that_never_pays_back():
    table, headline = compute(company([-100.0, 10.0, 10.0]), company([0.0, 0.0, 0.0]), -80.0,
                              0.0, "none", pd.Series(dtype=float))
    assert headline["payback_month"] is None
    assert headline["payback_note"] == "never (incremental cash stays negative)"


def test_payback_as_people_read_it():
    assert payback_shown({"payback_month": "2035-01", "payback_note": None}).year == 2035
    assert payback_shown({"payback_month": None, "payback_note": PAYBACK_SAME}) == \
        "none (same as baseline)"
    assert payback_shown({"payback_month": None, "payback_note": PAYBACK_NEVER}) == \
        "never (incremental cash stays negative)"
    # folders written before the note: None then meant it never paid back
    assert payback_shown({"payback_month": None}) == PAYBACK_NEVER
    assert payback_shown({}) == "none (no mining-only baseline)"


def test_a_solved_plan_that_declines_a_worthless_offer_has_no_payback(case):
    """One campus that mines, one offer at 0.01 USD/kW-month: the plan declines it, so its
    cash is the mining-only baseline's month by month."""
    results = solve_scenario(case(offers=[{"rate_usd_per_kw_month": 0.01}]))
    kpis = results.summary["kpis"]
    assert results.summary["status"] == "optimal"
    assert math.isclose(kpis["value_added_usd"], 0.0, abs_tol=0.01)
    assert kpis["payback_month"] is None
    assert kpis["payback_note"] == "none (same as baseline)"
