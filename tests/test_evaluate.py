"""`siteopt evaluate`: a plan's here-and-now decisions kept in fresh sampled futures.

Numbers of tests/cases.py: one campus of 100 MW mining at a margin of 1,000 USD/MW-day, one
block of 10 IT MW (3,000,000 USD, six months to build), offer O1 of 10 IT MW at 150
USD/kW-month for any start in 2027; 12 months, no discounting. The plain plan starts the
block in January and leases from July — both decided before month 3 (O1 is signed in the
horizon's first month). In a future where C1's permit slips to May the January block cannot
be kept: that future is infeasible and counted, never averaged in. Where O1 is withdrawn its
lease is simply not there (the block stays built).
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from cases import CAMPUS, MARKET, OFFER
from click.testing import CliRunner

from siteopt.api import solve_inputs
from siteopt.cli import main
from siteopt.export.results_folder import write_results
from siteopt.inputs import load_inputs
from siteopt.inputs.errors import InputError
from siteopt.stochastic.evaluation import evaluate_plan, write_evaluation

SAMPLE = {"count": 4, "seed": 7, "btc_price": {"vol_pct_per_year": 80},
          "permit_slip_months": {"C1": {0: 70, 4: 30}}, "offer_withdrawn_pct": {"O1": 30}}


def _project(case, tmp_path, finance=None, **campus):
    """(stochastic scenario, its plain twin without the uncertainty section)."""
    path = case(campuses=[{**CAMPUS, "hpc_max_it_mw": 20, "permit_ready": "2027-01", **campus}],
                offers=[{**OFFER}], market=MARKET, finance=finance or {},
                uncertainty={"commit_months": 3, "sample": SAMPLE})
    settings = yaml.safe_load(path.read_text())
    settings.pop("uncertainty")
    settings["name"] = "plain"
    plain = path.parent / "plain.yaml"
    plain.write_text(yaml.safe_dump(settings))
    return path, plain


def _solved(scenario, folder):
    results = solve_inputs(load_inputs(scenario))
    assert results.summary["status"] == "optimal"
    write_results(results, folder, workbook=False)
    return results


def test_in_sample_the_stochastic_plan_gets_its_own_npvs_back(case, tmp_path):
    """Same seed and count: the same futures, the same decisions fixed, so each future's
    re-optimised NPV is the stochastic plan's own for that future (MIP gap 0)."""
    scenario, _ = _project(case, tmp_path)
    plan = _solved(scenario, tmp_path / "sto")
    summary, rows, _ = evaluate_plan(tmp_path / "sto", SAMPLE["count"], SAMPLE["seed"])
    own = {s["name"]: s["npv_usd"] for s in plan.summary["stochastic"]["scenarios"]}
    assert [r["future"] for r in rows] == list(own)
    for row in rows:
        assert row["npv_usd"] == pytest.approx(own[row["future"]], rel=1e-9, abs=1.0)
    assert summary["measures"]["expected_npv_usd"] == pytest.approx(
        plan.summary["stochastic"]["expected_npv_usd"], rel=1e-9)
    assert summary["plan_kind"] == "stochastic" and summary["in_sample"]


def test_a_plain_plan_keeps_its_decisions_and_impossible_futures_are_counted(case, tmp_path):
    scenario, plain = _project(case, tmp_path)
    plan = _solved(plain, tmp_path / "plain")
    assert plan.campus_month.loc[0, "blocks_started"] == 1  # January
    summary, rows, _ = evaluate_plan(tmp_path / "plain", 12, 5, scenario=scenario)
    slipped = [r for r in rows if "permit_ready=2027-05" in r["changes"]]
    assert slipped and len(slipped) < len(rows)
    for row in rows:
        if row in slipped:  # the January block cannot be started before a May permit
            assert row["status"] == "infeasible" and row["npv_usd"] is None
            assert "blocks_started 1" in row["reason"] and "permit_ready" in row["reason"]
        else:
            assert row["status"] == "optimal"
    m = summary["measures"]
    assert m["infeasible"] == len(slipped) and m["futures_with_npv"] == 12 - len(slipped)
    npvs = [r["npv_usd"] for r in rows if r["npv_usd"] is not None]
    assert m["expected_npv_usd"] == pytest.approx(sum(npvs) / len(npvs))
    assert m["ci95_low_usd"] < m["expected_npv_usd"] < m["ci95_high_usd"]
    assert m["cvar_npv_usd"] == pytest.approx(min(npvs))  # 10 % of ≤ 10 futures: the worst
    assert summary["plan_kind"] == "deterministic" and not summary["in_sample"]


