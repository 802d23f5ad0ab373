"""Which decisions differ between plans, and their headline KPIs side by side — for
`compare` and `batch` (terminal and comparison.xlsx) and the deck's comparison slides.

Read from each plan's tables (the narrative's offers, `plan_frames.campus_decisions`): for
each offer its decision (campuses and lease start, or declined / withdrawn), for each campus
the IT MW it converts and its first construction month. Rows equal in every plan are left
out.
"""

from __future__ import annotations

import pandas as pd

from siteopt.export import plan_frames
from siteopt.export.narrative import narrative
from siteopt.results.extract import Results


def decisions_that_differ(plans: list[Results], names: list[str]) -> pd.DataFrame:
    """Columns: decision, then one per plan; one row per offer or campus that differs."""
    solved = [plan_frames.has_plan(r) for r in plans]
    stories = [narrative(r) if ok else {"offers": {}} for r, ok in zip(plans, solved)]
    rows = []
    offers = list(dict.fromkeys(o for s in stories for o in s["offers"]))
    for offer_id in offers:
        cells = [_offer_cell(s["offers"].get(offer_id)) if ok else "no plan"
                 for s, ok in zip(stories, solved)]
        if len(set(cells)) > 1:
            rows.append([f"offer {offer_id}", *cells])
    decided = [plan_frames.campus_decisions(r).set_index("Campus") if ok else None
               for r, ok in zip(plans, solved)]
    campuses = list(dict.fromkeys(c for d in decided if d is not None for c in d.index))
    for campus in campuses:
        cells = [_campus_cell(d, campus) for d in decided]
        if len(set(cells)) > 1:
            rows.append([f"campus {campus}", *cells])
    return pd.DataFrame(rows, columns=["decision", *names])


def _offer_cell(entry: dict | None) -> str:
    if entry is None:
        return "—"
    if entry["decision"] in ("accepted", "signed"):
        return f"{'+'.join(entry.get('campuses', []))} from {entry.get('start_month', '')}"
    return entry["decision"]


def _campus_cell(decided: pd.DataFrame | None, campus: str) -> str:
    if decided is None:
        return "no plan"
    if campus not in decided.index:
        return "—"
    row = decided.loc[campus]
    mw = float(row["IT MW converted"])
    if mw <= 1e-6:
        return "no new halls"
    start = str(row["Construction starts"]).split(" (")[0]
    return f"{mw:,.0f} IT MW from {start}"


def kpi_frame(plans: list[Results], names: list[str]) -> pd.DataFrame:
    """One row per plan: status, NPV, value added, IRR, payback, peak funding (USD m)."""
    rows = []
    for name, r in zip(names, plans):
        k = r.summary.get("kpis") or {}
        payback = plan_frames.payback_shown(k) if k else "—"
        rows.append({
            "scenario": name, "status": str(r.summary.get("status", "")),
            "NPV M USD": _musd(k.get("npv_usd", r.summary.get("npv_usd"))),
            "value added M USD": _musd(k.get("value_added_usd")),
            "IRR %": float(k["irr_pct"]) if k.get("irr_pct") is not None else float("nan"),
            "payback": payback if isinstance(payback, str) else f"{payback:%Y-%m}",
            "peak funding M USD": _musd(k.get("peak_funding_usd")),
        })
    return pd.DataFrame(rows)


def _musd(value) -> float:
    return float("nan") if value is None else float(value) / 1e6
