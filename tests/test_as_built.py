"""Where the company stands at the horizon start: ready halls, halls under construction and
leases already running. Each optimum is worked out by hand from the numbers of tests/cases.py:

* mining margin 1,000 USD/MW-day over 365 days: each MW mined all year is worth 365,000 USD
  (100 MW of grid);
* PUE 1.25: 10 IT MW take 12.5 MW of grid, 20 IT MW take 25 MW;
* O1: 10 IT MW at 150 USD/kW-month = 1,500,000 USD a month, term 120 months;
* horizon 12 months from 2027-01, discount 0 %, value_beyond_horizon off, gap 0.
"""

from __future__ import annotations

import pytest
from cases import column, lease, npv, solve

from siteopt.api import solve_scenario
from siteopt.inputs import load_inputs
from siteopt.inputs.errors import InputError

RUNNING = {"signed": "true", "earliest_start": "2026-07", "latest_start": "2026-07",
           "campuses": "C1", "term_months": 24}


def kpi(results, name):
    return results.summary["kpis"][name]


# -- campuses.hpc_ready_it_mw ------------------------------------------------------------------


def test_ready_halls_take_power_from_month_0_and_need_no_capex(case):
    """10 IT MW ready, no offer: the hall takes 12.5 MW of grid all year and nothing is built.

    mining 87.5 MW × 365,000 = 31,937,500; HPC opex 20,000 USD/IT MW-month × 10 × 12 =
    2,400,000 → NPV 29,537,500.
    """
    r = solve(case, campuses=[{"hpc_ready_it_mw": 10, "hpc_opex_usd_per_it_mw_month": 20_000}])
    assert npv(r) == pytest.approx(29_537_500.00, abs=0.01)
    assert column(r, "mining_mw") == [87.5] * 12
    assert column(r, "it_ready_mw") == [10.0] * 12
    assert column(r, "capex_usd") == [0.0] * 12
    assert column(r, "hpc_opex_usd") == pytest.approx([200_000.0] * 12, abs=0.01)
    assert kpi(r, "baseline_npv_usd") == pytest.approx(29_537_500.00, abs=0.01)


def test_a_new_offer_starts_in_month_0_on_a_ready_hall(case):
    """O1 (any start in 2027) on the 10 ready IT MW: start in January, no block.

    31,937,500 mining + 12 × 1,500,000 rent = 49,937,500; the baseline (no conversion) keeps
    the ready hall and its power: 31,937,500.
    """
    r = solve(case, campuses=[{"hpc_ready_it_mw": 10}], offers=[{}])
    assert npv(r) == pytest.approx(49_937_500.00, abs=0.01)
    assert lease(r) == (True, "C1", "2027-01")
    assert column(r, "blocks_started") == [0.0] * 12
    assert column(r, "capex_usd") == [0.0] * 12
    assert kpi(r, "baseline_npv_usd") == pytest.approx(31_937_500.00, abs=0.01)


def test_ready_mw_count_toward_the_campus_maximum(case):
    """40 IT MW ready and let (running O1, 40 MW) under hpc_max_it_mw 50: only one 10 MW block
    can still be built, so O2 (20 MW at a very profitable 500 USD/kW-month) cannot be served
    and is declined; with hpc_max_it_mw 60 it is taken."""
    offers = [{**RUNNING, "it_mw": 40}, {"offer_id": "O2", "it_mw": 20,
                                         "rate_usd_per_kw_month": 500}]
    capped = solve(case, campuses=[{"hpc_ready_it_mw": 40}], offers=offers,
                   horizon={"months": 24})
    assert lease(capped, "O2")[0] is False
    assert column(capped, "it_ready_mw") == [40.0] * 24
    roomy = solve(case, campuses=[{"hpc_ready_it_mw": 40, "hpc_max_it_mw": 60}], offers=offers,
                  horizon={"months": 24})
    assert lease(roomy, "O2")[0] is True
    assert sum(column(roomy, "blocks_started")) == 2


