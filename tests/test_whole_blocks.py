"""Whole-blocks inequalities (siteopt/model/whole_blocks.py) and offer-choice binaries
(siteopt/model/offer_choice.py): the rows built for a hand case, and that they never change
the optimum (they only cut fractional plans).

Case (this file's own CAMPUS and OFFER over the conftest defaults, not the tests/cases.py
numbers): campus C1 with blocks of 20 IT MW and room for 50 (so 2 whole blocks, 40 IT MW),
build 6 months, capex 300,000 USD/IT MW; offers of 30 IT MW starting in 2027-09 or 2027-10
(months 8 and 9); horizon 24 months from 2027-01.
"""

from __future__ import annotations

import pytest
from cases import ramp
from pyomo.repn import generate_standard_repn

from siteopt.api import solve_plan
from siteopt.inputs import load_inputs
from siteopt.model import build_model, prepare
from siteopt.runs import bench

CAMPUS = {"hpc_block_it_mw": 20, "hpc_max_it_mw": 50, "capex_usd_per_it_mw": 300_000}
OFFER = {"it_mw": 30, "earliest_start": "2027-09", "latest_start": "2027-10"}


def rows(component):
    """{index: ({variable name: coefficient}, upper bound)} of a constraint component."""
    out = {}
    for index, con in component.items():
        repn = generate_standard_repn(con.body)
        coefficients = {v.name: c for v, c in zip(repn.linear_vars, repn.linear_coefs)}
        out[index] = (coefficients, con.upper)
    return out


def built(case, **kwargs):
    kwargs.setdefault("campuses", [CAMPUS])
    kwargs.setdefault("horizon", {"start": "2027-01", "months": 24})
    return build_model(prepare(load_inputs(case(**kwargs)))).model


def test_two_offers_that_cannot_share_a_campus_form_a_knapsack_row(case):
    """Both 30 MW leases fit alone but not together (60 > 40) in months 8 and 9:
    month 8: 30 A(O1, s=8) + 30 A(O2, s=8) ≤ 40;
    month 9: the four options started in 8 or 9 are all active → all four terms ≤ 40."""
    m = built(case, offers=[{**OFFER, "offer_id": "O1"}, {**OFFER, "offer_id": "O2"}])
    got = rows(m.leases_fit_in_whole_blocks)
    assert set(got) == {("C1", 8), ("C1", 9)}
    terms, upper = got["C1", 8]
    assert upper == 40
    assert terms == {"lease_accepted[O1,C1,8]": 30, "lease_accepted[O2,C1,8]": 30}
    assert sorted(got["C1", 9][0].values()) == [30] * 4


def test_one_offer_alone_builds_no_knapsack_row(case):
    """30 MW alone always fits 40: the row could never bind and is left out."""
    m = built(case, offers=[OFFER])
    assert len(m.leases_fit_in_whole_blocks) == 0


def test_a_lease_needs_its_mw_rounded_up_to_whole_blocks(case):
    """30 MW on 20 MW blocks needs 40 MW ready from its start, whichever start is chosen:
    month 8: 40 A(s=8) ≤ R(8); month 9: 40 A(s=8) + 40 A(s=9) ≤ R(9) — one row over both
    starts, so A(s=8) = A(s=9) = 0.5 cannot get by with 20 MW ready."""
    m = built(case, offers=[OFFER])
    got = rows(m.lease_needs_whole_blocks)
    assert got == {
        ("O1", "C1", 8): ({"lease_accepted[O1,C1,8]": 40, "it_ready_mw[C1,8]": -1}, 0),
        ("O1", "C1", 9): ({"lease_accepted[O1,C1,8]": 40, "lease_accepted[O1,C1,9]": 40,
                           "it_ready_mw[C1,9]": -1}, 0)}


def test_phases_round_up_cumulatively_and_whole_block_mw_needs_no_row(case):
    """Phases of 20 then 10 MW at 0 and 3 months: 20 MW is one whole block (no row); by the
    second phase 30 MW are delivered → 40 MW ready in month s + 3."""
    phases = ramp({0: 20, 3: 10})
    m = built(case, offers=[{**OFFER, "latest_start": "2027-09"}], phases=phases)
    got = rows(m.lease_needs_whole_blocks)
    assert got == {("O1", "C1", 11): ({"lease_accepted[O1,C1,8]": 40, "it_ready_mw[C1,11]": -1},
                                      0)}


@pytest.mark.parametrize("size,seed", [("S", 1), ("S", 2), ("S", 3)])
def test_optimum_is_the_same_without_the_inequalities(tmp_path, monkeypatch, size, seed):
    """Whole-blocks rows and offer-choice binaries only tighten: synthetic portfolios solved
    to optimality with and without them give the same NPV."""
    import siteopt.model as model_package

    path = bench.write_synthetic(bench.generate(size, seed), tmp_path, mip_gap_pct=0,
                                 time_limit_s=300)
    inputs = load_inputs(path)
    with_rows = solve_plan(inputs).summary
    monkeypatch.setattr(model_package, "define_whole_blocks", lambda m, data: None)
    monkeypatch.setattr(model_package, "define_offer_choice", lambda m, data: None)
    without = solve_plan(inputs).summary
    assert with_rows["status"] == without["status"] == "optimal"
    assert with_rows["npv_usd"] == pytest.approx(without["npv_usd"], rel=1e-9, abs=0.01)


def test_offer_at_campus_sums_the_start_months(case):
    """Two start months at C1 → one offer_at_campus[O1, C1] = A(s=8) + A(s=9); a second campus
    the offer can use gets its own."""
    m = built(case, campuses=[CAMPUS, {**CAMPUS, "campus_id": "C2"}], offers=[OFFER])
    assert list(m.OFFER_CAMPUSES) == [("O1", "C1"), ("O1", "C2")]
    got = rows(m.offer_at_campus_sums_starts)
    assert got["O1", "C1"][0] == {"offer_at_campus[O1,C1]": 1, "lease_accepted[O1,C1,8]": -1,
                                  "lease_accepted[O1,C1,9]": -1}
