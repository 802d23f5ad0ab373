"""The plan in plain words (siteopt.export.narrative): one hand case per reason an offer can
be declined, solved and read back from its tables, plus the campus and accepted-offer
sentences on hand-built tables.

The hand campus (tests/conftest.py defaults): grid 100 MW, 100 MW of miners, up to 50 IT MW
in 10 MW blocks at PUE 1.25, capex 10 M USD per IT MW, 6 months to build, no HPC opex. The
horizon is 36 months from 2027-01 at a 0 % discount rate, cash after it counted. An offer of
10 IT MW at 150 USD/kW-month for 120 months pays 1.5 M USD a month (180 M USD) against
100 M USD of capex: worth taking on its own, so each case below declines it for one reason.
"""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from siteopt.api import solve_scenario
from siteopt.export.narrative import accepted_text, idle_text, lines, narrative, usd
from siteopt.export.results_folder import load_results, write_results

LONG = {"horizon": {"start": "2027-01", "months": 36},
        "finance": {"discount_rate_pct_per_year": 0, "value_beyond_horizon": True}}


def offer(offer_id: str, tenant: str = "Tenant one", **extra) -> dict:
    return {"offer_id": offer_id, "tenant": tenant, "earliest_start": "2027-07",
            "latest_start": "2027-12", **extra}


def story(case, tmp_path, **kwargs) -> dict:
    """Solve the case, write its result folder, and read the narrative from summary.json
    (the words written) — checked equal to the narrative of the folder read back."""
    results = solve_scenario(case(**{**LONG, **kwargs}))
    assert results.summary["status"] == "optimal"
    folder = tmp_path / "out"
    write_results(results, folder, workbook=False)
    written = json.loads((folder / "summary.json").read_text())["narrative"]
    assert written == json.loads(json.dumps(narrative(load_results(folder))))
    return written


def declined(words: dict, offer_id: str) -> dict:
    entry = words["offers"][offer_id]
    assert entry["decision"] == "declined", entry
    return entry


def test_declined_on_its_value_alone(case, tmp_path):
    """1 USD/kW-month on 10 IT MW: 1.2 M USD of rent against 100 M USD of capex."""
    words = story(case, tmp_path, offers=[offer("O1", rate_usd_per_kw_month=1)])
    entry = declined(words, "O1")
    assert entry["limit"] == "value_alone"
    assert "its value alone: at best −" in entry["text"]
    assert entry["value_alone_usd"] < -90e6


def test_declined_when_no_hall_can_be_ready_in_its_window(case, tmp_path):
    """Permit from 2028-06 + 6 months to build: ready Dec 2028, after the window (2027)."""
    words = story(case, tmp_path, campuses=[{"permit_ready": "2028-06"}],
                  offers=[offer("O1")])
    entry = declined(words, "O1")
    assert entry["limit"] == "permit"
    assert "C1 Dec 2028 at the earliest" in entry["text"]


def test_declined_for_the_site_capacity_taken_by_a_better_offer(case, tmp_path):
    """50 IT MW at most: O1 (40 MW, 200 USD) is taken, O2 (20 MW) does not fit beside it."""
    words = story(case, tmp_path, offers=[offer("O1", it_mw=40, rate_usd_per_kw_month=200),
                                          offer("O2", it_mw=20)])
    assert words["offers"]["O1"]["decision"] == "accepted"
    entry = declined(words, "O2")
    assert entry["limit"] == "leases_fit_in_whole_blocks"
    assert "C1 has room for 10 more IT MW, 20 new needed (it hosts O1)" in entry["text"]


def test_declined_for_the_tenant_share(case, tmp_path):
    """Share cap 55 %: Big (20 MW) and Small (20 MW) hold 50 % each; Big's second offer would
    make it 30 of 50 MW, 60 %."""
    words = story(case, tmp_path, limits={"max_tenant_share_pct": 55},
                  offers=[offer("O1", "Big", it_mw=20, rate_usd_per_kw_month=200),
                          offer("O2", "Small", it_mw=20, rate_usd_per_kw_month=200),
                          offer("O3", "Big", it_mw=10)])
    entry = declined(words, "O3")
    assert entry["limit"] == "tenant_share_cap"
    assert "Big would hold 30 of 50 leased IT MW, 60 % against the 55 % limit" in entry["text"]


@pytest.mark.parametrize(("settings", "limit", "text"), [
    pytest.param({"limits": {"max_it_mw_started_per_year": 20}}, "it_started_per_year_cap",
                 "supply cap (`it_started_per_year_cap`): 20 IT MW/yr in 2027",
                 id="supply-cap"),
    pytest.param({"finance": {**LONG["finance"], "capex_budget_usd_per_year": 250_000_000}},
                 "capex_within_budget", "capex budget (`capex_within_budget`): full in 2027",
                 id="capex-budget"),
])
def test_declined_for_a_yearly_cap(case, tmp_path, settings, limit, text):
    """Two 20 IT MW leases whose blocks both start in 2027 (200 M USD of capex each); a cap
    of 20 IT MW started a year, or a capex budget of 250 M USD a year, lets one through."""
    words = story(case, tmp_path, **settings,
                  offers=[offer("O1", it_mw=20, rate_usd_per_kw_month=200),
                          offer("O2", it_mw=20)])
    entry = declined(words, "O2")
    assert entry["limit"] == limit
    assert text in entry["text"]


