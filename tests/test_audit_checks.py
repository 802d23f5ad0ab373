"""The audit's family checks, one at a time, on hand-built tables: each catches the defect it
is for, and passes the same table without it.

Inputs are the hand-worked case (tests/cases.py): C1 with blocks of 10 IT MW, capex 300,000
USD per IT MW, build 6 months, PUE 1.25 on a 100 MW grid, 100 MW of miners; horizon 2027,
discount 0 % (every discount factor 1), value_beyond_horizon off. The plan: one block
started in Jan → capex 10 × 300,000 / 6 = 500,000 a month Jan–Jun, ready from Jul; mining
100 − 1.25 × 10 = 87.5 MW.
"""

from __future__ import annotations

import pandas as pd
import pytest
from cases import CAMPUS, MARKET, OFFER

from siteopt.contract import CAMPUS_MONTH_COLUMNS, COMPANY_MONTH_COLUMNS
from siteopt.inputs import load_inputs
from siteopt.results.audit.campus_cash import check_campus_cash, operating_lines
from siteopt.results.audit.company import check_company
from siteopt.results.audit.conversion import Capacity, check_conversion
from siteopt.results.audit.leases import check_leases
from siteopt.results.audit.plan import read_plan
from siteopt.results.audit.salvage import check_salvage
from siteopt.results.audit.spot import check_spot

MONTHS = [f"2027-{m:02d}" for m in range(1, 13)]
CAPEX = [500_000.0] * 6 + [0.0] * 6
STARTED = [10.0] * 12
READY = [0.0] * 6 + [10.0] * 6


def inputs_of(case, offers=(), **scenario):
    return load_inputs(case(campuses=[CAMPUS], offers=[{**OFFER, **o} for o in offers],
                            market={**MARKET, **scenario.pop("market", {})}, **scenario))


def campus_month(**columns) -> pd.DataFrame:
    """C1 over 2027: one block started in Jan, 87.5 MW mined, the capex it costs; any column
    given (a value per month) replaces it; net cash follows the lines."""
    frame = pd.DataFrame({"campus_id": "C1", "month": MONTHS})
    for name in CAMPUS_MONTH_COLUMNS[2:]:
        frame[name] = 0.0
    frame["in_horizon"] = True
    frame["discount_factor"] = 1.0
    frame["blocks_started"] = [1] + [0] * 11
    frame["it_under_construction_mw"] = [s - r for s, r in zip(STARTED, READY)]
    frame["it_ready_mw"] = READY
    frame["mining_mw"] = 87.5
    frame["capex_usd"] = CAPEX
    for name, values in columns.items():
        frame[name] = values
    frame["net_cash_usd"] = -frame["capex_usd"] + frame["tenant_capex_usd"] \
        + frame["lease_revenue_usd"]
    return frame


NO_LEASES = pd.DataFrame(columns=["offer_id", "accepted"])


def lease_row(offer_id: str, start: str, tenant_capex_usd: float = 0.0) -> dict:
    return {"offer_id": offer_id, "accepted": True, "campus_id": "C1", "phase": 1,
            "it_mw": 10.0, "start_month": start, "delivery_month": start,
            "tenant_capex_usd": tenant_capex_usd}


# -- conversion --------------------------------------------------------------------------------


def test_conversion_gives_capacity_from_block_starts(case):
    plan = read_plan(inputs_of(case), campus_month(), NO_LEASES)
    capacity, problems = check_conversion(plan)
    assert problems == []
    assert capacity.started.tolist() == STARTED
    assert capacity.ready.tolist() == READY


def test_conversion_catches_capacity_that_no_block_explains(case):
    """Ready a month early (Jun), and a second block started in Aug: too late to be ready by
    Dec, and 87.5 + 1.25 × 20 = 112.5 MW above the 100 MW grid from Aug."""
    ready = [0.0] * 5 + [10.0] * 7
    cm = campus_month(it_ready_mw=ready,
                      it_under_construction_mw=[s - r for s, r in zip(STARTED, ready)],
                      blocks_started=[1] + [0] * 6 + [1] + [0] * 4)
    _, problems = check_conversion(read_plan(inputs_of(case), cm, NO_LEASES))
    assert "C1: a block starts too late to be ready inside the horizon" in problems
    assert "C1 2027-06: it_ready_mw differs from block starts" in problems
    assert "C1 2027-08: mining + PUE × IT MW started exceeds grid_mw " \
           "(power_shared_with_mining)" in problems


# -- campus cash -------------------------------------------------------------------------------


