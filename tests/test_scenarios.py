"""Every scenario in scenarios/ solves, reconciles to the cent and holds every constraint."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from siteopt.api import solve_scenario
from siteopt.cli import main
from siteopt.inputs import load_inputs
from siteopt.results.audit import audit_plan
from siteopt.results.extract import LEASE_COLUMNS

ROOT = Path(__file__).resolve().parents[1]
# scenarios planned across futures are tested in test_stochastic (their tables are expected
# values, not one plan)
STOCHASTIC = {"uncertain", "sampled"}
SCENARIOS = sorted(p for p in (ROOT / "scenarios").glob("*.yaml") if p.stem not in STOCHASTIC)
# minutes to solve: `make test-all` only (the finance families have hand-worked cases in
# test_funding, and the benchmark's funded variant)
SLOW = {"funded"}
EVERYDAY = [p.stem for p in SCENARIOS if p.stem not in SLOW]


class Solved(dict):
    """Each shipped scenario solved once, when a test first asks for it; base is the
    session's (conftest.base_plan: solved the same way, solve_inputs of load_inputs)."""

    def __missing__(self, name: str):
        self[name] = solve_scenario(ROOT / "scenarios" / f"{name}.yaml")
        return self[name]


@pytest.fixture(scope="module")
def solved(base_plan):
    return Solved(base=base_plan[0])


def test_every_scenario_is_found():
    assert {"base", "bear-btc", "bull-btc", "permit-delays", "no-new-leases", "spec-build",
            "funded", "exit-multiple"} <= {p.stem for p in SCENARIOS}


@pytest.mark.parametrize("path", [pytest.param(p, marks=[pytest.mark.slow] if p.stem in SLOW
                                               else []) for p in SCENARIOS],
                         ids=lambda p: p.stem)
def test_scenario_solves_and_reconciles(path, solved):
    results = solved[path.stem]
    summary = results.summary
    assert summary["status"] == "optimal"
    co = results.company_month
    discounted = (co["net_cash_usd"] * co["discount_factor"]).sum()
    assert discounted == pytest.approx(summary["npv_usd"], abs=0.005)
    # Campus cash plus the company's financing and valuation lines is the same NPV.
    cm = results.campus_month
    company_only = co["financing_cash_usd"] + co["valuation_usd"]
    assert (cm["net_cash_usd"] * cm["discount_factor"]).sum() + (
        company_only * co["discount_factor"]).sum() == pytest.approx(summary["npv_usd"],
                                                                       abs=0.01)
    # The solver's own objective agrees with the cash tables (scaled model, so 1e-6 relative).
    assert summary["objective_usd"] == pytest.approx(summary["npv_usd"], rel=1e-6)
    assert summary["audit"] == {"passed": True, "violations": []}
    assert audit_plan(load_inputs(path), cm, results.leases, co, summary["npv_usd"]) == []
    kpis = summary["kpis"]
    assert kpis["value_added_usd"] == pytest.approx(
        summary["npv_usd"] - summary["baseline"]["npv_usd"], abs=0.01)


def test_signed_lease_is_delivered_in_every_scenario(solved):
    for name in dict.fromkeys([*EVERYDAY, *solved]):  # funded too when test-all solved it
        results = solved[name]
        signed = results.leases[results.leases["signed"]]
        assert signed["accepted"].all(), name


def test_market_scenarios_order_npv(solved):
    """A richer BTC market never lowers NPV; fewer offers or later permits never raise it."""
    npv = {name: r.summary["npv_usd"] for name, r in solved.items()}
    assert npv["bear-btc"] <= npv["base"] <= npv["bull-btc"]
    assert npv["permit-delays"] <= npv["base"]
    assert npv["base"] <= npv["spec-build"]  # a spot market only adds options


def test_audit_catches_a_tampered_plan(solved):
    """The audit is not a tautology: bend one number and it complains."""
    results = solved["base"]
    inputs = load_inputs(ROOT / "scenarios" / "base.yaml")
    cm = results.campus_month.copy()
    row = cm.index[(cm["mining_mw"] > 1)][0]
    cm.loc[row, "mining_mw"] += 1.0
    co = results.company_month
    violations = audit_plan(inputs, cm, results.leases, co, results.summary["npv_usd"])
    assert any("mining_revenue_usd USD differs" in v for v in violations)
    co2 = co.copy()
    co2.loc[3, "net_cash_usd"] += 0.02
    assert any("Σ company net_cash" in v for v in audit_plan(
        inputs, results.campus_month, results.leases, co2, results.summary["npv_usd"]))


def test_cli_solve_writes_reconciling_files(tmp_path):
    outdir = tmp_path / "base"
    result = CliRunner().invoke(main, ["solve", str(ROOT / "scenarios" / "base.yaml"),
                                       "-o", str(outdir), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["status"] == "optimal"
    for name in ("summary.json", "campus_month.csv", "leases.csv", "company_month.csv",
                 "kpis.csv", "plan.xlsx"):
        assert (outdir / name).is_file(), name
    assert json.loads((outdir / "summary.json").read_text()) == summary
    cm = pd.read_csv(outdir / "campus_month.csv")
    co = pd.read_csv(outdir / "company_month.csv")
    assert (co["net_cash_usd"] * co["discount_factor"]).sum() == pytest.approx(
        summary["npv_usd"], abs=0.005)
    leases = pd.read_csv(outdir / "leases.csv")
    assert list(leases.columns) == LEASE_COLUMNS
    inputs = load_inputs(ROOT / "scenarios" / "base.yaml")
    leases["campus_id"] = leases["campus_id"].astype(object).where(leases["accepted"], None)
    assert audit_plan(inputs, cm, leases, co, summary["npv_usd"]) == []