def test_declined_for_the_cash_floor(case, tmp_path):
    """50 M USD of opening cash and no debt cannot pay 100 M USD of capex before rent."""
    words = story(case, tmp_path, finance={**LONG["finance"], "opening_cash_usd": 50_000_000},
                  offers=[offer("O1")])
    entry = declined(words, "O1")
    assert entry["limit"] == "cash_balance"
    assert "cash floor (`cash_balance`): cash would fall below the floor from" in entry["text"]


def test_a_withdrawn_offer_says_so(case, tmp_path):
    words = story(case, tmp_path, offers=[offer("O1", withdrawn="true")])
    assert words["offers"]["O1"]["decision"] == "withdrawn"
    assert "withdrawn in this scenario" in words["offers"]["O1"]["text"]


def test_funding_of_a_plan_without_financing_comes_from_outside(case, tmp_path):
    words = story(case, tmp_path, offers=[offer("O1")])
    assert words["offers"]["O1"]["decision"] == "accepted"
    assert "from outside the plan (the scenario sets no opening cash, no debt, no BTC " \
           "treasury)" in words["funding"]
    assert words["headline"].startswith("NPV ")
    assert [subject for subject, _ in lines(words)][:2] == ["Plan", "Campus C1"]


# ---------------------------------------------------------------------------------------------
# Sentences on hand-built tables
# ---------------------------------------------------------------------------------------------


def lease_rows(phases: list[tuple[str, float, str]], late: int = 0, penalty: float = 0.0,
               signed: bool = True) -> pd.DataFrame:
    """Rows of leases.csv for one accepted offer: (campus, IT MW, delivery month) each."""
    total = sum(mw for _, mw, _ in phases)
    return pd.DataFrame([{
        "offer_id": "OF-B", "tenant": "GPU cloud B", "signed": signed, "split": False,
        "accepted": True, "campus_id": campus, "phase": i + 1, "it_mw": mw,
        "offer_it_mw": total, "start_month": phases[0][2], "delivery_month": month,
        "late_months": late, "late_penalty_usd": penalty / len(phases), "lease_npv_usd": 1e9,
    } for i, (campus, mw, month) in enumerate(phases)])


def test_phases_are_told_as_delivered():
    """The issue's defect: '168 IT MW from Jun 2028' for a lease whose 128 MW come in Dec."""
    rows = lease_rows([("TX-BARB", 40, "2028-06"), ("TX-BARB", 128, "2028-12")], late=3,
                      penalty=6e6)
    text = accepted_text(rows, pd.Series({"latest_start": "2028-03"}))["text"]
    assert "40 IT MW Jun 2028, 128 IT MW Dec 2028" in text
    assert "168 IT MW" not in text
    assert "3 months late (latest start Mar 2028), 6.0 M USD of late penalties" in text
    assert text.startswith("OF-B for GPU cloud B: signed at TX-BARB, lease from Jun 2028")


def test_a_split_lease_names_each_campus_and_its_mw():
    rows = lease_rows([("TX-ROCK", 200, "2028-10"), ("ND-PRAI", 50, "2028-10")],
                      signed=False)
    text = accepted_text(rows, None)["text"]
    assert "accepted, 200 IT MW at TX-ROCK and 50 IT MW at ND-PRAI from Oct 2028" in text


def campus_rows(ready: list[float], leased: list[float]) -> pd.DataFrame:
    months = [f"2027-{i + 1:02d}" for i in range(len(ready))]
    return pd.DataFrame({"month": months, "it_ready_mw": ready, "it_leased_mw": leased,
                         "spot_mw": 0.0})


def test_idle_halls_are_told_with_their_mw_and_months():
    assert idle_text(campus_rows([0, 40, 40, 40], [0, 40, 40, 40])) == ""
    assert idle_text(campus_rows([0, 64, 64, 64], [0, 0, 0, 0])) == (
        "64 IT MW of halls ready but idle and never let for 3 months (Feb 2027–Apr 2027, "
        "still idle when the horizon ends)")
    assert idle_text(campus_rows([40, 40, 40, 40], [0, 0, 40, 40])) == (
        "40 IT MW of halls ready but idle for 2 months (Jan 2027–Feb 2027)")


