"""The plan in plain words: one narrative, read from a plan's tables (never the model).

`narrative(results)` returns the same sentences for summary.json ("narrative"), the Summary
sheet of plan.xlsx, `siteopt solve` on the terminal and the board deck:

- headline: NPV, value added over mining-only, IRR, payback, peak funding;
- per campus: keeps mining / converts N IT MW from when / stops mining from when and why
  (`plan_frames.campus_decision`), and halls built but idle, how many MW and for how long;
- per offer: accepted where, with its phases as delivered ("40 IT MW Sep 2028, 128 IT MW
  Mar 2029"), late months and penalties; or declined and why (`offer_reasons`);
- funding: how the peak funding is covered (operating cash, debt, BTC sold, cash on hand,
  outside money) and the capex budget's headroom.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from siteopt.export import offer_reasons, plan_frames
from siteopt.export import plan_inputs as pi
from siteopt.export.plan_frames import MW_EPS, first_of_month, inside
from siteopt.results.extract import Results


def usd(value: float | None) -> str:
    """USD as a board reads it: 6.2 B USD, 412 M USD, 3.5 M USD; minus as −."""
    if value is None or not np.isfinite(value):
        return "—"
    sign = "−" if value < 0 else ""
    size = abs(value)
    if size >= 1e9:
        return f"{sign}{size / 1e9:,.1f} B USD"
    return f"{sign}{size / 1e6:,.0f} M USD" if size >= 1e8 else f"{sign}{size / 1e6:,.1f} M USD"


def month_text(label: Any) -> str:
    day = first_of_month(label)
    return f"{day:%b %Y}" if day else str(label)


def narrative(results: Results) -> dict[str, Any]:
    """The narrative of a run: headline, campuses, offers, funding (see the module doc). A
    run without a plan gets its status and diagnosis only."""
    summary = results.summary
    if not plan_frames.has_plan(results):
        return {"headline": f"No plan: status {summary.get('status')}.",
                "diagnosis": list(summary.get("diagnosis") or []),
                "campuses": {}, "offers": {}, "funding": ""}
    return {"headline": headline(summary),
            "campuses": campus_texts(results),
            "offers": offer_texts(results),
            "funding": funding_text(results)}


def lines(story: dict[str, Any]) -> list[tuple[str, str]]:
    """The narrative as (subject, sentence) rows, in reading order."""
    rows = [("Plan", story["headline"])]
    rows += [(f"Campus {k}", v) for k, v in story.get("campuses", {}).items()]
    rows += [(f"Offer {k}", v["text"]) for k, v in story.get("offers", {}).items()]
    if story.get("funding"):
        rows.append(("Funding", story["funding"]))
    rows += [("Diagnosis", line) for line in story.get("diagnosis", [])]
    return rows


# ---------------------------------------------------------------------------------------------
# Headline
# ---------------------------------------------------------------------------------------------


def headline(summary: dict[str, Any]) -> str:
    k = summary.get("kpis") or {}
    parts = [f"NPV {usd(k.get('npv_usd', summary.get('npv_usd')))}"]
    if k.get("value_added_usd") is not None:
        parts.append(f"{usd(k['value_added_usd'])} more than mining only"
                     if k["value_added_usd"] >= 0 else
                     f"{usd(-k['value_added_usd'])} less than mining only")
    if k.get("irr_pct") is not None:
        parts.append(f"IRR of converting {k['irr_pct']:.0f} %")
    if "payback_month" in k or "payback_note" in k:
        payback = plan_frames.payback_shown(k)
        parts.append(f"payback {payback:%b %Y}" if not isinstance(payback, str)
                     else f"payback {payback}")
    if k.get("peak_funding_usd") is not None:
        parts.append(f"peak funding {usd(k['peak_funding_usd'])}")
    return "; ".join(parts) + "."


# ---------------------------------------------------------------------------------------------
# Campuses
# ---------------------------------------------------------------------------------------------


def campus_texts(results: Results) -> dict[str, str]:
    decided = plan_frames.campus_decision_texts(results)
    cm = inside(results.campus_month)
    out = {}
    for campus_id, rows in cm.groupby("campus_id", sort=False):
        text = decided.get(str(campus_id), "")
        idle = idle_text(rows.sort_values("month"))
        out[str(campus_id)] = f"{text}; {idle}" if idle else text
    return out


def idle_text(rows: pd.DataFrame) -> str:
    """Halls ready but not let (ready − leased − spot): how many IT MW, for how long."""
    ready = rows["it_ready_mw"].astype(float).to_numpy()
    let = rows["it_leased_mw"].astype(float).to_numpy() + \
        (rows["spot_mw"].astype(float).to_numpy() if "spot_mw" in rows else 0.0)
    idle = np.clip(ready - let, 0, None)
    on = idle > MW_EPS
    if not on.any():
        return ""
    months = rows["month"].astype(str).to_numpy()
    first, last = int(np.argmax(on)), len(on) - 1 - int(np.argmax(on[::-1]))
    count = int(on.sum())
    span = f"{month_text(months[first])}–{month_text(months[last])}" if count > 1 \
        else month_text(months[first])
    end = ", still idle when the horizon ends" if on[-1] else ""
    never = " and never let" if (let[first:] <= MW_EPS).all() else ""
    return (f"{idle.max():,.0f} IT MW of halls ready but idle{never} for {count} month"
            f"{'s' if count != 1 else ''} ({span}{end})")


# ---------------------------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------------------------


def offer_texts(results: Results) -> dict[str, dict[str, Any]]:
    leases = results.leases
    offers = pi.rows_by_id(results, "offers", "offer_id")
    context = None
    out = {}
    groups = leases.groupby("offer_id", sort=False) if "offer_id" in leases else []
    for offer_id, rows in groups:
        first = rows.iloc[0]
        if pi.truthy(first["accepted"]):
            out[str(offer_id)] = accepted_text(rows, offers.get(str(offer_id)))
            continue
        offer = offers.get(str(offer_id))
        if offer is None:
            out[str(offer_id)] = {"decision": "declined", "limit": None,
                                  "text": f"{_named(first)}: declined."}
            continue
        context = context or offer_reasons.plan_context(results)
        reason = offer_reasons.declined_reason(results, context, offer)
        forced = (results.summary.get("forced_in") or {}).get(str(offer_id))
        out[str(offer_id)] = {
            "decision": "declined", "limit": reason.limit,
            "limits": list(reason.limits or (reason.limit,)), "value_alone_usd": reason.value_usd,
            "text": f"{_named(first)}, {float(first['offer_it_mw']):,.0f} IT MW: declined — "
                    f"{forced_text(reason.text, forced)}."}
        if forced:
            out[str(offer_id)]["forced_in"] = forced
    for offer_id, offer in offers.items():  # a withdrawn offer has no row in leases.csv
        if offer_id not in out and pi.truthy(offer.get("withdrawn", False)):
            out[offer_id] = {"decision": "withdrawn", "limit": "withdrawn",
                             "text": f"{offer_id} for {offer['tenant']}: withdrawn in this "
                                     f"scenario (the tenant walks away), never taken."}
    return out


def _named(lease: pd.Series) -> str:
    """'OF-B for GPU cloud B (…)': the tenant's own parentheses stay unnested."""
    return f"{lease['offer_id']} for {lease['tenant']}"


