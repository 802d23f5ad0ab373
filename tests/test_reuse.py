"""Price-only variants are solved on the model already built, with the same answer."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import siteopt.api as api
from siteopt.api import solve_inputs
from siteopt.inputs import load_inputs
from siteopt.inputs.overrides import Override
from siteopt.model.reuse import reuse_key

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "base.yaml"
PRICE_ONLY = [Override("market.btc_price_usd", "set", 60000),
              Override("campuses.capex_usd_per_it_mw", "scale", 1.1),
              Override("offers.rate_usd_per_kw_month", "shift", -5),
              Override("finance.discount_rate_pct_per_year", "set", 12)]


def test_price_changes_keep_the_key_and_structure_changes_do_not():
    base = reuse_key(load_inputs(BASE))
    assert reuse_key(load_inputs(BASE, overrides=PRICE_ONLY)) == base
    for change in (Override("campuses.grid_mw", "scale", 1.1),
                   Override("offers.it_mw", "scale", 0.5, row="OF-F"),
                   Override("campuses.build_months", "shift", 1),
                   Override("limits.max_tenant_share_pct", "set", 50),
                   Override("market.hpc_spot_rate_usd_per_kw_month", "set", 100)):
        assert reuse_key(load_inputs(BASE, overrides=[change])) != base, change.label
    funded = load_inputs(ROOT / "scenarios" / "funded.yaml")
    assert reuse_key(funded) is None  # cash enters its constraints


def test_a_price_that_switches_the_block_start_reduction_changes_the_key():
    """Salvage is objective-only, but a salvage above capex ρ^(L−1) / PUE turns the block-start
    reduction off (siteopt/model/start_months.py), which changes the bounds: no reuse."""
    base = reuse_key(load_inputs(BASE))
    modest = Override("campuses.asic_salvage_usd_per_mw", "set", 250_000)
    assert reuse_key(load_inputs(BASE, overrides=[modest])) == base
    cheap_halls = Override("campuses.capex_usd_per_it_mw", "set", 1_000_000)
    assert reuse_key(load_inputs(BASE, overrides=[cheap_halls])) == base
    huge = Override("campuses.asic_salvage_usd_per_mw", "set", 5_000_000)
    assert reuse_key(load_inputs(BASE, overrides=[cheap_halls, huge])) != base


@pytest.fixture(scope="module")
def price_variant():
    """The base scenario solved, then its PRICE_ONLY variant three ways: warm (on the reused
    model, from base's plan), cold on the reused model, and cold on a fresh build — each
    solved once, read by the two tests below. Every solve is a new HiGHS on the compiled
    model, so what was solved before a cold solve cannot change its answer."""
    api.MODEL_CACHE.clear()
    api.LAST_PLANS.clear()
    solve_inputs(load_inputs(BASE), baseline=False)
    variant = load_inputs(BASE, overrides=PRICE_ONLY)
    warm = solve_inputs(variant, baseline=False)
    cold = api.with_solver_options(variant, warm_start=False)
    reused = solve_inputs(cold, baseline=False)
    api.MODEL_CACHE.clear()
    fresh = solve_inputs(cold, baseline=False)
    return variant, warm, reused, fresh


def test_reused_model_gives_what_a_fresh_build_gives(price_variant):
    """From scratch both times (no warm start: a start may find another plan within the
    gap), the reused model and a fresh build give the same plan, number for number."""
    _, _, reused, fresh = price_variant
    assert reused.summary["model_reused"] is True
    assert fresh.summary["model_reused"] is False
    assert reused.summary["npv_usd"] == pytest.approx(fresh.summary["npv_usd"], abs=0.01)
    assert reused.summary["audit"]["passed"]
    for name in ("campus_month", "leases", "company_month"):
        pd.testing.assert_frame_equal(getattr(reused, name), getattr(fresh, name))


def test_a_signing_month_is_structure_not_price():
    """A lease starts once signed, so a later signing month removes start months: the model
    differs and must not be reused (it was once listed as objective-only)."""
    base = reuse_key(load_inputs(BASE))
    later = Override("offers.signing_month", "set", "2029-06", row="OF-C")  # starts 2029-01
    assert reuse_key(load_inputs(BASE, overrides=[later])) != base


def test_the_model_cache_keeps_the_last_models_built():
    from siteopt.model.reuse import ModelCache

    cache = ModelCache(size=2)
    for key in ("a", "b", "c"):
        cache.put(key, key.upper())
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (None, "B", "C")
    cache.put(None, "never kept")
    assert len(cache) == 2 and cache.get(None) is None
    cache.drop("b")
    assert cache.get("b") is None and len(cache) == 1


def test_commitments_are_the_decisions_that_commit_the_company():
    from siteopt.model import commitments, prepare

    base = commitments(prepare(load_inputs(BASE)))
    assert {"blocks_started", "lease_accepted", "split_start", "split_blocks"} <= set(base)
    funded = commitments(prepare(load_inputs(ROOT / "scenarios" / "funded.yaml")))
    assert {"debt_draw", "btc_sold"} <= set(funded)


def test_a_price_variant_starts_from_the_last_plan_and_finds_the_same_optimum(price_variant):
    """A sweep's variants on one worker: the second solve starts from the first's plan
    (HiGHS keeps it as its first incumbent) and ends at the optimum a cold solve finds."""
    variant, warm, cold, _ = price_variant
    assert warm.summary["search"]["start_used"] is True
    assert cold.summary["search"]["start_used"] is False
    gap = variant.scenario.solver.mip_gap_pct / 100
    assert warm.summary["npv_usd"] == pytest.approx(cold.summary["npv_usd"], rel=gap)


def test_the_search_trace_ends_where_highs_stopped():
    """The callbacks are sampled; where HiGHS stopped (the gap that met the target) is always
    the trace's last point — funded once reported no time to 1 % although it ended at 0.43 %."""
    import highspy
    import numpy as np

    from siteopt.solve_trace import SolveTrace

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    rng = np.random.default_rng(3)
    weights, values = rng.integers(5, 60, 40), rng.integers(5, 60, 40)
    for value in values:
        h.addVar(0.0, 1.0)
        h.changeColCost(h.getNumCol() - 1, -float(value))
    h.changeColsIntegrality(40, np.arange(40, dtype=np.int32),
                            np.full(40, highspy.HighsVarType.kInteger))
    h.addRow(-highspy.kHighsInf, float(weights.sum() // 3), 40, np.arange(40, dtype=np.int32),
             weights.astype(float))
    trace = SolveTrace(every_s=1e9)  # no sampled ticks: only solutions and the end
    trace.attach(h)
    h.run()
    trace.finish(h)
    info, last = h.getInfo(), trace.points[-1]
    assert (last.primal, last.dual, last.nodes) == (
        info.objective_function_value, info.mip_dual_bound, info.mip_node_count)
    assert trace.seconds_to_gap(info.mip_gap * 100) is not None


def _integer_and_continuous():
    """max 3x − 0.5y with x whole in [0, 5], y ≥ 2x, y ≤ 6 (so x ≤ 3): optimum x = 3, y = 6."""
    import pyomo.environ as pyo

    m = pyo.ConcreteModel()
    m.x = pyo.Var(domain=pyo.NonNegativeIntegers, bounds=(0, 5))
    m.y = pyo.Var(bounds=(0, 6))
    m.link = pyo.Constraint(expr=m.y >= 2 * m.x)
    m.obj = pyo.Objective(expr=3 * m.x - 0.5 * m.y, sense=pyo.maximize)
    return m


@pytest.mark.parametrize(("start_x", "start_y", "used"), [
    (3, 6, True),    # feasible: HiGHS's first plan is the start itself
    (2, 0, True),    # y breaks y ≥ 2x: HiGHS keeps x = 2 and re-solves y (repaired)
    (5, 0, False),   # no y fits x = 5: HiGHS drops the start and finds its own plan
])
def test_a_start_reads_used_when_highs_keeps_or_repairs_it(start_x, start_y, used):
    import numpy as np

    from siteopt.inputs.schema import Solver
    from siteopt.solve import compile_model, solve_compiled

    m = _integer_and_continuous()
    compiled = compile_model(m)
    start = np.array([start_x if v.name == "x" else start_y for v in compiled.columns], float)
    outcome = solve_compiled(m, compiled, Solver(mip_gap_pct=0.0), start=start)
    assert outcome.status == "optimal" and round(m.x.value) == 3
    assert outcome.start_used is used
