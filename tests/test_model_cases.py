"""Small cases whose optimum is worked out by hand; each docstring shows the arithmetic.

Common numbers (MARKET, CAMPUS and OFFER of tests/cases.py), unless a test says otherwise:

* market: BTC 100,000 USD, network 900 EH/s, fees 0, subsidy 3.125 BTC, no halving →
  hashprice = 144 × 3.125 × 100,000 ÷ (900 × 1000) = 50 USD/PH/day.
* campus C1: 20 J/TH → 1000/20 = 50 PH/s per MW → revenue 50 × 50 = 2,500 USD/MW-day;
  power 62.5 USD/MWh → 24 × 62.5 = 1,500 USD/MW-day; margin 1,000 USD/MW-day.
  grid 100 MW = miner 100 MW, PUE 1.25, blocks of 10 IT MW (max 50), capex 300,000 USD/IT MW
  (3,000,000 per block), build 6 months, HPC opex 0, mining opex 0, no permit needed.
* horizon 12 months from 2027-01 (days 31 28 31 30 31 30 31 31 30 31 30 31 = 365),
  discount 0 %, value_beyond_horizon off, MIP gap 0.
* a started 10 IT MW block takes 1.25 × 10 = 12.5 MW of grid: mining 100 → 87.5 MW,
  i.e. 12,500 USD of margin lost per day.
* an offer of 10 IT MW at 150 USD/kW-month pays 10 × 1000 × 150 = 1,500,000 USD/month.
  O1: escalator 0, term 120 months, may start in any month of 2027 at any campus, unsigned.
"""

from __future__ import annotations

import pytest
from cases import (
    CAMPUS,
    MARKET,
    OFFER,
    ONE_PCT_A_MONTH,
    blocks_by_month,
    column,
    lease,
    npv,
    optimal,
    run,
)

from siteopt.api import solve_scenario
from siteopt.inputs.errors import InputError


def solve(case, campuses=None, offers=None, **scenario):
    """`run`, solved to optimality (unlike test_deal_terms and test_funding, these cases do not
    check the audit)."""
    return optimal(run(case, campuses, offers, **scenario))


# ---------------------------------------------------------------------------------------------
# Mining only
# ---------------------------------------------------------------------------------------------


def test_mining_only_undiscounted(case):
    """No offers: mine at full power every month, never convert.

    NPV = 100 MW × 1,000 USD/MW-day × 365 days = 36,500,000.00
    January alone: revenue 100 × 2,500 × 31 = 7,750,000; power 100 × 1,500 × 31 = 4,650,000.
    """
    r = solve(case)
    assert npv(r) == pytest.approx(36_500_000.00, abs=0.01)
    assert column(r, "mining_mw") == [100.0] * 12
    assert column(r, "blocks_started") == [0.0] * 12
    assert column(r, "mining_revenue_usd")[0] == pytest.approx(7_750_000.00, abs=0.01)
    assert column(r, "power_cost_usd")[0] == pytest.approx(4_650_000.00, abs=0.01)


def test_mining_only_discounted_with_opex(case):
    """Three months, mining opex 1,000 USD/MW-month, discount (1.01^12 − 1) → 1/1.01 a month.

    net Jan = 100 × (1,000 × 31 − 1,000) = 3,000,000 → ÷ 1.01      = 2,970,297.0297
    net Feb = 100 × (1,000 × 28 − 1,000) = 2,700,000 → ÷ 1.01^2    = 2,646,799.3334
    net Mar = 100 × (1,000 × 31 − 1,000) = 3,000,000 → ÷ 1.01^3    = 2,911,770.4438
    NPV = 8,528,866.81 (undiscounted it would be 8,700,000).
    """
    r = solve(case, campuses=[{"mining_opex_usd_per_mw_month": 1000}], horizon={"months": 3},
              finance={"discount_rate_pct_per_year": ONE_PCT_A_MONTH})
    assert npv(r) == pytest.approx(8_528_866.81, abs=0.01)
    assert column(r, "mining_mw") == [100.0] * 3
    assert column(r, "net_cash_usd") == pytest.approx([3_000_000, 2_700_000, 3_000_000], abs=0.01)
    assert column(r, "discount_factor") == pytest.approx([1 / 1.01, 1 / 1.01**2, 1 / 1.01**3],
                                                         rel=1e-12)


