"""`siteopt solve --decompose`: progressive hedging over MPI (mpi-sppy) against the extensive
form on a hand-sized case (the plan, the mining-only baseline, a time limit that holds), and
the messages when MPI is missing.

The case: one campus (20 MW of HPC room), one 10 IT MW offer at 130 USD/kW-month signed
now, three futures (BTC × 0.5, × 1.0, × 1.3; 30/40/30 %) committing the first month. The
extensive form starts a block in January and signs the lease (34,342,187.5 USD expected):
the bear future wants the lease, the bull one would rather mine, and hedging takes it. The
decomposed run must commit the same and land within the gap it reports.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from cases import CAMPUS, MARKET, OFFER
from click.testing import CliRunner

from siteopt.cli import main
from siteopt.stochastic import decompose

MPI = decompose.installed("mpi4py") and decompose.mpiexec() is not None
needs_mpi = pytest.mark.skipif(not MPI, reason="mpi4py or mpiexec missing: pip install "
                                              "'siteopt[mpi]'")

THREE_FUTURES = {"commit_months": 1, "scenarios": [
    {"name": name, "probability_pct": p, "set": {"market.btc_price_usd": f"*{scale}"}}
    for name, scale, p in (("bear", 0.5, 30), ("base", 1.0, 40), ("bull", 1.3, 30))]}


def _three(case) -> Path:
    return case(campuses=[{**CAMPUS, "hpc_max_it_mw": 20}],
                offers=[{**OFFER, "rate_usd_per_kw_month": 130}], market=MARKET,
                uncertainty=THREE_FUTURES)


def _solve(scenario: Path, outdir: Path, *extra: str) -> dict:
    # a real process: mpiexec's ranks write to file descriptors, which CliRunner has not
    done = subprocess.run([sys.executable, "-m", "siteopt", "-q", "solve", str(scenario),
                           "-o", str(outdir), "--no-workbook", "--json", *extra],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@needs_mpi
def test_decomposed_plan_commits_what_the_extensive_form_commits(case, tmp_path):
    scenario = _three(case)
    ef = _solve(scenario, tmp_path / "ef")
    dec = _solve(scenario, tmp_path / "dec", "--decompose", "--ranks", "3")

    now = ["kind", "campus_id", "offer_id", "month", "value"]
    ef_now = pd.read_csv(tmp_path / "ef" / "here_and_now.csv")[now]
    dec_now = pd.read_csv(tmp_path / "dec" / "here_and_now.csv")[now]
    pd.testing.assert_frame_equal(dec_now, ef_now)
    assert len(ef_now) == 2  # a block in January and the lease: not a trivial agreement

    run = dec["stochastic"]["decomposition"]
    assert run["ranks"] == 3 and run["iterations"] >= 1
    gap_usd = dec["best_bound_usd"] - dec["objective_usd"]
    assert gap_usd >= -1e-6
    assert dec["mip_gap_pct"] == pytest.approx(100 * gap_usd / abs(dec["best_bound_usd"]))
    assert abs(ef["npv_usd"] - dec["npv_usd"]) <= gap_usd + 1e-6
    assert ef["best_bound_usd"] <= dec["best_bound_usd"] + 1e-6  # a valid outer bound
    # the same result folder: every file of the extensive form's, each future's plan audited
    assert sorted(p.name for p in (tmp_path / "dec").iterdir()) == \
        sorted(p.name for p in (tmp_path / "ef").iterdir())
    assert dec["audit"]["passed"]
    _same_baseline(ef, dec, tmp_path / "ef", tmp_path / "dec")


def _same_baseline(ef: dict, dec: dict, ef_dir: Path, dec_dir: Path) -> None:
    """Both folders carry the mining-only baseline with the same meaning: the same baseline
    NPV in total and per future, the KPIs against it (value added = NPV − baseline) filled
    alike, and scenarios.csv's baseline and value-added columns."""
    assert dec["stochastic"]["decomposition"]["baseline"] == "future by future"
    assert dec["baseline"]["npv_usd"] == pytest.approx(ef["baseline"]["npv_usd"], rel=1e-6)
    assert dec["baseline"]["status"] in ("optimal", "feasible")
    assert [s["baseline_npv_usd"] for s in dec["stochastic"]["scenarios"]] == pytest.approx(
        [s["baseline_npv_usd"] for s in ef["stochastic"]["scenarios"]], rel=1e-6)
    assert sorted(dec["kpis"]) == sorted(ef["kpis"])
    assert [k for k, v in dec["kpis"].items() if v is None] == \
        [k for k, v in ef["kpis"].items() if v is None]
    kpis = dec["kpis"]
    assert kpis["baseline_npv_usd"] == pytest.approx(ef["kpis"]["baseline_npv_usd"], rel=1e-6)
    assert kpis["value_added_usd"] == pytest.approx(dec["npv_usd"] - kpis["baseline_npv_usd"])
    columns = ["scenario", "baseline_npv_usd"]
    rows = pd.read_csv(dec_dir / "scenarios.csv")
    pd.testing.assert_frame_equal(rows[columns], pd.read_csv(ef_dir / "scenarios.csv")[columns],
                                  rtol=1e-6)
    assert rows["value_added_usd"].to_numpy() == pytest.approx(
        (rows["npv_usd"] - rows["baseline_npv_usd"]).to_numpy())


