"""Stochastic plans (uncertainty section): a hand-worked two-future case.

Numbers of tests/cases.py (hashprice 50 USD/PH/day at BTC 100,000: revenue 2,500 USD/MW-day,
power 1,500 USD/MW-day), one campus of 100 MW, one block of 10 IT MW (12.5 MW of facility
power at PUE 1.25) costing 3,000,000 USD and built in 6 months, 12 months of 2027 (365 days),
no discounting, nothing valued after the horizon. One offer, O1: 10 IT MW at 130 USD/kW-month
(1,300,000 USD a month), signed now (its signing month is the horizon's first), so taking it
is decided now; a lease from July (the block started in January) earns 6 × 1.3 M = 7.8 M for
3.0 M of capex: 4.8 M, and costs the 12.5 MW of mining the block displaces all year.

Futures, 50 % each: bear (BTC × 0.5: revenue 1,250 < power 1,500, mining stops: 0 a MW) and
bull (BTC × 1.5: margin 3,750 − 1,500 = 2,250 USD/MW-day). Mining's value is convex in the
price (it can be switched off), a lease's is not:

* bear, mining 0:                 decline 0;  take 4.8 M
* bull, 100 MW × 2,250 × 365 = 82.125 M; take: 82.125 − 12.5 × 2,250 × 365 (10.265625 M)
  + 4.8 = 76.659375 M
* average future (BTC 100,000, margin 1,000): decline 36.5 M; take 36.5 − 4.5625 + 4.8 =
  36.7375 M → the expected-value plan takes the lease.

Stochastic plan: take → E = ½(4.8 + 76.659375) = 40.7296875 M; decline → E = ½(0 + 82.125)
= 41.0625 M → it declines (keeps mining's optionality). VSS = 41.0625 − 40.7296875 =
0.3328125 M. Wait-and-see: bear takes (4.8), bull declines (82.125): 43.4625 M; EVPI =
43.4625 − 41.0625 = 2.4 M. With a CVaR weight of 100 % at α = 50 % the objective is the bear
NPV alone: taking (4.8 M) beats declining (0): the decision turns round.
"""

from __future__ import annotations

import json

import pytest
from cases import CAMPUS, MARKET, OFFER

from siteopt.api import expected_value_scenario, solve_inputs
from siteopt.export.results_folder import load_results, write_results
from siteopt.inputs import load_inputs

UNCERTAINTY = {"commit_months": 1, "scenarios": [
    {"name": "bear", "probability_pct": 50, "set": {"market.btc_price_usd": "*0.5"}},
    {"name": "bull", "probability_pct": 50, "set": {"market.btc_price_usd": "*1.5"}}]}
TWO_FUTURES = dict(campuses=[{**CAMPUS, "hpc_max_it_mw": 10}],
                   offers=[{**OFFER, "rate_usd_per_kw_month": 130}],
                   market=MARKET)


def _solve(case, **uncertainty):
    path = case(**TWO_FUTURES, uncertainty={**UNCERTAINTY, **uncertainty})
    return solve_inputs(load_inputs(path)), path


def _taken(results, future=None):
    leases = (results.futures[future] if future else results).leases
    return bool(leases["accepted"].astype(bool).any()) if len(leases) else False


def test_stochastic_plan_keeps_mining_optionality(case):
    results, _ = _solve(case)
    s = results.summary["stochastic"]
    assert results.summary["status"] == "optimal"
    assert not _taken(results, "bear") and not _taken(results, "bull")
    assert results.summary["npv_usd"] == pytest.approx(41_062_500, abs=0.01)
    assert s["expected_npv_usd"] == pytest.approx(41_062_500, abs=0.01)
    assert s["ev_plan_expected_npv_usd"] == pytest.approx(40_729_687.5, abs=0.01)
    assert s["vss_usd"] == pytest.approx(332_812.5, abs=0.01)
    assert s["wait_and_see_npv_usd"] == pytest.approx(43_462_500, abs=0.01)
    assert s["evpi_usd"] == pytest.approx(2_400_000, abs=0.01)
    npvs = {f["name"]: f["npv_usd"] for f in s["scenarios"]}
    assert npvs == pytest.approx({"bear": 0.0, "bull": 82_125_000}, abs=0.01)
    assert s["cvar_npv_usd"] == pytest.approx(0.0, abs=0.01)  # α 10 %: the bear future
    assert results.summary["audit"]["passed"]
    assert all(f.summary["audit"]["passed"] for f in results.futures.values())
    assert len(results.extra["here_and_now"]) == 0  # nothing built or signed now


