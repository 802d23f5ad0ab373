"""Economic properties on small generated portfolios (hypothesis): no money from nothing.

Each property is one that a past defect broke:

* a worthless offer (rent 0.01 USD/kW-month, any tenant capex, the largest prepayment its
  rent allows) adds at most its own cash to the optimum — alone it is never taken; beside
  real offers it cannot collect a second tenant's capex for a hall already built;
* tenant-funded capex never exceeds the capex paid, per campus, month by month;
* a prepayment changes the optimum by exactly its time value when the plan cannot move,
  under every way of valuing the years after the horizon;
* the EBITDA-multiple terminal value of a stationary business does not depend on how long
  the horizon is (beyond the days in its months).

Portfolios are generated over the conftest defaults, not the tests/cases.py numbers; so are
the hand-worked cases at the end, whose docstrings state the conftest campus they use (20 J/TH,
40 USD/MWh, 100 MW) and which set the hashprice to 50 USD/PH/day where mining counts.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from cases import audited, optimal
from conftest import write_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siteopt.api import solve_scenario
from siteopt.inputs.months import label, parse_month

START = "2027-01"
EXAMPLES = settings(max_examples=12, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])
# How the years after the horizon are valued: committed cash, nothing, or EBITDA multiples.
VALUATIONS = {
    "beyond_horizon": {"value_beyond_horizon": True},
    "nothing_after": {"value_beyond_horizon": False},
    "ebitda_multiple": {"terminal_value": {"method": "ebitda_multiple",
                                           "hpc_ebitda_multiple": 15,
                                           "mining_ebitda_multiple": 5}},
}


@st.composite
def portfolios(draw, offers: int = 2):
    """A small portfolio with real offers: (campuses, offers, scenario keys)."""
    horizon = draw(st.integers(6, 14))
    campuses = []
    for i in range(draw(st.integers(1, 2))):
        # offers are whole blocks: a block shared in one month by a lease with tenant capex
        # and one without is funded for the first lease's MW, which is its due, not a gift
        block = 5
        campuses.append({
            "campus_id": f"C{i + 1}", "hpc_block_it_mw": block,
            "hpc_max_it_mw": block * draw(st.integers(1, 3)),
            "build_months": draw(st.integers(1, 4)),
            "power_price_usd_per_mwh": draw(st.sampled_from([30, 45, 70])),
            "capex_usd_per_it_mw": draw(st.sampled_from([100_000, 400_000, 1_000_000])),
            "hpc_opex_usd_per_it_mw_month": draw(st.sampled_from([0, 3_000])),
            "grid_mw": 60, "miner_mw": 40,
        })
    rows = []
    for j in range(draw(st.integers(0, offers))):
        early = draw(st.integers(0, horizon - 2))
        rows.append({
            "offer_id": f"R{j + 1}", "tenant": f"Tenant {j + 1}",
            "it_mw": draw(st.sampled_from([5, 10])),
            "rate_usd_per_kw_month": draw(st.sampled_from([120, 180, 250])),
            "term_months": draw(st.integers(2, 18)),
            "earliest_start": label(parse_month(START) + early),
            "latest_start": label(parse_month(START) + early + draw(st.integers(0, 4))),
            "tenant_capex_pct": draw(st.sampled_from([0, 50, 100])),
        })
    scenario = {"horizon": {"start": START, "months": horizon},
                "finance": {"discount_rate_pct_per_year": draw(st.sampled_from([0, 8, 15])),
                            **VALUATIONS[draw(st.sampled_from(sorted(VALUATIONS)))]}}
    return campuses, rows, scenario


@st.composite
def worthless_offers(draw, horizon: int):
    """An offer at 0.01 USD/kW-month with any tenant capex share and the largest prepayment
    its first month's rent can absorb over the credit months."""
    it_mw = draw(st.sampled_from([5, 10]))
    term = draw(st.integers(2, 24))
    credit = draw(st.integers(1, term))
    early = draw(st.integers(0, horizon - 1))
    rate = 0.01
    return {"offer_id": "W", "tenant": "Worthless", "it_mw": it_mw,
            "rate_usd_per_kw_month": rate, "term_months": term,
            "earliest_start": label(parse_month(START) + early),
            "latest_start": label(parse_month(START) + early + draw(st.integers(0, 3))),
            "tenant_capex_pct": draw(st.sampled_from([0, 50, 100])),
            "prepayment_usd": it_mw * 1000 * rate * credit,
            "prepayment_credit_months": credit}


def solve(campuses, offers, scenario):
    """Solved to optimality, passing the audit, in a folder of its own: a hypothesis test runs
    many examples, which one function-scoped `case` fixture cannot keep apart."""
    with tempfile.TemporaryDirectory() as folder:
        results = solve_scenario(write_case(Path(folder), campuses=campuses, offers=offers,
                                            **scenario))
    return audited(optimal(results))


