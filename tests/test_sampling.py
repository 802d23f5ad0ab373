"""Sampled futures (uncertainty.sample) and futures read as paths (uncertainty.paths).

The sampler's formulas (siteopt.stochastic.sampling): with Δ = 1/12 year, the BTC price's
monthly log-return around the scenario's path B is ln(B(m)/B(m−1)) − σ²Δ/2 + σ√Δ·Z, so over
n draws its mean is ln(1 + g)/12 − σ²/24 and its variance σ²/12 (g the annual growth); the
hashrate's shocks are ρZ + √(1−ρ²)Z'. Each check below compares a sample mean with its
formula within 4 standard errors (fails by chance about once in 16,000 runs; the seed is
fixed, so it either always passes or always fails).
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from cases import CAMPUS, MARKET, OFFER

from siteopt.api import solve_inputs
from siteopt.export.results_folder import load_results, write_results
from siteopt.inputs import load_inputs
from siteopt.inputs.errors import InputError
from siteopt.inputs.schema import Sample
from siteopt.stochastic import sampling
from siteopt.stochastic.futures import expected_value_inputs, future_inputs

RUNNING = {"offer_id": "R1", "signed": "true", "earliest_start": "2026-01",
           "latest_start": "2026-01", "campuses": "C1", "term_months": 60}


def _case(case, sample=None, **uncertainty):
    """One campus with a permit date, a 10 IT MW hall already leased to R1 (running since
    2026-01), and O1 open; 12 months of 2027."""
    unc = {"commit_months": 1, **uncertainty}
    if sample is not None:
        unc["sample"] = sample
    return case(campuses=[{**CAMPUS, "permit_ready": "2027-03", "hpc_ready_it_mw": 10}],
                offers=[{**OFFER}, {**OFFER, **RUNNING}], market=MARKET, uncertainty=unc)


def _within(mean, expected, sd, n):
    assert abs(mean - expected) <= 4 * sd / math.sqrt(n), (mean, expected, sd / math.sqrt(n))


def test_gbm_log_returns_have_the_formula_mean_and_variance():
    sigma, count, months = 0.55, 4000, 61
    sample = Sample(count=count, seed=11, btc_price={"vol_pct_per_year": 55},
                    network_hashrate={"vol_pct_per_year": 20, "correlation_with_btc": 0.6})
    btc, hashrate = sampling.market_factors(sample, months, sampling._streams(11))
    steps = np.diff(np.log(btc), axis=1).ravel()
    n = steps.size
    _within(steps.mean(), -sigma**2 / 24, sigma / math.sqrt(12), n)
    # the variance's standard error: sd of (x − μ)² is √2 σ² for a normal x
    _within(steps.var(), sigma**2 / 12, math.sqrt(2) * sigma**2 / 12, n)
    assert (btc[:, 0] == 1).all() and (hashrate[:, 0] == 1).all()
    # around the path: E[S(m)] = B(m), so the factor's mean at the last month is 1
    last = btc[:, -1]
    _within(last.mean(), 1.0, last.std(), count)
    h = np.diff(np.log(hashrate), axis=1).ravel()
    _within(h.var(), 0.2**2 / 12, math.sqrt(2) * 0.2**2 / 12, n)


@pytest.mark.parametrize("rho", [0.6, -0.4])
def test_hashrate_shocks_follow_the_btc_price_with_the_correlation(rho):
    sample = Sample(count=2000, seed=3, btc_price={"vol_pct_per_year": 55},
                    network_hashrate={"vol_pct_per_year": 20, "correlation_with_btc": rho})
    btc, hashrate = sampling.market_factors(sample, 25, sampling._streams(3))
    r = np.corrcoef(np.diff(np.log(btc), axis=1).ravel(),
                    np.diff(np.log(hashrate), axis=1).ravel())[0, 1]
    assert np.sign(r) == np.sign(rho)
    assert abs(r - rho) < 4 * (1 - rho**2) / math.sqrt(2000 * 24)


def test_the_same_seed_gives_the_same_futures_and_another_seed_others(case):
    sample = {"count": 5, "seed": 7, "btc_price": {"vol_pct_per_year": 55},
              "permit_slip_months": {"C1": {0: 50, 3: 50}}, "offer_withdrawn_pct": {"O1": 50}}

    def markets(seed):
        futures = future_inputs(load_inputs(_case(case, {**sample, "seed": seed})))
        return [(f.name, f.changes, f.inputs.market["btc_price_usd"].tolist())
                for f in futures]

    assert markets(7) == markets(7)
    assert markets(7) != markets(8)
    # a fresh process (another worker) draws the same numbers
    path = _case(case, sample)
    code = ("import sys; from siteopt.inputs import load_inputs; "
            "from siteopt.stochastic.futures import future_inputs; "
            "f = future_inputs(load_inputs(sys.argv[1]))[4]; "
            "print(repr(f.inputs.market['btc_price_usd'].iloc[-1]))")
    out = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                         text=True, check=True).stdout.strip()
    here = future_inputs(load_inputs(path))[4].inputs.market["btc_price_usd"].iloc[-1]
    assert out == repr(here)


def test_a_new_distribution_leaves_the_btc_paths_as_they_were(case):
    """One stream per kind of uncertainty: adding permit slips does not move the prices."""
    plain = {"count": 4, "seed": 5, "btc_price": {"vol_pct_per_year": 40}}
    slips = {**plain, "permit_slip_months": {"C1": {0: 50, 6: 50}}}
    a, b = (future_inputs(load_inputs(_case(case, s))) for s in (plain, slips))
    assert [f.inputs.market["btc_price_usd"].tolist() for f in a] == \
        [f.inputs.market["btc_price_usd"].tolist() for f in b]


def test_slips_withdrawals_and_defaults_happen_as_often_as_given(case):
    count = 4000
    inputs = load_inputs(_case(case, {"count": 1}))
    sample = Sample(count=count, seed=1, permit_slip_months={"C1": {0: 50, 6: 30, 12: 20}},
                    offer_withdrawn_pct={"O1": 25}, tenant_default={"pct_per_year": 20})
    drawn = sampling.draws(inputs, sample, "uncertainty.sample")
    permit = pd.Series([next((c.value for c in d.changes if c.target ==
                              "campuses.permit_ready"), "2027-03") for d in drawn])
    for month, p in {"2027-03": 0.5, "2027-09": 0.3, "2028-03": 0.2}.items():
        _within((permit == month).mean(), p, math.sqrt(p * (1 - p)), count)
    withdrawn = np.mean([any(c.target == "offers.withdrawn" for c in d.changes)
                         for d in drawn])
    _within(withdrawn, 0.25, math.sqrt(0.25 * 0.75), count)
    # R1 (from 2026-01, 60 months) ends early when its tenant defaults in months 1..11
    terms = [next((c.value for c in d.changes if c.target == "offers.term_months"), None)
             for d in drawn]
    hazard = 1 - 0.8 ** (1 / 12)
    p = 1 - (1 - hazard) ** 11
    _within(np.mean([t is not None for t in terms]), p, math.sqrt(p * (1 - p)), count)
    assert {t for t in terms if t is not None} <= set(range(13, 24))  # 2027-02 .. 2027-12


def test_a_default_with_recovery_months_keeps_the_hall_empty_that_long(case):
    inputs = load_inputs(_case(case, {"count": 1}))
    sample = Sample(count=400, seed=3, tenant_default={"pct_per_year": 50, "recovery_months": 6})
    drawn = sampling.draws(inputs, sample, "uncertainty.sample")
    changes = [{c.target: c.value for c in d.changes} for d in drawn]
    defaulted = [c for c in changes if "offers.term_months" in c]
    assert 0 < len(defaulted) < len(changes)
    assert all(c.get("offers.vacant_months_after_end") == 6 for c in defaulted)
    assert not any("offers.vacant_months_after_end" in c for c in changes
                   if "offers.term_months" not in c)


def test_a_sampled_plan_writes_its_futures_and_they_read_back_as_paths(case, tmp_path):
    sample = {"count": 3, "seed": 2, "btc_price": {"vol_pct_per_year": 50},
              "network_hashrate": {"vol_pct_per_year": 10, "correlation_with_btc": 0.5},
              "tenant_default": {"pct_per_year": 50}}
    listed = [{"name": "flat", "probability_pct": 40, "set": {}}]
    inputs = load_inputs(_case(case, sample, scenarios=listed))
    results = solve_inputs(inputs)
    assert results.summary["status"] == "optimal"
    names = [s["name"] for s in results.summary["stochastic"]["scenarios"]]
    assert names == ["flat", "sample-1", "sample-2", "sample-3"]
    assert [s["probability_pct"] for s in results.summary["stochastic"]["scenarios"]] == \
        pytest.approx([40, 20, 20, 20])
    write_results(results, tmp_path / "out")
    futures = pd.read_csv(tmp_path / "out" / "futures.csv")
    assert list(futures.columns) == ["scenario", "month", "btc_price_usd",
                                     "network_hashrate_ehs"]
    assert len(futures) == 4 * 12
    assert "futures" in load_results(tmp_path / "out").extra
    # futures.csv given as uncertainty.paths gives the same markets
    folder = _case(case, None, paths="futures.csv").parent
    futures[futures["scenario"] != "flat"].to_csv(folder / "futures.csv", index=False)
    again = future_inputs(load_inputs(folder / "scenario.yaml"))
    for first, second in zip(future_inputs(inputs)[1:], again):
        assert first.name == second.name
        pd.testing.assert_frame_equal(first.inputs.market, second.inputs.market, rtol=1e-9)


def test_a_hall_kept_empty_after_a_default_never_raises_the_value(case):
    """The same futures (recovery_months draws nothing: the default months stay) planned
    with the defaulted hall re-let at once and kept empty 6 months: an empty hall only
    removes plans, so no future's NPV rises, and some future with a default loses."""
    npvs = {}
    for recovery in (0, 6):
        sample = {"count": 4, "seed": 2, "tenant_default": {"pct_per_year": 60,
                                                             "recovery_months": recovery}}
        results = solve_inputs(load_inputs(_case(case, sample)))
        assert results.summary["status"] == "optimal"
        assert results.summary["audit"]["passed"], results.summary["audit"]
        npvs[recovery] = [s["npv_usd"] for s in results.summary["stochastic"]["scenarios"]]
    assert all(empty <= at_once + 0.01 for empty, at_once in zip(npvs[6], npvs[0]))
    assert any(empty < at_once - 1.0 for empty, at_once in zip(npvs[6], npvs[0])), npvs