def test_campus_cash_catches_a_wrong_capex_row(case):
    """Capex 400,000 in Mar instead of 500,000 (net cash written to match it)."""
    inputs = inputs_of(case)
    for capex, expected in ((CAPEX, []), (CAPEX[:2] + [400_000.0] + CAPEX[3:],
                                          ["C1 2027-03: capex_usd USD differs from its "
                                           "formula"])):
        plan = read_plan(inputs, campus_month(capex_usd=capex), NO_LEASES)
        started = pd.Series(STARTED, index=plan.cm.index)
        ready = pd.Series(READY, index=plan.cm.index)
        capacity = Capacity(started, ready, started - ready, plan.zeros())
        lines = operating_lines(plan, capacity, plan.zeros())
        assert check_campus_cash(plan, {"capex_usd": lines["capex_usd"]}) == expected


def test_campus_cash_catches_a_net_that_is_not_its_lines(case):
    cm = campus_month()
    cm.loc[4, "net_cash_usd"] += 1.0
    plan = read_plan(inputs_of(case), cm, NO_LEASES)
    assert check_campus_cash(plan, {}) == ["C1 2027-05: net_cash_usd is not the sum of its "
                                           "lines"]


# -- salvage and spot: what earlier checks returned is passed in -------------------------------


def test_salvage_catches_miners_sold_without_a_salvage_value(case):
    cm = campus_month(miners_sold_mw=[12.5] * 12)
    plan = read_plan(inputs_of(case), cm, NO_LEASES)
    capacity, _ = check_conversion(plan)
    expected, problems = check_salvage(plan, capacity)
    assert problems[0] == "C1 2027-01: miners sold without any salvage value"
    assert expected["asic_salvage_usd"].tolist() == [0.0] * 12


def test_spot_catches_letting_more_than_the_unleased_ready_share(case):
    """Spot share 50 %, no absorption delay; 10 IT MW ready from Jul, of which the lease
    check found 2 leased: at most 50 % × 8 = 4 MW let spot. 4.5 MW in Sep is too much,
    although within 50 % of all that is ready (and earns 4.5 × 1,000 × 60 = 270,000)."""
    inputs = inputs_of(case, market={"hpc_spot_rate_usd_per_kw_month": 60,
                                     "hpc_spot_share_pct": 50,
                                     "hpc_spot_absorption_months": 0})
    spot = [0.0] * 6 + [4.0, 4.0, 4.5, 4.0, 4.0, 4.0]
    plan = read_plan(inputs, campus_month(spot_mw=spot), NO_LEASES)
    capacity, _ = check_conversion(plan)
    leased = pd.Series([0.0] * 6 + [2.0] * 6, index=plan.cm.index)
    expected, problems = check_spot(plan, capacity, leased)
    assert problems == ["C1 2027-09: spot_mw above the share of unleased ready capacity"]
    assert expected["spot_revenue_usd"][8] == 270_000.0
    assert check_spot(plan, capacity, plan.zeros())[1] == []


# -- leases ------------------------------------------------------------------------------------


RELET = [{"offer_id": "O1", "term_months": 3, "earliest_start": "2027-07",
          "latest_start": "2027-07", "tenant_capex_pct": 100},
         {"offer_id": "O2", "term_months": 3, "earliest_start": "2027-10",
          "latest_start": "2027-10", "tenant_capex_pct": 100}]


@pytest.mark.parametrize(("o2_tenant_capex", "caught"), [(0.0, False), (3_000_000.0, True)])
def test_leases_catch_tenant_capex_for_a_relet_hall(case, o2_tenant_capex, caught):
    """O1 (Jul–Sep) funds the hall built for it Jan–Jun: 3,000,000. O2 re-lets the same hall
    Oct–Dec; no block became ready in Oct, so it funds nothing — a row saying it paid
    3,000,000 is caught, and with it 6,000,000 of tenant capex against 3,000,000 paid."""
    inputs = inputs_of(case, offers=RELET)
    leases = pd.DataFrame([lease_row("O1", "2027-07", 3_000_000.0),
                           lease_row("O2", "2027-10", o2_tenant_capex)])
    o2_capex = [0.0] * 3 + [500_000.0] * 6 + [0.0] * 3 if caught else [0.0] * 12
    cm = campus_month(it_leased_mw=READY,
                      tenant_capex_usd=[a + b for a, b in zip(CAPEX, o2_capex)])
    plan = read_plan(inputs, cm, leases)
    capacity, _ = check_conversion(plan)
    cash, problems = check_leases(plan, capacity)
    hall = ("C1 2027-10: tenants fund 10 IT MW delivered then but only 0 IT MW of blocks "
            "became ready that month (tenant capex for a hall built before?)")
    ahead = "C1 2027-04: tenant capex received so far exceeds the capex paid so far"
    assert (hall in problems, ahead in problems) == (caught, caught)
    assert cash.expected["tenant_capex_usd"].tolist() == cm["tenant_capex_usd"].tolist()
    if not caught:
        assert problems == []


