"""Deal terms, one hand-worked case per feature; each docstring shows the arithmetic.

Common numbers (MARKET, CAMPUS and OFFER of tests/cases.py, as in test_model_cases), unless a
test says otherwise:

* market: BTC 100,000 USD, network 900 EH/s, fees 0, subsidy 3.125 BTC, no halving →
  hashprice = 144 × 3.125 × 100,000 ÷ (900 × 1000) = 50 USD/PH/day.
* campus C1: 20 J/TH → 50 PH/s per MW → revenue 2,500 USD/MW-day; power 62.5 USD/MWh →
  1,500 USD/MW-day; margin 1,000 USD/MW-day. grid 100 MW = miner 100 MW, PUE 1.25, blocks of
  10 IT MW (max 50), capex 300,000 USD/IT MW (3,000,000 per block, spread evenly over the
  build months), build 6 months, HPC opex 0, mining opex 0, no permit needed.
  A campus at 87.5 USD/MWh pays 2,100 USD/MW-day for power: margin 400 USD/MW-day.
* horizon 12 months from 2027-01 (365 days; Jan–Jun 181, Jul–Dec 184), discount 0 %,
  value_beyond_horizon off, MIP gap 0.
* a started 10 IT MW block takes 1.25 × 10 = 12.5 MW of grid: mining 100 → 87.5 MW, i.e.
  12,500 USD of margin lost per day (4,562,500 over the year).
* an offer of 10 IT MW at 150 USD/kW-month pays 10 × 1000 × 150 = 1,500,000 USD/month.
  O1: escalator 0, term 120 months, may start in any month of 2027 at any campus, unsigned.
* reference: mining only = 100 × 1,000 × 365 = 36,500,000; one 10 MW lease from Jul with
  the block started in Jan = 87.5 × 1,000 × 365 − 3,000,000 + 6 × 1,500,000 = 37,937,500.

Every solved case must also pass the independent audit (siteopt.results.audit) without violations.
"""

from __future__ import annotations

import pytest
from cases import ONE_PCT_A_MONTH, blocks_by_month, column, lease, npv, ramp, rows_of, run, solve

from siteopt.inputs.errors import InputError

TWO_CAMPUSES = [{"campus_id": "C1", "hpc_max_it_mw": 20},
                {"campus_id": "C2", "hpc_max_it_mw": 20, "power_price_usd_per_mwh": 87.5}]
# 20 IT MW delivered as 10 at the start and 10 three months later.
RAMP_10_THEN_10 = ramp({0: 10, 3: 10})


# ---------------------------------------------------------------------------------------------
# (a) Phased ramp
# ---------------------------------------------------------------------------------------------


