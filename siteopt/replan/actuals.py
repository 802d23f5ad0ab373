"""`--actuals`: what really happened per campus and month before --from, laid over the old
plan's decisions.

A row replaces the plan's values of its campus and month for the columns it fills: mining MW,
blocks started, and the leases that started there then (`none`: no lease started). Leases
named in `leases_started` move there and then, whatever the old plan had for them.
`it_ready_mw` is a check: IT MW ready follow from the blocks started `build_months` earlier
(and the as-built halls); a hall that came in late is entered as a block started later.
Miners sold are not part of the actuals: at a campus that has actuals rows they are decided
by the re-plan (at least what no longer fits beside the actual halls must be sold), not fixed
to the old plan's.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from siteopt.inputs.errors import Problems
from siteopt.inputs.months import label, parse_month
from siteopt.inputs.schema import ACTUALS
from siteopt.inputs.tables import RawTable, parse_table, read_csv_table
from siteopt.model.data import ModelData
from siteopt.replan.decisions import Decision

NONE = "none"


def read_actuals(path: Path, data: ModelData, until: int) -> tuple[pd.DataFrame, RawTable]:
    """The actuals table, parsed and checked against the new inputs (campuses, offers, months
    from the horizon start to before `until`)."""
    raw = read_csv_table(Path(path), ACTUALS.row_label)
    problems = Problems()
    frame = parse_table(ACTUALS, raw, problems)
    problems.raise_if_any()
    first = data.first_month
    for row, a in zip(raw.rows, frame.itertuples()):
        if a.campus_id not in data.campuses.index:
            problems.add(raw.where(row, "campus_id"),
                         f"unknown campus {a.campus_id!r} (known: "
                         f"{', '.join(sorted(data.campuses.index)[:10])})")
            continue
        t = parse_month(a.month) - first
        if not 0 <= t < until:
            problems.add(raw.where(row, "month"),
                         f"{a.month} is not between the horizon start {label(first)} and the "
                         f"month before --from ({label(first + until - 1)})")
        for offer_id in a.leases_started or ():
            if offer_id == NONE:
                continue
            if offer_id not in data.offers.index:
                problems.add(raw.where(row, "leases_started"), f"unknown offer {offer_id!r}")
                continue
            offer = data.offers.loc[offer_id]
            if offer["split"]:
                problems.add(raw.where(row, "leases_started"),
                             f"{offer_id} is a split offer: its blocks per campus cannot be "
                             f"given here; re-plan from the plan that started it")
            elif a.campus_id not in offer["campuses"] and "*" not in offer["campuses"]:
                problems.add(raw.where(row, "leases_started"),
                             f"{offer_id} may not be at {a.campus_id} (offers campuses: "
                             f"{';'.join(offer['campuses'])})")
        if a.leases_started and NONE in a.leases_started and len(a.leases_started) > 1:
            problems.add(raw.where(row, "leases_started"),
                         f"'{NONE}' means no lease started: it cannot be listed with offers")
    problems.raise_if_any()
    return frame, raw


def apply_actuals(decisions: list[Decision], actuals: pd.DataFrame,
                  data: ModelData) -> list[Decision]:
    """The decisions with the actuals' values in their place."""
    first = data.first_month
    by_key = {(d.variable, d.index): d for d in decisions}
    moved: set[str] = set()
    emptied: set[tuple[str, int]] = set()
    for a in actuals.itertuples():
        t = parse_month(a.month) - first
        where = f"{a.campus_id} {a.month} (actuals)"
        for column in ("mining_mw", "blocks_started"):
            value = getattr(a, column)
            if value is not None and not pd.isna(value):
                by_key[column, (a.campus_id, t)] = Decision(
                    column, (a.campus_id, t), float(value), t, f"{where}: {column} {value:g}")
        if a.leases_started:
            emptied.add((a.campus_id, t))
            moved |= {o for o in a.leases_started if o != NONE}
    # miners sold are not in the actuals: at a campus with actuals they follow from them
    # (the model sells what no longer fits beside the actual halls), so they are not fixed
    actual_campuses = set(actuals["campus_id"])
    kept = [d for d in by_key.values()
            if not (d.variable == "lease_accepted" and (d.index[0] in moved
                                                       or (d.index[1], d.index[2]) in emptied))
            and not (d.variable == "miners_sold_mw" and d.index[0] in actual_campuses)]
    for a in actuals.itertuples():
        t = parse_month(a.month) - first
        for offer_id in a.leases_started or ():
            if offer_id != NONE:
                kept.append(Decision("lease_accepted", (offer_id, a.campus_id, t), 1.0, t,
                                     f"lease {offer_id} at {a.campus_id} from {a.month} "
                                     f"(actuals)"))
    return kept


def check_ready(actuals: pd.DataFrame, raw: RawTable, decisions: list[Decision],
                data: ModelData) -> None:
    """IT MW ready in the actuals equal what the blocks started (and the as-built halls) make
    ready then; a located error otherwise."""
    starts: dict[str, dict[int, float]] = {}
    for d in decisions:
        if d.variable == "blocks_started" and d.value:
            starts.setdefault(d.index[0], {})[d.index[1]] = d.value
    problems = Problems()
    for row, a in zip(raw.rows, actuals.itertuples()):
        if a.it_ready_mw is None or pd.isna(a.it_ready_mw):
            continue
        c = data.campuses.loc[a.campus_id]
        t = parse_month(a.month) - data.first_month
        build, block = int(c["build_months"]), float(c["hpc_block_it_mw"])
        implied = data.as_built_ready_mw(a.campus_id, t) + block * sum(
            n for s, n in starts.get(a.campus_id, {}).items() if s + build <= t)
        if abs(implied - a.it_ready_mw) > 1e-6:
            problems.add(raw.where(row, "it_ready_mw"),
                         f"{a.it_ready_mw:g} IT MW ready, but the blocks started (plan and "
                         f"actuals) and the as-built halls make {implied:g} ready by "
                         f"{a.month} (blocks of {block:g} IT MW, build_months {build}); a hall "
                         f"that came in late is entered as started later (blocks_started), "
                         f"or with the new scenario's build_months")
    problems.raise_if_any()