def own_cash_bound(offer: dict, scenario: dict) -> float:
    """The most an offer's own cash can be worth: its rent undiscounted (and, valued by a
    multiple, a year of it per turn of the multiple) plus its whole prepayment."""
    rent = offer["it_mw"] * 1000 * offer["rate_usd_per_kw_month"] * offer["term_months"]
    multiple = scenario["finance"].get("terminal_value", {}).get("hpc_ebitda_multiple", 0)
    return rent * (1 + multiple) + offer.get("prepayment_usd", 0.0) + 0.01


@EXAMPLES
@given(st.data())
def test_a_worthless_offer_alone_is_never_taken(data):
    campuses, _, scenario = data.draw(portfolios(offers=0))
    worthless = data.draw(worthless_offers(scenario["horizon"]["months"]))
    # mining with a positive margin, so a hall always costs the mining it displaces
    campuses = [{**c, "power_price_usd_per_mwh": 30, "grid_mw": 40} for c in campuses]
    results = solve(campuses, [worthless], scenario)
    assert not results.leases["accepted"].any()
    assert results.summary["npv_usd"] == pytest.approx(
        results.summary["kpis"]["baseline_npv_usd"], abs=0.01)


@EXAMPLES
@given(st.data())
def test_a_worthless_offer_adds_at_most_its_own_cash(data):
    campuses, offers, scenario = data.draw(portfolios())
    worthless = data.draw(worthless_offers(scenario["horizon"]["months"]))
    without = solve(campuses, offers, scenario).summary["npv_usd"]
    with_it = solve(campuses, [*offers, worthless], scenario)
    assert with_it.summary["npv_usd"] >= without - 0.01  # an extra offer never lowers NPV
    assert with_it.summary["npv_usd"] <= without + own_cash_bound(worthless, scenario)


@EXAMPLES
@given(st.data())
def test_a_hall_let_twice_is_reimbursed_once(data):
    """A real lease that ends inside the horizon, then a worthless one in the same hall with
    tenant capex: the second tenant funds no block, so it adds at most its own cash."""
    build = data.draw(st.integers(1, 3))
    term = data.draw(st.integers(2, 4))
    horizon = build + term + data.draw(st.integers(2, 6))
    campus = {"campus_id": "C1", "hpc_block_it_mw": 10, "hpc_max_it_mw": 10,
              "build_months": build, "grid_mw": 40, "miner_mw": 40,
              "capex_usd_per_it_mw": data.draw(st.sampled_from([300_000, 8_000_000])),
              "power_price_usd_per_mwh": 30}
    first = {"offer_id": "R1", "it_mw": 10, "rate_usd_per_kw_month": 900,
             "term_months": term, "tenant_capex_pct": data.draw(st.sampled_from([0, 100])),
             "earliest_start": label(parse_month(START) + build),
             "latest_start": label(parse_month(START) + build)}
    relet = label(parse_month(START) + build + term)
    worthless = {**data.draw(worthless_offers(horizon)), "earliest_start": relet,
                 "latest_start": relet, "tenant_capex_pct": 100}
    scenario = {"horizon": {"start": START, "months": horizon},
                "finance": {"discount_rate_pct_per_year": data.draw(st.sampled_from([0, 10])),
                            **VALUATIONS[data.draw(st.sampled_from(sorted(VALUATIONS)))]}}
    without = solve([campus], [first], scenario)
    assert without.leases.set_index("offer_id").at["R1", "accepted"]  # the hall is built
    with_it = solve([campus], [first, worthless], scenario)
    assert with_it.summary["npv_usd"] <= without.summary["npv_usd"] \
        + own_cash_bound(worthless, scenario)
    kpis = with_it.summary["kpis"]
    assert kpis["capex_tenant_funded_usd"] <= kpis["capex_gross_usd"] + 0.01


@EXAMPLES
@given(portfolios(offers=3))
def test_tenant_funded_capex_never_exceeds_capex_paid(portfolio):
    campuses, offers, scenario = portfolio
    results = solve(campuses, offers, scenario)
    for _, rows in results.campus_month.groupby("campus_id"):
        paid = rows["capex_usd"].cumsum().to_numpy()
        funded = rows["tenant_capex_usd"].cumsum().to_numpy()
        assert (funded <= paid + 0.01).all()
    kpis = results.summary["kpis"]
    assert kpis["capex_tenant_funded_usd"] <= kpis["capex_gross_usd"] + 0.01
    assert kpis["capex_net_usd"] >= -0.01


