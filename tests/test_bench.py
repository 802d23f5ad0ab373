"""Benchmark plumbing: the synthetic portfolios and `siteopt bench` end to end. No timing
assertions: speed is measured by the benchmark itself, never by tests."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from siteopt.api import solve_inputs
from siteopt.cli import main
from siteopt.inputs import load_inputs
from siteopt.model import prepare
from siteopt.results.diagnose import undeliverable_signed_leases
from siteopt.runs import bench
from siteopt.runs.bench import synthetic

ROOT = Path(__file__).resolve().parents[1]


def test_generator_is_deterministic_for_a_seed():
    first, again, other = bench.generate("M", 7), bench.generate("M", 7), bench.generate("M", 8)

    assert (first.campuses, first.offers, first.phases, first.scenario) == \
        (again.campuses, again.offers, again.phases, again.scenario)
    assert first.offers != other.offers


@pytest.mark.parametrize("size", list(bench.SIZES))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_portfolios_pass_validation_with_deliverable_signed_leases(tmp_path, size,
                                                                             seed):
    spec = bench.SIZES[size]
    synthetic = bench.generate(size, seed)
    inputs = load_inputs(bench.write_synthetic(synthetic, tmp_path))

    assert (len(inputs.campuses), inputs.scenario.horizon.months, len(inputs.offers)) == \
        (spec.campuses, spec.months, spec.offers)
    assert not inputs.warnings
    assert bench.undeliverable_signed(synthetic) == []
    assert undeliverable_signed_leases(prepare(inputs)) == []
    signed = inputs.offers[inputs.offers["signed"]]
    assert len(signed) == max(1, round(0.1 * spec.offers))
    # every signed lease: some eligible campus with permit + build <= latest_start and room
    c = inputs.campuses
    for offer_id, offer in signed.iterrows():
        ok = [cid for cid in offer["campuses"] if c.at[cid, "hpc_max_it_mw"] >= offer["it_mw"]
              and bench.ready_month({"permit_ready": c.at[cid, "permit_ready"] or "",
                                     "build_months": c.at[cid, "build_months"]})
              <= bench.month_offset(offer["latest_start"])]
        assert ok, offer_id


@pytest.mark.parametrize("size", list(bench.SIZES))
def test_generated_values_stay_in_realistic_ranges(size):
    synthetic = bench.generate(size, 1)
    campuses, offers = synthetic.campuses, synthetic.offers

    assert all(20 <= c["grid_mw"] <= 350 for c in campuses)
    assert all(30 <= c["power_price_usd_per_mwh"] <= 70 for c in campuses)
    assert all(15 <= c["fleet_efficiency_j_per_th"] <= 30 for c in campuses)
    assert all(8e6 <= c["capex_usd_per_it_mw"] <= 11e6 for c in campuses)
    assert all(8 <= c["build_months"] <= 24 for c in campuses)
    assert all(1.2 <= c["hpc_pue"] <= 1.45 for c in campuses)
    assert all(c["hpc_max_it_mw"] * c["hpc_pue"] <= c["grid_mw"] for c in campuses)
    for c in campuses:
        if c["permit_ready"]:
            assert 6 <= bench.month_offset(c["permit_ready"]) <= 36
    assert all(120 <= o["rate_usd_per_kw_month"] <= 190 for o in offers)
    assert all(120 <= o["term_months"] <= 180 for o in offers)
    assert all(2 <= o["escalator_pct_per_year"] <= 3 for o in offers)
    assert all(o["it_mw"] <= 250 for o in offers)
    assert all(o["it_mw"] >= 25 for o in offers if o["split"] == "false")
    for o in offers:
        width = bench.month_offset(o["latest_start"]) - bench.month_offset(o["earliest_start"])
        assert width <= 18
        assert width >= 6 or o["signed"] == "true"  # a signed window may be cut at the start
        assert 1 <= len(o["campuses"].split(";")) <= 4


@pytest.mark.parametrize("size", ["L", "XL"])
def test_caps_leave_the_signed_leases_feasible(size):
    synthetic = bench.generate(size, 2)
    limits = synthetic.scenario["limits"]
    signed = [o for o in synthetic.offers if o["signed"] == "true"]
    total = sum(o["it_mw"] for o in signed)

    assert limits["max_tenant_share_pct"] == 40
    assert len({o["tenant"] for o in signed}) == len(signed)
    assert all(o["it_mw"] <= 0.4 * total for o in signed)
    assert limits["max_it_mw_started_per_year"] >= total
    assert set(synthetic.hosts) == {o["offer_id"] for o in signed}
    assert len(set(synthetic.hosts.values())) == len(signed)  # one campus per signed lease


def test_market_is_the_base_scenario_market():
    base = yaml.safe_load((ROOT / "scenarios" / "base.yaml").read_text(encoding="utf-8"))

    assert base["market"] == bench.BASE_MARKET
    assert base["finance"] == bench.BASE_FINANCE
    funded = yaml.safe_load((ROOT / "scenarios" / "funded.yaml").read_text(encoding="utf-8"))
    assert funded["finance"] == synthetic.FUNDED_FINANCE


def test_the_funded_variant_scales_the_funded_finance_to_the_portfolio(tmp_path):
    """A portfolio with k times the example's IT MW potential gets k times its cash, floor,
    treasury and budget, the same debt terms, and solves with the finance start."""
    portfolio = bench.generate("S", 1)
    scale = sum(c["hpc_max_it_mw"] for c in portfolio.campuses) / \
        synthetic.EXAMPLE_HPC_MAX_IT_MW
    funded = synthetic.with_variant(portfolio, "funded")
    finance = funded.scenario["finance"]
    assert finance["opening_cash_usd"] == pytest.approx(400e6 * scale, abs=5e5)
    assert finance["capex_budget_usd_per_year"] == pytest.approx(2.5e9 * scale, abs=5e5)
    assert finance["btc_treasury_btc"] == round(1500 * scale)
    assert finance["debt"] == synthetic.FUNDED_FINANCE["debt"]
    assert portfolio.scenario["finance"] == bench.BASE_FINANCE  # the plan variant unchanged
    results = solve_inputs(load_inputs(bench.write_synthetic(funded, tmp_path)), baseline=False)
    assert results.summary["status"] in ("optimal", "feasible")
    assert results.summary["audit"]["passed"]
    assert "finance_start" in results.summary["search"]


def test_batch_scenarios_are_base_with_the_btc_price_moved(tmp_path):
    files = bench.batch_scenarios(tmp_path, 16)
    prices = [load_inputs(f).scenario.market.btc_price_usd for f in files]

    assert len(files) == 16 and len(set(prices)) == 16
    assert min(prices) == pytest.approx(81000) and max(prices) == pytest.approx(99000)


def test_bench_command_runs_end_to_end(tmp_path):
    output = tmp_path / "bench.csv"
    result = CliRunner().invoke(main, ["bench", "--sizes", "S", "--seeds", "1", "--batch", "0",
                                       "--no-workbook", "-o", str(output)])

    assert result.exit_code == 0, result.output
    with output.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == bench.RUN_COLUMNS
    assert len(rows) == 1
    row = rows[0]
    assert row["status"] in ("optimal", "feasible"), row["error"]
    assert (row["campuses"], row["months"], row["offers"]) == ("5", "60", "5")
    for column in ("build_s", "highs_s", "extract_s", "write_s", "total_s", "peak_mb",
                   "variables", "constraints", "integers"):
        assert float(row[column]) > 0, column
    assert "siteopt bench" in result.stdout


def test_bench_refuses_an_unknown_size():
    result = CliRunner().invoke(main, ["bench", "--sizes", "S,XXL", "--batch", "0"])

    assert result.exit_code == 2
    assert "XXL" in result.output


def test_a_signed_lease_no_campus_can_deliver_is_found_by_siteopts_precheck():
    synthetic = bench.generate("S", 1)
    signed = next(o for o in synthetic.offers if o["signed"] == "true")
    for campus in synthetic.campuses:  # no campus can be permitted before the horizon ends
        campus["permit_ready"] = "2040-01"

    (problem,) = bench.undeliverable_signed(synthetic)
    assert problem.startswith(f"Signed lease {signed['offer_id']} needs")


def test_one_run_times_the_api_stages_without_patching_the_api(tmp_path):
    import siteopt.api as api

    names = dict(vars(api))
    scenario = bench.write_synthetic(bench.generate("S", 1), tmp_path / "in", time_limit_s=60)
    row = bench.run_one(scenario, tmp_path / "out", workbook=False)

    assert dict(vars(api)) == names
    assert row["status"] in ("optimal", "feasible")
    for column in ("prepare_s", "build_model_s", "compile_s", "audit_s"):
        assert row[column] is not None and row[column] >= 0, column
    assert row["prepare_s"] + row["build_model_s"] + row["compile_s"] <= row["build_s"]


def test_bench_compares_candidates_side_by_side(tmp_path):
    output = tmp_path / "bench.csv"
    result = CliRunner().invoke(main, ["bench", "--sizes", "S", "--seeds", "1", "--batch", "0",
                                       "--no-workbook", "--variants", "funded", "--compare",
                                       "finance_start=true,false", "-o", str(output)])
    assert result.exit_code == 0, result.output
    with output.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [(r["variant"], r["candidate"]) for r in rows] == [
        ("funded", "finance_start=true"), ("funded", "finance_start=false")]
    assert all(r["status"] in ("optimal", "feasible") for r in rows)
    # the start's own solve is timed apart, inside build_s, and only where it runs
    with_start, without = rows
    parts = ("prepare_s", "build_model_s", "compile_s", "finance_start_s")
    assert float(with_start["finance_start_s"]) > 0 and without["finance_start_s"] == ""
    assert sum(float(with_start[p]) for p in parts) <= float(with_start["build_s"]) + 1e-6
    assert "of it finance start s" in result.output
    assert "S funded: total_s of finance_start=false / finance_start=true = " in result.output
    assert "S funded finance_start=false" in result.output  # its own column


@pytest.mark.parametrize("args, expected", [
    (["--variants", "levered"], "choose from plan, funded"),
    (["--compare", "speed=1,2"], "KEY one of mip_gap_pct"),
])
def test_bench_refuses_unknown_variants_and_keys(args, expected):
    result = CliRunner().invoke(main, ["bench", "--sizes", "S", "--batch", "0", *args])
    assert result.exit_code == 2 and expected in result.output