def test_phased_ramp_rent_follows_delivered_mw(case):
    """Build 1 month; O1 20 IT MW delivered 10 at the start and 10 at start + 3 months.

    Block 1 in Jan (month 0) → ready Feb → lease starts Feb (month 1); phase 2 is due in May
    (month 4), so block 2 starts in Apr (month 3): any earlier only loses mining.
    (Starting the lease a month later loses 2 × 1,500,000 of rent and saves at most
    2 × 12,500 × 31 = 775,000 of mining.)
      mining Jan–Mar 87.5 × 1,000 × 90 = 7,875,000; Apr–Dec 75 × 1,000 × 275 = 20,625,000
      capex 3,000,000 in Jan + 3,000,000 in Apr = 6,000,000
      rent phase 1 Feb–Dec 11 × 1,500,000 = 16,500,000; phase 2 May–Dec 8 × 1,500,000
           = 12,000,000
    NPV = 28,500,000 − 6,000,000 + 28,500,000 = 51,000,000.00
    (both blocks in Jan would lose another 12,500 × 90 = 1,125,000).
    """
    r = solve(case, campuses=[{"build_months": 1}], offers=[{"it_mw": 20}],
              phases=RAMP_10_THEN_10)
    assert npv(r) == pytest.approx(51_000_000.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-01": 1, "2027-04": 1}
    assert column(r, "lease_revenue_usd") == pytest.approx(
        [0.0] + [1_500_000.0] * 3 + [3_000_000.0] * 8, abs=0.01)
    assert column(r, "it_leased_mw") == [0.0] + [10.0] * 3 + [20.0] * 8
    assert column(r, "it_ready_mw") == [0.0] + [10.0] * 3 + [20.0] * 8
    rows = rows_of(r)
    assert rows[["phase", "it_mw", "start_month", "delivery_month", "campus_id"]].to_dict(
        "records") == [
        {"phase": 1, "it_mw": 10.0, "start_month": "2027-02", "delivery_month": "2027-02",
         "campus_id": "C1"},
        {"phase": 2, "it_mw": 10.0, "start_month": "2027-02", "delivery_month": "2027-05",
         "campus_id": "C1"}]
    assert rows["offer_it_mw"].tolist() == [20.0, 20.0]
    assert rows["accepted"].all()


# ---------------------------------------------------------------------------------------------
# (b) Split across campuses
# ---------------------------------------------------------------------------------------------


def test_split_offer_delivered_in_whole_blocks_at_both_campuses(case):
    """O1 30 IT MW, split; C1 and C2 each hold at most 20 IT MW (blocks of 10). C2 pays
    87.5 USD/MWh (margin 400 USD/MW-day), so converting there loses less mining.

    All blocks start in Jan, the lease runs Jul–Dec (4,500,000 a month).
      20 at C2 + 10 at C1: C1 mining 87.5 × 1,000 × 365 = 31,937,500
                           C2 mining 75 × 400 × 365     = 10,950,000   → 42,887,500
      10 at C2 + 20 at C1: C1 75 × 1,000 × 365 = 27,375,000
                           C2 87.5 × 400 × 365 = 12,775,000             → 40,150,000
    capex 3 × 3,000,000 = 9,000,000; rent 6 × 4,500,000 = 27,000,000
    NPV = 42,887,500 − 9,000,000 + 27,000,000 = 60,887,500.00 (20 + 10 would give
    58,150,000; declining: 36,500,000 + 400 × 100 × 365 = 51,100,000).
    """
    r = solve(case, campuses=TWO_CAMPUSES, offers=[{"it_mw": 30, "split": "true"}])
    assert npv(r) == pytest.approx(60_887_500.00, abs=0.01)
    assert blocks_by_month(r, "C1") == {"2027-01": 1}
    assert blocks_by_month(r, "C2") == {"2027-01": 2}
    rows = rows_of(r).sort_values("campus_id")
    assert rows[["campus_id", "it_mw", "start_month", "delivery_month"]].to_dict("records") == [
        {"campus_id": "C1", "it_mw": 10.0, "start_month": "2027-07", "delivery_month": "2027-07"},
        {"campus_id": "C2", "it_mw": 20.0, "start_month": "2027-07", "delivery_month": "2027-07"}]
    assert column(r, "it_leased_mw", "C1") == [0.0] * 6 + [10.0] * 6
    assert column(r, "it_leased_mw", "C2") == [0.0] * 6 + [20.0] * 6
    assert column(r, "lease_revenue_usd", "C2") == pytest.approx(
        [0.0] * 6 + [3_000_000.0] * 6, abs=0.01)


def test_split_offer_not_made_of_whole_blocks_is_declined(case):
    """O1 25 IT MW, split, at the same two campuses (blocks of 10): no whole number of blocks
    adds up to 25, so the offer is declined although 25 MW at 150 would pay well.
    NPV = mining only = 100 × 1,000 × 365 + 100 × 400 × 365 = 51,100,000.00."""
    r = solve(case, campuses=TWO_CAMPUSES, offers=[{"it_mw": 25, "split": "true"}])
    assert npv(r) == pytest.approx(51_100_000.00, abs=0.01)
    assert lease(r) == (False, None, None)
    assert blocks_by_month(r, "C1") == {} and blocks_by_month(r, "C2") == {}


def test_split_offer_with_a_phase_below_every_block_is_declined(case):
    """O1 25 IT MW, split, ramp 20 at the start then 5 three months later; blocks of 10 at both
    campuses. Phase 2 (5 MW) cannot be made of whole blocks, so the offer cannot be delivered
    and must be declined: NPV = mining only = 51,100,000.00 (as in the test above).

    The model creates a split start as soon as *some* phase has blocks, and writes
    split_mw_adds_up only for phases that do; phase 2 has no row, so the plan takes 20 MW at C2
    with rent for 20 MW and never delivers the 5 MW (the audit reports
    'O1 phase 2: 0 IT MW delivered, 5 due'; NPV 75,875,000)."""
    r = run(case, campuses=TWO_CAMPUSES, offers=[{"it_mw": 25, "split": "true"}],
            phases=ramp({0: 20, 3: 5}))
    assert r.summary["audit"] == {"passed": True, "violations": []}
    assert npv(r) == pytest.approx(51_100_000.00, abs=0.01)
    assert lease(r) == (False, None, None)


@pytest.mark.parametrize("signed", ["false", "true"])
def test_split_offer_whose_first_phase_cannot_be_ready(case, signed):
    """O1 20 IT MW, split, ramp 10 at the start and 10 six months later, latest_start 2027-02;
    both campuses need 6 months to build, so nothing is ready before 2027-07 and phase 1 (due
    at the start, 2027-01 or 2027-02) can never be covered.

    Unsigned: declined, NPV = mining only at both campuses 2 × 36,500,000 = 73,000,000.00.
    Signed: 'infeasible' with a diagnosis naming O1.
    The model instead accepts O1 from 2027-01 with only phase 2 delivered (10 MW at C1 from
    2027-07; NPV 74,437,500; the audit reports 'O1 phase 1: 0 IT MW delivered, 10 due')."""
    r = run(case, campuses=[{"campus_id": "C1", "hpc_max_it_mw": 20},
                            {"campus_id": "C2", "hpc_max_it_mw": 20}],
            offers=[{"it_mw": 20, "split": "true", "latest_start": "2027-02",
                     "signed": signed}],
            phases=ramp({0: 10, 6: 10}))
    if signed == "true":
        assert r.summary["status"] == "infeasible"
        assert any("O1" in d for d in r.summary["diagnosis"])
    else:
        assert r.summary["audit"] == {"passed": True, "violations": []}
        assert npv(r) == pytest.approx(73_000_000.00, abs=0.01)
        assert lease(r) == (False, None, None)


# ---------------------------------------------------------------------------------------------
# (c), (d) Late delivery and lapse
# ---------------------------------------------------------------------------------------------


def test_one_month_late_pays_exactly_one_penalty(case):
    """O1 latest_start 2027-06 (month 5), max_delay_months 2, penalty 100,000 a month. Build 6:
    the campus is ready in Jul (month 6) at the earliest, one month late.

    Start Jul: penalty for month 5 only (latest_start ≤ t < start) = 100,000
      NPV = 37,937,500 − 100,000 = 37,837,500.00
    Start Aug (block Feb): 31,937,500 + 387,500 − 3,000,000 + 5 × 1,500,000 − 2 × 100,000
      = 36,625,000; declining: 36,500,000.
    """
    r = solve(case, offers=[{"latest_start": "2027-06", "max_delay_months": 2,
                             "late_penalty_usd_per_month": 100_000}])
    assert npv(r) == pytest.approx(37_837_500.00, abs=0.01)
    assert lease(r) == (True, "C1", "2027-07")
    assert column(r, "late_penalty_usd") == [0.0] * 5 + [100_000.0] + [0.0] * 6
    row = rows_of(r).iloc[0]
    assert row["late_months"] == 1
    assert row["late_penalty_usd"] == pytest.approx(100_000.00, abs=0.01)


def test_unsigned_offer_lapses_after_max_delay(case):
    """O1 latest_start 2027-04 (month 3), penalty 100,000 a month; ready in Jul (month 6) at
    the earliest.

    max_delay_months 2: the last start is month 5 → the offer lapses: mining only,
      NPV 36,500,000.00.
    max_delay_months 3: start Jul, three months late (Apr, May, Jun):
      NPV = 37,937,500 − 3 × 100,000 = 37,637,500.00.
    """
    offer = {"latest_start": "2027-04", "late_penalty_usd_per_month": 100_000}
    lapsed = solve(case, offers=[{**offer, "max_delay_months": 2}])
    assert npv(lapsed) == pytest.approx(36_500_000.00, abs=0.01)
    assert lease(lapsed) == (False, None, None)
    assert blocks_by_month(lapsed) == {}

    late = solve(case, offers=[{**offer, "max_delay_months": 3}])
    assert npv(late) == pytest.approx(37_637_500.00, abs=0.01)
    assert lease(late) == (True, "C1", "2027-07")
    assert column(late, "late_penalty_usd") == [0.0] * 3 + [100_000.0] * 3 + [0.0] * 6
    row = rows_of(late).iloc[0]
    assert row["late_months"] == 3
    assert row["late_penalty_usd"] == pytest.approx(300_000.00, abs=0.01)


def test_signed_lease_lapsing_after_max_delay_is_infeasible_with_a_diagnosis(case):
    """Signed O1, latest_start 2027-04 + max_delay 2 = 2027-06, ready 2027-07 at the earliest:
    it cannot be delivered. Status 'infeasible', no NPV, and the diagnosis names the lease, the
    window closing in 2027-06 with the delay and the one more month of delay that would fix it."""
    r = run(case, offers=[{"latest_start": "2027-04", "max_delay_months": 2,
                           "late_penalty_usd_per_month": 100_000, "signed": "true"}])
    assert r.summary["status"] == "infeasible"
    assert r.summary["npv_usd"] is None
    [message] = r.summary["diagnosis"]
    assert message.startswith("Signed lease O1 needs 10 IT MW by 2027-06 (latest_start + 2 "
                              "months' delay).")
    assert "2027-07 at C1" in message
    assert "(max_delay_months = 3)" in message


# ---------------------------------------------------------------------------------------------
# (e) Prepayment and its credit
# ---------------------------------------------------------------------------------------------


def test_prepayment_received_at_signing_and_credited_against_rent(case):
    """O1 with prepayment 1,200,000 credited over 12 months; signing_month empty → month 0.

    Lease Jul (as in the reference): prepayment +1,200,000 in Jan; credit 1,200,000 / 12 =
    100,000 a month from Jul, 6 of the 12 months inside the horizon: −600,000. The other 6
    are after it; value_beyond_horizon is off, but rent already received is still owed back
    against later rent: prepayment_liability_usd 600,000 in Dec (discount 0 %).
    NPV = 37,937,500 + 1,200,000 − 600,000 − 600,000 = 37,937,500.00 (at 0 % an interest-free
    prepayment is worth nothing)
    """
    r = solve(case, offers=[{"prepayment_usd": 1_200_000, "prepayment_credit_months": 12}])
    assert npv(r) == pytest.approx(37_937_500.00, abs=0.01)
    co = r.company_month
    assert co["prepayment_liability_usd"].tolist() == pytest.approx([0.0] * 11 + [600_000.0])
    assert lease(r) == (True, "C1", "2027-07")
    assert column(r, "prepayment_usd") == [1_200_000.0] + [0.0] * 11
    assert column(r, "prepayment_credit_usd") == pytest.approx(
        [0.0] * 6 + [100_000.0] * 6, abs=0.01)
    assert column(r, "lease_revenue_usd") == pytest.approx([0.0] * 6 + [1_500_000.0] * 6)
    assert rows_of(r).iloc[0]["prepayment_usd"] == pytest.approx(1_200_000.00, abs=0.01)


def test_prepayment_signed_before_the_horizon_is_not_received_again(case):
    """Same offer, signing_month 2026-10 (before the horizon): the prepayment was already
    received, so no prepayment cash, but the credit still reduces rent, inside the horizon
    and (as prepayment_liability_usd) after it.
    NPV = 37,937,500 − 12 × 100,000 = 36,737,500.00 (still above mining only, 36,500,000)."""
    r = solve(case, offers=[{"prepayment_usd": 1_200_000, "prepayment_credit_months": 12,
                             "signing_month": "2026-10"}])
    assert npv(r) == pytest.approx(36_737_500.00, abs=0.01)
    assert lease(r) == (True, "C1", "2027-07")
    assert column(r, "prepayment_usd") == [0.0] * 12
    assert column(r, "prepayment_credit_usd") == pytest.approx(
        [0.0] * 6 + [100_000.0] * 6, abs=0.01)
    assert rows_of(r).iloc[0]["prepayment_usd"] == 0.0


def test_prepayment_discounted_at_its_signing_month(case):
    """Discount 1/1.01 a month (v^k = 1.01^−k, cash of month m discounted by v^(m+1));
    signing_month 2027-03 (month 2), prepayment 1,200,000 over 12 months; lease Jul.

      mining 87,500 × Σ_m days_m × v^(m+1)                        = 29,947,122.1357
      capex 500,000 × Σ_{k=1..6} v^k  (= 5.7954764746)             =  2,897,738.2373
      rent 1,500,000 × Σ_{k=7..12} v^k (= 5.4596009989)            =  8,189,401.4984
      prepayment 1,200,000 × v^3                                   =  1,164,708.1775
      credit 100,000 × 5.4596009989                                =    545,960.0999
      credit owed after the horizon: 100,000 × Σ_{k=13..18} v^k
        (= 5.1431911074; in Dec, 100,000 × Σ_{k=1..6} v^k = 579,547.6475)  =    514,319.1107
    NPV = 29,947,122.1357 − 2,897,738.2373 + 8,189,401.4984 + 1,164,708.1775 − 545,960.0999
          − 514,319.1107 = 35,343,214.36 (mining only would be 34,225,282.44).
    """
    r = solve(case, offers=[{"prepayment_usd": 1_200_000, "prepayment_credit_months": 12,
                             "signing_month": "2027-03"}],
              finance={"discount_rate_pct_per_year": ONE_PCT_A_MONTH})
    assert npv(r) == pytest.approx(35_343_214.36, abs=0.01)
    assert r.company_month["prepayment_liability_usd"].iloc[-1] == pytest.approx(579_547.65,
                                                                                 abs=0.01)
    assert lease(r) == (True, "C1", "2027-07")
    assert column(r, "prepayment_usd") == [0.0, 0.0, 1_200_000.0] + [0.0] * 9
    cm = r.campus_month
    discounted = (cm["prepayment_usd"] * cm["discount_factor"]).sum()
    assert discounted == pytest.approx(1_164_708.18, abs=0.01)


def test_prepayment_credit_longer_than_the_term(case):
    """value_beyond_horizon on; O1 only from 2027-07, term 12, prepayment 2,400,000 credited
    over 24 months (100,000 a month in 2027-07 … 2029-06, per the formulation
    P/n in s ≤ t < s + n).

    NPV = 31,937,500 − 3,000,000 + 12 × 1,500,000 + 2,400,000 − 24 × 100,000 = 46,937,500.00
    Either validation refuses prepayment_credit_months > term_months, or all 24 credit months
    count. The model keeps only the months up to the end of the last lease term it knows
    (data.total_months = 2028-06): 12 × 100,000 credited, NPV 48,137,500 — 1,200,000 too high,
    and the audit cannot see it (the months are missing from campus_month)."""
    try:
        r = run(case, offers=[{"term_months": 12, "prepayment_usd": 2_400_000,
                               "prepayment_credit_months": 24, "earliest_start": "2027-07",
                               "latest_start": "2027-07"}],
                finance={"value_beyond_horizon": True})
    except InputError as error:
        assert "prepayment_credit_months" in str(error)
        return
    assert npv(r) == pytest.approx(46_937_500.00, abs=0.01)
    credit = column(r, "prepayment_credit_usd") + column(r, "prepayment_credit_usd",
                                                         in_horizon=False)
    assert sum(credit) == pytest.approx(2_400_000.00, abs=0.01)


# ---------------------------------------------------------------------------------------------
# (f) Tenant capex
# ---------------------------------------------------------------------------------------------


def test_tenant_capex_share_over_the_build_months_before_delivery(case):
    """O1 with tenant_capex_pct 40: the tenant pays 40 % × 10 IT MW × 300,000 = 1,200,000,
    i.e. 1,200,000 / 6 = 200,000 in each of the 6 build months before the Jul delivery.
    NPV = 37,937,500 + 1,200,000 = 39,137,500.00"""
    r = solve(case, offers=[{"tenant_capex_pct": 40}])
    assert npv(r) == pytest.approx(39_137_500.00, abs=0.01)
    assert lease(r) == (True, "C1", "2027-07")
    assert column(r, "tenant_capex_usd") == pytest.approx([200_000.0] * 6 + [0.0] * 6)
    assert column(r, "capex_usd") == pytest.approx([500_000.0] * 6 + [0.0] * 6)
    assert rows_of(r).iloc[0]["tenant_capex_usd"] == pytest.approx(1_200_000.00, abs=0.01)


def test_tenant_capex_follows_each_phase(case):
    """The phased case (a) with tenant_capex_pct 50 and build 1: each 10 MW phase brings
    50 % × 10 × 300,000 = 1,500,000 in the one build month before its delivery: Jan for the
    Feb phase, Apr for the May phase. NPV = 51,000,000 + 3,000,000 = 54,000,000.00"""
    r = solve(case, campuses=[{"build_months": 1}],
              offers=[{"it_mw": 20, "tenant_capex_pct": 50}], phases=RAMP_10_THEN_10)
    assert npv(r) == pytest.approx(54_000_000.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-01": 1, "2027-04": 1}
    assert column(r, "tenant_capex_usd") == pytest.approx(
        [1_500_000.0, 0, 0, 1_500_000.0] + [0.0] * 8)
    assert rows_of(r)["tenant_capex_usd"].tolist() == pytest.approx([1_500_000.0] * 2)


def test_a_hall_let_twice_is_reimbursed_once(case):
    """hpc_max 10 IT MW: one hall. O1 (10 MW at 200 USD/kW-month = 2,000,000 a month,
    Jul–Sep, tenant_capex_pct 100) pays for the hall built Jan–Jun: 3,000,000, as it is spent.
    O2 (10 MW at 0.01 USD/kW-month, Oct–Dec, tenant_capex_pct 100) re-lets the same hall: no
    block is built for it, so it funds nothing and brings its rent only, 3 × 100 = 300.
    NPV = 31,937,500 − 3,000,000 + 3,000,000 + 6,000,000 + 300 = 37,937,800.00
    (booking O2's tenant capex as well would add a second 3,000,000 for the same hall)."""
    r = solve(case, campuses=[{"hpc_max_it_mw": 10}], offers=[
        {"offer_id": "O1", "rate_usd_per_kw_month": 200, "term_months": 3,
         "earliest_start": "2027-07", "latest_start": "2027-07", "tenant_capex_pct": 100},
        {"offer_id": "O2", "rate_usd_per_kw_month": 0.01, "term_months": 3,
         "earliest_start": "2027-10", "latest_start": "2027-10", "tenant_capex_pct": 100}])
    assert npv(r) == pytest.approx(37_937_800.00, abs=0.01)
    assert lease(r, "O1") == (True, "C1", "2027-07")
    assert lease(r, "O2") == (True, "C1", "2027-10")
    assert rows_of(r, "O1").iloc[0]["tenant_capex_usd"] == pytest.approx(3_000_000.0)
    assert rows_of(r, "O2").iloc[0]["tenant_capex_usd"] == 0.0
    assert column(r, "tenant_capex_usd") == pytest.approx([500_000.0] * 6 + [0.0] * 6)
    kpis = r.summary["kpis"]
    assert kpis["capex_tenant_funded_usd"] == pytest.approx(kpis["capex_gross_usd"])


# ---------------------------------------------------------------------------------------------
# (g) Spot market
# ---------------------------------------------------------------------------------------------

SPOT = {"hpc_spot_rate_usd_per_kw_month": 200, "hpc_spot_share_pct": 50}


@pytest.mark.parametrize(("market", "expected_npv", "blocks", "spot"), [
    ({}, 36_500_000.00, {}, [0.0] * 12),
    ({**SPOT, "hpc_spot_absorption_months": 2}, 37_937_500.00, {"2027-01": 1},
     [0.0] * 3 + [5.0] * 9),
    ({**SPOT, "hpc_spot_absorption_months": 8}, 36_500_000.00, {}, [0.0] * 12),
], ids=["no-spot-market", "absorbed-after-2-months", "absorbed-after-8-months"])
def test_building_on_speculation_pays_only_with_a_spot_market(case, market, expected_npv,
                                                              blocks, spot):
    """No offers; build 1, one block at most (hpc_max_it_mw 10). Spot rate 200 USD/kW-month,
    share 50 %: a ready block lets 0.5 × 10 = 5 MW → 5 × 1000 × 200 = 1,000,000 a month.

    A block started in Jan is ready in Feb (month 1) and costs 3,000,000 capex plus
    12,500 × 365 = 4,562,500 of mining = 7,562,500.
      no spot market: nothing is built, NPV 36,500,000.00
      absorption 2 months: spot from Apr (month 3 = ready + 2), 9 months × 1,000,000
        = 9,000,000 > 7,562,500 → built: NPV 36,500,000 + 1,437,500 = 37,937,500.00
        (starting in Feb instead saves 387,500 of mining but loses 1,000,000 of spot)
      absorption 8 months: spot only Oct–Dec, 3,000,000 < 7,562,500 → not built: 36,500,000.00
    """
    r = solve(case, campuses=[{"build_months": 1, "hpc_max_it_mw": 10}], market=market)
    assert npv(r) == pytest.approx(expected_npv, abs=0.01)
    assert blocks_by_month(r) == blocks
    assert column(r, "spot_mw") == pytest.approx(spot, abs=1e-9)
    assert column(r, "spot_revenue_usd") == pytest.approx([mw * 200_000 for mw in spot],
                                                          abs=0.01)


def test_spot_market_does_not_delay_a_lease(case):
    """Build 1, one block at most (hpc_max_it_mw 10); O1 10 MW at 150 (1,500,000 a month);
    spot 200 USD/kW-month, share 50 %, absorption 2 months.

    The absorption delay only concerns spot lettings: the block starts in Jan, is ready in Feb
    and O1 is leased from Feb, exactly as without a spot market; nothing is left for spot.
      mining 87.5 × 1,000 × 365 = 31,937,500 − capex 3,000,000 + rent 11 × 1,500,000
      = 16,500,000 → NPV 45,437,500.00
    (Leasing from Apr, after the absorption delay, would give 42,437,500.)
    """
    args = dict(campuses=[{"build_months": 1, "hpc_max_it_mw": 10}], offers=[{}])
    without = solve(case, **args)
    r = solve(case, **args, market={**SPOT, "hpc_spot_absorption_months": 2})
    for results in (without, r):
        assert npv(results) == pytest.approx(45_437_500.00, abs=0.01)
        assert lease(results) == (True, "C1", "2027-02")
        assert column(results, "it_leased_mw") == [0.0] + [10.0] * 11
    assert column(r, "spot_mw") == [0.0] * 12


def test_spot_lets_a_share_of_unleased_capacity_after_the_absorption_delay(case):
    """Build 1, hpc_max_it_mw 20; O1 10 MW at 150; spot 200 USD/kW-month, share 50 %,
    absorption 2 months.

    The market takes σ of the unleased ready capacity, but no more than σ of the capacity
    ready for 2 months (spot_within_unleased_ready, spot_after_absorption); halls are not
    tracked one by one — leases are taken to occupy the newest halls (docs/formulation.md).
    O1 is leased from Feb on block 1 (started Jan). From Apr block 1 has been ready 2 months,
    so 5 MW of block 2 can be let as soon as it is ready: block 2 starts in Mar (ready Apr),
    which keeps 12.5 MW mining in Jan–Feb.
      mining 75 × 1,000 × 365 + 12.5 × 1,000 × 59 = 27,375,000 + 737,500 = 28,112,500
      capex 6,000,000; rent 11 × 1,500,000 = 16,500,000; spot 9 × 1,000,000 = 9,000,000
      → NPV 47,612,500.00
    (At 4a2e2d6, with spot ≤ σ (R_{t−a} − Q_t), the lease itself had to wait: O1 from Apr,
    NPV 43,875,000 — test_spot_market_does_not_delay_a_lease guards against that.)
    """
    r = solve(case, campuses=[{"build_months": 1, "hpc_max_it_mw": 20}], offers=[{}],
              market={**SPOT, "hpc_spot_absorption_months": 2})
    assert npv(r) == pytest.approx(47_612_500.00, abs=0.01)
    assert lease(r) == (True, "C1", "2027-02")
    assert blocks_by_month(r) == {"2027-01": 1, "2027-03": 1}
    assert column(r, "it_leased_mw") == [0.0] + [10.0] * 11
    assert column(r, "spot_mw") == pytest.approx([0.0] * 3 + [5.0] * 9, abs=1e-9)
    assert column(r, "spot_revenue_usd") == pytest.approx([0.0] * 3 + [1_000_000.0] * 9,
                                                          abs=0.01)


# ---------------------------------------------------------------------------------------------
# (h) Tenant concentration
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cap", "expected_npv", "accepted", "blocks"), [
    (None, 45_375_000.00, {"O1": True, "O2": False}, {"2027-01": 2}),
    (70, 45_012_500.00, {"O1": True, "O2": True}, {"2027-01": 3}),
    (60, 36_500_000.00, {"O1": False, "O2": False}, {}),
], ids=["no-cap", "cap-70", "cap-60"])
def test_tenant_concentration_cap_chooses_and_declines_leases(case, cap, expected_npv,
                                                              accepted, blocks):
    """O1 tenant A 20 IT MW at 200 (4,000,000 a month); O2 tenant B 10 IT MW at 120
    (1,200,000 a month). Blocks in Jan, leases Jul–Dec.

      O1: rent 6 × 4,000,000 = 24,000,000 − capex 6,000,000 − mining 25 × 1,000 × 365
          (9,125,000) = +8,875,000
      O2: rent 6 × 1,200,000 = 7,200,000 − 3,000,000 − 4,562,500 = −362,500 (a loss)
    No cap: O1 only → 36,500,000 + 8,875,000 = 45,375,000.00
    Cap 70 %: O1 alone is 100 % of the leased MW; O1 + O2 gives A 20/30 = 66.7 % ≤ 70 %:
      take the loss-making O2 to keep O1 → 45,375,000 − 362,500 = 45,012,500.00
    Cap 60 %: 66.7 % > 60 % and any single lease is 100 %: decline both → 36,500,000.00
    """
    limits = {} if cap is None else {"limits": {"max_tenant_share_pct": cap}}
    r = solve(case, offers=[
        {"offer_id": "O1", "tenant": "A", "it_mw": 20, "rate_usd_per_kw_month": 200},
        {"offer_id": "O2", "tenant": "B", "it_mw": 10, "rate_usd_per_kw_month": 120}],
        **limits)
    assert npv(r) == pytest.approx(expected_npv, abs=0.01)
    assert {o: lease(r, o)[0] for o in ("O1", "O2")} == accepted
    for offer_id, taken in accepted.items():
        if taken:
            assert lease(r, offer_id) == (True, "C1", "2027-07")
    assert blocks_by_month(r) == blocks