def test_campus_sentences_in_the_base_plan(base_plan):
    """The issue's defects on `make demo`: no 'Keeps mining' for a campus that stops; idle
    halls are told; OF-B's phases as delivered; every declined offer has a reason."""
    results, folder = base_plan
    words = json.loads((folder / "summary.json").read_text())["narrative"]
    cm = results.campus_month[results.campus_month["in_horizon"]]
    for campus_id, rows in cm.groupby("campus_id"):
        if (rows["mining_mw"] <= 1e-6).any():  # stops mining at some point
            assert "Keeps mining" not in words["campuses"][campus_id]
            assert re.search(r"stops mining|part-time|no miners", words["campuses"][campus_id],
                             re.IGNORECASE), words["campuses"][campus_id]
    assert "ready but idle" in words["campuses"]["TX-BARB"]
    assert "delivered 40 IT MW Sep 2028, 128 IT MW Mar 2029" in words["offers"]["OF-B"]["text"]
    for entry in words["offers"].values():
        if entry["decision"] == "declined":
            assert entry["limit"] in ("value_alone", "leases_fit_in_whole_blocks",
                                      "it_started_per_year_cap", "other"), entry
    assert words["offers"]["OF-F"]["limit"] == "value_alone"
    assert "Peak funding" in words["funding"]


@pytest.mark.parametrize(("value", "text"), [(6.2e9, "6.2 B USD"), (412e6, "412 M USD"),
                                              (-3.5e6, "−3.5 M USD")])
def test_board_units(value, text):
    assert usd(value) == text


def test_a_decline_the_tables_do_not_explain_is_solved_with_the_offer_forced_in(
        case, tmp_path, monkeypatch):
    """When no limit explains a decline (reason 'other'), `solve` solves the plan again with
    the offer signed and the narrative says how much lower the NPV is. The reason is forced
    to 'other' here for an offer that loses money on its own (1 USD/kW-month: 10 IT MW cost
    100 M USD and bring 1.2 M USD, and their 12.5 MW of power stop mining), so the forced-in
    plan is 100–125 M USD worse."""
    from click.testing import CliRunner

    from siteopt.cli import main
    from siteopt.export import offer_reasons

    monkeypatch.setattr(offer_reasons, "declined_reason", lambda *a: offer_reasons.Reason(
        "other", "the plan is better without it (the plan with it forced in was not solved)",
        1.0))
    scenario = case(offers=[offer("O1", rate_usd_per_kw_month=1)], **LONG)
    result = CliRunner().invoke(main, ["solve", str(scenario), "-o", str(tmp_path / "out"),
                                       "--no-workbook"])
    assert result.exit_code == 0, result.output
    assert "Solving the plan with O1 forced in" in result.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    forced = summary["forced_in"]["O1"]
    assert forced["status"] == "optimal"
    assert forced["worse_by_usd"] == pytest.approx(summary["npv_usd"] - forced["npv_usd"])
    assert 95e6 < forced["worse_by_usd"] < 125e6
    text = summary["narrative"]["offers"]["O1"]["text"]
    assert "solved with it forced in, the plan's NPV is" in text and "M USD lower" in text
    assert "was not solved" not in text


def test_forced_in_text_for_each_outcome():
    from siteopt.export.narrative import forced_text

    assert forced_text("r", None) == "r"
    assert forced_text("r", {"worse_by_usd": 2.5e8}) == \
        "r; solved with it forced in, the plan's NPV is 250 M USD lower"
    assert forced_text("r", {"worse_by_usd": 0.0}).endswith("no better (within the MIP gap)")
    assert forced_text("r", {"worse_by_usd": None, "status": "infeasible",
                             "diagnosis": ["no campus can host it"]}) == \
        "r; forced in, no plan meets every requirement: no campus can host it"
    assert forced_text("r", {"worse_by_usd": None, "status": "no_solution", "seconds": 12}) \
        == "r; the plan with it forced in found no solution within 12 s"


def test_the_summary_sheet_has_the_plan_in_plain_words(base_plan):
    """plan.xlsx's Summary: the campus decisions in the narrative's words, and an 'In plain
    words' block with the plan, its funding and every offer's sentence."""
    import openpyxl

    _, folder = base_plan
    words = json.loads((folder / "summary.json").read_text())["narrative"]
    ws = openpyxl.load_workbook(folder / "plan.xlsx")["Summary"]
    cells = {r[0]: r[1] for r in ws.iter_rows(min_col=1, max_col=2, values_only=True)
             if r[0] is not None}
    assert cells["The plan"] == words["headline"] and cells["Funding"] == words["funding"]
    for offer_id, entry in words["offers"].items():
        assert cells[offer_id] == entry["text"]


def test_the_offer_table_has_a_row_per_phase_as_delivered(base_plan):
    """The issue's defect: OF-B read '168 IT MW from Jun 2028' though 128 MW come later. The
    Summary's offers table has a row per delivery: 40 IT MW in Sep 2028, 128 in Mar 2029."""
    from siteopt.export.plan_frames import lease_decisions

    results, _ = base_plan
    rows = lease_decisions(results.leases)
    of_b = rows[rows["Offer"] == "OF-B"]
    assert [(f"{d:%Y-%m}", mw) for d, mw in zip(of_b["Delivered"], of_b["IT MW"])] == \
        [("2028-09", 40.0), ("2029-03", 128.0)]
    assert set(of_b["Lease start"].map(lambda d: f"{d:%Y-%m}")) == {"2028-09"}
