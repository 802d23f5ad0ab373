"""Block-start reduction (siteopt/model/start_months.py): which months stay open, when it is
switched off, and that it never changes the optimum.

Hand-worked months use the conftest defaults, not the tests/cases.py numbers: horizon from
2027-01 (24 months unless a test says otherwise), campus C1 with blocks of 10 IT MW, build
6 months, capex 10 M USD/IT MW (300,000 where a test says so), PUE 1.25; OFFER below is this
file's own O1, which may start in 2027-09 or 2027-10 (months 8 and 9).
"""

from __future__ import annotations

import pytest
from cases import ramp

from siteopt.api import solve_plan
from siteopt.inputs import load_inputs
from siteopt.model import conversion, prepare
from siteopt.model.start_months import allowed_block_starts
from siteopt.runs import bench

OFFER = {"offer_id": "O1", "earliest_start": "2027-09", "latest_start": "2027-10"}


def allowed(case, **kwargs):
    kwargs.setdefault("offers", [OFFER])
    kwargs.setdefault("horizon", {"start": "2027-01", "months": 24})
    return allowed_block_starts(prepare(load_inputs(case(**kwargs))))


def test_blocks_start_build_months_before_a_possible_delivery(case):
    """Starts 2027-09 (month 8) or 2027-10 (9), build 6 → blocks may start in months 2 and 3."""
    assert allowed(case) == {"C1": frozenset({2, 3})}


def test_every_phase_delivery_opens_a_start_month(case):
    """Phases at 0 and 3 months after a start in month 8 or 9 → deliveries 8, 9, 11, 12 →
    starts 2, 3, 5, 6. A campus the offer cannot use gets no start month at all."""
    phases = ramp({0: 10, 3: 10})
    got = allowed(case, campuses=[{}, {"campus_id": "C2"}],
                  offers=[{**OFFER, "it_mw": 20, "campuses": "C1"}], phases=phases)
    assert got == {"C1": frozenset({2, 3, 5, 6}), "C2": frozenset()}


def test_a_phase_due_after_the_horizon_needs_capacity_by_its_last_month(case):
    """Horizon of 10 months: a delivery due in month 12 counts in month 9 → start 3."""
    phases = ramp({0: 10, 4: 10})
    got = allowed(case, offers=[{**OFFER, "it_mw": 20, "latest_start": "2027-09"}],
                  phases=phases, horizon={"start": "2027-01", "months": 10})
    assert got == {"C1": frozenset({2, 3})}  # delivery 8 → 2; 12 → counted in 9 → 3


def test_yearly_caps_keep_every_december_open(case):
    """With a cap per calendar year a block may also start in December (months 11 and 23), the
    last month of its cap year."""
    got = allowed(case, limits={"max_it_mw_started_per_year": 20})
    assert got == {"C1": frozenset({2, 3, 11, 23})}
    got = allowed(case, campuses=[{"region": "PJM"}],
                  limits={"max_it_mw_started_per_year_by_region": {"PJM": 20}})
    assert got == {"C1": frozenset({2, 3, 11, 23})}


@pytest.mark.parametrize("settings", [
    {"market": {"hpc_spot_rate_usd_per_kw_month": 100, "hpc_spot_share_pct": 50}},
    {"finance": {"capex_budget_usd_per_year": 500_000_000}},
    {"finance": {"debt": {"max_ltc_pct": 50, "rate_pct_per_year": 8, "tenor_months": 60}}},
], ids=["spot market", "capex budget", "project debt"])
def test_no_reduction_when_capex_timing_matters_beyond_npv(case, settings):
    assert allowed(case, **settings) is None


def test_a_cash_floor_keeps_the_reduction_while_capex_covers_delayed_salvage(case):
    """Cash floor: a delayed block must not leave any month with less cash. Build 6 months,
    capex 300,000 per IT MW → 50,000 a month per IT MW of capex not yet paid against the
    sale of the displaced miners, which waits: PUE 1.25 × s. s = 40,000 → 50,000 (holds);
    s = 40,001 → 50,001.25 (does not)."""
    campus = {"capex_usd_per_it_mw": 300_000}
    finance = {"finance": {"opening_cash_usd": 100_000_000, "min_cash_usd": 10_000_000}}
    assert allowed(case, **finance) is not None
    assert allowed(case, campuses=[{**campus, "asic_salvage_usd_per_mw": 40_000}],
                   **finance) is not None
    assert allowed(case, campuses=[{**campus, "asic_salvage_usd_per_mw": 40_001}],
                   **finance) is None