def test_expected_value_scenario_takes_the_lease(case):
    path = case(**TWO_FUTURES, uncertainty=UNCERTAINTY)
    average = expected_value_scenario(load_inputs(path))
    assert average.scenario.uncertainty is None
    assert average.scenario.market.btc_price_usd == pytest.approx(100_000)
    results = solve_inputs(average)
    assert _taken(results)
    assert results.summary["npv_usd"] == pytest.approx(36_737_500, abs=0.01)


def test_full_cvar_weight_turns_the_decision_round(case):
    results, _ = _solve(case, risk={"cvar_alpha_pct": 50, "cvar_weight_pct": 100})
    s = results.summary["stochastic"]
    assert _taken(results, "bear") and _taken(results, "bull")
    here = results.extra["here_and_now"]
    assert set(here["kind"]) == {"lease_accepted", "blocks_started"}
    assert here.loc[here["kind"] == "lease_accepted", "month"].tolist() == ["2027-07"]
    assert s["cvar_npv_usd"] == pytest.approx(4_800_000, abs=0.01)
    assert s["objective_usd"] == pytest.approx(4_800_000, abs=0.01)
    # outside the tail, the bull future is still planned at its best
    npvs = {f["name"]: f["npv_usd"] for f in s["scenarios"]}
    assert npvs == pytest.approx({"bear": 4_800_000, "bull": 76_659_375}, abs=0.01)
    assert s["expected_npv_usd"] == pytest.approx(40_729_687.5, abs=0.01)


def test_written_folder_reconciles_and_reads_back(case, tmp_path):
    results, _ = _solve(case)
    out = tmp_path / "out"
    write_results(results, out, workbook=True)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["npv_usd"] == pytest.approx(41_062_500, abs=0.01)
    for name in ("bear", "bull"):
        assert (out / "scenarios" / name / "campus_month.csv").is_file()
    back = load_results(out)
    cm = back.company_month
    # the expected tables' discounted net cash is the expected NPV, to the cent
    assert float((cm["net_cash_usd"] * cm["discount_factor"]).sum()) == \
        pytest.approx(41_062_500, abs=0.01)
    assert set(back.futures) == {"bear", "bull"}
    assert set(back.extra["scenarios"]["scenario"]) == {"bear", "bull"}


# -- properties on generated small cases ------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

CENT = 0.01


def _futures(scales, weights):
    total = sum(weights)
    pct = [round(100 * w / total, 6) for w in weights]
    pct[-1] = round(100 - sum(pct[:-1]), 6)
    return [{"name": f"f{i}", "probability_pct": p,
             "set": {"market.btc_price_usd": f"*{s}"}} for i, (s, p) in
            enumerate(zip(scales, pct))]


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(scales=st.lists(st.sampled_from([0.4, 0.7, 1.0, 1.3, 1.8]), min_size=2, max_size=3),
       weights=st.lists(st.integers(1, 5), min_size=3, max_size=3),
       rate=st.sampled_from([110, 130, 160]), commit=st.sampled_from([1, 4, 12]))
def test_measures_keep_their_order(tmp_path_factory, scales, weights, rate, commit):
    """VSS ≥ 0, EVPI ≥ 0, E[baseline] ≤ E ≤ wait-and-see; the here-and-now decisions are
    the same in every written future; each future passes its audit."""
    from conftest import write_case

    folder = tmp_path_factory.mktemp("prop")
    path = write_case(folder, campuses=[{**CAMPUS, "hpc_max_it_mw": 20}],
                      offers=[{**OFFER, "rate_usd_per_kw_month": rate}], market=MARKET,
                      uncertainty={"commit_months": commit,
                                   "scenarios": _futures(scales, weights[: len(scales)])})
    results = solve_inputs(load_inputs(path))
    s = results.summary["stochastic"]
    assert results.summary["status"] == "optimal"
    assert s["vss_usd"] >= -CENT and s["evpi_usd"] >= -CENT
    assert s["expected_npv_usd"] <= s["wait_and_see_npv_usd"] + CENT
    assert results.summary["kpis"]["value_added_usd"] >= -CENT
    for f in s["scenarios"]:
        assert f["npv_usd"] <= f["wait_and_see_npv_usd"] + CENT
    plans = list(results.futures.values())
    assert all(p.summary["audit"]["passed"] for p in plans)
    early = [p.campus_month[p.campus_month["month"] < f"2027-{commit + 1:02d}"]
             ["blocks_started"].tolist() for p in plans]
    assert all(e == early[0] for e in early)
    signed = [sorted(map(tuple, p.leases.loc[p.leases["accepted"].astype(bool),
                                             ["offer_id", "campus_id", "start_month"]]
                         .values.tolist())) for p in plans]
    assert all(x == signed[0] for x in signed)  # O1 is signed now: the same everywhere