def test_mining_stops_after_halving(case):
    """Halving in 2027-04: hashprice 50 → 25, revenue 1,250 < power 1,500 USD/MW-day.

    Margin −250 USD/MW-day from April on, so miners switch off (mining_mw 0).
    NPV = 100 × 1,000 × (31 + 28 + 31) = 9,000,000.00 over the 6-month horizon.
    """
    r = solve(case, horizon={"months": 6}, market={"halving_months": ["2027-04"]})
    assert npv(r) == pytest.approx(9_000_000.00, abs=0.01)
    assert column(r, "mining_mw") == [100.0, 100.0, 100.0, 0.0, 0.0, 0.0]
    assert column(r, "mining_revenue_usd")[3:] == [0.0, 0.0, 0.0]


# ---------------------------------------------------------------------------------------------
# Conversion timing
# ---------------------------------------------------------------------------------------------


def test_permit_date_delays_construction(case):
    """Build 3 months, offer O1 (10 MW, 150 USD/kW-month, window all of 2027, 120 months).

    Without a permit date: block in Jan (month 0), ready and leased from Apr (month 3).
      mining 87.5 × 1,000 × 365 = 31,937,500; capex 3,000,000 (Jan–Mar);
      rent 9 × 1,500,000 = 13,500,000 → NPV 42,437,500.00.
    With permit_ready 2027-04: block in Apr (month 3), lease from Jul (month 6).
      mining 100 × 1,000 × 90 (Jan–Mar) + 87.5 × 1,000 × 275 (Apr–Dec)
             = 9,000,000 + 24,062,500 = 33,062,500
      capex 3,000,000 (Apr–Jun); rent 6 × 1,500,000 = 9,000,000 → NPV 39,062,500.00.
    Each month of delay loses 1.5 M rent and saves at most 12,500 × 31 = 387,500 of mining,
    so the block starts as early as allowed.
    """
    free = solve(case, campuses=[{"build_months": 3}], offers=[{}])
    assert npv(free) == pytest.approx(42_437_500.00, abs=0.01)
    assert blocks_by_month(free) == {"2027-01": 1}
    assert lease(free) == (True, "C1", "2027-04")

    r = solve(case, campuses=[{"build_months": 3, "permit_ready": "2027-04"}], offers=[{}])
    assert npv(r) == pytest.approx(39_062_500.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-04": 1}
    assert lease(r) == (True, "C1", "2027-07")
    assert column(r, "capex_usd") == [0, 0, 0, 1e6, 1e6, 1e6, 0, 0, 0, 0, 0, 0]


def test_lead_time_delays_rent(case):
    """Build 6 months; offer window opens in Jan, but rent can only start when ready.

    Block in Jan (month 0) → ready Jul (month 6) → lease 2027-07, rent Jul–Dec only.
    mining 87.5 × 1,000 × 365 = 31,937,500; capex 3,000,000 as 500,000 a month Jan–Jun;
    rent 6 × 1,500,000 = 9,000,000 → NPV 37,937,500.00 (> 36,500,000 mining only).
    """
    r = solve(case, offers=[{}])
    assert npv(r) == pytest.approx(37_937_500.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-01": 1}
    assert lease(r) == (True, "C1", "2027-07")
    assert column(r, "lease_revenue_usd") == [0.0] * 6 + [1_500_000.0] * 6
    assert column(r, "it_ready_mw") == [0.0] * 6 + [10.0] * 6
    assert column(r, "it_under_construction_mw") == [10.0] * 6 + [0.0] * 6
    assert column(r, "capex_usd") == [500_000.0] * 6 + [0.0] * 6


@pytest.mark.parametrize(
    ("grid_mw", "it_mw", "mining_after", "expected_npv"),
    [(100, 10, 87.5, 41_325_000.00), (105, 10, 92.5, 42_995_000.00),
     (100, 20, 75.0, 46_150_000.00)])
def test_construction_takes_grid_power_from_mining(case, grid_mw, it_mw, mining_after,
                                                   expected_npv):
    """Build 3; offer window only 2027-05 (month 4), so blocks start by Feb (month 1), and
    starting later than needed saves mining: blocks start exactly in Feb.

    From Feb on, mining = min(100, grid − 1.25 × IT MW started):
      grid 100, 10 MW: 100 − 12.5 = 87.5;  grid 105, 10 MW: 105 − 12.5 = 92.5;
      grid 100, 20 MW (two blocks): 100 − 25 = 75.
    Feb–Dec = 365 − 31 = 334 days; rent May–Dec = 8 months.
      grid 100, 10 MW: 3,100,000 + 87.5 × 334,000 − 3,000,000 + 8 × 1,500,000 = 41,325,000
      grid 105, 10 MW: 3,100,000 + 92.5 × 334,000 − 3,000,000 + 12,000,000     = 42,995,000
      grid 100, 20 MW: 3,100,000 + 75 × 334,000 − 6,000,000 + 8 × 3,000,000     = 46,150,000
    """
    r = solve(case, campuses=[{"grid_mw": grid_mw, "build_months": 3}],
              offers=[{"it_mw": it_mw, "earliest_start": "2027-05", "latest_start": "2027-05"}])
    assert npv(r) == pytest.approx(expected_npv, abs=0.01)
    assert column(r, "mining_mw") == pytest.approx([100.0] + [mining_after] * 11, abs=1e-9)
    assert blocks_by_month(r) == {"2027-02": it_mw // 10}
    assert lease(r) == (True, "C1", "2027-05")


def test_offer_goes_to_campus_that_loses_least_mining(case):
    """Two campuses; C2 pays 87.5 USD/MWh → power 2,100, margin 400 USD/MW-day.

    Converting at C2 loses 12.5 × 400 = 5,000/day instead of 12,500/day at C1.
    C1 mining 100 × 1,000 × 365 = 36,500,000; C2 mining 87.5 × 400 × 365 = 12,775,000;
    capex 3,000,000; rent Jul–Dec 9,000,000 → NPV 55,275,000.00
    (at C1 instead: 31,937,500 + 14,600,000 − 3,000,000 + 9,000,000 = 52,537,500;
     no conversion: 36,500,000 + 14,600,000 = 51,100,000).
    """
    r = solve(case, campuses=[{"campus_id": "C1"},
                              {"campus_id": "C2", "power_price_usd_per_mwh": 87.5}],
              offers=[{}])
    assert npv(r) == pytest.approx(55_275_000.00, abs=0.01)
    assert lease(r) == (True, "C2", "2027-07")
    assert blocks_by_month(r, "C2") == {"2027-01": 1}
    assert blocks_by_month(r, "C1") == {}
    assert column(r, "mining_mw", "C1") == [100.0] * 12


# ---------------------------------------------------------------------------------------------
# Offers and signed leases
# ---------------------------------------------------------------------------------------------


def test_signed_lease_forces_conversion_at_a_loss(case):
    """Signed O1 at 10 USD/kW-month (100,000 a month) must be delivered by 2027-12.

    Build 6, so the block starts by Jun (month 5). Each month earlier gains 100,000 of rent
    but loses 12,500 × days of mining, so: block Jun, lease Dec.
      mining 100 × 1,000 × 151 (Jan–May) + 87.5 × 1,000 × 214 (Jun–Dec)
             = 15,100,000 + 18,725,000 = 33,825,000
      capex 3,000,000 (Jun–Nov); rent 1 × 100,000 → NPV 30,925,000.00
    That is 5,575,000 below mining only (36,500,000).
    """
    r = solve(case, offers=[{"rate_usd_per_kw_month": 10, "signed": "true"}])
    assert npv(r) == pytest.approx(30_925_000.00, abs=0.01)
    assert 36_500_000 - npv(r) == pytest.approx(5_575_000.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-06": 1}
    assert lease(r) == (True, "C1", "2027-12")


def test_unprofitable_offer_is_refused(case):
    """The same 10 USD/kW-month offer, unsigned: converting would cost 5,575,000 (previous
    test), so the offer is declined and the campus keeps mining: NPV 36,500,000.00."""
    r = solve(case, offers=[{"rate_usd_per_kw_month": 10}])
    assert npv(r) == pytest.approx(36_500_000.00, abs=0.01)
    assert lease(r) == (False, None, None)
    assert blocks_by_month(r) == {}
    assert column(r, "mining_mw") == [100.0] * 12


def test_escalator_steps_at_lease_month_12(case):
    """24 months (2027: 365 days, 2028: 366), build 1, 100 USD/kW-month (1,000,000 a month),
    escalator 10 %/yr. Block Jan 2027, ready and leased from Feb 2027 (month 1).

    Lease months 0–11 (2027-02 … 2028-01) pay 1,000,000; lease month 12 (2028-02) on pays
    1,100,000 (11 months to 2028-12).
      mining 87.5 × 1,000 × 731 = 63,962,500; capex 3,000,000 (Jan 2027)
      rent 12 × 1,000,000 + 11 × 1,100,000 = 24,100,000 → NPV 85,062,500.00
    """
    r = solve(case, campuses=[{"build_months": 1}], horizon={"months": 24},
              offers=[{"rate_usd_per_kw_month": 100, "escalator_pct_per_year": 10,
                       "latest_start": "2028-12"}])
    assert npv(r) == pytest.approx(85_062_500.00, abs=0.01)
    assert lease(r) == (True, "C1", "2027-02")
    rent = column(r, "lease_revenue_usd")
    assert rent[0] == 0.0
    assert rent[1:13] == pytest.approx([1_000_000.0] * 12, abs=0.01)
    assert rent[13] == pytest.approx(1_100_000.00, abs=0.01)  # lease month 12 = 2028-02
    assert rent[13:] == pytest.approx([1_100_000.0] * 11, abs=0.01)


def test_value_beyond_horizon_on_and_off(case):
    """Discount 1/1.01 a month; HPC opex 10,000 USD/IT MW-month (100,000 for the block);
    offer O1: 150 USD/kW-month, escalator 10 %, term 24, start only 2027-07 (month 6).

    Both runs: block Jan (month 0), lease Jul 2027 – Jun 2029 (months 6..29).
    Off (months 0..11 only): net = mining 87.5 × 1,000 × d − capex 500,000 (months 0..5)
      + rent 1,500,000 − opex 100,000 (months 6..11), discounted: NPV 34,692,825.30
      (no conversion would give 34,225,282.44, so converting is optimal here too).
    On adds the lease after the horizon (no capex remains there: it ended in month 5):
      months 12..17: 1,500,000 − 100,000 = 1,400,000 × Σ_{k=13..18} 1.01^−k
                     (= (1.01^−12 − 1.01^−18) / 0.01 = 5.143191107)   =  7,200,467.55
      months 18..29: 1,650,000 − 100,000 = 1,550,000 × Σ_{k=19..30} 1.01^−k
                     (= (1.01^−18 − 1.01^−30) / 0.01 = 9.409439640)   = 14,584,631.44
      difference 21,785,098.99 → NPV on 56,477,924.29
    """
    args = dict(campuses=[{"hpc_opex_usd_per_it_mw_month": 10_000}],
                offers=[{"escalator_pct_per_year": 10, "term_months": 24,
                         "earliest_start": "2027-07", "latest_start": "2027-07"}])
    off = solve(case, **args, finance={"discount_rate_pct_per_year": ONE_PCT_A_MONTH,
                                       "value_beyond_horizon": False})
    on = solve(case, **args, finance={"discount_rate_pct_per_year": ONE_PCT_A_MONTH,
                                      "value_beyond_horizon": True})
    for r in (off, on):
        assert blocks_by_month(r) == {"2027-01": 1}
        assert lease(r) == (True, "C1", "2027-07")
    assert npv(off) == pytest.approx(34_692_825.30, abs=0.01)
    assert npv(on) == pytest.approx(56_477_924.29, abs=0.01)
    assert npv(on) - npv(off) == pytest.approx(21_785_098.99, abs=0.01)
    assert column(off, "lease_revenue_usd", in_horizon=False) == []
    after_rent = column(on, "lease_revenue_usd", in_horizon=False)
    assert after_rent == pytest.approx([1_500_000.0] * 6 + [1_650_000.0] * 12, abs=0.01)
    assert column(on, "hpc_opex_usd", in_horizon=False) == pytest.approx([100_000.0] * 18)
    assert sum(column(on, "capex_usd", in_horizon=False)) == 0.0


def test_conflicting_signed_leases_are_infeasible(case):
    """Two signed 30 IT MW leases over all of 2027-07 … need 60 MW; the campus holds 50."""
    path = case(campuses=[CAMPUS], market=MARKET,
                offers=[{**OFFER, "offer_id": "O1", "it_mw": 30, "signed": "true"},
                        {**OFFER, "offer_id": "O2", "it_mw": 30, "signed": "true"}])
    r = solve_scenario(path)
    assert r.summary["status"] == "infeasible"
    assert r.summary["npv_usd"] is None


def test_signed_lease_outside_horizon_is_an_input_error(case):
    """A signed lease that can only start after the horizon is refused at validation."""
    path = case(campuses=[CAMPUS], market=MARKET,
                offers=[{**OFFER, "signed": "true", "earliest_start": "2028-03",
                         "latest_start": "2028-06"}])
    with pytest.raises(InputError, match="signed lease O1"):
        solve_scenario(path)


def test_undeliverable_signed_lease_is_not_silently_dropped(case):
    """Signed O1 must start by 2027-05, but permit 2027-03 + build 6 → ready 2027-09 at the
    earliest. The lease cannot be delivered: status 'infeasible' with a diagnosis that names
    the lease, the months and the fix (4 months' delay), never a plan without it."""
    path = case(campuses=[{**CAMPUS, "permit_ready": "2027-03"}], market=MARKET,
                offers=[{**OFFER, "signed": "true", "latest_start": "2027-05"}])
    r = solve_scenario(path)
    assert r.summary["status"] == "infeasible"
    assert r.summary["diagnosis"] == [
        "Signed lease O1 needs 10 IT MW by 2027-05. The earliest ready month at an eligible "
        "campus is 2027-09 at C1 (permit 2027-03 + 6 months build). Options: allow 4 months' "
        "delay (max_delay_months = 4), an earlier permit or a shorter build at C1."]