def test_leases_catch_leased_mw_the_leases_do_not_explain(case):
    """O1 from Jul for its 3-month term: leased Jul–Sep; a table leasing it on in Oct is
    caught, and the rent each leased month earns is 10 × 1,000 × 150 = 1,500,000."""
    inputs = inputs_of(case, offers=RELET[:1])
    leased = [0.0] * 6 + [10.0] * 4 + [0.0] * 2
    plan = read_plan(inputs, campus_month(it_leased_mw=leased),
                     pd.DataFrame([lease_row("O1", "2027-07", 3_000_000.0)]))
    capacity, _ = check_conversion(plan)
    cash, problems = check_leases(plan, capacity)
    assert problems == ["C1 2027-10: it_leased_mw differs from leases"]
    assert cash.leased.tolist() == [0.0] * 6 + [10.0] * 3 + [0.0] * 3
    assert cash.expected["lease_revenue_usd"].tolist() == [0.0] * 6 + [1_500_000.0] * 3 \
        + [0.0] * 3


@pytest.mark.parametrize(("vacant", "caught"), [(0, False), (1, True)])
def test_leases_catch_a_hall_re_let_while_it_is_held_empty(case, vacant, caught):
    """O1 leases the hall built Jan–Jun for Jul–Sep, O2 re-lets it Oct–Dec. With O1's hall
    held empty one month after its end (vacant_months_after_end 1), October has 10 IT MW
    leased plus 10 held empty on 10 ready: caught; the spot check then sees no free MW."""
    offers = [{**RELET[0], "tenant_capex_pct": 0, "vacant_months_after_end": vacant},
              {**RELET[1], "tenant_capex_pct": 0}]
    plan = read_plan(inputs_of(case, offers=offers), campus_month(it_leased_mw=READY),
                     pd.DataFrame([lease_row("O1", "2027-07"), lease_row("O2", "2027-10")]))
    capacity, _ = check_conversion(plan)
    cash, problems = check_leases(plan, capacity)
    held = "C1 2027-10: leased (or held empty after a lease) IT MW exceeds ready IT MW"
    assert problems == ([held] if caught else [])
    assert cash.leased.tolist() == READY
    assert cash.occupied.tolist() == READY[:9] + [10.0 + 10.0 * vacant] + READY[10:]


def test_leases_catch_a_withdrawn_offer_taken(case):
    """O1 withdrawn (a future where the tenant walked away), yet the table leases it."""
    for withdrawn, caught in (("false", False), ("true", True)):
        inputs = inputs_of(case, offers=[{**RELET[0], "withdrawn": withdrawn}])
        leased = [0.0] * 6 + [10.0] * 3 + [0.0] * 3
        plan = read_plan(inputs, campus_month(it_leased_mw=leased),
                         pd.DataFrame([lease_row("O1", "2027-07", 3_000_000.0)]))
        capacity, _ = check_conversion(plan)
        problems = check_leases(plan, capacity)[1]
        assert ("offer O1 is withdrawn but taken" in problems) == caught, problems


def test_leases_catch_a_signed_lease_not_delivered(case):
    inputs = inputs_of(case, offers=[{"signed": "true"}])
    leases = pd.DataFrame([{"offer_id": "O1", "accepted": False, "campus_id": None}])
    plan = read_plan(inputs, campus_month(), leases)
    capacity, _ = check_conversion(plan)
    assert check_leases(plan, capacity)[1] == ["signed lease O1 not delivered"]


# -- company -----------------------------------------------------------------------------------


def company_month(**columns) -> pd.DataFrame:
    frame = pd.DataFrame({"month": MONTHS})
    for name in COMPANY_MONTH_COLUMNS[1:]:
        frame[name] = 0.0
    frame["discount_factor"] = 1.0
    for name, values in columns.items():
        frame[name] = values
    return frame


@pytest.mark.parametrize(("settled", "caught"), [(500_000.0, False), (496_044.47, True)])
def test_company_checks_the_receivable_the_leases_settle(case, settled, caught):
    """A tenant-capex receivable of 500,000 written in Dec (valuation, so net cash +500,000
    and NPV 500,000 at 0 %) is checked against what the lease check settled."""
    plan = read_plan(inputs_of(case), campus_month(capex_usd=0.0), NO_LEASES)
    dec = [0.0] * 11 + [500_000.0]
    co = company_month(tenant_capex_receivable_usd=dec, valuation_usd=dec, net_cash_usd=dec)
    problems = check_company(plan, co, 500_000.0,
                             {"tenant_capex_receivable_usd": settled})
    assert problems == (["company 2027-12: tenant_capex_receivable_usd differs from its "
                         "formula"] if caught else [])


def test_company_catches_an_npv_the_cash_does_not_discount_to(case):
    plan = read_plan(inputs_of(case), campus_month(capex_usd=0.0), NO_LEASES)
    problems = check_company(plan, company_month(), 0.01, {})
    assert problems == ["Σ company net_cash × discount_factor = 0.00 but npv_usd = 0.01"]