def test_the_expected_value_scenario_takes_the_mean_path(case):
    sample = {"count": 6, "seed": 4, "btc_price": {"vol_pct_per_year": 80}}
    inputs = load_inputs(_case(case, sample))
    futures = future_inputs(inputs)
    average = expected_value_inputs(inputs, futures)
    mean = np.mean([f.inputs.market["btc_price_usd"] for f in futures], axis=0)
    np.testing.assert_allclose(average.market["btc_price_usd"], mean, rtol=1e-12)
    assert average.market["btc_price_usd"].iloc[-1] != inputs.market["btc_price_usd"].iloc[-1]


@pytest.mark.parametrize("sample, where, message", [
    ({"count": 0}, "uncertainty.sample.count", "must be between 1 and 10,000 futures (got 0)"),
    ({"count": 2, "btc_price": {"model": "heston", "vol_pct_per_year": 5}},
     "uncertainty.sample.btc_price.model", "expected 'gbm' (got 'heston')"),
    ({"count": 2, "btc_price": {"vol_pct_per_year": 500}},
     "uncertainty.sample.btc_price.vol_pct_per_year", "must be between 0 and 300 %/yr"),
    ({"count": 2, "network_hashrate": {"vol_pct_per_year": 5, "correlation_with_btc": 2}},
     "uncertainty.sample.network_hashrate.correlation_with_btc", "between -1 and 1 (got 2)"),
    ({"count": 2, "permit_slip_months": {"C1": {0: 50, 6: 40}}},
     "uncertainty.sample.permit_slip_months.C1", "must add up to 100 (got 90)"),
    ({"count": 2, "permit_slip_months": {"C1": {"soon": 100}}},
     "uncertainty.sample.permit_slip_months.C1", "months late must be a whole number"),
    ({"count": 2, "permit_slip_months": {"C9": {0: 100}}},
     "uncertainty.sample.permit_slip_months.'C9'", "unknown campus (expected one of: C1)"),
    ({"count": 2, "offer_withdrawn_pct": {"O1": 101}},
     "uncertainty.sample.offer_withdrawn_pct.O1", "must be between 0 and 100 %"),
    ({"count": 2, "offer_withdrawn_pct": {"R1": 10}},
     "uncertainty.sample.offer_withdrawn_pct.R1", "a signed lease cannot be withdrawn"),
    ({"count": 2, "tenant_default": {"pct_per_year": 2, "recovery_months": 121}},
     "uncertainty.sample.tenant_default.recovery_months", "must be between 0 and 120"),
])
def test_every_sample_parameter_is_checked_where_it_is_given(case, sample, where, message):
    with pytest.raises(InputError) as err:
        future_inputs(load_inputs(_case(case, sample)))
    shown = [f"{p.where}: {p.message}" for p in err.value.problems]
    assert any(f"scenario.yaml: {where}: " in s and message in s for s in shown), shown