# ---------------------------------------------------------------------------------------------
# (i) Supply-chain caps
# ---------------------------------------------------------------------------------------------

# Horizon 2027-07 … 2028-06: Jul–Dec 2027 = 184 days, Jan–Jun 2028 = 182 days (leap Feb).
MID_YEAR = {"start": "2027-07", "months": 12}
TWO_OFFERS = [{"offer_id": "O1", "rate_usd_per_kw_month": 150, "earliest_start": "2027-07",
               "latest_start": "2028-06"},
              {"offer_id": "O2", "rate_usd_per_kw_month": 140, "earliest_start": "2027-07",
               "latest_start": "2028-06"}]


def test_yearly_cap_pushes_a_start_into_the_next_calendar_year(case):
    """Build 1; O1 10 MW at 150 (1,500,000 a month), O2 10 MW at 140 (1,400,000 a month).

    No cap: both blocks in 2027-07, both leases from 2027-08 (11 months):
      mining 75 × 1,000 × 366 = 27,450,000 − capex 6,000,000 + rent 11 × 2,900,000
      = 31,900,000 → NPV 53,350,000.00
    max_it_mw_started_per_year 10: one block in 2027 (2027-07, for O1, the better rate), the
    other in 2028-01, the first month of the next year → O2 from 2028-02 (5 months):
      mining 87.5 × 1,000 × 184 = 16,100,000 + 75 × 1,000 × 182 = 13,650,000
      capex 6,000,000; rent 11 × 1,500,000 + 5 × 1,400,000 = 23,500,000
      NPV = 29,750,000 − 6,000,000 + 23,500,000 = 47,250,000.00
    """
    free = solve(case, campuses=[{"build_months": 1}], offers=TWO_OFFERS, horizon=MID_YEAR)
    assert npv(free) == pytest.approx(53_350_000.00, abs=0.01)
    assert blocks_by_month(free) == {"2027-07": 2}

    r = solve(case, campuses=[{"build_months": 1}], offers=TWO_OFFERS, horizon=MID_YEAR,
              limits={"max_it_mw_started_per_year": 10})
    assert npv(r) == pytest.approx(47_250_000.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-07": 1, "2028-01": 1}
    assert lease(r, "O1") == (True, "C1", "2027-08")
    assert lease(r, "O2") == (True, "C1", "2028-02")


def test_region_cap_moves_the_second_block_to_another_region(case):
    """As above, two campuses: C1 (ERCOT, 87.5 USD/MWh, margin 400) and C2 (PJM, margin
    1,000); build 1 at both.

    No cap: both blocks at C1 in 2027-07, leases from 2027-08:
      C1 75 × 400 × 366 = 10,980,000; C2 100 × 1,000 × 366 = 36,600,000; capex 6,000,000;
      rent 31,900,000 → NPV 73,480,000.00
    ERCOT cap 10 IT MW/yr: one block at C1 in 2027; the second lease goes to C2 (PJM) in
    2027-07 rather than to C1 in 2028-01:
      C1 87.5 × 400 × 366 = 12,810,000; C2 87.5 × 1,000 × 366 = 32,025,000; capex 6,000,000;
      rent 31,900,000 → NPV 70,735,000.00
      (second block at C1 in 2028-01 instead: C1 87.5 × 400 × 184 + 75 × 400 × 182
       = 11,900,000, C2 36,600,000, rent 16,500,000 + 5 × 1,400,000 → 66,000,000)
    """
    campuses = [{"campus_id": "C1", "build_months": 1, "power_price_usd_per_mwh": 87.5,
                 "region": "ERCOT"},
                {"campus_id": "C2", "build_months": 1, "region": "PJM"}]
    free = solve(case, campuses=campuses, offers=TWO_OFFERS, horizon=MID_YEAR)
    assert npv(free) == pytest.approx(73_480_000.00, abs=0.01)
    assert blocks_by_month(free, "C1") == {"2027-07": 2}

    r = solve(case, campuses=campuses, offers=TWO_OFFERS, horizon=MID_YEAR,
              limits={"max_it_mw_started_per_year_by_region": {"ERCOT": 10}})
    assert npv(r) == pytest.approx(70_735_000.00, abs=0.01)
    assert blocks_by_month(r, "C1") == {"2027-07": 1}
    assert blocks_by_month(r, "C2") == {"2027-07": 1}
    assert sorted(lease(r, o)[1] for o in ("O1", "O2")) == ["C1", "C2"]
    assert {lease(r, o)[2] for o in ("O1", "O2")} == {"2027-08"}


# ---------------------------------------------------------------------------------------------
# (j) ASIC salvage
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("salvage", "expected_npv", "accepted"), [
    (0, 36_500_000.00, False), (40_000, 36_937_500.00, True)])