@needs_mpi
def test_under_mpiexec_the_ranks_run_in_place_and_rank_0_writes(case, tmp_path):
    """As on a cluster (srun/mpiexec starting siteopt itself): no second launch, and
    nothing of mpi-sppy's (its hub.log, xhatclp.log …) left in the working folder."""
    scenario = _three(case)
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run([decompose.mpiexec(), "-n", "3", sys.executable, "-m", "siteopt",
                           "-q", "solve", str(scenario), "-o", str(tmp_path / "dec"),
                           "--no-workbook", "--decompose"],
                          capture_output=True, text=True, timeout=600, check=False, cwd=work)
    assert done.returncode == 0, done.stderr
    assert list(work.iterdir()) == []
    summary = json.loads((tmp_path / "dec" / "summary.json").read_text(encoding="utf-8"))
    assert summary["stochastic"]["decomposition"]["ranks"] == 3
    assert len(pd.read_csv(tmp_path / "dec" / "here_and_now.csv")) == 2


def _cli(*args: str):
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), \
        result.exc_info
    return result


def test_without_mpi4py_the_message_names_the_extra(case, monkeypatch, tmp_path):
    monkeypatch.setattr(decompose, "installed", lambda module: module != "mpi4py")
    result = _cli("solve", _three(case), "-o", tmp_path / "out", "--decompose")
    assert result.exit_code == 2
    assert "pip install 'siteopt[mpi]'" in result.stderr
    assert "mpi4py" in result.stderr and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()


def test_without_mpiexec_the_message_names_the_extra(case, monkeypatch, tmp_path):
    monkeypatch.setattr(decompose, "installed", lambda module: True)
    monkeypatch.setattr(decompose, "mpiexec", lambda: None)
    monkeypatch.setattr(decompose, "under_mpi", lambda: False)
    result = _cli("solve", _three(case), "-o", tmp_path / "out", "--decompose")
    assert result.exit_code == 2
    assert "mpiexec" in result.stderr and "siteopt[mpi]" in result.stderr


def test_ranks_come_in_threes(case, monkeypatch, tmp_path):
    monkeypatch.setattr(decompose, "installed", lambda module: True)
    monkeypatch.setattr(decompose, "mpiexec", lambda: "mpiexec")
    monkeypatch.setattr(decompose, "under_mpi", lambda: False)
    result = _cli("solve", _three(case), "-o", tmp_path / "out", "--decompose", "--ranks", "4")
    assert result.exit_code == 2
    assert "multiple of 3" in result.stderr


def test_decompose_needs_an_uncertainty_section(case, tmp_path):
    plain = case(campuses=[CAMPUS], offers=[OFFER], market=MARKET)
    result = _cli("solve", plain, "-o", tmp_path / "out", "--decompose")
    assert result.exit_code == 2
    assert "uncertainty section" in result.stderr


# -- the time limit holds within PH iterations -------------------------------------------


class _Data:
    solution_available = False
    outer_bound = 123.0  # a bound of an earlier solve (other prices)


class _Highs:
    def getRunTime(self) -> float:  # noqa: N802 (highspy's name)
        return 100.0  # HiGHS's clock of this scenario's earlier runs