def unexplained_declines(results: Results) -> list[str]:
    """Declined offers no limit read from the tables explains (their cause is not obvious):
    worth solving again with the offer forced in (`siteopt.api.forced_in`)."""
    if not plan_frames.has_plan(results) or results.summary.get("stochastic"):
        return []
    return [k for k, v in offer_texts(results).items() if v.get("limit") == "other"]


def forced_text(reason: str, forced: dict[str, Any] | None) -> str:
    """The reason, with what the plan solved with the offer forced in (a signed lease) says."""
    if not forced:
        return reason
    reason = reason.replace(" (the plan with it forced in was not solved)", "")
    worse = forced.get("worse_by_usd")
    if worse is not None:
        told = f"{usd(worse)} lower" if worse > 0.5 else "no better (within the MIP gap)"
        return f"{reason}; solved with it forced in, the plan's NPV is {told}"
    if forced.get("status") == "infeasible":
        why = f": {forced['diagnosis'][0]}" if forced.get("diagnosis") else ""
        return f"{reason}; forced in, no plan meets every requirement{why}"
    return (f"{reason}; the plan with it forced in found no solution within "
            f"{forced.get('seconds', 0):g} s")


def accepted_text(rows: pd.DataFrame, offer: pd.Series | None) -> dict[str, Any]:
    """'OF-B (tenant) signed: delivered at TX-BARB, 40 IT MW Sep 2028, 128 IT MW Mar 2029;
    3 months after its latest start (Jun 2028), 6.0 M USD of late penalties; PV of rent …'"""
    first = rows.iloc[0]
    signed = pi.truthy(first["signed"])
    campuses = list(dict.fromkeys(rows["campus_id"].astype(str)))
    deliveries = []
    for month, group in rows.groupby("delivery_month", sort=True):
        mw = group.groupby("campus_id", sort=False)["it_mw"].sum()
        where = " and ".join(f"{v:,.0f} IT MW at {c}" for c, v in mw.items()) \
            if len(campuses) > 1 else f"{float(mw.sum()):,.0f} IT MW"
        deliveries.append((str(month), where))
    start = month_text(first["start_month"])
    at = f" at {campuses[0]}" if len(campuses) == 1 else ""
    if len(deliveries) == 1 and deliveries[0][0] == str(first["start_month"]):
        when = f"{deliveries[0][1]} from {start}"
    else:  # phases: what arrives when ("40 IT MW Sep 2028, 128 IT MW Mar 2029")
        when = f"lease from {start}, delivered " + ", ".join(
            f"{where} {month_text(month)}" for month, where in deliveries)
    text = f"{_named(first)}: {'signed' if signed else 'accepted'}{at}, {when}"
    late = int(pi.number(first.get("late_months")) or 0)
    penalty = float(rows["late_penalty_usd"].astype(float).sum())
    if late > 0:
        latest = f" (latest start {month_text(offer['latest_start'])})" \
            if offer is not None else ""
        text += (f"; {late} month{'s' if late != 1 else ''} late{latest}"
                 + (f", {usd(penalty)} of late penalties" if penalty > 0.5 else ""))
    text += f"; PV of rent {usd(float(rows['lease_npv_usd'].astype(float).sum()))}."
    return {"decision": "signed" if signed else "accepted", "limit": None,
            "campuses": campuses, "start_month": str(first["start_month"]),
            "late_months": late, "late_penalty_usd": penalty, "text": text}


