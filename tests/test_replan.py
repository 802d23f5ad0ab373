"""`siteopt replan`: decisions before --from stay, the rest is re-optimised.

The small cases use the numbers of tests/cases.py (margin 1,000 USD/MW-day on 100 MW, blocks of
10 IT MW at 3,000,000 built in 6 months, PUE 1.25; O1 10 IT MW at 1,500,000 USD a month, any
start in 2027) over 24 months from 2027-01 at gap 0. Their optimum is unique: start one
block in 2027-01, lease O1 from 2027-07 when the block is ready.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from cases import CAMPUS, MARKET, OFFER, blocks_by_month, lease, npv, optimal
from click.testing import CliRunner

from siteopt.api import solve_scenario
from siteopt.cli import main
from siteopt.export.results_folder import load_results, write_results
from siteopt.inputs.errors import InputError
from siteopt.replan import replan

MONTHS = {"months": 24}


def solved_folder(case, tmp_path, name="old", **kwargs):
    """A case solved (optimal, audited) and written to a result folder: (scenario, folder)."""
    from cases import audited

    scenario = case(campuses=[{**CAMPUS, **kwargs.pop("campus", {})}],
                    offers=kwargs.pop("offers", [OFFER]), market=MARKET,
                    horizon=kwargs.pop("horizon", MONTHS), **kwargs)
    results = audited(optimal(solve_scenario(scenario)))
    folder = tmp_path / name
    write_results(results, folder, workbook=False)
    return scenario, folder


def decisions(results):
    cm = results.campus_month
    blocks = cm.loc[cm["blocks_started"] > 0, ["campus_id", "month", "blocks_started"]]
    leases = results.leases.loc[results.leases["accepted"],
                                ["offer_id", "campus_id", "start_month", "it_mw"]]
    return (blocks.reset_index(drop=True).to_dict("records"),
            leases.reset_index(drop=True).to_dict("records"))


def bridge_adds_up(results):
    steps = results.extra["npv_bridge"].set_index("step")["usd"]
    moves = [v for k, v in steps.items() if not k.startswith(("NPV of", "of which"))]
    assert steps["NPV of the old plan"] + sum(moves) == \
        pytest.approx(steps["NPV of the new plan"], abs=0.02)


@pytest.mark.parametrize("start", ["2027-01", "2027-02", "2027-07", "2027-12", "2028-12"])
def test_replanning_with_its_own_scenario_changes_nothing(case, tmp_path, start):
    """Same NPV to the cent and the same decisions from any month."""
    _, folder = solved_folder(case, tmp_path)
    old = load_results(folder)
    new = replan(folder, start)
    assert new.summary["status"] == "optimal"
    assert npv(new) == pytest.approx(npv(old), abs=0.01)
    assert decisions(new) == decisions(old)
    assert blocks_by_month(new) == {"2027-01": 1}
    assert lease(new) == (True, "C1", "2027-07")
    assert len(new.extra["changes"]) == 0
    bridge_adds_up(new)
    assert new.summary["audit"]["passed"]


def test_replanning_an_as_built_company_with_its_own_scenario_changes_nothing(case, tmp_path):
    """A ready hall with a running lease and a hall under construction: the running lease and
    the hall stay, and the plan is the same."""
    _, folder = solved_folder(
        case, tmp_path, campus={"hpc_ready_it_mw": 10},
        offers=[{**OFFER, "offer_id": "R1", "signed": "true", "earliest_start": "2026-05",
                 "latest_start": "2026-05", "campuses": "C1", "escalator_pct_per_year": 5},
                {**OFFER, "offer_id": "O2", "it_mw": 20}],
        construction=[{"campus_id": "C1", "it_mw": 20, "ready_month": "2027-04",
                       "capex_remaining_usd": 4.5e6}])
    old = load_results(folder)
    for start in ("2027-03", "2027-10"):
        new = replan(folder, start)
        assert npv(new) == pytest.approx(npv(old), abs=0.01)
        assert decisions(new) == decisions(old)


def test_replanning_after_a_price_change_is_never_better_than_a_fresh_solve(case, tmp_path):
    """BTC at 300,000: mining margin 1,000 → 2,500 × 3 − 1,500 = 6,000 USD/MW-day, so the
    12.5 MW a block takes earn 75,000 a day mining — more than the 1,500,000 a month of rent
    after capex. A fresh solve declines O1; the re-plan from 2027-03 keeps the block started in
    January (its 3,000,000 are spent) and is worth less."""
    _, folder = solved_folder(case, tmp_path)
    dear = case(campuses=[CAMPUS], offers=[OFFER], horizon=MONTHS,
                market={**MARKET, "btc_price_usd": 300_000})
    fresh = optimal(solve_scenario(dear))
    new = replan(folder, "2027-03", scenario=dear)
    assert new.summary["status"] == "optimal"
    assert npv(new) <= npv(fresh) + 0.01
    assert blocks_by_month(new) == {"2027-01": 1}  # fixed
    assert blocks_by_month(fresh) == {}
    bridge_adds_up(new)


def test_the_bridge_values_the_old_plan_under_the_new_inputs(case, tmp_path):
    """BTC at 120,000 (hashprice 60): each MW mined earns 500 USD a day more. The old plan
    mines 87.5 MW (its block takes 12.5 from 2027-01) for all 365 + 366 = 731 days of
    2027–2028, so the same decisions gain 500 × 87.5 × 731 = 31,981,250 USD."""
    _, folder = solved_folder(case, tmp_path)
    richer = case(campuses=[CAMPUS], offers=[OFFER], horizon=MONTHS,
                  market={**MARKET, "btc_price_usd": 120_000})
    new = replan(folder, "2027-06", scenario=richer)
    steps = new.extra["npv_bridge"].set_index("step")["usd"]
    assert steps["new inputs (same decisions)"] == pytest.approx(31_981_250.00, abs=0.01)
    assert steps["re-optimisation from --from"] >= -0.01
    bridge_adds_up(new)


# -- what the new inputs make impossible -------------------------------------------------------


def test_a_slipped_permit_under_a_started_block_is_explained_in_words(case, tmp_path):
    _, folder = solved_folder(case, tmp_path)
    slipped = case(campuses=[{**CAMPUS, "permit_ready": "2027-06"}], offers=[OFFER],
                   horizon=MONTHS, market=MARKET)
    new = replan(folder, "2027-03", scenario=slipped)
    assert new.summary["status"] == "infeasible"
    (line,) = new.summary["diagnosis"]
    assert line.startswith(f"C1 2027-01: blocks_started 1 ({folder} before 2027-03) is not "
                           "possible with the new inputs: campuses C1: permit_ready is "
                           "2027-06, so construction may not start in 2027-01.")
    assert "--actuals" in line


def test_a_withdrawn_offer_whose_lease_started_is_named(case, tmp_path):
    _, folder = solved_folder(case, tmp_path)
    gone = case(campuses=[CAMPUS], offers=[{**OFFER, "offer_id": "O9"}], horizon=MONTHS,
                market=MARKET)
    new = replan(folder, "2027-09", scenario=gone)
    assert new.summary["status"] == "infeasible"
    assert any("lease O1 at C1 from 2027-07" in line and "no offer O1 any more" in line
               for line in new.summary["diagnosis"])


def test_a_withdrawn_offer_not_yet_started_is_declined_and_the_change_listed(case, tmp_path):
    """O1 withdrawn before its start: the block started in January stays (capex spent), O1 is
    declined. The old plan cannot be valued under the new inputs (it leases O1), so the bridge
    merges that step with the re-optimisation and says why."""
    _, folder = solved_folder(case, tmp_path)
    gone = case(campuses=[CAMPUS], offers=[{**OFFER, "offer_id": "O9",
                                            "earliest_start": "2028-06",
                                            "latest_start": "2028-06"}],
                horizon=MONTHS, market=MARKET)
    new = replan(folder, "2027-04", scenario=gone)
    assert new.summary["status"] == "optimal"
    assert blocks_by_month(new) == {"2027-01": 1}
    changes = new.extra["changes"]
    row = changes[changes["kind"] == "lease"].iloc[0]
    assert row["offer_id"] == "O1"
    assert row["description"] == "lease O1: from 2027-07 at C1 10 IT MW → declined"
    steps = new.extra["npv_bridge"]
    merged = steps[steps["step"] == "new inputs (same decisions) and re-optimisation from "
                                     "--from"]
    assert len(merged) == 1 and "no offer O1 any more" in merged["note"].iloc[0]
    bridge_adds_up(new)


def test_a_fixed_decision_that_only_conflicts_in_the_model_is_diagnosed(case, tmp_path):
    """Grid cut to 95 MW: Jan–Feb mined 87.5 MW beside the block's 12.5 MW = 100 MW. No bound
    forbids either (miner_mw 95), the power row does; releasing the mining or the block starts
    makes it feasible, and the diagnosis names both."""
    _, folder = solved_folder(case, tmp_path)
    small = case(campuses=[{**CAMPUS, "grid_mw": 95, "miner_mw": 95}], offers=[OFFER],
                 horizon=MONTHS, market=MARKET)
    new = replan(folder, "2027-03", scenario=small)
    assert new.summary["status"] == "infeasible"
    text = " ".join(new.summary["diagnosis"])
    assert "Keeping C1 mining as in" in text and "Keeping C1 block starts as in" in text


# -- actuals -----------------------------------------------------------------------------------


def write_actuals(tmp_path, rows, columns=("campus_id", "month", "mining_mw", "blocks_started",
                                           "it_ready_mw", "leases_started")):
    path = tmp_path / "actuals.csv"
    pd.DataFrame(rows, columns=list(columns)).to_csv(path, index=False)
    return path


def test_actual_mining_below_the_plan_costs_exactly_its_margin(case, tmp_path):
    """February 2027 mined 50 MW instead of 87.5: 37.5 MW × 1,000 × 28 days = 1,050,000 less,
    all of it in the 'actuals' step of the bridge."""
    _, folder = solved_folder(case, tmp_path)
    actuals = write_actuals(tmp_path, [["C1", "2027-02", 50, None, None, None]])
    new = replan(folder, "2027-03", actuals=actuals)
    old = load_results(folder)
    assert npv(new) == pytest.approx(npv(old) - 1_050_000.00, abs=0.01)
    steps = new.extra["npv_bridge"].set_index("step")["usd"]
    assert steps["what happened before --from (actuals)"] == pytest.approx(-1_050_000.00,
                                                                           abs=0.01)
    feb = new.campus_month[new.campus_month["month"] == "2027-02"]
    assert float(feb["mining_mw"].iloc[0]) == 50.0
    bridge_adds_up(new)


def test_a_block_that_really_started_later_moves_the_lease(case, tmp_path):
    """The block started in 2027-03, not 2027-01: ready 2027-09, so O1 starts 2027-09."""
    _, folder = solved_folder(case, tmp_path)
    actuals = write_actuals(tmp_path, [["C1", "2027-01", None, 0, None, None],
                                       ["C1", "2027-03", None, 1, None, None]])
    new = replan(folder, "2027-04", actuals=actuals)
    assert blocks_by_month(new) == {"2027-03": 1}
    assert lease(new) == (True, "C1", "2027-09")


def test_actual_ready_mw_that_do_not_follow_from_the_starts_are_a_located_error(case,
                                                                                 tmp_path):
    _, folder = solved_folder(case, tmp_path)
    actuals = write_actuals(tmp_path, [["C1", "2027-07", None, None, 0, None]])
    with pytest.raises(InputError) as caught:
        replan(folder, "2027-08", actuals=actuals)
    message = str(caught.value)
    assert "actuals.csv row 2 (campus C1 month 2027-07), it_ready_mw" in message
    assert "make 10 ready by 2027-07" in message


def test_actuals_outside_the_past_or_at_an_unknown_campus_are_refused(case, tmp_path):
    _, folder = solved_folder(case, tmp_path)
    actuals = write_actuals(tmp_path, [["C1", "2027-05", 10, None, None, None],
                                       ["C7", "2027-01", 10, None, None, None],
                                       ["C1", "2027-01", None, None, None, "O1;none"]])
    with pytest.raises(InputError) as caught:
        replan(folder, "2027-04", actuals=actuals)
    message = str(caught.value)
    assert "2027-05 is not between the horizon start 2027-01 and the month before --from " \
           "(2027-03)" in message
    assert "unknown campus 'C7'" in message
    assert "'none' means no lease started" in message


def test_a_lease_that_started_in_the_actuals_is_kept(case, tmp_path):
    """Mining-only old plan (O1 starts 2028-06 at the earliest, no time to pay back), but the
    company signed and started O1 on a block started in 2027-01 anyway: the actuals say
    so and the re-plan keeps both."""
    _, folder = solved_folder(case, tmp_path, offers=[{**OFFER, "rate_usd_per_kw_month": 1}])
    actuals = write_actuals(tmp_path, [["C1", "2027-01", None, 1, None, None],
                                       ["C1", "2027-07", None, None, 10, "O1"]])
    # the old plan mined 100 MW; beside the block's 12.5 MW that cannot have happened
    refused = replan(folder, "2027-08", actuals=actuals)
    assert refused.summary["status"] == "infeasible"
    assert refused.summary["diagnosis"][0].startswith("Keeping C1 mining as in ")
    actuals = write_actuals(tmp_path, [["C1", f"2027-0{m}", 87.5, int(m == 1), None,
                                        "O1" if m == 7 else None] for m in range(1, 8)])
    new = replan(folder, "2027-08", actuals=actuals)
    assert new.summary["status"] == "optimal"
    assert lease(new) == (True, "C1", "2027-07")
    assert blocks_by_month(new) == {"2027-01": 1}


# -- the command line --------------------------------------------------------------------------


def test_the_cli_writes_a_result_folder_with_the_changes(case, tmp_path):
    _, folder = solved_folder(case, tmp_path)
    dear = case(campuses=[CAMPUS], offers=[{**OFFER, "offer_id": "O9"}], horizon=MONTHS,
                market={**MARKET, "btc_price_usd": 300_000})
    out = tmp_path / "new"
    result = CliRunner().invoke(main, ["replan", str(folder), "--from", "2027-03",
                                       "--scenario", str(dear), "-o", str(out)])
    assert result.exit_code == 0, result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["replan"]["from"] == "2027-03"
    assert {"changes.csv", "npv_bridge.csv", "plan.xlsx"} <= set(summary["files"])
    changes = pd.read_csv(out / "changes.csv")
    assert "lease" in set(changes["kind"])  # O1 withdrawn, O9 maybe taken
    import openpyxl

    book = openpyxl.load_workbook(out / "plan.xlsx")
    assert book.sheetnames[1] == "What changed"
    assert load_results(out).summary["replan"]["old_result"] == str(folder)


@pytest.mark.parametrize("args, expected", [
    (["--from", "2030-01"], "--from: 2030-01 is outside the horizon of both plans"),
    (["--from", "2027-13"], "--from: expected a month YYYY-MM, found '2027-13'"),
])
def test_the_cli_refuses_bad_months(case, tmp_path, args, expected):
    _, folder = solved_folder(case, tmp_path)
    result = CliRunner().invoke(main, ["replan", str(folder), *args, "-o",
                                       str(tmp_path / "new")])
    assert result.exit_code == 1
    assert expected in result.output and "Traceback" not in result.output


def test_the_cli_never_writes_over_the_plan_it_replans(case, tmp_path):
    _, folder = solved_folder(case, tmp_path)
    before = (folder / "summary.json").read_bytes()
    result = CliRunner().invoke(main, ["replan", str(folder), "--from", "2027-03", "-o",
                                       str(folder)])
    assert result.exit_code == 1 and "is the plan being re-planned" in result.output
    assert (folder / "summary.json").read_bytes() == before


def test_without_its_scenario_file_the_replan_asks_for_one(case, tmp_path):
    scenario, folder = solved_folder(case, tmp_path)
    scenario.write_text(scenario.read_text().replace("btc_price_usd: 100000",
                                                     "btc_price_usd: 100001"))
    result = CliRunner().invoke(main, ["replan", str(folder), "--from", "2027-03", "-o",
                                       str(tmp_path / "new")])
    assert result.exit_code == 1
    assert "whose inputs have changed since" in result.output and "--scenario" in result.output


def test_a_new_scenario_must_keep_the_horizon_start(case, tmp_path):
    _, folder = solved_folder(case, tmp_path)
    later = case(campuses=[CAMPUS], offers=[OFFER], horizon={"start": "2027-02", "months": 24},
                 market=MARKET)
    with pytest.raises(InputError) as caught:
        replan(folder, "2027-05", scenario=later)
    assert "a re-plan keeps the horizon start" in str(caught.value)


def test_a_plan_without_a_solution_cannot_be_replanned(case, tmp_path):
    impossible = case(campuses=[CAMPUS], offers=[{**OFFER, "signed": "true",
                                                  "latest_start": "2027-02"}], market=MARKET)
    results = solve_scenario(impossible)
    assert results.summary["status"] == "infeasible"
    folder = tmp_path / "none"
    write_results(results, folder, workbook=False)
    with pytest.raises(InputError) as caught:
        replan(folder, "2027-03")
    assert "holds no plan to re-plan" in str(caught.value)


@pytest.mark.slow
def test_replanning_a_synthetic_m_portfolio_with_its_own_scenario(tmp_path):
    """M seed 1 at a 1 % gap: the old plan is feasible for the re-plan and, in this process,
    its start, so the re-plan is never worth less; and never more than the old bound."""
    from siteopt.inputs import load_inputs
    from siteopt.runs.bench import synthetic as bench

    scenario = bench.write_synthetic(bench.generate("M", 1), tmp_path / "m", mip_gap_pct=1.0)
    old = optimal(solve_scenario(scenario))
    folder = tmp_path / "old"
    write_results(old, folder, workbook=False)
    assert load_inputs(scenario).input_hash == old.summary["input_hash"]
    for start in ("2027-07", "2029-01"):
        new = replan(folder, start)
        assert new.summary["status"] in ("optimal", "feasible")
        assert npv(new) >= npv(old) - 1e-6 * abs(npv(old))
        assert npv(new) <= old.summary["best_bound_usd"] + 1e-6 * abs(npv(old))
        assert new.summary["audit"]["passed"]
        bridge_adds_up(new)


def test_report_rebuilds_the_what_changed_sheet(case, tmp_path):
    _, folder = solved_folder(case, tmp_path)
    dear = case(campuses=[CAMPUS], offers=[{**OFFER, "offer_id": "O9"}], horizon=MONTHS,
                market={**MARKET, "btc_price_usd": 300_000})
    out = tmp_path / "new"
    assert CliRunner().invoke(main, ["replan", str(folder), "--from", "2027-03", "--scenario",
                                     str(dear), "-o", str(out), "--no-workbook"]).exit_code == 0
    again = load_results(out)
    assert list(again.extra) == ["changes", "npv_bridge"]
    assert again.extra["npv_bridge"]["step"].iloc[0] == "NPV of the old plan"
    book_path = tmp_path / "board.xlsx"
    result = CliRunner().invoke(main, ["report", str(out), "-o", str(book_path)])
    assert result.exit_code == 0, result.output
    import openpyxl

    ws = openpyxl.load_workbook(book_path)["What changed"]
    texts = [c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert "lease O1: from 2027-07 at C1 10 IT MW → declined" in texts


def test_miners_sold_follow_the_actuals_at_a_campus_that_has_them(case, tmp_path):
    """With a salvage value, miners that no longer fit beside a hall must be sold. The old
    plan (mining only) sold none; the actuals start a block in 2027-01, so 12.5 MW no longer
    fit: the re-plan sells them (not fixed to the old plan's 0) and is feasible."""
    _, folder = solved_folder(case, tmp_path, campus={"asic_salvage_usd_per_mw": 100_000},
                              offers=[{**OFFER, "rate_usd_per_kw_month": 1}])
    actuals = write_actuals(tmp_path, [["C1", f"2027-0{m}", 87.5, int(m == 1), None,
                                        "O1" if m == 7 else None] for m in range(1, 8)])
    new = replan(folder, "2027-08", actuals=actuals)
    assert new.summary["status"] == "optimal", new.summary.get("diagnosis")
    cm = new.campus_month
    assert float(cm.loc[cm["month"] == "2027-01", "miners_sold_mw"].iloc[0]) >= 12.5 - 1e-6
    assert new.summary["audit"]["passed"]
