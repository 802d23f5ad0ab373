"""When things go wrong: infeasibility explained, limits, interrupts, atomic results, exit codes,
determinism."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from siteopt.api import solve_scenario
from siteopt.cli import main
from siteopt.export import results_folder

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.yaml"
FUNDED = ROOT / "scenarios" / "funded.yaml"
SITEOPT = Path(sys.executable).with_name("siteopt")

# One campus that can host one 10 IT MW block; a signed lease needs it from 2027-07.
CAMPUS = {"grid_mw": 100, "miner_mw": 100, "hpc_max_it_mw": 20, "hpc_block_it_mw": 10,
          "capex_usd_per_it_mw": 10_000_000, "build_months": 6}
SIGNED = {"offer_id": "S1", "signed": "true", "it_mw": 10, "earliest_start": "2027-07",
          "latest_start": "2027-07", "term_months": 60}


def run_cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stderr


# -- infeasibility explained --------------------------------------------------------------


def test_cash_floor_infeasibility_is_explained(case, tmp_path):
    """Opening cash 50 M, floor 45 M, but the signed block costs 100 M over Jan–Jun 2027
    (16.7 M a month) while mining brings in less: cash breaks the floor."""
    path = case(campuses=[CAMPUS], offers=[SIGNED],
                finance={"opening_cash_usd": 50_000_000, "min_cash_usd": 45_000_000})
    code, _, err = run_cli("solve", str(path), "-o", str(tmp_path / "out"))
    assert code == 1
    assert "is infeasible" in err
    assert "Cash falls below the floor (min_cash_usd 45.0 M USD)" in err
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["status"] == "infeasible"
    assert any("Cash falls below the floor" in d for d in summary["diagnosis"])
    assert "Traceback" not in err


def test_budget_infeasibility_is_explained(case):
    """The signed block's 100 M capex falls in 2027; a 60 M budget leaves 40 M unfunded."""
    path = case(campuses=[CAMPUS], offers=[SIGNED],
                finance={"capex_budget_usd_per_year": 60_000_000})
    results = solve_scenario(path)
    assert results.summary["status"] == "infeasible"
    assert results.summary["diagnosis"] == [
        "2027: the plan needs 40.0 M USD more landlord capex than capex_budget_usd_per_year "
        "allows. Options: raise the 2027 budget, tenant-funded capex (tenant_capex_pct), or "
        "later or fewer signed MW."]


def test_supply_cap_infeasibility_is_explained(case):
    """A 10 IT MW block must start in Jan 2027; only 5 IT MW may start that year."""
    path = case(campuses=[CAMPUS], offers=[SIGNED],
                limits={"max_it_mw_started_per_year": 5})
    results = solve_scenario(path)
    assert results.summary["status"] == "infeasible"
    assert results.summary["diagnosis"] == [
        "2027: 5.0 IT MW more must start construction than limits.max_it_mw_started_per_year "
        "(5) allows."]


def test_concentration_infeasibility_is_explained(case):
    """One signed tenant holds 100 % of leased MW; the cap is 50 %: 5 IT MW too many."""
    path = case(campuses=[CAMPUS], offers=[SIGNED], limits={"max_tenant_share_pct": 50})
    results = solve_scenario(path)
    assert results.summary["status"] == "infeasible"
    assert results.summary["diagnosis"] == [
        "Tenant Tenant one would hold 5.0 IT MW more than limits.max_tenant_share_pct allows "
        "of all leased IT MW."]


def test_two_signed_leases_that_cannot_both_fit_are_named(case):
    """Two signed 20 IT MW leases over the same months; the campus hosts 20 IT MW."""
    path = case(campuses=[CAMPUS], offers=[{**SIGNED, "it_mw": 20},
                                           {**SIGNED, "offer_id": "S2", "it_mw": 20}])
    results = solve_scenario(path)
    assert results.summary["status"] == "infeasible"
    (message,) = results.summary["diagnosis"]
    assert message.startswith("Signed lease S")
    assert "cannot be delivered together with the other requirements" in message


# -- limits and interrupts ----------------------------------------------------------------


def test_time_limit_with_a_plan_writes_it_stamped_with_the_gap(tmp_path):
    """A synthetic M portfolio with every offer open: HiGHS has a plan within a second (doing
    nothing is feasible) and needs tens of seconds to prove an optimum at gap 0, so a 4 s
    limit stops it with a plan and a gap (the base scenario now solves to optimal in 3 s)."""
    from siteopt.runs.bench import synthetic as bench

    portfolio = bench.generate("M", 1)
    portfolio.offers[:] = [dict(o, signed="false") for o in portfolio.offers]
    scenario = bench.write_synthetic(portfolio, tmp_path / "m", mip_gap_pct=0.0)
    code, out, err = run_cli("solve", str(scenario), "-o", str(tmp_path / "m-out"),
                             "--time-limit", "4", "--json", "--no-workbook")
    summary = json.loads(out)
    assert code == 0
    assert summary["status"] == "feasible"
    assert summary["mip_gap_pct"] > 0
    assert summary["audit"]["passed"]
    # a plan stopped by its limit is not solved again with declined offers forced in
    assert "forced_in" not in summary and "forced in, to say why" not in err