def test_one_future_is_the_deterministic_plan(case):
    """A single future of probability 100 % with no changes: the deterministic optimum."""
    plain = case(**TWO_FUTURES)
    one = case(**TWO_FUTURES, uncertainty={"commit_months": 6, "scenarios": [
        {"name": "only", "probability_pct": 100, "set": {}}]})
    deterministic = solve_inputs(load_inputs(plain))
    stochastic = solve_inputs(load_inputs(one))
    assert stochastic.summary["npv_usd"] == pytest.approx(deterministic.summary["npv_usd"],
                                                          abs=CENT)
    assert stochastic.summary["stochastic"]["evpi_usd"] == pytest.approx(0, abs=CENT)
    assert stochastic.summary["stochastic"]["vss_usd"] == pytest.approx(0, abs=CENT)
    only = stochastic.futures["only"]
    for column in ("mining_mw", "blocks_started", "it_ready_mw", "net_cash_usd"):
        assert only.campus_month[column].tolist() == pytest.approx(
            deterministic.campus_month[column].tolist(), abs=1e-6)


def test_a_withdrawn_offer_is_never_taken(case):
    """The offer exists only in the bull future; the lease it would be is worth taking
    there. Accepting it now means 'take it if the tenant signs'."""
    path = case(**TWO_FUTURES | {"offers": [{**OFFER, "rate_usd_per_kw_month": 400}]},
                uncertainty={"commit_months": 1, "scenarios": [
                    {"name": "gone", "probability_pct": 40,
                     "set": {"offers[O1].withdrawn": True}},
                    {"name": "here", "probability_pct": 60, "set": {}}]})
    results = solve_inputs(load_inputs(path))
    assert results.summary["status"] == "optimal"
    assert not _taken(results, "gone")
    assert _taken(results, "here")
    assert results.futures["gone"].summary["audit"]["passed"]