# -- construction.csv ----------------------------------------------------------------------------


HALL = {"campus_id": "C1", "it_mw": 20, "ready_month": "2027-05", "capex_remaining_usd": 8e6}


def test_a_hall_under_construction_spreads_its_capex_until_ready(case):
    """20 IT MW ready 2027-05, 8,000,000 still to spend: 2,000,000 in each of Jan–Apr; the hall
    takes 25 MW of grid from January.

    no offer: mining 75 MW × 365,000 = 27,375,000 − 8,000,000 = 19,375,000.
    """
    r = solve(case, construction=[HALL])
    assert npv(r) == pytest.approx(19_375_000.00, abs=0.01)
    assert column(r, "capex_usd") == pytest.approx([2e6] * 4 + [0.0] * 8, abs=0.01)
    assert column(r, "it_under_construction_mw") == [20.0] * 4 + [0.0] * 8
    assert column(r, "it_ready_mw") == [0.0] * 4 + [20.0] * 8
    assert column(r, "mining_mw") == [75.0] * 12
    assert kpi(r, "capex_gross_usd") == pytest.approx(8e6, abs=0.01)


def test_an_offer_waits_for_the_hall_rather_than_build(case):
    """O1 may start any month of 2027. On the hall from May: 8 × 1,500,000 = 12,000,000 of
    rent, nothing more to build → 31,375,000. A new block instead (ready July at the earliest)
    would cost 3,000,000, 12.5 MW more of grid and earn less rent."""
    r = solve(case, offers=[{}], construction=[HALL])
    assert npv(r) == pytest.approx(31_375_000.00, abs=0.01)
    assert lease(r) == (True, "C1", "2027-05")
    assert column(r, "blocks_started") == [0.0] * 12


def test_two_halls_at_one_campus_each_finish_on_their_own_month(case):
    """10 IT MW ready 2027-03 (2,000,000 left) and 10 ready 2027-07 (6,000,000 left): capex
    1,000,000 Jan–Feb from the first plus 1,000,000 Jan–Jun from the second."""
    r = solve(case, construction=[
        {"campus_id": "C1", "it_mw": 10, "ready_month": "2027-03", "capex_remaining_usd": 2e6},
        {"campus_id": "C1", "it_mw": 10, "ready_month": "2027-07", "capex_remaining_usd": 6e6}])
    assert column(r, "capex_usd") == pytest.approx([2e6] * 2 + [1e6] * 4 + [0.0] * 6, abs=0.01)
    assert column(r, "it_ready_mw") == [0.0] * 2 + [10.0] * 4 + [20.0] * 6


# -- leases already running ---------------------------------------------------------------------


def test_a_running_lease_pays_from_month_0_with_escalator_steps_from_its_real_start(case):
    """Signed O1 started 2026-07 for 24 months, escalator 10 %/year, on the 10 ready IT MW of C1.

    Lease year 1 (2026-07..2027-06): 1,500,000 a month; year 2 from 2027-07: 1,650,000.
    rent 6 × 1,500,000 + 6 × 1,650,000 = 18,900,000; mining 87.5 MW → 31,937,500;
    NPV 50,837,500. It is signed, so the mining-only baseline keeps it: value added 0.
    """
    r = solve(case, campuses=[{"hpc_ready_it_mw": 10}],
              offers=[{**RUNNING, "escalator_pct_per_year": 10}])
    assert npv(r) == pytest.approx(50_837_500.00, abs=0.01)
    assert column(r, "lease_revenue_usd") == pytest.approx([1.5e6] * 6 + [1.65e6] * 6, abs=0.01)
    assert column(r, "it_leased_mw") == [10.0] * 12
    assert kpi(r, "baseline_npv_usd") == pytest.approx(50_837_500.00, abs=0.01)
    row = r.leases.iloc[0]
    assert (row["accepted"], row["campus_id"], row["start_month"]) == (True, "C1", "2026-07")


