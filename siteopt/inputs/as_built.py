"""Where the company stands at the horizon start: ready halls, halls under construction and
leases already running — recognised and checked here, once, before anything is solved.

A running lease is a signed offer whose start is fixed (earliest_start = latest_start) and
lies before the horizon start, with no delay left that could move it into the horizon.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from siteopt.inputs.errors import Problems
from siteopt.inputs.months import label, parse_month
from siteopt.inputs.tables import RawTable


def is_running(offer: Any, first_month: int) -> bool:
    """Whether an offer row (attributes signed, earliest_start, latest_start,
    max_delay_months) is a lease already running at the horizon start `first_month`."""
    if not offer.signed or not offer.earliest_start or offer.earliest_start != offer.latest_start:
        return False
    return parse_month(offer.latest_start) + int(offer.max_delay_months or 0) < first_month


def running_offer_ids(offers: pd.DataFrame, first_month: int) -> list[str]:
    """Ids of the running leases in an offers table indexed by offer_id."""
    return [row.Index for row in offers.itertuples() if is_running(row, first_month)]


def check_construction(construction: pd.DataFrame, raw: RawTable, campuses: pd.DataFrame,
                       first: int, months: int, problems: Problems) -> None:
    """Ready months inside the horizon (after its start); known campuses."""
    known = set(campuses["campus_id"].dropna())
    last = first + months - 1
    for row, hall in zip(raw.rows, construction.itertuples()):
        if hall.campus_id is not None and hall.campus_id not in known:
            problems.add(raw.where(row, "campus_id"),
                         f"unknown campus {hall.campus_id!r} (known: "
                         f"{', '.join(sorted(known)[:10])})")
        if hall.ready_month is None:
            continue
        ready = parse_month(hall.ready_month)
        if ready <= first:
            problems.add(raw.where(row, "ready_month"),
                         f"{hall.ready_month} is not after the horizon start {label(first)}: a "
                         f"hall ready by then is entered as campuses.hpc_ready_it_mw")
        elif ready > last:
            problems.add(raw.where(row, "ready_month"),
                         f"{hall.ready_month} is after the horizon ends ({label(last)}): extend "
                         f"horizon.months so the hall can be ready inside it")


def check_capacity(campuses: pd.DataFrame, raw: RawTable, construction: pd.DataFrame,
                   problems: Problems) -> None:
    """Ready plus under-construction IT MW fit in hpc_max_it_mw."""
    building = construction.groupby("campus_id")["it_mw"].sum() if len(construction) else {}
    for row, c in zip(raw.rows, campuses.itertuples()):
        if c.hpc_max_it_mw is None or c.hpc_ready_it_mw is None:
            continue
        under = float(building.get(c.campus_id, 0.0)) if len(construction) else 0.0
        if c.hpc_ready_it_mw + under > c.hpc_max_it_mw + 1e-9:
            what = f"hpc_ready_it_mw {c.hpc_ready_it_mw:g}" + \
                (f" + {under:g} IT MW under construction (construction.csv)" if under else "")
            problems.add(raw.where(row, "hpc_ready_it_mw"),
                         f"{what} exceeds hpc_max_it_mw {c.hpc_max_it_mw:g}")


def check_running_leases(offers: pd.DataFrame, raw: RawTable, campuses: pd.DataFrame,
                         phases: pd.DataFrame, first: int, problems: Problems) -> None:
    """A running lease sits at one campus, is not split, has term left, and the IT MW it
    has delivered by the horizon start are ready there."""
    ready = dict(zip(campuses["campus_id"], campuses["hpc_ready_it_mw"]))
    occupied: dict[str, list[tuple[Any, str, float]]] = {}
    for row, o in zip(raw.rows, offers.itertuples()):
        if None in (o.term_months, o.it_mw) or not is_running(o, first):
            continue
        start = parse_month(o.latest_start)
        name = f"signed lease {o.offer_id}, already running (started {o.latest_start})"
        ids = o.campuses or ("*",)
        if "*" in ids or len(ids) != 1:
            problems.add(raw.where(row, "campuses"),
                         f"{name}: name the one campus it runs at (got "
                         f"{';'.join(ids)})")
            continue
        if o.split:
            problems.add(raw.where(row, "split"),
                         f"{name}: a running lease is at one campus; enter each campus's part "
                         f"as its own signed offer")
            continue
        if start + o.term_months <= first:
            problems.add(raw.where(row, "term_months"),
                         f"{name}: its {o.term_months}-month term ended "
                         f"({label(start + o.term_months - 1)}) before the horizon starts "
                         f"({label(first)}); remove it")
            continue
        ramp = phases[phases["offer_id"] == o.offer_id]
        delivered = float(ramp.loc[start + ramp["months_after_start"] <= first, "it_mw"].sum())
        occupied.setdefault(ids[0], []).append((row, o.offer_id, delivered))
    for campus_id, leases in occupied.items():
        total = sum(mw for _, _, mw in leases)
        have = ready.get(campus_id)
        if have is None or total <= have + 1e-9:
            continue
        row, offer_id, _ = leases[-1]
        names = ", ".join(f"{o} ({mw:g})" for _, o, mw in leases)
        problems.add(raw.where(row, "campuses"),
                     f"running leases at {campus_id} occupy {total:g} IT MW at the horizon "
                     f"start ({names}), but campuses.csv gives {campus_id} hpc_ready_it_mw "
                     f"{have:g}: enter the halls that serve them as ready")