@pytest.mark.slow  # half a minute of the 2-core suite: `make test-all` solves it end to end
def test_the_shipped_uncertain_scenario_solves_from_the_cli(tmp_path):
    """scenarios/uncertain.yaml end to end: exit 0, the folder with every future, the
    Uncertainty sheet, here-and-now decisions identical in the written futures."""
    import subprocess
    import sys

    from conftest import ROOT
    from openpyxl import load_workbook

    out = tmp_path / "uncertain"
    done = subprocess.run([sys.executable, "-m", "siteopt", "solve",
                           str(ROOT / "scenarios" / "uncertain.yaml"), "-o", str(out),
                           "--json"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    s = summary["stochastic"]
    assert [f["name"] for f in s["scenarios"]] == ["bear", "base", "bull"]
    assert summary["npv_usd"] == pytest.approx(
        sum(f["probability_pct"] / 100 * f["npv_usd"] for f in s["scenarios"]), abs=0.01)
    assert s["cvar_npv_usd"] <= summary["npv_usd"] <= s["wait_and_see_npv_usd"] * 1.01
    assert summary["audit"]["passed"]
    back = load_results(out)
    cm = back.company_month
    assert float((cm["net_cash_usd"] * cm["discount_factor"]).sum()) == \
        pytest.approx(summary["npv_usd"], abs=0.01)
    first = {n: r.campus_month[r.campus_month["month"] < "2028-01"]
             [["campus_id", "month", "blocks_started"]].reset_index(drop=True)
             for n, r in back.futures.items()}
    assert all(f.equals(first["base"]) for f in first.values())
    assert "Uncertainty" in load_workbook(out / "plan.xlsx", read_only=True).sheetnames
    assert "Decided now" in done.stderr


def test_batch_and_compare_read_stochastic_results(case, tmp_path):
    """A stochastic scenario in a batch: its folder with the futures, its row in batch.csv
    (expected NPV), the comparison workbook with its CVaR, VSS and EVPI."""
    import subprocess
    import sys

    import pandas as pd
    from openpyxl import load_workbook

    stochastic = case(**TWO_FUTURES, uncertainty=UNCERTAINTY, name="two-futures")
    plain = case(**TWO_FUTURES, name="plain")
    out = tmp_path / "batch"
    done = subprocess.run([sys.executable, "-m", "siteopt", "batch", str(stochastic),
                           str(plain), "-o", str(out), "--workers", "1"],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(out / "batch.csv").set_index("scenario")
    assert rows.loc["two-futures", "npv_usd"] == pytest.approx(41_062_500, abs=0.01)
    assert (out / "two-futures" / "scenarios" / "bull" / "summary.json").is_file()
    ws = load_workbook(out / "comparison.xlsx", read_only=True).worksheets[0]
    text = [str(c) for row in ws.iter_rows(values_only=True) for c in row if c is not None]
    assert "Value of the stochastic solution" in text and "Value of perfect information" in text


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(scales=st.lists(st.sampled_from([0.4, 0.6, 1.0, 1.4, 2.0]), min_size=2, max_size=2),
       weight=st.integers(1, 9), rate=st.sampled_from([90, 120, 150, 200]))
def test_brute_force_over_the_decisions_taken_now(tmp_path_factory, scales, weight, rate):
    """Enumerate what can be decided now — decline O1, or sign it to start in month s
    (Aug–Dec) — and solve each future alone with that decision imposed through its inputs
    (declined: withdrawn; signed for s: signed with earliest = latest = s). The best
    probability-weighted total is the stochastic plan's expected NPV."""
    from conftest import write_case

    futures = [{"name": "a", "probability_pct": weight * 10,
                "set": {"market.btc_price_usd": f"*{scales[0]}"}},
               {"name": "b", "probability_pct": 100 - weight * 10,
                "set": {"market.btc_price_usd": f"*{scales[1]}"}}]
    offer = {**OFFER, "rate_usd_per_kw_month": rate, "earliest_start": "2027-08"}
    campus = {**CAMPUS, "hpc_max_it_mw": 10}
    folder = tmp_path_factory.mktemp("brute")
    path = write_case(folder / "stochastic", campuses=[campus], offers=[offer], market=MARKET,
                      uncertainty={"commit_months": 1, "scenarios": futures})
    stochastic = solve_inputs(load_inputs(path)).summary["stochastic"]["expected_npv_usd"]

    def alone(future, imposed):
        market = {**MARKET, "btc_price_usd": MARKET["btc_price_usd"] * float(
            future["set"]["market.btc_price_usd"][1:])}
        p = write_case(folder / f"{future['name']}-{len(list(folder.iterdir()))}",
                       campuses=[campus], offers=[{**offer, **imposed}], market=market)
        return solve_inputs(load_inputs(p), baseline=False).summary["npv_usd"]

    choices = [{"withdrawn": "true"}] + [
        {"signed": "true", "earliest_start": f"2027-{m:02d}", "latest_start": f"2027-{m:02d}"}
        for m in range(8, 13)]
    best = max(sum(f["probability_pct"] / 100 * alone(f, c) for f in futures)
               for c in choices)
    assert stochastic == pytest.approx(best, abs=CENT)


def test_a_stochastic_folder_is_not_replanned_as_one_plan(case, tmp_path):
    from click.testing import CliRunner

    from siteopt.cli import main

    results, path = _solve(case)
    out = tmp_path / "out"
    write_results(results, out, workbook=False)
    done = CliRunner().invoke(main, ["replan", str(out), "--from", "2027-04", "-o",
                                     str(tmp_path / "again")])
    assert done.exit_code == 1
    assert "holds a plan across several futures" in done.output
    assert not (tmp_path / "again").exists()


def test_formulation_page_names_the_stochastic_components(case):
    """Every variable, constraint and set a future's model gains is on the formulation page."""
    import pyomo.environ as pyo
    from conftest import ROOT

    from siteopt.model import build_model, prepare
    from siteopt.stochastic.futures import future_inputs
    from siteopt.stochastic.scenario_model import ensemble, extensive_form

    page = (ROOT / "docs" / "formulation.md").read_text(encoding="utf-8")
    path = case(**TWO_FUTURES, uncertainty={**UNCERTAINTY, "risk": {"cvar_weight_pct": 50}})
    inputs = load_inputs(path)
    futures = future_inputs(inputs)
    ef, built = extensive_form(ensemble(futures, 1, 10, 50))
    plain = build_model(prepare(futures[0].inputs)).model
    known = {c.local_name for c in plain.component_objects((pyo.Var, pyo.Constraint, pyo.Set))}
    added = {c.local_name for c in built[0].model.component_objects(
        (pyo.Var, pyo.Constraint, pyo.Set, pyo.Objective))} - known - {"npv"}
    added = {name for name in added if not name.endswith("_index")}  # Pyomo's own sets
    assert added >= {"here_and_now", "here_and_now_link", "value_at_risk_musd",
                     "shortfall_musd", "shortfall_below_var", "risk_adjusted_npv"}
    for name in sorted(added | {"expected_npv"}):
        assert f"`{name}`" in page or f"`{name.upper()}`" in page, name