def test_a_running_lease_ends_inside_the_horizon_and_frees_its_hall(case):
    """Running O1 (2026-07, 9 months: last month 2027-03) then O2 (unsigned, 10 MW, may start
    2027-04..2027-12) on the same ready hall from April with no capex.

    rent 3 × 1,500,000 + 9 × 1,500,000 = 18,000,000; mining 31,937,500 → 49,937,500.
    """
    r = solve(case, campuses=[{"hpc_ready_it_mw": 10}],
              offers=[{**RUNNING, "term_months": 9},
                      {"offer_id": "O2", "earliest_start": "2027-04"}])
    assert npv(r) == pytest.approx(49_937_500.00, abs=0.01)
    assert lease(r, "O2") == (True, "C1", "2027-04")
    assert column(r, "capex_usd") == [0.0] * 12


@pytest.mark.parametrize("spot", [{}, {"hpc_spot_rate_usd_per_kw_month": 200,
                                      "hpc_spot_share_pct": 50}], ids=["no-spot", "spot"])
def test_a_hall_held_empty_after_a_lease_is_re_let_only_after_its_vacant_months(case, spot):
    """As above, but the hall stays empty 3 months after O1 ends (vacant_months_after_end 3,
    as after a tenant's default): Apr–Jun no lease and no spot sale may use it, so O2 starts
    in July; hpc_max_it_mw 10 leaves no room for a new block.

    rent 3 × 1,500,000 + 6 × 1,500,000 = 13,500,000; mining 31,937,500 → 45,437,500 (the
    spot market, at 200 USD/kW-month, would have let 5 MW of the empty hall for 3 × 1,000,000).
    """
    r = solve(case, campuses=[{"hpc_ready_it_mw": 10, "hpc_max_it_mw": 10}],
              offers=[{**RUNNING, "term_months": 9, "vacant_months_after_end": 3},
                      {"offer_id": "O2", "earliest_start": "2027-04"}], market=spot)
    assert npv(r) == pytest.approx(45_437_500.00, abs=0.01)
    assert lease(r, "O2") == (True, "C1", "2027-07")
    assert column(r, "it_leased_mw") == [10.0] * 3 + [0.0] * 3 + [10.0] * 6
    assert column(r, "spot_mw") == pytest.approx([0.0] * 12, abs=1e-9)
    assert r.summary["audit"]["passed"], r.summary["audit"]


def test_a_prepayment_received_before_the_horizon_is_credited_inside_it(case):
    """Running O1 with a 3,000,000 prepayment credited over 12 months from 2026-07: the credit
    250,000 a month reduces cash rent in Jan–Jun 2027; the prepayment itself was received
    before the horizon. NPV = 31,937,500 + 12 × 1,500,000 − 6 × 250,000 = 48,437,500."""
    r = solve(case, campuses=[{"hpc_ready_it_mw": 10}],
              offers=[{**RUNNING, "prepayment_usd": 3e6, "prepayment_credit_months": 12}])
    assert npv(r) == pytest.approx(48_437_500.00, abs=0.01)
    assert column(r, "prepayment_credit_usd") == pytest.approx([250_000.0] * 6 + [0.0] * 6,
                                                               abs=0.01)


def test_running_leases_above_the_tenant_cap_are_kept_and_nothing_more_is_added(case):
    """Tenant A runs 10 MW (100 % of running leases) under a 50 % cap. The cap does not make the
    signed lease infeasible; a second A offer (10 MW) would need 20 ≤ 0.5 × 20 + 10 → allowed
    only to the grandfathered excess, so A's share cannot grow: O2 (tenant A) is declined,
    O3 (tenant B) is accepted."""
    r = solve(case, campuses=[{"hpc_ready_it_mw": 10, "hpc_max_it_mw": 50}],
              offers=[{**RUNNING, "tenant": "A"},
                      {"offer_id": "O2", "tenant": "A"}, {"offer_id": "O3", "tenant": "B"}],
              limits={"max_tenant_share_pct": 50}, horizon={"months": 24})
    assert lease(r, "O1")[0] is True
    assert lease(r, "O3")[0] is True
    accepted = r.leases[r.leases["accepted"]]
    a_mw = accepted.loc[accepted["tenant"] == "A", "it_mw"].sum()
    total = accepted["it_mw"].sum()
    assert a_mw <= 0.5 * total + 10 + 1e-9


