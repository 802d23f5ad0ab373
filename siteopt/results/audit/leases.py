"""Leases: each accepted offer delivered once, whole, in its window, at eligible campuses and
on the right months; IT MW leased within the ready capacity and the tenant-concentration cap;
and the cash each lease row brings — rent, late penalty, prepayment and its credit, and the
tenant's share of the capex of blocks built for it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from siteopt.contract import LINE
from siteopt.inputs.months import label, parse_month
from siteopt.results.audit.conversion import Capacity
from siteopt.results.audit.plan import MW_TOL, USD_TOL, Plan

LEASE_LINES = ("lease_revenue_usd", "late_penalty_usd", "prepayment_usd",
               "prepayment_credit_usd", "tenant_capex_usd")
PREPAYMENT_LIABILITY = LINE["prepayment_credit_usd"].settles_to
TENANT_CAPEX_RECEIVABLE = LINE["tenant_capex_usd"].settles_to

Amount = tuple[str, np.ndarray, object]  # column, campus_month rows, amount on each row


@dataclass(frozen=True)
class LeaseCash:
    """What the leases imply per campus_month row, for the checks after this one."""

    leased: pd.Series  # IT MW under lease
    occupied: pd.Series  # IT MW under lease or held empty after one (vacant_months_after_end)
    expected: dict[str, pd.Series]  # each of LEASE_LINES
    opex_after: pd.Series  # HPC opex of the IT MW leased after the horizon
    settled: dict[str, float]  # valuation line → PV at H-1 of amounts due after the horizon


@dataclass(frozen=True)
class _Months:
    """Month numbers of the campus_month rows and each campus's rows as plain arrays:
    comparing the campus column for every delivery costs more than all the rest on large
    plans."""

    t: np.ndarray
    at: dict[str, np.ndarray]


def check_leases(plan: Plan, capacity: Capacity) -> tuple[LeaseCash, list[str]]:
    cm = plan.cm
    months = _Months(cm["t"].to_numpy(),
                     {c: (cm["campus_id"] == c).to_numpy() for c in cm["campus_id"].unique()})
    totals = {name: np.zeros(len(cm))
              for name in (*LEASE_LINES, "leased", "vacant", "opex_after")}
    settled = {PREPAYMENT_LIABILITY: 0.0, TENANT_CAPEX_RECEIVABLE: 0.0}
    funded: dict[str, list[tuple[int, float]]] = defaultdict(list)  # campus → (month, IT MW)
    accepted_mw: dict[str, float] = {}
    problems: list[str] = []
    for offer_id, rows in plan.leases.groupby("offer_id", sort=False):
        offer = plan.inputs.offers.loc[offer_id]
        taken = rows[rows["accepted"].astype(bool)]
        if offer["signed"] and taken.empty:
            problems.append(f"signed lease {offer_id} not delivered")
        if taken.empty:
            continue
        if bool(offer.get("withdrawn", False)):
            problems.append(f"offer {offer_id} is withdrawn but taken")
        ramp = plan.inputs.offer_phases[plan.inputs.offer_phases["offer_id"] == offer_id]
        start, found = _offer_delivery(plan, offer_id, offer, taken, ramp)
        problems += found
        accepted_mw[offer_id] = float(offer["it_mw"])
        after_of = dict(zip(ramp["phase"], ramp["months_after_start"]))
        for d in taken.itertuples():
            delivery = start + int(after_of[d.phase])
            amounts, row_settled, funded_mw, found = _row_cash(plan, months, offer_id, offer,
                                                               d, start, delivery)
            problems += found
            for column, where, amount in amounts:
                totals[column][where] += amount
            for line, usd in row_settled.items():
                settled[line] += usd
            if funded_mw > 0:
                funded[d.campus_id].append((min(delivery, plan.horizon - 1), funded_mw))
    series = {name: pd.Series(x, index=cm.index) for name, x in totals.items()}
    leased, opex_after = series.pop("leased"), series.pop("opex_after")
    occupied = leased + series.pop("vacant")
    problems += plan.at_rows((cm["it_leased_mw"] - leased).abs() > MW_TOL,
                             "it_leased_mw differs from leases")
    problems += plan.at_rows(occupied > capacity.ready + MW_TOL,
                             "leased (or held empty after a lease) IT MW exceeds ready IT MW")
    problems += check_concentration(plan, accepted_mw)
    problems += check_tenant_funding(plan, funded, series["tenant_capex_usd"])
    return LeaseCash(leased, occupied, series, opex_after, settled), problems


def _offer_delivery(plan: Plan, offer_id: str, offer: pd.Series, taken: pd.DataFrame,
                    ramp: pd.DataFrame) -> tuple[int, list[str]]:
    """The accepted offer's start month, and what is wrong with its rows as a whole."""
    problems = []
    starts = {parse_month(s) - plan.first for s in taken["start_month"]}
    if len(starts) != 1:
        problems.append(f"{offer_id}: deliveries disagree on the start month")
    s = min(starts)
    latest = parse_month(offer["latest_start"]) - plan.first
    early = parse_month(offer["earliest_start"]) - plan.first
    if plan.running(offer_id):
        if s != latest:
            problems.append(f"{offer_id}: running lease started {label(plan.first + s)}, not "
                            f"at its real start {offer['latest_start']}")
    elif not (early <= s <= latest + int(offer["max_delay_months"])) or not \
            0 <= s < plan.horizon:
        problems.append(f"{offer_id}: start {label(plan.first + s)} outside its window")
    if not offer["split"] and taken["campus_id"].nunique() != 1:
        problems.append(f"{offer_id}: not split but delivered at several campuses")
    for phase in ramp.itertuples():
        got = taken.loc[taken["phase"] == phase.phase, "it_mw"].sum()
        if abs(got - phase.it_mw) > MW_TOL:
            problems.append(f"{offer_id} phase {phase.phase}: {got:g} IT MW delivered, "
                            f"{phase.it_mw:g} due")
    return s, problems