def test_a_future_whose_cash_floor_cannot_be_kept_is_a_breach_with_an_npv(case, tmp_path):
    """Power at 95 USD/MWh leaves mining 220 USD/MW-day: a BTC fall stops it, and the
    block's capex (500,000 USD a month) then runs the 100,000 USD of opening cash out."""
    finance = {"opening_cash_usd": 100_000, "min_cash_usd": 0}
    scenario, plain = _project(case, tmp_path, finance, power_price_usd_per_mwh=95)
    _solved(plain, tmp_path / "plain")
    summary, rows, _ = evaluate_plan(tmp_path / "plain", 12, 5, scenario=scenario)
    breached = [r for r in rows if r["status"] == "cash_floor_breached"]
    assert breached
    assert all(r["cash_floor"] == "breached" and r["npv_usd"] is not None for r in breached)
    m = summary["measures"]
    assert m["cash_floor_tracked"]
    assert m["p_cash_floor_breach_pct"] == pytest.approx(100 * len(breached) / 12)


def test_the_cli_writes_an_evaluation_folder_and_never_touches_the_plan(case, tmp_path):
    scenario, _ = _project(case, tmp_path)
    _solved(scenario, tmp_path / "sto")
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "sto").rglob("*")}
    command = [sys.executable, "-m", "siteopt", "evaluate", str(tmp_path / "sto"),
               "--futures", "6", "--seed", "11", "--workers", "2"]
    run = subprocess.run(command, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "Expected NPV" in run.stdout and "95 % CI" in run.stdout
    out = tmp_path / "sto-evaluation"
    assert sorted(p.name for p in out.iterdir()) == ["evaluation.csv", "evaluation.json",
                                                     "evaluation.xlsx"]
    summary = json.loads((out / "evaluation.json").read_text())
    assert summary["futures"] == 6 and summary["seed"] == 11
    assert len(pd.read_csv(out / "evaluation.csv")) == 6
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "sto").rglob("*")} == before
    # the same command again, and the refusals below, in this process: what they check is
    # the command's answer, not a fresh interpreter's (each would import siteopt again)
    again = CliRunner().invoke(main, command[3:])  # replaces its own
    assert again.exit_code == 0 and again.exception is None, again.output
    # never into the plan, never over a folder of something else
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    for target in (tmp_path / "sto", tmp_path / "sto" / "x", tmp_path / "other"):
        bad = CliRunner().invoke(main, [*command[3:], "-o", str(target)])
        assert bad.exit_code == 1 and isinstance(bad.exception, SystemExit), bad.output
        assert "Traceback" not in bad.stderr, bad.stderr
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_the_workbook_has_the_measures_a_histogram_and_fan_charts(case, tmp_path):
    import openpyxl

    scenario, _ = _project(case, tmp_path)
    _solved(scenario, tmp_path / "sto")
    summary, rows, months = evaluate_plan(tmp_path / "sto", 6, 3)
    write_evaluation(tmp_path / "ev", summary, rows, months)
    wb = openpyxl.load_workbook(tmp_path / "ev" / "evaluation.xlsx")
    assert wb.sheetnames == ["Evaluation", "Chart data", "Futures"]
    ws = wb["Evaluation"]
    labels = {ws.cell(r, 1).value: ws.cell(r, 2).value for r in range(1, 40)}
    assert labels["Expected NPV (USD m)"] == pytest.approx(
        summary["measures"]["expected_npv_usd"])
    assert len(ws._charts) == 3  # histogram, cash fan, IT MW fan
    assert wb["Futures"].max_row == 7


def test_a_plan_without_distributions_to_draw_from_is_refused(case, tmp_path):
    _, plain = _project(case, tmp_path)
    _solved(plain, tmp_path / "plain")
    with pytest.raises(InputError, match="uncertainty.sample: required to draw futures"):
        evaluate_plan(tmp_path / "plain", 3, 1)


def test_local_processes_and_dask_give_the_same_rows(case, tmp_path):
    distributed = pytest.importorskip("distributed")
    scenario, _ = _project(case, tmp_path)
    _solved(scenario, tmp_path / "sto")
    _, local, _ = evaluate_plan(tmp_path / "sto", 4, 21, workers=2)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        _, remote, _ = evaluate_plan(tmp_path / "sto", 4, 21,
                                     scheduler=cluster.scheduler_address)
    assert [(r["future"], r["status"], r["npv_usd"]) for r in local] == \
        [(r["future"], r["status"], r["npv_usd"]) for r in remote]


def test_the_throughput_report_gives_median_range_and_ratio():
    from siteopt.runs.bench.evaluation import report

    frame = pd.DataFrame({"workers": [1, 2, 1, 2, 1, 2],
                          "futures_per_minute": [10.0, 18.0, 12.0, 20.0, 11.0, 19.0],
                          "seconds": [6.0, 3.3, 5.0, 3.0, 5.5, 3.2]})
    text = report(frame)
    assert "11.00  (10.00–12.00)" in text and "19.00  (18.00–20.00)" in text
    assert "ratio 2 workers / 1: 1.73x" in text