class _Scenario:
    def __init__(self) -> None:
        self._mpisppy_data = _Data()
        self._solver_plugin = type("Plugin", (), {"_solver_model": _Highs()})()


class _Opt:
    """mpi-sppy's SPOpt as the mixin sees it: a solve loop over the local scenarios, each
    solve taking 10 s of the clock and finding a plan when `plans` says so."""

    is_minimizing = False

    def __init__(self, clock: list[float], deadline: float, plans) -> None:
        from siteopt.stochastic.time_budget import DEADLINE_KEY

        self.options = {DEADLINE_KEY: deadline}
        self.start_time = 0.0
        self.local_scenarios = {f"future_{i}": _Scenario() for i in range(3)}
        self.clock, self.plans, self.solves = clock, plans, []

    def solve_loop(self, solver_options=None, **kwargs):
        for k, s in self.local_scenarios.items():
            self.solve_one(solver_options, k, s, **kwargs)

    def solve_one(self, solver_options, k, s, **kwargs):
        self.solves.append((k, self.clock[0], dict(solver_options)))
        self.clock[0] += 10.0
        s._mpisppy_data.solution_available = self.plans(k, solver_options)
        return 10.0


def _timed(monkeypatch, deadline: float, plans, hub: bool = False, iteration: int = 0):
    from siteopt.stochastic import time_budget

    clock = [0.0]
    monkeypatch.setattr(time_budget, "_clock", lambda: clock[0])
    opt = time_budget.timed(_Opt, hub=hub)(clock, deadline, plans)
    opt._PHIter = iteration
    return opt


def test_each_subproblem_gets_its_share_of_the_time_left(monkeypatch):
    """Deadline at 60 s, three futures, each solve takes 10 s: 60/3 = 20 s, then 50/2 = 25 s,
    then 40/1 = 40 s — HiGHS's limit on top of its clock (100 s of earlier runs)."""
    opt = _timed(monkeypatch, 60.0, lambda k, o: True)
    opt.solve_loop({"mip_rel_gap": 0.01})
    limits = [options["time_limit"] for _, _, options in opt.solves]
    assert limits == pytest.approx([120.0, 125.0, 140.0])
    assert all(options["mip_rel_gap"] == 0.01 for _, _, options in opt.solves)


def test_past_the_deadline_a_spoke_skips_and_claims_no_bound(monkeypatch):
    """Deadline at 15 s: the first future is solved (15 s share), the second starts at 10 s
    (5 s left), the third at 20 s is skipped; a skipped or planless future's bound is +inf
    (maximising), never the stale 123 of other prices."""
    opt = _timed(monkeypatch, 15.0, lambda k, o: k == "future_0")
    opt.solve_loop({})
    assert [k for k, _, _ in opt.solves] == ["future_0", "future_1"]
    data = [s._mpisppy_data for s in opt.local_scenarios.values()]
    assert data[0].outer_bound == 123.0  # solved: mpi-sppy's own bound (the fake keeps it)
    assert data[1].outer_bound == data[2].outer_bound == float("inf")
    assert not data[2].solution_available


def test_the_hubs_iteration_0_solves_every_future_to_a_first_plan(monkeypatch):
    """PH's iteration 0 needs every future's plan: deadline at 5 s, the first future gets
    5/3 s, the others (past the deadline) the floor, and a future without a plan within
    its budget is run again to HiGHS's first feasible plan."""
    from siteopt.stochastic.time_budget import MIN_SOLVE_S

    first_plan_only = lambda k, o: o["mip_max_improving_sols"] == 1  # noqa: E731
    opt = _timed(monkeypatch, 5.0, first_plan_only, hub=True)
    opt.solve_loop({})
    assert [k for k, _, _ in opt.solves] == ["future_0", "future_0", "future_1", "future_1",
                                              "future_2", "future_2"]
    budgets = [o["time_limit"] - 100.0 for _, _, o in opt.solves[::2]]
    assert budgets == pytest.approx([5 / 3, MIN_SOLVE_S, MIN_SOLVE_S])
    assert all(o["time_limit"] == float("inf") for _, _, o in opt.solves[1::2])
    # in later iterations the hub skips past the deadline (it stops at its next check)
    later = _timed(monkeypatch, 5.0, lambda k, o: True, hub=True, iteration=3)
    later.solve_loop({})
    assert [k for k, _, _ in later.solves] == ["future_0"]