# -- validation ---------------------------------------------------------------------------------


def error_of(path):
    with pytest.raises(InputError) as caught:
        load_inputs(path)
    return str(caught.value)


def test_a_running_lease_without_ready_halls_is_a_located_error(case):
    message = error_of(case(campuses=[{"hpc_ready_it_mw": 5}], offers=[RUNNING]))
    assert "offers.csv" in message and "O1" in message
    assert "occupy 10 IT MW" in message and "hpc_ready_it_mw 5" in message


def test_a_running_lease_must_name_its_one_campus(case):
    message = error_of(case(campuses=[{"hpc_ready_it_mw": 10}],
                            offers=[{**RUNNING, "campuses": "*"}]))
    assert "name the one campus it runs at" in message and "campuses" in message


def test_a_running_lease_whose_term_ended_is_an_error(case):
    message = error_of(case(campuses=[{"hpc_ready_it_mw": 10}],
                            offers=[{**RUNNING, "term_months": 3}]))
    assert "term ended (2026-09)" in message


def test_a_hall_ready_at_or_before_the_start_belongs_in_hpc_ready_it_mw(case):
    message = error_of(case(construction=[{**HALL, "ready_month": "2027-01"}]))
    assert "construction.csv" in message and "ready_month" in message
    assert "campuses.hpc_ready_it_mw" in message


def test_a_hall_ready_after_the_horizon_is_an_error(case):
    message = error_of(case(construction=[{**HALL, "ready_month": "2028-05"}]))
    assert "after the horizon ends (2027-12)" in message


def test_a_hall_at_an_unknown_campus_is_an_error(case):
    message = error_of(case(construction=[{**HALL, "campus_id": "NOPE"}]))
    assert "unknown campus 'NOPE'" in message


def test_ready_plus_construction_above_the_campus_maximum_is_an_error(case):
    message = error_of(case(campuses=[{"hpc_ready_it_mw": 40}], construction=[HALL]))
    assert "hpc_ready_it_mw 40 + 20 IT MW under construction" in message
    assert "exceeds hpc_max_it_mw 50" in message


def test_negative_ready_mw_is_rejected_by_the_schema(case):
    message = error_of(case(campuses=[{"hpc_ready_it_mw": -1}]))
    assert "hpc_ready_it_mw" in message


def test_the_cli_reports_an_as_built_error_without_a_traceback(case, tmp_path):
    from click.testing import CliRunner

    from siteopt.cli import main

    path = case(campuses=[{"hpc_ready_it_mw": 5}], offers=[RUNNING])
    out = CliRunner().invoke(main, ["solve", str(path), "-o", str(tmp_path / "out")])
    assert out.exit_code == 1
    assert "Traceback" not in out.output and "hpc_ready_it_mw 5" in out.output


def test_the_as_built_state_is_part_of_the_input_hash(case):
    plain = solve_scenario(case()).summary["input_hash"]
    built = solve_scenario(case(construction=[HALL])).summary["input_hash"]
    assert plain != built


def test_a_model_kept_for_reuse_is_not_used_for_a_different_hall(case):
    """Price-only variants reuse a built model; a hall under construction shapes the
    constraints (its power from month 0, its ready month), so it must key the reuse."""
    early = solve(case, construction=[{**HALL, "ready_month": "2027-03"}])
    late = solve(case, construction=[{**HALL, "ready_month": "2027-09"}])
    assert column(early, "it_ready_mw") == [0.0] * 2 + [20.0] * 10
    assert column(late, "it_ready_mw") == [0.0] * 8 + [20.0] * 4
    assert column(late, "capex_usd") == pytest.approx([1e6] * 8 + [0.0] * 4, abs=0.01)