def _row_cash(plan: Plan, months: _Months, offer_id: str, offer: pd.Series, d, start: int,
              delivery: int) -> tuple[list[Amount], dict[str, float], float, list[str]]:
    """One lease row's expected amounts, settled amounts, IT MW its tenant funds, problems."""
    c = plan.inputs.campuses.loc[d.campus_id]
    problems = []
    if d.campus_id not in offer["campuses"]:
        problems.append(f"{offer_id}: campus {d.campus_id} not eligible")
    blocks = d.it_mw / c["hpc_block_it_mw"]
    if offer["split"] and abs(blocks - round(blocks)) > 1e-9:
        problems.append(f"{offer_id}: {d.it_mw:g} IT MW at {d.campus_id} is not a whole "
                        f"number of its blocks")
    if d.delivery_month != label(plan.first + delivery):
        problems.append(f"{offer_id}: phase {d.phase} delivery month wrong")
    funded, found = _tenant_funded_mw(offer_id, offer, d, c)
    at = months.at[d.campus_id]
    amounts = _rent(plan, months.t, at, offer, c, d.it_mw, start, delivery)
    capex, capex_settled = _tenant_capex(plan, months.t, at, offer, c, funded, delivery)
    shared, shared_settled = _offer_share(plan, months.t, at, offer,
                                          d.it_mw / offer["it_mw"], start,
                                          plan.running(offer_id))
    return amounts + capex + shared, {**capex_settled, **shared_settled}, funded, \
        problems + found


def _rent(plan: Plan, t: np.ndarray, at: np.ndarray, offer: pd.Series, c: pd.Series,
          it_mw: float, start: int, delivery: int) -> list[Amount]:
    """IT MW leased from delivery to the end of the term, then held empty for
    vacant_months_after_end; its escalating rent, and the HPC opex of its months after the
    horizon (inside it, opex follows ready capacity)."""
    end = start + int(offer["term_months"])
    here = at & (t >= delivery) & (t < end)
    vacant = at & (t >= max(end, delivery)) & (t < end + int(offer["vacant_months_after_end"]))
    years = (t[here] - start) // 12
    rent = it_mw * 1000 * offer["rate_usd_per_kw_month"] \
        * (1 + offer["escalator_pct_per_year"] / 100) ** years
    return [("leased", here, it_mw), ("vacant", vacant, it_mw), ("lease_revenue_usd", here, rent),
            ("opex_after", here & (t >= plan.horizon), it_mw * c["hpc_opex_usd_per_it_mw_month"])]


def _tenant_capex(plan: Plan, t: np.ndarray, at: np.ndarray, offer: pd.Series, c: pd.Series,
                  funded: float, delivery: int) -> tuple[list[Amount], dict[str, float]]:
    """The tenant's share of the capex of the IT MW it funds, in the build months before
    delivery; the part due after the horizon is a receivable when that cash is not counted."""
    build = int(c["build_months"])
    usd = offer["tenant_capex_pct"] / 100 * funded * c["capex_usd_per_it_mw"] / build
    before = at & (t >= delivery - build) & (t < delivery)
    return [("tenant_capex_usd", before, usd)], \
        {TENANT_CAPEX_RECEIVABLE: plan.settled(range(delivery - build, delivery), usd)}