def test_stop_reasons():
    from siteopt.stochastic.time_budget import stop_reason

    assert stop_reason(0.8, 1.0, deadline=100, ended=150, iterations=3,
                       max_iterations=500) == "gap"
    assert stop_reason(2.0, 1.0, deadline=100, ended=101, iterations=3,
                       max_iterations=500) == "time_limit"
    assert stop_reason(2.0, 1.0, deadline=100, ended=50, iterations=500,
                       max_iterations=500) == "iterations"
    assert stop_reason(None, 1.0, deadline=100, ended=50, iterations=7,
                       max_iterations=500) == "stalled"


@needs_mpi
def test_a_run_stopped_by_its_time_limit_says_so_and_keeps_its_incumbent(case, tmp_path):
    """A target gap of 0, no stall, iteration or convergence stop (this case's PH copies
    agree within seconds): only the time limit (15 s, counted
    from the launch) ends the run. It ends (within 3 × the limit + a minute of startup on
    a shared machine: not a timing test), says why, and has an incumbent and a bound."""
    import time

    from siteopt.inputs import load_inputs

    scenario = _three(case)
    inputs = load_inputs(scenario)
    options = decompose.Decomposition(gap_pct=0.0, time_limit_s=15.0, max_iterations=10**6,
                                      max_stalled_iterations=10**6, convergence_threshold=-1.0)
    started = time.monotonic()
    found = decompose.incumbent(inputs, scenario, None, {}, options, quiet=True)
    assert time.monotonic() - started < 3 * 15.0 + 60.0
    assert found.stop_reason == "time_limit" and found.time_limit_s == 15.0
    assert found.first_stage is not None and found.inner_bound is not None
    assert found.outer_bound is not None and found.outer_bound >= found.inner_bound - 1e-9
    summary = decompose.solve_decomposed(inputs, found, measures=False).summary
    run = summary["stochastic"]["decomposition"]
    assert run["stop_reason"] == "time_limit" and run["time_limit_s"] == 15.0
    # 3 ranks: one per cylinder, so each holds all three futures; a Python with Pyomo and
    # mpi-sppy loaded is some 100 MB, these three small models far less than a GB
    assert found.futures_per_rank == 3 and run["futures_per_rank"] == 3
    assert 50 < run["rank_peak_mb"] < 1000
    assert "time limit reached" in summary["highs_status"]
    assert summary["objective_usd"] is not None and summary["best_bound_usd"] is not None


# -- the mining-only baseline, as the extensive form has it -------------------------------


@pytest.mark.parametrize("salvage, how", [(0, "future by future"),
                                          (300_000, "extensive form")])
def test_the_baseline_is_the_extensive_forms(case, salvage, how):
    """The decomposed run's mining-only baseline is the extensive form's, future by future:
    with only conversion decided now, conversion at 0 leaves the futures untied and each is
    solved alone; with miners that can be sold now (salvage), the MW sold stays one decision
    for all futures and they are solved together."""
    from siteopt.inputs import load_inputs
    from siteopt.stochastic.futures import future_inputs
    from siteopt.stochastic.run import solve_stochastic
    from siteopt.stochastic.scenario_model import ensemble

    scenario = case(campuses=[{**CAMPUS, "hpc_max_it_mw": 20,
                               "asic_salvage_usd_per_mw": salvage}],
                    offers=[{**OFFER, "rate_usd_per_kw_month": 130}], market=MARKET,
                    uncertainty=THREE_FUTURES)
    inputs = load_inputs(scenario)
    expected = [s["baseline_npv_usd"] for s in
                solve_stochastic(inputs, measures=False).summary["stochastic"]["scenarios"]]
    u = inputs.scenario.uncertainty
    ens = ensemble(future_inputs(inputs), u.commit_months, u.risk.cvar_alpha_pct,
                   u.risk.cvar_weight_pct)
    bases, solved_as = decompose.baselines(ens, inputs.scenario.solver)
    assert solved_as == how
    assert [b.summary["npv_usd"] for b in bases] == pytest.approx(expected, rel=1e-6)