@EXAMPLES
@given(st.data())
def test_a_prepayment_moves_npv_by_exactly_its_time_value(data):
    """One signed lease with one possible start: the prepayment cannot change the plan, so
    the optimum moves by P δ_g − Σ_{j<n} (P/n) δ_{s+j}, δ_t = (1 + r)^-((t+1)/12)."""
    campuses, offers, scenario = data.draw(portfolios(offers=1))
    build = max(c["build_months"] for c in campuses)
    horizon = scenario["horizon"]["months"]
    start = data.draw(st.integers(build, horizon - 1))
    prepayment = data.draw(st.sampled_from([100_000.0, 2_000_000.0]))
    fewest = int(np.ceil(prepayment / (5 * 1000 * 150)))  # no faster than the rent it offsets
    term = data.draw(st.integers(fewest, 30))
    credit = data.draw(st.integers(fewest, term))
    signing = data.draw(st.integers(-3, start))
    signed = {"offer_id": "S", "tenant": "Signed", "signed": "true", "it_mw": 5,
              "rate_usd_per_kw_month": 150, "term_months": term,
              "earliest_start": label(parse_month(START) + start),
              "latest_start": label(parse_month(START) + start)}
    paid = {**signed, "prepayment_usd": prepayment, "prepayment_credit_months": credit,
            "signing_month": label(parse_month(START) + signing)}
    without = solve(campuses, [*offers, signed], scenario).summary["npv_usd"]
    with_it = solve(campuses, [*offers, paid], scenario).summary["npv_usd"]
    rate = scenario["finance"]["discount_rate_pct_per_year"] / 100

    def delta(t: int) -> float:
        return (1 + rate) ** (-(t + 1) / 12)

    time_value = (prepayment * delta(signing) if signing >= 0 else 0.0) \
        - sum(prepayment / credit * delta(start + j) for j in range(credit))
    assert with_it - without == pytest.approx(time_value, abs=0.02)


@pytest.mark.parametrize("months", [3, 6, 9, 12, 24])
def test_terminal_value_of_a_stationary_business_does_not_depend_on_the_horizon(case, months):
    """Mining only, flat hashprice 50 USD/PH/day, 20 J/TH, 40 USD/MWh, 100 MW: margin
    (2,500 − 960) = 1,540 USD/MW-day, 154,000 a day, and 20,000 a month of mining opex
    (200 USD/MW-month). Mining multiple 5: a year is worth 5 × (154,000 × 365.25 −
    12 × 20,000) = 280,042,500 for a horizon under a year (annualised by its days and months),
    and for 12 or more months the last 12 months' days: 365 in 2027 (2028 has 366)."""
    results = solve_scenario(case(
        campuses=[{"mining_opex_usd_per_mw_month": 200}],
        horizon={"start": START, "months": months},
        market={"hashprice_usd_per_ph_day": 50},
        finance={"terminal_value": {"method": "ebitda_multiple", "mining_ebitda_multiple": 5}}))
    tv = float(results.company_month["mining_terminal_value_usd"].sum())
    days = {12: 365, 24: 366}.get(months, 365.25)
    assert tv == pytest.approx(5 * (154_000 * days - 12 * 20_000), abs=0.01)


def test_prepayment_under_the_multiple_is_worth_its_time_value_not_its_face(case):
    """The issue's case in small: a 6,000,000 prepayment credited over 120 months on a signed
    10 MW lease at 150 USD/kW-month from Jul 2027, horizon 2027, discount 1 % a month, value
    by EBITDA multiple. The multiple values the full rent; the 114 credits after the horizon
    are rent already received: prepayment_liability_usd = 50,000 × Σ_{k=1..114} v^k in Dec.
    Optimum with − without = 6,000,000 × v − 50,000 × Σ_{k=7..126} v^k."""
    v = 1 / 1.01
    base = {"offer_id": "O1", "signed": "true", "it_mw": 10, "earliest_start": "2027-07",
            "latest_start": "2027-07", "term_months": 180}
    paid = {**base, "prepayment_usd": 6_000_000, "prepayment_credit_months": 120}
    finance = {"discount_rate_pct_per_year": (1.01**12 - 1) * 100,
               "terminal_value": {"method": "ebitda_multiple"}}
    campus = [{"capex_usd_per_it_mw": 300_000}]
    without = solve_scenario(case(campuses=campus, offers=[base], finance=finance))
    with_it = solve_scenario(case(campuses=campus, offers=[paid], finance=finance))
    expected = 6_000_000 * v - 50_000 * sum(v**k for k in range(7, 127))
    assert with_it.summary["npv_usd"] - without.summary["npv_usd"] == pytest.approx(
        expected, abs=0.01)
    liability = with_it.company_month["prepayment_liability_usd"]
    assert liability.iloc[-1] == pytest.approx(50_000 * sum(v**k for k in range(1, 115)),
                                               abs=0.01)
    assert np.count_nonzero(liability) == 1


def test_a_horizon_under_a_year_is_annualised(case):
    """Flat hashprice 50, margin 154,000 a day (see above), horizon Jan–Jun 2027 (181 days):
    mining EBITDA 27,874,000 × 365.25 / 181 × 5 = 281,242,500."""
    results = solve_scenario(case(
        horizon={"start": START, "months": 6}, market={"hashprice_usd_per_ph_day": 50},
        finance={"terminal_value": {"method": "ebitda_multiple", "mining_ebitda_multiple": 5}}))
    assert results.company_month["mining_terminal_value_usd"].sum() == pytest.approx(
        281_242_500.0, abs=0.01)
    assert results.summary["audit"]["passed"]