def _offer_share(plan: Plan, t: np.ndarray, at: np.ndarray, offer: pd.Series, share: float,
                 start: int, running: bool) -> tuple[list[Amount], dict[str, float]]:
    """The row's share (by IT MW) of the offer's late penalty, prepayment and its credit."""
    latest = parse_month(offer["latest_start"]) - plan.first
    late = at & (t >= max(0, latest)) & (t < start)
    amounts: list[Amount] = [("late_penalty_usd", late,
                              share * offer["late_penalty_usd_per_month"])]
    if not offer["prepayment_usd"]:
        return amounts, {}
    # no signing month: the horizon start, or for a lease already running its start
    signing = parse_month(offer["signing_month"]) - plan.first if offer["signing_month"] \
        else min(0, start) if running else 0
    n = int(offer["prepayment_credit_months"])
    credit = share * offer["prepayment_usd"] / n
    amounts += [("prepayment_usd", at & (t == signing), share * offer["prepayment_usd"]),
                ("prepayment_credit_usd", at & (t >= start) & (t < start + n), credit)]
    return amounts, {PREPAYMENT_LIABILITY: plan.settled(range(start, start + n), credit)}


def _tenant_funded_mw(offer_id: str, offer: pd.Series, d,
                      c: pd.Series) -> tuple[float, list[str]]:
    """IT MW of a lease row whose fit-out its tenant funds, read back from the row's
    tenant_capex_usd; at most the row's IT MW."""
    share = offer["tenant_capex_pct"] / 100
    paid = float(d.tenant_capex_usd)
    if paid < -USD_TOL or (share == 0 and abs(paid) > USD_TOL):
        return 0.0, [f"{offer_id} at {d.campus_id}: tenant_capex_usd {paid:,.2f} without a "
                     f"tenant capex share"]
    if share == 0 or c["capex_usd_per_it_mw"] == 0:
        return 0.0, []
    funded = paid / (share * c["capex_usd_per_it_mw"])
    if funded > d.it_mw + MW_TOL:
        return funded, [f"{offer_id} at {d.campus_id}: tenant capex for {funded:g} IT MW, "
                        f"more than the row's {d.it_mw:g}"]
    return funded, []


def check_concentration(plan: Plan, accepted_mw: dict[str, float]) -> list[str]:
    """No tenant above max_tenant_share_pct of the IT MW of the accepted offers."""
    cap = plan.scenario.limits.max_tenant_share_pct
    total = sum(accepted_mw.values())
    if cap is None or total == 0:
        return []
    tenants = plan.inputs.offers["tenant"]
    by_tenant: dict[str, float] = defaultdict(float)
    running: dict[str, float] = defaultdict(float)
    for offer_id, mw in accepted_mw.items():
        by_tenant[tenants[offer_id]] += mw
        if plan.running(offer_id):
            running[tenants[offer_id]] += mw
    # leases already running stay; a tenant whose running leases alone exceed the cap may
    # keep that excess, and no more
    running_total = sum(running.values())
    allowed = {t: max(0.0, mw - cap / 100 * running_total) for t, mw in running.items()}
    return [f"tenant {tenant}: {mw / total:.1%} of leased IT MW exceeds max_tenant_share_pct "
            f"{cap:g}" for tenant, mw in by_tenant.items()
            if mw > cap / 100 * total + allowed.get(tenant, 0.0) + MW_TOL]


def check_tenant_funding(plan: Plan, funded: dict[str, list[tuple[int, float]]],
                         tenant_capex: pd.Series) -> list[str]:
    """Tenants fund only blocks built for them: the IT MW funded for the deliveries of a
    month (`funded`: campus → (delivery month, IT MW)) fit in the blocks that became ready
    that month (started L months before), and a campus never collects more tenant capex
    than the capex it has paid."""
    cm = plan.cm
    problems = []
    for campus_id, deliveries in funded.items():
        rows = cm[cm["campus_id"] == campus_id]
        starts = dict(zip(rows["t"], rows["blocks_started"]))
        c = plan.inputs.campuses.loc[campus_id]
        build = int(c["build_months"])
        for d in sorted({month for month, _ in deliveries}):
            mw = sum(mw for month, mw in deliveries if month == d)
            new = starts.get(d - build, 0.0) * c["hpc_block_it_mw"]
            if mw > new + MW_TOL:
                problems.append(
                    f"{campus_id} {label(plan.first + d)}: tenants fund {mw:g} IT MW "
                    f"delivered then but only {new:g} IT MW of blocks became ready that "
                    f"month (tenant capex for a hall built before?)")
    capex = cm["capex_usd"] if "capex_usd" in cm else plan.zeros()
    ahead = (tenant_capex.groupby(cm["campus_id"]).cumsum()
             - capex.groupby(cm["campus_id"]).cumsum()) > USD_TOL
    return problems + plan.at_rows(ahead, "tenant capex received so far exceeds the capex "
                                          "paid so far")