# ---------------------------------------------------------------------------------------------
# Funding
# ---------------------------------------------------------------------------------------------


def funding_text(results: Results) -> str:
    """How the peak funding is covered, up to the month it is deepest."""
    co = inside(results.company_month)
    k = results.summary.get("kpis") or {}
    peak = float(k.get("peak_funding_usd") or 0.0)
    capex = float(co["landlord_capex_usd"].astype(float).sum()) if len(co) else 0.0
    if peak <= 0.5:
        return (f"Operating cash pays for all landlord capex ({usd(capex)}) as it comes: "
                f"no funding beyond the plan's own cash is needed.") if capex > 0.5 else \
            "Nothing to fund: the plan spends no capex."
    cumulative = (co["operating_cash_usd"] + co["investing_cash_usd"]).astype(float).cumsum()
    at = int(cumulative.to_numpy().argmin())
    upto = co.iloc[: at + 1]
    spent = float(upto["landlord_capex_usd"].astype(float).sum())
    operating = float(upto["operating_cash_usd"].astype(float).sum())
    sources = _sources(results, upto, peak)
    text = (f"Peak funding {usd(peak)} in {month_text(co['month'].iloc[at])}: by then "
            f"{usd(spent)} of landlord capex is paid and operating cash brings "
            f"{usd(operating)}. Covered by {sources}.")
    budget = _budget_text(results, co)
    return f"{text} {budget}" if budget else text


def _sources(results: Results, upto: pd.DataFrame, peak: float) -> str:
    parts = []
    debt = float(upto["debt_draw_usd"].astype(float).sum()) if "debt_draw_usd" in upto else 0.0
    if debt > 0.5:
        parts.append(f"project debt drawn {usd(debt)}")
    btc = float(upto["btc_sale_usd"].astype(float).sum()) if "btc_sale_usd" in upto else 0.0
    if btc > 0.5:
        coins = float(upto["btc_sold_btc"].astype(float).sum()) if "btc_sold_btc" in upto \
            else 0.0
        parts.append(f"BTC sold {usd(btc)} ({coins:,.0f} BTC)")
    rest = peak - debt - btc
    opening = pi.number(pi.scenario_value(results, "finance.opening_cash_usd"))
    if opening is not None and rest > 0.5:
        low = float(upto["cash_balance_usd"].iloc[-1])
        from_cash = max(0.0, min(rest, opening - low))
        parts.append(f"opening cash {usd(from_cash)} (of {usd(opening)}; {usd(low)} left then)")
        rest -= from_cash
    if rest > 0.5:
        parts.append(f"{usd(rest)} of equity or financing from outside the plan (the scenario "
                     f"sets {'no' if opening is None else 'too little'} opening cash"
                     f"{', no debt' if debt <= 0.5 else ''}"
                     f"{', no BTC treasury' if btc <= 0.5 else ''})")
    if debt + btc > peak + 0.5:
        parts.append("more than the peak itself: the rest pays interest and repayments and "
                     "keeps cash above its floor")
    return "; ".join(parts) if parts else "the plan's own cash"


def _budget_text(results: Results, co: pd.DataFrame) -> str:
    budgets = pi.capex_budgets(results)
    if not budgets:
        return ""
    spent = co.groupby(co["month"].astype(str).str[:4].astype(int))["landlord_capex_usd"].sum()
    headroom = {y: b - float(spent.get(y, 0.0)) for y, b in budgets.items() if y in spent.index}
    if not headroom:
        return ""
    # within 0.5 % of the budget counts as used in full (the MIP gap leaves such slack)
    full = sorted(y for y, h in headroom.items() if h <= max(1.0, 5e-3 * budgets[y]))
    low = min(headroom, key=headroom.get)
    if full:
        return (f"The capex budget is used in full in {', '.join(map(str, full))}"
                f" (it binds: `capex_within_budget`).")
    return f"The capex budget leaves at least {usd(headroom[low])} unspent (least in {low})."