def test_time_limit_without_a_plan_exits_3_and_writes_nothing(tmp_path):
    outdir = tmp_path / "funded"
    code, _, err = run_cli("solve", str(FUNDED), "-o", str(outdir), "--time-limit", "2")
    assert code == 3
    assert "No plan found within the limits" in err
    assert not outdir.exists()
    assert list(tmp_path.iterdir()) == []


@pytest.fixture(scope="module")
def previous_run(base_plan, tmp_path_factory) -> Path:
    """A complete earlier run in a result folder: a copy of the session's base plan."""
    outdir = tmp_path_factory.mktemp("previous") / "run"
    shutil.copytree(base_plan[1], outdir)
    return outdir


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


def test_ctrl_c_during_a_solve_exits_130_and_keeps_the_previous_run(previous_run, tmp_path):
    outdir = tmp_path / "run"
    shutil.copytree(previous_run, outdir)
    before = _snapshot(outdir)
    # A shell that starts the tests in the background (CI runners, nohup …&) leaves SIGINT
    # ignored, and the child would inherit that: give it the default disposition, as a
    # terminal would.
    process = subprocess.Popen([str(SITEOPT), "solve", str(FUNDED), "-o", str(outdir)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    time.sleep(4)  # building takes ~1 s; funded then needs minutes in HiGHS
    process.send_signal(signal.SIGINT)
    try:
        out, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "Interrupted" in err and "Traceback" not in err
    assert _snapshot(outdir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]  # no staging left behind


def test_a_failed_write_keeps_the_previous_run_whole(previous_run, tmp_path, monkeypatch):
    outdir = tmp_path / "run"
    shutil.copytree(previous_run, outdir)
    before = _snapshot(outdir)

    def broken(*_args, **_kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(results_folder, "write_plan_workbook", broken)
    results = results_folder.load_results(previous_run)
    with pytest.raises(OSError):
        results_folder.write_results(results, outdir, workbook=True)
    assert _snapshot(outdir) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_new_run_replaces_every_file_of_the_old_one(previous_run, tmp_path):
    """The old run listed plan.xlsx; the new one writes none: nothing of the old stays."""
    outdir = tmp_path / "run"
    results = results_folder.load_results(previous_run)
    results_folder.write_results(results, outdir, workbook=True)
    assert (outdir / "plan.xlsx").is_file()
    results_folder.write_results(results, outdir, workbook=False)
    summary = json.loads((outdir / "summary.json").read_text())
    written = sorted(p.relative_to(outdir).as_posix() for p in outdir.rglob("*") if p.is_file())
    assert written == sorted([*summary["files"], "summary.json"])
    assert "plan.xlsx" not in written and "inputs/campuses.csv" in written


def test_a_folder_that_is_not_a_result_folder_is_never_replaced(tmp_path):
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "board-deck.pptx").write_bytes(b"keep me")
    code, _, err = run_cli("solve", str(BASE), "-o", str(precious))
    assert code == 1
    assert "is not a siteopt result folder" in err
    assert (precious / "board-deck.pptx").read_bytes() == b"keep me"


# -- exit codes ---------------------------------------------------------------------------


def test_exit_codes(case, tmp_path):
    assert run_cli("validate", str(BASE))[0] == 0
    bad = case(campuses=[{"hpc_pue": 0.9}])
    code, _, err = run_cli("validate", str(bad))
    assert code == 1 and "hpc_pue: must be between 1 and 3 MW/IT MW (got 0.9)" in err
    assert run_cli("solve", str(BASE), "--no-such-option")[0] == 2
    assert run_cli("solve")[0] == 2
    # 0 (plan), 1 (infeasible), 3 (limit without plan) and 130 (Ctrl-C) are tested above.


# -- determinism --------------------------------------------------------------------------


VOLATILE = {"build_seconds", "solve_seconds", "extract_seconds", "finished_at", "baseline",
            "search",  # how the MIP search went: times, and whether it started from a plan
            "scenario_file"}


def _stable(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k not in VOLATILE}


def _solved_afresh(path: Path):
    """As a new `siteopt solve` process would: no model or plan kept from an earlier solve
    in this process (which solves ran before here depends on the test order; a reused
    model's NPV can differ in its last digits, test_reuse checks those plans)."""
    import siteopt.api as api

    api.MODEL_CACHE.clear()
    api.LAST_PLANS.clear()
    return solve_scenario(path)


def test_same_scenario_twice_gives_the_same_plan():
    first, second = _solved_afresh(BASE), _solved_afresh(BASE)
    for name in ("campus_month", "leases", "company_month", "kpis"):
        pd.testing.assert_frame_equal(getattr(first, name), getattr(second, name))
    assert _stable(first.summary) == _stable(second.summary)
    assert first.summary["baseline"]["npv_usd"] == second.summary["baseline"]["npv_usd"]


def test_cli_module_runs_as_a_script():
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    result = subprocess.run([sys.executable, "-m", "siteopt", "--version"], capture_output=True,
                            text=True, env=env, timeout=60)
    assert result.returncode == 0 and "siteopt" in result.stdout