def test_listed_futures_leave_probability_for_the_sampled_ones(case):
    with pytest.raises(InputError) as err:
        load_inputs(_case(case, {"count": 2}, scenarios=[
            {"name": "a", "probability_pct": 100}]))
    assert "must add up to less than 100 with sample or paths" in str(err.value)


def test_bad_paths_files_are_refused_cell_by_cell_from_the_cli(case, tmp_path):
    folder = _case(case, None, paths="paths.csv").parent
    (folder / "paths.csv").write_text("scenario,month,btc_price_usd,hashrate\n"
                                      "up,2027-01,abc,\n"
                                      "a/b,2027-02,90000,\n"
                                      "late,2030-01,90000,\n")
    run = subprocess.run([sys.executable, "-m", "siteopt", "solve",
                          str(folder / "scenario.yaml"), "-o", str(tmp_path / "out")],
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr
    for text in ("paths.csv, column 'hashrate': unknown column",
                 "btc_price_usd: expected a number (got 'abc')",
                 "'a/b' cannot name a folder",
                 "future late: no month inside the horizon"):
        assert text in run.stderr, run.stderr


def test_a_flat_hashprice_refuses_a_sampled_price(case):
    path = case(campuses=[CAMPUS], offers=[OFFER],
                market={**MARKET, "hashprice_usd_per_ph_day": 50},
                uncertainty={"commit_months": 1, "sample": {
                    "count": 2, "btc_price": {"vol_pct_per_year": 50}}})
    with pytest.raises(InputError, match="uncertainty.sample.btc_price: market.hashprice_usd_"
                                         "per_ph_day fixes the hashprice"):
        future_inputs(load_inputs(path))