def test_no_reduction_when_selling_miners_early_could_beat_delaying_capex(case):
    """Discount 0: the reduction needs capex ≥ PUE × salvage per MW, 300,000 ≥ 1.25 × s.
    s = 240,000 → 300,000 (holds); s = 240,001 → 300,001.25 (does not)."""
    campus = {"capex_usd_per_it_mw": 300_000}
    assert allowed(case, campuses=[{**campus, "asic_salvage_usd_per_mw": 240_000}]) is not None
    assert allowed(case, campuses=[{**campus, "asic_salvage_usd_per_mw": 240_001}]) is None


def test_discounting_is_counted_in_the_salvage_test(case):
    """10 %/yr: ρ^(L−1) = 1.1^(−5/12) = 0.961068…; capex 300,000 → 288,320.5 ≥ 1.25 × s
    holds for s = 230,000 (287,500) and fails for s = 231,000 (288,750)."""
    campus = {"capex_usd_per_it_mw": 300_000}
    finance = {"finance": {"discount_rate_pct_per_year": 10}}
    assert allowed(case, campuses=[{**campus, "asic_salvage_usd_per_mw": 230_000}],
                   **finance) is not None
    assert allowed(case, campuses=[{**campus, "asic_salvage_usd_per_mw": 231_000}],
                   **finance) is None


def test_the_reduced_model_leaves_unused_months_closed(case):
    """Block start bounds are 0 outside months 2 and 3; with capex of 3 M USD per block, rent
    of 1.5 M USD/month against ≈ 0.4 M USD/month of mining lost, the plan starts in month 2
    (2027-03) to lease from 2027-09."""
    from siteopt.api import solve_scenario
    from siteopt.model import build_model

    path = case(campuses=[{"capex_usd_per_it_mw": 300_000}], offers=[OFFER],
                horizon={"start": "2027-01", "months": 24})
    m = build_model(prepare(load_inputs(path))).model
    open_months = [t for (c, t), v in m.blocks_started.items() if v.ub > 0]
    assert open_months == [2, 3]
    cm = solve_scenario(path).campus_month
    assert cm[cm["blocks_started"] > 0]["month"].tolist() == ["2027-03"]


@pytest.mark.parametrize("size,seed,limits,finance", [
    ("S", 1, {}, {}), ("S", 2, {}, {}), ("S", 3, {}, {}),
    ("S", 1, {"max_it_mw_started_per_year": 60}, {}),
    ("S", 3, {"max_it_mw_started_per_year": 50}, {}),
    ("S", 2, {"max_tenant_share_pct": 80}, {}),
    # a cash floor that binds: the opening cash cannot fund every hall at once
    ("S", 1, {}, {"opening_cash_usd": 400_000_000, "min_cash_usd": 20_000_000,
                  "btc_treasury_btc": 300}),
    ("S", 2, {}, {"opening_cash_usd": 1_000_000_000, "min_cash_usd": 20_000_000}),
])
def test_optimum_is_the_same_with_and_without_the_reduction(tmp_path, monkeypatch, size, seed,
                                                            limits, finance):
    """Synthetic portfolios with realistic numbers (salvage, phases, signed and split leases,
    permits, 60 months) solved to optimality both ways give the same NPV."""
    synthetic = bench.generate(size, seed)
    synthetic.scenario.setdefault("limits", {}).update(limits)
    synthetic.scenario.setdefault("finance", {}).update(finance)
    path = bench.write_synthetic(synthetic, tmp_path, mip_gap_pct=0, time_limit_s=300)
    inputs = load_inputs(path)
    assert allowed_block_starts(prepare(inputs)) is not None
    reduced = solve_plan(inputs).summary
    monkeypatch.setattr(conversion, "allowed_block_starts", lambda data: None)
    full = solve_plan(inputs).summary
    assert reduced["status"] == full["status"] == "optimal"
    assert reduced["npv_usd"] == pytest.approx(full["npv_usd"], rel=1e-9, abs=0.01)