def test_salvage_of_displaced_miners_tips_a_marginal_lease(case, salvage, expected_npv,
                                                           accepted):
    """O1 10 MW at 125 USD/kW-month (1,250,000 a month).

    Without salvage: 6 × 1,250,000 − 3,000,000 − 4,562,500 = −62,500 → declined,
      NPV 36,500,000.00.
    Salvage 40,000 USD/MW: the block started in Jan displaces 1.25 × 10 = 12.5 MW of miners,
      sold once in Jan for 12.5 × 40,000 = 500,000 → +437,500: accepted,
      NPV 36,500,000 + 437,500 = 36,937,500.00.
    (A block started only to sell miners in Dec would get 500,000 but pay 500,000 of capex in
    Dec and lose 387,500 of mining, so no sham conversion.)
    """
    r = solve(case, campuses=[{"asic_salvage_usd_per_mw": salvage}],
              offers=[{"rate_usd_per_kw_month": 125}])
    assert npv(r) == pytest.approx(expected_npv, abs=0.01)
    assert lease(r)[0] is accepted
    if accepted:
        assert column(r, "asic_salvage_usd") == pytest.approx([500_000.0] + [0.0] * 11)
        assert column(r, "miners_sold_mw") == pytest.approx([12.5] * 12)
        assert column(r, "mining_mw") == pytest.approx([87.5] * 12)
    else:
        assert column(r, "asic_salvage_usd") == [0.0] * 12
        assert column(r, "miners_sold_mw") == [0.0] * 12


