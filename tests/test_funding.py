"""Funding and valuation, one hand-worked case per feature; each docstring shows the arithmetic.

Capex budget, cash floor, BTC treasury, project debt, EBITDA-multiple terminal value, the KPI
helpers (IRR, payback) and the mining-only baseline.

Common numbers (MARKET, CAMPUS and OFFER of tests/cases.py, as in test_model_cases), unless a
test says otherwise:

* market: BTC 100,000 USD, network 900 EH/s, fees 0, subsidy 3.125 BTC, no halving →
  hashprice = 144 × 3.125 × 100,000 ÷ (900 × 1000) = 50 USD/PH/day. When the BTC price grows,
  the network grows at the same rate, so the hashprice stays 50.
* campus C1: 20 J/TH → 50 PH/s per MW → revenue 2,500 USD/MW-day; power 62.5 USD/MWh →
  1,500 USD/MW-day; margin 1,000 USD/MW-day. grid 100 MW = miner 100 MW, PUE 1.25, blocks of
  10 IT MW (max 50), capex 300,000 USD/IT MW (3,000,000 per block, spread evenly over the
  build months), build 6 months, HPC opex 0, mining opex 0, no permit needed.
* a started 10 IT MW block takes 12.5 MW of grid: mining 100 → 87.5 MW (12,500 USD/day lost).
* an offer of 10 IT MW at 150 USD/kW-month pays 10 × 1000 × 150 = 1,500,000 USD/month.
  O1: escalator 0, term 120 months, may start in any month of 2027 at any campus, unsigned.
* horizon 12 months from 2027-01, discount 0 %, value_beyond_horizon off, MIP gap 0.
* days: 2027 Jan–Jun 31 28 31 30 31 30 (181), Jul–Dec 31 31 30 31 30 31 (184);
  2028 Jan–Jun 31 29 31 30 31 30 (182).

Every solved case must pass the independent audit (siteopt.results.audit) without violations, and
Σ company_month.net_cash_usd × discount_factor must equal npv_usd.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cases import ONE_PCT_A_MONTH, audited, blocks_by_month, npv, optimal, ramp, run

from siteopt.model.debt import repayment_schedule
from siteopt.results.kpis import irr_annual_pct, payback_month

# Annual rate whose monthly rate is exactly 0.5 %: (1.005^12 − 1) × 100 %.
HALF_PCT_A_MONTH = (1.005**12 - 1) * 100
# BTC price and network hashrate both × 1.01 a month: hashprice stays 50.
BTC_UP_1PCT_A_MONTH = {"btc_price_growth_pct_per_year": ONE_PCT_A_MONTH,
                       "network_hashrate_growth_pct_per_year": ONE_PCT_A_MONTH}
FROM_JULY = {"start": "2027-07", "months": 12}  # 2027-07 … 2028-06, 366 days


def solve(case, campuses=None, offers=None, phases=None, **scenario):
    """Solve to optimality; the plan passes the audit and its cash discounts to npv_usd."""
    r = audited(optimal(run(case, campuses, offers, phases, **scenario)))
    co = r.company_month
    assert float((co["net_cash_usd"] * co["discount_factor"]).sum()) == pytest.approx(
        npv(r), abs=0.01)
    return r


def company(results, name, in_horizon=True):
    co = results.company_month
    return [float(x) for x in co.loc[co["in_horizon"] == in_horizon, name]]


def lease_starts(results):
    """offer_id → start month of the accepted offers."""
    rows = results.leases[results.leases["accepted"].astype(bool)]
    return dict(zip(rows["offer_id"], rows["start_month"]))


def assert_cash_rolls_forward(results, opening, min_cash):
    """cash_balance_usd = opening + Σ (operating + investing + financing), never < floor."""
    co = results.company_month[results.company_month["in_horizon"]]
    flows = co["operating_cash_usd"] + co["investing_cash_usd"] + co["financing_cash_usd"]
    assert co["cash_balance_usd"].tolist() == pytest.approx(
        (opening + flows.cumsum()).tolist(), abs=0.01)
    # the kinds are the signed sums of their lines
    lines = {"operating_cash_usd": {"mining_revenue_usd": 1, "power_cost_usd": -1,
                                    "mining_opex_usd": -1, "lease_revenue_usd": 1,
                                    "spot_revenue_usd": 1, "prepayment_usd": 1,
                                    "prepayment_credit_usd": -1, "late_penalty_usd": -1,
                                    "hpc_opex_usd": -1},
             "investing_cash_usd": {"asic_salvage_usd": 1, "capex_usd": -1,
                                    "tenant_capex_usd": 1},
             "financing_cash_usd": {"debt_draw_usd": 1, "interest_usd": -1,
                                    "principal_usd": -1, "btc_sale_usd": 1}}
    for kind, signed in lines.items():
        assert co[kind].tolist() == pytest.approx(
            sum(s * co[line] for line, s in signed.items()).tolist(), abs=0.01)
    assert (co["cash_balance_usd"] >= min_cash - 0.005).all()


# ---------------------------------------------------------------------------------------------
# 1. Capex budget
# ---------------------------------------------------------------------------------------------

TWO_OFFERS = [{"offer_id": "O1", "latest_start": "2028-06"},
              {"offer_id": "O2", "latest_start": "2028-06"}]


@pytest.mark.parametrize(("budget", "blocks", "starts", "expected_npv"), [
    (None, {"2027-07": 2}, ["2027-08", "2027-08"], 54_450_000.00),
    (3_000_000, {"2027-07": 1, "2028-01": 1}, ["2027-08", "2028-02"], 47_750_000.00),
    ({2027: 3_000_000}, {"2027-07": 1, "2028-01": 1}, ["2027-08", "2028-02"], 47_750_000.00),
    ({2028: 3_000_000}, {"2027-07": 2}, ["2027-08", "2027-08"], 54_450_000.00),
    ({2027: 3_000_000, 2028: 0}, {"2027-07": 1}, ["2027-08"], 45_525_000.00),
], ids=["no-budget", "number", "map-2027", "map-2028-only", "map-2028-zero"])
def test_capex_budget_moves_a_block_into_the_next_year(case, budget, blocks, starts,
                                                        expected_npv):
    """Horizon 2027-07 … 2028-06 (Jul–Dec 184 days, Jan–Jun 182); build 1 month, so a
    block's 3,000,000 is paid in its start month and it is ready the month after. Offers O1
    and O2, 10 IT MW each, may start 2027-07 … 2028-06 (a lease starts ≥ Aug: build 1).

    No budget: both blocks in Jul 2027, both leases Aug–Jun (11 months):
      mining 75 × 1,000 × 366 = 27,450,000; rent 2 × 11 × 1,500,000 = 33,000,000;
      capex 6,000,000 → NPV 54,450,000.00
    Budget 3,000,000 a year (or {2027: 3,000,000}, 2028 then uncapped): one block fits in
    2027; the second starts in Jan 2028, the first month of the next year (each month later
    loses 1,500,000 rent and saves at most 12,500 × 31 = 387,500 of mining):
      mining 87.5 × 1,000 × 184 + 75 × 1,000 × 182 = 16,100,000 + 13,650,000 = 29,750,000
      rent (11 + 5) × 1,500,000 = 24,000,000; capex 6,000,000 → NPV 47,750,000.00
      (one offer only: 87.5 × 366,000 + 16,500,000 − 3,000,000 = 45,525,000 is less).
    {2028: 3,000,000}: 2027 is not listed, so it has no cap → as without a budget.
    {2027: 3,000,000, 2028: 0}: the second block fits in neither year → one lease only,
      NPV 45,525,000.00.
    """
    finance = {} if budget is None else {"capex_budget_usd_per_year": budget}
    r = solve(case, campuses=[{"build_months": 1}], offers=TWO_OFFERS, horizon=FROM_JULY,
              finance=finance)
    assert npv(r) == pytest.approx(expected_npv, abs=0.01)
    assert blocks_by_month(r) == blocks
    assert sorted(lease_starts(r).values()) == starts
    co = r.company_month
    by_year = co["landlord_capex_usd"].groupby(co["month"].str[:4]).sum()
    spent = {"2027": 3_000_000.0 * blocks.get("2027-07", 0),
             "2028": 3_000_000.0 * blocks.get("2028-01", 0)}
    assert by_year.to_dict() == pytest.approx(spent, abs=0.01)


@pytest.mark.parametrize(("tenant_pct", "blocks", "expected_npv"), [
    (0, {"2027-07": 1, "2028-01": 1}, 47_750_000.00),
    (50, {"2027-07": 2}, 55_950_000.00),
])
def test_capex_budget_counts_landlord_capex_after_tenant_capex(case, tenant_pct, blocks,
                                                               expected_npv):
    """As above with a budget of 4,500,000 a year; O2's tenant pays tenant_pct of its fit-out.

    Tenant capex of O2 (lease from Aug, build 1) falls in Jul: 50 % × 10 × 300,000 / 1 =
    1,500,000. Landlord capex of two blocks in Jul 2027 = 6,000,000 − 1,500,000 = 4,500,000
    ≤ budget, so both start in Jul: NPV 54,450,000 + 1,500,000 = 55,950,000.00.
    Without tenant capex 6,000,000 > 4,500,000: the second block moves to Jan 2028 as
    above, NPV 47,750,000.00.
    """
    offers = [TWO_OFFERS[0], {**TWO_OFFERS[1], "tenant_capex_pct": tenant_pct}]
    r = solve(case, campuses=[{"build_months": 1}], offers=offers, horizon=FROM_JULY,
              finance={"capex_budget_usd_per_year": 4_500_000})
    assert npv(r) == pytest.approx(expected_npv, abs=0.01)
    assert blocks_by_month(r) == blocks
    july = r.company_month.iloc[0]
    assert july["capex_usd"] == pytest.approx(3_000_000.0 * blocks["2027-07"], abs=0.01)
    assert july["tenant_capex_usd"] == pytest.approx(30_000 * tenant_pct, abs=0.01)
    assert july["landlord_capex_usd"] == pytest.approx(
        july["capex_usd"] - july["tenant_capex_usd"], abs=0.01)
    assert july["landlord_capex_usd"] <= 4_500_000.005


# ---------------------------------------------------------------------------------------------
# 2. Cash floor and BTC treasury
# ---------------------------------------------------------------------------------------------

# Horizon Jan–Jun 2027 (181 days), build 1, O1 may start any month of 2027.
SIX_MONTHS = {"months": 6}
FLOOR = {"opening_cash_usd": 1_000_000, "min_cash_usd": 1_000_000}


def test_cash_floor_without_treasury_moves_the_start_later(case):
    """Opening cash 1,000,000 = floor 1,000,000; no treasury.

    Without a floor the block starts in Jan and O1 runs Feb–Jun:
      mining 87.5 × 1,000 × 181 = 15,837,500; rent 5 × 1,500,000; capex 3,000,000
      → NPV 20,337,500.00
    With the floor, Jan would end at 1,000,000 + 87.5 × 1,000 × 31 − 3,000,000
      = 1,000,000 + 2,712,500 − 3,000,000 = 712,500 < 1,000,000: not allowed.
    Not infeasible: January's mining funds a Feb start.
      Jan: 1,000,000 + 100 × 1,000 × 31 = 4,100,000
      Feb: 4,100,000 + 87.5 × 1,000 × 28 − 3,000,000 = 3,550,000
      Mar–Jun: + 87.5 × 1,000 × d + 1,500,000 each: 7,762,500; 11,887,500; 16,100,000;
               20,225,000
    NPV = mining 3,100,000 + 87.5 × 1,000 × 150 (13,125,000) + rent 4 × 1,500,000
          − 3,000,000 = 19,225,000.00 (mining only: 18,100,000).
    """
    free = solve(case, campuses=[{"build_months": 1}], offers=[{}], horizon=SIX_MONTHS)
    assert npv(free) == pytest.approx(20_337_500.00, abs=0.01)
    assert blocks_by_month(free) == {"2027-01": 1}

    r = solve(case, campuses=[{"build_months": 1}], offers=[{}], horizon=SIX_MONTHS,
              finance=FLOOR)
    assert npv(r) == pytest.approx(19_225_000.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-02": 1}
    assert lease_starts(r) == {"O1": "2027-03"}
    assert company(r, "cash_balance_usd") == pytest.approx(
        [4_100_000, 3_550_000, 7_762_500, 11_887_500, 16_100_000, 20_225_000], abs=0.01)
    assert r.summary["kpis"]["min_cash_usd"] == pytest.approx(3_550_000.00, abs=0.01)
    assert r.summary["kpis"]["min_cash_month"] == "2027-02"
    assert_cash_rolls_forward(r, 1_000_000, 1_000_000)
    # the finance start (no floor) is the January plan, which the floor rules out: it is
    # repaired over its own lease option (O1 from Feb, or nothing) before the funded solve;
    # the funded solve then finds the same optimum as without a start
    assert r.summary["search"]["finance_start"]["repair"] == "restricted"
    plain = solve(case, campuses=[{"build_months": 1}], offers=[{}], horizon=SIX_MONTHS,
                  finance=FLOOR, solver={"finance_start": False})
    assert npv(plain) == pytest.approx(19_225_000.00, abs=0.01)


def test_a_finance_start_that_fits_the_floor_is_kept(case):
    """A floor of 0 with 1,000,000 opening cash: the January plan of the finance start
    fits (Jan ends at 712,500 ≥ 0), so it is kept as it is; NPV 20,337,500.00 as without a
    floor."""
    r = solve(case, campuses=[{"build_months": 1}], offers=[{}], horizon=SIX_MONTHS,
              finance={"opening_cash_usd": 1_000_000, "min_cash_usd": 0})
    assert npv(r) == pytest.approx(20_337_500.00, abs=0.01)
    assert r.summary["search"]["finance_start"]["repair"] == "kept"
    assert r.summary["search"]["start_used"] is True


def test_btc_treasury_sells_just_enough_when_holding_gains(case):
    """As above with 10 BTC held; BTC (and network) grow × 1.01 a month, discount 0:
    price_t = 100,000 × 1.01^t, so every BTC kept is worth more at the end — sell only
    what the floor needs.

    Block in Jan again; Jan is short 3,000,000 − 2,712,500 = 287,500:
      sold 287,500 / 100,000 = 2.875 BTC in Jan, btc_sale_usd 287,500.00, cash Jan 1,000,000
    Left 7.125 BTC at Jun's price 100,000 × 1.01^5 = 105,101.00501:
      btc_treasury_value_usd = 7.125 × 105,101.00501 = 748,844.66
    NPV = 20,337,500 + 287,500 + 748,844.66 = 21,373,844.66
    (a Feb start without selling: 19,225,000 + 10 × 105,101.00501 = 20,276,010.05).
    unlevered NPV leaves the sale and the BTC value out: 20,337,500.00.
    """
    r = solve(case, campuses=[{"build_months": 1}], offers=[{}], horizon=SIX_MONTHS,
              market=BTC_UP_1PCT_A_MONTH, finance={**FLOOR, "btc_treasury_btc": 10})
    assert npv(r) == pytest.approx(21_373_844.66, abs=0.01)
    assert blocks_by_month(r) == {"2027-01": 1}
    assert lease_starts(r) == {"O1": "2027-02"}
    assert company(r, "btc_sold_btc") == pytest.approx([2.875, 0, 0, 0, 0, 0], abs=1e-9)
    assert company(r, "btc_sale_usd") == pytest.approx([287_500.0, 0, 0, 0, 0, 0], abs=0.01)
    assert company(r, "btc_held_btc") == pytest.approx([7.125] * 6, abs=1e-9)
    assert company(r, "btc_treasury_value_usd") == pytest.approx([0] * 5 + [748_844.66],
                                                                 abs=0.01)
    assert company(r, "cash_balance_usd")[0] == pytest.approx(1_000_000.00, abs=0.01)
    kpis = r.summary["kpis"]
    assert kpis["btc_sold_btc"] == pytest.approx(2.875, abs=1e-9)
    assert kpis["btc_sold_usd"] == pytest.approx(287_500.00, abs=0.01)
    assert kpis["unlevered_npv_usd"] == pytest.approx(20_337_500.00, abs=0.01)
    assert_cash_rolls_forward(r, 1_000_000, 1_000_000)


def test_btc_treasury_sale_and_hold_are_equal_at_zero_growth_and_discount(case):
    """The same with a flat BTC price (100,000) and discount 0: a BTC sold in any month and
    a BTC kept to the end are both worth 100,000, so only the totals are determined.

    NPV = 20,337,500 + 10 × 100,000 = 21,337,500.00 whatever is sold; Jan must sell at
    least 2.875 BTC (287,500); sale proceeds + value of what is left = 1,000,000.00.
    """
    r = solve(case, campuses=[{"build_months": 1}], offers=[{}], horizon=SIX_MONTHS,
              finance={**FLOOR, "btc_treasury_btc": 10})
    assert npv(r) == pytest.approx(21_337_500.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-01": 1}
    sold = company(r, "btc_sold_btc")
    assert sold[0] >= 2.875 - 1e-9
    assert sum(sold) <= 10 + 1e-9
    assert company(r, "btc_sale_usd") == pytest.approx([100_000 * s for s in sold], abs=0.01)
    assert sum(company(r, "btc_sale_usd")) + sum(company(r, "btc_treasury_value_usd")) == \
        pytest.approx(1_000_000.00, abs=0.01)
    assert company(r, "btc_treasury_value_usd")[5] == pytest.approx(
        (10 - sum(sold)) * 100_000, abs=0.01)
    assert_cash_rolls_forward(r, 1_000_000, 1_000_000)


def test_btc_treasury_sold_at_once_when_growth_is_below_the_discount_rate(case):
    """Mining only, 3 months, 10 BTC, flat price, discount 1 % a month (factor 1/1.01^(t+1)).

    A BTC sold in Jan is worth 100,000 / 1.01; kept to Mar 100,000 / 1.01^3: sell all in Jan.
      mining: 3,100,000 / 1.01 + 2,800,000 / 1.01^2 + 3,100,000 / 1.01^3 = 8,822,965.33
      BTC: 1,000,000 / 1.01 = 990,099.01 → NPV 9,813,064.34
    """
    finance = {"discount_rate_pct_per_year": ONE_PCT_A_MONTH, "btc_treasury_btc": 10}
    r = solve(case, horizon={"months": 3}, finance=finance)
    assert npv(r) == pytest.approx(9_813_064.34, abs=0.01)
    assert company(r, "btc_sold_btc") == pytest.approx([10, 0, 0], abs=1e-9)
    assert company(r, "btc_sale_usd") == pytest.approx([1_000_000, 0, 0], abs=0.01)
    assert company(r, "btc_treasury_value_usd") == pytest.approx([0, 0, 0], abs=0.01)
    assert r.summary["kpis"]["unlevered_npv_usd"] == pytest.approx(8_822_965.33, abs=0.01)


def test_btc_treasury_funds_a_signed_lease_that_cash_alone_cannot(case):
    """No miners (miner_mw 0: no mining cash), permit 2027-04, build 1, opening cash
    1,000,000, floor 0; O1 signed, start 2027-01 … 2027-06.

    The block starts in Apr (month 3, the permit) and is paid then: 3,000,000 > 1,000,000,
    and nothing comes in before the block is ready, so without a treasury no start is
    possible at all: status 'infeasible' (an unsigned O1 would simply be declined).
    With 30 BTC, price × 1.01 a month (price_3 = 100,000 × 1.030301 = 103,030.10):
      sold in Apr 2,000,000 / 103,030.10 = 19.41180296 BTC; cash Apr 0
      left 10.58819704 BTC × price_5 (105,101.00501) = 1,112,830.15
      rent May–Jun 2 × 1,500,000 = 3,000,000 = capex 3,000,000
      NPV = 2,000,000 + 1,112,830.15 = 3,112,830.15
    The baseline (no conversion) keeps all 30 BTC: 30 × 105,101.00501 = 3,153,030.15.
    """
    args = dict(campuses=[{"miner_mw": 0, "build_months": 1, "permit_ready": "2027-04"}],
                offers=[{"signed": "true", "latest_start": "2027-06"}], horizon=SIX_MONTHS,
                market=BTC_UP_1PCT_A_MONTH)
    floor = {"opening_cash_usd": 1_000_000, "min_cash_usd": 0}
    r = run(case, **args, finance=floor)
    assert r.summary["status"] == "infeasible"
    assert r.summary["npv_usd"] is None

    r = solve(case, **args, finance={**floor, "btc_treasury_btc": 30})
    price = [100_000 * 1.01**t for t in range(6)]
    sold = 2_000_000 / price[3]
    assert sold == pytest.approx(19.41180296, abs=1e-8)
    assert npv(r) == pytest.approx(3_112_830.15, abs=0.01)
    assert blocks_by_month(r) == {"2027-04": 1}
    assert lease_starts(r) == {"O1": "2027-05"}
    assert company(r, "btc_sold_btc") == pytest.approx([0, 0, 0, sold, 0, 0], abs=1e-9)
    assert company(r, "btc_sale_usd") == pytest.approx([0, 0, 0, 2_000_000, 0, 0], abs=0.01)
    assert company(r, "btc_treasury_value_usd")[5] == pytest.approx(1_112_830.15, abs=0.01)
    assert company(r, "cash_balance_usd") == pytest.approx(
        [1_000_000, 1_000_000, 1_000_000, 0, 1_500_000, 3_000_000], abs=0.01)
    assert r.summary["baseline"]["npv_usd"] == pytest.approx(3_153_030.15, abs=0.01)
    assert_cash_rolls_forward(r, 1_000_000, 0)


# ---------------------------------------------------------------------------------------------
# 3. Project debt (and the unlevered NPV)
# ---------------------------------------------------------------------------------------------

# 12 months of 2027, build 3, O1 with 50 % tenant capex, discount 1 % a month, debt 0.5 % a
# month at 60 % LTC. The debt is cheaper than the discount rate: every draw adds value, so the
# plan draws the most it may.
DEBT_DISCOUNT = {"discount_rate_pct_per_year": ONE_PCT_A_MONTH}
DEBT_CASE = dict(campuses=[{"build_months": 3}], offers=[{"tenant_capex_pct": 50}])
NO_DEBT_NPV = 40_947_767.93


def debt_case(case, amortisation, tenor):
    debt = {"max_ltc_pct": 60, "rate_pct_per_year": HALF_PCT_A_MONTH, "tenor_months": tenor,
            "amortisation": amortisation}
    return solve(case, **DEBT_CASE, finance={**DEBT_DISCOUNT, "debt": debt})


def test_unlevered_case_without_debt(case):
    """The debt case without debt. Block in Jan (build 3: 1,000,000 capex in Jan, Feb, Mar),
    O1 from Apr (month 3); the tenant pays 50 % × 10 × 300,000 / 3 = 500,000 in each of
    Jan–Mar, so landlord capex is 500,000 a month.
      net_t = 87.5 × 1,000 × d_t − 500,000 (t = 0..2), 87.5 × 1,000 × d_t + 1,500,000 (3..11)
      NPV = Σ net_t / 1.01^(t+1) = 40,947,767.93
    """
    r = solve(case, **DEBT_CASE, finance=DEBT_DISCOUNT)
    days = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
    net = [87_500 * d + (-500_000 if t < 3 else 1_500_000) for t, d in enumerate(days)]
    assert sum(n / 1.01 ** (t + 1) for t, n in enumerate(net)) == pytest.approx(
        NO_DEBT_NPV, abs=0.01)
    assert npv(r) == pytest.approx(NO_DEBT_NPV, abs=0.01)
    assert r.summary["kpis"]["unlevered_npv_usd"] == pytest.approx(NO_DEBT_NPV, abs=0.01)
    assert blocks_by_month(r) == {"2027-01": 1}
    assert company(r, "landlord_capex_usd")[:4] == pytest.approx([500_000] * 3 + [0], abs=0.01)


def test_debt_funds_the_start_that_the_cash_floor_blocks(case):
    """The cash-floor case (opening = floor = 1,000,000, Jan short 287,500 for a Jan start)
    with debt at 60 % LTC, 0.5 % a month, bullet over 3 months, discount 0: every USD drawn
    costs 3 × 0.5 % in interest, so the plan draws just the shortfall, 287,500 in Jan
    (≤ 60 % × 3,000,000), and starts in Jan again.
      interest 287,500 × 0.005 = 1,437.50 in Feb, Mar, Apr; principal 287,500 in Apr
      NPV = 20,337,500 − 3 × 1,437.50 = 20,333,187.50; unlevered 20,337,500.00
      cash: Jan 1,000,000; Feb 1,000,000 + 87.5 × 1,000 × 28 + 1,500,000 − 1,437.50
            = 4,948,562.50
    """
    debt = {"max_ltc_pct": 60, "rate_pct_per_year": HALF_PCT_A_MONTH, "tenor_months": 3,
            "amortisation": "bullet"}
    r = solve(case, campuses=[{"build_months": 1}], offers=[{}], horizon=SIX_MONTHS,
              finance={**FLOOR, "debt": debt})
    assert npv(r) == pytest.approx(20_333_187.50, abs=0.01)
    assert blocks_by_month(r) == {"2027-01": 1}
    assert company(r, "debt_draw_usd") == pytest.approx([287_500, 0, 0, 0, 0, 0], abs=0.01)
    assert company(r, "interest_usd") == pytest.approx([0, 1_437.5, 1_437.5, 1_437.5, 0, 0],
                                                       abs=0.01)
    assert company(r, "principal_usd") == pytest.approx([0, 0, 0, 287_500, 0, 0], abs=0.01)
    assert company(r, "debt_outstanding_usd") == pytest.approx([0] * 6, abs=0.01)
    assert company(r, "cash_balance_usd")[:2] == pytest.approx([1_000_000, 4_948_562.50],
                                                               abs=0.01)
    assert r.summary["kpis"]["unlevered_npv_usd"] == pytest.approx(20_337_500.00, abs=0.01)
    assert_cash_rolls_forward(r, 1_000_000, 1_000_000)


DEBT_EXPECTED = {
    # (amortisation, tenor): interest Feb…Dec, principal Feb…Dec, debt outstanding (Dec)
    ("bullet", 6): ([1_500, 3_000] + [4_500] * 4 + [3_000, 1_500, 0, 0, 0],
                    [0] * 5 + [300_000] * 3 + [0] * 3, 0.0),
    ("bullet", 24): ([1_500, 3_000] + [4_500] * 9, [0] * 11, 900_000.0),
    ("level", 24): ([1_500.00, 2_941.02, 4_322.76, 4_144.93, 3_966.22, 3_786.60, 3_606.09,
                     3_424.68, 3_242.36, 3_059.13, 2_874.98],
                    [11_796.18, 23_651.35, 35_565.79, 35_743.62, 35_922.33, 36_101.95,
                     36_282.46, 36_463.87, 36_646.19, 36_829.42, 37_013.56], 537_983.30),
}


@pytest.mark.parametrize(("amortisation", "tenor"), list(DEBT_EXPECTED),
                         ids=[f"{a}-{n}" for a, n in DEBT_EXPECTED])
def test_project_debt_at_ltc(case, amortisation, tenor):
    """Draw 60 % × 500,000 = 300,000 in each of Jan, Feb, Mar (month t = 0, 1, 2) — LTC
    applies to the landlord's capex (1,000,000 − 500,000 tenant capex). i = 0.5 % a month.

    bullet: each draw pays 300,000 × 0.5 % = 1,500 a month from the month after it, and its
      principal at t + tenor. Interest Feb 1,500, Mar 3,000, Apr on 4,500.
      tenor 6: principal 300,000 in Jul, Aug, Sep; interest stops after each repayment
        (Jul 4,500, Aug 3,000, Sep 1,500); nothing outstanding.
      tenor 24: no principal inside the horizon; 900,000 outstanding in Dec.
    level, tenor 24: payment = 300,000 × 0.005 / (1 − 1.005^−24) = 13,296.18 a month.
      Draw 0: interest 1,500.00, principal 11,796.18 in Feb; balance after k payments
      B_k = 300,000 × 1.005^k − 13,296.18 × (1.005^k − 1) / 0.005.
      Dec: 11, 10 and 9 payments made → outstanding B_11 + B_10 + B_9
      = 166,948.89 + 179,348.33 + 191,686.08 = 537,983.30.
    The draws change nothing else, so NPV = no-debt NPV + PV(draws − interest − principal −
    outstanding × 1/1.01^12), and the unlevered NPV is the no-debt NPV, 40,947,767.93.
    """
    r = debt_case(case, amortisation, tenor)
    interest, principal, outstanding = DEBT_EXPECTED[amortisation, tenor]
    assert blocks_by_month(r) == {"2027-01": 1}
    draws = company(r, "debt_draw_usd")
    assert draws == pytest.approx([300_000] * 3 + [0] * 9, abs=0.01)
    landlord = company(r, "landlord_capex_usd")
    assert all(d <= 0.6 * c + 0.005 for d, c in zip(draws, landlord))
    assert company(r, "interest_usd") == pytest.approx([0] + interest, abs=0.01)
    assert company(r, "principal_usd") == pytest.approx([0] + principal, abs=0.01)
    assert company(r, "debt_outstanding_usd") == pytest.approx([0] * 11 + [outstanding],
                                                               abs=0.01)
    assert company(r, "debt_balance_usd")[11] == pytest.approx(outstanding, abs=0.01)
    balance = np.cumsum(np.array(draws) - np.array(company(r, "principal_usd")))
    assert company(r, "debt_balance_usd") == pytest.approx(balance.tolist(), abs=0.01)
    if amortisation == "level":
        pay = 300_000 * 0.005 / (1 - 1.005**-24)
        assert pay == pytest.approx(13_296.18, abs=0.01)
        left = [300_000 * 1.005**k - pay * (1.005**k - 1) / 0.005 for k in (11, 10, 9)]
        assert left == pytest.approx([166_948.89, 179_348.33, 191_686.08], abs=0.01)
        assert sum(left) == pytest.approx(outstanding, abs=0.01)
        # each month's interest + principal is whole payments: 1, 2, then 3 draws paying
        paid = [a + b for a, b in zip(interest, principal)]
        assert paid == pytest.approx([pay, 2 * pay] + [3 * pay] * 9, abs=0.01)
    df = [1.01 ** -(t + 1) for t in range(12)]
    debt_pv = sum(300_000 * df[t] for t in range(3)) \
        - sum((i + p) * df[t + 1] for t, (i, p) in enumerate(zip(interest, principal))) \
        - outstanding * df[11]
    assert npv(r) == pytest.approx(NO_DEBT_NPV + debt_pv, abs=0.01)
    kpis = r.summary["kpis"]
    assert kpis["unlevered_npv_usd"] == pytest.approx(NO_DEBT_NPV, abs=0.01)
    assert kpis["debt_drawn_usd"] == pytest.approx(900_000.00, abs=0.01)
    assert kpis["capex_net_usd"] == pytest.approx(1_500_000.00, abs=0.01)
    # without opening cash the balance starts at 0 and is not floored
    assert_cash_rolls_forward(r, 0.0, -np.inf)


def test_allowing_debt_never_lowers_npv(case):
    """Debt may always be left undrawn, so allowing it can never lower the NPV.

    Build 3; O1 20 IT MW, 10 at its start and 10 at start + 10 months, starts only 2027-04
    (month 3); tenant capex 50 %; horizon 2027, value_beyond_horizon off.
    Phase 2 is due in month 13, after the horizon, so (formulation) its block must be ready
    by Dec (month 11): it starts in Sep (month 8) at the latest, capex Sep–Nov. The tenant's
    share of phase 2 falls in the 3 months before delivery, months 10–12: Nov and Dec inside.
    Dec: capex 0, tenant capex 50 % × 10 × 300,000 / 3 = 500,000 → landlord capex −500,000.
    Without debt: block 1 Jan, block 2 Sep, O1 from Apr:
      mining 87.5 × 1,000 × 243 (Jan–Aug) + 75 × 1,000 × 122 (Sep–Dec)
             = 21,262,500 + 9,150,000 = 30,412,500
      capex 6,000,000; tenant capex 3 × 500,000 + 2 × 500,000 = 2,500,000, and the third
      500,000 of phase 2 (Jan 2028, after the horizon) is owed for capex already paid:
      tenant_capex_receivable_usd 500,000 in Dec (at 0 %)
      rent phase 1 Apr–Dec 9 × 1,500,000 = 13,500,000 → NPV 40,912,500.00
      (declining O1: 36,500,000).
    With debt at 0 % (draws neither add nor cost anything) the same plan, drawing nothing,
    is still allowed: expected NPV 40,912,500.00. The model requires draw_Dec ≤
    50 % × (−500,000) < 0 instead, so it starts a third, unused block in Dec to lift Dec's
    capex to 1,000,000 (landlord 500,000): 1,000,000 of capex and 12.5 × 1,000 × 31 =
    387,500 of mining lost → NPV 39,025,000.
    """
    args = dict(campuses=[{"build_months": 3}],
                offers=[{"it_mw": 20, "earliest_start": "2027-04", "latest_start": "2027-04",
                         "tenant_capex_pct": 50}],
                phases=ramp({0: 10, 10: 10}))
    without = solve(case, **args)
    assert npv(without) == pytest.approx(40_912_500.00, abs=0.01)
    assert blocks_by_month(without) == {"2027-01": 1, "2027-09": 1}
    assert company(without, "landlord_capex_usd")[10:] == pytest.approx([500_000, -500_000],
                                                                          abs=0.01)
    debt = {"max_ltc_pct": 50, "rate_pct_per_year": 0, "tenor_months": 12,
            "amortisation": "bullet"}
    r = run(case, **args, finance={"debt": debt})
    assert r.summary["status"] == "optimal"
    assert npv(r) == pytest.approx(40_912_500.00, abs=0.01)


# ---------------------------------------------------------------------------------------------
# 4. Repayment schedule
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("rate_pct", "tenor"), [(8.0, 12), (HALF_PCT_A_MONTH, 24), (12.0, 1)])
def test_level_schedule_is_the_closed_form_annuity(rate_pct, tenor):
    """Per USD drawn: monthly i = (1 + r)^(1/12) − 1, payment = i / (1 − (1 + i)^−n).

    Interest in month j = i × balance before it; principal = payment − interest; balance
    after j payments = (1 + i)^j − payment × ((1 + i)^j − 1) / i (0 after n); Σ principal
    = 1; Σ interest = n × payment − 1. E.g. 8 %/yr: i = 1.08^(1/12) − 1 = 0.006434030,
    payment over 12 months = 0.0868594.
    """
    interest, principal, balance = repayment_schedule(rate_pct, tenor, "level")
    i = (1 + rate_pct / 100) ** (1 / 12) - 1
    payment = i / (1 - (1 + i) ** -tenor)
    j = np.arange(1, tenor + 1)
    closed = (1 + i) ** j - payment * ((1 + i) ** j - 1) / i
    assert len(interest) == len(principal) == len(balance) == tenor
    assert interest + principal == pytest.approx(np.full(tenor, payment), abs=1e-12)
    assert balance == pytest.approx(closed, abs=1e-12)
    assert balance[-1] == pytest.approx(0.0, abs=1e-12)
    assert interest == pytest.approx(i * np.concatenate([[1.0], closed[:-1]]), abs=1e-12)
    assert principal.sum() == pytest.approx(1.0, abs=1e-12)
    assert interest.sum() == pytest.approx(tenor * payment - 1, abs=1e-12)
    if rate_pct == 8.0:
        assert i == pytest.approx(0.006434030, abs=1e-9)
        assert payment == pytest.approx(0.0868594, abs=1e-7)
    if tenor == 1:
        assert interest[0] == pytest.approx(i, abs=1e-15)
        assert principal[0] == pytest.approx(1.0, abs=1e-12)


def test_level_schedule_at_zero_rate_repays_evenly():
    """r = 0: payment 1/n, no interest; balance 1 − j/n."""
    interest, principal, balance = repayment_schedule(0.0, 4, "level")
    assert interest.tolist() == [0.0] * 4
    assert principal == pytest.approx([0.25] * 4, abs=1e-15)
    assert balance == pytest.approx([0.75, 0.5, 0.25, 0.0], abs=1e-15)


def test_bullet_schedule_pays_interest_then_principal():
    """Bullet: interest i on the full USD each month, the whole principal in month n."""
    interest, principal, balance = repayment_schedule(HALF_PCT_A_MONTH, 6, "bullet")
    assert interest == pytest.approx([0.005] * 6, abs=1e-15)
    assert principal.tolist() == [0.0] * 5 + [1.0]
    assert balance.tolist() == [1.0] * 5 + [0.0]
    assert interest.sum() == pytest.approx(0.03, abs=1e-14)


# ---------------------------------------------------------------------------------------------
# 5. Terminal value by EBITDA multiple
# ---------------------------------------------------------------------------------------------

TV_CASE = dict(campuses=[{"hpc_opex_usd_per_it_mw_month": 10_000}], offers=[{}],
               horizon={"months": 18},
               finance={"value_beyond_horizon": True,
                        "terminal_value": {"method": "ebitda_multiple",
                                           "hpc_ebitda_multiple": 10,
                                           "mining_ebitda_multiple": 2}})


def test_terminal_value_by_ebitda_multiple(case):
    """Horizon 18 months (2027-01 … 2028-06, 547 days); build 6; HPC opex 10,000 USD/IT
    MW-month; multiples HPC 10, mining 2; value_beyond_horizon true, but with this method
    nothing after the horizon counts.

    Block Jan 2027, ready and leased from Jul 2027 (month 6); last 12 months = Jul 2027 …
    Jun 2028 (months 6–17, 184 + 182 = 366 days):
      HPC EBITDA = 12 × (1,500,000 − 100,000) = 16,800,000 → hpc TV 10 × = 168,000,000.00
      mining EBITDA = 87.5 × 1,000 × 366 = 32,025,000 → mining TV 2 × = 64,050,000.00
    Cash inside: mining 87.5 × 1,000 × 547 = 47,862,500; capex 3,000,000;
      rent 12 × 1,500,000 = 18,000,000; HPC opex 12 × 100,000 = 1,200,000 → 61,662,500
    NPV = 61,662,500 + 232,050,000 = 293,712,500.00 (the 108 months of rent after Jun 2028
    are not counted).
    """
    r = solve(case, **TV_CASE)
    assert npv(r) == pytest.approx(293_712_500.00, abs=0.01)
    assert blocks_by_month(r) == {"2027-01": 1}
    assert lease_starts(r) == {"O1": "2027-07"}
    co = r.company_month
    assert len(co) == 18 and co["in_horizon"].all()
    assert r.campus_month["in_horizon"].all()
    assert company(r, "hpc_terminal_value_usd") == pytest.approx([0] * 17 + [168_000_000],
                                                                 abs=0.01)
    assert company(r, "mining_terminal_value_usd") == pytest.approx([0] * 17 + [64_050_000],
                                                                    abs=0.01)
    assert company(r, "valuation_usd")[17] == pytest.approx(232_050_000.00, abs=0.01)
    assert r.summary["kpis"]["terminal_value_usd"] == pytest.approx(232_050_000.00, abs=0.01)
    assert r.summary["kpis"]["committed_after_horizon_usd"] == 0.0
    assert r.summary["kpis"]["unlevered_npv_usd"] == pytest.approx(293_712_500.00, abs=0.01)
    assert sum(company(r, "lease_revenue_usd")) == pytest.approx(18_000_000.00, abs=0.01)


# ---------------------------------------------------------------------------------------------
# 6. IRR and payback
# ---------------------------------------------------------------------------------------------


def test_irr_of_known_flows():
    """−100 then +110: monthly 10 % → (1.1^12 − 1) × 100 = 213.842837672 %.
    −100 then +90: monthly −10 % → (0.9^12 − 1) × 100 = −71.757046352 %.
    −100 then +100: 0 %.
    −1,000 then 12 × 1,000 × 0.01 / (1 − 1.01^−12) (= 88.848789): monthly 1 % →
    (1.01^12 − 1) × 100 = 12.682503013 %; the same shifted by leading zeros is unchanged.
    """
    assert irr_annual_pct(np.array([-100.0, 110.0])) == pytest.approx(213.842837672, abs=1e-8)
    assert irr_annual_pct(np.array([-100.0, 90.0])) == pytest.approx(-71.757046352, abs=1e-8)
    assert irr_annual_pct(np.array([-100.0, 100.0])) == pytest.approx(0.0, abs=1e-8)
    annuity = 1_000 * 0.01 / (1 - 1.01**-12)
    assert annuity == pytest.approx(88.848789, abs=1e-6)
    flows = np.array([-1_000.0] + [annuity] * 12)
    assert irr_annual_pct(flows) == pytest.approx(12.682503013, abs=1e-8)
    assert irr_annual_pct(np.concatenate([[0.0, 0.0], flows])) == pytest.approx(
        12.682503013, abs=1e-8)


@pytest.mark.parametrize("flows", [[100.0, 50.0], [-100.0, -50.0], [0.0, 0.0], [-100.0],
                                   [-100.0, 0.0, 0.0], [5.0, 0.0, 7.0]])
def test_irr_without_a_sign_change_is_none(flows):
    """All ≥ 0, all ≤ 0, all zero or a single flow: no rate makes the NPV 0."""
    assert irr_annual_pct(np.array(flows)) is None


def test_payback_month():
    """First month from which the cumulative flow stays ≥ 0.
    [−100, 30, 30, 50, −5]: cumulative −100, −70, −40, 10, 5 → month 3 (M3).
    [−100, 150, −80, 50]: −100, 50, −30, 20 → dips again in month 2, so M3.
    [−100, 100]: −100, 0 → M1 (0 counts as paid back).
    [10, 0]: never negative → M0.
    [−100, 30, 30]: ends at −40 → None.
    """
    labels = ["M0", "M1", "M2", "M3", "M4"]
    assert payback_month(np.array([-100.0, 30, 30, 50, -5]), labels) == "M3"
    assert payback_month(np.array([-100.0, 150, -80, 50]), labels[:4]) == "M3"
    assert payback_month(np.array([-100.0, 100]), labels[:2]) == "M1"
    assert payback_month(np.array([10.0, 0]), labels[:2]) == "M0"
    assert payback_month(np.array([-100.0, 30, 30]), labels[:3]) is None


def test_kpis_irr_and_payback_of_a_solved_plan(case):
    """No miners (baseline cash 0, so incremental = plan cash); build 1; O1 at 100 USD/kW-
    month = 1,000,000 a month from Feb; capex per IT MW K = 100,000 × (1 − 1.01^−11) / 0.01
    = 1,036,762.82, i.e. 10,367,628.25 for the block in Jan = 1,000,000 × a(11, 1 %).
    Flows: −10,367,628.25, then 11 × 1,000,000: the 11-month annuity at 1 % a month →
    IRR (1.01^12 − 1) × 100 = 12.682503013 %.
    Cumulative: Nov 10,000,000 − 10,367,628.25 = −367,628.25, Dec +632,371.75 → payback
    2027-12; peak funding 10,367,628.25.
    NPV (discount 0) = 11,000,000 − 10,367,628.25 = 632,371.75; value added the same.
    """
    k = 100_000 * (1 - 1.01**-11) / 0.01
    r = solve(case, campuses=[{"miner_mw": 0, "build_months": 1, "capex_usd_per_it_mw": k}],
              offers=[{"rate_usd_per_kw_month": 100}])
    assert 10 * k == pytest.approx(10_367_628.25, abs=0.01)
    assert npv(r) == pytest.approx(632_371.75, abs=0.01)
    kpis = r.summary["kpis"]
    assert kpis["baseline_npv_usd"] == pytest.approx(0.0, abs=0.01)
    assert kpis["value_added_usd"] == pytest.approx(632_371.75, abs=0.01)
    assert kpis["irr_pct"] == pytest.approx(12.682503013, abs=1e-6)
    assert kpis["payback_month"] == "2027-12"
    assert kpis["peak_funding_usd"] == pytest.approx(10_367_628.25, abs=0.01)
    table = r.kpis.set_index("kpi")
    assert table.loc["irr_pct", "value"] == pytest.approx(12.682503013, abs=1e-6)
    assert table.loc["irr_pct", "unit"] == "%"


# ---------------------------------------------------------------------------------------------
# 7. Mining-only baseline
# ---------------------------------------------------------------------------------------------


def test_baseline_equals_the_scenario_without_offers(case):
    """The terminal-value case with 5 BTC held (flat price, discount 0).

    With O1 (above): 293,712,500 + 5 × 100,000 = 294,212,500.00.
    Without offers: mining 100 × 1,000 × 547 = 54,700,000; mining TV 2 × 100 × 1,000 × 366
      = 73,200,000; BTC 500,000 → 128,400,000.00 — and so is the mining-only baseline.
    value added = 294,212,500 − 128,400,000 = 165,812,500.00.
    """
    finance = {**TV_CASE["finance"], "btc_treasury_btc": 5}
    args = {**TV_CASE, "finance": finance}
    plan = solve(case, **args)
    alone = solve(case, **{**args, "offers": []})
    assert npv(plan) == pytest.approx(294_212_500.00, abs=0.01)
    assert npv(alone) == pytest.approx(128_400_000.00, abs=0.01)
    assert plan.summary["baseline"]["status"] == "optimal"
    assert plan.summary["baseline"]["npv_usd"] == pytest.approx(npv(alone), abs=0.01)
    kpis = plan.summary["kpis"]
    assert kpis["baseline_npv_usd"] == pytest.approx(128_400_000.00, abs=0.01)
    assert kpis["value_added_usd"] == pytest.approx(165_812_500.00, abs=0.01)
    assert kpis["value_added_usd"] == pytest.approx(npv(plan) - npv(alone), abs=0.01)
    assert alone.summary["kpis"]["value_added_usd"] == pytest.approx(0.0, abs=0.01)


def test_baseline_keeps_the_funding_terms(case):
    """The capex-budget case (budget 3,000,000, from Jul 2027, build 1): the baseline is
    mining only, 100 × 1,000 × 366 = 36,600,000.00, equal to the case without offers;
    value added 47,750,000 − 36,600,000 = 11,150,000.00.
    """
    args = dict(campuses=[{"build_months": 1}], horizon=FROM_JULY,
                finance={"capex_budget_usd_per_year": 3_000_000})
    plan = solve(case, offers=TWO_OFFERS, **args)
    alone = solve(case, **args)
    assert npv(alone) == pytest.approx(36_600_000.00, abs=0.01)
    assert plan.summary["baseline"]["npv_usd"] == pytest.approx(npv(alone), abs=0.01)
    assert plan.summary["kpis"]["value_added_usd"] == pytest.approx(11_150_000.00, abs=0.01)
    # the incremental cash behind the IRR is plan − baseline, month by month
    inc = (plan.company_month["net_cash_usd"] - alone.company_month["net_cash_usd"]).to_numpy()
    assert pd.Series(inc).sum() == pytest.approx(11_150_000.00, abs=0.01)
    assert plan.summary["kpis"]["irr_pct"] == pytest.approx(irr_annual_pct(inc), abs=1e-9)