def test_salvage_is_paid_once_per_block_in_its_start_month(case):
    """The phased case (a) with salvage 40,000 USD/MW: 12.5 MW sold in Jan (block 1) and
    another 12.5 MW in Apr (block 2), 500,000 each; miners_sold_mw is cumulative.
    NPV = 51,000,000 + 2 × 500,000 = 52,000,000.00"""
    r = solve(case, campuses=[{"build_months": 1, "asic_salvage_usd_per_mw": 40_000}],
              offers=[{"it_mw": 20}], phases=RAMP_10_THEN_10)
    assert npv(r) == pytest.approx(52_000_000.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-01": 1, "2027-04": 1}
    assert column(r, "asic_salvage_usd") == pytest.approx(
        [500_000.0, 0, 0, 500_000.0] + [0.0] * 8)
    assert column(r, "miners_sold_mw") == pytest.approx([12.5] * 3 + [25.0] * 9)


def test_salvage_with_more_miners_than_grid(case):
    """grid 90 MW, miner 100 MW (10 MW can never run), salvage 100,000 USD/MW, no offers.

    Mining only is a valid plan: 90 × 1,000 × 365 = 32,850,000.00 (and is what the model gives
    without a salvage value). With one, miners_displaced_by_conversion requires
    F ≥ 100 − 90 + 1.25 S = 10 + 1.25 S while miners_sold_from_converted_halls requires
    F ≤ 1.25 S: no plan satisfies both, and the scenario is reported 'infeasible'.
    (Expected value per the documented rule that only miners of converted halls are sold; if
    the 10 idle MW may also be sold, it becomes 32,850,000 + 10 × 100,000.)"""
    r = run(case, campuses=[{"grid_mw": 90, "asic_salvage_usd_per_mw": 100_000}])
    assert r.summary["status"] == "optimal"
    assert r.summary["audit"] == {"passed": True, "violations": []}
    assert npv(r) == pytest.approx(32_850_000.00, abs=0.01)
